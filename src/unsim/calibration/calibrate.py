"""Helpers of the calibration command: the recorded votes of roll calls as letters, input
hashes for the provenance, and writing a calibration file.

The calibration itself (positions, the series' vote model, absences) is
:mod:`.seriescal`; ``unsim calibrate --votes FILE`` without ``--series`` calibrates the DPRK
series (:data:`TARGET`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from unsim.calibration.idealpoint import IdealPoints
from unsim.data import ABSENT, ABSTAIN, NO, NOT_MEMBER, YES
from unsim.ownership import write_text_output
from unsim.scenario.schema import Calibration

__all__ = [
    "TARGET",
    "RecordedVotes",
    "file_sha256",
    "recorded_votes",
    "write_calibration",
]

#: The state the DPRK resolutions address (the series calibrated by default).
TARGET = "PRK"
#: Letters of the recorded votes (Y yes, N no, A abstain, X absent).
LETTERS = {YES: "Y", NO: "N", ABSTAIN: "A", ABSENT: "X"}


@dataclass(frozen=True)
class RecordedVotes:
    """Recorded votes of states with a position: one row per state and roll call."""

    table: pd.DataFrame
    """columns rcid, date, iso3, vote (Y/N/A/X), position, absence"""

    @property
    def present(self) -> pd.DataFrame:
        """The rows of the states present at the vote (vote not ``X``)."""
        return self.table[self.table["vote"] != "X"]


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a data file's bytes as on disk (a regular file within the size limit of
    data files)."""
    from unsim.safeio import read_bounded
    from unsim.safetables import MAX_DATA_BYTES

    return hashlib.sha256(read_bounded(path, MAX_DATA_BYTES)).hexdigest()


def recorded_votes(
    votes: pd.DataFrame,
    members: pd.DataFrame,
    rcids: Sequence[int],
    ideal: IdealPoints | None = None,
) -> RecordedVotes:
    """Votes of member states on the given roll calls as letters, with positions if given."""
    iso = dict(zip(members["cow"].astype(int), members["iso3"].astype(str), strict=True))
    rows = votes[votes["rcid"].isin(list(rcids)) & (votes["vote"] != NOT_MEMBER)]
    table = pd.DataFrame(
        {
            "rcid": rows["rcid"].to_numpy(),
            "date": rows["date"].to_numpy(),
            "iso3": rows["ccode"].map(iso).to_numpy(),
            "vote": rows["vote"].map(LETTERS).to_numpy(),
        }
    )
    table = table[table["iso3"].notna()]
    if ideal is not None:
        table["position"] = table["iso3"].map(ideal.positions)
        table["absence"] = table["iso3"].map(ideal.absence)
        table = table[table["position"].notna()]
    return RecordedVotes(table.sort_values(["rcid", "iso3"]).reset_index(drop=True))


def write_calibration(
    calibration: Calibration,
    path: str | Path,
    header: str | None = None,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Write a calibration file atomically (a temporary file in the same folder, then replace),
    with unsim's mark as its first line: an existing file is replaced only if unsim wrote it
    and it is not one of ``inputs`` (:mod:`unsim.ownership`)."""
    text = yaml.safe_dump(
        calibration.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
    )
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    return write_text_output(path, "yaml", text, inputs=inputs)
