"""Uncertain levers: numbers of a scenario given as distributions (unsim.uncertainty), drawn once
per run from their own streams (unsim.model.levers), and what uses them."""

from __future__ import annotations

import json
import pickle
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from unsim import Evaluator, load_scenario, run
from unsim.cli import main
from unsim.engine.assumptions import assumptions, data_only
from unsim.engine.attribution import attribute
from unsim.errors import ScenarioError
from unsim.explore.controls import all_controls, build_controls
from unsim.explore.session import Session, WhatIf
from unsim.model import UNModel
from unsim.model.levers import scenario_levers
from unsim.results.text import compare
from unsim.scenario.loader import scenario_from_dict
from unsim.scenario.schema import Scenario
from unsim.streams import Streams
from unsim.uncertainty import Uncertain

from .conftest import POINT_SCENARIO, ROOT

#: The DPRK draft with every lever a point: these tests give distributions of their own.
DEFAULT_SCENARIO = POINT_SCENARIO

TRUNC = {"dist": "truncnorm", "mean": 0.25, "sd": 0.15, "low": 0.0, "high": 5.0}
CHARM = "actors.target.strategies[0].intensity"
INTO_VETO = "procedure.council.table_into_veto"

#: A distribution on (nearly) every kind of lever the model draws per run.
MANY: dict[str, Any] = {
    CHARM: TRUNC,
    "actors.target.strategies[1].credibility": {"dist": "beta", "a": 2, "b": 20},
    "actors.target.strategies[3].exposure_hazard": {"dist": "uniform", "low": 0.1, "high": 0.5},
    "behaviour.icc_aversion": {"dist": "truncnorm", "mean": 2, "sd": 0.5, "low": 0, "high": 4},
    "behaviour.icc_aversion_by_bloc.ICC_PARTIES": {"dist": "uniform", "low": 0.5, "high": 1.5},
    "actors.states.CHN.icc_aversion": {"dist": "beta", "a": 2, "b": 2, "low": 2, "high": 4},
    "actors.states.JPN.support_shift": {"dist": "uniform", "low": -1, "high": 1},
    "actors.states.KOR.position": {"dist": "uniform", "low": -1, "high": 1},
    "actors.states.CHN.council_shift": {"dist": "uniform", "low": -2, "high": 0},
    "behaviour.position_weight": {"dist": "uniform", "low": 1, "high": 2},
    "behaviour.intercept": {"dist": "uniform", "low": -0.5, "high": 0.5},
    "behaviour.state_noise": {"dist": "uniform", "low": 0.2, "high": 0.6},
    "behaviour.amendment_bias": {"dist": "uniform", "low": -1, "high": 0},
    "behaviour.no_action_bias": {"dist": "uniform", "low": -1.5, "high": 0},
    "behaviour.procedural_shift": {"dist": "uniform", "low": 0, "high": 1},
    "behaviour.council_shift": {"dist": "uniform", "low": 0, "high": 1},
    "actors.sponsors.lobbying.budget": {"dist": "lognormal", "median": 15, "sigma": 0.3},
    "actors.sponsors.bargaining.accept_offer_min_credibility": {
        "dist": "uniform",
        "low": 0.05,
        "high": 0.3,
    },
    "actors.allies.tie": {"dist": "uniform", "low": 1, "high": 3},
    "actors.allies.patron_tie": {"dist": "uniform", "low": 1, "high": 3},
    "actors.allies.counter_lobbying.budget": {"dist": "uniform", "low": 0, "high": 1},
    INTO_VETO: {"dist": "uniform", "low": 0.3, "high": 0.7},
    # moved in every run, so that its bias decides something
    "procedure.no_action_motion.move": "always",
}


def _scenario(overrides: dict[str, Any] | None = None) -> Scenario:
    return load_scenario(DEFAULT_SCENARIO, overrides=overrides or {})


def _own_levers() -> set[str]:
    """The default scenario's own distributions (the Council's numbers fitted on its record)."""
    own = {lever.path for lever in scenario_levers(_scenario())}
    assert own and all(p.startswith("procedure.council.") for p in own)
    return own


