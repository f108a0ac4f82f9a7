"""The evaluator of studies: a study's results do not depend on the number of workers, a resumed
study gives the table of one run in one go, and the settings it holds apply to every study."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import unsim.studies.execution as execution_mod
from unsim.scenario.loader import read_yaml
from unsim.studies.evaluator import Evaluator, Sensitivity, SweepDesign

from .conftest import DEFAULT_SCENARIO, SCENARIOS

CHARM = "actors.target.strategies[0].intensity"
THREATS = "actors.target.strategies[2].intensity"
AVERSION = "behaviour.icc_aversion"


def _small_blocks() -> dict[str, Any]:
    """The default scenario in blocks of 128 runs: a point of 300 runs has three blocks."""
    raw = read_yaml(DEFAULT_SCENARIO)
    raw["simulation"] = {**raw["simulation"], "block_size": 128}
    return raw


def _evaluator(workers: int, **kwargs: Any) -> Evaluator:
    return Evaluator(_small_blocks(), base_dir=SCENARIOS, workers=workers, **kwargs)


def _study(kind: str, ev: Evaluator) -> pd.DataFrame:
    if kind == "grid":
        return ev.sweep(SweepDesign({CHARM: [0.0, 0.2], AVERSION: [1.0, 2.5]}))
    if kind == "one point":  # its blocks spread over the workers
        return ev.points([{CHARM: 0.1, THREATS: 0.2}])
    if kind == "sobol":
        params = {CHARM: (0.0, 0.3), AVERSION: (0.5, 3.0)}
        return ev.sobol(Sensitivity(params, ["plenary_yes_mean", "icc_retained"], n=2))
    raw = read_yaml(DEFAULT_SCENARIO)
    strategies = raw["actors"]["target"]["strategies"]
    return ev.compare({"charm": [strategies[0]], "threats": [strategies[2]]})


@pytest.mark.parametrize("kind", ["grid", "one point", "sobol", "compare"])
def test_a_studys_results_do_not_depend_on_the_worker_count(kind: str) -> None:
    one = _study(kind, _evaluator(1, runs=300, seed=17))
    two = _study(kind, _evaluator(2, runs=300, seed=17))
    pd.testing.assert_frame_equal(two, one, check_exact=True)
    assert one.attrs == two.attrs
    # the study measured something (the test would pass trivially on empty or constant tables)
    if kind == "grid":
        assert one["plenary_yes_mean"].nunique() == 4
    elif kind == "one point":
        assert len(one) == 1 and one["runs"].iloc[0] == 300 and one["plenary_yes_mean"].iloc[0] > 0
    elif kind == "sobol":
        assert one["ST"].notna().sum() == 2 and one.attrs["evaluations"] == 8
    else:
        assert (one["diff"] != 0).any() and (one["n"] == 300).any()


def test_a_resumed_sensitivity_analysis_gives_the_table_of_one_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = Sensitivity({CHARM: (0.0, 0.3), AVERSION: (0.5, 3.0)}, n=4)
    whole = Evaluator(DEFAULT_SCENARIO, runs=60, seed=5).sobol(problem)

    out = tmp_path / "sobol"
    real = execution_mod.evaluate_points
    tasks: list[int] = []

    def interrupted(task: Any) -> Any:
        if len(tasks) == 3:
            raise KeyboardInterrupt
        tasks.append(len(task[4]))
        return real(task)

    monkeypatch.setattr(execution_mod, "evaluate_points", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Evaluator(DEFAULT_SCENARIO, runs=60, seed=5, out=out).sobol(problem)
    assert json.loads((out / "metadata.json").read_text())["status"] == "running"
    monkeypatch.setattr(execution_mod, "evaluate_points", real)

    resumed = Evaluator(DEFAULT_SCENARIO, runs=60, seed=5, out=out, resume=True).sobol(problem)
    pd.testing.assert_frame_equal(resumed, whole, check_exact=True)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["status"] == "complete" and meta["design"] == "sensitivity"
    assert meta["resumed"] == sum(tasks) > 0 and meta["computed"] == meta["points"] - sum(tasks)


def test_the_seed_is_chosen_once_and_shared_by_every_study(tmp_path: Path) -> None:
    raw = read_yaml(DEFAULT_SCENARIO)
    raw["simulation"] = {**raw["simulation"], "seed": 123}
    ev = Evaluator(raw, base_dir=SCENARIOS, runs=40)
    assert ev.seed == 123  # the scenario's
    table = ev.sweep({CHARM: [0.0, 0.3]})
    assert table.attrs["seed"] == 123 and (table["runs"] == 40).all()
    again = Evaluator(DEFAULT_SCENARIO, runs=40, seed=123).points([{CHARM: 0.3}])
    pd.testing.assert_frame_equal(
        again.drop(columns="point"), table.iloc[[1]].reset_index(drop=True).drop(columns="point")
    )
    # resuming without a seed takes the saved study's
    out = tmp_path / "s"
    first = Evaluator(DEFAULT_SCENARIO, runs=20, out=out).sweep({CHARM: [0.0]})
    assert Evaluator(DEFAULT_SCENARIO, out=out, resume=True).seed == first.attrs["seed"]


def test_runs_per_point_default_by_study() -> None:
    ev = Evaluator(DEFAULT_SCENARIO, seed=1)
    assert ev.runs_per_point() == ev.scenario.simulation.runs
    assert ev.runs_per_point(500) == 500
    assert Evaluator(DEFAULT_SCENARIO, seed=1, runs=30).runs_per_point(500) == 30
    with pytest.raises(ValueError, match="at least 1"):
        Evaluator(DEFAULT_SCENARIO, runs=0)
