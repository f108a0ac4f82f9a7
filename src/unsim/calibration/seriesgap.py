"""The habit carried over the years since a series' last recorded vote.

A state repeats its last vote on a series less often the longer ago that vote was: over the
country-specific series, a present state changed its vote between two consecutive recorded votes
one session apart about one time in eleven, two sessions apart about one time in seven. The change
rate at a gap of ``g`` sessions is modelled as ``c * (1 + k * ln g)``, ``c`` and ``k`` fitted by
maximum likelihood on every pair of consecutive recorded votes of each present state (not the
target) on the country-specific series, dated before the cut.

The habit ``h_1`` (``serieshabit``: a present state repeats its last vote with probability ``h``,
otherwise votes by the model), fitted on the series' votes one session apart, is carried to the
forecast's gap in proportion to the chance of repeating one's vote:

    h_g = h_1 * (1 - c (1 + k ln g)) / (1 - c).

Carrying it further, as if all the extra change came from states dropping their standing
instructions (``h_g = 1 - (1 + k ln g)(1 - h_1)``, 0 for the DPRK in 2014), made the one time-split
vote where the two differ (Myanmar 2011, two sessions after the last) worse out of sample; the
README has the figures. The model's other uncertainty already grows with the gap (the level's
trend, ``SeriesFit.level_at``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from unsim.calibration.series import COMPARABLE, find_series

__all__ = [
    "GapFit",
    "RecordedSeries",
    "change_pairs",
    "fit_gap",
    "gap_fit",
    "recorded_series",
]

_PRESENT = ("Y", "N", "A")


@dataclass(frozen=True)
class GapFit:
    """The change rate's growth with the gap, and the pairs it was fitted on."""

    change: float  #: c, the change rate one session apart
    growth: float  #: k, its growth per unit of ``ln gap``
    pairs: dict[int, tuple[int, int]]  #: gap -> (pairs, changes)

    def factor(self, gap: int) -> float:
        """``1 + k ln g``: the change rate at ``gap`` sessions over that at one."""
        return 1.0 + self.growth * float(np.log(max(gap, 1)))

    def habit_at(self, habit: float, gap: int) -> float:
        """The habit ``habit`` (fitted one session apart) carried to ``gap`` sessions: in
        proportion to the chance of repeating one's vote, ``1 - c (1 + k ln g)`` over
        ``1 - c`` (see the module)."""
        if self.change <= 0.0 or self.change >= 1.0:
            return habit
        repeat = max(0.0, 1.0 - self.change * self.factor(gap))
        return habit * repeat / (1.0 - self.change)


#: Each country-specific series' recorded votes before a cut: code -> (their sessions, the
#: states' letters, states x votes, the target's row among them).
RecordedSeries = Mapping[str, tuple[list[int], pd.DataFrame]]


def recorded_series(
    votes: pd.DataFrame,
    roll_calls: pd.DataFrame,
    members: pd.DataFrame,
    cut: pd.Timestamp,
    codes: Iterable[str],
) -> dict[str, tuple[list[int], pd.DataFrame]]:
    """The recorded votes of each series about ``codes`` dated before ``cut`` (a series with
    none is left out), read once for the habit's gap and the target's own vote."""
    from unsim.calibration.seriescal import series_votes

    out = {}
    for code in dict.fromkeys(c.upper() for c in codes):
        found = find_series(roll_calls, code, votes, members, before=cut)
        if not found.used.empty:
            sessions = [int(s) for s in found.used["session"]]
            out[code] = (sessions, series_votes(votes, members, found.used).letters)
    return out


def change_pairs(series: RecordedSeries) -> dict[int, tuple[int, int]]:
    """gap (sessions) -> (pairs, changes) over the consecutive recorded votes of each series
    (two votes of one session are not a pair; the target's own votes are left out)."""
    out: dict[int, list[int]] = {}
    for code, (sessions, letters) in series.items():
        states = letters.drop(index=code, errors="ignore")
        for i in range(1, len(sessions)):
            gap = sessions[i] - sessions[i - 1]
            if gap < 1:
                continue
            a, b = states.iloc[:, i - 1], states.iloc[:, i]
            both = a.isin(_PRESENT) & b.isin(_PRESENT)
            n, changed = int(both.sum()), int((a[both] != b[both]).sum())
            total = out.setdefault(gap, [0, 0])
            total[0] += n
            total[1] += changed
    return {g: (n, c) for g, (n, c) in sorted(out.items())}


def fit_gap(pairs: dict[int, tuple[int, int]]) -> GapFit:
    """``c`` and ``k`` by maximum likelihood (binomial counts per gap); ``k = 0`` when every
    pair is one session apart."""
    gaps = np.array(list(pairs), dtype=np.float64)
    n = np.array([v[0] for v in pairs.values()], dtype=np.float64)
    changed = np.array([v[1] for v in pairs.values()], dtype=np.float64)
    if n.sum() == 0:
        return GapFit(0.0, 0.0, dict(pairs))
    c1 = float(changed.sum() / n.sum())
    if not (gaps > 1).any():
        return GapFit(c1, 0.0, dict(pairs))
    logs = np.log(gaps)

    def nll(x: np.ndarray) -> float:
        """The negative log likelihood of (c, k) from the changed counts per gap."""
        p = np.clip(x[0] * (1.0 + x[1] * logs), 1e-9, 1 - 1e-9)
        return float(-(changed * np.log(p) + (n - changed) * np.log1p(-p)).sum())

    start = np.array([max(c1, 1e-3), 0.0])
    res = optimize.minimize(nll, start, bounds=[(1e-6, 0.999), (0.0, 20.0)], method="L-BFGS-B")
    return GapFit(float(res.x[0]), float(res.x[1]), dict(pairs))


def gap_fit(
    votes: pd.DataFrame, roll_calls: pd.DataFrame, members: pd.DataFrame, cut: pd.Timestamp,
    code: str,
) -> GapFit:  # fmt: skip
    """The growth fitted on the country-specific series known to the finder and ``code``'s."""
    return fit_gap(
        change_pairs(recorded_series(votes, roll_calls, members, cut, (*COMPARABLE, code)))
    )