def _problems(overrides: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as err:
        _scenario(overrides)
    return err.value.render()


# -- the scenario format ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 0.0, "sd": 1.0},
        TRUNC,
        {"dist": "lognormal", "median": 0.5, "sigma": 0.1},
        {"dist": "beta", "a": 2.0, "b": 5.0},
        {"dist": "beta", "a": 2.0, "b": 5.0, "low": 1.0, "high": 3.0},
        {"dist": "uniform", "low": 0.1, "high": 0.4, "source": "a note on the evidence"},
    ],
)
def test_a_distribution_stands_as_its_mean_and_dumps_as_written(spec: dict[str, Any]) -> None:
    path = "actors.states.CHN.support_shift" if spec["dist"] == "normal" else CHARM
    s = _scenario({path: spec})
    value = (
        s.actors.states["CHN"].support_shift
        if spec["dist"] == "normal"
        else (s.actors.target.strategies[0].intensity)
    )
    assert isinstance(value, Uncertain)
    assert float(value) == pytest.approx(value.dist.expectation())
    assert value.dist.source == spec.get("source")
    dumped = s.model_dump(mode="json")
    again = scenario_from_dict(dumped)
    assert again == s
    assert pickle.loads(pickle.dumps(s)) == s
    # a distribution is never equal to a number, not even its mean
    assert value != float(value)


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 1.2, "sd": 0.3},
        {"dist": "truncnorm", "mean": 0.0, "sd": 0.48, "low": 0.0, "high": 5.0},
        {"dist": "truncnorm", "mean": 7.223, "sd": 1.932, "low": 0.0, "high": 1000.0},
        {"dist": "truncnorm", "mean": -10.0, "sd": 1.0, "low": 0.0, "high": 5.0},  # far tail
        {"dist": "truncnorm", "mean": 10.0, "sd": 1.0, "low": -5.0, "high": 0.0},
        {"dist": "truncnorm", "mean": 0.3, "sd": 0.15, "low": 0.0, "high": 1.0},
        {"dist": "lognormal", "median": 3.874, "sigma": 0.4758},
        {"dist": "beta", "a": 1.0, "b": 11.0, "low": 0.1, "high": 2.0},
        {"dist": "uniform", "low": 0.0, "high": 30.0},
    ],
)
def test_moments_and_quantiles_are_scipy_stats_without_loading_it(spec: dict[str, Any]) -> None:
    """Mean, sd and the quantile function come from closed forms and ``scipy.special`` (a run
    need not load ``scipy.stats``): they agree with ``scipy.stats``' distribution."""
    from unsim.uncertainty.values import distribution_from

    dist, problems = distribution_from(spec, ("x",))
    assert dist is not None and not problems
    frozen = dist.frozen()  # scipy.stats' own
    assert dist.expectation() == pytest.approx(float(frozen.mean()), rel=1e-12, abs=1e-12)
    assert dist.deviation() == pytest.approx(float(frozen.std()), rel=1e-9, abs=1e-12)
    u = np.linspace(1e-6, 1 - 1e-6, 20_001)
    reach = float(frozen.ppf(1 - 1e-6) - frozen.ppf(1e-6))
    assert np.max(np.abs(dist.ppf(u) - frozen.ppf(u))) <= 1e-9 * reach


def test_bad_distributions_are_clean_errors_in_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    raw["world"] = str(DEFAULT_SCENARIO.parent / raw["world"])
    raw["calibration"] = str(DEFAULT_SCENARIO.parent / raw["calibration"])
    raw["clause_calibration"] = str(DEFAULT_SCENARIO.parent / raw["clause_calibration"])
    actors, behaviour = raw["actors"], raw.setdefault("behaviour", {})
    actors["target"]["strategies"][0]["intensity"] = {"dist": "normul", "mean": 1, "sd": 1}
    actors["sponsors"]["lobbying"]["budget"] = {"dist": "uniform", "low": 1, "hihg": 2}
    behaviour["icc_aversion"] = {"dist": "normal", "mean": 2, "sd": 1.5}
    behaviour["vote_noise"] = {"dist": "uniform", "low": 0.5, "high": 1.0}
    actors["sponsors"]["bargaining"]["from_round"] = {"dist": "uniform", "low": 1, "high": 3}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    # the misspelt key is also a missing one: six problems, each on its line
    assert "Traceback" not in err and "6 problems" in err
    lines = {line.split(":")[0].lstrip("- "): line for line in err.splitlines()}
    line = lines["actors.target.strategies[0].intensity.dist"]
    assert "unknown distribution" in line and "did you mean 'normal'?" in line
    line = lines["actors.sponsors.lobbying.budget.hihg"]
    assert "unknown key" in line and "did you mean 'high'?" in line
    assert "required key is missing" in lines["actors.sponsors.lobbying.budget.high"]
    line = lines["behaviour.icc_aversion"]
    # a normal's draws reach 6.3 sd either side: beyond [-5, 10]; the suggestion stays inside
    assert "leave the field's bounds [-5, 10]" in line and "-7.5" in line
    assert "{dist: truncnorm, mean: ..., sd: ..., low: -5, high: 10}" in line
    assert "calibration" in lines["behaviour.vote_noise"]
    assert "not allowed" in lines["actors.sponsors.bargaining.from_round"]
    assert "allowed: a whole number" in lines["actors.sponsors.bargaining.from_round"]


