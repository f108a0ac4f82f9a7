"""What each command reads, so that no output of it is written over one of its inputs
(:func:`unsim.ownership.check_output`'s ``inputs``)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from unsim.errors import UnsimError

__all__ = ["data_inputs", "results_inputs", "scenario_inputs"]

#: The files of a results folder that the commands reading one may read.
RESULTS_FILES = (
    *(f"{name}.{ext}" for name in ("runs", "per_state", "explain") for ext in ("parquet", "csv")),
    "summary.json",
    "metadata.json",
)


def scenario_inputs(path: str | Path | None, overrides: Iterable[str] = ()) -> list[Path]:
    """A scenario file and the world, calibration and levers files it names (after ``--set``);
    only the scenario itself when it cannot be read (loading it reports why)."""
    if path is None:
        return []
    from unsim.scenario.loader import apply_overrides, read_yaml

    path = Path(path)
    files = [path]
    try:
        data = apply_overrides(dict(read_yaml(path)), list(overrides))
    except (UnsimError, ValueError, TypeError):
        return files
    for key in ("world", "calibration", "levers", "clause_calibration"):
        value = data.get(key)
        if isinstance(value, str):
            try:
                named = Path(value)
            except ValueError:
                continue
            files.append(named if named.is_absolute() else path.parent / named)
    return files


def results_inputs(folder: str | Path) -> list[Path]:
    """The files a command reads from a results folder."""
    return [Path(folder) / name for name in RESULTS_FILES]


def data_inputs(folder: str | Path | None) -> list[Path]:
    """Every file of the real-data folder (``--data``, else the default one if it exists)."""
    if folder is None:
        from unsim.data import default_data_dir

        try:
            folder = default_data_dir()
        except UnsimError:
            return []
    try:
        return [p for p in Path(folder).iterdir() if p.is_file()]
    except OSError:
        return []


def data_files(args: argparse.Namespace) -> dict[str, Path]:
    """The votes, roll calls and members files a calibration reads: ``--votes`` (else the one in
    ``--data`` or the default data folder), and ``--roll-calls`` and ``--members`` (else the
    ones beside the votes)."""
    from unsim.data import (
        MEMBERS_FILE,
        ROLL_CALLS_FILE,
        VOTES_FILE,
        default_data_dir,
        resolve_data_file,
    )

    votes = Path(args.votes or (args.data or default_data_dir()) / VOTES_FILE)
    return {
        "votes": votes,
        "roll_calls": resolve_data_file(args.roll_calls, ROLL_CALLS_FILE, near=votes),
        "members": resolve_data_file(args.members, MEMBERS_FILE, near=votes),
    }
