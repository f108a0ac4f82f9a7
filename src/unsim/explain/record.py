"""A state's recorded votes on the resolution series its scenario's calibration was fitted on."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from unsim.calibration.seriesfit import SeriesVotes
from unsim.errors import UnsimError
from unsim.scenario.schema import Calibration, Scenario

WORDS = {"Y": "yes", "N": "no", "A": "abstain", "X": "absent"}


@dataclass(frozen=True)
class RecordedVotes:
    """The state's recorded votes (date, vote in words) on the calibration's series, its
    record term (the calibration's weighted mean of them: yes 1, abstain 0, no -1), or why
    they are not available (``note``)."""

    series: str | None
    votes: list[tuple[str, str]] = field(default_factory=list)
    record: float | None = None
    note: str = ""


def recorded_votes(scenario: Scenario, iso3: str, load_data: bool = True) -> RecordedVotes:
    """The recorded votes of ``iso3`` on the series of the scenario's calibration (read from
    the real data, ``unsim.data``, with the calibration's own helpers; only roll calls before
    the calibration's cut date), or a note saying why they are not available."""
    cal = scenario.calibration
    if not isinstance(cal, Calibration):
        return RecordedVotes(None, note="not available: the scenario has no calibration")
    series = cal.provenance.get("series")
    state = cal.states.get(iso3)
    record = state.record if state is not None else None
    if not series:
        return RecordedVotes(
            None, record=record, note="not available: the calibration names no series"
        )
    if not load_data:
        return RecordedVotes(str(series), record=record, note="not read (no data requested)")
    try:
        letters = _series_letters(str(series), cal.provenance.get("before"))
    except UnsimError as err:
        return RecordedVotes(str(series), record=record, note=f"not available: {err}")
    if iso3 not in letters.letters.index:
        return RecordedVotes(
            str(series), record=record, note="no recorded vote of this state on the series"
        )
    row = letters.letters.loc[iso3]
    votes = [
        (str(pd.Timestamp(letters.dates[rcid]).date()), WORDS.get(str(v), str(v)))
        for rcid, v in row.items()
        if isinstance(v, str)
    ]
    return RecordedVotes(str(series), votes=votes, record=record)


def _series_letters(series: str, before: object) -> SeriesVotes:
    """The series' table of recorded votes (``SeriesVotes``) from the real data."""
    from unsim.calibration.series import find_series
    from unsim.calibration.seriescal import series_votes
    from unsim.data import load_members, load_roll_calls, load_votes, resolve_data_file

    members = load_members(resolve_data_file(None, "un_member_states_2014.csv"))
    roll_calls = load_roll_calls(resolve_data_file(None, "unga_roll_calls_1946_2014-09.csv"))
    cut = str(before) if before else "2014-11-18"
    found = find_series(roll_calls, series, members=members, before=cut)
    votes = load_votes(resolve_data_file(None, "unga_votes_1946_2014-09.csv.gz"))
    return series_votes(votes, members, found.used)
