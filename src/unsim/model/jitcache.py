"""numba's on-disk cache of the model's kernels, kept in step with their sources.

numba keys a cached kernel on its own source file only: a kernel that inlines a function of
another module (every kernel inlines :mod:`unsim.model.fastmath`) keeps its former compiled code
when only that other module changes. :func:`clear_stale` removes the model's cached kernels from
``__pycache__`` beside its sources when any kernel source differs from the one they were compiled
from (a digest kept with them), so that a checkout, an edit or a merge never runs stale machine
code. An installed package rewrites every file (numba then recompiles anyway); a folder that
cannot be written is left to numba.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["KERNEL_MODULES", "clear_stale", "sources_digest"]

HERE = Path(__file__).resolve().parent
#: The modules whose functions numba compiles and caches (and those the kernels inline or read a
#: constant of: the habit's levels are the plain rules').
KERNEL_MODULES = (
    "fastmath",
    "round_kernels",
    "vote_kernels",
    "copula_kernels",
    "habit",
    "kernel_args",
    "rules",
)
STAMP = "unsim-kernels.sha256"


def sources_digest() -> str:
    """A digest of the kernel modules' sources and numba's version."""
    import numba

    digest = hashlib.sha256(numba.__version__.encode())
    for name in KERNEL_MODULES:
        try:
            digest.update((HERE / f"{name}.py").read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()


def clear_stale(folder: Path | None = None) -> bool:
    """Remove the kernels' cached machine code in ``folder`` (default: ``__pycache__`` beside
    the sources) if it was compiled from other sources; True if anything was removed."""
    folder = folder if folder is not None else HERE / "__pycache__"
    stamp = folder / STAMP
    digest = sources_digest()
    try:
        if stamp.read_text(encoding="ascii").strip() == digest:
            return False
    except OSError:
        pass
    removed = False
    try:
        folder.mkdir(exist_ok=True)  # as numba would: the stamp is there before the kernels
        for path in folder.iterdir():
            if path.suffix in (".nbi", ".nbc") and path.name.split(".", 1)[0] in KERNEL_MODULES:
                path.unlink(missing_ok=True)
                removed = True
        fd, tmp = tempfile.mkstemp(prefix=f".{STAMP}.", dir=folder)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(digest + "\n")
        os.replace(tmp, stamp)
    except OSError:  # no cache folder yet, or one we may not write: numba's own rules apply
        pass
    return removed
