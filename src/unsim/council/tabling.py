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

The scenario's chance, ``procedure.council.tabling.chance``, is a number that may be a
distribution like any other (``unsim.uncertainty``): left out, it is this posterior as known on
the scenario's date (:func:`record_chance`, filled in when the scenario is read), and each run
draws its own chance from it on its own stream (``lever:procedure.council.tabling.chance``), so
the runs carry the estimation uncertainty, the run table has the draws and the attribution sets
it to its mean with the other spreads.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scipy import special

from unsim.council.record import Window, load_record
from unsim.uncertainty.distributions import Beta
from unsim.uncertainty.values import Uncertain

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

    @property
    def mean(self) -> float:
        """The mean chance per year that a sought referral is tabled."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        """The standard deviation of that chance."""
        a, b = self.alpha, self.beta
        return math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """The central ``level`` interval of the chance."""
        tail = (1.0 - level) / 2
        lo, hi = special.betaincinv(self.alpha, self.beta, [tail, 1.0 - tail])
        return float(lo), float(hi)

    def summary(self) -> dict[str, object]:
        """The fit as a plain dict: mean, sd, 90% interval, the Beta's parameters, and what it
        was fitted on."""
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


def record_fit(opposed: bool, date: dt.date | None = None) -> TablingFit:
    """The chance fitted on the record as known on ``date`` (all of it when None) for the
    signal ``opposed``."""
    return fit_tabling(load_record().windows_before(date), opposed=opposed)


def record_chance(opposed: bool, date: dt.date | None = None) -> Beta:
    """The record's chance for the signal as a scenario's distribution (its source says what
    it rests on): what ``procedure.council.tabling.chance`` is when a scenario leaves it out."""
    fit = record_fit(opposed, date)
    when = f"before {date.isoformat()}" if date is not None else "to its cut"
    return Beta(
        a=fit.alpha,
        b=fit.beta,
        source=f"fitted on the Council's record {when} for the signal "
        f"({'a permanent member opposed' if opposed else 'none opposed'}): {fit.drafts} drafts "
        f"in {fit.drafts + fit.years_without:.2f} years sought ({', '.join(fit.windows)}), "
        "uniform prior (unsim backtest --council)",
    )


def from_moments(mean: float, sd: float) -> Beta | float:
    """A chance stated by its mean and sd (the format before distributions): the Beta of those
    moments, or the mean itself when the sd is 0. ``ValueError`` when no Beta has them."""
    if not 0 < mean < 1:
        raise ValueError(f"the mean must lie strictly between 0 and 1, got {mean}")
    if sd == 0:
        return mean
    if not 0 < sd**2 < mean * (1 - mean):
        limit = (mean * (1 - mean)) ** 0.5
        raise ValueError(
            f"sd {sd} is too large for mean {mean}: a Beta distribution needs 0 < sd < {limit:.3f}"
        )
    k = mean * (1 - mean) / sd**2 - 1
    return Beta(a=mean * k, b=(1 - mean) * k, source=f"stated as mean {mean} and sd {sd}")


def tabling_summary(chance: float | None, opposed: bool, date: dt.date | None) -> dict[str, Any]:
    """What a run's metadata says of the tabling chance: the scenario's (a distribution with
    its mean, sd, 90 % interval and source, or a number) and the record's fit for its signal
    on its date."""
    stated: dict[str, Any]
    if isinstance(chance, Uncertain):
        d = chance.dist
        stated = {
            "distribution": d.describe(),
            "mean": d.expectation(),
            "sd": d.deviation(),
            "interval_90": [d.quantile(0.05), d.quantile(0.95)],
            "source": d.source,
        }
    else:
        stated = {"value": chance}
    return {"chance": stated, "record": record_fit(opposed, date).summary()}
