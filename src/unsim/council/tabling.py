"""When a referral draft is tabled: a chance per year fitted on the Council's record.

The unit is a situation in which a referral was sought (:class:`unsim.council.record.Window`),
split into years: each year a referral is sought the sponsors table one with the chance ``p``
(a discrete-time hazard, the same every year). A window tabled ``t`` years after it was sought
counts ``floor(t)`` years without a draft and one with; a window still open counts its ``t``
years without (a year in part counts in part: ``(1 - p) ** t``). The chance is fitted apart for
the two values of the one signal the record can tell apart, whether a permanent member stood
against the referral (``Window.opposed``), with a uniform Beta(1, 1) prior: the posterior is
Beta(1 + drafts, 1 + years without one), conjugate and exact.

The record cannot identify more: every opposed window but none of the others had a commission
of inquiry or a similar body's recommendation behind it, and the Assembly voted on the situation
in one of them only (README, The Security Council side).

A run draws its own chance from that posterior (:func:`draw_chances`; :func:`tabled` decides
with it, the one place the model does), so the runs carry the estimation uncertainty; the
scenario can state a chance instead (``procedure.council.tabling.chance``, mean and sd: the Beta
of those moments).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from unsim.council.record import Window, load_record
from unsim.scenario.council import TablingChance
from unsim.scenario.schema import Scenario

F = NDArray[np.float32]
YEAR_DAYS = 365.25
#: Beta(1, 1): every chance equally likely before the record is seen.
PRIOR = (1.0, 1.0)


@dataclass(frozen=True)
class TablingFit:
    """The chance per year that a sought referral is tabled: Beta(``alpha``, ``beta``)."""

    alpha: float
    beta: float
    drafts: int = 0  #: windows that ended in a draft
    years_without: float = 0.0  #: years sought without one
    windows: tuple[str, ...] = ()  #: the windows it was fitted on
    point: float | None = None  #: a chance stated without uncertainty (alpha, beta unused)

    @property
    def mean(self) -> float:
        if self.point is not None:
            return self.point
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        if self.point is not None:
            return 0.0
        a, b = self.alpha, self.beta
        return math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """The central ``level`` interval of the chance."""
        if self.point is not None:
            return self.point, self.point
        tail = (1.0 - level) / 2
        lo, hi = special.betaincinv(self.alpha, self.beta, [tail, 1.0 - tail])
        return float(lo), float(hi)

    def summary(self) -> dict[str, object]:
        lo, hi = self.interval()
        return {
            "mean": self.mean,
            "sd": self.sd,
            "interval_90": [lo, hi],
            "alpha": self.alpha,
            "beta": self.beta,
            "drafts": self.drafts,
            "years_without": self.years_without,
            "windows": list(self.windows),
        }


def exposure(window: Window) -> tuple[int, float]:
    """(drafts, years sought without one) of a window under the yearly chance (module doc)."""
    years = (window.end - window.sought_from).days / YEAR_DAYS
    if window.tabled is not None:
        return 1, float(math.floor(years))
    return 0, years


def fit_tabling(
    windows: Iterable[Window], opposed: bool, prior: tuple[float, float] = PRIOR
) -> TablingFit:
    """The posterior chance per year for the windows whose signal is ``opposed``."""
    chosen = [w for w in windows if w.opposed == opposed]
    drafts = 0
    without = 0.0
    for w in chosen:
        d, y = exposure(w)
        drafts += d
        without += y
    return TablingFit(
        alpha=prior[0] + drafts,
        beta=prior[1] + without,
        drafts=drafts,
        years_without=without,
        windows=tuple(w.key for w in chosen),
    )


def from_moments(chance: TablingChance) -> TablingFit:
    """A stated chance as the Beta of its mean and sd (sd 0: the mean in every run)."""
    m, sd = chance.mean, chance.sd
    if sd == 0:
        return TablingFit(alpha=math.nan, beta=math.nan, point=m)
    k = m * (1 - m) / sd**2 - 1
    return TablingFit(alpha=m * k, beta=(1 - m) * k)


def tabling_fit(scenario: Scenario, date: dt.date | None = None) -> TablingFit:
    """The scenario's chance: stated (``procedure.council.tabling.chance``) or fitted on the
    record as known on ``date`` (default the scenario's date) for its signal."""
    tabling = scenario.procedure.council.tabling
    if tabling.chance is not None:
        return from_moments(tabling.chance)
    when = date if date is not None else scenario.date
    return fit_tabling(load_record().windows_before(when), opposed=bool(tabling.opposed_by))


def draw_chances(fit: TablingFit, u: F) -> F:
    """(runs,) each run's chance of tabling from uniforms ``u`` (runs,): the inverse of the
    Beta's distribution function, so a run keeps its rank among chances whatever the fit (common
    random numbers). A point chance is the same in every run."""
    if fit.point is not None:
        return np.full(u.shape, fit.point, dtype=np.float32)
    return special.betaincinv(fit.alpha, fit.beta, u.astype(np.float64)).astype(np.float32)


def tabled(fit: TablingFit, u_chance: F, u_table: F) -> NDArray[np.bool_]:
    """(runs,) where each run tables: its uniform ``u_table`` below its own chance, the one
    :func:`draw_chances` draws from ``u_chance``. Decided without inverting the Beta: ``u <
    F^-1(c)`` exactly when ``F(u) < c`` for the Beta's distribution function ``F`` (a quarter
    of the time)."""
    if fit.point is not None:
        return u_table < np.float32(fit.point)  # type: ignore[no-any-return]
    cdf = special.betainc(fit.alpha, fit.beta, u_table.astype(np.float64))
    return cdf < u_chance.astype(np.float64)  # type: ignore[no-any-return]
