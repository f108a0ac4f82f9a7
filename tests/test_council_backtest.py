"""The Security Council backtest on the recorded Council votes (unsim.calibration.council_backtest):
each vote rebuilt as it was, the rule fitted without it, member by member scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from unsim.calibration.council_backtest import (
    case_design,
    case_scenario,
    council_backtest,
    fit_rule,
    member_probabilities,
)
from unsim.calibration.council_report import council_markdown
from unsim.cli import main
from unsim.council import votes as rule
from unsim.council.cases import scored, vote_cases
from unsim.model.params import effective_behaviour
from unsim.scenario import load_scenario
from unsim.scenario.council import CouncilVotes
from unsim.scenario.schema import World

from .conftest import DEFAULT_SCENARIO

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def cases(scenario, data_dir: Path):
    return {c.key: c for c in scored(vote_cases(data_dir, scenario.world))}


@pytest.fixture(scope="module")
def result(scenario, data_dir: Path):
    return council_backtest(scenario, data_dir, runs=400, seed=1)


def test_the_council_of_the_day(scenario, cases) -> None:
    darfur = cases["darfur_2005"]
    s = case_scenario(scenario, darfur)
    world = s.world
    assert isinstance(world, World)
    council = set(world.security_council.permanent + world.security_council.elected)
    assert council == set(darfur.votes)
    assert s.resolution.target == "SDN" and s.resolution.stages == ["sc_referral"]
    assert s.actors.allies.patrons == ["CHN", "RUS"] and s.actors.states == {}
    assert s.procedure.council.votes.dissenters == ["DZA"]
    assert "JPN" not in world.blocs["ICC_PARTIES"].members  # Japan acceded in 2007
    assert "DNK" in world.blocs["ICC_PARTIES"].members
    assert case_scenario(scenario, darfur, votes=None).procedure.council.votes is None
    # the scenario itself is left as it was
    assert "JPN" in scenario.world.blocs["ICC_PARTIES"].members
    assert scenario.procedure.council.votes.dissenters == []


def test_the_model_votes_by_the_rule(scenario, cases) -> None:
    """The model's Council members vote by the rule the fit uses: its per-member probabilities
    on a case agree with the rule's own, within the runs' sampling error."""
    b = effective_behaviour(scenario)
    theta = {"norm": 4.0, "patron_defence": 6.5, "dissent": 2.5}
    case = cases["syria_2012_07"]
    s = case_scenario(scenario, case, CouncilVotes(**theta))
    probs, _ = member_probabilities(s, case, runs=4000, seed=5)
    exact = rule.probabilities(
        rule.design(case),
        {**dict.fromkeys(rule.PARAMS, 0.0), **theta},
        b.abstention_band,
        b.vote_noise,
    )
    assert np.abs(probs - exact).max() < 4 * np.sqrt(0.25 / 4000)


def test_scores_and_baselines(result, cases) -> None:
    rows = {(r["case"], r["method"]): r for r in result["cases"]}
    # known answers of the baselines
    assert rows[("darfur_2005", "all_yes")]["accuracy"] == pytest.approx(11 / 15)
    assert rows[("darfur_2005", "all_yes")]["brier"] == pytest.approx(4 * 2 / 15)
    assert rows[("libya_2011", "patrons_no")]["brier"] == 0.0
    assert rows[("syria_2014", "patrons_no")]["accuracy"] == 1.0
    # Darfur: the patrons China and Russia abstained and voted yes, DZA, BRA, USA abstained
    assert rows[("darfur_2005", "patrons_no")]["brier"] == pytest.approx(5 * 2 / 15)
    # the model's scores follow from its per-member probabilities
    for key, case in cases.items():
        members = [m for m in result["members"] if m["case"] == key]
        assert [m["iso3"] for m in members] == case.members
        p = np.array([[m["p_yes"], m["p_no"], m["p_abstain"]] for m in members])
        assert p.sum(axis=1) == pytest.approx(np.ones(15))
        y = np.array(["YNA".index(case.votes[c]) for c in case.members])
        assert rows[(key, "unsim")]["brier"] == pytest.approx(rule.scores(p, y)["brier"])
        assert rows[(key, "unsim")]["accuracy"] == pytest.approx(rule.scores(p, y)["accuracy"])
    summary = {r["method"]: r for r in result["summary"]["referrals"]}
    assert summary["patrons_no"]["votes"] == 3
    assert summary["all_yes"]["brier"] == pytest.approx(
        np.mean(
            [rows[(k, "all_yes")]["brier"] for k in ("darfur_2005", "libya_2011", "syria_2014")]
        )
    )
    text = council_markdown(result)
    assert "| syria_2014 | unsim |" in text and "Tabling" in text


def test_each_vote_is_scored_by_a_rule_fitted_without_it(scenario, result, cases) -> None:
    b = effective_behaviour(scenario)
    designs = {k: case_design(scenario, c, seed=1) for k, c in cases.items()}
    for key in cases:
        others = [d for k, d in designs.items() if k != key]
        expected = rule.fit_votes(others, b.abstention_band, b.vote_noise)
        assert result["fitted"][key] == pytest.approx(expected, abs=1e-6)
    assert result["fitted"]["all"] == pytest.approx(
        rule.fit_votes(list(designs.values()), b.abstention_band, b.vote_noise), abs=1e-6
    )


def test_the_rule_beats_the_naive_rules_on_the_left_out_referrals(scenario, cases) -> None:
    """The README's claim, without the runs' sampling error: the rule's own probabilities."""
    b = effective_behaviour(scenario)
    band, noise = b.abstention_band, b.vote_noise
    designs = [rule.design(c) for c in cases.values()]
    loo = rule.leave_one_out(designs, band, noise)
    ours, patrons = [], []
    for d in designs:
        if not cases[d.key].referral:
            continue
        ours.append(rule.scores(rule.probabilities(d, loo[d.key], band, noise), d.y))
        no = np.where(d.patron[:, None] > 0, [0.0, 1.0, 0.0], [1.0, 0.0, 0.0])
        patrons.append(rule.scores(no, d.y))
    for k in ("brier", "log_loss"):
        assert np.mean([s[k] for s in ours]) < np.mean([s[k] for s in patrons])


