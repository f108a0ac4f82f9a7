"""A results folder's safety: unsim never deletes or overwrites a user's files.

An existing folder is replaced only if unsim wrote it (and only with ``force``), and it is
refused before a run, not after. Writing itself (a temporary folder beside the target, renamed
into place when complete; what an interrupted save leaves is swept on the next) is
:mod:`unsim.atomic`'s.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from unsim.atomic import TMP_PREFIX, temporary_folder
from unsim.errors import OutputError, SystemFailure, one_line


def is_results_folder(folder: Path) -> bool:
    """True when ``folder`` holds a ``metadata.json`` that unsim wrote (a seed and versions)."""
    from unsim.safeio import FileReadError, read_bounded

    try:
        meta = json.loads(read_bounded(folder / "metadata.json"))
    except (FileReadError, ValueError):
        return False
    return (
        isinstance(meta, dict)
        and "seed" in meta
        and isinstance(meta.get("versions"), dict)
        and "unsim" in meta["versions"]
    )


def check_output_folder(out: Path, force: bool = False, hint: str = "") -> None:
    """Refuse an output folder whose contents unsim would lose: a user's files are never deleted.

    Allowed: a path that does not exist, an empty folder, or (with ``force``) a results folder
    that unsim wrote. Raises :class:`OutputError` otherwise, before anything is written.
    """
    try:
        _check_output_folder(out, force, hint)
    except OSError as exc:  # a path too long, a loop of links, a folder we may not list
        raise OutputError(
            f"{out}: cannot use it as output folder ({one_line(exc, with_type=False)})"
        ) from None


def _check_output_folder(out: Path, force: bool, hint: str) -> None:
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise OutputError(f"{out}: exists and is not a folder; choose another output folder")
    if not any(out.iterdir()):
        return
    if force and is_results_folder(out):
        return
    if force:
        raise OutputError(
            f"{out}: folder holds files that unsim did not write (no unsim metadata.json); "
            "--force replaces only a results folder unsim wrote; choose another output folder"
        )
    raise OutputError(
        f"{out}: folder exists and is not empty; nothing was written. Choose another output "
        "folder, "
        + (hint or "or add --force to replace it if it is a results folder that unsim wrote")
    )


@contextlib.contextmanager
def output_errors(out: Path) -> Iterator[None]:
    """Turn the operating system's refusals while writing ``out`` into clear errors."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or out
        reason = exc.strerror or str(exc)
        if exc.errno in _PATH_ERRNOS:
            raise OutputError(f"{out}: cannot write results there ({where}: {reason})") from None
        raise SystemFailure(f"{out}: cannot write results ({where}: {reason})") from None
    except RecursionError:  # pathlib's mkdir(parents=True) recurses once per missing folder
        raise OutputError(f"{out}: cannot write results there (the path is too deep)") from None


_PATH_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOTDIR,
        errno.EEXIST,
        errno.EISDIR,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.ENOENT,
        errno.EINVAL,
    }
)


def probe_output_folder(out: Path) -> None:
    """Check before a run that ``out`` can be created: its parent made, a folder written in it.
    Raises :class:`OutputError` (or :class:`SystemFailure`) with the reason otherwise."""
    with output_errors(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{out.name}.", dir=out.parent))
        probe.rmdir()


def staging_folder(out: str | Path) -> Path:
    """A new temporary folder beside ``out`` to build a results folder in (``Results.save``
    renames it to ``out``): a run can stream its run table there while it runs."""
    out = Path(out)
    with output_errors(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        return temporary_folder(out, TMP_PREFIX)


def place_run_table(source: Path, folder: Path, table_format: str) -> None:
    """Put a streamed run table into a results folder being written (as CSV if asked)."""
    import pyarrow.parquet as pq

    if table_format == "csv":
        target = folder / "runs.csv"
        with target.open("w", encoding="utf-8", newline="") as fh:
            for i, batch in enumerate(pq.ParquetFile(source).iter_batches()):
                batch.to_pandas().to_csv(fh, index=False, header=i == 0)
        if source.parent == folder:
            source.unlink()
        return
    target = folder / "runs.parquet"
    if source == target:
        return
    if source.parent == folder:
        os.replace(source, target)
    else:
        shutil.copyfile(source, target)
