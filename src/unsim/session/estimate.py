"""Estimating a session's linkage from past sessions' roll calls (a simple indirect inference).

The data: sessions in which the plenary recorded two or more votes on country-specific
human-rights drafts; each draft a vector of vote scores (yes 1, abstain 0, no -1; NaN absent),
and each state's ideal point x (what the single-draft model already explains).

1. Each draft alone: an ordered logit on what the single-draft model explains, the state's ideal
   point x and its record r on the series (its mean score on the series' earlier votes, 0 for
   none), the model's vote rule with its logistic noise of scale 1: latent z = a + b x + g r + e,
   yes above the band c, no below -c (``fit_draft``).
2. The factor's statistic: the correlation, over the states voting on both, of two drafts'
   residuals (score minus its fitted expectation), averaged over every pair of drafts of a
   session, weighted by the states in the pair (``residual_correlation``).
3. The factor's sd tau, in latent units of the vote noise: the same statistic computed on data
   simulated from the fits with a per-state, per-session factor of sd tau (the fitted
   coefficients scaled up by sqrt(1 + tau^2 / (pi^2 / 3)), the attenuation a logit suffers
   from a left-out normal term), on a grid of tau with common random numbers; tau is where the
   simulated statistic meets the observed one (linear interpolation; 0 below the grid's start).
3'. The vote copula's rho (``form="copula"``, what ``calibrate --session-linkage`` writes):
   the same statistic on data simulated from the fits whose vote noise is logistic in each
   draft but whose uniforms are linked across a session's drafts as the model links them
   (``unsim.session.linkage``): a per-state, per-session uniform v, and each draft's own
   uniform u0 giving u = v where u0 < w = sqrt(rho), else (u0 - w) / (1 - w), so that two
   drafts' uniforms correlate by rho. Each draft's votes keep the fitted ordered logit's
   distribution, so the fits need no rescaling; rho is where the simulated statistic meets the
   observed one on a grid of rho.
4. The session shock's sd: the drafts' fitted levels a (at x = 0, scaled up as in 3), less each
   series' mean over the sessions; the mean product of two drafts' deviations in the same
   session estimates the shock's variance (0 if negative).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_expit

A = NDArray[np.float64]
LOGISTIC_VAR = math.pi**2 / 3
TAU_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
RHO_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class DraftVotes:
    """One draft's recorded votes in a session, by state."""

    series: str  #: the series (its target's ISO3)
    scores: A  #: (states,) 1 yes, 0 abstain, -1 no, NaN not voting
    #: (states,) each state's record on the series before the session (mean score; 0 none),
    #: a covariate beside the ideal point (None: the ideal point alone)
    record: A | None = None


@dataclass(frozen=True)
class SessionVotes:
    """One session's drafts with recorded votes, and its states' ideal points."""

    session: int
    x: A  #: (states,) ideal points (NaN: none)
    drafts: list[DraftVotes]


@dataclass(frozen=True)
class Fit:
    """One draft's ordered logit: latent a + b x + g r + noise; yes above c, no below -c."""

    a: float  #: level
    b: float  #: per unit of ideal point
    c: float  #: half-width of the abstention band
    g: float = 0.0  #: per unit of the record on the series


@dataclass
class LinkageEstimate:
    """A session linkage estimated from past sessions (module doc): the factor's or the vote
    copula's size, the session shock's sd, the observed statistic and the simulated ones."""

    factor_sd: float
    shock_sd: float
    statistic: float
    grid: dict[float, float] = field(default_factory=dict)
    shock_variance: float = 0.0
    sessions: int = 0
    pairs: int = 0
    drafts: int = 0
    form: str = "factor"  #: "factor" (a normal term beside the noise) or "copula"
    copula_rho: float = 0.0  #: the vote copula's correlation (``form="copula"``)


def _nll(theta: A, x: A, y: A) -> tuple[float, A]:
    """The ordered logit's negative log likelihood and its gradient in (a, coefficients of the
    columns of ``x``, log c)."""
    a, betas, logc = theta[0], theta[1:-1], theta[-1]
    eta, c = a + x @ betas, math.exp(logc)
    up, down = expit(eta - c), expit(-eta - c)  # P(yes), P(no)
    mid = np.clip(1.0 - up - down, 1e-12, 1.0)
    yes, no, abstain = y > 0, y < 0, y == 0
    ll = np.where(yes, log_expit(eta - c), np.where(no, log_expit(-eta - c), np.log(mid)))
    d_up, d_down = up * (1 - up), down * (1 - down)
    g_eta = np.where(yes, 1 - up, np.where(no, -(1 - down), (d_down - d_up) / mid))
    g_c = np.where(yes, -(1 - up), np.where(no, -(1 - down), (d_up + d_down) / mid))
    g_c = np.where(abstain | yes | no, g_c, 0.0)
    grad = np.concatenate([[g_eta.sum()], x.T @ g_eta, [(g_c * c).sum()]])
    return float(-ll.sum()), -grad


