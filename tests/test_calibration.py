"""Calibration: data loading, the ideal-point estimator, the behaviour fit and calibration files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.calibrate import (
    RecordedVotes,
    build_calibration,
    fit_behaviour,
    write_calibration,
)
from unsim.calibration.idealpoint import (
    CAT_ABSTAIN,
    CAT_NO,
    CAT_YES,
    MISSING,
    IdealPointConfig,
    IdealPoints,
    OrderedFit,
    fit_ordered,
)
from unsim.data import (
    ROLL_CALLS_FILE,
    dprk_plenary_roll_calls,
    load_members,
    load_roll_calls,
    load_votes,
)
from unsim.errors import DataNotFoundError, InputError
from unsim.scenario.loader import load_calibration

#: Correlation between true and recovered positions the estimator must reach on simulated votes.
RECOVERY_BOUND = 0.95


def _rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))


def simulate_votes(
    x: np.ndarray, n_roll_calls: int, rng: np.random.Generator, missing: float = 0.1
) -> np.ndarray:
    """Ordered-logit votes (0 no, 1 abstain, 2 yes, -1 missing) of states at positions ``x``."""
    d = x.shape[1]
    b = rng.normal(0.0, 1.5, size=(n_roll_calls, d))
    tau1 = rng.normal(-1.0, 1.0, size=n_roll_calls)
    tau2 = tau1 + rng.uniform(0.3, 1.5, size=n_roll_calls)
    eta = x @ b.T
    u = rng.random(eta.shape)
    p_no = 1.0 / (1.0 + np.exp(-(tau1 - eta)))
    p_not_yes = 1.0 / (1.0 + np.exp(-(tau2 - eta)))
    y = np.where(u < p_no, CAT_NO, np.where(u < p_not_yes, CAT_ABSTAIN, CAT_YES)).astype(np.int8)
    y[rng.random(y.shape) < missing] = MISSING
    return y


# --------------------------------------------------------------------------------------------
# The ideal-point estimator
# --------------------------------------------------------------------------------------------
def test_ideal_points_recover_known_positions_in_one_dimension() -> None:
    rng = _rng(1)
    truth = rng.standard_normal((120, 1))
    y = simulate_votes(truth, 300, rng)
    fit = fit_ordered(y, dims=1, seed=0)
    r = abs(np.corrcoef(fit.x[:, 0], truth[:, 0])[0, 1])
    assert r > RECOVERY_BOUND, f"correlation {r:.3f}"


def test_ideal_points_recover_a_two_dimensional_configuration() -> None:
    rng = _rng(2)
    truth = rng.standard_normal((120, 2))
    y = simulate_votes(truth, 400, rng)
    fit = fit_ordered(y, dims=2, seed=0)
    # identified up to rotation: each true dimension is a linear function of the estimate
    design = np.column_stack([fit.x, np.ones(len(truth))])
    for k in range(2):
        coef, *_ = np.linalg.lstsq(design, truth[:, k], rcond=None)
        r = np.corrcoef(design @ coef, truth[:, k])[0, 1]
        assert r > RECOVERY_BOUND, f"dimension {k + 1}: correlation {r:.3f}"


def test_ordered_fit_is_deterministic_for_a_seed() -> None:
    rng = _rng(3)
    y = simulate_votes(rng.standard_normal((40, 1)), 60, rng)
    a, b = fit_ordered(y, dims=1, seed=7), fit_ordered(y, dims=1, seed=7)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.log_likelihood == b.log_likelihood


def test_ordered_fit_rejects_bad_dimensions() -> None:
    with pytest.raises(InputError, match="1 or 2 dimensions"):
        fit_ordered(np.zeros((3, 3), dtype=np.int8), dims=3)


# --------------------------------------------------------------------------------------------
# The behaviour fit
# --------------------------------------------------------------------------------------------
def simulated_dprk_votes(
    params: dict[str, float], n_states: int = 150, n_votes: int = 5, seed: int = 0
) -> RecordedVotes:
    """Votes drawn from the engine's rule with a per-state deviation shared across votes."""
    rng = _rng(seed)
    position = rng.standard_normal(n_states)
    eps = rng.standard_normal(n_states)
    support = params["intercept"] + params["position_weight"] * position
    support += params["state_noise"] * eps
    band = params["abstention_band"]
    rows = []
    for v in range(n_votes):
        u = rng.random(n_states)
        p_yes = 1.0 / (1.0 + np.exp(-(support - band)))
        p_no = 1.0 / (1.0 + np.exp(-(-band - support)))
        letters = np.where(u < p_yes, "Y", np.where(u < p_yes + p_no, "N", "A"))
        for i in range(n_states):
            rows.append(
                {
                    "rcid": 100 + v,
                    "date": pd.Timestamp(2005 + v, 12, 15),
                    "iso3": f"S{i:02d}"[:3] if i < 100 else f"T{i - 100:02d}",
                    "vote": letters[i],
                    "position": position[i],
                    "absence": 0.05,
                }
            )
    return RecordedVotes(pd.DataFrame(rows))


