"""Each state's own offset on a series: a state-specific persistence beyond its record.

The series' vote model (:mod:`.seriesfit`) places a state by its position and its record on the
series; a state that keeps abstaining although its position says yes, or keeps voting no where
its position says abstain, is then forecast away from what it does. Its offset ``u_i`` is a
random effect on its support, ``u_i ~ Normal(0, sd^2)``, estimated as the posterior mode given
the fitted levels, weights and band from the state's own present votes on the series (a vote
``k`` votes back weighs :data:`OFFSET_DECAY` ``** k``, so that an old habit fades). ``sd`` 0 is no
offset; it is chosen among :data:`OFFSET_SD_CANDIDATES` by out-of-sample log loss on the series'
last votes before the cut, each forecast from the votes before it (:func:`select_offset_sd`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from unsim.calibration.seriesfit import (
    CATEGORY,
    WEIGHTS,
    SeriesFit,
    SeriesVotes,
    Spec,
    fit_series,
    forecast_probabilities,
    observations,
)
from unsim.calibration.serieslevels import vote_probabilities

__all__ = [
    "OFFSET_DECAY",
    "OFFSET_SD_CANDIDATES",
    "fitted",
    "select_offset_sd",
    "state_offsets",
    "with_offsets",
]

#: Candidate sds of the states' offsets (0: none).
OFFSET_SD_CANDIDATES = (0.0, 0.5, 1.0, 2.0, 3.0)
#: Weight of a vote one step further back in a state's offset.
OFFSET_DECAY = 0.7
_NEWTON_STEPS = 30


def state_offsets(
    fit: SeriesFit, votes: SeriesVotes, positions: pd.Series, groups: pd.Series, sd: float
) -> pd.Series:
    """Each state's offset (posterior mode, prior sd ``sd``) given ``fit`` of ``votes``."""
    index = votes.letters.index
    if sd <= 0 or votes.letters.shape[1] == 0:
        return pd.Series(0.0, index=index)
    first = votes.letters.shape[1] - len(fit.levels) if len(fit.levels) else 0
    d = observations(votes, positions, groups, fit.spec).after(first)
    w = np.array([fit.params.get(k, 0.0) for k in WEIGHTS])
    band = fit.params["abstention_band"]
    part = d.terms @ w
    levels = fit.levels.to_numpy() if len(fit.levels) else _levels(d.vote, d.category, part, band)
    base = levels[d.vote] + part
    weight = OFFSET_DECAY ** (len(d.years) - 1 - d.vote).astype(np.float64)
    rows = np.arange(len(d.vote))
    n = len(index)

    def nll(u: np.ndarray) -> np.ndarray:
        """(observations,) each observed vote's negative log likelihood at the states' offsets
        ``u``."""
        p = vote_probabilities(base + u[d.state], band)[rows, d.category]
        return -np.log(np.maximum(p, 1e-300))

    u, h, prec = np.zeros(n), 1e-3, 1.0 / sd**2
    for _ in range(_NEWTON_STEPS):
        f0, fp, fm = nll(u), nll(u + h), nll(u - h)
        grad = np.bincount(d.state, weight * (fp - fm) / (2 * h), minlength=n)
        curv = np.bincount(d.state, weight * (fp - 2 * f0 + fm) / h**2, minlength=n)
        step = (grad + prec * u) / (np.maximum(curv, 0.0) + prec)
        u = np.clip(u - step, -10.0, 10.0)
        if float(np.abs(step).max()) < 1e-6:
            break
    return pd.Series(u, index=index)


def _levels(vote: np.ndarray, category: np.ndarray, part: np.ndarray, band: float) -> np.ndarray:
    """Each vote's level by maximum likelihood, the weights and band held (a borrowed fit has no
    levels of the series' own votes)."""
    out = []
    for v in range(int(vote.max()) + 1 if len(vote) else 0):
        sel = vote == v
        cat, s0 = category[sel], part[sel]

        def nll(level: float, cat: np.ndarray = cat, s0: np.ndarray = s0) -> float:
            """The negative log likelihood of one vote's votes at level ``level``."""
            p = vote_probabilities(s0 + level, band)[np.arange(len(cat)), cat]
            return float(-np.log(np.maximum(p, 1e-300)).sum())

        out.append(float(optimize.minimize_scalar(nll, bounds=(-15, 15), method="bounded").x))
    return np.asarray(out)


def with_offsets(
    fit: SeriesFit, votes: SeriesVotes, positions: pd.Series, groups: pd.Series, sd: float
) -> SeriesFit:
    """``fit`` with the states' offsets of prior sd ``sd`` (none when ``sd`` is 0)."""
    params = {**fit.params, "state_offset_sd": float(sd)}
    offsets = state_offsets(fit, votes, positions, groups, sd) if sd > 0 else None
    return dataclasses.replace(fit, params=params, offsets=offsets)


def fitted(
    fits: dict[tuple[Spec, int], SeriesFit] | None,
    spec: Spec,
    k: int,
    past: SeriesVotes,
    positions: pd.Series,
    groups: pd.Series,
) -> SeriesFit:
    """The fit of ``spec`` on the first ``k`` votes (``past``): from ``fits`` if made already,
    else made (and kept in ``fits``)."""
    fit = fits.get((spec, k)) if fits is not None else None
    if fit is None:
        fit = fit_series(past, positions, groups, spec)
        if fits is not None:
            fits[(spec, k)] = fit
    return fit


def select_offset_sd(
    votes: SeriesVotes,
    positions: pd.Series,
    groups: pd.Series,
    spec: Spec,
    holdout: int = 3,
    fits: dict[tuple[Spec, int], SeriesFit] | None = None,
) -> tuple[float, list[dict[str, Any]]]:
    """The offsets' sd with the lowest out-of-sample log loss on the last ``holdout`` votes of
    the series (each forecast from the votes before it, with the specification ``spec``; the
    fits already made, in ``fits``, are reused), and the table; 0 without at least two earlier
    votes to go on."""
    t = votes.letters.shape[1]
    targets = list(range(max(2, t - holdout), t))
    if not targets:
        return 0.0, []
    losses: dict[float, list[float]] = {sd: [] for sd in OFFSET_SD_CANDIDATES}
    for k in targets:
        past = votes.head(k)
        fit = fitted(fits, spec, k, past, positions, groups)
        col = votes.letters.iloc[:, k]
        present = col[col.isin(list(CATEGORY))]
        chosen = present.map(CATEGORY).to_numpy()
        for sd in OFFSET_SD_CANDIDATES:
            probs = forecast_probabilities(
                with_offsets(fit, past, positions, groups, sd),
                past,
                positions,
                list(present.index),
                votes.dates.iloc[k],
            ).to_numpy()
            p = probs[np.arange(len(present)), chosen]
            losses[sd].append(float(-np.log(np.maximum(p, 0.01)).mean()))
    rows = [
        {"state_offset_sd": sd, "log_loss": round(float(np.mean(v)), 5), "votes": len(targets)}
        for sd, v in losses.items()
    ]
    best = min(rows, key=lambda r: r["log_loss"])
    return float(best["state_offset_sd"]), rows
