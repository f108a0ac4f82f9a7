"""Properties of the pure decision rules in ``unsim.model.rules``.

Every rule works on arrays whose last axis is replicates; the properties below are checked over
arrays drawn by Hypothesis (states x replicates), so they hold for one replicate and for a block.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from unsim.model import rules
from unsim.model.rules import Vote

F32 = np.float32
CODES = [int(v) for v in Vote]


@pytest.fixture(autouse=True, scope="module")
def _compiled_tanh() -> None:
    """The rules' tanh is compiled (numba) on its first call: once here, before the property
    tests, whose examples are timed against a deadline."""
    rules.present_tanh(np.zeros(1, F32), 0.5, 1.0)


# -- strategies -------------------------------------------------------------------------------
shapes = st.tuples(st.integers(1, 40), st.integers(1, 8))  # (states, replicates)


@st.composite
def vote_arrays(draw, shape=None):
    shape = shape or draw(shapes)
    return draw(hnp.arrays(np.int8, shape, elements=st.sampled_from(CODES)))


finite = st.floats(-8, 8, allow_nan=False, width=32)
bands = st.floats(0, 3, allow_nan=False)
noises = st.floats(0.1, 3, allow_nan=False)
probs = st.floats(0, 1, allow_nan=False, width=32)


@st.composite
def council_votes(draw):
    """(15, replicates) votes of the Council (no absences) and the mask of its 5 permanent
    members, placed anywhere among the 15."""
    reps = draw(st.integers(1, 6))
    votes = draw(
        hnp.arrays(np.int8, (15, reps), elements=st.sampled_from([Vote.YES, Vote.NO, Vote.ABSTAIN]))
    )
    perm_idx = draw(st.permutations(range(15)))[:5]
    permanent = np.zeros(15, dtype=bool)
    permanent[list(perm_idx)] = True
    return votes, permanent


def council_result(votes: np.ndarray, permanent: np.ndarray, procedural: bool) -> np.ndarray:
    counts = rules.tally(votes)
    perm_no = rules.tally(votes, permanent)[Vote.NO]
    return rules.council_adopted(counts[Vote.YES], perm_no, procedural)


# -- tally ------------------------------------------------------------------------------------
@given(vote_arrays(), st.data())
def test_tally_adds_up_to_the_membership(votes, data):
    n_states, n_reps = votes.shape
    counts = rules.tally(votes)
    assert counts.shape == (4, n_reps)
    assert (counts.sum(axis=0) == n_states).all()
    assert (counts >= 0).all()
    members = data.draw(hnp.arrays(np.bool_, n_states))
    sub = rules.tally(votes, members)
    assert (sub.sum(axis=0) == members.sum()).all()
    # the count of each code is the count of that code among the members
    for code in Vote:
        assert (sub[code] == (votes[members] == code).sum(axis=0)).all()


@given(vote_arrays(), st.randoms(use_true_random=False))
def test_relabelling_states_permutes_votes_and_keeps_tallies(votes, rnd):
    perm = np.array(rnd.sample(range(votes.shape[0]), votes.shape[0]))
    assert (rules.tally(votes[perm]) == rules.tally(votes)).all()


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float32, (n, 5), elements=finite),
            hnp.arrays(np.float32, (n, 1), elements=probs),
            hnp.arrays(np.float32, (n, 5), elements=st.floats(0, 1, exclude_max=True, width=32)),
            st.permutations(range(n)),
        )
    ),
    bands,
    noises,
)
def test_relabelling_states_permutes_cast_votes(args, band, noise):
    stance, absence, u, perm = args
    perm = np.asarray(perm)
    votes = rules.cast_votes(stance, band, noise, absence, u)
    permuted = rules.cast_votes(stance[perm], band, noise, absence[perm], u[perm])
    assert (permuted == votes[perm]).all()
    assert (rules.tally(permuted) == rules.tally(votes)).all()


# -- General Assembly majority ----------------------------------------------------------------
counts_ = st.integers(0, 193)


@given(counts_, counts_)
def test_simple_majority_is_more_yes_than_no(yes, no):
    adopted = bool(rules.majority_adopted(np.array([yes]), np.array([no]), "simple")[0])
    assert adopted == (yes > no)


@given(st.integers(0, 96))
def test_a_tie_fails(k):
    for majority in ("simple", "two_thirds"):
        assert not rules.majority_adopted(np.array([k]), np.array([k]), majority)[0]


@given(counts_, counts_)
def test_two_thirds_is_exact(yes, no):
    adopted = bool(rules.majority_adopted(np.array([yes]), np.array([no]), "two_thirds")[0])
    expected = yes > 0 and Fraction(yes, yes + no) >= Fraction(2, 3)
    assert adopted == expected


@given(st.integers(1, 64))
def test_two_thirds_boundary(k):
    """2k yes against k no is exactly two thirds: adopted; one yes fewer is not."""
    two_thirds = lambda y, n: bool(  # noqa: E731
        rules.majority_adopted(np.array([y]), np.array([n]), "two_thirds")[0]
    )
    assert two_thirds(2 * k, k)
    assert not two_thirds(2 * k - 1, k)
    assert not two_thirds(2 * k, k + 1)


@given(vote_arrays(), st.data())
def test_abstentions_and_absences_do_not_count_in_the_assembly(votes, data):
    """Turning abstentions into absences (or back) never changes a General Assembly result."""
    swap = data.draw(hnp.arrays(np.bool_, votes.shape))
    other = votes.copy()
    flip = swap & np.isin(votes, [Vote.ABSTAIN, Vote.ABSENT])
    other[flip] = np.where(votes[flip] == Vote.ABSTAIN, Vote.ABSENT, Vote.ABSTAIN)
    for majority in ("simple", "two_thirds"):
        a, b = rules.tally(votes), rules.tally(other)
        assert (
            rules.majority_adopted(a[0], a[1], majority)
            == rules.majority_adopted(b[0], b[1], majority)
        ).all()


@given(vote_arrays())
def test_pivotal_matches_brute_force(votes):
    counts = rules.tally(votes)
    adopted = rules.majority_adopted(counts[0], counts[1], "simple")
    got = rules.pivotal(votes, adopted, counts[0] - counts[1])
    for i in range(votes.shape[0]):
        for r in range(votes.shape[1]):
            v = votes[i, r]
            if adopted[r] and v == Vote.YES:
                flipped = not (counts[0, r] - 1 > counts[1, r] + 1)
            elif not adopted[r] and v == Vote.NO:
                flipped = counts[0, r] + 1 > counts[1, r] - 1
            else:
                flipped = False
            assert bool(got[i, r]) == flipped


# -- Security Council -------------------------------------------------------------------------
@given(council_votes())
def test_a_permanent_no_blocks_a_substantive_draft_and_never_a_procedural_one(cv):
    votes, permanent = cv
    yes = rules.tally(votes)[Vote.YES]
    substantive = council_result(votes, permanent, procedural=False)
    procedural = council_result(votes, permanent, procedural=True)
    vetoed = ((votes == Vote.NO) & permanent[:, None]).any(axis=0)
    assert not substantive[vetoed].any()
    assert (substantive[~vetoed] == (yes[~vetoed] >= 9)).all()
    # procedural: nine affirmative votes, whoever votes no
    assert (procedural == (yes >= 9)).all()


@given(council_votes(), st.data())
def test_an_abstention_never_blocks(cv, data):
    """Replacing a yes by an abstention can only cost that yes; replacing any no (permanent or not)
    by an abstention never turns an adopted draft into a rejected one."""
    votes, permanent = cv
    i = data.draw(st.integers(0, 14))
    for procedural in (True, False):
        before = council_result(votes, permanent, procedural)
        other = votes.copy()
        other[i][other[i] == Vote.NO] = Vote.ABSTAIN
        after = council_result(other, permanent, procedural)
        assert (after >= before).all()  # abstaining instead of voting no never blocks
    # a draft with nine yes and only abstentions otherwise is adopted, permanent or not
    all_abst = np.full((15, 1), Vote.ABSTAIN, dtype=np.int8)
    yes_idx = data.draw(st.permutations(range(15)))[:9]
    all_abst[list(yes_idx)] = Vote.YES
    assert council_result(all_abst, permanent, procedural=False)[0]


def test_darfur_2005_known_answer():
    """Resolution 1593 (2005): 11-0-4, China and the United States abstaining: adopted."""
    permanent = np.zeros(15, dtype=bool)
    permanent[:5] = True  # CHN, FRA, GBR, RUS, USA
    votes = np.full((15, 1), Vote.YES, dtype=np.int8)
    votes[[0, 4, 7, 9]] = Vote.ABSTAIN  # CHN, USA and two elected members
    assert council_result(votes, permanent, procedural=False)[0]
    votes[0] = Vote.NO  # a Chinese no instead: vetoed with 11 yes
    assert not council_result(votes, permanent, procedural=False)[0]
    assert council_result(votes, permanent, procedural=True)[0]
    votes[:] = Vote.YES
    votes[5:12] = Vote.ABSTAIN  # 8 yes: one short, with or without veto
    assert not council_result(votes, permanent, procedural=True)[0]


# -- the vote model ---------------------------------------------------------------------------
@given(finite, bands, noises, probs)
def test_vote_probabilities_are_a_distribution(stance, band, noise, absence):
    p = rules.vote_probabilities(np.array([stance], F32), band, noise, np.array([absence], F32))
    assert p.shape == (4, 1)
    assert (p >= -1e-6).all()
    assert abs(float(p.sum()) - 1.0) < 1e-5
    assert abs(float(p[Vote.ABSENT, 0]) - absence) < 1e-7


@given(finite, finite, bands, noises, probs)
def test_a_higher_stance_never_lowers_yes_nor_raises_no(s1, s2, band, noise, absence):
    lo, hi = sorted((s1, s2))
    a = np.array([absence], F32)
    p_lo = rules.vote_probabilities(np.array([lo], F32), band, noise, a)
    p_hi = rules.vote_probabilities(np.array([hi], F32), band, noise, a)
    assert p_hi[Vote.YES, 0] >= p_lo[Vote.YES, 0]
    assert p_hi[Vote.NO, 0] <= p_lo[Vote.NO, 0]


@settings(max_examples=40)
@given(
    hnp.arrays(np.float32, 5, elements=st.floats(-4, 4, width=32)),
    st.floats(0, 2),
    st.floats(0.2, 2),
    hnp.arrays(np.float32, 5, elements=st.floats(0, 0.5, width=32)),
)
def test_cast_votes_is_the_quantile_function_of_vote_probabilities(stance, band, noise, absence):
    """On an evenly spaced grid of uniforms, the share of each vote equals its probability up to
    the grid's resolution: cast_votes draws from exactly the distribution vote_probabilities
    states (no sampling error involved)."""
    n = 20_000
    u = ((np.arange(n, dtype=np.float64) + 0.5) / n).astype(F32)[None, :]
    votes = rules.cast_votes(stance[:, None], band, noise, absence[:, None], u)
    p = rules.vote_probabilities(stance, band, noise, absence)
    for code in Vote:
        share = (votes == code).mean(axis=1)
        assert np.abs(share - p[code]).max() <= 2.0 / n + 1e-5


def test_cast_votes_frequencies_match_vote_probabilities_with_random_uniforms():
    """Frequency check with a fixed seed: 200,000 draws per state; every frequency is within
    5 standard errors of its probability (and the test fails on a shifted distribution)."""
    rng = np.random.default_rng(20141118)
    stance = np.array([-3.0, -1.0, -0.5, 0.0, 0.4, 1.2, 2.5, 6.0], F32)[:, None]
    absence = np.array([0.0, 0.02, 0.3, 0.06, 0.0, 0.1, 0.5, 0.01], F32)[:, None]
    n = 200_000
    u = rng.random((len(stance), n), dtype=F32)
    band, noise = 1.0, 0.8
    votes = rules.cast_votes(stance, band, noise, absence, u)
    p = rules.vote_probabilities(stance[:, 0], band, noise, absence[:, 0])
    for code in Vote:
        freq = (votes == code).mean(axis=1)
        se = np.sqrt(np.maximum(p[code] * (1 - p[code]), 1e-12) / n)
        assert (np.abs(freq - p[code]) <= 5 * se + 1e-6).all(), (code, freq, p[code])
    # the same check is sharp enough to reject a stance shifted by 0.05
    p_shift = rules.vote_probabilities(stance[:, 0] + F32(0.05), band, noise, absence[:, 0])
    freq_yes = (votes == Vote.YES).mean(axis=1)
    se = np.sqrt(p_shift[Vote.YES] * (1 - p_shift[Vote.YES]) / n)
    assert (np.abs(freq_yes - p_shift[Vote.YES]) > 5 * se).any()


def test_cast_votes_extremes_are_certain():
    u = np.random.default_rng(1).random((3, 10_000), dtype=F32)
    stance = np.array([[60.0], [-60.0], [0.0]], F32)
    absence = np.array([[0.0], [0.0], [1.0]], F32)
    votes = rules.cast_votes(stance, 1.0, 1.0, absence, u)
    assert (votes[0] == Vote.YES).all()
    assert (votes[1] == Vote.NO).all()
    assert (votes[2] == Vote.ABSENT).all()


# -- stances ----------------------------------------------------------------------------------
@given(finite, st.floats(-2, 5, width=32))
def test_dropping_the_icc_language_removes_its_cost(support, aversion):
    s = np.array([support], F32)
    a = np.array([aversion], F32)
    assert rules.draft_stance(s, a, 0.0)[0] == pytest.approx(support)
    assert rules.draft_stance(s, a, 1.0)[0] == pytest.approx(support - aversion, abs=1e-5)
    assert rules.draft_stance(s, a, 0.5)[0] == pytest.approx(support - aversion / 2, abs=1e-5)


# -- lobbying and influence -------------------------------------------------------------------
@given(
    st.floats(0, 100),
    st.tuples(st.integers(1, 40), st.integers(1, 6)).flatmap(
        lambda s: hnp.arrays(np.float32, s, elements=st.floats(0, 10, width=32))
    ),
)
def test_allocate_sums_to_the_budget(budget, weights):
    out = rules.allocate(budget, weights)
    assert out.shape == weights.shape
    assert (out >= 0).all()
    total = weights.sum(axis=0)
    spent = out.sum(axis=0)
    has_weight = total > 1e-6
    np.testing.assert_allclose(spent[has_weight], budget, rtol=1e-4, atol=1e-4)
    # nothing is spent (and nothing is NaN) in a replicate where nobody has weight
    assert (out[:, total == 0] == 0).all()
    # shares are proportional to the weights
    for r in np.flatnonzero(has_weight):
        np.testing.assert_allclose(
            out[:, r], budget * weights[:, r] / total[r], rtol=1e-4, atol=1e-4
        )


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float32, (n, 3), elements=finite),
            hnp.arrays(np.float32, (n, 3), elements=finite),
            st.permutations(range(n)),
        )
    ),
    st.floats(0, 1),
)
def test_deliberate_with_zero_pressure_and_zero_pull_at_baseline_leaves_support_unchanged(
    args, rate
):
    support, other, _ = args
    zero = np.zeros_like(support)
    # a state at its baseline, with no pressure and no shift of its groups, stays where it is
    assert (rules.deliberate(support, support.copy(), zero, zero, rate) == support).all()
    # with rate 0 (no influence), zero pressure leaves any support unchanged
    assert (rules.deliberate(support, other, zero, np.full_like(other, 3.0), 0.0) == support).all()


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float32, (n, 3), elements=finite),
            hnp.arrays(np.float32, (n, 3), elements=finite),
        )
    ),
    st.floats(0, 1),
)
def test_deliberate_fixed_point_is_the_groups_shift(args, rate):
    """Zero pressure and a pull equal to the state's own shift (it already moved as its groups
    did): no change. Otherwise it closes ``rate`` of the gap to its groups' shift.

    Note: a zero pull on a state that has shifted is *not* a fixed point by design: the state moves
    back toward its groups' (zero) shift, which the docstring of ``deliberate`` states."""
    support, baseline = args
    zero = np.zeros_like(support)
    dev = support - baseline
    np.testing.assert_allclose(
        rules.deliberate(support, baseline, zero, dev, rate), support, rtol=1e-5, atol=1e-4
    )
    out = rules.deliberate(support, baseline, zero, zero, rate)
    np.testing.assert_allclose(out - baseline, (1 - rate) * dev, rtol=1e-4, atol=1e-3)


