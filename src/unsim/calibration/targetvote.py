"""The target's own vote on the resolution about it, from the targets' records.

A target almost always votes no on its own resolution, but not always: the DR Congo abstained on
its series from 2000 to 2004 and voted yes in 2005, Iraq stayed away from 1995 to 2002. The
target repeats its last recorded vote on its own series with probability ``q``, and otherwise
votes as the targets of the country-specific series do as a whole (``pooled``: the shares of
yes, no, abstain and absent over every target's recorded votes on its own series):

    P(vote) = q * [vote == last] + (1 - q) * pooled(vote)

(a target with no record votes ``pooled``). ``q`` is fitted by maximum likelihood on every pair
of consecutive recorded votes of a target on its own series, and ``pooled`` counted with half a
vote added to each of the four (Jeffreys), both on the roll calls dated before the cut only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import optimize

from unsim.calibration.series import COMPARABLE
from unsim.calibration.seriesgap import RecordedSeries, recorded_series

__all__ = ["TARGET_VOTES", "TargetVoteFit", "fit_target_vote", "target_records"]

#: The target's vote's categories, in the calibration's order and as the roll calls write them.
TARGET_VOTES = {"yes": "Y", "no": "N", "abstain": "A", "absent": "X"}
_LETTERS = tuple(TARGET_VOTES.values())


@dataclass(frozen=True)
class TargetVoteFit:
    """The fitted rule and the records it was fitted on."""

    repeat: float  #: q, the chance of repeating the last recorded vote
    repeat_se: float  #: its standard error (inverse square root of the observed information)
    pooled: dict[str, float]  #: the pooled shares, by letter
    records: dict[str, list[str]]  #: each target's own votes on its series, in date order

    def probabilities(self, code: str) -> dict[str, float]:
        """The target ``code``'s vote's probabilities (keys of :data:`TARGET_VOTES`)."""
        own = self.records.get(code, [])
        last = own[-1] if own else None
        return {
            name: round(
                self.repeat * (letter == last) + (1.0 - self.repeat if last else 1.0)
                * self.pooled[letter], 6)
            for name, letter in TARGET_VOTES.items()
        }  # fmt: skip


def target_records(series: RecordedSeries) -> dict[str, list[str]]:
    """Each target's own votes (letters, ``X`` when absent) on the series about it, in date
    order."""
    out: dict[str, list[str]] = {}
    for code, (_, letters) in series.items():
        own = letters.loc[code] if code in letters.index else pd.Series(dtype=object)
        out[code] = [
            v if isinstance(v, str) and v in _LETTERS else "X" for v in own.reindex(letters.columns)
        ]
    return out


def fit_target_vote(records: Mapping[str, Sequence[str]]) -> TargetVoteFit:
    """``q`` by maximum likelihood over the records' consecutive pairs, and the pooled shares."""
    letters = [v for rec in records.values() for v in rec]
    counts = np.array([letters.count(x) for x in _LETTERS], dtype=np.float64) + 0.5
    pooled = dict(zip(_LETTERS, (counts / counts.sum()).tolist(), strict=True))
    pairs = [(a, b) for rec in records.values() for a, b in pairwise(rec)]
    r = np.array([a == b for a, b in pairs], dtype=np.float64)
    p = np.array([pooled[b] for _, b in pairs], dtype=np.float64)
    q, se = _fit_repeat(r, p)
    return TargetVoteFit(q, se, pooled, {k: list(v) for k, v in records.items()})


def _fit_repeat(r: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """``(q, standard error)`` maximising ``sum log(q r + (1 - q) p)`` (concave in ``q``)."""
    if r.size == 0:
        return 0.0, float("nan")

    def nll(q: float) -> float:
        """The negative log likelihood at repeat share ``q``."""
        return float(-np.log(q * r + (1.0 - q) * p).sum())

    q = float(optimize.minimize_scalar(nll, bounds=(0.0, 0.999), method="bounded").x)
    info = float((((r - p) / (q * r + (1.0 - q) * p)) ** 2).sum())
    return q, (1.0 / np.sqrt(info) if info > 0 else float("nan"))


def target_vote_fit(
    votes: pd.DataFrame,
    roll_calls: pd.DataFrame,
    members: pd.DataFrame,
    cut: pd.Timestamp,
    code: str,
) -> TargetVoteFit:
    """The rule fitted on the country-specific series known to the finder and ``code``'s own,
    on the roll calls dated before ``cut``."""
    series = recorded_series(votes, roll_calls, members, cut, (*COMPARABLE, code))
    return fit_target_vote(target_records(series))
