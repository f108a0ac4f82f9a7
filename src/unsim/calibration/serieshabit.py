"""A state's habit on a series: with probability ``h`` a present state repeats its last vote on
the series (a delegation voting on standing instructions), otherwise it decides by the vote
model, so that given presence

    P(vote) = h * [vote == last] + (1 - h) * P_model(vote).

``h`` is fitted by maximum likelihood (:func:`fit_habit`) on the series' last votes before the
cut, each forecast out of sample from the votes before it with the chosen specification,
states' offsets and mix with the pooled regression (:func:`~.seriesmix.choose_mix`: the model's
probabilities are then those the forecast would have had), over the states present with an
earlier present vote on the series. Its standard error is the inverse square root of the
observed information. A series with too few votes fits it on the comparable series' votes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import optimize

from unsim.calibration.seriesfit import (
    CATEGORY,
    SeriesFit,
)

__all__ = ["HABIT_MAX", "fit_habit", "last_votes", "with_habit"]

#: Upper bound of the fitted habit (a habit of 1 would make every other vote impossible).
HABIT_MAX = 0.99


def last_votes(letters: pd.DataFrame) -> pd.Series:
    """Each state's last present vote on the series (``Y``, ``N`` or ``A``; missing where it
    has none), from the series' letters (states x votes, in date order)."""
    present = letters.where(letters.isin(list(CATEGORY)))
    if present.shape[1] == 0:
        return pd.Series(np.nan, index=letters.index, dtype=object)
    return present.ffill(axis=1).iloc[:, -1]


def fit_habit(p_chosen: np.ndarray, repeated: np.ndarray) -> tuple[float, float]:
    """``(h, standard error)`` by maximum likelihood from, per observed vote, the model's
    probability of the vote cast (``p_chosen``) and whether it repeated the state's last vote
    (``repeated``). The log likelihood ``sum log(h r + (1 - h) p)`` is concave in ``h``."""
    p = np.maximum(np.asarray(p_chosen, dtype=np.float64), 1e-12)
    r = np.asarray(repeated, dtype=np.float64)
    if p.size == 0:
        return 0.0, float("nan")

    def nll(h: float) -> float:
        """The negative log likelihood at habit ``h``."""
        return float(-np.log(h * r + (1.0 - h) * p).sum())

    def score(h: float) -> float:
        """The derivative of the log likelihood at habit ``h``."""
        return float(((r - p) / (h * r + (1.0 - h) * p)).sum())

    if score(0.0) <= 0:
        h = 0.0
    else:
        h = float(optimize.minimize_scalar(nll, bounds=(0.0, HABIT_MAX), method="bounded").x)
    info = float((((r - p) / (h * r + (1.0 - h) * p)) ** 2).sum())
    return h, (1.0 / np.sqrt(info) if info > 0 else float("nan"))


def with_habit(fit: SeriesFit, habit: float, standard_error: float) -> SeriesFit:
    """``fit`` carrying the habit and its standard error."""
    params = {**fit.params, "habit": float(habit)}
    errors = {
        **fit.standard_errors,
        "habit": float(standard_error) if np.isfinite(standard_error) else None,
    }
    return dataclasses.replace(fit, params=params, standard_errors=errors)
