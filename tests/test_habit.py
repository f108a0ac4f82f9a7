"""The habit of repeating one's last vote on the series: its fit recovers a known habit, its plain
rule and compiled pass agree, and no habit leaves the engine's results as they were."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.serieshabit import fit_habit, last_votes
from unsim.model import MemberState, UNModel, habit, rules, vote_kernels
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO


def _simulate(h: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Votes of ``n`` present states with model probabilities over (yes, no, abstain) and a last
    vote each, repeating it with probability ``h``: the model's probability of the vote cast
    and whether it repeated the last vote."""
    probs = rng.dirichlet([2.0, 1.0, 1.0], size=n)
    last = rng.integers(0, 3, size=n)
    by_model = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    chosen = np.where(rng.random(n) < h, last, by_model)
    return probs[np.arange(n), chosen], (chosen == last).astype(float)


@pytest.mark.parametrize("h", [0.0, 0.2, 0.6])
def test_habit_fit_recovers_a_known_habit_within_its_standard_error(h):
    rng = np.random.default_rng(7)
    fitted, se = fit_habit(*_simulate(h, 600, rng))
    assert 0 < se < 0.1
    assert abs(fitted - h) <= 2 * se
    # and its standard error is the spread of the estimate over repeated samples
    estimates = [fit_habit(*_simulate(h, 600, rng))[0] for _ in range(150)]
    if h > 0:  # (at the bound 0 the estimate is half the time 0: its spread is smaller)
        assert 0.7 * se < np.std(estimates) < 1.4 * se
    assert abs(np.mean(estimates) - h) < 0.5 * se


def test_habit_fit_is_zero_when_states_repeat_no_more_than_the_model_says():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.2, 0.9, size=300)
    repeated = np.zeros(300)  # nobody repeats its last vote
    assert fit_habit(p, repeated)[0] == 0.0


def test_last_votes_skip_absences_and_missing():
    letters = pd.DataFrame(
        {1: ["Y", "A", None, "N"], 2: ["X", "Y", None, None]}, index=["AAA", "BBB", "CCC", "DDD"]
    )
    got = last_votes(letters)
    assert got["AAA"] == "Y" and got["BBB"] == "Y" and got["DDD"] == "N"
    assert pd.isna(got["CCC"])


def test_plain_and_compiled_habit_agree():
    rng = np.random.default_rng(11)
    votes = rng.integers(0, 4, size=(40, 300)).astype(np.int8)
    last = rng.integers(-1, 3, size=40).astype(np.int8)
    chance = rng.uniform(0, 1, size=40).astype(np.float32)
    u = rng.integers(0, habit.HABIT_LEVELS, size=(40, 300), dtype=np.uint16)
    plain = habit.repeat_last(votes, last, chance, u)
    compiled = votes.copy()
    counts = np.full((4, 300), -1, dtype=np.int32)
    vote_kernels.repeat_last(compiled, last, chance, u, counts)
    np.testing.assert_array_equal(compiled, plain)
    np.testing.assert_array_equal(counts, rules.tally(plain))
    moved = plain != votes
    assert moved.any()
    assert (plain[moved] == np.broadcast_to(last[:, None], votes.shape)[moved]).all()
    assert (votes[moved] != rules.ABSENT).all()


def _with_habit(h: float):
    s = load_scenario(DEFAULT_SCENARIO)
    return s.model_copy(update={"behaviour": s.behaviour.model_copy(update={"habit": h})})


def _last_votes_of(m: UNModel) -> np.ndarray:
    cal = m.spec.calibration
    last = np.full(m.n_states, -1, dtype=np.int8)
    for code, state in cal.states.items():
        if code in m.spec.world.index and state.last_vote is not None:
            last[m.spec.world.index[code]] = "YNA".index(state.last_vote)
    last[m.params.roles.target] = -1
    return last


def test_no_habit_leaves_the_votes_unchanged(monkeypatch):
    """With habit 0 nothing is drawn and every vote is the model rule's own: the same as an
    engine with no habit step at all."""
    scenario = _with_habit(0.0)
    m = UNModel(scenario, replicates=256, seed=5)
    assert m.params.habit is None
    got = m.simulate()
    monkeypatch.setattr(habit, "habit_uniforms", lambda model, stage: None)
    bare = UNModel(scenario, replicates=256, seed=5)
    want = bare.simulate()
    assert got.keys() == want.keys()
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value)


def test_a_habit_moves_votes_only_to_the_last_vote():
    """The habit draws from a stream of its own: the model's other draws are unchanged, so a vote
    on the draft differs from the habit-free run only where the state repeats its last vote."""
    with_h = UNModel(_with_habit(0.5), replicates=256, seed=5)
    last = _last_votes_of(with_h)
    if not (last >= 0).any():
        pytest.skip("the default scenario's calibration gives no last votes")
    with_h.step()
    without = UNModel(_with_habit(0.0), replicates=256, seed=5)
    without.step()
    u = np.random.default_rng(1).random((with_h.n_states, 256), dtype=np.float32)
    a, counts = with_h.assembly_votes("plenary", u, habit.habit_uniforms(with_h, "plenary"))
    np.testing.assert_array_equal(counts, rules.tally(a))
    b, _ = without.assembly_votes("plenary", u)
    moved = a != b
    assert moved.any()
    assert (a[moved] == np.broadcast_to(last[:, None], a.shape)[moved]).all()


def test_member_states_decide_with_their_habit_as_the_compiled_vote():
    m = UNModel(_with_habit(0.4), replicates=128, seed=3)
    if m.params.habit is None:
        pytest.skip("the default scenario's calibration gives no last votes")
    m.step()
    rng = np.random.default_rng(9)
    u = rng.random((m.n_states, m.n_replicates), dtype=np.float32)
    hu = rng.integers(0, habit.HABIT_LEVELS, size=(m.n_states, m.n_replicates), dtype=np.uint16)
    plain = MemberState.decide(m.member_states, "plenary", u, hu, plain=True)
    compiled, counts = m.assembly_votes("plenary", u, hu)
    np.testing.assert_array_equal(counts, rules.tally(compiled))
    differ = plain != compiled
    assert differ.mean() < 1e-3  # (only at a threshold's rounding: see test_agents)


@pytest.mark.parametrize("name", ["dprk_2014", "iran_2014", "syria_2014"])
def test_shipped_calibrations_carry_the_habit_and_last_votes(name):
    """Each shipped calibration gives the habit with its standard error and each state's last
    vote on its series (the engine repeats nothing without them)."""
    from unsim.scenario.loader import load_calibration

    cal = load_calibration(DEFAULT_SCENARIO.parent / "calibration" / f"{name}.yaml")
    fitted = cal.diagnostics["estimates"]["habit"]
    h, se = fitted["value"], fitted["standard_error"]
    assert 0 < h < 1 and se is not None and 0 < se < 1
    # the habit the engine reads is the fitted one carried to the sessions since the last vote
    gap = cal.diagnostics["habit_gap"]
    assert gap["habit_one_session"] == h
    assert cal.behaviour["habit"] == gap["habit_carried"]
    assert (gap["habit_carried"] < h) == (gap["sessions_since_last_vote"] > 1)
    last = [s.last_vote for s in cal.states.values() if s.last_vote is not None]
    assert len(last) > 150 and set(last) <= {"Y", "N", "A"}
