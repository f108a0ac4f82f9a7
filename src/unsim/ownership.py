"""unsim never replaces a file it did not write: every file it writes goes through here.

A path that does not exist is written (atomically, :mod:`unsim.atomic`). An existing path is
replaced only if it is a regular file that unsim wrote, recognised by the mark unsim puts in
every file it writes:

=======  =====================================================================================
format   mark
=======  =====================================================================================
YAML     a first line ``# written by unsim <version>``
JSON     a first key ``"written_by": "unsim <version>"``
Parquet  the key-value metadata ``written_by: unsim <version>``
PNG      the text chunk ``Software: unsim <version>``
HTML     ``<meta name="generator" content="unsim ...">`` in its head
CSV      none (a comment line breaks the programs that read CSV): unsim lists the CSV files it
         writes, with their SHA-256, in ``.unsim-files.json`` in their folder; a CSV file that
         is not listed, or changed since, is not unsim's
=======  =====================================================================================

Anything else is refused with :class:`OutputError` (exit code 2) and left as it is: a file
without the mark, a folder, a device, FIFO or socket, a symbolic link, and any file that the
command reads (its inputs, compared with :func:`os.path.samefile`). :func:`check_output` says so
before a long computation; :func:`write_output` checks again just before the new file takes the
path's place.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from unsim._version import __version__
from unsim.atomic import temporary_file, with_umask_mode
from unsim.errors import OutputError, SystemFailure

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "JSON_KEY",
    "MANIFEST",
    "check_output",
    "foreign_files",
    "is_own",
    "json_text",
    "kind_of",
    "marked_schema",
    "output_errors",
    "png_metadata",
    "record_files",
    "save_png",
    "write_output",
    "write_parquet",
    "write_text_output",
]

Kind = Literal["yaml", "json", "csv", "parquet", "png", "html"]
Paths = Iterable[str | Path]

#: The hidden file listing the CSV files unsim wrote in a folder (name, SHA-256, size).
MANIFEST = ".unsim-files.json"
JSON_KEY = "written_by"
_SUFFIXES: dict[str, Kind] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".png": "png",
    ".html": "html",
    ".htm": "html",
}
_YAML_MARKS = (
    b"# written by unsim",
    # calibration and levers files written before the mark existed (their header names the
    # command)
    b"# Calibration written by `python -m unsim calibrate",
    b"# Levers written by `unsim calibrate --levers`",
)
_JSON_MARK = re.compile(rb'^\s*\{\s*"written_by"\s*:\s*"unsim\b')
_HTML_MARK = b'<meta name="generator" content="unsim'
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tag() -> str:
    """What a mark says: ``unsim <version>``."""
    return f"unsim {__version__}"


def kind_of(path: str | Path) -> Kind | None:
    """The format of a file unsim writes, by its name's suffix (None: not one unsim writes)."""
    return _SUFFIXES.get(Path(path).suffix.lower())


# -- marks ------------------------------------------------------------------------------------
def yaml_text(text: str) -> str:
    """YAML text with unsim's mark as its first line."""
    return text if text.startswith("# written by unsim") else f"# written by {tag()}\n{text}"


def json_text(data: Mapping[str, Any], indent: int | None = 2) -> str:
    """``data`` as JSON with unsim's mark as its first key."""
    marked = {JSON_KEY: tag(), **{k: v for k, v in data.items() if k != JSON_KEY}}
    return json.dumps(marked, indent=indent, default=str)


def png_metadata() -> dict[str, str]:
    """The ``metadata`` of matplotlib's ``savefig`` that marks a PNG as unsim's."""
    return {"Software": tag()}


def marked_schema(schema: pa.Schema) -> pa.Schema:
    """An Arrow schema with unsim's mark in its key-value metadata (kept in a Parquet file)."""
    meta = dict(schema.metadata or {})
    meta[JSON_KEY.encode()] = tag().encode()
    return schema.with_metadata(meta)


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    """``df.to_parquet(path, index=False)``, with unsim's mark (no check: for a path inside a
    folder being built, or the temporary file of :func:`write_output`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(marked_schema(table.schema).metadata), path)


def _open_regular(path: str | Path) -> int:
    """A descriptor of ``path`` opened for reading, only if it is a regular file (not through a
    link, never waiting on a FIFO)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd


def _head(path: str | Path, size: int) -> bytes:
    fd = _open_regular(path)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def _png_software(head: bytes) -> str:
    """The ``Software`` text of a PNG's chunks before its image data ("" if none)."""
    if not head.startswith(_PNG_SIGNATURE):
        return ""
    i = len(_PNG_SIGNATURE)
    while i + 8 <= len(head):
        n, kind = int.from_bytes(head[i : i + 4], "big"), head[i + 4 : i + 8]
        if kind in (b"IDAT", b"IEND"):
            break
        if kind == b"tEXt":
            key, _, value = head[i + 8 : i + 8 + n].partition(b"\0")
            if key == b"Software":
                return value.decode("latin-1")
        i += 12 + n
    return ""


