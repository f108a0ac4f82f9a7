"""A results folder's safety: unsim never deletes or overwrites a user's files.

An existing folder is replaced only if unsim wrote it and every file in it (and only with
``force``), never with an input of the command in it, and it is refused before a run, not
after. Writing itself (a temporary folder beside the target, renamed into place when complete;
what an interrupted save leaves is swept on the next) is :mod:`unsim.atomic`'s; which files are
unsim's, :mod:`unsim.ownership`'s.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from unsim.atomic import TMP_PREFIX, temporary_folder
from unsim.errors import OutputError, one_line
from unsim.ownership import foreign_files, output_errors

__all__ = [
    "check_output_folder",
    "check_replaced_folder",
    "is_results_folder",
    "output_errors",
    "place_run_table",
    "probe_output_folder",
    "staging_folder",
]


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


def check_output_folder(
    out: Path, force: bool = False, hint: str = "", inputs: Iterable[str | Path] = ()
) -> None:
    """Refuse an output folder whose contents unsim would lose: a user's files are never deleted.

    Allowed: a path that does not exist, an empty folder, or (with ``force``) a results folder
    that unsim wrote, every file in it unsim's (:func:`unsim.ownership.foreign_files`) and none
    of them one of the command's ``inputs``. Raises :class:`OutputError` otherwise, before
    anything is written.
    """
    try:
        _check_output_folder(out, force, hint, list(inputs))
    except OSError as exc:  # a path too long, a loop of links, a folder we may not list
        raise OutputError(
            f"{out}: cannot use it as output folder ({one_line(exc, with_type=False)})"
        ) from None


def _check_output_folder(out: Path, force: bool, hint: str, inputs: list[str | Path]) -> None:
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        what = "a symbolic link" if out.is_symlink() else _kind_of_entry(out)
        raise OutputError(
            f"{out}: exists and is {what}, not a folder; choose another output folder"
        )
    if not any(out.iterdir()):
        return
    if force and is_results_folder(out):
        check_replaced_folder(out, inputs)
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


def _kind_of_entry(path: Path) -> str:
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return "a file"
    return "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"


def check_replaced_folder(
    out: Path, inputs: Iterable[str | Path] = (), look_in: Path | None = None
) -> None:
    """Refuse to replace the results folder ``out`` when it holds a file unsim did not write
    (a user's notes...) or one of the command's inputs: such a folder is kept whole.
    ``look_in``: where the folder is now (set aside, while it is being replaced)."""
    for name in inputs:
        try:
            inside = Path(name).resolve().is_relative_to(out.resolve())
        except (OSError, ValueError):
            continue
        if inside:
            raise OutputError(
                f"{out}: holds {name}, an input of this command; --force would delete it. "
                "Nothing was written: choose another output folder"
            )
    foreign = foreign_files(look_in or out)
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        shown = ", ".join(foreign[:5]) + more
        raise OutputError(
            f"{out}: --force replaces a results folder only when unsim wrote every file in it, "
            f"and it holds {len(foreign)} that unsim did not write ({shown}); nothing was "
            "written. Move them out of the folder, or choose another output folder"
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
