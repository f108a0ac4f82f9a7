"""The vote model of a resolution series, fitted on its recorded votes before a cut date.

A state ``i`` present at vote ``t`` of the series has the latent support

    s_it = level_t + position_weight * position_i + record_weight * record_it
           + group_shock_{k(i),t}

and votes yes with probability ``sigmoid(s_it - band)``, no with ``sigmoid(-band - s_it)``,
abstains otherwise (the engine's rule, :mod:`unsim.model.rules`, at ``vote_noise`` 1).

- ``record_it`` is the state's own record on the series: the mean of its earlier present votes
  (yes +1, abstain 0, no -1), weighted ``decay ** k`` for the vote ``k`` votes back (0 for a
  state without one). ``decay`` 0 is "the last vote", 1 "all earlier votes alike".
- ``level_t = intercept + trend * years_t + session_shock_t``: a trend over the years and a
  session-wide shock; ``group_shock`` is a shock shared by the states of a regional group.

Fitted in stages, each a maximum-likelihood or moment estimate with a standard error:

1. a pooled ordered logit with one level per vote, ``position_weight``, ``record_weight`` and
   ``band`` (standard errors from the Hessian);
2. ``intercept`` and ``trend`` by least squares of the per-vote levels on the years; the
   session shock's variance is what their residuals show beyond the levels' own sampling
   variance (method of moments), and the intercept's and trend's covariance the regression's;
3. the group shocks: each group's offset at each vote by maximum likelihood, holding the rest;
   their variance beyond their sampling variance is the group shock's.

Candidate specifications (the record's decay, with or without trend) are compared out of sample
on the series' own later votes before the cut (each forecast from the votes before it), and the
best by log loss is kept; the comparison is reported.

Absence: each state's rate on the series and the comparable high-profile votes (other
country-specific human-rights resolutions) in the window, shrunk toward its general absence rate
scaled to these votes (empirical Bayes, :data:`ABSENCE_PSEUDO_VOTES` pseudo-votes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, special

from unsim.errors import InputError

__all__ = [
    "ABSENCE_PSEUDO_VOTES",
    "SPECS",
    "SeriesFit",
    "SeriesVotes",
    "Spec",
    "fit_absence",
    "fit_series",
    "forecast_probabilities",
    "record_scores",
    "select_spec",
]

FloatArray = NDArray[np.float64]
CODE = {"Y": 1.0, "A": 0.0, "N": -1.0}
CATEGORY = {"Y": 0, "N": 1, "A": 2}
ABSENCE_PSEUDO_VOTES = 6.0
#: Weight of a comparable vote one session further back in the absence rates.
ABSENCE_DECAY = 0.6
#: Pseudo-votes of the prior (comparable votes) against a state's own absences on the series.
SERIES_ABSENCE_PSEUDO_VOTES = 3.0
#: Votes on the series needed before the session shock is estimated from them.
SHOCK_MIN_VOTES = 4
#: Session shock sd used when the series is too short to show it (with a warning).
SHOCK_PRIOR_SD = 0.6
TREND_MIN_YEARS = 3
BAND_BOUNDS = (0.0, 10.0)
WEIGHT_BOUNDS = (-15.0, 15.0)
LEVEL_BOUNDS = (-15.0, 15.0)


@dataclass(frozen=True)
class Spec:
    """A candidate specification of the vote model."""

    decay: float | None
    """weight of a vote one step further back in the record; None: no record term"""
    trend: bool

    @property
    def name(self) -> str:
        rec = "no record" if self.decay is None else f"record decay {self.decay:g}"
        return f"{rec}, {'trend' if self.trend else 'no trend'}"


SPECS = (
    Spec(None, True),
    Spec(0.0, True),
    Spec(0.5, True),
    Spec(1.0, True),
    Spec(0.5, False),
)


@dataclass(frozen=True)
class SeriesVotes:
    """The recorded votes of a series: a (states x votes) table of letters and the dates."""

    letters: pd.DataFrame
    """index ISO3, one column per roll call (oldest first): Y, N, A, X, or NaN (not a member)"""
    dates: pd.Series
    """date of each roll call (index rcid)"""

    @property
    def rcids(self) -> list[int]:
        return [int(c) for c in self.letters.columns]

    def head(self, k: int) -> SeriesVotes:
        cols = self.letters.columns[:k]
        return SeriesVotes(self.letters[cols], self.dates.loc[cols])


def record_scores(letters: pd.DataFrame, decay: float | None) -> pd.DataFrame:
    """(states x (votes + 1)) record of each state before each vote, and after the last one."""
    values = letters.apply(lambda c: c.map(CODE)).to_numpy(dtype=np.float64)  # NaN if X/none
    n, t = values.shape
    out = np.zeros((n, t + 1))
    if decay is None:
        return pd.DataFrame(out, index=letters.index)
    num = np.zeros(n)
    den = np.zeros(n)
    for k in range(t):
        out[:, k] = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)
        v = values[:, k]
        seen = ~np.isnan(v)
        num, den = decay * num, decay * den
        num[seen] += v[seen]
        den[seen] += 1.0
    out[:, t] = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)
    return pd.DataFrame(out, index=letters.index)


@dataclass(frozen=True)
class SeriesFit:
    """The fitted vote model of a series (see the module docstring)."""

    spec: Spec
    params: dict[str, float]
    """intercept (at the last recorded vote), trend, position_weight, record_weight,
    abstention_band, session_shock_sd, group_shock_sd"""
    standard_errors: dict[str, float | None]
    covariance: dict[str, dict[str, dict[str, float]]]
    """covariance of (position_weight, record_weight) and of (intercept, trend)"""
    levels: pd.Series
    """fitted level of each vote (index rcid)"""
    last_date: pd.Timestamp
    n_votes: int
    n_roll_calls: int
    log_likelihood: float
    converged: bool
    warnings: list[str] = field(default_factory=list)
    at_bounds: list[str] = field(default_factory=list)

    def level_at(self, date: pd.Timestamp | str) -> tuple[float, float]:
        """The expected level at ``date`` and the sd of the level a vote then has
        (the intercept's and trend's uncertainty and the session shock)."""
        years = (pd.Timestamp(date) - self.last_date).days / 365.25
        p, cov = self.params, self.covariance["level"]
        mean = p["intercept"] + p["trend"] * years
        var = (
            cov["intercept"]["intercept"]
            + 2 * years * cov["intercept"]["trend"]
            + years**2 * cov["trend"]["trend"]
        )
        return mean, float(np.sqrt(max(var, 0.0) + p["session_shock_sd"] ** 2))


def _quadrature(k: int = 15) -> tuple[FloatArray, FloatArray]:
    x, w = np.polynomial.hermite.hermgauss(k)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


def _probabilities(support: FloatArray, band: float) -> FloatArray:
    """(..., 3) P(yes), P(no), P(abstain) given presence."""
    p_yes = special.expit(support - band)
    p_no = special.expit(-band - support)
    return np.stack([p_yes, p_no, np.clip(1.0 - p_yes - p_no, 1e-12, 1.0)], axis=-1)


@dataclass(frozen=True)
class _Long:
    vote: NDArray[np.intp]
    position: FloatArray
    record: FloatArray
    category: NDArray[np.intp]
    group: NDArray[np.intp]
    years: FloatArray
    """years of each vote (index by vote) from the last one"""


def _long(
    votes: SeriesVotes, positions: pd.Series, groups: pd.Series, decay: float | None
) -> _Long:
    letters = votes.letters
    rec = record_scores(letters, decay).to_numpy()
    values = letters.to_numpy(dtype=object)
    pos = positions.reindex(letters.index).to_numpy(dtype=np.float64)
    names = sorted(groups.dropna().unique())
    grp = groups.reindex(letters.index).map({g: k for k, g in enumerate(names)})
    grp_codes = grp.fillna(-1).to_numpy(dtype=np.intp)
    category = np.full(values.shape, -1, dtype=np.intp)
    for letter, k in CATEGORY.items():
        category[values == letter] = k
    ok = (category >= 0) & ~np.isnan(pos)[:, None]
    state, vote = np.nonzero(ok.T)[::-1]  # ordered by vote, then state
    dates = pd.to_datetime(votes.dates.to_numpy())
    years = np.asarray((dates - dates.max()).days, dtype=np.float64) / 365.25
    return _Long(
        vote=vote.astype(np.intp),
        position=pos[state],
        record=rec[state, vote],
        category=category[state, vote],
        group=grp_codes[state],
        years=years,
    )


def _nll(theta: FloatArray, d: _Long, n_votes: int, use_record: bool) -> float:
    levels = theta[:n_votes]
    w, g, band = theta[n_votes], theta[n_votes + 1], theta[n_votes + 2]
    s = levels[d.vote] + w * d.position + (g * d.record if use_record else 0.0)
    p = _probabilities(s, band)
    chosen = p[np.arange(len(s)), d.category]
    return float(-np.log(np.maximum(chosen, 1e-300)).sum())


def _hessian(f: Any, theta: FloatArray, free: list[int], h: float = 1e-4) -> FloatArray:
    k = len(theta)
    out = np.zeros((len(free), len(free)))
    for a, i in enumerate(free):
        for b, j in enumerate(free[a:], start=a):
            ei, ej = np.zeros(k), np.zeros(k)
            ei[i], ej[j] = h, h
            v = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * h * h)
            out[a, b] = out[b, a] = v
    return out


def fit_series(
    votes: SeriesVotes,
    positions: pd.Series,
    groups: pd.Series,
    spec: Spec = Spec(0.5, True),
) -> SeriesFit:
    """Fit the vote model of a series (module docstring) to its recorded votes."""
    if votes.letters.shape[1] == 0:
        raise InputError("no recorded vote of the series to fit")
    warnings: list[str] = []
    use_record = spec.decay is not None and votes.letters.shape[1] > 1
    if spec.decay is not None and not use_record:
        warnings.append(
            "one recorded vote: the record term cannot be fitted (record_weight fixed at 0)"
        )
    d = _long(votes, positions, groups, spec.decay)
    # the first vote has no record to go on: with a record term, fit on the later votes
    first = 1 if use_record else 0
    keep = d.vote >= first
    d = _Long(
        d.vote[keep] - first, d.position[keep], d.record[keep], d.category[keep], d.group[keep],
        d.years[first:],
    )  # fmt: skip
    t = len(d.years)
    bounds = [LEVEL_BOUNDS] * t + [
        WEIGHT_BOUNDS,
        WEIGHT_BOUNDS if use_record else (0, 0),
        BAND_BOUNDS,
    ]
    theta0 = np.r_[np.zeros(t), 1.5, 1.0 if use_record else 0.0, 1.0]

    def f(th: FloatArray) -> float:
        return _nll(th, d, t, use_record)

    res = optimize.minimize(f, theta0, method="L-BFGS-B", bounds=bounds)
    theta = res.x
    names = [f"level{j}" for j in range(t)] + [
        "position_weight",
        "record_weight",
        "abstention_band",
    ]
    at_bounds = [
        names[i]
        for i in range(len(theta))
        if bounds[i][0] != bounds[i][1]
        and (theta[i] - bounds[i][0] < 1e-3 or bounds[i][1] - theta[i] < 1e-3)
    ]
    free = [
        i for i in range(len(theta)) if bounds[i][0] != bounds[i][1] and names[i] not in at_bounds
    ]
    cov_full = np.full((len(theta), len(theta)), np.nan)
    try:
        inv = np.linalg.inv(_hessian(f, theta, free))
        cov_full[np.ix_(free, free)] = inv
    except np.linalg.LinAlgError:
        warnings.append("the fit's Hessian is singular: standard errors unavailable")
    se = np.sqrt(np.where(np.diag(cov_full) > 0, np.diag(cov_full), np.nan))
    levels = theta[:t]
    level_se = np.nan_to_num(se[:t], nan=1.0)

    # stage 2: intercept and trend from the per-vote levels; the session shock
    years_distinct = len({round(y) for y in d.years})
    with_trend = spec.trend and years_distinct >= TREND_MIN_YEARS and t >= 3
    x = np.column_stack([np.ones(t), d.years]) if with_trend else np.ones((t, 1))
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
    xtx_inv = np.linalg.inv(x.T @ x)
    cov_beta = xtx_inv * (session_sd**2 + sampling)
    intercept = float(beta[0])
    trend = float(beta[1]) if with_trend else 0.0
    cov_it = {
        "intercept": {"intercept": float(cov_beta[0, 0])},
        "trend": {"trend": float(cov_beta[1, 1]) if with_trend else 0.0},
    }
    cov_it["intercept"]["trend"] = float(cov_beta[0, 1]) if with_trend else 0.0
    cov_it["trend"]["intercept"] = cov_it["intercept"]["trend"]

    # stage 3: the regional groups' shocks
    w, g, band = theta[t], theta[t + 1], theta[t + 2]
    base = levels[d.vote] + w * d.position + (g * d.record if use_record else 0.0)
    offsets, offset_var = [], []
    for vote in range(t):
        for grp in np.unique(d.group[d.vote == vote]):
            sel = (d.vote == vote) & (d.group == grp)
            if grp < 0 or sel.sum() < 3:
                continue
            cat, b0 = d.category[sel], base[sel]

            def gnll(u: float, cat: NDArray[np.intp] = cat, b0: FloatArray = b0) -> float:
                p = _probabilities(b0 + u, band)
                return float(-np.log(np.maximum(p[np.arange(len(cat)), cat], 1e-300)).sum())

            r = optimize.minimize_scalar(gnll, bounds=(-8, 8), method="bounded")
            u = float(r.x)
            h = 1e-3
            curv = (gnll(u + h) - 2 * gnll(u) + gnll(u - h)) / h**2
            if abs(u) > 7.9 or curv <= 1e-6:
                continue  # a unanimous group: its offset is not identified
            offsets.append(u)
            offset_var.append(1.0 / curv)
    if len(offsets) >= 3:
        o, v = np.asarray(offsets), np.asarray(offset_var)
        group_var = max(float(np.mean(o**2)) - float(np.mean(v)), 0.0)
        group_sd = float(np.sqrt(group_var))
        group_se = float(
            np.sqrt(2.0 / len(o)) * (group_var + float(np.mean(v))) / max(2 * group_sd, 0.1)
        )
    else:
        group_sd, group_se = 0.0, float("nan")
        warnings.append("too few regional-group votes to estimate the group shock (set to 0)")

    if "abstention_band" in at_bounds or "position_weight" in at_bounds:
        pass  # reported through at_bounds
    for name in at_bounds:
        warnings.append(f"the estimate of {name} ends at its optimiser bound")
    if session_sd == 0.0 and t >= SHOCK_MIN_VOTES:
        at_bounds.append("session_shock_sd")
        warnings.append("the session shock's sd ends at its bound 0")

    def _se(v: float) -> float | None:
        return None if not np.isfinite(v) else float(v)

    params = {
        "intercept": intercept,
        "trend": trend,
        "position_weight": float(w),
        "record_weight": float(g),
        "abstention_band": float(band),
        "session_shock_sd": session_sd,
        "group_shock_sd": group_sd,
    }
    errors = {
        "intercept": _se(float(np.sqrt(cov_it["intercept"]["intercept"]))),
        "trend": _se(float(np.sqrt(cov_it["trend"]["trend"]))) if with_trend else None,
        "position_weight": _se(se[t]),
        "record_weight": _se(se[t + 1]) if use_record else None,
        "abstention_band": _se(se[t + 2]),
        "session_shock_sd": _se(session_se),
        "group_shock_sd": _se(group_se),
    }
    c = np.nan_to_num(cov_full[t : t + 2, t : t + 2])
    cov = {
        "weights": {
            "position_weight": {"position_weight": float(c[0, 0]), "record_weight": float(c[0, 1])},
            "record_weight": {"position_weight": float(c[1, 0]), "record_weight": float(c[1, 1])},
        },
        "level": cov_it,
    }
    all_dates = pd.to_datetime(votes.dates.to_numpy())
    return SeriesFit(
        spec=spec,
        params=params,
        standard_errors=errors,
        covariance=cov,
        levels=pd.Series(levels, index=votes.letters.columns[first:]),
        last_date=pd.Timestamp(all_dates.max()),
        n_votes=len(d.vote),
        n_roll_calls=t,
        log_likelihood=-float(res.fun),
        converged=bool(res.success),
        warnings=warnings,
        at_bounds=at_bounds,
    )


def pooled_fit(fits: Sequence[SeriesFit], date: pd.Timestamp | str, spec: Spec) -> SeriesFit:
    """A fit borrowed from comparable series, for a series with too few votes of its own: the
    weights and band averaged over their fits (by votes), the level their mean level at
    ``date``, uncertain by its spread between the series and their own level sd."""
    if not fits:
        raise InputError("no comparable series to borrow a fit from")
    n = np.array([f.n_votes for f in fits], dtype=np.float64)
    wts = n / n.sum()
    at = [f.level_at(date) for f in fits]
    means = np.array([m for m, _ in at])
    sds = np.array([sd for _, sd in at])
    level = float(wts @ means)
    spread = float(wts @ (means - level) ** 2)
    level_sd = float(np.sqrt(wts @ sds**2 + spread))
    params: dict[str, float] = {}
    errors: dict[str, float | None] = {}
    for key in fits[0].params:
        values = np.array([f.params[key] for f in fits])
        params[key] = float(wts @ values)
        ses = [f.standard_errors.get(key) for f in fits]
        var = float(wts @ (values - params[key]) ** 2) + float(
            wts @ np.array([(e or 0.0) ** 2 for e in ses])
        )
        errors[key] = float(np.sqrt(var))
    params["intercept"], params["trend"] = level, 0.0
    errors["intercept"], errors["trend"] = level_sd, None
    params["session_shock_sd"] = 0.0  # in the level's sd
    weights = {
        a: {b: float(wts @ np.array([f.covariance["weights"][a][b] for f in fits])) for b in
            ("position_weight", "record_weight")}
        for a in ("position_weight", "record_weight")
    }  # fmt: skip
    # the between-series spread of the weights adds to their uncertainty
    for key in ("position_weight", "record_weight"):
        values = np.array([f.params[key] for f in fits])
        weights[key][key] += float(wts @ (values - params[key]) ** 2)
    return SeriesFit(
        spec=spec,
        params=params,
        standard_errors=errors,
        covariance={
            "weights": weights,
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


def forecast_probabilities(
    fit: SeriesFit,
    votes: SeriesVotes,
    positions: pd.Series,
    states: Sequence[str],
    date: pd.Timestamp | str,
) -> pd.DataFrame:
    """P(yes), P(no), P(abstain) given presence of ``states`` at a vote on ``date`` (the
    level's and the group shock's uncertainty integrated by quadrature; no absence)."""
    p = fit.params
    rec = record_scores(votes.letters, fit.spec.decay).iloc[:, -1]
    index = pd.Index(list(states))
    mean, sd = fit.level_at(date)
    sd = float(np.sqrt(sd**2 + p["group_shock_sd"] ** 2))
    s = (
        mean
        + p["position_weight"] * positions.reindex(index).fillna(0.0).to_numpy()
        + p["record_weight"] * rec.reindex(index).fillna(0.0).to_numpy()
    )
    nodes, weights = _quadrature()
    probs = np.einsum(
        "nkc,k->nc", _probabilities(s[:, None] + sd * nodes[None, :], p["abstention_band"]), weights
    )
    return pd.DataFrame(probs, index=index, columns=["Y", "N", "A"])


def select_spec(
    votes: SeriesVotes,
    positions: pd.Series,
    groups: pd.Series,
    specs: Sequence[Spec] = SPECS,
    holdout: int = 3,
) -> tuple[Spec, list[dict[str, Any]]]:
    """The specification with the lowest out-of-sample log loss on the last ``holdout`` votes
    (each forecast from the votes before it; at least 2 earlier votes needed), and the table."""
    t = votes.letters.shape[1]
    targets = [k for k in range(max(2, t - holdout), t)]
    rows: list[dict[str, Any]] = []
    if not targets:
        default = specs[2] if len(specs) > 2 else specs[0]
        return default, rows
    for spec in specs:
        losses = []
        for k in targets:
            past = votes.head(k)
            fit = fit_series(past, positions, groups, spec)
            col = votes.letters.iloc[:, k]
            present = col[col.isin(["Y", "N", "A"])]
            probs = forecast_probabilities(
                fit, past, positions, list(present.index), votes.dates.iloc[k]
            )
            chosen = probs.to_numpy()[np.arange(len(present)), present.map(CATEGORY).to_numpy()]
            losses.append(float(-np.log(np.maximum(chosen, 0.01)).mean()))
        rows.append({"spec": spec.name, "log_loss": float(np.mean(losses)), "votes": len(targets)})
    best = min(range(len(specs)), key=lambda i: rows[i]["log_loss"])
    return specs[best], rows


def fit_absence(
    absent: pd.DataFrame,
    general: pd.Series,
    pseudo_votes: float = ABSENCE_PSEUDO_VOTES,
    ages: pd.Series | None = None,
    decay: float = ABSENCE_DECAY,
) -> tuple[pd.Series, dict[str, Any]]:
    """Each state's absence rate on the comparable votes, shrunk toward its general rate scaled
    to these votes. ``absent``: (states x roll calls) True absent, False present, NaN not a
    member. ``general``: the state's absence rate on all roll calls of the window. ``ages``:
    sessions back of each roll call; a vote ``a`` sessions back weighs ``decay ** a`` (absences
    fall over the years)."""
    weight = (
        np.power(decay, ages.reindex(absent.columns).fillna(0.0).to_numpy(dtype=np.float64))
        if ages is not None
        else np.ones(absent.shape[1])
    )
    member = absent.notna().to_numpy(dtype=np.float64) * weight[None, :]
    hits = absent.fillna(False).astype(bool).to_numpy(dtype=np.float64) * weight[None, :]
    n = pd.Series(member.sum(axis=1), index=absent.index)
    k = pd.Series(hits.sum(axis=1), index=absent.index)
    common = general.index.intersection(absent.index)
    total_n = float(n.reindex(common).sum())
    if total_n > 0:
        observed = float(k.reindex(common).sum()) / total_n
        expected = float((general.reindex(common) * n.reindex(common)).sum()) / total_n
        ratio = observed / expected if expected > 0 else 1.0
    else:
        ratio = 1.0
    prior = (general * ratio).clip(0.0, 0.95)
    rate = (k.reindex(prior.index).fillna(0.0) + pseudo_votes * prior) / (
        n.reindex(prior.index).fillna(0.0) + pseudo_votes
    )
    info = {
        "comparable_roll_calls": int(absent.shape[1]),
        "ratio_to_general_rate": round(ratio, 4),
        "pseudo_votes": pseudo_votes,
        "session_decay": decay,
        "mean_rate": round(float(rate.mean()), 4),
    }
    return rate.clip(0.0, 0.95), info


def series_absence(
    series_absent: pd.DataFrame,
    propensity: pd.Series,
    ages: pd.Series,
    pseudo_votes: float = SERIES_ABSENCE_PSEUDO_VOTES,
    decay: float = ABSENCE_DECAY,
) -> tuple[pd.Series, dict[str, Any]]:
    """Absence rates on the series itself: the series' own level of absences (its recent votes
    weigh more: a vote ``a`` sessions back weighs ``decay ** a``) spread over the states by their
    ``propensity`` (their rates on comparable votes, :func:`fit_absence`), and each state's own
    absences on the series on top (``pseudo_votes`` of that prior)."""
    weight = np.power(decay, ages.reindex(series_absent.columns).fillna(0.0).to_numpy(float))
    member = series_absent.notna().to_numpy(dtype=np.float64) * weight[None, :]
    hits = series_absent.fillna(False).astype(bool).to_numpy(dtype=np.float64) * weight[None, :]
    level = float(hits.sum() / max(member.sum(), 1e-12))
    index = propensity.index
    mean_propensity = float(propensity.reindex(series_absent.index).dropna().mean())
    scale = level / mean_propensity if mean_propensity > 0 else 1.0
    prior = (propensity * scale).clip(0.0, 0.95)
    n = pd.Series(member.sum(axis=1), index=series_absent.index).reindex(index).fillna(0.0)
    k = pd.Series(hits.sum(axis=1), index=series_absent.index).reindex(index).fillna(0.0)
    rate = ((k + pseudo_votes * prior) / (n + pseudo_votes)).clip(0.0, 0.95)
    info = {
        "series_level": round(level, 4),
        "scale_of_comparable_rates": round(scale, 4),
        "series_pseudo_votes": pseudo_votes,
        "mean_rate": round(float(rate.mean()), 4),
    }
    return rate, info
