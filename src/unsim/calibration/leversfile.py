"""Writing the levers file (``kind: levers``) that ``unsim calibrate --levers`` builds.

The format is defined once, by :class:`unsim.scenario.leversfile.LeversFile` (the model the
scenario loader reads too): the writer dumps that model, so whatever it writes a scenario can
read. The file is written through :mod:`unsim.ownership`: a YAML file with unsim's mark as its
first line, written atomically, and never over a file unsim did not write (nor over a file the
command reads); the command's ``--json`` report likewise.

A scenario value references an entry as ``intensity: {lever: charm_offensive.intensity}`` with
``levers: path/to/levers.yaml`` at its top level.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from unsim.errors import OutputError
from unsim.ownership import check_output, write_text_output
from unsim.scenario.leversfile import Effect, LeverEntry, LeversFile
from unsim.scenario.loader import load_levers

__all__ = [
    "HEADER",
    "Effect",
    "LeverEntry",
    "LeversFile",
    "check_writable",
    "levers_text",
    "load_levers",
    "write_levers",
]

#: What a levers file unsim writes says after its mark, before the command that wrote it.
HEADER = "Levers written by `unsim calibrate --levers`"


def check_writable(path: str | Path, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse at once a path the levers file cannot go to (before any work): a file unsim did
    not write, one the command reads, anything but a regular file (:mod:`unsim.ownership`), or
    a folder that does not exist."""
    path = Path(path)
    check_output(path, "yaml", inputs=inputs)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: the folder {path.parent} does not exist; nothing was written")


def levers_text(levers: LeversFile, command: str) -> str:
    """The file's text without unsim's mark (which :mod:`unsim.ownership` adds): a header naming
    the command, then the model's dump."""
    head = (
        f"{HEADER}: `{command}`.\n"
        "Each lever's effect estimated from past episodes (see method); do not edit by hand:\n"
        "run the command again."
    )
    body = yaml.safe_dump(
        levers.model_dump(mode="python"),  # the cut as a YAML date
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return "".join(f"# {line}\n" for line in head.splitlines()) + body


def write_levers(
    levers: LeversFile, path: str | Path, command: str, inputs: Iterable[str | Path] = ()
) -> Path:
    """Write the levers file (atomically, with unsim's mark); an existing file is replaced only
    if unsim wrote it and the command does not read it."""
    path = Path(path)
    inputs = list(inputs)
    check_writable(path, inputs)
    return write_text_output(path, "yaml", levers_text(levers, command), inputs=inputs)
