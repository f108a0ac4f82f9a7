"""The compiled kernels of a round and of a vote are the plain rules of ``unsim.model.rules``.

Each kernel fuses several rules into one pass; each test below builds the same quantity from the
plain rules (NumPy's tanh, ``present_tanh``, ``deliberate``, ``cast_votes``, ``tally``...) on
arrays drawn by Hypothesis, and compares.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from unsim.model import UNModel, fastmath, kernels, rules
from unsim.model.kernel_args import argument_form
from unsim.model.rules import Vote
from unsim.model.stages import stage_named
from unsim.scenario import load_scenario

F32 = np.float32
TANH_ERROR = 4e-7  # the kernels' tanh against the exact tanh (NumPy's float32 tanh: 1.2e-7)


@pytest.mark.parametrize("bon", [0.0, 0.77, 5.0, 16.9, 17.5, 40.0])
def test_tanh_pair_is_the_tanh_of_both(bon):
    """tanh z and tanh(z + bon), from one exponential up to ``SHARED_LIMIT`` and from one each
    beyond: within ``TANH_ERROR``, monotone up to it, and exactly +-1 from +-8.7."""
    pair = kernels.pair_args(bon)
    assert (pair[1] is None) == (bon > kernels.SHARED_LIMIT)
    x = np.linspace(-60, 60, 1_200_001, dtype=F32)
    for got, arg in zip(kernels.tanh_pair_array(x, pair), (x, x + pair[0]), strict=True):
        exact = np.tanh(arg.astype(np.float64))
        assert np.abs(got - exact).max() < TANH_ERROR
        assert np.diff(got).min() >= -2 * TANH_ERROR
        # a state certain of its vote stays certain
        assert (got[arg >= 8.7] == 1).all() and (got[arg <= -8.7] == -1).all()


def test_the_rules_tanh_is_the_kernels_tanh():
    """``fastmath.tanh`` (the NumPy side's tanh) is within ``TANH_ERROR`` of the exact tanh,
    exactly +-1 from +-8.7, keeps the shape, and equals the kernels' tanh z bit for bit."""
    x = np.linspace(-30, 30, 600_001, dtype=F32)
    got = fastmath.tanh(x)
    assert got.dtype == F32
    assert np.abs(got - np.tanh(x.astype(np.float64))).max() < TANH_ERROR
    assert (got[x >= 8.7] == 1).all() and (got[x <= -8.7] == -1).all()
    np.testing.assert_array_equal(got, kernels.tanh_pair_array(x, kernels.pair_args(0.5))[0])
    assert fastmath.tanh(x[1:].reshape(3, -1)).shape == (3, 200_000)


@pytest.mark.parametrize("x", [0.0, 1e-9, 0.25, 1.54, 2.0, 7.3, 34.0, -3.1])
def test_exp_float32_is_correctly_rounded(x):
    """``pair_args``'s exp(2 bon) is the float32 nearest the exact exponential (no CPU's
    library exp decides it)."""
    from decimal import Decimal, localcontext

    got = fastmath.exp_float32(x)
    with localcontext() as ctx:
        ctx.prec = 50
        exact = Decimal(x).exp()
    assert got.dtype == F32
    for other in (np.nextafter(got, F32(0)), np.nextafter(got, F32(np.inf))):
        assert abs(Decimal(float(got)) - exact) < abs(Decimal(float(other)) - exact)


def test_pull_is_the_weighted_group_means():
    """``kernels.pull`` (the explanation's pull, summed in one order) is ``weights @
    (members.T @ x)``."""
    rng = np.random.default_rng(3)
    n, groups, r = 40, 6, 17
    membership, weights, member_csr = _csr_inputs(rng, n, groups)
    x = rng.standard_normal((n, r)).astype(F32)
    got = kernels.pull(member_csr, kernels.csr(weights), x, groups)
    want = weights.astype(np.float64) @ rules.group_means(x, membership).astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _form(stage: str, band: float, noise: float, bias: float, p: float = 1.0) -> np.ndarray:
    """``kernel_args.argument_form`` for the given parameters (the model's own; ``p`` the
    draft's clause pass-through)."""

    class Behaviour:
        vote_noise = noise
        abstention_band = band
        amendment_bias = bias
        no_action_bias = bias
        clause_pass_through = p

    return argument_form(Behaviour, stage_named(stage).item)  # type: ignore[arg-type]


def _draft(gap, use_gap, form, band, noise, presence, lobbied):
    return kernels.Draft(gap, use_gap, form, kernels.pair_args(band / noise), presence, lobbied)


def _observation(r, n, groups=3):
    return kernels.Observation(
        np.empty((3, r), F32), np.empty((groups, r), F32), np.empty((n, r), F32)
    )


def _plain_stance(stage, baseline, deviation, icc, factor, bias, pass_through=1.0):
    support = baseline + deviation
    if stage == "amendment":
        return rules.amendment_stance(support, icc, bias)
    if stage == "no_action_motion":
        return rules.no_action_stance(support, bias)
    return rules.draft_stance(support, icc, factor, pass_through)


arrays = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.float32, (n, 24), elements=st.floats(-15, 15, width=32)),  # baseline
        hnp.arrays(np.float32, (n, 24), elements=st.floats(-5, 5, width=32)),  # deviation
        hnp.arrays(np.float32, (n, 24), elements=st.floats(0, 4, width=32)),  # ICC aversion
    )
)
factors = st.lists(st.sampled_from([1.0, 0.5, 0.0]), min_size=24, max_size=24)


