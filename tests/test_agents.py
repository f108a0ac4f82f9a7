"""Each agent's decision rule, in plain Python over replicates, is what the compiled kernels apply;
the voting rules (``VoteRule``) are those of the Charter as ``unsim.model.rules`` states them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unsim.model import MemberState, TargetState, UNModel, VetoHolder, rules
from unsim.model.procedure import VoteRule
from unsim.model.stages import vote_rule
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(DEFAULT_SCENARIO)


def _differ_only_at_thresholds(got, want, stance, band, noise, absence, u):
    """Votes may differ only where a uniform falls within rounding of a threshold: yes's or no's
    (the kernels form tanh(z + band / noise) from exp(2 z) exp(2 band / noise), the rules from
    z + band / noise rounded to float32; both within 2.2e-7 of the exact tanh) or absence's
    (``u`` at the absence rate, where ``w`` is 1)."""
    t_yes, t_no = rules.present_tanh(stance, band, noise)
    h = np.maximum((1 - absence) / 2, 1e-30)
    w = ((1 - h) - u) / h
    margin = np.minimum(np.minimum(np.abs(t_yes - w), np.abs(t_no - w)), np.abs(1 - w))
    differ = got != want
    assert (margin[differ] < 1e-4).all()
    assert differ.mean() < 1e-3


@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 6),
    st.sampled_from(["no_action_motion", "amendment", "third_committee", "plenary"]),
)
def test_member_states_decide_as_the_compiled_vote(scenario, seed, rounds, stage):
    """``MemberState.decide`` (the plain rule, over every state and replicate) gives the votes of
    the model's compiled vote on random histories and uniforms."""
    m = UNModel(scenario, replicates=64, seed=seed, block=1)
    for _ in range(rounds):
        m.step()
    m.icc_status[: seed % 9] = 1 + seed % 2  # some replicates with softened or dropped language
    m.observation.observed = False
    u = np.random.default_rng(seed).random((m.n_states, m.n_replicates), dtype=np.float32)
    plain = MemberState.decide(m.member_states, stage, u, plain=True)
    compiled, counts = m.assembly_votes(stage, u)
    b = m.behaviour
    absence = m.params.traits.absence[:, None]
    _differ_only_at_thresholds(
        compiled, plain, m.stances(stage), b.abstention_band, b.vote_noise, absence, u
    )
    np.testing.assert_array_equal(counts, rules.tally(compiled))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["sc_agenda", "sc_referral"]))
def test_council_members_decide_as_the_compiled_vote(scenario, seed, stage):
    m = UNModel(scenario, replicates=64, seed=seed, block=2)
    m.step()
    seats = m.council_agents
    u = np.random.default_rng(seed).random((len(seats), m.n_replicates), dtype=np.float32)
    plain = MemberState.decide_in_council(seats, stage, u, plain=True)
    stance = np.stack([a.council_stance(stage) for a in seats])
    b = m.behaviour
    from unsim.model import kernels

    compiled = np.empty_like(plain)
    counts = np.empty((4, m.n_replicates), dtype=np.int32)
    half = np.float32(0.5 / b.vote_noise)
    kernels.cast(
        stance, half, np.float32(b.abstention_band) * half, m.compiled.pair, u, compiled, counts
    )
    zero = np.zeros((1, 1), dtype=np.float32)
    _differ_only_at_thresholds(compiled, plain, stance, b.abstention_band, b.vote_noise, zero, u)


def test_agents_are_grouped_by_kind_with_mesa(scenario):
    m = UNModel(scenario, replicates=2, seed=0)
    assert [a.index for a in m.member_states] == list(range(m.n_states))
    assert {a.iso3 for a in m.veto_holders} == set(m.world.security_council.permanent)
    assert all(isinstance(a, VetoHolder) for a in m.veto_holders)
    assert isinstance(m.member_states[m.target], TargetState)
    assert len(m.council_agents) == 15
    state = m.member_states[3]
    assert state.absence == pytest.approx(float(m.params.traits.absence[3]))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 193), st.integers(0, 193), st.sampled_from(["simple", "two_thirds"]))
def test_assembly_rule_needs_what_it_adopts(yes, no, majority):
    """A tally adopts iff it has at least the yes votes the rule says it needs (given yes + no
    present and voting, at least one voting yes), and one yes fewer fails."""
    rule = VoteRule(assembly=True, majority=majority)
    need = rule.needed_yes(yes, no)
    adopted = bool(rule.adopted(np.array([yes]), np.array([no]))[0])
    if yes + no:
        assert adopted == (yes >= need)
    assert rule.label in ("more yes than no", "2/3 of present and voting")


def test_council_rules_and_labels():
    agenda, referral = vote_rule("sc_agenda"), vote_rule("sc_referral")
    yes, perm_no = np.array([9, 9, 8]), np.array([0, 1, 0])
    np.testing.assert_array_equal(agenda.adopted(yes, perm_no), [True, True, False])
    np.testing.assert_array_equal(referral.adopted(yes, yes, perm_no), [True, False, False])
    assert (agenda.label, referral.label) == ("9 of 15", "9 of 15, no permanent no")
    assert agenda.needed_yes(15, 0) == referral.needed_for(3) == 9
    with pytest.raises(ValueError, match="permanent"):
        referral.adopted(yes, yes)
    assert vote_rule("plenary", "two_thirds").majority == "two_thirds"
    assert vote_rule("third_committee", "two_thirds").majority == "simple"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_simple_majority_pivotal_states_are_the_plain_rules(seed):
    """``VoteRule.pivotal`` of a simple-majority vote is ``rules.pivotal``."""
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, 4, (30, 40)).astype(np.int8)
    counts = rules.tally(votes)
    rule = vote_rule("plenary")
    adopted = rule.adopted(counts[0], counts[1])
    flips = rule.swings(adopted, counts[0], counts[1])
    got = rule.pivotal(votes, flips, np.zeros(30, dtype=bool))
    np.testing.assert_array_equal(got, rules.pivotal(votes, adopted, counts[0] - counts[1]))


def test_the_member_states_deliberate_together(scenario):
    """A round's deliberation moves every member state at once (their groups pull them
    together): ``MemberState.deliberate`` refuses a part of them, and on all of them moves the
    model's state as a round's deliberation does."""
    m = UNModel(scenario, replicates=8, seed=3)
    with pytest.raises(ValueError, match="deliberate together"):
        MemberState.deliberate(m.member_states[:3])
    before = m.deviation.copy()
    m.observation.now()
    m.shift("support", "receptive", np.full(8, 0.1, dtype=np.float32))
    MemberState.deliberate(m.member_states)
    assert not np.array_equal(m.deviation, before)
