"""Sessions: several drafts run together on common random numbers, with what links them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from unsim.engine import run
from unsim.errors import ScenarioError
from unsim.scenario import load_scenario
from unsim.session.expr import ExpressionError, evaluate, parse
from unsim.session.load import load_session
from unsim.session.output import compare_sessions
from unsim.session.run import draft_seed, run_session

from .conftest import SCENARIOS

RUNS = 512
BLOCK = 256


def _session(
    tmp_path: Path, drafts: dict[str, Any], factor: float, shock: float, **extra: Any
) -> Path:
    data = {
        "schema_version": 1,
        "kind": "session",
        "name": "test_session",
        "date": "2014-11-18",
        "world": str(SCENARIOS / "worlds" / "un_2014.yaml"),
        "drafts": drafts,
        "linkage": {
            "state_factor": {"sd": factor, "source": "test"},
            "session_shock": {"sd": shock, "source": "test"},
        },
        "simulation": {"runs": RUNS, "seed": 7, "block_size": BLOCK},
        **extra,
    }
    path = tmp_path / f"session_{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


IRAN = str(SCENARIOS / "iran_2014.yaml")
SYRIA = str(SCENARIOS / "syria_2014.yaml")


def test_a_session_of_one_draft_is_that_draft_bit_for_bit(tmp_path: Path) -> None:
    """With the linkage off, the draft of a one-draft session gives what the draft gives alone
    on the seed the session gives it: every run-table column, bit for bit."""
    res = run_session(load_session(_session(tmp_path, {"iran": IRAN}, 0.0, 0.0)))
    seed = draft_seed(7, "iran")
    assert res.draft_seeds == {"iran": seed}
    alone = run(load_scenario(IRAN, [f"simulation.block_size={BLOCK}"]), RUNS, seed)
    assert alone.runs is not None and res.drafts["iran"].runs is not None
    pd.testing.assert_frame_equal(res.drafts["iran"].runs, alone.runs)
    table = res.table
    np.testing.assert_array_equal(table["iran.plenary_yes"], alone.runs["plenary_yes"])
    assert res.drafts["iran"].summary["tallies"] == alone.summary["tallies"]


def test_linkage_changes_support_but_not_the_drafts_own_draws(tmp_path: Path) -> None:
    """With a linkage, the draft's tallies move (a factor of sd 1 per state); its own draws are
    the same: the ICC language and every drawn lever column are those it has alone."""
    off = run_session(load_session(_session(tmp_path, {"iran": IRAN}, 0.0, 0.0)))
    on = run_session(load_session(_session(tmp_path, {"iran": IRAN}, 1.0, 0.5)))
    a, b = off.drafts["iran"].runs, on.drafts["iran"].runs
    assert a is not None and b is not None
    assert (a["plenary_yes"] != b["plenary_yes"]).mean() > 0.5
    levers = [c for c in a.columns if c.startswith("lever:")]
    assert levers
    pd.testing.assert_frame_equal(a[levers], b[levers])


def test_without_linkage_the_drafts_tallies_are_uncorrelated(tmp_path: Path) -> None:
    """Each draft runs on its own seed: with the linkage off, the correlation of two drafts'
    plenary yes tallies is within sampling error of zero (|r| < 4 / sqrt(n)); with a session
    shock it is clearly positive."""
    drafts = {"iran": IRAN, "syria": SYRIA}
    off = run_session(load_session(_session(tmp_path, drafts, 0.0, 0.0)), runs=2048)
    c = off.summary["plenary_yes_correlation"]["iran~syria"]
    assert abs(c["r"]) < 4 / np.sqrt(c["n"])
    assert c["ci_low"] < 0 < c["ci_high"] or abs(c["r"]) < 3 / np.sqrt(c["n"])
    on = run_session(load_session(_session(tmp_path, drafts, 0.0, 1.0)), runs=2048)
    r = on.summary["plenary_yes_correlation"]["iran~syria"]
    assert r["ci_low"] > 4 / np.sqrt(r["n"])


def test_same_results_for_any_worker_count(tmp_path: Path) -> None:
    loaded = load_session(_session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.8, 0.3))
    one = run_session(loaded, runs=RUNS)
    two = run_session(loaded, runs=RUNS, workers=2)
    pd.testing.assert_frame_equal(one.table, two.table)


def test_the_vote_copula_gives_the_same_results_for_any_worker_count(tmp_path: Path) -> None:
    """With the vote copula, 1 and 2 workers give the same run tables (blocks of 128 runs)."""
    drafts = {"iran": IRAN, "syria": SYRIA}
    loaded = load_session(_copula(tmp_path, drafts, 0.6, RUNS, block_size=128))
    one = run_session(loaded, runs=RUNS)
    two = run_session(loaded, runs=RUNS, workers=2)
    pd.testing.assert_frame_equal(one.table, two.table)
    for name in drafts:
        a, b = one.drafts[name].runs, two.drafts[name].runs
        assert a is not None and b is not None
        pd.testing.assert_frame_equal(a, b)


def test_a_draft_is_paired_with_itself_across_a_comparison(tmp_path: Path) -> None:
    """Two sessions that differ in one draft (Syria's rounds): the draft they share (Iran) has
    the same numbers run by run, so its paired difference is exactly zero."""
    a = _session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.5, 0.2)
    syria = yaml.safe_load(Path(SYRIA).read_text())
    syria["world"] = str(SCENARIOS / "worlds" / "un_2014.yaml")
    syria["calibration"] = str(SCENARIOS / "calibration" / "syria_2014.yaml")
    syria["simulation"]["rounds"]["plenary"] = 0
    syria["simulation"]["rounds"]["third_committee"] = 0
    b = _session(tmp_path, {"iran": IRAN, "syria": syria}, 0.5, 0.2)
    ra, rb = run_session(load_session(a)), run_session(load_session(b))
    table = compare_sessions(ra, rb).set_index("outcome")
    assert table.loc["iran.plenary_yes", "diff"] == 0.0
    assert table.loc["iran.plenary_yes", "ci_low"] == 0.0
    assert (ra.table["syria.plenary_yes"] != rb.table["syria.plenary_yes"]).any()


def test_joint_outcomes_agree_with_the_columns(tmp_path: Path) -> None:
    outcomes = {
        "both": "iran.adopted and syria.adopted",
        "gap": "iran.plenary_yes - syria.plenary_yes",
        "close": "not (iran.plenary_yes >= 80) or syria.plenary_no > 20",
    }
    path = _session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.5, 0.2, joint_outcomes=outcomes)
    res = run_session(load_session(path))
    t, j = res.table, res.summary["joint_outcomes"]
    assert j["both"]["p"] == pytest.approx((t["iran.adopted"] & t["syria.adopted"]).mean())
    assert j["both"]["p"] == res.summary["all_adopted"]["p"]
    gap = (t["iran.plenary_yes"].astype(float) - t["syria.plenary_yes"]).mean()
    assert j["gap"]["mean"] == pytest.approx(gap)
    close = ~(t["iran.plenary_yes"] >= 80) | (t["syria.plenary_no"] > 20)
    assert j["close"]["p"] == pytest.approx(close.mean())
    counts = sum(float(k) * v["p"] for k, v in res.summary["adopted_count"].items())
    assert counts == pytest.approx(t["adopted_count"].mean())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.x and", "ends too soon"),
        ("a.x < 1 < 2", "chained"),
        ("(a.x", "without its"),
        ("a.x; import os", "cannot read"),
        ("__import__('os')", "cannot read"),
        ("b.y", "unknown column"),
        ("not " * 60 + "a.x", "nested"),
    ],
)
def test_expressions_are_parsed_safely(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse(text, ["a.x", "a.z"])


def test_expression_values() -> None:
    cols = {"a.x": np.array([1, 5, 9]), "a.b": np.array([True, False, True])}
    e = parse("a.b and a.x - 2 > 0 or not a.b", list(cols))
    np.testing.assert_array_equal(evaluate(e, cols), [False, True, True])
    np.testing.assert_array_equal(evaluate(parse("-a.x + 10", list(cols)), cols), [9, 5, 1])


def _problems(path: Path) -> str:
    with pytest.raises(ScenarioError) as err:
        load_session(path)
    return err.value.render()


def test_bad_session_files_get_clear_errors(tmp_path: Path) -> None:
    text = _problems(
        _session(
            tmp_path,
            {"iran": IRAN, "Bad-Name": IRAN, "gone": "nowhere.yaml", "num": 3},
            -1.0,
            0.2,
            joint_outcomes={"x": "iran.plenary_adoptd and all_adopted"},
        )
    )
    assert "linkage.state_factor.sd: input should be greater than or equal to 0; got -1" in text
    assert "draft name 'Bad-Name'" in text
    text = _problems(
        _session(
            tmp_path,
            {"iran": IRAN, "gone": "nowhere.yaml", "num": 3},
            0.1,
            0.2,
            joint_outcomes={"x": "iran.plenary_adoptd and all_adopted"},
        )
    )
    assert "drafts.gone: draft scenario not found; got 'nowhere.yaml'" in text
    assert "drafts.num: expected the path of a draft scenario" in text
    assert "joint_outcomes.x: unknown column 'iran.plenary_adoptd'" in text
    assert "did you mean 'iran.plenary_adopted'" in text


def test_a_draft_s_own_problems_carry_its_key_path(tmp_path: Path) -> None:
    bad = yaml.safe_load(Path(IRAN).read_text())
    bad["world"] = str(SCENARIOS / "worlds" / "un_2014.yaml")
    bad["calibration"] = str(SCENARIOS / "calibration" / "iran_2014.yaml")
    bad["resolution"]["majorty"] = "simple"
    text = _problems(
        _session(
            tmp_path,
            {"iran": bad},
            0.1,
            0.1,
            without_vote={"iram": {"without_vote": 0, "adoptions": 1, "source": "x"}},
        )
    )
    assert "drafts.iran.resolution.majorty: unknown key" in text
    assert "did you mean 'majority'" in text


def test_session_without_vote_and_linkage_file_checks(tmp_path: Path) -> None:
    record = {"without_vote": 0, "adoptions": 1, "source": "x"}
    text = _problems(_session(tmp_path, {"iran": IRAN}, 0.1, 0.1, without_vote={"iram": record}))
    assert "without_vote.iram: not a draft of the session" in text and "'iran'" in text
    path = _session(tmp_path, {"iran": IRAN}, 0.1, 0.1)
    data = yaml.safe_load(path.read_text())
    data["linkage"] = "missing_linkage.yaml"
    path.write_text(yaml.safe_dump(data))
    assert "linkage: linkage file not found" in _problems(path)
    late = {
        "schema_version": 1,
        "kind": "session_linkage",
        "name": "late",
        "before": "2015-01-01",
        "linkage": {
            "state_factor": {"sd": 0.1, "source": "x"},
            "session_shock": {"sd": 0.1, "source": "x"},
        },
    }
    (tmp_path / "late.yaml").write_text(yaml.safe_dump(late))
    data["linkage"] = str(tmp_path / "late.yaml")
    path.write_text(yaml.safe_dump(data))
    assert "a forecast may use only what was known before it" in _problems(path)


def test_without_vote_draws_follow_the_record(tmp_path: Path) -> None:
    record = {"without_vote": 2, "adoptions": 9, "source": "test"}
    path = _session(tmp_path, {"iran": IRAN}, 0.0, 0.0, without_vote={"iran": record})
    res = run_session(load_session(path), runs=4096)
    share = res.table["iran.adopted_without_vote"].mean()
    assert abs(share - 3 / 11) < 4 * np.sqrt(3 / 11 * 8 / 11 / 4096)  # Beta(3, 8)'s mean
    assert (res.table["iran.adopted"] >= res.table["iran.adopted_without_vote"]).all()


def test_a_command_of_one_draft_says_a_session_is_not_one(tmp_path: Path) -> None:
    path = _session(tmp_path, {"iran": IRAN}, 0.1, 0.1)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.problems[0].path == "kind"
    assert "this command takes one draft scenario" in err.value.render()


def test_the_command_line_runs_a_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from unsim.cli import main

    path = _session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.3, 0.2)
    out = tmp_path / "out"
    assert main([str(path), "--runs", "256", "--out", str(out), "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert "every draft adopted" in text and "correlation of plenary yes, iran and syria" in text
    table = pd.read_parquet(out / "runs.parquet")
    assert len(table) == 256 and "syria.plenary_yes" in table
    assert (out / "drafts" / "iran" / "summary.json").exists()
    assert main(["validate", str(path)]) == 0
    assert main([str(path), "--runs", "256", "--out", str(out)]) == 2  # not empty: refused
    assert main([str(path), "--runs", "256", "--data-only", "--compare", str(path)]) == 2
    assert (
        main([str(path), "--runs", "256", "--out", str(out), "--force", "--compare", str(path)])
        == 0
    )
    assert "Paired comparison of sessions" in capsys.readouterr().out


def test_the_shipped_session_loads_with_its_linkage_file() -> None:
    loaded = load_session(SCENARIOS / "session_2014_third_committee.yaml")
    assert list(loaded.drafts) == ["dprk", "iran", "syria", "myanmar"]
    assert [d.resolution.target for d in loaded.drafts.values()] == ["PRK", "IRN", "SYR", "MMR"]
    link = loaded.session.linkage
    assert getattr(link, "kind", None) == "session_linkage"
    assert link.before <= loaded.session.date  # type: ignore[union-attr,operator]
    assert link.without_vote["PRK"].without_vote == 2  # type: ignore[union-attr]
    assert link.without_vote["MMR"].without_vote == 2  # type: ignore[union-attr]


def test_the_factor_takes_its_share_of_the_vote_noise() -> None:
    """With ``factor_from_noise`` the vote noise's variance and the factor's add up to the
    draft's own vote noise's variance."""
    from unsim.model.params import effective_behaviour
    from unsim.session.run import noise_share

    draft = load_scenario(IRAN)
    s = effective_behaviour(draft).vote_noise
    share = noise_share(draft, 1.2)
    assert np.pi**2 / 3 * (s * share) ** 2 + 1.2**2 == pytest.approx(np.pi**2 / 3 * s * s)
    assert noise_share(draft, 0.0) == 1.0
    assert noise_share(draft, 50.0) == pytest.approx(0.1)  # at least a tenth of it is left


def test_the_factor_draws_kept_for_other_drafts_are_the_drawn_ones() -> None:
    """A block's factor draws kept for the session's other drafts are a copy: changing the
    ones a draft got changes neither the kept ones nor what the next draft gets."""
    from unsim.session.linkage import FACTOR_STREAM, DraftLinkage
    from unsim.streams import Streams

    link = DraftLinkage(master_seed=99, rows=None, n_session=5, factor_sd=1.0, shock_sd=0.5)
    first, shock = link.draws(3, 8)
    assert first is not None and shock is not None
    first[:] = 0.0
    again, _ = link.draws(3, 8)
    fresh = Streams(99, 3).normal(FACTOR_STREAM, (5, 8))
    np.testing.assert_array_equal(again, fresh)
    assert link.draws(4, 8)[0] is not None and not np.array_equal(link.draws(4, 8)[0], fresh)


def _copula(
    tmp_path: Path, drafts: dict[str, Any], rho: float, runs: int, **simulation: Any
) -> Path:
    sim = {"runs": runs, "seed": 7, **simulation}
    path = _session(tmp_path, drafts, 0.0, 0.0, simulation=sim)
    data = yaml.safe_load(path.read_text())
    data["linkage"]["vote_copula"] = {"rho": rho, "source": "test"}
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_vote_copula_keeps_a_drafts_own_tallies(tmp_path: Path) -> None:
    """With the vote copula, a draft's runs pair with those it has alone (the same seed, the
    same draws but the vote uniforms): its tallies' mean and spread stay within sampling error
    of those without it."""
    runs = 4096
    drafts = {"iran": IRAN, "syria": SYRIA}
    off = run_session(load_session(_copula(tmp_path, drafts, 0.0, runs)))
    on = run_session(load_session(_copula(tmp_path, drafts, 0.8, runs)))
    for name in drafts:
        for vote in ("yes", "no", "abstain"):
            a, b = off.table[f"{name}.plenary_{vote}"], on.table[f"{name}.plenary_{vote}"]
            d = (b - a).to_numpy(dtype=float)
            assert (d != 0).mean() > 0.5  # the votes are drawn anew
            assert abs(d.mean()) < 4 * d.std() / np.sqrt(runs) + 0.05, (name, vote, d.mean())
            assert b.std() == pytest.approx(a.std(), rel=0.1)
        own = [c for c in off.table if c.startswith(f"{name}.lever:")]
        assert own  # the draft's own draws pair exactly
        for column in own:
            np.testing.assert_array_equal(off.table[column], on.table[column])


def test_the_vote_copula_correlates_the_uniforms_not_their_marginals() -> None:
    """Two drafts' vote uniforms of the same runs: each still uniform, correlated by rho; rho 0
    hands the uniforms back untouched; another stage has its own shared uniforms."""
    from unsim.session.linkage import DraftLinkage
    from unsim.streams import Streams

    link = DraftLinkage(master_seed=5, rows=None, n_session=50, factor_sd=0, shock_sd=0)
    cop = DraftLinkage(5, None, 50, 0.0, 0.0, copula_rho=0.6)
    u1 = Streams(11, 0).uniform("vote:plenary", (50, 4000))
    u2 = Streams(12, 0).uniform("vote:plenary", (50, 4000))
    assert link.vote_uniforms(0, "plenary", u1) is u1
    a, b = cop.vote_uniforms(0, "plenary", u1.copy()), cop.vote_uniforms(0, "plenary", u2.copy())
    other = cop.vote_uniforms(0, "third_committee", u2.copy())
    for x in (a, b):
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() < 1.0
        assert x.mean() == pytest.approx(0.5, abs=0.005)
        assert x.var() == pytest.approx(1 / 12, abs=0.002)
        counts = np.histogram(x, bins=20, range=(0, 1))[0]  # uniform: 10,000 a bin, sd 97
        assert np.abs(counts - x.size / 20).max() < 500
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] == pytest.approx(0.6, abs=0.02)
    assert abs(np.corrcoef(a.ravel(), other.ravel())[0, 1]) < 0.02
    assert np.mean(a == b) == pytest.approx(0.6, abs=0.01)  # both the shared one


def test_the_vote_copula_keys_on_the_global_run_not_the_block() -> None:
    """The shared uniform of run r is the same whichever block holds it: two blocks of 100
    runs give what one of 200 gives; the compiled pass agrees with the plain rule; a draft's
    states take their session rows' shared uniforms."""
    from unsim.model.copula_kernels import mix_plain
    from unsim.session.linkage import DraftLinkage, copula_key

    rng = np.random.default_rng(3)
    u = rng.random((6, 200), dtype=np.float32)
    cop = DraftLinkage(9, None, 6, 0.0, 0.0, copula_rho=0.5)
    whole = cop.vote_uniforms(0, "plenary", u.copy())
    parts = [cop.vote_uniforms(s, "plenary", u[:, s : s + 100].copy()) for s in (0, 100)]
    np.testing.assert_array_equal(whole, np.hstack(parts))
    key = copula_key(9, "plenary")
    np.testing.assert_array_equal(whole, mix_plain(u, np.arange(6), key, 0, np.sqrt(0.5)))
    rows = np.array([4, 1, 2])
    sub = DraftLinkage(9, rows, 6, 0.0, 0.0, copula_rho=0.5)
    np.testing.assert_array_equal(
        sub.vote_uniforms(0, "plenary", u[:3].copy()), mix_plain(u[:3], rows, key, 0, np.sqrt(0.5))
    )