@settings(max_examples=60, deadline=None)
@given(
    arrays,
    factors,
    st.sampled_from(["third_committee", "amendment", "no_action_motion"]),
    st.floats(0, 3),
    st.floats(0.2, 3),
    st.floats(-2, 2),
    st.sampled_from([1.0, 0.0, 0.37]),
)
def test_argument_forms_are_the_stances(args, factor, stage, band, noise, bias, pass_through):
    """Every Assembly vote's tanh argument, as a kernel form of (deviation, clause cost,
    baseline, gap), is ``present_tanh``'s argument of the stance the rules define, the draft's
    with any clause pass-through; the cost is the ICC aversion less the clause deviation."""
    baseline, deviation, icc = args
    f = np.asarray(factor, dtype=F32)
    gap = (1 - f).astype(F32)
    use_gap = stage == "third_committee" and bool(gap.any())
    one = np.ones(deviation.shape[0], F32)
    form = _form(stage, band, noise, bias, pass_through)
    draft = _draft(gap, use_gap, form, band, noise, one, one)
    got = kernels.argument(kernels.Histories(deviation, icc, baseline), draft)
    stance = _plain_stance(stage, baseline, deviation, icc, f, bias, pass_through)
    stance = stance.astype(np.float64)
    expected = (stance - band) / (2 * noise)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-5)
    # the same cost as an aversion less a clause deviation
    clause = np.linspace(-1, 1, icc.size, dtype=F32).reshape(icc.shape)
    aversion = (icc + clause).astype(F32)
    own = kernels.argument(kernels.Histories(deviation, aversion, baseline, clause), draft)
    stance = _plain_stance(stage, baseline, deviation, aversion - clause, f, bias, pass_through)
    expected = (stance.astype(np.float64) - band) / (2 * noise)
    np.testing.assert_allclose(own, expected, rtol=2e-5, atol=2e-5)


def _csr_inputs(rng, n, groups):
    membership = (rng.random((n, groups)) < 0.4).astype(F32)
    rows = membership.sum(axis=1, keepdims=True)
    weights = np.where(rows > 0, membership / np.maximum(rows, 1), 0).astype(F32)
    sizes = np.maximum(membership.sum(axis=0), 1)
    return membership, weights, kernels.csr((membership / sizes).astype(F32))


