"""How far unsim's scores are from a baseline's, and that gap's own noise.

A series' scores are means over its votes of means over the states; the gap between two methods
on a series can be smaller than what a different set of states and votes would have given. Per
vote, each state's score (accuracy 0 or 1, Brier score, log loss with the floor of
:data:`~.backtest.LOG_LOSS_FLOOR`) is paired between unsim and the baseline on the same state
(:func:`paired_vote`: the differences' count, mean and variance); over a series' votes
(:func:`paired_series`) the gap is the mean over the votes of the per-vote mean differences (the
difference of the two methods' scores as the tables show them) and its standard error:

- ``se``: the states' differences taken as independent draws, ``sqrt(sum_v var_v / n_v) / V``;
- ``se_votes``: the votes' mean differences taken as the independent draws,
  ``sd(mean_v) / sqrt(V)`` (it also carries what the states of one vote share, but rests on few
  votes: none with a single vote).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from unsim.calibration.backtest import LETTERS, per_state_scores

__all__ = ["PAIRED_BASELINES", "PAIRED_METRICS", "paired_series", "paired_vote", "state_scores"]

#: The baselines unsim is paired with (the targets' ones).
PAIRED_BASELINES = ("logit", "last_vote")
#: The per-state scores paired.
PAIRED_METRICS = ("accuracy", "brier", "logloss")


def state_scores(probabilities: pd.DataFrame, votes: pd.Series) -> dict[str, NDArray[np.float64]]:
    """Each state's accuracy, Brier score and log loss (:func:`.backtest.per_state_scores`), over
    the states of ``votes`` (recorded ``Y``, ``N``, ``A``, ``X``), in their order."""
    p = probabilities.reindex(votes.index)[list(LETTERS)].to_numpy(dtype=np.float64)
    actual = votes.map({k: i for i, k in enumerate(LETTERS)}).to_numpy(dtype=int)
    scores = per_state_scores(p, actual)
    return {"accuracy": scores["accuracy"], "brier": scores["brier"], "logloss": scores["log_loss"]}


def paired_vote(
    unsim: pd.DataFrame, baselines: Mapping[str, pd.DataFrame], votes: pd.Series
) -> dict[str, dict[str, dict[str, float]]]:
    """Per baseline and score: the count, mean and variance (``ddof=1``) of unsim's per-state
    score minus the baseline's, over the states recorded at the vote."""
    mine = state_scores(unsim, votes)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, probs in baselines.items():
        theirs = state_scores(probs, votes)
        out[name] = {}
        for k in PAIRED_METRICS:
            d = mine[k] - theirs[k]
            out[name][k] = {
                "n": int(d.size),
                "mean": float(d.mean()),
                "var": float(d.var(ddof=1)) if d.size > 1 else 0.0,
            }
    return out


def _gap(per_vote: Sequence[Mapping[str, float]]) -> dict[str, float | None]:
    means = np.array([v["mean"] for v in per_vote], dtype=np.float64)
    within = np.array([v["var"] / max(v["n"], 1) for v in per_vote], dtype=np.float64)
    n_votes = len(means)
    votes_se = float(means.std(ddof=1) / np.sqrt(n_votes)) if n_votes > 1 else None
    return {
        "diff": float(means.mean()),
        "se": float(np.sqrt(within.sum()) / n_votes),
        "se_votes": votes_se,
    }


def paired_series(
    per_seed: Mapping[Any, Sequence[Mapping[str, Any]]],
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per baseline and score, the gap unsim minus baseline over a series' votes and its
    standard errors (module docstring), each the mean over the seeds (``per_seed``: per seed,
    the votes' entries, each with its ``paired`` record from :func:`paired_vote`)."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for name in PAIRED_BASELINES:
        out[name] = {}
        for k in PAIRED_METRICS:
            gaps = [_gap([e["paired"][name][k] for e in rows]) for rows in per_seed.values()]
            merged: dict[str, float | None] = {}
            for key in ("diff", "se", "se_votes"):
                values = [float(x) for g in gaps if (x := g[key]) is not None]
                merged[key] = float(np.mean(values)) if values else None
            out[name][k] = merged
    return out
