"""Absences on a resolution series: each state's rate on comparable high-profile votes, and the
series' own absences on top.

:func:`fit_absence` gives each state's rate on the comparable votes (the other country-specific
human-rights resolutions of the window), shrunk toward its general absence rate scaled to these
votes (empirical Bayes, :data:`ABSENCE_PSEUDO_VOTES` pseudo-votes). :func:`series_absence`
spreads the series' own level of absences over the states by those rates and adds each state's
own absences on the series; :func:`select_absence` chooses the strength of that prior out of
sample on the series' last votes. :func:`absence_shock_sd` measures how much the number of absences
varies from vote to vote beyond independent absences; :func:`absence_shock_within` the same
around each series' own level, as the engine's ``absence_sd`` of a series whose level of absences
is its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ABSENCE_DECAY",
    "ABSENCE_PSEUDO_CANDIDATES",
    "ABSENCE_PSEUDO_VOTES",
    "SERIES_ABSENCE_PSEUDO_VOTES",
    "absence_shock_sd",
    "absence_shock_within",
    "fit_absence",
    "select_absence",
    "series_absence",
]

ABSENCE_PSEUDO_VOTES = 6.0
#: Weight of a comparable vote one session further back in the absence rates.
ABSENCE_DECAY = 0.6
#: Pseudo-votes of the prior (comparable votes) against a state's own absences on the series.
SERIES_ABSENCE_PSEUDO_VOTES = 3.0
#: Candidate strengths of the comparable votes' prior against a state's own absences.
ABSENCE_PSEUDO_CANDIDATES = (1.0, 3.0, 8.0)


def _weighted(absent: pd.DataFrame, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted memberships and absences of each state (rows) over the roll calls (columns)."""
    member = absent.notna().to_numpy(dtype=np.float64) * weight[None, :]
    hits = absent.fillna(False).astype(bool).to_numpy(dtype=np.float64) * weight[None, :]
    return member, hits


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
    member, hits = _weighted(absent, weight)
    n = pd.Series(member.sum(axis=1), index=absent.index)
    k = pd.Series(hits.sum(axis=1), index=absent.index)
    common = general.index.intersection(absent.index)
    total_n = float(n.reindex(common).sum())
    ratio = 1.0
    if total_n > 0:
        observed = float(k.reindex(common).sum()) / total_n
        expected = float((general.reindex(common) * n.reindex(common)).sum()) / total_n
        ratio = observed / expected if expected > 0 else 1.0
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
    member, hits = _weighted(series_absent, weight)
    level = float(hits.sum()) / max(float(member.sum()), 1e-12)
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


def select_absence(
    own: pd.DataFrame, propensity: pd.Series, ages: pd.Series, holdout: int = 3
) -> tuple[float, list[dict[str, float]]]:
    """The prior strength with the best out-of-sample log loss of absences on the series' last
    ``holdout`` votes (each from the votes before it); the default without enough votes."""
    t = own.shape[1]
    targets = list(range(max(1, t - holdout), t))
    if not targets:
        return SERIES_ABSENCE_PSEUDO_VOTES, []
    rows = []
    for k in ABSENCE_PSEUDO_CANDIDATES:
        losses = []
        for j in targets:
            rate, _ = series_absence(own.iloc[:, :j], propensity, ages, pseudo_votes=k)
            col = own.iloc[:, j].dropna()
            p = rate.reindex(col.index).fillna(float(rate.mean())).clip(0.01, 0.99)
            hit = col.astype(bool).to_numpy()
            losses.append(float(-np.log(np.where(hit, p, 1.0 - p)).mean()))
        rows.append({"pseudo_votes": k, "log_loss": round(float(np.mean(losses)), 5)})
    best = min(rows, key=lambda r: r["log_loss"])
    return float(best["pseudo_votes"]), rows


def _log_ratios(absent: pd.DataFrame, rates: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per roll call, ``log(absent / expected)`` (half a count added to each) and ``expected``
    (the counts' own, Poisson, variance of the ratio is about ``1 / (expected + 1/2)``)."""
    member = absent.notna()
    expected = (member.astype(float).mul(rates.reindex(absent.index).fillna(0.0), axis=0)).sum()
    count = absent.fillna(False).astype(bool).sum()
    r = np.log((count + 0.5) / (expected + 0.5))
    return r.astype(float), expected.astype(float)


def absence_shock_within(
    absent: pd.DataFrame,
    rates: pd.Series,
    series_of: pd.Series,
    own_weights: np.ndarray,
    min_dof: int = 3,
) -> tuple[float, dict[str, Any]]:
    """The sd of a vote's log multiplier of absences for a series whose level of absences is
    its own votes' weighted mean (:func:`series_absence`): the spread of ``log(absent /
    expected)`` around each comparable series' own mean, pooled over the series (a series with
    ``n`` votes gives ``n - 1`` degrees of freedom), beyond the counts' Poisson spread; plus the
    error of the series' own level, that spread and its own votes' Poisson spread over their
    effective number (``own_weights``: the weights :func:`series_absence` gives them).
    ``series_of``: each roll call's series. With fewer than ``min_dof`` degrees of freedom,
    :func:`absence_shock_sd` over every roll call (no series' own level)."""
    r, expected = _log_ratios(absent, rates)
    labels = series_of.reindex(r.index)
    ok = labels.notna()
    r, expected, labels = r[ok], expected[ok], labels[ok]
    level = r.groupby(labels).transform("mean")
    dev = r - level
    # the counts' own (binomial) spread at the series' own level of absences
    member = absent.loc[:, r.index].notna().to_numpy(dtype=np.float64)
    base = rates.reindex(absent.index).fillna(0.0).to_numpy(dtype=np.float64)
    p = np.clip(base[:, None] * np.exp(level.to_numpy())[None, :], 0.0, 0.95) * member
    poisson = pd.Series((p * (1.0 - p)).sum(axis=0) / (p.sum(axis=0) + 0.5) ** 2, index=r.index)
    dof = int((labels.groupby(labels).size() - 1).sum())
    w = np.asarray(own_weights, dtype=np.float64)
    n_eff = float(w.sum() ** 2 / (w**2).sum()) if w.size and (w**2).sum() > 0 else 0.0
    if dof < min_dof or n_eff <= 0:
        sd = absence_shock_sd(absent, rates)
        return sd, {"absence_sd_pooled_within_series": None, "fallback_all_votes": round(sd, 4)}
    within = float(dev @ dev) / dof
    excess = max(within - float(poisson.mean()), 0.0)
    level_var = within / n_eff
    sd = float(np.sqrt(excess + level_var))
    return sd, {
        "absence_sd_pooled_within_series": round(float(np.sqrt(excess)), 4),
        "within_series_dof": dof,
        "own_votes_effective": round(n_eff, 3),
        "level_error_sd": round(float(np.sqrt(level_var)), 4),
    }


def absence_shock_sd(absent: pd.DataFrame, rates: pd.Series) -> float:
    """The sd of a vote's log multiplier of absences: the spread of ``log(absent / expected)``
    over the roll calls of ``absent`` ((states x roll calls) True absent, False present, NaN not
    a member), ``expected`` the sum of the members' ``rates``, beyond the spread the counts'
    own (Poisson) variation gives (its mean ``1 / expected``); 0 with fewer than 3 roll calls."""
    r, expected = _log_ratios(absent, rates)
    if len(r) < 3:
        return 0.0
    excess = float(np.var(r.to_numpy(), ddof=1)) - float(np.mean(1.0 / (expected + 0.5)))
    return float(np.sqrt(max(excess, 0.0)))