def has_mark(path: str | Path, kind: Kind) -> bool:
    """Whether ``path`` is a regular file carrying unsim's mark for ``kind`` (never for CSV)."""
    try:
        if kind == "yaml":
            return _head(path, 256).startswith(_YAML_MARKS)
        if kind == "json":
            return bool(_JSON_MARK.match(_head(path, 256)))
        if kind == "html":
            return _HTML_MARK in _head(path, 4096)
        if kind == "png":
            return _png_software(_head(path, 1 << 16)).startswith("unsim")
        if kind == "parquet":
            import pyarrow.parquet as pq

            os.close(_open_regular(path))
            meta = pq.read_metadata(path).metadata or {}
            return meta.get(JSON_KEY.encode(), b"").startswith(b"unsim")
    except Exception:  # unreadable, not the format (pyarrow raises many kinds): not unsim's
        return False
    return False


def is_own(path: str | Path, kind: Kind) -> bool:
    """Whether unsim wrote ``path``: its mark, or (CSV) its listing in the folder's manifest."""
    return _listed(Path(path)) if kind == "csv" else has_mark(path, kind)


# -- CSV: the manifest ------------------------------------------------------------------------
def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a regular file's content, as hex."""
    digest = hashlib.sha256()
    fd = _open_regular(path)
    try:
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


