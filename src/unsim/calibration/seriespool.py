"""A fit borrowed from comparable series, for a series with too few votes of its own; the
weights' uncertainty as the engine reads it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from unsim.calibration.seriesfit import WEIGHTS, SeriesFit, Spec
from unsim.errors import InputError

__all__ = ["pooled_fit", "weight_uncertainty"]


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


def _rounded(value: float | None, digits: int = 4) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    out = round(float(value), digits)
    return 0.0 if out == 0 else out


def weight_uncertainty(fit: SeriesFit, scale: float) -> dict[str, float | None]:
    """The sds of the position weight and of the record's weight as the engine reads it, and
    their correlation. The record's weight is the record's and the last vote's summed, ``w``;
    the engine's per-state record is their mix (and the offset) divided by ``scale`` (``w`` or
    more), so its weight's sd is ``sd(w)`` in proportion: ``sd(w) * scale / w`` (the offsets
    uncertain in the same proportion)."""
    c = fit.covariance["weights"]
    mixed = ("record_weight", "last_vote_weight") if fit.spec.last else ("record_weight",)
    pos_var = max(c["position_weight"]["position_weight"], 0.0)
    rec_var = max(sum(c[a].get(b, 0.0) for a in mixed for b in mixed), 0.0)
    cross = sum(c["position_weight"].get(b, 0.0) for b in mixed)
    rho = cross / np.sqrt(pos_var * rec_var) if pos_var > 0 and rec_var > 0 else 0.0
    w = sum(fit.params.get(k, 0.0) for k in mixed)
    ratio = scale / w if w > 0 and scale > w else 1.0
    return {
        "position_weight_sd": _rounded(float(np.sqrt(pos_var))),
        "record_weight_sd": _rounded(float(np.sqrt(rec_var) * ratio)),
        "weights_correlation": _rounded(float(np.clip(rho, -1.0, 1.0))),
    }
