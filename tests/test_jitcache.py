"""The kernels' numba cache is cleared when a kernel source changes (``unsim.model.jitcache``)."""

from __future__ import annotations

from pathlib import Path

from unsim.model import jitcache


def _cache(folder: Path) -> list[Path]:
    folder.mkdir()
    files = [
        folder / "round_kernels.deliberate-261.py311.nbi",
        folder / "round_kernels.deliberate-261.py311.1.nbc",
        folder / "fastmath._tanh_pair-122.py311.nbi",
        folder / "other.kernel-1.py311.nbi",  # not the model's: left alone
        folder / "model.cpython-311.pyc",
    ]
    for f in files:
        f.write_bytes(b"x")
    return files


def test_a_stale_cache_is_cleared_and_a_current_one_kept(tmp_path: Path) -> None:
    folder = tmp_path / "__pycache__"
    kernels_nbi, kernels_nbc, fastmath_nbi, other, pyc = _cache(folder)
    (folder / jitcache.STAMP).write_text("compiled from other sources\n")
    assert jitcache.clear_stale(folder)
    assert not kernels_nbi.exists() and not kernels_nbc.exists() and not fastmath_nbi.exists()
    assert other.exists() and pyc.exists()
    assert (folder / jitcache.STAMP).read_text().strip() == jitcache.sources_digest()
    kernels_nbi.write_bytes(b"x")  # compiled since, from these sources: kept
    assert not jitcache.clear_stale(folder)
    assert kernels_nbi.exists()


def test_no_stamp_counts_as_stale_and_a_missing_folder_is_made(tmp_path: Path) -> None:
    folder = tmp_path / "__pycache__"
    kernels_nbi, *_ = _cache(folder)
    assert jitcache.clear_stale(folder) and not kernels_nbi.exists()
    fresh = tmp_path / "fresh" / "__pycache__"
    fresh.parent.mkdir()
    assert not jitcache.clear_stale(fresh)
    assert (fresh / jitcache.STAMP).read_text().strip() == jitcache.sources_digest()


def test_the_digest_follows_every_kernel_source() -> None:
    assert {"fastmath", "round_kernels", "vote_kernels", "habit"} <= set(jitcache.KERNEL_MODULES)
    assert len(jitcache.sources_digest()) == 64