@settings(max_examples=60, deadline=None)
@given(
    arrays,
    factors,
    st.floats(0, 3),
    st.floats(0.2, 3),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1.0, 0.4]),
)
def test_observe_is_the_expected_tally_swing_and_group_means(
    args, factor, band, noise, seed, pass_through
):
    baseline, deviation, icc = args
    n, r = deviation.shape
    rng = np.random.default_rng(seed)
    membership, _, member_csr = _csr_inputs(rng, n, 3)
    presence = rng.random(n).astype(F32)
    lobbied = rng.random(n).astype(F32)
    f = np.asarray(factor, dtype=F32)
    sums, group_means, swing = out = _observation(r, n)
    form = _form("plenary", band, noise, 0, pass_through)
    gap = (1 - f).astype(F32)
    draft = _draft(gap, bool(gap.any()), form, band, noise, presence, lobbied)
    kernels.observe(kernels.Histories(deviation, icc, baseline), draft, member_csr, out)
    stance = rules.draft_stance(baseline + deviation, icc, f, pass_through)
    p_yes, p_no = rules.present_probabilities(stance, band, noise)
    np.testing.assert_allclose(0.5 * (presence.sum() + sums[0]), presence @ p_yes, atol=1e-4)
    np.testing.assert_allclose(0.5 * (presence.sum() - sums[1]), presence @ p_no, atol=1e-4)
    np.testing.assert_allclose(swing, rules.swing(p_yes), atol=1e-5)
    np.testing.assert_allclose(sums[2], lobbied @ rules.swing(p_yes), atol=1e-4)
    np.testing.assert_allclose(
        group_means, rules.group_means(deviation, membership), rtol=1e-5, atol=1e-5
    )