@given(
    st.integers(2, 20).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float32, (n, 3), elements=st.floats(-1, 1, width=32)),
            hnp.arrays(np.float32, (n, 4), elements=st.sampled_from([0.0, 1.0])),
            st.permutations(range(n)),
        )
    )
)
def test_group_pull_relabelling_and_uniform_shift(args):
    deviation, membership, perm = args
    perm = np.asarray(perm)
    rows = membership.sum(axis=1, keepdims=True)
    weights = np.where(rows > 0, membership / np.maximum(rows, 1), 0).astype(F32)
    pull = rules.group_pull(deviation, membership, weights)
    assert pull.shape == deviation.shape
    # relabelling states permutes the pull
    permuted = rules.group_pull(deviation[perm], membership[perm], weights[perm])
    np.testing.assert_allclose(permuted, pull[perm], rtol=1e-5, atol=1e-6)
    # if every state shifted by the same c, every state in some group is pulled by exactly c,
    # and a state in no group by nothing
    c = F32(0.75)
    uniform = rules.group_pull(np.full_like(deviation, c), membership, weights)
    in_group = rows[:, 0] > 0
    np.testing.assert_allclose(uniform[in_group], c, rtol=1e-5)
    assert (uniform[~in_group] == 0).all()


@given(hnp.arrays(np.float32, (7, 3), elements=probs))
def test_swing_is_in_unit_interval_and_peaks_at_one_half(p):
    s = rules.swing(p)
    assert ((s >= 0) & (s <= 1 + 1e-6)).all()
    np.testing.assert_allclose(s, rules.swing(1 - p), atol=1e-6)
    assert rules.swing(np.array([0.5], F32))[0] == pytest.approx(1.0)
    assume(((p > 0) & (p < 1)).any())
    inner = (p > 0) & (p < 1)
    assert (s[inner] > 0).all()


