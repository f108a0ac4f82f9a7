"""The time split's per-state scores, paired between unsim and a baseline: the gap and its
standard errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.paired import paired_series, paired_vote, state_scores


def test_state_scores_and_paired_differences() -> None:
    votes = pd.Series(["Y", "N", "A", "X"], index=["AAA", "BBB", "CCC", "DDD"])
    sure = pd.DataFrame(np.eye(4), index=votes.index, columns=["Y", "N", "A", "X"])
    flat = pd.DataFrame(0.25, index=votes.index, columns=["Y", "N", "A", "X"])
    s = state_scores(sure, votes)
    np.testing.assert_allclose(s["accuracy"], 1.0)
    np.testing.assert_allclose(s["brier"], 0.0)
    np.testing.assert_allclose(s["logloss"], 0.0)
    f = state_scores(flat, votes)
    np.testing.assert_allclose(f["brier"], 0.75)
    np.testing.assert_allclose(f["logloss"], np.log(4.0))
    # the same forecast on both sides: no gap, no spread
    same = paired_vote(flat, {"logit": flat, "last_vote": sure}, votes)
    assert same["logit"]["brier"] == {"n": 4, "mean": 0.0, "var": 0.0}
    assert same["last_vote"]["brier"]["mean"] == pytest.approx(0.75)


def test_paired_series_gap_and_standard_errors() -> None:
    """The gap is the mean of the votes' mean differences; ``se`` from the states' variances,
    ``se_votes`` from the spread of the votes' means; each averaged over the seeds."""

    def entry(mean: float, var: float, n: int) -> dict:
        cell = {"n": n, "mean": mean, "var": var}
        return {"paired": {b: {k: cell for k in ("accuracy", "brier", "logloss")}
                           for b in ("logit", "last_vote")}}  # fmt: skip

    rows = [entry(0.01, 0.04, 100), entry(0.03, 0.09, 100)]
    out = paired_series({0: rows, 1: rows})["logit"]["brier"]
    assert out["diff"] == pytest.approx(0.02)
    assert out["se"] == pytest.approx(np.sqrt(0.04 / 100 + 0.09 / 100) / 2)
    assert out["se_votes"] == pytest.approx(np.std([0.01, 0.03], ddof=1) / np.sqrt(2))
    single = paired_series({0: rows[:1]})["last_vote"]["accuracy"]
    assert single["se_votes"] is None and single["se"] == pytest.approx(0.02)
