"""A results folder's safety: unsim never deletes or overwrites a user's files.

A results folder is built in a temporary folder beside it and renamed into place when complete;
an existing folder is replaced only if unsim wrote it (and only with ``force``); what an
interrupted save leaves behind is swept away on the next save.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

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


def move_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished folder ``tmp`` to ``out``; an old ``out`` is moved aside first."""
    (tmp / MARKER).unlink(missing_ok=True)
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.replace(tmp, out)
        return
    old = temporary_folder(out, OLD_PREFIX)
    os.replace(out, old / out.name)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old / out.name, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


# -- temporary folders ------------------------------------------------------------------------
#: A results folder is built in ``<parent>/.unsim-tmp.<name>.<random>`` and renamed when done;
#: a replaced one waits in ``.unsim-old.<name>.<random>`` until the new one is in place. Each
#: holds a MARKER file (pid, host, time) while it is unfinished.
TMP_PREFIX = ".unsim-tmp."
OLD_PREFIX = ".unsim-old."
MARKER = ".unsim-partial.json"
#: A temporary folder of a process on another machine is stale after this long.
STALE_SECONDS = 24 * 3600
_RANDOM_TAIL = re.compile(r"\.[a-z0-9_]{8}$")


def temporary_folder(out: Path, prefix: str) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}{out.name}.", dir=out.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    marker = {"pid": os.getpid(), "host": socket.gethostname(), "created": time.time()}
    (tmp / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    return tmp


def _is_stale(folder: Path) -> bool:
    """True for an unfinished temporary folder of unsim's whose process is gone."""
    try:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        mark = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        pid, host, created = int(mark["pid"]), str(mark["host"]), float(mark["created"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # no marker of ours: not ours to delete
    if host == socket.gethostname():
        if pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    return time.time() - created > STALE_SECONDS


def sweep_stale_temporaries(parent: Path) -> list[Path]:
    """Remove what an interrupted save (SIGKILL, a power cut) left in ``parent``; return it.

    Only unsim's own temporary folders are touched: a hidden folder named ``.unsim-tmp.*`` or
    ``.unsim-old.*`` with unsim's random tail, owned by this user, holding unsim's marker file,
    whose process has ended (or, from another machine, older than a day). A folder set aside
    while a results folder was replaced is put back if the replacement never arrived."""
    swept: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return swept
    for entry in entries:
        name = entry.name
        prefix = next((p for p in (TMP_PREFIX, OLD_PREFIX) if name.startswith(p)), None)
        if prefix is None or not _RANDOM_TAIL.search(name) or not _is_stale(entry):
            continue
        if prefix == OLD_PREFIX:
            target = name[len(prefix) : -9]
            inner = entry / target
            if target and inner.is_dir() and not (parent / target).exists():
                try:
                    os.replace(inner, parent / target)  # the earlier results, back in place
                except OSError:
                    continue
        shutil.rmtree(entry, ignore_errors=True)
        swept.append(entry)
    return swept


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