@settings(max_examples=60, deadline=None)
@given(
    stance=st.lists(st.floats(-30, 30, width=32), min_size=1, max_size=40),
    band=st.floats(0, 5),
    noise=st.floats(0.1, 5),
)
def test_tanh_form_agrees_with_the_probabilities(stance, band, noise):
    """present_tanh, swing_tanh (used in the rounds) and the logistic probabilities are one
    rule: P(yes) = (1 + t_yes) / 2, P(no) = (1 - t_no) / 2, swing = 1 - t_yes ** 2."""
    s = np.asarray(stance, dtype=np.float32)
    t_yes, t_no = rules.present_tanh(s, band, noise)
    p_yes = 1.0 / (1.0 + np.exp(-(s.astype(np.float64) - band) / noise))
    p_no = 1.0 / (1.0 + np.exp(-(-band - s.astype(np.float64)) / noise))
    np.testing.assert_allclose((1 + t_yes) / 2, p_yes, atol=1e-5)
    np.testing.assert_allclose((1 - t_no) / 2, p_no, atol=1e-5)
    py, pn = rules.present_probabilities(s, band, noise)
    np.testing.assert_allclose(py, p_yes, atol=1e-5)
    np.testing.assert_allclose(pn, p_no, atol=1e-5)
    np.testing.assert_allclose(rules.swing_tanh(t_yes), rules.swing(py), atol=1e-5)