def test_a_distribution_inside_the_bounds_is_accepted_and_one_at_their_edge_refused() -> None:
    # a truncated normal on [0, 1] inside an ICC share's [0, 1]; a uniform reaching past it
    _scenario({"actors.target.strategies[0].icc_share": {**TRUNC, "low": 0.0, "high": 1.0}})
    text = _problems(
        {"actors.target.strategies[0].icc_share": {"dist": "uniform", "low": 0.5, "high": 1.5}}
    )
    assert "icc_share" in text and "leave the field's bounds [0, 1]" in text


def _levers_file(tmp_path: Path, before: str = "2014-11-18", **extra: Any) -> Path:
    entry = {
        **TRUNC,
        "unit": "latent shift per round",
        "effect_latent": {"mean": -0.4, "sd": 0.3},
        "effect_yes_votes": {"mean": -6.0, "sd": 4.5},
        "episodes": 7,
        "identified": True,
        "source": "seven earlier campaigns",
        **extra,
    }
    doc = {
        "schema_version": 1,
        "kind": "levers",
        "name": "levers_2014",
        "before": before,
        "method": "test",
        "episodes": ["prk_2011", "irn_2013"],
        "levers": {"charm_offensive.intensity": entry},
    }
    path = tmp_path / "levers.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_levers_file_reference_resolves_and_a_missing_name_gets_a_did_you_mean(
    tmp_path: Path,
) -> None:
    levers = str(_levers_file(tmp_path))
    ref = {"lever": "charm_offensive.intensity"}
    # a reference in behaviour too, which the calibration's fitted values are checked beside
    s = _scenario({"levers": levers, CHARM: ref, "behaviour.icc_aversion": ref})
    assert s.behaviour.icc_aversion == s.actors.target.strategies[0].intensity
    value = s.actors.target.strategies[0].intensity
    assert isinstance(value, Uncertain) and value.lever == "charm_offensive.intensity"
    assert value.dist.mean == 0.25 and value.dist.source == "seven earlier campaigns"
    # the resolved scenario (metadata) carries the file inline and the reference as written
    dumped = s.model_dump(mode="json")
    assert dumped["actors"]["target"]["strategies"][0]["intensity"] == {
        "lever": "charm_offensive.intensity"
    }
    assert scenario_from_dict(dumped) == s
    text = _problems({"levers": levers, CHARM: {"lever": "charm_ofensive.intensity"}})
    assert "no such lever" in text and "did you mean 'charm_offensive.intensity'?" in text
    text = _problems({CHARM: {"lever": "charm_offensive.intensity"}})
    assert "names no levers file" in text


def test_a_levers_file_is_strict_and_dated_before_the_forecast(tmp_path: Path) -> None:
    text = _problems({"levers": str(_levers_file(tmp_path, note="free text"))})
    assert "levers.charm_offensive.intensity.note: unknown key" in text
    assert "identified" in text and "effect_latent" in text  # the allowed keys are listed
    text = _problems({"levers": str(_levers_file(tmp_path, before="2015-01-01"))})
    assert "after the scenario's date 2014-11-18" in text
    text = _problems({"levers": str(tmp_path / "missing.yaml")})
    assert "levers file not found" in text


def test_the_json_schema_shows_the_distributions() -> None:
    schema = Scenario.model_json_schema()
    defs = schema["$defs"]
    budget = defs["Lobbying"]["properties"]["budget"]
    assert budget["maximum"] == 1000
    kinds = str(budget["anyOf"])
    assert "truncnorm" in kinds and "LeverRef" in kinds
    assert "anyOf" not in defs["Behaviour"]["properties"]["vote_noise"]  # a number only
    assert set(defs["TruncNormal"]["required"]) == {"mean", "sd", "low", "high"}


# -- the draws -------------------------------------------------------------------------------------
def test_the_draws_follow_the_distribution_and_are_columns_of_the_run_table() -> None:
    s = _scenario({CHARM: TRUNC})
    runs = run(s, runs=6000, seed=11).runs
    assert runs is not None
    drawn = runs[f"lever:{CHARM}"].to_numpy(dtype=np.float64)
    dist = s.actors.target.strategies[0].intensity.dist
    assert drawn.min() >= 0.0 and drawn.max() <= 5.0
    se = dist.deviation() / np.sqrt(len(drawn))
    assert abs(drawn.mean() - dist.expectation()) < 4 * se
    assert drawn.std() == pytest.approx(dist.deviation(), rel=0.05)
    assert np.quantile(drawn, 0.9) == pytest.approx(dist.quantile(0.9), rel=0.05)
    # the same seed, the same draws; another seed, others
    again = run(s, runs=6000, seed=11).runs
    assert again is not None and np.array_equal(again[f"lever:{CHARM}"], drawn.astype(np.float32))
    other = run(s, runs=6000, seed=12).runs
    assert other is not None and not np.array_equal(
        other[f"lever:{CHARM}"], again[f"lever:{CHARM}"]
    )


