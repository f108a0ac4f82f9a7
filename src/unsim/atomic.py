"""Writing output atomically: an interrupted write leaves the old file or folder or none, never
half of one.

A file is written to a temporary file in the same folder, then renamed over its path
(:func:`write_atomically`). A folder is built in a hidden temporary folder beside it, then
renamed into place (:func:`write_folder_atomically`); a temporary folder left by a process that
was killed is removed the next time a folder is written there (:func:`sweep_stale_temporaries`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "MARKER",
    "TMP_PREFIX",
    "move_into_place",
    "sweep_stale_temporaries",
    "temporary_file",
    "temporary_folder",
    "with_umask_mode",
    "write_atomically",
    "write_folder_atomically",
    "write_text_atomically",
]


def temporary_file(path: str | Path) -> Path:
    """A new empty hidden file in the folder of ``path`` (made if missing), to be renamed to
    ``path`` once written (``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def write_atomically(path: str | Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)`` on a file in the same folder, then rename it to ``path``."""
    path = Path(path)
    tmp = temporary_file(path)
    try:
        write(str(tmp))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    return write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def current_umask() -> int:
    """The process's file-creation mask, read without changing it."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def with_umask_mode(path: str | Path) -> Path:
    """Give a file written through a temporary file (created 0600) the mode a new file of the
    user's gets (0666 less the umask)."""
    os.chmod(path, 0o666 & ~current_umask())
    return Path(path)


def write_folder_atomically(
    out: Path,
    write: Callable[[Path], object],
    staging: Path | None = None,
    check_replaced: Callable[[Path], object] | None = None,
) -> Path:
    """Call ``write(folder)`` on a new temporary folder beside ``out`` (or on ``staging``, one
    that :func:`temporary_folder` made earlier), then rename it to ``out``: an old ``out`` is
    replaced only once the new one is complete, and only if ``check_replaced(old)`` raises
    nothing (see :func:`move_into_place`). Nothing is left behind on an error."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(out.parent)
    tmp = staging if staging is not None else temporary_folder(out)
    try:
        write(tmp)
        move_into_place(tmp, out, check_replaced)
    except BaseException:  # also KeyboardInterrupt and the CLI's SIGTERM: leave nothing
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


# -- temporary folders ------------------------------------------------------------------------
#: A results folder is built in ``<parent>/.unsim-tmp.<name>.<random>`` and renamed when done;
#: a replaced one waits in ``.unsim-old.<name>.<random>`` until the new one is in place. Each
#: holds a MARKER file (pid, host, time) while it is unfinished.
TMP_PREFIX = ".unsim-tmp."
OLD_PREFIX = ".unsim-old."
MARKER = ".unsim-partial.json"
#: A temporary folder of a process on another machine is stale after this long.
STALE_SECONDS = 24 * 3600
RANDOM_TAIL = re.compile(r"\.[a-z0-9_]{8}$")


def temporary_folder(out: Path, prefix: str = TMP_PREFIX) -> Path:
    """A new hidden folder beside ``out`` (mode as for a new folder of the user's), marked as
    unfinished by this process."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}{out.name}.", dir=out.parent))
    os.chmod(tmp, 0o777 & ~current_umask())
    marker = {"pid": os.getpid(), "host": socket.gethostname(), "created": time.time()}
    (tmp / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    return tmp


def is_stale(folder: Path) -> bool:
    """True for an unfinished temporary folder of unsim's whose process is gone."""
    from unsim.safeio import FileReadError, read_json

    try:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        mark = read_json(folder / MARKER, limit=4096)  # a FIFO there is refused, not waited on
        pid, host, created = int(mark["pid"]), str(mark["host"]), float(mark["created"])
    except (OSError, ValueError, KeyError, TypeError, FileReadError):
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
        if prefix is None or not RANDOM_TAIL.search(name) or not is_stale(entry):
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


def move_into_place(
    tmp: Path, out: Path, check_replaced: Callable[[Path], object] | None = None
) -> None:
    """Rename the finished folder ``tmp`` to ``out``; an old ``out`` is moved aside first and
    checked there by ``check_replaced`` (whatever was added to it since an earlier check): if
    that raises, the old folder is put back and kept."""
    (tmp / MARKER).unlink(missing_ok=True)
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.replace(tmp, out)
        return
    old = temporary_folder(out, OLD_PREFIX)
    os.replace(out, old / out.name)
    try:
        if check_replaced is not None:
            check_replaced(old / out.name)
        os.replace(tmp, out)
    except BaseException:
        os.replace(old / out.name, out)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
