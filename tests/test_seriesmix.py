"""The series' own model mixed with the pooled regression: the engine's support that gives the
mixed probabilities, the mix weight chosen by likelihood, and a calibration that sees nothing on
or after its cut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.seriesfit import quadrature
from unsim.calibration.serieslevels import vote_probabilities
from unsim.calibration.seriesmix import MIX_WEIGHTS, mix_holdout, support_for


def _integrated(support: np.ndarray, band: float, sd: float) -> pd.DataFrame:
    nodes, weights = quadrature()
    p = np.einsum(
        "nkc,k->nc", vote_probabilities(support[:, None] + sd * nodes[None, :], band), weights
    )
    return pd.DataFrame(p, columns=["Y", "N", "A"])


@pytest.mark.parametrize(("band", "sd"), [(1.0, 0.0), (2.5, 0.8), (4.0, 1.5)])
def test_the_support_that_gives_a_states_probabilities_is_found(band: float, sd: float) -> None:
    truth = np.linspace(-8.0, 8.0, 41)
    found = support_for(_integrated(truth, band, sd), band, sd).to_numpy()
    np.testing.assert_allclose(found, truth, atol=0.051)  # the grid's step
    # and the engine's rule at the support found gives back the probabilities
    again = _integrated(found, band, sd).to_numpy()
    np.testing.assert_allclose(again, _integrated(truth, band, sd).to_numpy(), atol=0.02)


def _forecasts(n: int, rng: np.random.Generator) -> pd.DataFrame:
    index = pd.Index([f"S{i:04d}" for i in range(n)])
    return pd.DataFrame(rng.dirichlet([0.6, 0.6, 0.6], n), index=index, columns=["Y", "N", "A"])


@pytest.mark.parametrize("truth", ["own", "pooled"])
def test_the_mix_weight_goes_to_the_forecast_that_drew_the_votes(truth: str) -> None:
    """Votes drawn from one of two forecasts: the weight chosen by likelihood goes to it, and the
    habit stays small (the votes repeat the last one no more than the forecast says)."""
    rng = np.random.default_rng(11)
    own, pooled = _forecasts(3000, rng), _forecasts(3000, rng)
    source = own if truth == "own" else pooled
    u = rng.random(len(source))[:, None]
    cast = pd.Series(
        np.array(["Y", "N", "A"])[(u > source.cumsum(axis=1).to_numpy()).sum(axis=1)],
        index=source.index,
    )
    last = pd.Series(rng.choice(["Y", "N", "A"], len(cast)), index=cast.index)
    lam, h, _, rows = mix_holdout([own], [pooled], [cast], [last])
    assert [r["pooled_weight"] for r in rows] == list(MIX_WEIGHTS)
    assert lam == (0.0 if truth == "own" else 1.0), rows
    assert h < 0.05


@pytest.mark.slow
def test_the_calibration_never_sees_a_vote_on_or_after_its_cut(data_dir: Path) -> None:
    from unsim.calibration.idealpoint import IdealPointConfig
    from unsim.calibration.seriescal import build_series_calibration, calibrate_series
    from unsim.calibration.validation import load_real_data

    data = load_real_data(data_dir)
    cut = pd.Timestamp("2009-12-18")
    config = IdealPointConfig(sessions=4)

    def calibration(votes: pd.DataFrame) -> dict:
        sc = calibrate_series(votes, data.roll_calls, data.members, "PRK", cut, config=config)
        return build_series_calibration(sc, "t", {}).model_dump(mode="json")

    original = calibration(data.votes)
    assert original["behaviour"]["intercept"] is not None
    later = data.votes["date"] >= cut
    turned = data.votes.copy()
    turned.loc[later, "vote"] = turned.loc[later, "vote"].map({1: 3, 3: 1, 2: 8, 8: 2, 9: 9})
    assert calibration(turned) == original