DPRK = str(SCENARIOS / "icc_referral.yaml")
NO_ICC = {
    "file": DPRK,
    "set": {
        "resolution.clauses.icc_referral": False,
        "resolution.stages": ["no_action_motion", "third_committee", "plenary"],
    },
}


def _spill(tmp_path: Path, dprk: Any, spillover: Any) -> pd.DataFrame:
    path = _session(tmp_path, {"dprk": dprk, "iran": IRAN}, 0.0, 0.0)
    data = yaml.safe_load(path.read_text())
    if spillover is not None:
        data["linkage"]["spillover"] = spillover
    path.write_text(yaml.safe_dump(data))
    return run_session(load_session(path)).table


def test_a_spillover_of_zero_gives_the_drafts_as_without_it(tmp_path: Path) -> None:
    none, zero = _spill(tmp_path, DPRK, None), _spill(tmp_path, DPRK, 0.0)
    pd.testing.assert_frame_equal(none, zero)


def test_the_dprk_drafts_icc_language_moves_the_iran_drafts_votes(tmp_path: Path) -> None:
    """With a spillover, the Iran draft loses yes votes in the runs where the DPRK draft keeps
    its ICC language (its cost for each state, carried in part), and its runs pair exactly
    where the DPRK draft has no ICC language; the DPRK draft's own runs never move."""
    share = {"dist": "uniform", "low": 0.2, "high": 0.6, "source": "test"}
    base, spilled = _spill(tmp_path, DPRK, None), _spill(tmp_path, DPRK, share)
    dprk = [c for c in base if c.startswith("dprk.")]
    pd.testing.assert_frame_equal(base[dprk], spilled[dprk])
    retained = base["dprk.icc_retained"].astype(bool).to_numpy()
    assert retained.mean() > 0.5
    change = (spilled["iran.plenary_yes"] - base["iran.plenary_yes"]).to_numpy(dtype=float)
    assert change[retained].mean() < -1.0
    assert change[retained].mean() + 4 * change[retained].std() / np.sqrt(retained.sum()) < 0
    dropped = (base["dprk.icc_status"].astype(str) == "dropped").to_numpy()
    assert (change[dropped] == 0).all()
    plain, plain_spilled = _spill(tmp_path, NO_ICC, None), _spill(tmp_path, NO_ICC, share)
    pd.testing.assert_frame_equal(plain, plain_spilled)
    assert not plain["dprk.icc_retained"].astype(bool).any()


def test_a_spillover_needs_its_source(tmp_path: Path) -> None:
    path = _session(tmp_path, {"iran": IRAN}, 0.0, 0.0)
    data = yaml.safe_load(path.read_text())
    data["linkage"]["spillover"] = {"dist": "uniform", "low": 0.0, "high": 0.5}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="source"):
        load_session(path)
