"""The vote model of a resolution series, fitted on its recorded votes before a cut date.

A state ``i`` present at vote ``t`` of the series has the latent support

    s_it = level_t + position_weight * position_i + record_weight * record_it
           + last_vote_weight * last_it + group_shock_{k(i),t}

and votes yes with probability ``sigmoid(s_it - band)``, no with ``sigmoid(-band - s_it)``,
abstains otherwise (the engine's rule, :mod:`unsim.model.rules`, at ``vote_noise`` 1).

- ``record_it`` is the state's own record on the series: the mean of its earlier present votes
  (yes +1, abstain 0, no -1), weighted ``decay ** k`` for the vote ``k`` votes back (0 for a
  state without one). ``decay`` 0 is "the last vote", 1 "all earlier votes alike".
- ``last_it`` is the state's last present vote on the series (yes +1, abstain 0, no -1): with a
  decaying record it lets the fit weigh the latest vote more than the record's kernel does
  (specifications "+ last vote"; ``last_vote_weight`` 0 otherwise).
- ``level_t = intercept + trend * years_t + session_shock_t``: a trend over the years and a
  session-wide shock; ``group_shock`` is a shock shared by the states of a regional group.

Fitted in stages, each a maximum-likelihood or moment estimate with a standard error:

1. a pooled ordered logit with one level per vote, ``position_weight``, ``record_weight``,
   ``last_vote_weight`` and ``band`` (standard errors from the Hessian);
2. ``intercept`` and ``trend`` by least squares of the per-vote levels on the years; the
   session shock's variance is what their residuals show beyond the levels' own sampling
   variance (method of moments, :mod:`.serieslevels`);
3. the group shocks: each group's offset at each vote by maximum likelihood, holding the rest;
   their variance beyond their sampling variance is the group shock's.

Candidate specifications (the record's decay, the last vote, with or without trend) are compared
out of sample on the series' own later votes before the cut (each forecast from the votes before
it), and the best by log loss is kept; the comparison is reported. Absences: :mod:`.seriesabsence`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize

from unsim.calibration.seriesabsence import (
    ABSENCE_PSEUDO_VOTES,
    SERIES_ABSENCE_PSEUDO_VOTES,
    fit_absence,
    series_absence,
)
from unsim.calibration.serieslevels import fit_group_shock, fit_level_trend, vote_probabilities
from unsim.errors import InputError

__all__ = [
    "ABSENCE_PSEUDO_VOTES",
    "CATEGORY",
    "SERIES_ABSENCE_PSEUDO_VOTES",
    "SPECS",
    "WEIGHTS",
    "Observations",
    "SeriesFit",
    "SeriesVotes",
    "Spec",
    "fit_absence",
    "fit_series",
    "forecast_probabilities",
    "observations",
    "record_scores",
    "select_spec",
    "series_absence",
    "state_records",
]

FloatArray = NDArray[np.float64]
CODE = {"Y": 1.0, "A": 0.0, "N": -1.0}
CATEGORY = {"Y": 0, "N": 1, "A": 2}
BAND_BOUNDS = (0.0, 10.0)
WEIGHT_BOUNDS = (-15.0, 15.0)
#: The record's and the last vote's weights together: both at least 0, so that the per-state
#: record the engine reads stays a weighted mean of earlier votes (in [-1, 1]).
MIXED_BOUNDS = (0.0, 15.0)
LEVEL_BOUNDS = (-15.0, 15.0)
#: The weights of the state terms, in the order of the fit's parameter vector.
WEIGHTS = ("position_weight", "record_weight", "last_vote_weight")


@dataclass(frozen=True)
class Spec:
    """A candidate specification of the vote model."""

    decay: float | None
    """weight of a vote one step further back in the record; None: no record term"""
    trend: bool
    last: bool = False
    """with a separate term for the state's last vote on the series"""

    @property
    def name(self) -> str:
        """The specification in words: record (and its decay), last vote, trend."""
        rec = "no record" if self.decay is None else f"record decay {self.decay:g}"
        if self.last:
            rec += " + last vote"
        return f"{rec}, {'trend' if self.trend else 'no trend'}"


