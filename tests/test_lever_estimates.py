"""Known-answer tests of the levers' estimation: the pooled estimator recovers lever effects from
episodes simulated with known effects (intervals covering the truth at about the nominal rate,
estimates converging as episodes grow), a vote's level is recovered from votes simulated by the
vote model, and the tallies' probabilities are exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from unsim.calibration.levershift import VoteForecast, fit_level, forecast_scores
from unsim.calibration.metareg import control_bias, fit_meta

NAMES = ["a", "b", "c"]
BETA = np.array([-0.6, 0.4, 0.0])
TAU0, TAU_LEVER = 0.3, 0.2


def _episodes(
    rng: np.random.Generator, n: int, beta: np.ndarray = BETA, p_on: float = 0.25
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shifts of ``n`` episodes: sparse indicators of +-1, each shift the levers' effects plus
    the session's shock, the lever's own spread and a sampling error of known variance."""
    k = len(beta)
    x = (rng.random((n, k)) < p_on) * rng.choice([-1.0, 1.0], size=(n, k))
    v = rng.uniform(0.02, 0.2, n)
    s = (x * x).sum(axis=1)
    y = x @ beta + rng.normal(0.0, np.sqrt(TAU0**2 + TAU_LEVER**2 * s)) + rng.normal(0, np.sqrt(v))
    return y, v, x


def test_intervals_cover_known_lever_effects_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(20141118)
    reps, covered = 200, np.zeros(len(NAMES))
    for _ in range(reps):
        y, v, x = _episodes(rng, 60)
        fit = fit_meta(y, v, x, NAMES)
        for j, name in enumerate(NAMES):
            low, high = fit.interval(name)
            covered[j] += low <= BETA[j] <= high
    rate = covered / reps
    assert np.all((rate > 0.88) & (rate < 0.995)), rate
    assert 0.92 < rate.mean() < 0.975, rate


def test_estimates_converge_to_the_known_effects_as_episodes_grow() -> None:
    rng = np.random.default_rng(7)
    errors = {}
    taus = {}
    for n in (30, 480):
        fits = [fit_meta(*_episodes(rng, n), NAMES) for _ in range(40)]
        errors[n] = float(np.mean([np.abs(f.coef - BETA).mean() for f in fits]))
        taus[n] = np.mean([(f.tau0, f.tau_lever) for f in fits], axis=0)
    assert errors[480] < 0.45 * errors[30], errors
    assert errors[480] < 0.06
    assert abs(taus[480][0] - TAU0) < 0.05, taus
    assert abs(taus[480][1] - TAU_LEVER) < 0.08, taus


def test_a_lever_held_only_with_another_is_not_estimated_apart() -> None:
    rng = np.random.default_rng(3)
    y, v, x = _episodes(rng, 80)
    x = np.column_stack([x, x[:, 0]])  # "d" is held exactly where "a" is
    fit = fit_meta(y, v, x, [*NAMES, "d"])
    assert fit.estimated("a") != fit.estimated("d")
    assert any("not estimated apart" in note for note in fit.notes)
    missing = "d" if fit.estimated("a") else "a"
    assert fit.unestimated([1, 0, 0, 1]) == [missing]
    mean, var = fit.predict([0, 0, 0, 0])
    assert mean == 0.0 and var == 0.0


def test_controls_alone_measure_the_session_spread_and_the_forecast_bias() -> None:
    rng = np.random.default_rng(11)
    n = 400
    v = rng.uniform(0.02, 0.2, n)
    y = 0.25 + rng.normal(0, TAU0, n) + rng.normal(0, np.sqrt(v))
    x = np.zeros((n, 1))
    fit = fit_meta(y, v, x, ["a"])
    assert not fit.estimated("a")
    assert abs(fit.tau0 - np.sqrt(TAU0**2 + 0.25**2)) < 0.06  # no intercept: the bias is spread
    mean, se, k = control_bias(y, x)
    assert k == n and abs(mean - 0.25) < 3 * se


def _forecast(rng: np.random.Generator, n: int, habit: float) -> VoteForecast:
    last = rng.integers(-1, 3, n)
    return VoteForecast(
        states=[f"S{i}" for i in range(n)],
        base=rng.normal(0, 3.0, n),
        observed=np.zeros(n, dtype=np.intp),
        last=last.astype(np.intp),
        habit=habit,
        band=2.5,
        expected=0.0,
        expected_sd=0.2,
        session_sd=0.3,
        group_sd=0.0,
    )


def _simulate_votes(rng: np.random.Generator, f: VoteForecast, level: float) -> np.ndarray:
    from unsim.calibration.levershift import state_probabilities

    p = state_probabilities(f, level)
    u = rng.random(len(f.states))[:, None]
    return (u > np.cumsum(p, axis=1)).sum(axis=1).astype(np.intp)


def test_the_vote_level_is_recovered_from_votes_simulated_by_the_vote_model() -> None:
    rng = np.random.default_rng(5)
    hits, reps = 0, 120
    for _ in range(reps):
        f = _forecast(rng, 180, habit=0.25)
        level = float(rng.uniform(-2, 2))
        observed = _simulate_votes(rng, f, level)
        f = VoteForecast(**{**f.__dict__, "observed": observed})
        est, se = fit_level(f)
        assert 0.05 < se < 1.0
        hits += abs(est - level) <= 1.96 * se
    assert 0.88 < hits / reps <= 1.0


def test_the_tallies_probability_is_exact_on_a_small_vote() -> None:
    rng = np.random.default_rng(2)
    f = _forecast(rng, 5, habit=0.3)
    f = VoteForecast(**{**f.__dict__, "observed": np.array([0, 0, 1, 2, 0], dtype=np.intp)})
    from unsim.calibration.levershift import state_probabilities

    p = state_probabilities(f, 0.7)
    brute = sum(
        float(np.prod([p[i, c] for i, c in enumerate(combo)]))
        for combo in itertools.product(range(3), repeat=5)
        if combo.count(0) == 3 and combo.count(1) == 1
    )
    scores = forecast_scores(f, 0.7, 0.0)
    assert scores["tally_log_loss"] == pytest.approx(-np.log(brute), rel=1e-9)
    chosen = p[np.arange(5), f.observed]
    assert scores["log_loss"] == pytest.approx(float(-np.log(np.maximum(chosen, 0.01)).mean()))
    # a wider level spreads the tallies: the recorded one is less certain at its mode
    assert forecast_scores(f, 0.7, 4.0)["tally_log_loss"] != scores["tally_log_loss"]