def _design(x: A, record: A | None) -> A:
    return np.column_stack([x] if record is None else [x, record])


def fit_draft(x: A, y: A, start: Fit | None = None, record: A | None = None) -> Fit:
    """The ordered logit of one draft's scores ``y`` on ``x`` (and the ``record``), no NaN."""
    s = start or Fit(float(np.clip(np.mean(y) * 3, -5, 5)), 1.0, 1.0, 1.0)
    logc = math.log(max(s.c, 0.05))
    theta0 = np.array([s.a, s.b, logc] if record is None else [s.a, s.b, s.g, logc])
    bounds = [(-15.0, 15.0)] * (len(theta0) - 1) + [(math.log(0.01), math.log(15.0))]
    res = minimize(
        _nll, theta0, args=(_design(x, record), y), jac=True, method="L-BFGS-B", bounds=bounds
    )
    t = res.x
    g = 0.0 if record is None else float(t[2])
    return Fit(float(t[0]), float(t[1]), float(math.exp(t[-1])), g)


def expected_score(f: Fit, x: A, record: A | None = None) -> A:
    """Each state's expected vote score (yes 1, abstain 0, no -1) under the fit, shape of ``x``."""
    eta = f.a + f.b * x + (0.0 if record is None else f.g * record)
    return expit(eta - f.c) - expit(-eta - f.c)  # type: ignore[no-any-return]


def _record(d: DraftVotes, m: NDArray[np.bool_]) -> A | None:
    return None if d.record is None else d.record[m]


def _usable(s: SessionVotes) -> list[tuple[DraftVotes, NDArray[np.bool_]]]:
    """The drafts of a session with their usable-state masks."""
    ok = ~np.isnan(s.x)
    return [(d, ok & ~np.isnan(d.scores)) for d in s.drafts]


def residual_correlation(sessions: list[SessionVotes], fits: list[list[Fit]]) -> tuple[float, int]:
    """The weighted mean over pairs of drafts in a session of their residuals' correlation
    over the states voting on both; and the number of pairs."""
    total, weight, pairs = 0.0, 0, 0
    for s, fs in zip(sessions, fits, strict=True):
        usable = _usable(s)
        res = []
        for (d, m), f in zip(usable, fs, strict=True):
            r = np.full(len(s.x), np.nan)
            r[m] = d.scores[m] - expected_score(f, s.x[m], _record(d, m))
            res.append(r)
        for i, j in combinations(range(len(res)), 2):
            both = ~np.isnan(res[i]) & ~np.isnan(res[j])
            n = int(both.sum())
            if n < 10:
                continue
            ri, rj = res[i][both], res[j][both]
            denom = math.sqrt(float((ri * ri).mean() * (rj * rj).mean()))
            if denom > 0:
                total += n * float((ri * rj).mean()) / denom
                weight += n
                pairs += 1
    return (total / weight if weight else math.nan), pairs


def fit_sessions(
    sessions: list[SessionVotes], start: list[list[Fit]] | None = None
) -> list[list[Fit]]:
    """The ordered logit of every draft of every session (``fit_draft``), from ``start``."""
    out = []
    for k, s in enumerate(sessions):
        fs = []
        for j, (d, m) in enumerate(_usable(s)):
            guess = start[k][j] if start is not None else None
            fs.append(fit_draft(s.x[m], d.scores[m], guess, _record(d, m)))
        out.append(fs)
    return out


def scale(tau: float) -> float:
    """How much a logit's coefficients shrink when a normal term of sd ``tau`` is left out."""
    return math.sqrt(1.0 + tau * tau / LOGISTIC_VAR)