@settings(max_examples=40, deadline=None)
@given(arrays, factors, st.floats(0, 3), st.floats(0.2, 3), st.integers(0, 2**32 - 1))
def test_start_is_the_plain_starting_state_and_its_observation(args, factor, band, noise, seed):
    """A block's start: the baseline as the plain rule forms it (the same numbers), the ICC
    aversion as stated, a zero deviation, and the observation ``observe`` makes of that state
    (with the states' own clause deviations where there are some)."""
    expected, noise_draws, icc = args
    n, r = noise_draws.shape
    rng = np.random.default_rng(seed)
    _, _, member_csr = _csr_inputs(rng, n, 3)
    presence, lobbied = rng.random(n).astype(F32), rng.random(n).astype(F32)
    sd = F32(0.7)
    gap = (1 - np.asarray(factor, dtype=F32)).astype(F32)
    draft = _draft(gap, True, _form("plenary", band, noise, 0), band, noise, presence, lobbied)
    hist = kernels.Histories(*(np.empty((n, r), F32) for _ in range(3)))
    deviation, aversion, baseline = hist[:3]
    sums, group_means, swing = out = _observation(r, n)

    def prior(loadings, group_of):
        return kernels.Prior(expected[:, 0].copy(), sd, icc[:, 0].copy(), loadings, group_of)

    none = prior(kernels.NO_LOADINGS, kernels.NO_GROUPS)
    kernels.start(none, noise_draws, kernels.NO_DRAWS, False, hist, draft, out)
    plain = expected[:, :1] + sd * noise_draws
    np.testing.assert_array_equal(baseline, plain)
    # with the calibration's draws: the level, two weights and the state's group shock
    loadings = rng.standard_normal((n, 4)).astype(F32)
    group_of = rng.integers(0, 2, n).astype(np.int64)
    draws = rng.standard_normal((5, r)).astype(F32)
    drawn = np.empty((n, r), F32)
    drawn_hist = kernels.Histories(np.empty((n, r), F32), np.empty((n, r), F32), drawn)
    kernels.start(
        prior(loadings, group_of), noise_draws, draws, True, drawn_hist, draft, _observation(r, n)
    )
    shocks = loadings[:, :3] @ draws[:3] + loadings[:, 3:] * draws[3 + group_of]
    np.testing.assert_allclose(drawn, plain + shocks, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(aversion, np.broadcast_to(icc[:, :1], (n, r)))
    assert (deviation == 0).all()
    # with each state's own clause deviation: it observes the clause cost, its aversion less it
    clause = rng.standard_normal((n, r)).astype(F32)
    own = kernels.Histories(*(np.empty((n, r), F32) for _ in range(3)), clause)
    seen = _observation(r, n)
    kernels.start(prior(kernels.NO_LOADINGS, kernels.NO_GROUPS), noise_draws,
                  kernels.NO_DRAWS, False, own, draft, seen)  # fmt: skip
    np.testing.assert_array_equal(own.aversion, aversion)
    cost = (icc[:, :1] - clause).astype(F32)
    plain_cost = _observation(r, n)
    kernels.observe(kernels.Histories(own.deviation, cost, plain), draft, member_csr, plain_cost)
    for got, want in zip(seen, plain_cost, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    again = _observation(r, n)
    kernels.observe(hist, draft, member_csr, again)
    for got, want in zip((sums, group_means, swing), again, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    arrays,
    factors,
    st.floats(0, 1),
    st.booleans(),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1.0, 0.4]),
)
def test_deliberate_is_the_deliberate_rule_with_the_rounds_pushes(
    args, factor, rate, observe_next, seed, pass_through
):
    """Support moves as ``rules.deliberate`` with the pressure swing x (pushes on the swung
    bases) + pushes on the others + custom pushes; the ICC aversion rises by its own pressure;
    with ``observe_next`` the kernel also observes the state it leaves, as ``observe`` would."""
    baseline, deviation, icc = args
    n, r = deviation.shape
    band, noise = 2.0, 1.3
    rng = np.random.default_rng(seed)
    membership, weights, member_csr = _csr_inputs(rng, n, 3)
    # few distinct bases, so that states share kinds
    bases = rng.random((3, len(kernels.BASES))).astype(F32)[rng.integers(0, 3, n)]
    bases[rng.random(n) < 0.3] = 0  # states no push reaches
    sizes = np.maximum(membership.sum(axis=0), 1)
    kinds = kernels.kinds(bases, (rate * weights).astype(F32), (membership / sizes).astype(F32))

    def pushes(p_zero, full):
        coefficients = rng.normal(size=(len(kernels.BASES), r)).astype(F32)
        coefficients[rng.random(len(kernels.BASES)) < p_zero] = 0  # bases not pushed this round
        if not full:
            return kernels.Pushes(coefficients, kernels.NO_ROWS, kernels.EMPTY_BASIS)
        rows = rng.integers(0, n, rng.integers(1, 2 * n + 1))  # some states, some twice
        return kernels.Pushes(coefficients, rows, rng.normal(size=(rows.size, r)).astype(F32))

    support_pushes = pushes(0.3, rng.random() < 0.5)
    icc_pushes = pushes(0.6, rng.random() < 0.3)
    f = np.asarray(factor, dtype=F32)
    form = _form("third_committee", band, noise, 0, pass_through)
    presence = rng.random(n).astype(F32)
    lobbied = rng.random(n).astype(F32)
    # the round starts from an observation
    sums, group_means, swing = out = _observation(r, n)
    gap = (1 - f).astype(F32)
    draft = _draft(gap, bool(gap.any()), form, band, noise, presence, lobbied)
    kernels.observe(kernels.Histories(deviation, icc, baseline), draft, member_csr, out)

    def pressure(coefficients, rows, full):
        k = kernels.SWUNG
        out = swing * (bases[:, :k] @ coefficients[:k]) + bases[:, k:] @ coefficients[k:]
        if rows.size:
            np.add.at(out, rows, full)
        return out

    support = baseline + deviation
    pull = rules.group_pull(deviation, membership, weights)
    expected_support = rules.deliberate(support, baseline, pressure(*support_pushes), pull, rate)
    expected_icc = icc + pressure(*icc_pushes)
    d, a = deviation.copy(), icc.copy()
    next_group_means = np.empty_like(group_means)
    kernels.deliberate(
        kernels.Histories(d, a, baseline), kinds,
        kernels.Round(F32(1 - rate), support_pushes, icc_pushes), group_means,
        observe_next, draft, kernels.Observation(sums, next_group_means, swing),
    )  # fmt: skip
    np.testing.assert_allclose(baseline + d, expected_support, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(a, expected_icc, rtol=1e-4, atol=1e-3)
    if observe_next:
        again = _observation(r, n)
        kernels.observe(kernels.Histories(d, a, baseline), draft, member_csr, again)
        for got, want in zip((sums, next_group_means, swing), again, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_deliberate_leaves_an_unmoved_state_exactly_where_it_was():
    n, r = 6, 10
    zero = np.zeros((n, r), dtype=F32)
    aversion = np.ones((n, r), dtype=F32)
    k = len(kernels.BASES)
    none = kernels.Pushes(np.zeros((k, r), F32), kernels.NO_ROWS, kernels.EMPTY_BASIS)
    kinds = kernels.kinds(
        np.ones((n, k), F32), np.full((n, 2), 0.1, dtype=F32), np.zeros((n, 2), F32)
    )
    means = np.zeros((2, r), dtype=F32)
    sums = np.empty((3, r), dtype=F32)
    draft = _draft(
        np.zeros(r, F32), False, np.zeros(7, F32), 1, 1, np.ones(n, F32), np.ones(n, F32)
    )
    kernels.deliberate(
        kernels.Histories(zero, aversion, zero), kinds, kernels.Round(F32(0.8), none, none),
        means, False, draft, kernels.Observation(sums, means.copy(), np.ones((n, r), F32)),
    )  # fmt: skip
    assert (zero == 0).all() and (aversion == 1).all()


@settings(max_examples=60, deadline=None)
@given(
    arrays,
    factors,
    st.sampled_from(["plenary", "amendment", "no_action_motion"]),
    st.floats(0, 3),
    st.floats(0.2, 3),
    st.integers(0, 2**32 - 1),
)
def test_votes_are_cast_votes_and_their_tally(args, factor, stage, band, noise, seed):
    """The same uniforms give the same votes as ``rules.cast_votes`` of the plain stance (except
    where a uniform falls within the two tanh's rounding of a threshold), ``counts`` is their
    ``tally``, and a vote on the draft observes it as ``observe`` does."""
    baseline, deviation, icc = args
    n, r = deviation.shape
    rng = np.random.default_rng(seed)
    absence = np.where(rng.random((n, 1)) < 0.3, 0, rng.random((n, 1)) * 0.3).astype(F32)
    u = rng.random((n, r), dtype=F32)
    f = np.asarray(factor, dtype=F32)
    bias = 0.4
    stance = _plain_stance(stage, baseline, deviation, icc, f, bias)
    expected = rules.cast_votes(stance, band, noise, absence, u)
    h = np.maximum((1 - absence[:, 0]) / 2, 1e-30).astype(F32)
    votes = np.empty((n, r), dtype=np.int8)
    counts = np.empty((4, r), dtype=np.int32)
    gap = (1 - f).astype(F32)
    draft = stage == "plenary"
    form = _form(stage, band, noise, bias)
    presence, lobbied = (1 - absence[:, 0]).astype(F32), rng.random(n).astype(F32)
    membership, _, member_csr = _csr_inputs(rng, n, 3)
    sizes = np.maximum(membership.sum(axis=0), 1)
    kinds = kernels.kinds(
        np.zeros((n, 4), F32), np.zeros((n, 3), F32), (membership / sizes).astype(F32)
    )
    observed = _observation(r, n)
    hist = kernels.Histories(deviation, icc, baseline)
    view = _draft(gap, draft, form, band, noise, presence, lobbied)
    ballot = kernels.Ballot(((1 - h) / h).astype(F32), (1 / h).astype(F32), u, votes, counts)
    kernels.votes(hist, view, ballot, draft, kinds, observed)
    np.testing.assert_array_equal(counts, rules.tally(votes))
    if draft:  # a vote on the draft observes it as ``observe`` does
        again = _observation(r, n)
        kernels.observe(hist, view._replace(use_gap=True), member_csr, again)
        # the group means are summed per kind of state here, per state there: they differ by
        # float32 rounding of sums of up to a dozen deviations of up to 15
        for got, want, atol in zip(observed, again, (1e-6, 2e-5, 1e-6), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=atol)
    # the thresholds of the plain rule (yes's, no's, and absence's where w is 1); a vote may
    # differ only within rounding of one of them
    t_yes, t_no = rules.present_tanh(stance, band, noise)
    w = ((1 - h)[:, None] - u) / h[:, None]
    margin = np.minimum(np.minimum(np.abs(t_yes - w), np.abs(t_no - w)), np.abs(1 - w))
    differ = votes != expected
    assert (margin[differ] < 1e-4).all(), (votes[differ], expected[differ])


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.float32, (15, 24), elements=st.floats(-15, 15, width=32)),
    st.floats(0, 3),
    st.floats(0.05, 3),
    st.integers(0, 2**32 - 1),
)
def test_cast_is_cast_votes_with_no_absence_and_its_tally(stance, band, noise, seed):
    """The Council's votes: the same uniforms give the votes of ``rules.cast_votes`` with no
    absence (except within rounding of a threshold), and ``counts`` is their tally."""
    n, r = stance.shape
    u = np.random.default_rng(seed).random((n, r), dtype=F32)
    expected = rules.cast_votes(stance, band, noise, np.zeros((1, 1), F32), u)
    votes, counts = np.empty((n, r), np.int8), np.empty((4, r), np.int32)
    half = F32(0.5 / noise)
    kernels.cast(stance, half, F32(band) * half, kernels.pair_args(band / noise), u, votes, counts)
    np.testing.assert_array_equal(counts, rules.tally(votes))
    assert (votes != rules.ABSENT).all()
    t_yes, t_no = rules.present_tanh(stance, band, noise)
    w = 1 - 2 * u
    margin = np.minimum(np.abs(t_yes - w), np.abs(t_no - w))
    differ = votes != expected
    assert (margin[differ] < 1e-4).all(), (votes[differ], expected[differ])


