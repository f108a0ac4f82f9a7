"""Calibration: data loading and the ideal-point estimator (the series' vote model and its
calibration files: test_series.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from unsim.calibration.idealpoint import (
    CAT_ABSTAIN,
    CAT_NO,
    CAT_YES,
    MISSING,
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
