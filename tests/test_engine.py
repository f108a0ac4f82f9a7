"""The Monte Carlo engine: reproducibility across workers and executors, common random numbers,
the one-replicate path against the vectorised one, bounded memory, blocks, intervals."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from unsim.engine import DaskExecutor, plan_blocks, run
from unsim.model import UNModel, Vote
from unsim.results.stats import wilson_interval
from unsim.results.tables import _jsonable
from unsim.scenario import load_scenario
from unsim.scenario.schema import GA_STAGES

from .conftest import POINT_SCENARIO

SEED = 20141118
RUNS = 1300  # three blocks of 500, 500 and 300


def scenario(**overrides):
    """The DPRK draft with point values: the engine's mechanics at known values (the shipped
    scenario draws its levers; tests/test_levers.py has the draws)."""
    return load_scenario(POINT_SCENARIO, overrides={"simulation.block_size": 500, **overrides})


def same_summary(a: dict, b: dict) -> bool:
    return json.dumps(_jsonable(a), sort_keys=True) == json.dumps(_jsonable(b), sort_keys=True)


@pytest.fixture(scope="module")
def small():
    return scenario()


@pytest.fixture(scope="module")
def reference(small):
    """The default scenario in three blocks, one worker, fixed seed."""
    return run(small, runs=RUNS, seed=SEED, workers=1)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def assert_same_results(a, b):
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.per_state, b.per_state)
    assert same_summary(a.summary, b.summary)


# -- reproducibility --------------------------------------------------------------------------
def test_reference_has_three_blocks(reference):
    assert reference.metadata["blocks"] == 3
    assert len(reference.runs) == RUNS
    assert reference.runs["run"].tolist() == list(range(RUNS))


def test_same_seed_same_results_for_one_and_two_workers(small, reference):
    assert_same_results(reference, run(small, runs=RUNS, seed=SEED, workers=2))


@pytest.mark.slow
def test_same_seed_same_results_for_eight_workers():
    """Eight workers on eight blocks of 100 (more workers than cores): bit-identical tables to
    one worker. (Slow: eight new processes; one against two workers runs by default.)"""
    s = scenario(**{"simulation.block_size": 100})
    one = run(s, runs=800, seed=SEED, workers=1)
    try:
        assert_same_results(one, run(s, runs=800, seed=SEED, workers=8))
    finally:
        from unsim.engine.executors import shutdown_pools

        shutdown_pools()  # do not keep eight idle processes for the rest of the session


def test_same_seed_same_results_on_dask(small, reference, dask_client):
    res = run(small, runs=RUNS, seed=SEED, executor=DaskExecutor(dask_client))
    assert_same_results(reference, res)
    assert res.metadata["workers"] == "DaskExecutor"


def test_same_seed_same_results_when_run_again(small, reference):
    assert_same_results(reference, run(small, runs=RUNS, seed=SEED))


def test_different_seeds_give_different_runs(small, reference):
    other = run(small, runs=RUNS, seed=SEED + 1)
    a, b = reference.runs, other.runs
    assert not a.equals(b)
    # not just one column: most runs' committee tallies differ
    assert (a["third_committee_yes"] != b["third_committee_yes"]).mean() > 0.5
    assert other.seed == SEED + 1


def test_the_seed_is_recorded(small, reference):
    assert reference.seed == SEED
    assert reference.summary["seed"] == SEED
    assert reference.metadata["seed"] == SEED
    # no seed given: the scenario's own
    assert small.simulation.seed == SEED
    res = run(small, runs=50)
    assert res.seed == res.summary["seed"] == res.metadata["seed"] == SEED
    # none anywhere: a fresh one, recorded, which reproduces the run
    unseeded = scenario(**{"simulation.seed": None})
    first = run(unseeded, runs=50)
    recorded = first.metadata["seed"]
    assert isinstance(recorded, int)
    assert first.summary["seed"] == recorded == first.seed
    pd.testing.assert_frame_equal(first.runs, run(unseeded, runs=50, seed=recorded).runs)


def test_keep_runs_false_returns_no_run_table_and_the_same_aggregates(small, reference):
    res = run(small, runs=RUNS, seed=SEED, keep_runs=False)
    assert res.runs is None
    assert same_summary(res.summary, reference.summary)
    pd.testing.assert_frame_equal(res.per_state, reference.per_state)


def test_summary_agrees_with_the_run_table(reference):
    runs = reference.runs
    for name, key in (
        ("plenary_adopted", "plenary_adopted"),
        ("committee_adopted", "third_committee_adopted"),
        ("icc_retained", "icc_retained"),
        ("deception_exposed", "event_deception_exposed"),
    ):
        out = reference.outcome(name)
        assert out["n"] == RUNS
        assert out["p"] == pytest.approx(runs[key].mean())
        assert out["ci_low"] <= out["p"] <= out["ci_high"]
    mean_yes = reference.summary["tallies"]["third_committee"]["yes"]["mean"]
    held = runs["third_committee_held"]
    assert mean_yes == pytest.approx(runs.loc[held, "third_committee_yes"].mean())


# -- the one-replicate path -------------------------------------------------------------------
@pytest.mark.slow
def test_one_replicate_path_agrees_in_distribution_with_the_vectorised_path():
    """``simulation.block_size=1`` runs one ``UNModel(replicates=1)`` per run. 300 such runs
    against 6,000 vectorised ones (independent streams, fixed seeds): two-sample z statistics of
    mean committee and plenary yes, P(plenary adopted) and P(ICC retained) within 4 in absolute
    value (a false alarm has probability < 1e-4 per statistic), and a two-sample
    Kolmogorov-Smirnov test of the committee yes counts with p > 0.001. (About 8 s: runs by
    default.)"""
    one = run(scenario(**{"simulation.block_size": 1}), runs=300, seed=1).runs
    vec = run(scenario(**{"simulation.block_size": 6000}), runs=6000, seed=2).runs
    assert one is not None and vec is not None

    def z_mean(a, b):
        a, b = a.to_numpy(float), b.to_numpy(float)
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        return (a.mean() - b.mean()) / se

    def z_prop(a, b):
        a, b = a.to_numpy(bool), b.to_numpy(bool)
        p = (a.sum() + b.sum()) / (len(a) + len(b))
        se = math.sqrt(p * (1 - p) * (1 / len(a) + 1 / len(b)))
        if se == 0:  # the outcome is certain in both samples: they agree exactly
            return 0.0
        return (a.mean() - b.mean()) / se

    for col in ("third_committee_yes", "plenary_yes"):
        assert abs(z_mean(one[col], vec[col])) < 4, col
    for col in ("plenary_adopted", "icc_retained"):
        assert abs(z_prop(one[col], vec[col])) < 4, col
    ks = stats.ks_2samp(one["third_committee_yes"], vec["third_committee_yes"])
    assert ks.pvalue > 1e-3
    # the comparison has power: the same statistics tell the default scenario from one where
    # every state's support is 1 higher on the latent scale (the calibrated intercept is 1.99)
    shifted = run(
        scenario(**{"simulation.block_size": 6000, "behaviour.intercept": 2.99}),
        runs=6000,
        seed=2,
    ).runs
    assert abs(z_mean(one["third_committee_yes"], shifted["third_committee_yes"])) > 4
    assert stats.ks_2samp(one["third_committee_yes"], shifted["third_committee_yes"]).pvalue < 1e-3


def test_one_replicate_model_is_a_vectorised_model_of_one():
    """The same class, rules and streams: a one-replicate block returns arrays of length 1 with
    the same keys as a block of many."""
    s = scenario()
    one = UNModel(s, replicates=1, seed=3).simulate()
    many = UNModel(s, replicates=64, seed=3).simulate()
    assert one.keys() == many.keys()
    assert all(len(v) == 1 for v in one.values())
    assert all(len(v) == 64 for v in many.values())


# -- common random numbers --------------------------------------------------------------------
def test_identical_scenarios_give_identical_runs(reference):
    twin = run(scenario(), runs=RUNS, seed=SEED)
    assert_same_results(reference, twin)


def test_changing_one_strategy_parameter_changes_only_what_depends_on_it():
    """The deception's exposure penalty 0.3 -> 1.5 (strategy entry 3). Exposure is drawn from its
    own stream on a fixed schedule, so it happens in exactly the same runs and rounds. Hence:
    scheduled events (charm offensive, invitation offered, threats made) and exposure itself are
    equal in every run; every run in which the deception is never exposed is equal column for
    column; absences (one uniform per state and vote, absent iff below the state's absence
    probability) are equal wherever both versions held the vote; and the penalty does change
    something in the exposed runs."""
    # a hazard at which both exposed and unexposed runs are common
    hazard = {"actors.target.strategies[3].exposure_hazard": 0.1}
    base = run(scenario(**hazard), runs=RUNS, seed=SEED).runs
    s = scenario(**hazard, **{"actors.target.strategies[3].exposure_penalty": 1.5})
    assert s.actors.target.strategies[3].type == "deception"
    alt = run(s, runs=RUNS, seed=SEED).runs
    for ev in ("charm_offensive", "invitation_offered", "deception_exposed"):
        assert (base[f"event_{ev}"] == alt[f"event_{ev}"]).all(), ev
    exposed = base["event_deception_exposed"].to_numpy()
    assert 0.2 < exposed.mean() < 0.95  # both kinds of runs are there
    pd.testing.assert_frame_equal(base[~exposed], alt[~exposed])
    for stage in GA_STAGES:
        both = (base[f"{stage}_held"] & alt[f"{stage}_held"]).to_numpy()
        assert (base.loc[both, f"{stage}_absent"] == alt.loc[both, f"{stage}_absent"]).all()
    assert exposed.any()
    diff = base.loc[exposed, "third_committee_yes"] != alt.loc[exposed, "third_committee_yes"]
    assert diff.mean() > 0.3
    # the backlash is toward yes: on paired runs the committee yes count rises on average
    d = alt.loc[exposed, "third_committee_yes"] - base.loc[exposed, "third_committee_yes"]
    assert d.mean() > 0


def test_state_noise_and_vote_uniforms_do_not_depend_on_strategies():
    """At model level: the run-level state noise, the sponsors' judgement and the absences at the
    committee are the same whatever the strategies (and whether there are any)."""
    a = UNModel(scenario(), replicates=200, seed=9, block=2)
    b = UNModel(scenario(**{"actors.target.strategies": []}), replicates=200, seed=9, block=2)
    assert np.array_equal(a.baseline, b.baseline)
    assert np.array_equal(a.sponsor_judgement, b.sponsor_judgement)
    a.simulate()
    b.simulate()
    va, vb = a.votes["third_committee"], b.votes["third_committee"]
    assert np.array_equal(va == Vote.ABSENT, vb == Vote.ABSENT)
    assert not np.array_equal(va, vb)  # the strategies do change votes
    # another block draws other numbers
    c = UNModel(scenario(), replicates=200, seed=9, block=3)
    assert not np.array_equal(a.baseline, c.baseline)


def test_a_council_only_change_leaves_the_assembly_unchanged(reference):
    """Tabling the referral always (instead of if nine votes are expected) changes the Council
    and nothing before it: every column but the Council's (``sc_*``, ``veto_*``) is equal in every
    run (General Assembly tallies, ICC language, strategy events)."""
    alt = run(scenario(**{"procedure.council.table_referral": "always"}), runs=RUNS, seed=SEED)
    base = reference.runs
    council = ("sc_", "veto_", "lever:procedure.council.")  # and the Council's drawn numbers
    cols = [c for c in base.columns if not c.startswith(council)]
    assert len(cols) >= 35
    pd.testing.assert_frame_equal(base[cols], alt.runs[cols])
    assert not base["sc_referral_held"].equals(alt.runs["sc_referral_held"])


# -- blocks -----------------------------------------------------------------------------------
@given(st.integers(1, 10**6), st.integers(0, 2000), st.integers(0, 10**6))
def test_plan_blocks(block_size, full, extra):
    runs = max(1, block_size * full + extra % block_size)
    sizes = plan_blocks(runs, block_size)
    assert sum(sizes) == runs
    assert len(sizes) == math.ceil(runs / block_size)
    assert all(s == block_size for s in sizes[:-1])
    assert 1 <= sizes[-1] <= block_size


def test_plan_blocks_examples():
    assert plan_blocks(1300, 500) == [500, 500, 300]
    assert plan_blocks(1000, 500) == [500, 500]
    assert plan_blocks(1, 4096) == [1]


@given(st.integers(1, 3000), st.integers(1, 16))
def test_plan_shards_cover_every_block_once_in_order(n_blocks, workers):
    from unsim.engine.core import plan_shards

    sizes = [7] * (n_blocks - 1) + [3]
    shards = plan_shards(sizes, workers)
    assert [s for _, part in shards for s in part] == sizes
    assert [first for first, _ in shards] == list(np.cumsum([0] + [len(p) for _, p in shards[:-1]]))
    assert all(1 <= len(part) <= 4 for _, part in shards)
    if n_blocks >= 8 * workers * 4:  # enough blocks: at least eight tasks a worker
        assert len(shards) >= 8 * workers


def test_a_worker_reuses_its_model_across_tasks_of_a_run_without_changing_results():
    """Tasks of one run (same token) run on the model the worker kept from the previous task;
    the results equal those of fresh models."""
    import pickle

    from unsim.engine import blocks

    s = scenario()
    payload = pickle.dumps(s)
    first = blocks.block_task(("run-a", payload, SEED, 0, [500, 500], True))
    kept = blocks._WORKER.slot.model
    second = blocks.block_task(("run-a", payload, SEED, 2, [500], True))
    assert blocks._WORKER.slot.model is kept  # reused, not rebuilt
    fresh = blocks.simulate_shard(s, SEED, 2, [500], True)
    assert first.runs is not None and second.runs is not None and fresh.runs is not None
    for key, value in fresh.runs.items():
        np.testing.assert_array_equal(second.runs[key], value, err_msg=key)
    assert second.state_counts.keys() == fresh.state_counts.keys()
    for key, value in fresh.state_counts.items():
        np.testing.assert_array_equal(second.state_counts[key], value)
    blocks.block_task(("run-b", payload, SEED, 0, [500], False))  # a new run: a new model
    assert blocks._WORKER.slot.model is not kept
    blocks._WORKER.slot.release()


# -- confidence intervals ---------------------------------------------------------------------
def test_wilson_interval_covers_known_p_at_its_level():
    """20,000 binomial samples (n = 200, p = 0.1 and 0.5) with a fixed seed: the 95 % Wilson
    interval covers p in 93.5-96.5 % of them (the Monte Carlo standard error is 0.0015)."""
    rng = np.random.default_rng(SEED)
    n = 200
    for p in (0.1, 0.5):
        k = rng.binomial(n, p, size=20_000)
        intervals = [wilson_interval(x, n) for x in range(n + 1)]
        covered = np.array([lo <= p <= hi for lo, hi in intervals])[k].mean()
        assert 0.935 <= covered <= 0.965, (p, covered)
    # the plain Wald interval at p = 0.02, n = 50 covers far too rarely; Wilson does not
    k = rng.binomial(50, 0.02, size=20_000)
    intervals = [wilson_interval(x, 50) for x in range(51)]
    assert np.array([lo <= 0.02 <= hi for lo, hi in intervals])[k].mean() > 0.9


def test_wilson_interval_edges():
    lo, hi = wilson_interval(0, 100)
    assert lo == 0.0 and 0 < hi < 0.05
    lo, hi = wilson_interval(100, 100)
    assert hi == 1.0 and 0.95 < lo < 1
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_the_summary_interval_covers_a_known_probability(reference):
    """The deception (no schedule limit, not adaptive) acts in each of the 12 rounds until
    exposed: P(exposed) = 1 - (1 - hazard)**12 exactly. The summary's 95 % interval over the
    reference runs covers it."""
    deception = reference.scenario.actors.target.strategies[3]
    assert deception.type == "deception" and deception.adaptive is None
    p = 1 - (1 - deception.exposure_hazard) ** 12
    out = reference.outcome("deception_exposed")
    assert out["ci_low"] <= p <= out["ci_high"], (out, p)
    assert out["ci_high"] - out["ci_low"] < 0.06


# -- the per-state table ----------------------------------------------------------------------
def test_per_state_table(reference, small):
    """One row per state and General Assembly stage held (193), one per Council member at a
    Council stage (15); each row's probabilities sum to 1; the target votes as its calibrated
    shares say (``target_vote``); Council members are never absent."""
    ps = reference.per_state
    sums = ps[["p_yes", "p_no", "p_abstain", "p_absent"]].sum(axis=1)
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    committee = ps[ps["stage"] == "third_committee"]
    assert len(committee) == 193
    prk = committee.set_index("iso3").loc["PRK"]
    shares = small.calibration.target_vote
    assert shares  # the shipped calibration gives them
    n = prk["runs_held"]
    for name in ("yes", "no", "abstain", "absent"):
        p = shares.get(name, 0.0)
        assert abs(prk[f"p_{name}"] - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-9, (name, prk)
    assert prk["runs_held"] == reference.runs["third_committee_held"].sum()
    agenda = ps[ps["stage"] == "sc_agenda"]
    assert len(agenda) == 15
    assert (agenda["p_absent"] == 0).all()
    # summed over states, the per-state probabilities give back the tallies of the run table
    runs = reference.runs
    for stage in ("third_committee", "plenary", "sc_agenda"):
        rows = ps[ps["stage"] == stage]
        held = runs[f"{stage}_held"]
        for cat in ("yes", "no", "abstain"):
            expected = runs.loc[held, f"{stage}_{cat}"].sum()
            got = (rows[f"p_{cat}"] * rows["runs_held"]).sum()
            assert got == pytest.approx(expected, abs=1e-6), (stage, cat)


def test_finished_blocks_leave_no_model_alive():
    """Bounded memory: a block's model (agents, arrays) is freed when the block is done, so memory
    does not grow with the number of blocks."""
    import gc

    from unsim.engine.blocks import simulate_block

    def alive() -> set[int]:
        gc.collect()
        return {id(o) for o in gc.get_objects() if isinstance(o, UNModel)}

    before = alive()  # models other tests built by hand may still be around
    s = scenario()
    for b in range(5):
        simulate_block(s, SEED, b, 64, keep_runs=False)
    assert alive() <= before


@pytest.mark.parametrize(("majority", "intercept"), [("simple", -2.5), ("two_thirds", 1.0)])
def test_pivotal_counts_match_brute_force(majority, intercept):
    """A state is pivotal when switching its yes to no (adopted) or its no to yes (not adopted)
    flips the result; checked against recounting every such switch. Support is lowered so that
    plenary votes are close (for each majority, an intercept at which they are, the states' habit
    of repeating their last vote included)."""
    from unsim.engine.blocks import _pivotal_counts

    s = scenario(**{"behaviour.intercept": intercept, "resolution.majority": majority})
    model = UNModel(s, replicates=400, seed=5)
    out = model.simulate()
    votes = model.votes["plenary"]
    held = out["plenary_held"]
    yes = out["plenary_yes"].astype(int)
    no = out["plenary_no"].astype(int)

    def adopted(y, n):
        return (3 * y >= 2 * (y + n)) & (y > 0) if majority == "two_thirds" else y > n

    expected = np.zeros(votes.shape[0], dtype=np.int64)
    for r in np.flatnonzero(held):
        base = adopted(yes[r], no[r])
        assert base == out["plenary_adopted"][r]
        for i in range(votes.shape[0]):
            if votes[i, r] == Vote.YES:
                switched = adopted(yes[r] - 1, no[r] + 1)
            elif votes[i, r] == Vote.NO:
                switched = adopted(yes[r] + 1, no[r] - 1)
            else:
                continue
            expected[i] += int(switched != base)
    got = _pivotal_counts("plenary", votes, out, model)
    assert expected.sum() > 0  # close votes happened: the check is not vacuous
    np.testing.assert_array_equal(got, expected)
