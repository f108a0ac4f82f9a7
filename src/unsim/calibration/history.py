"""What was on record before a date: the country-specific human-rights series' votes, and each
state's agreement with a reference state and its absences in earlier sessions.

Everything here is built from the votes dated strictly before the cut (:func:`country_history`
drops every later row first), so that a forecast of a vote on or after the cut cannot see it.
Used by the statistical baselines (:mod:`.baselines`) and the pooled regression of the series'
vote model (:mod:`.seriesmix`).

- **Events**: the recorded plenary votes of every country-specific series of
  :data:`~unsim.calibration.series.COMPARABLE` (and of the series forecast, if it is not one of
  them) before the cut, oldest first, each with its series, date and session; per series, the
  (states x votes) letters ``Y``, ``N``, ``A``, ``X`` (NaN: not a member).
- **Sessions**: per General Assembly session, each state's agreement with a reference state on
  the roll calls both were present at (same vote 1, one abstaining 1/2, opposite 0) and its share
  of absences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from unsim.calibration.series import COMPARABLE, find_series
from unsim.data import ABSENT, ABSTAIN, NO, NOT_MEMBER, YES

__all__ = ["CODES", "CountryHistory", "SessionRecord", "country_history"]

#: Vote letters as numbers on the yes-no axis (absence: NaN).
CODES = {"Y": 1.0, "A": 0.0, "N": -1.0}
_LETTER = {YES: "Y", NO: "N", ABSTAIN: "A", ABSENT: "X"}
_VALUE = {YES: 1.0, ABSTAIN: 0.0, NO: -1.0}


@dataclass(frozen=True)
class SessionRecord:
    """One session's roll calls before the cut: (states x roll calls) values (yes 1, abstain 0,
    no -1, NaN absent or not a member) and whether each state was absent (NaN not a member)."""

    values: pd.DataFrame
    absent: pd.DataFrame

    def agreement(self, reference: str) -> tuple[pd.Series, pd.Series]:
        """Each state's summed agreement with ``reference`` and the number of roll calls both
        were present at (empty when the reference never voted in the session)."""
        if reference not in self.values.index:
            empty = pd.Series(0.0, index=self.values.index)
            return empty, empty
        ref = self.values.loc[reference].to_numpy(dtype=np.float64)
        v = self.values.to_numpy(dtype=np.float64)
        both = ~np.isnan(v) & ~np.isnan(ref)[None, :]
        agree = np.where(both, 1.0 - np.abs(v - ref[None, :]) / 2.0, 0.0)
        return (
            pd.Series(agree.sum(axis=1), index=self.values.index),
            pd.Series(both.sum(axis=1).astype(np.float64), index=self.values.index),
        )

    def absences(self) -> tuple[pd.Series, pd.Series]:
        """Each state's absences and roll calls as a member in the session."""
        a = self.absent.to_numpy(dtype=np.float64)
        member = ~np.isnan(a)
        return (
            pd.Series(np.where(member, a, 0.0).sum(axis=1), index=self.absent.index),
            pd.Series(member.sum(axis=1).astype(np.float64), index=self.absent.index),
        )


