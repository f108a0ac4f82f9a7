"""The ideal-point estimates kept on disk, as arrays only (never code).

An estimate is kept per window of data and settings in ``$UNSIM_CACHE_DIR`` (else
``~/.cache/unsim/idealpoints``) as a NumPy ``.npz`` file of plain arrays: numbers, fixed-width
text and a JSON text of the diagnostics. Nothing in it can run code: each array is read with
``allow_pickle=False``, after its header shows a plain type and a size the file can hold.

The file holds the digest of its inputs (the content of the roll calls the estimate reads, the
member table, the cut date, every setting of the estimate, the seed and the format's version)
and a checksum of its arrays. It is used only when its digest is the one of the estimate asked
for, its checksum that of its arrays, and its arrays have the shapes that estimate has. Any other
file (an older format, a pickle, a file cut short, another estimate's, a tampered one) is
ignored, and the estimate made again and saved in its place, atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from unsim.atomic import write_atomically
from unsim.calibration.idealpoint import (
    IdealPointConfig,
    IdealPoints,
    OrderedFit,
    estimate_ideal_points,
    vote_window,
)
from unsim.safeio import FileReadError, load_json, read_bounded

__all__ = ["CACHE_ENV", "cache_digest", "cache_dir", "cached_ideal_points"]

CACHE_ENV = "UNSIM_CACHE_DIR"
#: The version of the file format (and of what the digest covers).
FORMAT = 2
#: Largest cache file read, and most bytes its arrays may take once read.
MAX_CACHE_BYTES = 64 * 1024 * 1024
#: The columns of the roll-call votes the estimate reads (those present are digested).
DIGESTED_COLUMNS = ("rcid", "session", "vote", "ccode", "date", "hr")
_FLOAT_ARRAYS = ("positions", "absence", "coordinates", "x", "b", "tau1", "tau2")
_INT_ARRAYS = ("sessions", "rcids", "iterations")
_TEXT_ARRAYS = ("digest", "states", "before", "diagnostics", "checksum")
_MEMBERS = frozenset(_FLOAT_ARRAYS + _INT_ARRAYS + _TEXT_ARRAYS + ("format", "scalars"))


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    """The digest of the arrays' content (all but the checksum itself): a file changed after
    it was written (a bit flipped, a value edited) is made again."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        if name != "checksum":
            a = np.ascontiguousarray(arrays[name])
            digest.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
            digest.update(a.tobytes())
    return digest.hexdigest()


def cache_dir() -> Path:
    """``$UNSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/unsim/idealpoints`` (``~/.cache``)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "unsim" / "idealpoints"


def cache_digest(
    votes: pd.DataFrame,
    before: dt.date | str,
    members: pd.DataFrame,
    config: IdealPointConfig,
    seed: int,
) -> str:
    """The digest of everything an estimate depends on: the window's roll calls (every column
    the estimate reads), the member table's codes, the cut date, every setting and the seed."""
    cut = pd.Timestamp(before)
    window = vote_window(votes, cut, config.sessions)
    columns = [c for c in DIGESTED_COLUMNS if c in window.columns]
    digest = hashlib.sha256()
    settings = {"format": FORMAT, "cut": str(cut.date()), "seed": int(seed), "columns": columns}
    settings["config"] = dataclasses.asdict(config)
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(pd.util.hash_pandas_object(window[columns], index=False).to_numpy().tobytes())
    digest.update(members[["iso3", "cow"]].to_csv(index=False).encode())
    return digest.hexdigest()


def cached_ideal_points(
    votes: pd.DataFrame,
    before: dt.date | str,
    members: pd.DataFrame,
    config: IdealPointConfig | None = None,
    seed: int = 0,
) -> IdealPoints:
    """:func:`~unsim.calibration.idealpoint.estimate_ideal_points`, kept on disk (module doc):
    a time split that comes back to the same cut dates does not estimate them again."""
    cfg = config or IdealPointConfig()
    digest = cache_digest(votes, before, members, cfg, seed)
    path = cache_dir() / f"{digest[:32]}.npz"
    cached = read_cache(path, digest, cfg)
    if cached is not None:
        return cached
    ideal = estimate_ideal_points(votes, pd.Timestamp(before).date(), members, cfg, seed=seed)
    # a cache that cannot be written only costs time
    with contextlib.suppress(OSError, TypeError, ValueError):
        write_cache(path, ideal, digest)
    return ideal


