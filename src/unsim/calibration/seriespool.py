"""A fit borrowed from comparable series, for a series with too few votes of its own."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from unsim.calibration.seriesfit import WEIGHTS, SeriesFit, Spec
from unsim.errors import InputError

__all__ = ["pooled_fit"]


def _pooled_weights(fits: Sequence[SeriesFit], wts: np.ndarray, params: dict[str, float]) -> dict:
    """The weights' covariance averaged over the fits, plus their spread between the series."""
    weights = {
        a: {b: float(wts @ np.array([f.covariance["weights"].get(a, {}).get(b, 0.0) for f in fits]))
            for b in WEIGHTS}
        for a in WEIGHTS
    }  # fmt: skip
    for key in WEIGHTS:
        values = np.array([f.params.get(key, 0.0) for f in fits])
        weights[key][key] += float(wts @ (values - params[key]) ** 2)
    return weights


def pooled_fit(fits: Sequence[SeriesFit], date: pd.Timestamp | str, spec: Spec) -> SeriesFit:
    """The weights and band averaged over the ``fits`` of comparable series (by votes), the level
    their mean level at ``date``, uncertain by its spread between the series and their own level
    sd."""
    if not fits:
        raise InputError("no comparable series to borrow a fit from")
    n = np.array([f.n_votes for f in fits], dtype=np.float64)
    wts = n / n.sum()
    at = [f.level_at(date) for f in fits]
    means = np.array([m for m, _ in at])
    sds = np.array([sd for _, sd in at])
    level = float(wts @ means)
    level_sd = float(np.sqrt(wts @ sds**2 + float(wts @ (means - level) ** 2)))
    params: dict[str, float] = {}
    errors: dict[str, float | None] = {}
    for key in fits[0].params:
        values = np.array([f.params.get(key, 0.0) for f in fits])
        params[key] = float(wts @ values)
        ses = np.array([f.standard_errors.get(key) or 0.0 for f in fits])
        errors[key] = float(np.sqrt(float(wts @ (values - params[key]) ** 2) + float(wts @ ses**2)))
    params["intercept"], params["trend"] = level, 0.0
    errors["intercept"], errors["trend"] = level_sd, None
    params["session_shock_sd"] = 0.0  # in the level's sd
    return SeriesFit(
        spec=spec,
        params=params,
        standard_errors=errors,
        covariance={
            "weights": _pooled_weights(fits, wts, params),
            "level": {
                "intercept": {"intercept": level_sd**2, "trend": 0.0},
                "trend": {"intercept": 0.0, "trend": 0.0},
            },
        },
        levels=pd.Series(dtype=np.float64),
        last_date=pd.Timestamp(date),
        n_votes=int(n.sum()),
        n_roll_calls=sum(f.n_roll_calls for f in fits),
        log_likelihood=float(sum(f.log_likelihood for f in fits)),
        converged=all(f.converged for f in fits),
        warnings=[],
        at_bounds=[],
    )