def test_the_scenario_states_the_rule_fitted_on_the_record(scenario, result, data_dir) -> None:
    """The shipped scenarios draw the Council's numbers from the distributions the backtest
    prints to paste (the fit's estimates and standard errors, the record's tabling Beta)."""
    import yaml

    from unsim.uncertainty import Uncertain

    pasted = yaml.safe_load(result["paste"])["procedure"]["council"]
    for path in (DEFAULT_SCENARIO, DEFAULT_SCENARIO.with_name("icc_referral_no_charm.yaml")):
        council = load_scenario(path).procedure.council
        for k, spec in pasted["votes"].items():
            value = getattr(council.votes, k)
            assert isinstance(value, Uncertain), k
            assert value.dist.model_dump(exclude_none=True) == spec, (path, k)
        chance = council.tabling.chance
        assert isinstance(chance, Uncertain)
        assert chance.dist.model_dump(exclude_none=True) == {
            **pasted["tabling"]["chance"],
            "low": 0.0,
            "high": 1.0,
        }
    fit = result["rule"]
    assert fit_rule(scenario, data_dir, seed=0) == pytest.approx(result["fitted"]["all"])
    votes = scenario.procedure.council.votes
    assert votes.patron_defence.dist.mean == pytest.approx(fit["estimate"]["patron_defence"], 1e-3)
    assert votes.patron_shock.dist.sigma == pytest.approx(
        fit["se"]["patron_shock"] / fit["estimate"]["patron_shock"], 1e-3
    )