def test_group_pull_with_offset_is_the_pull_of_the_deviation():
    rng = np.random.default_rng(3)
    membership = (rng.random((30, 4)) < 0.4).astype(np.float32)
    weights = membership / np.maximum(membership.sum(axis=1, keepdims=True), 1)
    support = rng.standard_normal((30, 7)).astype(np.float32)
    baseline = rng.standard_normal((30, 7)).astype(np.float32)
    direct = rules.group_pull(support - baseline, membership, weights)
    offset = rules.group_means(baseline, membership)
    np.testing.assert_allclose(
        rules.group_pull(support, membership, weights, offset=offset), direct, atol=1e-5
    )


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float32, (n, 64), elements=st.floats(-10, 10, width=32)),
            hnp.arrays(np.float32, (n, 64), elements=st.floats(0, 4, width=32)),
        )
    ),
    st.lists(st.tuples(st.integers(0, 63), st.sampled_from([0.5, 0.0])), max_size=64),
)
def test_draft_stance_for_any_mix_of_icc_factors(args, changed):
    """Few replicates with the language softened or dropped (fixed up column by column) or many
    (scaled throughout): the same stance as the formula."""
    support, icc = args
    factor = np.ones(64, dtype=F32)
    for col, f in changed:
        factor[col] = f
    expected = support.astype(np.float64) - icc.astype(np.float64) * factor
    np.testing.assert_allclose(rules.draft_stance(support, icc, factor), expected, atol=1e-5)
    np.testing.assert_allclose(rules.subtract_scaled(support, icc, None), support - icc, atol=0)
