"""The bottom line (unsim.results.bottomline): sentences generated from the results for every
shape of scenario, each number in them the run table's own, and the same sentences in the
terminal, summary.json, the report and the explorer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from unsim import load_scenario, run
from unsim.cli import main
from unsim.engine.attribution import attribute
from unsim.results.bottomline import bottom_line
from unsim.results.grouped import outcome_groups, pivotal_by_stage
from unsim.results.tables import Results

from .conftest import DEFAULT_SCENARIO, POINT_SCENARIO

RUNS = 1024
SEED = 3


def _run(overrides: dict[str, Any] | None = None) -> tuple[Any, pd.DataFrame, dict[str, Any]]:
    """The DPRK draft with point values (its shapes are the overrides', not a lever's draw)."""
    s = load_scenario(POINT_SCENARIO, overrides=overrides or {})
    res = run(s, runs=RUNS, seed=SEED)
    assert res.runs is not None
    return res, res.runs, bottom_line(res.summary, s)


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f} %"


@pytest.fixture(scope="module")
def default() -> tuple[Any, pd.DataFrame, dict[str, Any], dict[str, Any]]:
    s = load_scenario(POINT_SCENARIO)  # the DPRK draft with point values
    res = run(s, runs=RUNS, seed=SEED)
    a = attribute(s, runs=512, seed=SEED, base=res)
    res.summary["data_only"] = a.pop("forecast")
    res.summary["attribution"] = a
    assert res.runs is not None
    return res, res.runs, a, bottom_line(res.summary, s)


def test_the_default_scenario_answers_each_part_of_the_question(default: Any) -> None:
    res, runs, a, line = default
    sentences = line["sentences"]
    assert len(sentences) == 4
    assembly, icc, council, levers = sentences
    # the Assembly: passes in (nearly) every run, said as often as it does, with the plenary's
    # median and range
    committee, plenary = (int(runs[f"{v}_adopted"].sum()) for v in ("third_committee", "plenary"))
    assert RUNS - 10 <= plenary <= committee
    if plenary == committee == RUNS:
        assert assembly.startswith("The draft passes the Third Committee and the plenary in every")
    else:
        assert assembly.startswith("The draft passes the Third Committee")
        words = {0: "every run", 1: "all runs but one", 2: "all runs but two"}
        for count, stage in ((committee, "Third Committee"), (plenary, "plenary")):
            said = words.get(RUNS - count, f"{_pct(count, RUNS)} of runs")
            assert f"the {stage} in {said}" in assembly or f"the {stage} and the" in assembly
    yes = runs["plenary_yes"]
    assert f"a median of {np.quantile(yes, 0.5, method='lower'):.0f} yes at the plenary" in assembly
    # the ICC language: kept in every run of these
    assert runs["icc_retained"].all() and "stays in the draft in every run" in icc
    # the Council: tabled, then vetoed by China and Russia, or adopted
    tabled = runs["sc_referral_held"].to_numpy(dtype=bool)
    vetoed = runs["sc_referral_vetoed"].to_numpy(dtype=bool)
    assert 0 < tabled.sum() < RUNS and vetoed.any()
    assert f"tabled in the Security Council in {_pct(tabled.sum(), RUNS)} of runs" in council
    assert f"vetoed in {_pct(vetoed.sum(), tabled.sum())} of them" in council
    for code, name in (("CHN", "China"), ("RUS", "Russia")):
        k = int(runs[f"veto_{code}"].sum())
        assert f"by {name} in {_pct(k, tabled.sum())}" in council
        assert line["numbers"][f"veto_{code}_if_tabled"]["p"] == k / tabled.sum()
    adopted = int(runs["sc_referral_adopted"].sum())
    assert f"adopted in {_pct(adopted, tabled.sum())} of them" in council
    assert f"to the ICC in {_pct(adopted, RUNS)} of all runs" in council
    n = line["numbers"]["referral_vetoed_if_tabled"]
    assert n["runs"] == tabled.sum() and n["ci_low"] <= n["p"] <= n["ci_high"]
    # the strongest assumption at the plenary and the data-only forecast
    parts = a["forward"]["parts"]
    top = max(parts, key=lambda p: abs(p["change"]["plenary_yes"]["mean"]))
    assert f"is the {top['label']}: {top['change']['plenary_yes']['mean']:+.1f} yes" in levers
    bare = res.summary["data_only"]["rows"]["plenary_yes"]["data_only"]
    assert f"the plenary would give {bare:.1f} yes on average" in levers


def test_a_scenario_without_icc_language_or_council_says_nothing_of_them() -> None:
    res, _, line = _run(
        {
            "resolution.stages": ["third_committee", "plenary"],
            "resolution.clauses.icc_referral": False,
            "procedure.council.referral_requires_icc_language": False,
            "actors.target.strategies": [{"type": "charm_offensive", "intensity": 0.3}],
        }
    )
    text = " ".join(line["sentences"])
    assert "ICC" not in text and "Council" not in text and "referral" not in text
    assert line["sentences"][0].startswith("The draft passes the Third Committee and the plenary")
    assert set(line["numbers"]) == {"committee_adopted", "plenary_adopted", "plenary_yes"}
    plenary = res.summary["tallies"]["plenary"]["yes"]
    assert line["numbers"]["plenary_yes"]["median"] == plenary["q50"]


def test_a_referral_never_tabled_says_so_and_why() -> None:
    """The sponsors take the target's offer in every run: the ICC language goes for it, and
    with it any referral (which needs the language)."""
    _, runs, line = _run(
        {
            "actors.target.strategies[1].credibility": 1.0,
            "actors.target.strategies[1].demanded_terms": {},
            "actors.sponsors.bargaining.credibility_noise": 0.0,
        }
    )
    assert (runs["icc_reason"] == "bargain").all() and not runs["sc_referral_held"].any()
    _, icc, council = line["sentences"]
    assert icc == (
        "The ICC language never survives: dropped in a bargain for the target's offer in every run."
    )
    assert council.startswith("No referral to the ICC is tabled in the Security Council in any run")
    assert "needs the ICC language" in council and "veto" not in council


def test_a_draft_that_fails_says_where_and_by_how_much() -> None:
    _, runs, line = _run({"behaviour.intercept": -3.0})
    committee = int(runs["third_committee_adopted"].sum())
    plenary = int(runs["plenary_adopted"].sum())
    assert 0 < plenary < committee < RUNS  # the case meant: it fails in some runs
    assembly = line["sentences"][0]
    assert f"passes the Third Committee in {_pct(committee, RUNS)} of runs" in assembly
    assert f"and the plenary in {_pct(plenary, RUNS)} of runs" in assembly
    held = runs["plenary_held"].to_numpy(dtype=bool)
    assert f"over the {_pct(held.sum(), RUNS)} of runs that reached that vote" in assembly
    stopped = int(runs["no_action_motion_adopted"].sum())
    assert stopped and f"no action on the draft carries in {_pct(stopped, RUNS)}" in assembly


def test_a_draft_that_never_passes() -> None:
    _, runs, line = _run({"behaviour.intercept": -6.0})
    assert not runs["third_committee_adopted"].any()
    text = " ".join(line["sentences"])
    assert "the draft never passes the Third Committee" in text
    assert "it needs the plenary's adoption, which never comes" in text


def test_outcomes_are_grouped_and_pivotal_states_ranked_per_vote(default: Any) -> None:
    res = default[0]
    names = {"CHN": "China", "RUS": "Russia"}
    groups = outcome_groups(res.summary["outcomes"], names)
    titles = [g.title for g in groups]
    assert titles == [
        "The Assembly",
        "The ICC language",
        "The Security Council",
        "The target's strategies and other events",
    ]
    first = [r[0] for r in groups[0].rows]
    assert first[:2] == ["committee_adopted", "plenary_adopted"]
    events = {r[0] for r in groups[-1].rows}
    assert {"cooperation_halted", "invitation_withdrawn"} <= events
    assert not events & {"committee_adopted", "icc_retained", "referral_tabled"}
    council = [r[1] for r in groups[2].rows]
    assert "vetoed by China" in council and "vetoed by Russia" in council
    shown, minor = pivotal_by_stage(res.summary)
    for st in shown:
        assert st.states and all(s[2] >= 0.01 for s in st.states)
        assert [s[2] for s in st.states] == sorted((s[2] for s in st.states), reverse=True)
    for st in minor:
        assert all(s[2] < 0.01 for s in st.states)
    every = {r["stage"] for r in res.summary["pivotal"] if r["p"] > 0}
    assert {st.stage for st in shown + minor} == every


def test_the_run_prints_it_first_and_saves_it(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "res"
    args = [str(DEFAULT_SCENARIO), "--runs", "600", "--seed", "5", "--no-plots", "--no-explain"]
    assert main([*args, "--out", str(out), "--attribution-runs", "512"]) == 0
    text = capsys.readouterr().out
    saved = json.loads((out / "summary.json").read_text())["bottom_line"]
    loaded = Results.load(out)
    assert saved == json.loads(json.dumps(bottom_line(loaded.summary, loaded.scenario)))
    assert len(saved["sentences"]) == 4
    body = text.split("\n\n", 1)[1]  # after the title and the runs
    assert body.startswith("The bottom line")
    assert text.index("The bottom line") < text.index("Outcome") < text.index("Tallies")
    flat = " ".join(text.split())
    for sentence in saved["sentences"]:
        assert " ".join(sentence.split()) in flat
    # the forward table is checked when read back: a tampered one is named, nothing is drawn
    doc = json.loads((out / "summary.json").read_text())
    doc["attribution"]["forward"]["parts"][0]["change"]["plenary_yes"]["mean"] = "-19.7"
    (out / "summary.json").write_text(json.dumps(doc))
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "attribution.forward.parts[0].change.plenary_yes.mean" in err
    assert not (out / "report.html").exists()