def test_the_fit_with_its_errors_and_the_patrons_scored_together(scenario, result, cases) -> None:
    """The rule on every vote with its standard errors; the patrons' shared shock judged leave
    one case out on each case's votes scored jointly, against the same rule without it and
    with a shock of each patron's own."""
    fit = result["rule"]
    assert fit["params"] == list(rule.FITTED)
    assert fit["estimate"] == pytest.approx({p: result["fitted"]["all"][p] for p in rule.FITTED})
    assert all(0 < fit["se"][p] < 5 for p in rule.FITTED)
    corr = np.array(fit["correlation"])
    assert corr == pytest.approx(corr.T) and np.diag(corr) == pytest.approx(np.ones(4))
    joint = result["joint"]
    # the record: China and Russia, both patrons in five votes, voted alike in four
    assert (joint["pairs"], joint["alike"]) == (5, 4)
    assert fit["alike_apart"] < 4 / 5 and abs(fit["alike_implied"] - 4 / 5) < 0.1
    b = effective_behaviour(scenario)
    designs = {k: rule.design(c) for k, c in cases.items()}
    for row in joint["cases"]:
        others = [d for k, d in designs.items() if k != row["case"]]
        theta = rule.fit_votes(others, b.abstention_band, b.vote_noise)
        ll = rule.case_log_likelihood(designs[row["case"]], theta, b.abstention_band, 1.0)
        assert row["shared"] == pytest.approx(-ll, rel=1e-4)
    total = joint["total"]
    assert total["shared"] < min(total["apart"], total["own"])
    text = council_markdown(result)
    assert "patron_shock: {dist: lognormal" in text and "a shock of each patron's own" in text
    readings = {r["reading"]: r for r in fit["readings"]}
    # the two histories: Darfur's patrons had abstained before, Syria's had vetoed
    darfur, syria = readings["darfur's patrons alone"], readings["syria's patrons alone"]
    assert darfur["patron_defence"] < fit["estimate"]["patron_defence"] < syria["patron_defence"]
    assert darfur["through"] > readings["the rule (a shock per vote)"]["through"] > syria["through"]


def test_the_tabling_rule_at_each_referral(result) -> None:
    tab = result["tabling"]
    assert tab["fit"]["opposed"]["windows"] == ["darfur", "syria", "gaza", "dprk"]
    # by the record before its own date, Syria's draft of May 2014 had Darfur's draft and
    # Syria's, Gaza's and the DPRK's years without one behind it
    assert tab["at_vote"]["syria_2014"]["chance"] == pytest.approx(2 / (2 + 1 + 3.6988), abs=1e-3)
    assert tab["at_vote"]["darfur_2005"]["chance"] < 0.5  # Darfur's own two months open
    assert {w["window"] for w in tab["leave_one_out"]} == {
        "darfur",
        "libya",
        "syria",
        "gaza",
        "dprk",
    }


def test_cli_council_backtest(data_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "council.json"
    args = ["backtest", "--council", str(DEFAULT_SCENARIO), "--runs", "200", "--json", str(out)]
    assert main([*args, "--data", str(data_dir)]) == 0
    text = capsys.readouterr().out
    assert "| darfur_2005 | unsim |" in text and "patrons vote no" in text
    result = json.loads(out.read_text())
    assert {r["case"] for r in result["cases"]} == {
        "darfur_1591",
        "darfur_2005",
        "libya_2011",
        "syria_2011_10",
        "syria_2012_02",
        "syria_2012_07",
        "syria_2014",
    }
    # a file unsim wrote is replaced; a user's file never (refused before the runs)
    assert main([*args, "--data", str(data_dir)]) == 0
    assert json.loads(out.read_text())["cases"] == result["cases"]
    mine = tmp_path / "mine.json"
    mine.write_text('{"my": "notes"}')
    mine_args = [*args[:-1], str(mine), "--data", str(data_dir)]
    assert main(mine_args) == 2
    assert mine.read_text() == '{"my": "notes"}'
    assert "unsim did not write it" in capsys.readouterr().err