SPECS = (
    Spec(None, True),
    Spec(0.0, True),
    Spec(0.5, True),
    Spec(1.0, True),
    Spec(0.5, False),
    Spec(0.5, True, last=True),
    Spec(1.0, True, last=True),
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
        """The roll-call ids of the votes, in order."""
        return [int(c) for c in self.letters.columns]

    def head(self, k: int) -> SeriesVotes:
        """The first ``k`` votes."""
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
    last_vote_weight, abstention_band, session_shock_sd, group_shock_sd"""
    standard_errors: dict[str, float | None]
    covariance: dict[str, dict[str, dict[str, float]]]
    """covariance of the weights (:data:`WEIGHTS`) and of (intercept, trend)"""
    levels: pd.Series
    """fitted level of each vote (index rcid)"""
    last_date: pd.Timestamp
    n_votes: int
    n_roll_calls: int
    log_likelihood: float
    converged: bool
    warnings: list[str] = field(default_factory=list)
    at_bounds: list[str] = field(default_factory=list)
    offsets: pd.Series | None = None
    """each state's own offset on the series (:mod:`.seriesstate`), if fitted"""
    terms: pd.Series | None = None
    """each state's part of the support beyond the level and its position, when it takes the
    place of the record, last vote and offset (:mod:`.seriesmix`)"""

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


def state_records(fit: SeriesFit, letters: pd.DataFrame) -> tuple[pd.Series, float]:
    """Each state's own term on the series after the votes in ``letters``, as the engine reads
    it (a record in [-1, 1] times a weight): the record weighted, plus the last vote weighted,
    plus the state's offset, divided by the weight that keeps every state within [-1, 1] (the
    record's and the last vote's weights summed, or more if an offset needs it). A fit with
    ``terms`` gives them instead, divided by the largest."""
    if fit.terms is not None:
        scale = float(fit.terms.abs().max()) if len(fit.terms) else 0.0
        return (fit.terms / scale if scale > 0 else fit.terms), scale
    g = fit.params["record_weight"]
    h = fit.params.get("last_vote_weight", 0.0) if fit.spec.last else 0.0
    record = record_scores(letters, fit.spec.decay).iloc[:, -1]
    term = g * record
    if h != 0.0:
        term = term + h * record_scores(letters, 0.0).iloc[:, -1]
    if fit.offsets is not None:
        term = term + fit.offsets.reindex(term.index).fillna(0.0)
    scale = max(g + h, float(term.abs().max()) if len(term) else 0.0)
    if scale <= 0:
        return record, g
    return term / scale, scale


def quadrature(k: int = 15) -> tuple[FloatArray, FloatArray]:
    """Gauss-Hermite nodes and weights (``k`` of them) for the expectation over a standard
    normal."""
    x, w = np.polynomial.hermite.hermgauss(k)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


@dataclass(frozen=True)
class Observations:
    """The present votes of a series, one row per state and vote."""

    vote: NDArray[np.intp]
    state: NDArray[np.intp]
    """row of the state in the series' letters"""
    terms: FloatArray
    """(observations, 3): position, record, last vote"""
    category: NDArray[np.intp]
    group: NDArray[np.intp]
    years: FloatArray
    """years of each vote (index by vote) from the last one"""

    def after(self, first: int) -> Observations:
        """The observations of the votes from ``first`` on (votes renumbered from 0)."""
        keep = self.vote >= first
        return Observations(
            self.vote[keep] - first,
            self.state[keep],
            self.terms[keep],
            self.category[keep],
            self.group[keep],
            self.years[first:],
        )


def observations(
    votes: SeriesVotes, positions: pd.Series, groups: pd.Series, spec: Spec
) -> Observations:
    """The present votes of ``votes`` with each state's position, record and last vote."""
    letters = votes.letters
    rec = record_scores(letters, spec.decay).to_numpy()
    last = record_scores(letters, 0.0 if spec.last else None).to_numpy()
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
    terms = np.column_stack([pos[state], rec[state, vote], last[state, vote]])
    return Observations(
        vote=vote.astype(np.intp),
        state=state.astype(np.intp),
        terms=terms,
        category=category[state, vote],
        group=grp_codes[state],
        years=years,
    )


def _nll(theta: FloatArray, d: Observations, n_votes: int) -> float:
    s = theta[:n_votes][d.vote] + d.terms @ theta[n_votes : n_votes + 3]
    p = vote_probabilities(s, theta[n_votes + 3])
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


@dataclass(frozen=True)
class _Stage1:
    theta: FloatArray
    cov: FloatArray
    se: FloatArray
    log_likelihood: float
    converged: bool
    at_bounds: list[str]
    warnings: list[str]


def _fit_ordered_logit(d: Observations, use_record: bool, use_last: bool) -> _Stage1:
    """Stage 1: levels, weights and band by maximum likelihood, covariance from the Hessian."""
    t = len(d.years)
    rec_bounds = (MIXED_BOUNDS if use_last else WEIGHT_BOUNDS) if use_record else (0.0, 0.0)
    bounds = [LEVEL_BOUNDS] * t + [
        WEIGHT_BOUNDS,
        rec_bounds,
        MIXED_BOUNDS if use_last else (0.0, 0.0),
        BAND_BOUNDS,
    ]
    theta0 = np.r_[np.zeros(t), 1.5, 1.0 if use_record else 0.0, 0.5 if use_last else 0.0, 1.0]

    def f(th: FloatArray) -> float:
        """The negative log likelihood at ``th``."""
        return _nll(th, d, t)

    res = optimize.minimize(f, theta0, method="L-BFGS-B", bounds=bounds)
    theta = res.x
    names = [f"level{j}" for j in range(t)] + [*WEIGHTS, "abstention_band"]
    fixed = [lo == hi for lo, hi in bounds]
    at_bounds = [
        names[i]
        for i in range(len(theta))
        if not fixed[i] and (theta[i] - bounds[i][0] < 1e-3 or bounds[i][1] - theta[i] < 1e-3)
    ]
    free = [i for i in range(len(theta)) if not fixed[i] and names[i] not in at_bounds]
    cov = np.full((len(theta), len(theta)), np.nan)
    warnings = []
    try:
        cov[np.ix_(free, free)] = np.linalg.inv(_hessian(f, theta, free))
    except np.linalg.LinAlgError:
        warnings.append("the fit's Hessian is singular: standard errors unavailable")
    se = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
    warnings += [f"the estimate of {name} ends at its optimiser bound" for name in at_bounds]
    return _Stage1(theta, cov, se, -float(res.fun), bool(res.success), at_bounds, warnings)


def _se(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


def fit_series(
    votes: SeriesVotes,
    positions: pd.Series,
    groups: pd.Series,
    spec: Spec = Spec(0.5, True),
) -> SeriesFit:
    """Fit the vote model of a series (module docstring) to its recorded votes."""
    if votes.letters.shape[1] == 0:
        raise InputError("no recorded vote of the series to fit")
    use_record = spec.decay is not None and votes.letters.shape[1] > 1
    warnings = []
    if spec.decay is not None and not use_record:
        warnings.append(
            "one recorded vote: the record term cannot be fitted (record_weight fixed at 0)"
        )
    # the first vote has no record to go on: with a record term, fit on the later votes
    first = 1 if use_record else 0
    d = observations(votes, positions, groups, spec).after(first)
    t = len(d.years)
    use_last = use_record and spec.last
    s1 = _fit_ordered_logit(d, use_record, use_last)
    theta, se = s1.theta, s1.se
    levels = theta[:t]
    lt = fit_level_trend(levels, np.nan_to_num(se[:t], nan=1.0), d.years, spec.trend)
    base = levels[d.vote] + d.terms @ theta[t : t + 3]
    gs = fit_group_shock(d.vote, d.group, d.category, base, float(theta[t + 3]))
    warnings += s1.warnings + lt.warnings + gs.warnings
    at_bounds = list(s1.at_bounds)
    if lt.session_sd == 0.0 and t >= 4:
        at_bounds.append("session_shock_sd")
        warnings.append("the session shock's sd ends at its bound 0")
    params = {"intercept": lt.intercept, "trend": lt.trend}
    params.update({w: float(theta[t + j]) for j, w in enumerate(WEIGHTS)})
    params.update(
        abstention_band=float(theta[t + 3]), session_shock_sd=lt.session_sd, group_shock_sd=gs.sd
    )
    used = {"position_weight": True, "record_weight": use_record, "last_vote_weight": use_last}
    errors: dict[str, float | None] = {
        "intercept": _se(float(np.sqrt(lt.covariance["intercept"]["intercept"]))),
        "trend": _se(float(np.sqrt(lt.covariance["trend"]["trend"]))) if lt.with_trend else None,
    }
    errors.update({w: _se(se[t + j]) if used[w] else None for j, w in enumerate(WEIGHTS)})
    errors.update(abstention_band=_se(se[t + 3]), session_shock_sd=_se(lt.session_se))
    errors["group_shock_sd"] = _se(gs.se)
    c = np.nan_to_num(s1.cov[t : t + 3, t : t + 3])
    weights = {a: {b: float(c[i, j]) for j, b in enumerate(WEIGHTS)} for i, a in enumerate(WEIGHTS)}
    return SeriesFit(
        spec=spec,
        params=params,
        standard_errors=errors,
        covariance={"weights": weights, "level": lt.covariance},
        levels=pd.Series(levels, index=votes.letters.columns[first:]),
        last_date=pd.Timestamp(pd.to_datetime(votes.dates.to_numpy()).max()),
        n_votes=len(d.vote),
        n_roll_calls=t,
        log_likelihood=s1.log_likelihood,
        converged=s1.converged,
        warnings=warnings,
        at_bounds=at_bounds,
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
    rec, weight = state_records(fit, votes.letters)
    index = pd.Index(list(states))
    mean, sd = fit.level_at(date)
    sd = float(np.sqrt(sd**2 + p["group_shock_sd"] ** 2))
    s = (
        mean
        + p["position_weight"] * positions.reindex(index).fillna(0.0).to_numpy()
        + weight * rec.reindex(index).fillna(0.0).to_numpy()
    )
    nodes, weights = quadrature()
    probs = np.einsum(
        "nkc,k->nc",
        vote_probabilities(s[:, None] + sd * nodes[None, :], p["abstention_band"]),
        weights,
    )
    return pd.DataFrame(probs, index=index, columns=["Y", "N", "A"])


def select_spec(
    votes: SeriesVotes,
    positions: pd.Series,
    groups: pd.Series,
    specs: Sequence[Spec] = SPECS,
    holdout: int = 3,
    fits: dict[tuple[Spec, int], SeriesFit] | None = None,
) -> tuple[Spec, list[dict[str, Any]]]:
    """The specification with the lowest out-of-sample log loss on the last ``holdout`` votes
    (each forecast from the votes before it; at least 2 earlier votes needed), and the table.
    ``fits``, if given, receives each fit by (specification, number of earlier votes)."""
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
            if fits is not None:
                fits[(spec, k)] = fit
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