def test_a_drawn_lever_takes_its_own_stream_and_no_other() -> None:
    """A run where the chance of tabling into a veto is drawn and one where it is a point at
    a value the draws never take: every random number other than the draws' is the same, so
    every column before the referral draft is identical (and the other lever's draws), and the
    referral draft differs."""
    expected = {"procedure.council.table_referral": "expected"}  # the rule that reads it
    drawn = _scenario({**expected, CHARM: TRUNC, INTO_VETO: MANY[INTO_VETO]})
    point = _scenario({**expected, CHARM: TRUNC, INTO_VETO: 0.95})
    a, b = run(drawn, runs=3000, seed=5).runs, run(point, runs=3000, seed=5).runs
    assert a is not None and b is not None
    column = f"lever:{INTO_VETO}"
    assert column in a and column not in b
    values = a[column].to_numpy()
    assert values.min() > 0.3 and values.max() < 0.7 and not np.any(values == np.float32(0.95))
    downstream = {c for c in a if c.startswith(("sc_referral", "veto_"))} | {column}
    same = [c for c in a if c not in downstream]
    assert f"lever:{CHARM}" in same and "third_committee_yes" in same and "sc_agenda_yes" in same
    for c in same:
        assert np.array_equal(a[c].to_numpy(), b[c].to_numpy()), c
    assert not np.array_equal(a["sc_referral_held"], b["sc_referral_held"])