TRUE_PARAMS = {"intercept": 1.0, "position_weight": 3.0, "abstention_band": 1.5, "state_noise": 1.0}


def test_behaviour_fit_recovers_the_parameters_of_simulated_votes() -> None:
    fit = fit_behaviour(simulated_dprk_votes(TRUE_PARAMS, n_states=150, n_votes=6), seed=0)
    for name, value in TRUE_PARAMS.items():
        assert fit.params[name] == pytest.approx(value, abs=0.6), name
    assert fit.converged


def _ideal_for(recorded: RecordedVotes) -> IdealPoints:
    t = recorded.table.drop_duplicates("iso3").set_index("iso3")
    fit = OrderedFit(
        x=np.zeros((1, 1)),
        b=np.zeros((1, 1)),
        tau1=np.zeros(1),
        tau2=np.zeros(1),
        log_likelihood=0.0,
        converged=True,
        iterations=0,
    )
    return IdealPoints(
        positions=t["position"],
        absence=t["absence"],
        coordinates=t[["position"]],
        before=pd.Timestamp("2014-11-18").date(),
        sessions=(59, 68),
        rcids=(1,),
        config=IdealPointConfig(),
        fit=fit,
    )


def test_calibration_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    recorded = simulated_dprk_votes(TRUE_PARAMS, n_states=60, n_votes=3, seed=4)
    ideal = _ideal_for(recorded)
    texts = []
    for k in range(2):
        fit = fit_behaviour(recorded, seed=11)
        cal = build_calibration(ideal, recorded, fit, "synthetic", {"command": "test"})
        path = write_calibration(cal, tmp_path / f"cal{k}.yaml")
        texts.append(path.read_text())
    assert texts[0] == texts[1]
    loaded = load_calibration(tmp_path / "cal0.yaml")
    assert loaded.kind == "calibration"
    assert set(loaded.behaviour) >= {"intercept", "position_weight", "abstention_band"}
    assert "icc_aversion" in loaded.diagnostics["not_identified"]
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left behind"


# --------------------------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------------------------
def test_missing_data_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="votes file not found"):
        load_votes(tmp_path / "nothing.csv.gz")


def test_malformed_votes_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("rcid,session,vote,ccode,date,hr\n1,1,1,2,1/1/1946,0\n1,1,7,20,1/1/1946,0\n")
    with pytest.raises(InputError, match=r"line 3, column 'vote'.*allowed: 1 \(yes\)"):
        load_votes(path)


def test_members_file_without_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("iso3,name\nUSA,United States\n")
    with pytest.raises(InputError, match="lacks column"):
        load_members(path)


def test_dprk_plenary_roll_calls_are_found_by_their_text(data_dir: Path) -> None:
    found = dprk_plenary_roll_calls(load_roll_calls(data_dir / ROLL_CALLS_FILE))
    assert found["rcid"].tolist() == [4604, 4725, 4813, 4882, 5029, 5108, 5133]
    assert found["date"].is_monotonic_increasing


def test_fit_behaviour_recovers_a_trend_in_support():
    """Votes simulated from known parameters with support rising 0.5 a year over six yearly
    votes: the fit recovers the trend (within 0.15) and the other parameters (within 25 %);
    with the trend switched off the likelihood is worse."""
    from unsim.calibration.calibrate import RecordedVotes, fit_behaviour

    rng = np.random.default_rng(11)
    n, years = 180, 6
    true = {"intercept": 1.0, "position_weight": 2.0, "abstention_band": 1.0, "state_noise": 0.8}
    trend = 0.5
    position = rng.standard_normal(n)
    eps = rng.standard_normal(n)
    rows = []
    for k in range(years):
        date = pd.Timestamp(f"{2005 + k}-12-15")
        level = true["intercept"] + trend * (k - (years - 1))
        support = level + true["position_weight"] * position + true["state_noise"] * eps
        p_yes = 1 / (1 + np.exp(-(support - true["abstention_band"])))
        p_no = 1 / (1 + np.exp(-(-true["abstention_band"] - support)))
        u = rng.random(n)
        vote = np.where(u < p_yes, "Y", np.where(u < p_yes + p_no, "N", "A"))
        rows.append(
            pd.DataFrame(
                {
                    "rcid": 100 + k,
                    "date": date,
                    "iso3": [f"S{i:03d}" for i in range(n)],
                    "vote": vote,
                    "position": position,
                    "absence": 0.0,
                }
            )
        )
    recorded = RecordedVotes(pd.concat(rows, ignore_index=True))
    fit = fit_behaviour(recorded, seed=0)
    assert abs(fit.params["trend"] - trend) < 0.15
    for key, value in true.items():
        assert abs(fit.params[key] - value) < 0.25 * abs(value) + 0.1, (key, fit.params[key])
    flat = fit_behaviour(recorded, seed=0, trend=False)
    assert "trend" not in flat.params
    assert flat.log_likelihood < fit.log_likelihood - 10
