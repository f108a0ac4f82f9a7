"""Stages 2 and 3 of the series' vote model (:mod:`.seriesfit`): the level's intercept, trend and
session-wide shock from the per-vote levels, and the regional groups' shock.

Both are moment estimates: a shock's variance is the spread its estimates show beyond their own
sampling variance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

__all__ = [
    "SHOCK_MIN_VOTES",
    "SHOCK_PRIOR_SD",
    "TREND_MIN_YEARS",
    "GroupShock",
    "LevelTrend",
    "fit_group_shock",
    "fit_level_trend",
    "vote_probabilities",
]

FloatArray = NDArray[np.float64]
#: Votes on the series needed before the session shock is estimated from them.
SHOCK_MIN_VOTES = 4
#: Session shock sd used when the series is too short to show it (with a warning).
SHOCK_PRIOR_SD = 0.6
TREND_MIN_YEARS = 3


def vote_probabilities(support: FloatArray, band: float) -> FloatArray:
    """(..., 3) P(yes), P(no), P(abstain) given presence (the engine's rule at noise 1)."""
    p_yes = special.expit(support - band)
    p_no = special.expit(-band - support)
    return np.stack([p_yes, p_no, np.clip(1.0 - p_yes - p_no, 1e-12, 1.0)], axis=-1)


@dataclass(frozen=True)
class LevelTrend:
    """The series' levels: intercept, trend and their covariance, the session shock's sd and its
    standard error, warnings."""

    intercept: float
    trend: float
    with_trend: bool
    covariance: dict[str, dict[str, float]]
    """covariance of (intercept, trend)"""
    session_sd: float
    session_se: float
    warnings: list[str] = field(default_factory=list)


def fit_level_trend(
    levels: FloatArray, level_se: FloatArray, years: FloatArray, trend: bool
) -> LevelTrend:
    """Intercept and trend by least squares of the per-vote levels on the years (the trend only
    with :data:`TREND_MIN_YEARS` distinct years); the session shock's variance is what the
    residuals show beyond the levels' sampling variance."""
    t = len(levels)
    warnings: list[str] = []
    with_trend = trend and len({round(y) for y in years}) >= TREND_MIN_YEARS and t >= 3
    x = np.column_stack([np.ones(t), years]) if with_trend else np.ones((t, 1))
    beta, *_ = np.linalg.lstsq(x, levels, rcond=None)
    resid = levels - x @ beta
    dof = t - x.shape[1]
    sampling = float(np.mean(level_se**2))
    if t >= SHOCK_MIN_VOTES and dof > 0:
        shock_var = max(float(resid @ resid) / dof - sampling, 0.0)
        session_sd = float(np.sqrt(shock_var))
        session_se = float(np.sqrt(2.0 / dof) * (shock_var + sampling) / max(2 * session_sd, 0.1))
    else:
        session_sd, session_se = SHOCK_PRIOR_SD, float("nan")
        warnings.append(
            f"{t} fitted vote(s) of the series: too few to estimate the session-wide shock; "
            f"its sd is set to {SHOCK_PRIOR_SD} (a prior)"
        )
    cov_beta = np.linalg.inv(x.T @ x) * (session_sd**2 + sampling)
    cross = float(cov_beta[0, 1]) if with_trend else 0.0
    cov = {
        "intercept": {"intercept": float(cov_beta[0, 0]), "trend": cross},
        "trend": {"trend": float(cov_beta[1, 1]) if with_trend else 0.0, "intercept": cross},
    }
    return LevelTrend(
        intercept=float(beta[0]),
        trend=float(beta[1]) if with_trend else 0.0,
        with_trend=with_trend,
        covariance=cov,
        session_sd=session_sd,
        session_se=session_se,
        warnings=warnings,
    )


@dataclass(frozen=True)
class GroupShock:
    """The regional groups' shock at each vote: its sd, standard error and warnings."""

    sd: float
    se: float
    warnings: list[str] = field(default_factory=list)


def _group_offset(cat: NDArray[np.intp], base: FloatArray, band: float) -> tuple[float, float]:
    """The maximum-likelihood offset of one group at one vote, and its sampling variance (NaN
    when not identified, e.g. a unanimous group)."""

    def gnll(u: float) -> float:
        """The negative log likelihood of the group's votes at offset ``u``."""
        p = vote_probabilities(base + u, band)
        return float(-np.log(np.maximum(p[np.arange(len(cat)), cat], 1e-300)).sum())

    r = optimize.minimize_scalar(gnll, bounds=(-8, 8), method="bounded")
    u = float(r.x)
    h = 1e-3
    curv = (gnll(u + h) - 2 * gnll(u) + gnll(u - h)) / h**2
    if abs(u) > 7.9 or curv <= 1e-6:
        return u, float("nan")
    return u, 1.0 / curv


def fit_group_shock(
    vote: NDArray[np.intp],
    group: NDArray[np.intp],
    category: NDArray[np.intp],
    base: FloatArray,
    band: float,
) -> GroupShock:
    """Each regional group's offset at each vote by maximum likelihood, the rest held; the
    shock's variance is their mean square beyond their sampling variance."""
    offsets, offset_var = [], []
    for v in np.unique(vote):
        for grp in np.unique(group[vote == v]):
            sel = (vote == v) & (group == grp)
            if grp < 0 or sel.sum() < 3:
                continue
            u, var = _group_offset(category[sel], base[sel], band)
            if np.isfinite(var):
                offsets.append(u)
                offset_var.append(var)
    if len(offsets) < 3:
        note = "too few regional-group votes to estimate the group shock (set to 0)"
        return GroupShock(0.0, float("nan"), [note])
    o, v = np.asarray(offsets), np.asarray(offset_var)
    group_var = max(float(np.mean(o**2)) - float(np.mean(v)), 0.0)
    sd = float(np.sqrt(group_var))
    se = float(np.sqrt(2.0 / len(o)) * (group_var + float(np.mean(v))) / max(2 * sd, 0.1))
    return GroupShock(sd, se)