def test_votes_refuse_more_states_than_a_byte_counts():
    n, r = 256, 4
    z = np.zeros((n, r), F32)
    with pytest.raises(ValueError, match="at most 255"):
        one = np.ones(n, F32)
        kinds = kernels.kinds(np.zeros((n, 4), F32), np.zeros((n, 2), F32), np.zeros((n, 2), F32))
        kernels.votes(
            kernels.Histories(z, z, z),
            _draft(np.zeros(r, F32), False, np.zeros(7, F32), 1.0, 1.0, one, one),
            kernels.Ballot(one, one, z, np.empty((n, r), np.int8), np.empty((4, r), np.int32)),
            False, kinds, kernels.Observation(np.empty((3, r), F32), np.empty((2, r), F32), z),
        )  # fmt: skip


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("scenarios/icc_referral.yaml")


def test_model_rounds_match_the_plain_rules(scenario):
    """In the model itself: after the rounds, the kernels' observation of the draft is the plain
    rules' (expected yes share from ``present_probabilities`` of ``stances``)."""
    m = UNModel(scenario, replicates=64, seed=3, block=1)
    for _ in range(5):
        m.step()
    m.icc_status[:8] = 2  # some replicates with the language dropped
    m.observation.observed = False
    stance = m.stances("plenary")
    b = m.behaviour
    p_yes, p_no = rules.present_probabilities(stance, b.abstention_band, b.vote_noise)
    yes, no = m.presence @ p_yes, m.presence @ p_no
    np.testing.assert_allclose(m.expected_yes_share(), yes / (yes + no), atol=1e-5)
    np.testing.assert_allclose(m.swing(), rules.swing(p_yes), atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.integers(1, 70).flatmap(
            lambda r: st.tuples(
                hnp.arrays(np.int8, (n, r), elements=st.sampled_from([int(v) for v in Vote])),
                hnp.arrays(np.bool_, r),
            )
        )
    )
)
def test_state_counts_count_each_states_votes_where_held(args):
    votes, held = args
    expected = np.stack(
        [((votes == code) & held).sum(axis=1) for code in (rules.YES, rules.NO, rules.ABSTAIN)]
        + [((votes == rules.ABSENT) & held).sum(axis=1)],
        axis=1,
    )
    np.testing.assert_array_equal(kernels.state_counts(votes, held), expected)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.int16, (4, 50), elements=st.integers(0, 20)),
    hnp.arrays(np.bool_, 50),
)
def test_tally_histograms_are_the_bincounts_of_the_held_tallies(tallies, held):
    got = kernels.tally_histograms(*tallies, held, 21)
    for k in range(4):
        np.testing.assert_array_equal(got[k], np.bincount(tallies[k][held], minlength=21))