@dataclass
class CountryHistory:
    """The country-specific series' recorded votes and the sessions' roll calls before ``cut``."""

    cut: pd.Timestamp
    events: pd.DataFrame
    """series, rcid, date, session, k (the vote's place in its series): oldest first"""
    letters: dict[str, pd.DataFrame]
    """series -> (ISO3 x rcid) letters, oldest vote first"""
    votes: pd.DataFrame = field(repr=False)
    """the roll-call votes dated before the cut (rcid, session, ccode, vote)"""
    iso: dict[int, str] = field(repr=False)
    _sessions: dict[int, SessionRecord] = field(default_factory=dict, repr=False)

    @cached_property
    def _by_session(self) -> dict[int, pd.DataFrame]:
        return {int(s): g for s, g in self.votes.groupby("session", sort=False)}

    def session(self, number: int) -> SessionRecord:
        """The roll calls of session ``number`` before the cut (built once)."""
        if number not in self._sessions:
            rows = self._by_session.get(number, self.votes.iloc[:0])
            table = pd.DataFrame(
                {
                    "iso3": rows["ccode"].map(self.iso).to_numpy(),
                    "rcid": rows["rcid"].to_numpy(),
                    "value": rows["vote"].map(_VALUE).to_numpy(dtype=np.float64),
                    "absent": (rows["vote"] == ABSENT).to_numpy(dtype=np.float64),
                }
            ).dropna(subset=["iso3"])
            values = table.pivot_table(
                index="iso3", columns="rcid", values="value", aggfunc="first", dropna=False
            )
            absent = table.pivot_table(index="iso3", columns="rcid", values="absent")
            self._sessions[number] = SessionRecord(values.reindex(absent.index), absent)
        return self._sessions[number]

    def agreement(self, reference: str, sessions: list[int]) -> tuple[pd.Series, pd.Series]:
        """Each state's mean agreement with ``reference`` over the ``sessions`` (NaN where the
        two never voted together), and the number of roll calls it rests on."""
        total: pd.Series = pd.Series(dtype=np.float64)
        count: pd.Series = pd.Series(dtype=np.float64)
        for s in sessions:
            a, n = self.session(s).agreement(reference)
            total = total.add(a, fill_value=0.0)
            count = count.add(n, fill_value=0.0)
        return total / count.where(count > 0), count

    def absence_rate(self, sessions: list[int]) -> pd.Series:
        """Each state's share of absences among its roll calls of the ``sessions``."""
        total: pd.Series = pd.Series(dtype=np.float64)
        count: pd.Series = pd.Series(dtype=np.float64)
        for s in sessions:
            a, n = self.session(s).absences()
            total = total.add(a, fill_value=0.0)
            count = count.add(n, fill_value=0.0)
        return total / count.where(count > 0)

    def before(self, date: pd.Timestamp) -> pd.DataFrame:
        """The events dated strictly before ``date``."""
        return self.events[self.events["date"] < date]


def _series_letters(
    votes: pd.DataFrame, iso: dict[int, str], rcids: list[int], target: str
) -> pd.DataFrame:
    rows = votes[votes["rcid"].isin(rcids) & (votes["vote"] != NOT_MEMBER)]
    table = pd.DataFrame(
        {
            "iso3": rows["ccode"].map(iso).to_numpy(),
            "rcid": rows["rcid"].to_numpy(),
            "vote": rows["vote"].map(_LETTER).to_numpy(),
        }
    ).dropna(subset=["iso3", "vote"])
    letters = table.pivot_table(index="iso3", columns="rcid", values="vote", aggfunc="first")
    return letters.reindex(columns=rcids)


def country_history(
    votes: pd.DataFrame,
    roll_calls: pd.DataFrame,
    members: pd.DataFrame,
    cut: pd.Timestamp | str,
    series: str | None = None,
    match: str | None = None,
    codes: tuple[str, ...] = COMPARABLE,
) -> CountryHistory:
    """The history before ``cut`` (module docstring); ``series`` (found with ``match`` if given)
    is added to the country series when it is not one of ``codes``."""
    cut = pd.Timestamp(cut)
    before = votes[votes["date"].notna() & (votes["date"] < cut)]
    before = before[["rcid", "session", "ccode", "vote", "date"]]
    calls = roll_calls[roll_calls["date"].notna() & (roll_calls["date"] < cut)]
    iso = dict(zip(members["cow"].astype(int), members["iso3"].astype(str), strict=True))
    wanted = list(codes) + ([series.upper()] if series and series.upper() not in codes else [])
    frames, letters = [], {}
    for code in wanted:
        given = match if series is not None and code == series.upper() else None
        used = find_series(calls, code, before, members, match=given, before=cut).used
        if used.empty:
            continue
        rcids = [int(r) for r in used["rcid"]]
        letters[code] = _series_letters(before, iso, rcids, code)
        frames.append(
            pd.DataFrame(
                {
                    "series": code,
                    "rcid": rcids,
                    "date": pd.to_datetime(used["date"]).to_numpy(),
                    "session": used["session"].astype(int).to_numpy(),
                    "k": np.arange(len(rcids)),
                }
            )
        )
    columns = ["series", "rcid", "date", "session", "k"]
    events = (
        pd.concat(frames, ignore_index=True).sort_values(["date", "rcid"], ignore_index=True)
        if frames
        else pd.DataFrame(columns=columns)
    )
    return CountryHistory(cut, events, letters, before, iso)