def _manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """The CSV files listed in ``folder``'s manifest (none when it is missing or not unsim's)."""
    from unsim.safeio import FileReadError, read_bounded

    path = folder / MANIFEST
    if not has_mark(path, "json"):
        return {}
    try:
        files = json.loads(read_bounded(path)).get("files")
    except (FileReadError, ValueError, AttributeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {str(k): v for k, v in files.items() if isinstance(v, dict)}


def _listed(path: Path) -> bool:
    entry = _manifest(path.parent).get(path.name)
    try:
        return (
            entry is not None
            and os.lstat(path).st_size == entry.get("bytes")
            and sha256_of(path) == entry.get("sha256")
        )
    except OSError:
        return False


def record_files(folder: str | Path, digests: Mapping[str, str | None]) -> None:
    """List CSV files of ``folder`` in its manifest (``{name: sha256, or None to compute}``);
    entries of files no longer there are dropped. (Two processes listing files in one folder at
    the same moment may lose one entry: that CSV file is then kept as if it were a user's.)"""
    folder = Path(folder)
    files = {k: v for k, v in _manifest(folder).items() if (folder / k).is_file()}
    for name, digest in digests.items():
        path = folder / name
        files[name] = {"sha256": digest or sha256_of(path), "bytes": os.lstat(path).st_size}
    about = (
        "The CSV files unsim wrote in this folder. unsim replaces one of them only while its "
        "content is the one listed here; a file not listed is never replaced."
    )
    text = json_text({"about": about, "files": dict(sorted(files.items()))})
    write_text_output(folder / MANIFEST, "json", text)


# -- checks -----------------------------------------------------------------------------------
def _describe(info: os.stat_result) -> str:
    mode = info.st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a folder" if stat.S_ISDIR(mode) else "a regular file"


def _is_input(path: Path, inputs: Paths) -> str | None:
    """The input that ``path`` (an existing file) is, if any."""
    for name in inputs:
        with contextlib.suppress(OSError, ValueError):
            if os.path.samefile(path, name):
                return str(name)
    return None


def _refusal(path: Path, kind: Kind, inputs: Paths, replace: bool) -> str | None:
    """Why ``path`` cannot be written (None: it can)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        try:
            target = f"a symbolic link to {_describe(os.stat(path))}"
        except OSError:
            target = "a symbolic link that leads nowhere"
        return f"is {target}; unsim writes only regular files, never through or over a link"
    if not stat.S_ISREG(info.st_mode):
        what = _describe(info)
        if what == "a folder":
            return "is a folder; give the name of a file to write"
        return f"is {what}, not a regular file; unsim writes only regular files"
    source = _is_input(path, inputs)
    if source is not None:
        same = "" if source == str(path) else f" ({source})"
        return f"is an input of this command{same}; unsim never writes over what it reads"
    if not replace:
        return "exists; this writes only new files"
    if not is_own(path, kind):
        if kind == "csv":
            how = f"it is not listed, unchanged, in {MANIFEST} beside it"
        else:
            how = f"it has no unsim mark of a {kind.upper()} file"
        return f"exists and unsim did not write it ({how})"
    return None


def check_output(path: str | Path, kind: Kind, *, inputs: Paths = (), replace: bool = True) -> None:
    """Raise :class:`OutputError` unless unsim may write ``path``: a path that does not exist,
    or (with ``replace``) a regular file that unsim wrote and the command does not read."""
    path = Path(path)
    with output_errors(path):
        reason = _refusal(path, kind, list(inputs), replace)
        if reason is None and kind == "csv":  # the manifest is written too
            manifest = path.parent / MANIFEST
            why = _refusal(manifest, "json", (), True)
            if why is not None:
                raise OutputError(
                    f"{manifest}: {why}; unsim lists the CSV files it writes there: move it "
                    f"away to write {path.name}; nothing was written"
                )
    if reason is not None:
        away = ", or move that file away" if reason.startswith("exists and") else ""
        raise OutputError(f"{path}: {reason}; nothing was written. Choose another file name{away}")


def write_output(
    path: str | Path,
    kind: Kind,
    write: Callable[[str], object],
    *,
    inputs: Paths = (),
    replace: bool = True,
) -> Path:
    """Call ``write(temporary_path)``, then put the file at ``path`` if :func:`check_output`
    allows it (checked before and again at the end); the file must carry unsim's mark."""
    path = Path(path)
    inputs = list(inputs)
    check_output(path, kind, inputs=inputs, replace=replace)
    with output_errors(path):
        tmp = temporary_file(path)
        try:
            write(str(tmp))
            if kind != "csv" and not has_mark(tmp, kind):
                raise RuntimeError(f"{path}: written without unsim's mark (a bug in unsim)")
            with_umask_mode(tmp)
            digest = sha256_of(tmp) if kind == "csv" else None
            _publish(tmp, path, kind, inputs, replace)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if digest is not None:
            record_files(path.parent, {path.name: digest})
    return path


def _publish(tmp: Path, path: Path, kind: Kind, inputs: Paths, replace: bool) -> None:
    """Give ``tmp`` the name ``path``: a new name by a hard link (which fails, rather than
    replaces, should a file have appeared there since the check), else by a rename."""
    check_output(path, kind, inputs=inputs, replace=replace)
    if not os.path.lexists(path):
        try:
            os.link(tmp, path)
        except FileExistsError:
            check_output(path, kind, inputs=inputs, replace=replace)
        except OSError:
            pass  # a file system without hard links: renamed below
        else:
            tmp.unlink(missing_ok=True)
            return
    os.replace(tmp, path)


def write_text_output(
    path: str | Path, kind: Kind, text: str, *, inputs: Paths = (), replace: bool = True
) -> Path:
    """Write ``text`` with :func:`write_output` (YAML gets unsim's first line)."""
    if kind == "yaml":
        text = yaml_text(text)
    return write_output(
        path,
        kind,
        lambda tmp: Path(tmp).write_text(text, encoding="utf-8"),
        inputs=inputs,
        replace=replace,
    )


def save_png(
    fig: Any, path: str | Path, *, inputs: Paths = (), replace: bool = True, **savefig: Any
) -> Path:
    """A matplotlib figure written as a marked PNG with :func:`write_output`."""
    return write_output(
        path,
        "png",
        lambda tmp: fig.savefig(tmp, format="png", metadata=png_metadata(), **savefig),
        inputs=inputs,
        replace=replace,
    )


def foreign_files(folder: str | Path, depth: int = 2) -> list[str]:
    """The entries of ``folder`` that unsim did not write (by their marks; sorted). A folder in
    it (up to ``depth`` levels: a session's drafts) is unsim's if it is not empty and every
    entry in it is."""
    folder = Path(folder)
    foreign = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = Path(entry.path)
        if depth > 0 and entry.is_dir(follow_symlinks=False) and _own_folder(path, depth - 1):
            continue
        kind = "json" if entry.name == MANIFEST else kind_of(entry.name)
        regular = entry.is_file(follow_symlinks=False)
        if kind is None or not regular or not is_own(path, kind):
            foreign.append(entry.name)
    return foreign


def _own_folder(path: Path, depth: int) -> bool:
    """A folder that is not empty and holds only unsim's entries."""
    with os.scandir(path) as entries:
        empty = next(entries, None) is None
    return not empty and not foreign_files(path, depth)


# -- the operating system's refusals ----------------------------------------------------------
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
    except ValueError as exc:  # a NUL byte in the path
        if "null" not in str(exc).lower():
            raise
        raise OutputError(f"{out!r}: not a valid file path") from None


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