def simulate_sessions(
    sessions: list[SessionVotes],
    fits: list[list[Fit]],
    tau: float,
    rng: np.random.Generator,
    shock_sd: float = 0.0,
    rescale: bool = True,
    rho: float | None = None,
) -> list[SessionVotes]:
    """Sessions of the same shape (states, presence, ideal points) drawn from ``fits`` with a
    per-state factor of sd ``tau`` shared by a session's drafts (and a session shock of sd
    ``shock_sd``); with ``rescale`` the fits' coefficients are scaled up by ``scale(tau)``.
    With ``rho`` the drafts are linked by the vote copula instead (``tau`` is then ignored):
    each draft's noise stays logistic, its uniforms correlate by ``rho`` (module, 3')."""
    copula = rho is not None
    k = scale(tau) if rescale and not copula else 1.0
    out = []
    for s, fs in zip(sessions, fits, strict=True):
        n = len(s.x)
        g = rng.random(n) if copula else rng.standard_normal(n)  # the shared uniform v
        factor = (0.0 if copula else g * tau) + rng.standard_normal() * shock_sd
        drafts = []
        for (d, m), f in zip(_usable(s), fs, strict=True):
            u = rng.random(n)
            if rho is not None:
                u = mixed(u, g, rho)
            u = np.clip(u, 1e-12, 1 - 1e-12)
            rec = 0.0 if d.record is None else f.g * d.record
            z = k * (f.a + f.b * np.nan_to_num(s.x) + rec) + factor + np.log(u / (1 - u))
            y = np.where(z > k * f.c, 1.0, np.where(z < -k * f.c, -1.0, 0.0))
            drafts.append(DraftVotes(d.series, np.where(m, y, np.nan), d.record))
        out.append(SessionVotes(s.session, s.x, drafts))
    return out


def mixed(u: A, v: A, rho: float) -> A:
    """The vote copula on a draft's uniforms ``u`` with the shared ones ``v``: v where
    u < w = sqrt(rho), else (u - w) / (1 - w) (``unsim.model.copula_kernels``)."""
    w = min(math.sqrt(rho), 1.0 - 2.0**-20)
    return np.where(u < w, v, (u - w) / (1.0 - w))


def shock_variance(sessions: list[SessionVotes], fits: list[list[Fit]], k: float) -> float:
    """The mean product of two drafts' levels (each less its series' mean) in one session."""
    levels: dict[str, list[float]] = {}
    for s, fs in zip(sessions, fits, strict=True):
        for d, f in zip(s.drafts, fs, strict=True):
            levels.setdefault(d.series, []).append(k * f.a)
    mean = {c: float(np.mean(v)) for c, v in levels.items()}
    products = []
    for s, fs in zip(sessions, fits, strict=True):
        dev = [k * f.a - mean[d.series] for d, f in zip(s.drafts, fs, strict=True)]
        products += [dev[i] * dev[j] for i, j in combinations(range(len(dev)), 2)]
    return float(np.mean(products)) if products else math.nan


def estimate_linkage(
    sessions: list[SessionVotes],
    seed: int = 0,
    replicates: int = 4,
    grid: Any = None,
    form: str = "factor",
) -> LinkageEstimate:
    """The factor's sd (``form="factor"``, in latent units of the vote noise) or the vote
    copula's rho (``form="copula"``), and the session shock's sd (module)."""
    if form not in ("factor", "copula"):
        raise ValueError(f"form: {form!r}; allowed: 'factor', 'copula'")
    copula = form == "copula"
    grid = (RHO_GRID if copula else TAU_GRID) if grid is None else grid
    fits = fit_sessions(sessions)
    observed, pairs = residual_correlation(sessions, fits)
    curve: dict[float, float] = {}
    for value in grid:
        rng = np.random.default_rng(seed)  # the same numbers at every point of the grid
        values = []
        for _ in range(replicates):
            if copula:
                sim = simulate_sessions(sessions, fits, 0.0, rng, rho=float(value))
            else:
                sim = simulate_sessions(sessions, fits, float(value), rng)
            values.append(residual_correlation(sim, fit_sessions(sim, fits))[0])
        curve[float(value)] = float(np.mean(values))
    points, stats = np.array(list(curve)), np.maximum.accumulate(np.array(list(curve.values())))
    hat = float(np.interp(observed, stats, points)) if observed > stats[0] else 0.0
    tau_hat = 0.0 if copula else hat
    var_s = shock_variance(sessions, fits, scale(tau_hat))
    return LinkageEstimate(
        factor_sd=tau_hat,
        shock_sd=math.sqrt(var_s) if var_s > 0 else 0.0,
        statistic=observed,
        grid=curve,
        shock_variance=var_s,
        sessions=len(sessions),
        pairs=pairs,
        drafts=sum(len(s.drafts) for s in sessions),
        form=form,
        copula_rho=hat if copula else 0.0,
    )
