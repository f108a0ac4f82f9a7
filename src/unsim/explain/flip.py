"""The smallest change of a state's stance that would change its most likely vote.

From the model's vote rule (``rules.vote_probabilities``): with stances ``s_r`` over the runs,
a state's probability of each vote is the mean over runs of the rule's probabilities at
``s_r``; its most likely (modal) vote is the largest of the four. Shifting every run's stance
by ``delta`` moves them: :func:`smallest_shift` finds the ``delta`` of least size, up or down,
at which the modal vote changes (a scan, then bisection to ``TOLERANCE``), and
:func:`part_scale` the factor on one part (``s_r + (k - 1) part_r``) that changes it. Absence
does not depend on the stance: a state more likely absent than anything else cannot be moved.

A state's habit (``model.habit``) is part of its rule: at a vote on the draft, a present state
repeats its last vote on the series with probability ``habit``, so its probabilities are
``habit * [vote == last] * (1 - P(absent)) + (1 - habit) * P_rule(vote)``; a strong habit can
make its last vote the most likely whatever its stance (no shift then flips it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.model.rules import vote_probabilities

VOTES = ("yes", "no", "abstain", "absent")
#: The widest stance shift searched, either way (the latent scale's values are within +-1000,
#: a state's expected support within about +-20).
MAX_SHIFT = 60.0
#: The widest factor on a part searched.
MAX_FACTOR = 20.0
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Flip:
    """The smallest stance shift that changes the modal vote ``from_vote`` to ``to_vote``.

    ``shift`` is on the model's scale, a little past the point of change (applying it changes
    the modal vote; half of it does not); ``threshold`` the point of change itself."""

    shift: float
    threshold: float
    from_vote: str
    to_vote: str


@dataclass(frozen=True)
class PartScale:
    """A factor on one part of the stance that changes the modal vote (``factor`` past the
    point of change, ``threshold`` the point itself)."""

    part: str
    label: str
    factor: float
    threshold: float
    to_vote: str


@dataclass(frozen=True)
class StateRule:
    """How one state's stances become its vote: the model's rule and the state's habit."""

    absence: float  #: its probability of being absent
    band: float  #: the abstention band
    noise: float  #: the vote noise
    habit: float = 0.0  #: the probability that it repeats its last vote when present
    last: int = -1  #: its last vote on the series (an index of ``VOTES``; -1: none)

    def probabilities(self, stances: NDArray[Any]) -> Any:
        """(4, ...) its mean probabilities of yes, no, abstain, absent over the runs (last axis)
        of ``stances``."""
        s = np.asarray(stances, dtype=np.float32)
        absent = np.full(s.shape, self.absence, dtype=np.float32)
        p = vote_probabilities(s, self.band, self.noise, absent).mean(axis=-1, dtype=np.float64)
        if self.habit > 0 and self.last >= 0:
            present = 1.0 - p[3]
            p[:3] *= 1.0 - self.habit
            p[self.last] += self.habit * present
        return p

    def modal(self, stances: NDArray[Any]) -> Any:
        """Index of its most likely vote (``VOTES``) per leading row of ``stances``."""
        return np.argmax(self.probabilities(stances), axis=0)


def probabilities(stances: NDArray[Any], absence: float, band: float, noise: float) -> Any:
    """(4, ...) mean probabilities of yes, no, abstain, absent over the runs (last axis), by the
    model's rule alone (``StateRule`` with no habit)."""
    return StateRule(absence, band, noise).probabilities(stances)


def modal(stances: NDArray[Any], absence: float, band: float, noise: float) -> Any:
    """Index of the most likely vote (``VOTES``) per leading row of ``stances`` (no habit)."""
    return StateRule(absence, band, noise).modal(stances)


def _first_change(
    vote_at: Callable[[NDArray[np.float64]], NDArray[np.int64]], start: int, stop: float
) -> tuple[float, int] | None:
    """The smallest ``x`` in (0, stop] (``stop`` may be negative: then [stop, 0)) with
    ``vote_at(x) != start``, to ``TOLERANCE``, and the vote there; None if there is none."""
    grid = np.linspace(0.0, stop, 241)[1:]
    votes = vote_at(grid)
    changed = np.flatnonzero(votes != start)
    if not changed.size:
        return None
    j = int(changed[0])
    lo, hi = (0.0 if j == 0 else float(grid[j - 1])), float(grid[j])
    while abs(hi - lo) > TOLERANCE:
        mid = (lo + hi) / 2
        if int(vote_at(np.array([mid]))[0]) == start:
            lo = mid
        else:
            hi = mid
    return hi, int(vote_at(np.array([hi]))[0])


def _past(x: float) -> float:
    """A value a little past the point of change ``x`` (away from zero)."""
    return x + np.sign(x) * max(TOLERANCE, 0.002 * abs(x))


def smallest_shift(stances: NDArray[Any], rule: StateRule) -> Flip | None:
    """The smallest shift of every run's stance that changes the modal vote (module doc);
    None when no shift within ``MAX_SHIFT`` does (a state most likely absent, or held to its
    last vote by its habit)."""
    s = np.asarray(stances, dtype=np.float32)
    start = int(rule.modal(s[None, :])[0])

    def vote_at(shifts: NDArray[np.float64]) -> NDArray[np.int64]:
        """The state's most likely vote (an index into ``VOTES``) at each shift of its stance."""
        return rule.modal(s[None, :] + shifts.astype(np.float32)[:, None])  # type: ignore[no-any-return]

    found = [f for f in (_first_change(vote_at, start, d) for d in (MAX_SHIFT, -MAX_SHIFT)) if f]
    if not found:
        return None
    x, to = (0.0, 0)
    for cand in found:
        if not x or abs(cand[0]) < abs(x):
            x, to = cand
    return Flip(float(_past(x)), float(x), VOTES[start], VOTES[to])


