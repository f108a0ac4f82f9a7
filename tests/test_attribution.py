"""The attribution of a forecast to the scenario's stated assumptions (unsim.engine.attribution)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from unsim.cli import main
from unsim.engine import run
from unsim.engine.attribution import CATEGORIES, assumptions, attribute
from unsim.results.forward import format_attribution
from unsim.scenario import load_scenario
from unsim.scenario.drawn import scenario_levers

from .conftest import DEFAULT_SCENARIO, POINT_SCENARIO

RUNS = 512
SEED = 3

#: the default scenario stripped of every stated assumption (data only)
NOTHING: dict[str, Any] = {
    "actors.target.strategies": [],
    "actors.sponsors.bargaining.accept_offer_min_credibility": 1.01,
    "actors.sponsors.bargaining.drop_if_expected_yes_share_below": 0.0,
    "actors.sponsors.bargaining.credibility_noise": 0.0,
    "actors.sponsors.lobbying.budget": 0.0,
    "actors.allies.counter_lobbying.budget": 0.0,
    "actors.allies.tie": 0.0,
    "actors.allies.patron_tie": 0.0,
    "actors.states": {},
    "behaviour.icc_aversion": 0.0,
    "behaviour.icc_aversion_by_bloc": {},
}
CHARM = {"type": "charm_offensive", "intensity": 0.3, "icc_share": 0.8}


def _nothing() -> dict[str, Any]:
    """NOTHING, and every number the scenario gives as a distribution (the Council's, fitted
    on its record) at its mean."""
    levers = scenario_levers(load_scenario(DEFAULT_SCENARIO))

    def removed(path: str) -> bool:  # a lever under a key NOTHING sets goes with it
        return any(path == k or path.startswith((f"{k}.", f"{k}[")) for k in NOTHING)

    kept = {lever.path: float(lever.value) for lever in levers if not removed(lever.path)}
    return {**NOTHING, **kept}


def _mean(results: Any, stage: str, category: str) -> float:
    runs = results.runs
    held = runs[f"{stage}_held"].to_numpy(dtype=bool)
    return float(runs[f"{stage}_{category}"].to_numpy()[held].mean())


@pytest.fixture(scope="module")
def default_attribution() -> dict[str, Any]:
    return attribute(load_scenario(DEFAULT_SCENARIO), runs=RUNS, seed=SEED)


def test_the_parts_add_up_to_what_they_explain(default_attribution: dict[str, Any]) -> None:
    a = default_attribution
    assert a["stage"] == "third_committee"
    assert set(a["by_stage"]) == {"third_committee", "plenary"}
    for table in a["by_stage"].values():
        for c in CATEGORIES:
            total = sum(p[c] for p in table["parts"])
            assert total == pytest.approx(table["as_given"][c] - table["data_only"][c], abs=1e-9)
        # the four categories of each part move votes between them: they sum to zero
        for p in table["parts"]:
            assert sum(p[c] for c in CATEGORIES) == pytest.approx(0.0, abs=1e-9)
    assert a["order"] == [p["name"] for p in a["parts"]]
    assert a["order"][:4] == [f"strategies[{i}]" for i in range(4)]
    # last, the spread of the Council's numbers fitted on its record, set to their means
    assert a["order"][-2:] == ["icc_aversion", "spread"]
    assert a["parts"][0]["label"] == "charm offensive"


def test_the_ends_are_the_scenario_as_given_and_with_nothing_stated(
    default_attribution: dict[str, Any],
) -> None:
    given = run(load_scenario(DEFAULT_SCENARIO), runs=RUNS, seed=SEED)
    bare = run(load_scenario(DEFAULT_SCENARIO, overrides=_nothing()), runs=RUNS, seed=SEED)
    for c in CATEGORIES:
        assert default_attribution["as_given"][c] == pytest.approx(
            _mean(given, "third_committee", c), abs=1e-9
        )
        assert default_attribution["data_only"][c] == pytest.approx(
            _mean(bare, "third_committee", c), abs=1e-9
        )
    assert assumptions(load_scenario(DEFAULT_SCENARIO, overrides=_nothing())) == []


@pytest.mark.parametrize(
    ("only", "name"),
    [
        ({"actors.target.strategies": [CHARM], "behaviour.icc_aversion": 0.0}, "strategies[0]"),
        ({"behaviour.icc_aversion": 2.5}, "icc_aversion"),
        ({"actors.sponsors.lobbying.budget": 15.0}, "lobbying"),
    ],
)
def test_a_single_assumption_gets_the_whole_difference(only: dict[str, Any], name: str) -> None:
    with_it = load_scenario(DEFAULT_SCENARIO, overrides={**_nothing(), **only})
    steps = assumptions(with_it)
    assert [s.name for s in steps] == [name]
    a = attribute(with_it, runs=RUNS, seed=SEED)
    given = run(with_it, runs=RUNS, seed=SEED)
    without = run(load_scenario(DEFAULT_SCENARIO, overrides=_nothing()), runs=RUNS, seed=SEED)
    (part,) = a["parts"]
    for c in CATEGORIES:
        expected = _mean(given, "third_committee", c) - _mean(without, "third_committee", c)
        assert part[c] == pytest.approx(expected, abs=1e-9)
    # the assumption moves votes (the test can fail): at least one yes in the mean
    assert abs(part["yes"]) > 1.0


def test_reused_runs_are_the_runs_it_would_make() -> None:
    s = load_scenario(DEFAULT_SCENARIO, overrides={"simulation.block_size": 256})
    base = run(s, runs=4 * 256 + 100, seed=SEED)
    fresh = attribute(s, runs=512, seed=SEED)
    reused = attribute(s, runs=512, seed=SEED, base=base)
    assert fresh["as_given"] == reused["as_given"]
    assert fresh["parts"] == reused["parts"]


def test_printed_table_lists_every_part(default_attribution: dict[str, Any]) -> None:
    lines = format_attribution(default_attribution)
    text = "\n".join(lines)
    assert "data only" in text and "= as given" in text
    assert "the parts depend on the order" in text and "95 % interval" in text
    for p in default_attribution["parts"]:
        assert p["label"][:40] in text
    # read forward: data only first, each assumption added in the reverse of its removal order
    rows = [line for line in lines if line.startswith("  + ")]
    labels = [p["label"] for p in reversed(default_attribution["parts"])]
    assert [r[4:].split("  ")[0].rstrip() for r in rows] == [lab[:44] for lab in labels]
    as_given = next(line for line in lines if line.split()[:3] == ["=", "as", "given"])
    yes = float(as_given.split()[3])
    assert yes == pytest.approx(default_attribution["as_given"]["yes"], abs=0.05)


def test_the_forward_parts_add_up_to_as_given_minus_data_only(
    default_attribution: dict[str, Any],
) -> None:
    """At every quantity (the Assembly's yes votes at each vote, the ICC language's retention,
    the referral tabled and adopted) the parts added from the data alone reach the scenario as
    given; the yes votes' parts are the removal table's, in reverse."""
    f = default_attribution["forward"]
    assert list(f["quantities"]) == [
        "third_committee_yes",
        "plenary_yes",
        "icc_retained",
        "referral_tabled",
        "referral_adopted",
    ]
    assert f["order"] == list(reversed(default_attribution["order"]))
    for q in f["quantities"]:
        total = sum(p["change"][q]["mean"] for p in f["parts"])
        assert total == pytest.approx(f["as_given"][q] - f["data_only"][q], abs=1e-9), q
    for stage in ("third_committee", "plenary"):
        table = default_attribution["by_stage"][stage]
        assert f["as_given"][f"{stage}_yes"] == pytest.approx(table["as_given"]["yes"])
        for fwd, back in zip(f["parts"], reversed(table["parts"]), strict=True):
            assert fwd["name"] == back["name"]
            assert fwd["change"][f"{stage}_yes"]["mean"] == pytest.approx(back["yes"])
    # something moves (the test can fail): the ICC language's cost takes yes votes away
    icc = next(p for p in f["parts"] if p["name"] == "icc_aversion")
    assert icc["change"]["plenary_yes"]["mean"] < -5
    assert icc["change"]["plenary_yes"]["ci"] > 0
    # a part is marked where its step removes numbers drawn per run: the shipped scenario draws
    # the charm offensive's strength and the ICC language's cost (a part of a point value is
    # not marked: test_a_drawn_lever_is_marked_with_its_spread_over_runs)
    marked = {p["name"]: p["drawn"] for p in f["parts"]}
    assert marked["strategies[0]"] and marked["icc_aversion"]


def test_a_drawn_lever_is_marked_with_its_spread_over_runs() -> None:
    drawn = {"dist": "truncnorm", "mean": 0.3, "sd": 0.15, "low": 0, "high": 1}
    s = load_scenario(  # the DPRK draft with point values: only this lever is drawn
        POINT_SCENARIO, overrides={"actors.target.strategies[0].intensity": drawn}
    )
    a = attribute(s, runs=RUNS, seed=SEED)
    f = a["forward"]
    marked = {p["name"]: p["drawn"] for p in f["parts"]}
    assert marked["strategies[0]"] and not marked["icc_aversion"]
    charm = next(p for p in f["parts"] if p["name"] == "strategies[0]")
    low, high = charm["change"]["plenary_yes"]["runs"]
    assert low < charm["change"]["plenary_yes"]["mean"] < high
    text = "\n".join(format_attribution(a))
    assert "(runs: Committee " in text


def test_cli_stores_and_prints_the_attribution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "res"
    args = [str(DEFAULT_SCENARIO), "--runs", "300", "--seed", "5", "--no-plots"]
    assert main([*args, "--out", str(out), "--attribution-runs", "200"]) == 0
    text = capsys.readouterr().out
    assert "From the data alone to the scenario as given" in text and "data only" in text
    a = json.loads((out / "summary.json").read_text())["attribution"]
    assert a["stage"] == "third_committee" and a["runs"] == 200
    assert set(a["as_given"]) == set(CATEGORIES) == set(a["data_only"])
    for c in CATEGORIES:
        diff = a["as_given"][c] - a["data_only"][c]
        assert np.isclose(sum(p[c] for p in a["parts"]), diff)
    assert main([*args, "--out", str(tmp_path / "bare"), "--no-attribution"]) == 0
    assert "From the data alone" not in capsys.readouterr().out
    assert "attribution" not in json.loads((tmp_path / "bare" / "summary.json").read_text())


def test_no_assembly_vote_on_the_draft_no_attribution() -> None:
    s = load_scenario(
        DEFAULT_SCENARIO,
        overrides={
            "resolution.stages": ["sc_agenda", "sc_referral"],
            "procedure.council.requires_plenary_adoption": False,
        },
    )
    assert attribute(s, runs=64, seed=SEED) == {}
    assert format_attribution({}) == []
