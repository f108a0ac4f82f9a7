"""The absence shock's sd around each series' own level (``seriesabsence.absence_shock_within``)
and the comparable roll calls it reads, all dated before the cut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.series import comparable_series_of
from unsim.calibration.seriesabsence import absence_shock_sd, absence_shock_within


def _simulated(
    shock_sd: float, level_sd: float, n_series: int = 8, n_votes: int = 6, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Absences of 150 states on ``n_series`` series of ``n_votes`` votes: each state's rate
    times a series' own level (log sd ``level_sd``) times a vote's shock (log sd ``shock_sd``)."""
    rng = np.random.default_rng(seed)
    states = [f"S{i:03d}" for i in range(150)]
    rates = pd.Series(rng.uniform(0.05, 0.35, len(states)), index=states)
    columns, labels = {}, {}
    for s in range(n_series):
        level = rng.normal(0.0, level_sd)
        for v in range(n_votes):
            rcid = 1000 * s + v
            m = np.exp(level + rng.normal(0.0, shock_sd))
            p = np.clip(rates.to_numpy() * m, 0.0, 0.95)
            columns[rcid] = rng.random(len(states)) < p
            labels[rcid] = f"C{s}"
    absent = pd.DataFrame(columns, index=states).astype(object)
    return absent, rates, pd.Series(labels)


@pytest.mark.parametrize("shock_sd", [0.15, 0.3, 0.5])
def test_the_within_series_spread_recovers_a_known_shock_sd(shock_sd: float) -> None:
    estimates = []
    for seed in range(4):
        absent, rates, labels = _simulated(shock_sd, level_sd=0.8, seed=seed)
        _, info = absence_shock_within(absent, rates, labels, np.ones(6))
        estimates.append(info["absence_sd_pooled_within_series"])
    assert np.mean(estimates) == pytest.approx(shock_sd, abs=0.06)


def test_the_series_levels_stay_out_of_the_shock_and_the_own_level_error_goes_in() -> None:
    absent, rates, labels = _simulated(0.3, level_sd=0.8, seed=7)
    # over every roll call, the series' different levels look like a shock
    assert absence_shock_sd(absent, rates) > 0.5
    sd1, info1 = absence_shock_within(absent, rates, labels, np.ones(1))
    sd6, info6 = absence_shock_within(absent, rates, labels, np.ones(6))
    within = info6["absence_sd_pooled_within_series"]
    assert within < 0.45
    # one own vote: its level is off by a vote's whole spread; six: by less
    assert sd1 > sd6 > within
    assert info1["own_votes_effective"] == pytest.approx(1.0)
    assert info6["own_votes_effective"] == pytest.approx(6.0)
    # weights 1, 0.6, 0.36 count as fewer votes than three
    _, info = absence_shock_within(absent, rates, labels, np.array([0.36, 0.6, 1.0]))
    assert 2.0 < info["own_votes_effective"] < 3.0


def test_too_few_votes_within_the_series_fall_back_to_the_spread_over_all() -> None:
    absent, rates, labels = _simulated(0.3, level_sd=0.8, n_series=2, n_votes=2, seed=3)
    sd, info = absence_shock_within(absent, rates, labels, np.ones(2))
    assert info["absence_sd_pooled_within_series"] is None
    assert sd == pytest.approx(absence_shock_sd(absent, rates))
    # no own vote: no own level either
    absent, rates, labels = _simulated(0.3, level_sd=0.8, seed=3)
    sd, info = absence_shock_within(absent, rates, labels, np.ones(0))
    assert sd == pytest.approx(absence_shock_sd(absent, rates))


def test_the_comparable_roll_calls_are_all_dated_before_the_cut(data_dir: Path) -> None:
    from unsim.data import ROLL_CALLS_FILE, load_roll_calls

    roll_calls = load_roll_calls(data_dir / ROLL_CALLS_FILE)
    cut = pd.Timestamp("2005-12-01")
    found = comparable_series_of(roll_calls, before=cut)
    dates = pd.to_datetime(roll_calls.set_index("rcid").loc[list(found), "date"])
    assert len(found) > 10 and (dates < cut).all()
    assert {"IRN", "COD", "SDN"} <= set(found.values())
    later = comparable_series_of(roll_calls, before=pd.Timestamp("2014-11-18"))
    assert set(found) < set(later)