def test_adding_a_distribution_adds_its_stream_and_changes_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The random streams a block asks for, with the lever drawn and as a point: the same, but
    for the lever's own; and Mesa's generator is left exactly as it was."""
    requests: list[tuple[str, int | None]] = []
    original = Streams.generator

    def recording(self: Streams, name: str, round_: int | None = None) -> Any:
        requests.append((name, round_))
        return original(self, name, round_)

    monkeypatch.setattr(Streams, "generator", recording)
    seen = []
    for value in (MANY[INTO_VETO], 0.95):
        requests.clear()
        m = UNModel(_scenario({CHARM: TRUNC, INTO_VETO: value}), replicates=256, seed=9)
        m.simulate()
        seen.append((Counter(requests), m.rng.bit_generator.state))
    (drawn, mesa_drawn), (point, mesa_point) = seen
    assert drawn - point == Counter({(f"lever:{INTO_VETO}", None): 1})
    assert not point - drawn
    assert mesa_drawn == mesa_point


def test_a_strategy_lever_is_keyed_by_its_entry_not_its_position() -> None:
    path = "actors.target.strategies[2].intensity"  # the threats
    s = _scenario({path: {"dist": "uniform", "low": 0.0, "high": 0.2}})
    entries = [st.model_dump() for st in s.actors.target.strategies]
    fewer = _scenario({path: {"dist": "uniform", "low": 0.0, "high": 0.2}})
    fewer = load_scenario(DEFAULT_SCENARIO, overrides={"actors.target.strategies": entries[1:]})
    a, b = run(s, runs=500, seed=2).runs, run(fewer, runs=500, seed=2).runs
    assert a is not None and b is not None
    assert np.array_equal(a[f"lever:{path}"], b["lever:actors.target.strategies[1].intensity"])


def test_a_key_per_state_draws_per_state_and_a_global_key_once_per_run() -> None:
    spec = {"dist": "uniform", "low": 2.0, "high": 4.0}
    s = _scenario(
        {
            "actors.states.CHN.icc_aversion": spec,
            "actors.states.RUS.icc_aversion": spec,
            "behaviour.icc_aversion": {"dist": "uniform", "low": 1.0, "high": 2.0},
        }
    )
    m = UNModel(s, replicates=2000, seed=4)
    draws = m.levers.draws if m.levers is not None else {}
    chn, rus = draws["actors.states.CHN.icc_aversion"], draws["actors.states.RUS.icc_aversion"]
    assert abs(np.corrcoef(chn, rus)[0, 1]) < 0.1  # independent draws, one per state
    index = s.world.index  # type: ignore[union-attr]
    icc = m.icc_aversion
    np.testing.assert_allclose(icc[index["CHN"]], chn, atol=1e-4)
    np.testing.assert_allclose(icc[index["RUS"]], rus, atol=1e-4)
    # the global cost: one draw per run, the same for every state it applies to (those in no
    # bloc with a cost of its own, with no cost of their own)
    shared = draws["behaviour.icc_aversion"]
    world = s.world
    assert not isinstance(world, str)
    by_bloc = {c for b in s.behaviour.icc_aversion_by_bloc for c in world.members_of(b)}
    owners = [c for c in ("IND", "IDN", "VNM") if c not in s.actors.states and c not in by_bloc]
    assert owners
    for code in owners:
        np.testing.assert_allclose(icc[index[code]], shared, atol=1e-4)


def test_in_each_run_the_draws_act_as_the_point_values_would() -> None:
    """Run j of a scenario with distributions is run j of the same scenario with every
    distribution set to its draw in run j: the same votes, events and outcomes."""
    s = _scenario(MANY)
    m = UNModel(s, replicates=64, seed=3)
    start = (m.baseline.copy(), m.aversion.copy())
    out = m.simulate()
    assert m.levers is not None
    draws = m.levers.draws
    given = {k for k, v in MANY.items() if isinstance(v, dict)}
    assert set(draws) == given | _own_levers()  # and the default scenario's own (the Council's)
    for j in (0, 7, 23):
        point = {k: float(v[j]) for k, v in draws.items()}
        p = UNModel(_scenario({**MANY, **point}), replicates=64, seed=3)
        np.testing.assert_allclose(p.baseline[:, j], start[0][:, j], atol=1e-4)
        np.testing.assert_allclose(p.aversion[:, j], start[1][:, j], atol=1e-4)
        got = p.simulate()
        differ = [c for c in got if not c.startswith("lever:") and got[c][j] != out[c][j]]
        assert differ == [], (j, differ)


# -- attribution, data only, comparisons -----------------------------------------------------------
def test_data_only_on_the_command_line_is_the_attributions_data_only_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(DEFAULT_SCENARIO), "--runs", "1024", "--seed", "8", "--no-plots", "--no-explain"]
    assert main([*args, "--out", str(tmp_path / "given"), "--attribution-runs", "1024"]) == 0
    text = capsys.readouterr().out
    assert "As given beside data only" in text and "Third Committee: yes votes" in text
    given = json.loads((tmp_path / "given" / "summary.json").read_text())
    assert main([*args, "--out", str(tmp_path / "bare"), "--data-only"]) == 0
    assert "every assumption the scenario states removed" in capsys.readouterr().out
    bare = json.loads((tmp_path / "bare" / "summary.json").read_text())
    assert "attribution" not in bare
    for stage in ("third_committee", "plenary"):
        row = given["attribution"]["by_stage"][stage]["data_only"]
        for c in ("yes", "no", "abstain", "absent"):
            assert bare["tallies"][stage][c]["mean"] == pytest.approx(row[c], abs=1e-9)
        forecast = given["data_only"]["rows"][f"{stage}_yes"]
        assert forecast["data_only"] == pytest.approx(row["yes"], abs=1e-9)
        assert forecast["as_given"] == pytest.approx(
            given["tallies"][stage]["yes"]["mean"], abs=0.5
        )
    # each adoption as given beside data only, with the paired difference inside its interval
    for name in ("plenary_adopted", "referral_tabled"):
        r = given["data_only"]["rows"][name]
        assert r["diff"] == pytest.approx(r["as_given"] - r["data_only"], abs=1e-12)
        assert r["ci_low"] <= r["diff"] <= r["ci_high"]
        assert bare["outcomes"][name]["p"] == pytest.approx(r["data_only"], abs=1e-12)
    meta = json.loads((tmp_path / "bare" / "metadata.json").read_text())
    assert meta["data_only"] is True and meta["scenario"]["actors"]["target"]["strategies"] == []
    assert main([*args, "--data-only", "--compare", str(DEFAULT_SCENARIO)]) == 2


def test_data_only_removes_every_stated_lever_and_distribution() -> None:
    s = _scenario(MANY)
    bare = data_only(s)
    assert scenario_levers(bare) == ()
    assert assumptions(bare) == []
    names = [a.name for a in assumptions(s)]
    assert names[-1] == "spread"  # the biases, shifts and noise drawn per run, at their means
    a = run(s, runs=512, seed=6, data_only=True)
    b = run(bare, runs=512, seed=6)
    assert a.runs is not None and b.runs is not None
    assert a.runs.equals(b.runs)
    assert not any(c.startswith("lever:") for c in a.runs)
    assert a.metadata["data_only"] is True


def test_a_drawn_lever_is_removed_by_its_step_and_its_spread_shows_over_runs() -> None:
    budget = "actors.sponsors.lobbying.budget"
    drawn = attribute(
        _scenario({budget: {"dist": "lognormal", "median": 15, "sigma": 0.6}}), 1024, 7
    )
    point = attribute(_scenario({budget: 15.0}), 1024, 7)
    part = {p["name"]: p for p in drawn["parts"]}["lobbying"]
    fixed = {p["name"]: p for p in point["parts"]}["lobbying"]
    assert drawn["order"] == point["order"]  # removed by the same step as a point
    assert drawn["data_only"] == point["data_only"]
    # over runs, the part's change spreads wider with the budget drawn than with it fixed
    assert part["yes_runs"][1] - part["yes_runs"][0] > 1.5 * (
        fixed["yes_runs"][1] - fixed["yes_runs"][0]
    )
    assert part["yes_runs"][0] < part["yes"] < part["yes_runs"][1]


def test_a_comparison_pairs_the_runs_on_the_same_draws() -> None:
    a = _scenario({CHARM: TRUNC, "behaviour.icc_aversion": MANY["behaviour.icc_aversion"]})
    b = _scenario(
        {
            CHARM: TRUNC,
            "behaviour.icc_aversion": MANY["behaviour.icc_aversion"],
            "actors.sponsors.lobbying.budget": 5.0,
        }
    )
    ra, rb = run(a, runs=800, seed=3), run(b, runs=800, seed=3)
    assert ra.runs is not None and rb.runs is not None
    for column in (f"lever:{CHARM}", "lever:behaviour.icc_aversion"):
        assert np.array_equal(ra.runs[column], rb.runs[column])
    table = compare(ra, rb)
    yes = table.set_index("outcome").loc["third_committee_yes_mean"]
    assert yes["diff"] < 0 and yes["ci_high"] < 0  # less lobbying, fewer yes: measured paired


# -- studies ---------------------------------------------------------------------------------------
def test_a_sweep_of_a_loaded_scenario_sets_points_over_its_distributions() -> None:
    """A sweep point's record is the full run of its scenario: the swept lever a point there,
    the others drawn as in the scenario (and a loaded scenario keeps the calibration's fits)."""
    s = _scenario({CHARM: TRUNC, "behaviour.icc_aversion": MANY["behaviour.icc_aversion"]})
    table = Evaluator(s, runs=600, seed=4, workers=1).sweep({CHARM: [0.0, 0.5]})
    for value, row in zip((0.0, 0.5), table.itertuples(index=False), strict=True):
        point = s.model_dump(mode="json", exclude_unset=True)
        full = run(scenario_from_dict(point, overrides={CHARM: value}), runs=600, seed=4)
        assert full.runs is not None
        assert row.third_committee_yes_mean == pytest.approx(
            full.runs["third_committee_yes"].mean(), abs=1e-9
        )
        assert row.referral_tabled_p == full.summary["outcomes"]["referral_tabled"]["p"]


def _drawn_file(folder: Path, levers: Path | None = None) -> Path:
    """The default scenario in ``folder`` with the charm offensive's intensity drawn (from the
    levers file ``levers`` when one is given)."""
    scenario = folder / "drawn.yaml"
    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    for key in ("world", "calibration", "clause_calibration"):
        raw[key] = str(DEFAULT_SCENARIO.parent / raw[key])
    raw["actors"]["target"]["strategies"][0]["intensity"] = TRUNC
    if levers is not None:
        raw["levers"] = levers.name
        raw["actors"]["target"]["strategies"][0]["intensity"] = {
            "lever": "charm_offensive.intensity"
        }
    scenario.write_text(yaml.safe_dump(raw))
    return scenario


def test_a_drawn_lever_is_a_sensitivity_input_over_its_distribution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _drawn_file(tmp_path)
    out = tmp_path / "sens"
    args = ["sensitivity", str(scenario), "--param", CHARM, "--param", f"{INTO_VETO}=0:1"]
    args += ["--n", "2", "--runs", "30", "--seed", "2", "--out", str(out), "--quiet"]
    assert main(args) == 0
    info = json.loads((out / "sensitivity.json").read_text())
    low, high = info["bounds"][CHARM]
    dist = load_scenario(scenario).actors.target.strategies[0].intensity.dist
    assert (low, high) == pytest.approx((dist.quantile(0.01), dist.quantile(0.99)))
    points = pd.read_parquet(out / "sweep.parquet")[CHARM]
    assert points.min() >= low and points.max() <= high
    # a value given as a number has no distribution to take a range from
    assert (
        main(["sensitivity", str(scenario), "--param", INTO_VETO, "--out", str(tmp_path / "x")])
        == 2
    )
    assert "no distribution" in capsys.readouterr().err


def test_the_explorer_shows_a_distribution_at_its_mean_and_keeps_or_replaces_it(
    tmp_path: Path,
) -> None:
    path = _drawn_file(tmp_path, levers=_levers_file(tmp_path))
    session = Session(path, runs=256, seed=3)
    control = next(c for c in all_controls(build_controls(session.scenario)) if c.path == CHARM)
    dist = session.scenario.actors.target.strategies[0].intensity.dist
    assert control.kind == "float" and control.value == pytest.approx(dist.expectation())
    assert "truncnorm(mean 0.25, sd 0.15" in control.spread and "90 % in" in control.spread
    assert "seven earlier campaigns" in control.spread  # its evidence
    kept = session.baseline.run_table()
    assert kept is not None and f"lever:{CHARM}" in kept
    edited = session.results(WhatIf.of({CHARM: 0.4})).run_table()
    assert edited is not None and f"lever:{CHARM}" not in edited
    assert (edited["third_committee_yes"] != kept["third_committee_yes"]).any()
    # saved as YAML, the distribution kept stays a reference to the levers file, which validates
    saved = session.save_yaml(WhatIf(), tmp_path / "sub" / "saved.yaml")
    assert load_scenario(saved) == session.scenario


def test_the_explorers_lever_keeps_a_distribution_or_sets_a_number() -> None:
    """The page's lever of a distribution: a checkbox, ticked while it is drawn per run;
    unticking sets the number shown (its mean), ticking it again drops the number."""
    solara = pytest.importorskip("solara", reason="the explorer needs the explore extra")
    ipyvuetify = pytest.importorskip("ipyvuetify")
    from unsim.explore.drawn import DRAWN
    from unsim.explore.leverui import Lever
    from unsim.explore.pagestate import VALUES

    control = next(
        c for c in all_controls(build_controls(_scenario({CHARM: TRUNC}))) if c.path == CHARM
    )
    VALUES.value = {}
    _, rc = solara.render(Lever(control, DRAWN), handle_error=False)
    (box,) = rc.find(ipyvuetify.Checkbox).widgets
    assert box.v_model is True and "drawn per run" in box.label
    box.v_model = False
    assert VALUES.value == {CHARM: control.value}
    _, rc = solara.render(Lever(control, 0.4), handle_error=False)
    (box,) = rc.find(ipyvuetify.Checkbox).widgets
    assert box.v_model is False
    box.v_model = True
    assert VALUES.value == {}


def test_the_results_folder_and_report_carry_the_draws_and_their_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _drawn_file(tmp_path, levers=_levers_file(tmp_path))
    out = tmp_path / "res"
    args = [str(path), "--runs", "600", "--seed", "3", "--out", str(out), "--no-plots"]
    assert main([*args, "--attribution-runs", "600", "--report", "--csv"]) == 0
    assert "As given beside data only" in capsys.readouterr().out
    runs = pd.read_csv(out / "runs.csv")
    assert runs[f"lever:{CHARM}"].between(0, 5).all() and runs[f"lever:{CHARM}"].std() > 0.05
    meta = json.loads((out / "metadata.json").read_text())
    entry = meta["scenario"]["levers"]["levers"]["charm_offensive.intensity"]
    assert entry["source"] == "seven earlier campaigns" and entry["dist"] == "truncnorm"
    assert meta["scenario"]["actors"]["target"]["strategies"][0]["intensity"] == {
        "lever": "charm_offensive.intensity"
    }
    report = (out / "report.html").read_text()
    assert "Uncertain levers" in report and "seven earlier campaigns" in report
    assert "drawn per run: truncnorm(mean 0.25, sd 0.15" in report
    assert (
        "beside the calibration&#x27;s alone" in report
        or "beside the calibration's alone" in report
    )
    # the folder reads back, its scenario with the distribution
    from unsim.results.tables import Results

    loaded = Results.load(out)
    assert isinstance(loaded.scenario.actors.target.strategies[0].intensity, Uncertain)


def test_a_states_stance_in_parts_adds_up_with_levers_drawn_per_run() -> None:
    """The explain breakdown: with support, ICC and Council levers drawn per run, each state's
    stance at each vote is still the sum of its parts (the drawn parts per run)."""
    from unsim.explain.tracker import Tracker

    tracker = Tracker(_scenario(MANY), seed=1, block=0, size=256)
    tracker.simulate()
    assert set(tracker.stages) == {
        "amendment",
        "third_committee",
        "plenary",
        "sc_agenda",
        "sc_referral",
    }
    for stage, record in tracker.stages.items():
        total = sum(np.asarray(p, np.float64) for p in record.parts.values())
        rows = record.members if record.members is not None else slice(None)
        assert np.abs(total - record.stance)[rows].max() < 1e-4, stage
    # a drawn part varies over runs: the position of a state whose position is drawn
    korea = _scenario(MANY).world.index["KOR"]  # type: ignore[union-attr]
    assert np.ptp(tracker.stages["third_committee"].parts["position"][korea]) > 0.5


def test_the_readmes_example_of_uncertain_levers_validates() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Uncertain levers", 1)[1]
    example = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    strategy = example["actors"]["target"]["strategies"][0]
    s = _scenario(
        {
            CHARM: strategy["intensity"],
            "actors.sponsors.lobbying.budget": example["actors"]["sponsors"]["lobbying"]["budget"],
            "behaviour.icc_aversion": example["behaviour"]["icc_aversion"],
        }
    )
    assert {lever.path for lever in scenario_levers(s)} == {
        CHARM,
        "actors.sponsors.lobbying.budget",
        "behaviour.icc_aversion",
    } | _own_levers()
    # and its levers file's format is the one the loader reads
    levers_doc = yaml.safe_load(section.split("```yaml", 2)[2].split("```", 1)[0])
    from unsim.scenario.leversfile import LeversFile

    assert LeversFile.model_validate(levers_doc).levers["charm_offensive.intensity"].episodes == 7


def test_the_draws_are_the_same_for_any_number_of_workers() -> None:
    """Each block draws from its own streams: the levers' draws, like every other number, do
    not depend on which worker runs the block."""
    s = _scenario({**MANY, "simulation.block_size": 400})
    one, two = run(s, runs=1000, seed=13, workers=1), run(s, runs=1000, seed=13, workers=2)
    assert one.runs is not None and two.runs is not None
    pd.testing.assert_frame_equal(one.runs, two.runs)
    assert one.summary["outcomes"] == two.summary["outcomes"]
    # and a block's draws differ from the next block's
    drawn = one.runs[f"lever:{CHARM}"].to_numpy()
    assert not np.array_equal(drawn[:400], drawn[400:800])


def test_distributions_sharing_a_name_draw_one_uniform_and_keep_their_structure() -> None:
    """``shared: NAME``: every distribution naming it is drawn from one uniform per run (the
    ICC cost of the parties, the non-parties and a state hostile to the Court keep their ratio
    in every run); the others keep their own streams, unchanged."""
    icc = {"dist": "uniform", "low": 0.0, "shared": "icc_cost"}
    shared = {
        "behaviour.icc_aversion_by_bloc.ICC_PARTIES": {**icc, "high": 2.0},
        "behaviour.icc_aversion": {**icc, "high": 4.0},
        "actors.states.CHN.icc_aversion": {**icc, "high": 6.0},
        CHARM: TRUNC,
    }
    runs = run(_scenario(shared), runs=2000, seed=8).runs
    assert runs is not None
    parties = runs["lever:behaviour.icc_aversion_by_bloc.ICC_PARTIES"].to_numpy(np.float64)
    others = runs["lever:behaviour.icc_aversion"].to_numpy(np.float64)
    china = runs["lever:actors.states.CHN.icc_aversion"].to_numpy(np.float64)
    np.testing.assert_allclose(others, 2 * parties, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(china, 3 * parties, rtol=1e-6, atol=1e-6)
    assert parties.min() >= 0 and parties.max() <= 2 and parties.std() > 0.5
    # apart, they are drawn independently; the charm offensive's draws are the same either way
    apart = {k: ({kk: vv for kk, vv in v.items() if kk != "shared"}) for k, v in shared.items()}
    alone = run(_scenario(apart), runs=2000, seed=8).runs
    assert alone is not None
    free = alone["lever:behaviour.icc_aversion"].to_numpy(np.float64)
    free_parties = alone["lever:behaviour.icc_aversion_by_bloc.ICC_PARTIES"].to_numpy(np.float64)
    assert abs(np.corrcoef(free, free_parties)[0, 1]) < 0.1
    assert np.array_equal(runs[f"lever:{CHARM}"], alone[f"lever:{CHARM}"])
    # the name is written back as given, and shown with the distribution
    s = _scenario(shared)
    assert s.model_dump(mode="json")["behaviour"]["icc_aversion"]["shared"] == "icc_cost"
    assert "drawn with icc_cost" in s.behaviour.icc_aversion.dist.describe()  # type: ignore[attr-defined]
    text = _problems({"behaviour.icc_aversion": {**icc, "high": 4.0, "shared": "icc cost"}})
    assert "behaviour.icc_aversion.shared" in text