def part_scale(
    stances: NDArray[Any], part: NDArray[Any], rule: StateRule
) -> tuple[float, float, str] | None:
    """The factor ``k`` nearest 1 (in [0, ``MAX_FACTOR``]) on ``part`` that changes the modal
    vote, as (k a little past the change, the change itself, the new vote); None if none."""
    s = np.asarray(stances, dtype=np.float32)
    p = np.asarray(part, dtype=np.float32)
    if not np.any(p):
        return None
    start = int(rule.modal(s[None, :])[0])

    def vote_at(d: NDArray[np.float64]) -> NDArray[np.int64]:  # d = k - 1
        """The state's most likely vote at each factor on ``part`` (given as factor - 1)."""
        return rule.modal(s[None, :] + d.astype(np.float32)[:, None] * p)  # type: ignore[no-any-return]

    ways = (_first_change(vote_at, start, MAX_FACTOR - 1), _first_change(vote_at, start, -1.0))
    found = [f for f in ways if f]
    if not found:
        return None
    d, to = min(found, key=lambda f: abs(f[0]))
    past = max(_past(d), -1.0)  # a factor of 0 is as far as it goes
    return 1.0 + past, 1.0 + d, VOTES[to]


#: How far either way, and how finely, :func:`zones` looks for changes of the most likely vote
#: before finding each one by bisection (a zone narrower than the step may be missed).
ZONE_SPAN = 20.0
ZONE_STEP = 0.1


def zones(
    stances: NDArray[Any], rule: StateRule, span: float = ZONE_SPAN, step: float = ZONE_STEP
) -> list[tuple[float, float, str]]:
    """The state's most likely vote as its stance moves: (from, to, vote) on the stance scale
    (the runs' mean stance moved by a shift within ``span`` either way, every run by the same
    shift, as :func:`smallest_shift` moves them; the ends are open: -inf and inf)."""
    s = np.asarray(stances, dtype=np.float32)
    centre = float(s.mean(dtype=np.float64))
    grid = np.arange(-span, span + step / 2, step)
    votes = rule.modal(s[None, :] + grid.astype(np.float32)[:, None])
    out: list[tuple[float, float, str]] = []
    start = -math.inf
    for j in np.flatnonzero(votes[1:] != votes[:-1]).tolist():
        lo, hi = float(grid[j]), float(grid[j + 1])
        while hi - lo > TOLERANCE:  # the change itself, by bisection
            mid = (lo + hi) / 2
            at = int(rule.modal(s[None, :] + np.float32(mid))[0])
            lo, hi = (mid, hi) if at == int(votes[j]) else (lo, mid)
        out.append((start, centre + hi, VOTES[int(votes[j])]))
        start = centre + hi
    out.append((start, math.inf, VOTES[int(votes[-1])]))
    return out


def _edge(
    vote_at: Callable[[NDArray[np.float64]], NDArray[np.int64]],
    inside: float,
    outside: float,
    target: int,
) -> float:
    """The point between ``inside`` (where the modal vote is ``target``) and ``outside``
    (where it is not) at which it changes, to ``TOLERANCE``, on the inside."""
    while abs(outside - inside) > TOLERANCE:
        mid = (inside + outside) / 2
        if int(vote_at(np.array([mid]))[0]) == target:
            inside = mid
        else:
            outside = mid
    return inside


def vote_interval(stances: NDArray[Any], rule: StateRule, vote: str) -> tuple[float, float] | None:
    """The shifts of every run's stance at which ``vote`` is the most likely vote: the interval
    (low, high) of them nearest no shift, within ``MAX_SHIFT`` either way and to
    ``TOLERANCE``; None when no such shift makes it the most likely (for an abstention: a state
    most likely absent, or held to another vote by its habit). The smallest-change search of
    :func:`smallest_shift`, aimed at one vote."""
    s = np.asarray(stances, dtype=np.float32)
    target = VOTES.index(vote)

    def vote_at(shifts: NDArray[np.float64]) -> NDArray[np.int64]:
        """The state's most likely vote (an index into ``VOTES``) at each shift of its stance."""
        return rule.modal(s[None, :] + shifts.astype(np.float32)[:, None])  # type: ignore[no-any-return]

    grid = np.linspace(-MAX_SHIFT, MAX_SHIFT, 961)  # steps of 0.125, zero among them
    votes = vote_at(grid)
    hits = np.flatnonzero(votes == target)
    if not hits.size:
        return None
    j = int(hits[np.argmin(np.abs(grid[hits]))])
    lo = j
    while lo > 0 and votes[lo - 1] == target:
        lo -= 1
    hi = j
    while hi < len(grid) - 1 and votes[hi + 1] == target:
        hi += 1
    low = _edge(vote_at, float(grid[lo]), float(grid[lo - 1]), target) if lo > 0 else -MAX_SHIFT
    top = len(grid) - 1
    high = _edge(vote_at, float(grid[hi]), float(grid[hi + 1]), target) if hi < top else MAX_SHIFT
    return low, high