def write_cache(path: Path, ideal: IdealPoints, digest: str) -> Path:
    """Save an estimate as plain arrays (``np.savez``), atomically."""
    fit = ideal.fit
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT, dtype=np.int64),
        "digest": np.array(digest),
        "states": np.array([str(s) for s in ideal.positions.index]),
        "positions": ideal.positions.to_numpy(dtype=np.float64),
        "absence": ideal.absence.reindex(ideal.positions.index).to_numpy(dtype=np.float64),
        "coordinates": ideal.coordinates.to_numpy(dtype=np.float64),
        "before": np.array(ideal.before.isoformat()),
        "sessions": np.array(ideal.sessions, dtype=np.int64),
        "rcids": np.array(ideal.rcids, dtype=np.int64),
        "x": np.asarray(fit.x, dtype=np.float64),
        "b": np.asarray(fit.b, dtype=np.float64),
        "tau1": np.asarray(fit.tau1, dtype=np.float64),
        "tau2": np.asarray(fit.tau2, dtype=np.float64),
        "scalars": np.array([fit.log_likelihood, float(fit.converged)], dtype=np.float64),
        "iterations": np.array(fit.iterations, dtype=np.int64),
        "diagnostics": np.array(json.dumps(ideal.diagnostics)),
    }
    arrays["checksum"] = np.array(_checksum(arrays))

    def save(tmp: str) -> None:
        """Write the arrays to the temporary file ``tmp`` (``np.savez``)."""
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]

    return write_atomically(path, save)


def _load_arrays(raw: bytes) -> dict[str, np.ndarray] | None:
    """The arrays of an ``.npz`` file's bytes, or None when it is not one of plain arrays that
    fit in :data:`MAX_CACHE_BYTES` (each member's header checked before its data is read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            names = {i.filename.removesuffix(".npy") for i in infos}
            if names != _MEMBERS or len(infos) != len(_MEMBERS):
                return None
            if sum(i.file_size for i in infos) > MAX_CACHE_BYTES:
                return None
            out = {}
            for info in infos:
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                    else:
                        return None
                if dtype.hasobject or int(np.prod(shape)) * dtype.itemsize > info.file_size:
                    return None
                with zf.open(info) as fh:
                    array = np.lib.format.read_array(fh, allow_pickle=False)
                out[info.filename.removesuffix(".npy")] = array
            return out
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, MemoryError, TypeError):
        return None


def _kinds_ok(a: dict[str, np.ndarray]) -> bool:
    floats = all(a[k].dtype.kind == "f" and np.isfinite(a[k]).all() for k in _FLOAT_ARRAYS)
    ints = all(a[k].dtype.kind in "iu" for k in (*_INT_ARRAYS, "format"))
    texts = all(a[k].dtype.kind == "U" for k in _TEXT_ARRAYS)
    return floats and ints and texts and a["scalars"].dtype.kind == "f"


def _shapes_ok(a: dict[str, np.ndarray], dims: int) -> bool:
    n, r = a["states"].shape, a["rcids"].shape
    m = a["x"].shape[0] if a["x"].ndim == 2 else -1
    return (
        len(n) == 1
        and len(r) == 1
        and a["positions"].shape == n
        and a["absence"].shape == n
        and a["coordinates"].shape == (n[0], dims)
        and a["x"].shape == (m, dims)
        and m >= n[0]
        and a["b"].shape == (r[0], dims)
        and a["tau1"].shape == r
        and a["tau2"].shape == r
        and a["sessions"].shape == (2,)
        and a["scalars"].shape == (2,)
        and all(a[k].shape == () for k in ("format", "digest", "before", "diagnostics", "checksum"))
        and a["iterations"].shape == ()
    )


def read_cache(path: Path, digest: str, config: IdealPointConfig) -> IdealPoints | None:
    """The estimate saved at ``path`` if it is one of this format with this ``digest`` and the
    shapes of an estimate with ``config``; None otherwise (it is then made again)."""
    try:
        raw = read_bounded(path, MAX_CACHE_BYTES)
    except FileReadError:
        return None
    a = _load_arrays(raw)
    if a is None or not _kinds_ok(a) or not _shapes_ok(a, config.dims):
        return None
    if int(a["format"]) != FORMAT or str(a["digest"]) != digest:
        return None
    if str(a["checksum"]) != _checksum(a):
        return None
    try:
        diagnostics = load_json(str(a["diagnostics"]))
        before = dt.date.fromisoformat(str(a["before"]))
    except ValueError:
        return None
    if not isinstance(diagnostics, dict):
        return None
    index = pd.Index([str(s) for s in a["states"]], name="state")
    fit = OrderedFit(
        x=a["x"],
        b=a["b"],
        tau1=a["tau1"],
        tau2=a["tau2"],
        log_likelihood=float(a["scalars"][0]),
        converged=bool(a["scalars"][1]),
        iterations=int(a["iterations"]),
    )
    return IdealPoints(
        positions=pd.Series(a["positions"], index=index, name="position"),
        absence=pd.Series(a["absence"], index=index, name="absence"),
        coordinates=pd.DataFrame(
            a["coordinates"], index=index, columns=[f"dim{k + 1}" for k in range(config.dims)]
        ),
        before=before,
        sessions=(int(a["sessions"][0]), int(a["sessions"][1])),
        rcids=tuple(int(r) for r in a["rcids"]),
        config=config,
        fit=fit,
        diagnostics=diagnostics,
    )
