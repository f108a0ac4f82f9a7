"""The Security Council backtest on the recorded ICC referral votes
(unsim.calibration.council_backtest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unsim.calibration.council_backtest import (
    _log_likelihood,
    _member_probabilities,
    case_scenario,
    council_backtest,
    council_markdown,
    fit_council_shift,
    load_cases,
)
from unsim.cli import main
from unsim.scenario import load_scenario
from unsim.scenario.schema import World

from .conftest import DEFAULT_SCENARIO


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(DEFAULT_SCENARIO)


def test_the_recorded_votes_member_by_member(scenario, data_dir: Path) -> None:
    cases = {c.key: c for c in load_cases(data_dir, scenario.world)}
    assert list(cases) == ["darfur_2005", "libya_2011", "syria_2014"]
    tallies = {
        k: tuple(sum(v == x for v in c.votes.values()) for x in "YNA") for k, c in cases.items()
    }
    assert tallies == {
        "darfur_2005": (11, 0, 4),
        "libya_2011": (15, 0, 0),
        "syria_2014": (13, 2, 0),
    }
    assert {c for c, v in cases["darfur_2005"].votes.items() if v == "A"} == {
        "DZA",
        "BRA",
        "CHN",
        "USA",
    }
    assert {c for c, v in cases["syria_2014"].votes.items() if v == "N"} == {"CHN", "RUS"}


def test_the_council_of_the_year(scenario, data_dir: Path) -> None:
    darfur = load_cases(data_dir, scenario.world)[0]
    s = case_scenario(scenario, darfur)
    world = s.world
    assert isinstance(world, World)
    council = set(world.security_council.permanent + world.security_council.elected)
    assert council == set(darfur.votes)
    assert s.resolution.target == "SDN" and s.resolution.stages == ["sc_referral"]
    assert s.actors.allies.patrons == ["CHN", "RUS"] and s.actors.states == {}
    assert "JPN" not in world.blocs["ICC_PARTIES"].members  # Japan acceded in 2007
    assert "DNK" in world.blocs["ICC_PARTIES"].members
    # the scenario itself is left as it was
    assert "JPN" in scenario.world.blocs["ICC_PARTIES"].members


def test_scores_and_baselines(scenario, data_dir: Path) -> None:
    result = council_backtest(scenario, data_dir, runs=600, seed=1, grid=(0.5, 4.0, 8.0))
    rows = {(r["case"], r["method"]): r for r in result["cases"]}
    # known answers of the baselines: every member yes with certainty
    assert rows[("darfur_2005", "all_yes")]["accuracy"] == pytest.approx(11 / 15)
    assert rows[("darfur_2005", "all_yes")]["brier"] == pytest.approx(4 * 2 / 15)
    assert rows[("libya_2011", "all_yes")]["brier"] == 0.0
    assert rows[("syria_2014", "patrons_no")]["accuracy"] == 1.0
    # the model's scores follow from its per-member probabilities
    for case in ("darfur_2005", "libya_2011", "syria_2014"):
        members = [m for m in result["members"] if m["case"] == case]
        assert len(members) == 15
        hits = 0
        brier = 0.0
        for m in members:
            p = {"Y": m["p_yes"], "N": m["p_no"], "A": m["p_abstain"]}
            assert sum(p.values()) == pytest.approx(1.0, abs=1e-9)
            hits += max(p, key=lambda k: p[k]) == m["recorded"]
            brier += sum((p[k] - (k == m["recorded"])) ** 2 for k in p)
        assert rows[(case, "unsim")]["accuracy"] == pytest.approx(hits / 15)
        assert rows[(case, "unsim")]["brier"] == pytest.approx(brier / 15)
        assert 0.0 <= rows[(case, "unsim")]["p_tabled_by_rule"] <= 1.0
    # with the patrons' tie, China and Russia are expected to block the Syria referral
    assert rows[("syria_2014", "unsim")]["p_adopted"] < 0.05
    assert "| syria_2014 | unsim |" in council_markdown(result)
    for case in ("darfur_2005", "libya_2011", "syria_2014"):
        assert rows[(case, "unsim_fitted")]["council_shift"] in (0.5, 4.0, 8.0)
    assert result["council_shift"]["scenario"] == scenario.behaviour.council_shift


def test_the_fitted_council_shift_maximises_the_likelihood(scenario, data_dir: Path) -> None:
    cases = load_cases(data_dir, scenario.world)
    grid = (0.0, 3.0, 6.0, 9.0)
    fitted, _ = fit_council_shift(scenario, cases, runs=400, seed=2, grid=grid)

    def loglik(value: float, keys: set[str]) -> float:
        behaviour = scenario.behaviour.model_copy(update={"council_shift": value})
        s = scenario.model_copy(update={"behaviour": behaviour})
        return sum(
            _log_likelihood(_member_probabilities(s, c, 400, 2)[0], c)
            for c in cases
            if c.key in keys
        )

    for left_out in ("all", "syria_2014"):
        keys = {c.key for c in cases if c.key != left_out}
        best = loglik(fitted[left_out], keys)
        assert all(best >= loglik(v, keys) for v in grid)


def test_cli_council_backtest(data_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "council.json"
    args = ["backtest", "--council", str(DEFAULT_SCENARIO), "--runs", "200", "--json", str(out)]
    assert main([*args, "--data", str(data_dir)]) == 0
    text = capsys.readouterr().out
    assert "| darfur_2005 | unsim |" in text and "mean Brier" in text
    result = json.loads(out.read_text())
    assert {r["case"] for r in result["cases"]} == {"darfur_2005", "libya_2011", "syria_2014"}
    # a file unsim wrote is replaced; a user's file never (refused before the runs)
    assert main([*args, "--data", str(data_dir)]) == 0
    assert json.loads(out.read_text())["cases"] == result["cases"]
    mine = tmp_path / "mine.json"
    mine.write_text('{"my": "notes"}')
    mine_args = [*args[:-1], str(mine), "--data", str(data_dir)]
    assert main(mine_args) == 2
    assert mine.read_text() == '{"my": "notes"}'
    assert "unsim did not write it" in capsys.readouterr().err
