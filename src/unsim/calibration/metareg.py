"""Random-effects meta-regression of episodes' shifts on their lever indicators (REML).

Episode ``i`` has an estimated shift ``y_i`` with known sampling variance ``v_i`` and lever
indicators ``x_i`` (a row of the episodes' lever matrix). The model:

    y_i = x_i' beta + u_i + e_i,    e_i ~ N(0, v_i),    u_i ~ N(0, tau0^2 + tau_lever^2 |x_i|^2)

``beta`` holds each lever's mean effect; ``tau0`` is the spread every vote shows beyond its
sampling error (the session's own shock), ``tau_lever`` the spread of a lever's effect from one
episode to the next (per unit of indicator): the controls (``x_i = 0``) identify ``tau0``, the
episodes with changes ``tau_lever``. There is no intercept: a vote where nothing changed is
expected where the series' own forecast put it (the mean shift of the controls is reported as a
check of that forecast, :func:`control_bias`).

``tau0`` and ``tau_lever`` are estimated by restricted maximum likelihood (REML), ``beta`` by
weighted least squares given them. Standard errors use the Knapp-Hartung correction (the
covariance scaled by the weighted residual variance when it exceeds 1, with ``n - p`` degrees of
freedom for intervals), which keeps the intervals' coverage near nominal with few episodes.

A lever no episode holds, or one whose indicator is a copy of other levers' on the episodes
used (not identified apart from them), gets no estimate (``NaN``); it is left out of the fit.
The predictive distribution of a lever's effect in a new episode is normal with mean ``beta_k``
and sd ``sqrt(se_k^2 + tau_lever^2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

__all__ = ["MetaFit", "control_bias", "fit_meta"]

FloatArray = NDArray[np.float64]
#: Upper bound of the standard deviations searched (latent units: a shift of 10 decides a vote).
TAU_MAX = 10.0


@dataclass(frozen=True)
class MetaFit:
    """A fitted meta-regression (see the module)."""

    names: list[str]
    """every lever asked for, in order"""
    coef: FloatArray
    """each lever's mean effect (NaN where not estimated)"""
    cov: FloatArray
    """covariance of the estimated effects (Knapp-Hartung), NaN rows for the others"""
    tau0: float
    tau_lever: float
    n: int
    dof: int
    counts: dict[str, int]
    """episodes holding each lever (indicator not 0)"""
    converged: bool
    notes: list[str] = field(default_factory=list)

    def estimated(self, name: str) -> bool:
        """Whether the coefficient ``name`` could be estimated (finite)."""
        return bool(np.isfinite(self.coef[self.names.index(name)]))

    def effect(self, name: str) -> tuple[float, float]:
        """(mean effect, standard error) of a lever (NaN when not estimated)."""
        k = self.names.index(name)
        return float(self.coef[k]), float(np.sqrt(self.cov[k, k]))

    def predictive_sd(self, name: str) -> float:
        """sd of the lever's effect in a new episode: its standard error and ``tau_lever``."""
        se = self.effect(name)[1]
        return float(np.sqrt(se**2 + self.tau_lever**2))

    def interval(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """The lever's mean effect's interval (t with the fit's degrees of freedom)."""
        mean, se = self.effect(name)
        q = float(stats.t.ppf(0.5 + level / 2, max(self.dof, 1)))
        return mean - q * se, mean + q * se

    def predict(self, x: Sequence[float]) -> tuple[float, float]:
        """Mean and variance of the shift of a new episode with indicators ``x``, from the
        estimated levers (the others contribute nothing; see :meth:`unestimated`)."""
        xv = np.asarray(x, dtype=np.float64)
        ok = np.isfinite(self.coef) & (xv != 0)
        if not ok.any():
            return 0.0, 0.0
        xs = xv[ok]
        mean = float(xs @ self.coef[ok])
        var = float(xs @ self.cov[np.ix_(ok, ok)] @ xs) + self.tau_lever**2 * float(xs @ xs)
        return mean, var

    def unestimated(self, x: Sequence[float]) -> list[str]:
        """The levers set in ``x`` that this fit does not estimate."""
        return [n for n, v, c in zip(self.names, x, self.coef, strict=True) if v and np.isnan(c)]


def _independent_columns(x: FloatArray, order: Sequence[int]) -> list[int]:
    """Columns (tried in ``order``) that add to the rank: the levers estimable apart."""
    kept: list[int] = []
    for j in order:
        if not np.any(x[:, j]):
            continue
        trial = [*kept, j]
        if np.linalg.matrix_rank(x[:, trial]) == len(trial):
            kept.append(j)
    return sorted(kept)


def _gls(
    y: FloatArray, v: FloatArray, x: FloatArray, s: FloatArray, t0: float, tl: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Weights, beta, (X'WX)^-1 and residuals at the given standard deviations."""
    w = 1.0 / (v + t0**2 + tl**2 * s)
    if x.shape[1] == 0:
        return w, np.empty(0), np.empty((0, 0)), y
    a = x.T @ (w[:, None] * x)
    a_inv = np.asarray(np.linalg.inv(a), dtype=np.float64)
    beta = a_inv @ (x.T @ (w * y))
    return w, beta, a_inv, y - x @ beta


def _reml(y: FloatArray, v: FloatArray, x: FloatArray, s: FloatArray, theta: FloatArray) -> float:
    """-2 x the restricted log likelihood (up to a constant)."""
    t0, tl = float(theta[0]), float(theta[1])
    w, _, a_inv, r = _gls(y, v, x, s, t0, tl)
    out = float(-np.log(w).sum() + (w * r * r).sum())
    if x.shape[1]:
        out -= float(np.linalg.slogdet(a_inv)[1])
    return out


def _fit_taus(
    y: FloatArray, v: FloatArray, x: FloatArray, s: FloatArray
) -> tuple[float, float, bool]:
    """REML estimates of (tau0, tau_lever) within [0, TAU_MAX], from a few starts. The
    likelihood depends on the squares alone, so the search runs unbounded over their signed
    roots (Nelder-Mead: a two-parameter problem, quick and sure)."""
    with_levers = bool(np.any(s > 0))

    def objective(th: FloatArray) -> float:
        """-2 x the restricted log likelihood at the taus ``th`` (their absolute values,
        capped)."""
        t = np.minimum(np.abs(th), TAU_MAX)
        return _reml(y, v, x, s, np.array([t[0], t[1] if with_levers else 0.0]))

    best: optimize.OptimizeResult | None = None
    for start in ((0.3, 0.3), (1.0, 0.05), (0.05, 1.0)):
        res = optimize.minimize(
            objective,
            np.array(start),
            method="Nelder-Mead",
            options={"xatol": 1e-5, "fatol": 1e-9, "maxiter": 2000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    t0, tl = np.minimum(np.abs(best.x), TAU_MAX)
    return float(t0), float(tl) if with_levers else 0.0, bool(best.success)


def fit_meta(
    y: Sequence[float],
    v: Sequence[float],
    x: FloatArray,
    names: Sequence[str],
    knapp_hartung: bool = True,
) -> MetaFit:
    """Fit the meta-regression of shifts ``y`` (sampling variances ``v``) on the indicators
    ``x`` (episodes x levers, columns named ``names``); see the module."""
    yv = np.asarray(y, dtype=np.float64)
    vv = np.asarray(v, dtype=np.float64)
    xm = np.asarray(x, dtype=np.float64).reshape(len(yv), len(names))
    counts = {n: int(np.count_nonzero(xm[:, j])) for j, n in enumerate(names)}
    order = sorted(range(len(names)), key=lambda j: -counts[names[j]])
    keep = _independent_columns(xm, order)
    notes = [
        f"{names[j]}: held by {counts[names[j]]} episode(s) whose indicators other levers "
        "already hold: not estimated apart from them"
        for j in range(len(names))
        if counts[names[j]] and j not in keep
    ]
    xk = xm[:, keep]
    s = (xm * xm).sum(axis=1)
    n, p = len(yv), len(keep)
    if n <= p:
        raise ValueError(f"{n} episode(s) cannot estimate {p} lever(s)")
    t0, tl, converged = _fit_taus(yv, vv, xk, s)
    w, beta, a_inv, r = _gls(yv, vv, xk, s, t0, tl)
    scale = 1.0
    if knapp_hartung and n > p:
        scale = max(1.0, float((w * r * r).sum()) / (n - p))
    coef = np.full(len(names), np.nan)
    cov = np.full((len(names), len(names)), np.nan)
    coef[keep] = beta
    cov[np.ix_(keep, keep)] = a_inv * scale
    return MetaFit(
        names=list(names),
        coef=coef,
        cov=cov,
        tau0=t0,
        tau_lever=tl,
        n=n,
        dof=n - p,
        counts=counts,
        converged=converged,
        notes=notes,
    )


def control_bias(y: Sequence[float], x: FloatArray) -> tuple[float, float, int]:
    """The mean shift of the controls (episodes with no indicator set), its standard error and
    their number (a plain mean: each vote counts once): how far the series' own forecasts were
    off where nothing changed."""
    yv = np.asarray(y, dtype=np.float64)
    ctrl = ~np.any(np.asarray(x) != 0, axis=1)
    k = int(ctrl.sum())
    if k < 2:
        return float("nan"), float("nan"), k
    vals = yv[ctrl]
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(k)), k
