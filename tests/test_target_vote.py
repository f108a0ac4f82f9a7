"""The target's own vote on its resolution (from the targets' records) and the habit carried over
the sessions since a series' last recorded vote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.seriesgap import GapFit, fit_gap
from unsim.calibration.targetvote import fit_target_vote
from unsim.model import UNModel, rules, targetvote
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO


def _simulated_records(q: float, n_series: int, length: int, rng: np.random.Generator):
    """Records of targets that repeat their last vote with probability ``q`` and otherwise vote
    by fixed shares."""
    shares = np.array([0.05, 0.75, 0.1, 0.1])
    letters = np.array(list("YNAX"))
    records = {}
    for s in range(n_series):
        rec = [str(rng.choice(letters, p=shares))]
        for _ in range(length - 1):
            rec.append(rec[-1] if rng.random() < q else str(rng.choice(letters, p=shares)))
        records[f"S{s:02d}"] = rec
    return records


@pytest.mark.parametrize("q", [0.3, 0.8])
def test_the_repeat_chance_is_recovered_from_simulated_records(q):
    rng = np.random.default_rng(4)
    fit = fit_target_vote(_simulated_records(q, 60, 10, rng))
    assert 0 < fit.repeat_se < 0.1
    assert abs(fit.repeat - q) <= 2.5 * fit.repeat_se
    assert abs(sum(fit.pooled.values()) - 1.0) < 1e-12


def test_a_target_repeats_its_own_last_vote_most_and_the_shares_sum_to_one():
    fit = fit_target_vote({"AAA": list("NNNNN"), "BBB": list("NAAAA"), "CCC": list("NNXXX")})
    for code, most in (("AAA", "no"), ("BBB", "abstain"), ("CCC", "absent")):
        p = fit.probabilities(code)
        assert max(p, key=p.__getitem__) == most
        assert abs(sum(p.values()) - 1.0) < 1e-5
    # a target with no record votes by the pooled shares
    p = fit.probabilities("ZZZ")
    assert p["no"] == pytest.approx(fit.pooled["N"], abs=1e-6)


def _with_target_vote(shares: dict[str, float] | None):
    s = load_scenario(DEFAULT_SCENARIO)
    cal = s.calibration.model_copy(update={"target_vote": shares or {}})
    return s.model_copy(update={"calibration": cal})


def test_without_shares_the_target_votes_no_and_nothing_else_moves(monkeypatch):
    s = _with_target_vote(None)
    got = UNModel(s, replicates=256, seed=5).simulate()
    monkeypatch.setattr(
        targetvote, "apply_target_vote", lambda model, stage, votes, counts: (votes, counts)
    )
    want = UNModel(s, replicates=256, seed=5).simulate()
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value)


def test_the_target_abstains_as_its_shares_say_and_only_its_vote_changes():
    """The target's vote is drawn from a stream of its own: every other state's votes are those of
    the run where it votes no; its share of abstentions is its stated share; the tallies count
    it."""
    shares = {"yes": 0.0, "no": 0.3, "abstain": 0.7, "absent": 0.0}
    with_t = UNModel(_with_target_vote(shares), replicates=4000, seed=9)
    with_t.simulate()
    plain = UNModel(_with_target_vote(None), replicates=4000, seed=9)
    plain.simulate()
    t = with_t.params.roles.target
    for stage in ("third_committee", "plenary"):
        a, b = with_t.votes[stage], plain.votes[stage]
        others = np.ones(a.shape[0], dtype=bool)
        others[t] = False
        held = with_t.outcomes[f"{stage}_held"] & plain.outcomes[f"{stage}_held"]
        np.testing.assert_array_equal(a[others][:, held], b[others][:, held])
        abstains = (a[t, held] == rules.ABSTAIN).mean()
        assert abs(abstains - 0.7) < 4 * np.sqrt(0.7 * 0.3 / held.sum())
        assert set(np.unique(a[t, held])) <= {int(rules.NO), int(rules.ABSTAIN)}
        np.testing.assert_array_equal(
            with_t.outcomes[f"{stage}_abstain"][held], rules.tally(a)[2][held]
        )
    # one draw per run: the same vote at the committee and the plenary
    both = with_t.outcomes["plenary_held"]
    np.testing.assert_array_equal(
        with_t.votes["third_committee"][t, both], with_t.votes["plenary"][t, both]
    )


def test_target_vote_shares_must_sum_to_one():
    from unsim.scenario.schema import Calibration

    s = load_scenario(DEFAULT_SCENARIO)
    raw = s.calibration.model_dump()
    raw["target_vote"] = {"no": 0.5, "abstain": 0.2}
    with pytest.raises(ValueError, match="sum to 1"):
        Calibration.model_validate(raw)


def test_the_gap_fit_recovers_a_known_growth_and_carries_the_habit():
    rng = np.random.default_rng(2)
    c, k = 0.09, 0.9
    pairs = {}
    for g, n in ((1, 20000), (2, 3000), (3, 2000), (4, 2000)):
        pairs[g] = (n, int(rng.binomial(n, c * (1 + k * np.log(g)))))
    fit = fit_gap(pairs)
    assert fit.change == pytest.approx(c, abs=0.01)
    assert fit.growth == pytest.approx(k, abs=0.25)
    # one session apart the habit is the fitted one; it falls with the gap, never below 0
    assert fit.habit_at(0.6, 1) == pytest.approx(0.6)
    carried = [fit.habit_at(0.6, g) for g in (1, 2, 3, 6)]
    assert carried == sorted(carried, reverse=True) and carried[-1] >= 0.0
    repeat3 = 1 - fit.change * (1 + fit.growth * np.log(3))
    assert fit.habit_at(0.6, 3) == pytest.approx(0.6 * repeat3 / (1 - fit.change))
    # no pair more than a session apart: no growth
    assert fit_gap({1: (100, 10)}).growth == 0.0
    assert GapFit(0.1, 0.0, {}).habit_at(0.5, 4) == 0.5


def test_on_the_record_targets_repeat_and_changes_grow_with_the_gap(data_dir):
    """Before 18 November 2014: the DPRK voted no on every recorded vote of its series; the DR
    Congo's last votes before 2005 were abstentions; over the series a state changes its vote more
    often two sessions apart than one."""
    from unsim.calibration.seriesgap import gap_fit
    from unsim.calibration.targetvote import target_vote_fit
    from unsim.calibration.validation import load_real_data

    d = load_real_data(data_dir)
    cut = pd.Timestamp("2014-11-18")
    fit = target_vote_fit(d.votes, d.roll_calls, d.members, cut, "PRK")
    assert set(fit.records["PRK"]) == {"N"}
    assert fit.probabilities("PRK")["no"] > 0.9
    assert fit.records["COD"][-2] == "A"
    gap = gap_fit(d.votes, d.roll_calls, d.members, cut, "PRK")
    n1, c1 = gap.pairs[1]
    n2, c2 = gap.pairs[2]
    assert c2 / n2 > c1 / n1
    assert gap.growth > 0
