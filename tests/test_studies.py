"""Studies: sweep points on a reused model, the streamed run table, the convergence check of a
sensitivity analysis, scenario discovery and the labels and plots of study folders."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from unsim.errors import ScenarioError
from unsim.studies.points import change_level, set_values
from unsim.sweeps import evaluate, execute_points, prepare

from .conftest import DEFAULT_SCENARIO

CHARM = "actors.target.strategies[0].intensity"
THREATS = "actors.target.strategies[2].intensity"


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def plain(r: dict[str, Any]) -> tuple[Any, ...]:
        means = tuple(None if math.isnan(v) else v for v in r["means"].values())
        return (r["n"], r["outcomes"], means)

    return plain(a) == plain(b)


@pytest.mark.parametrize(
    ("param", "values"),
    [
        (CHARM, [0.0, 0.3, 0.12]),  # read while a history unfolds: the scenario swapped
        ("behaviour.icc_aversion", [0.5, 3.0, 1.5]),  # the parameters rebuilt
        ("actors.allies.tie", [0.0, 2.0]),
        ("simulation.rounds.plenary", [0, 5, 2]),
        ("resolution.clauses.icc_referral", [False, True]),  # a new model
    ],
)
def test_point_on_a_reused_model_equals_a_freshly_built_one(param: str, values: list[Any]) -> None:
    base = prepare(DEFAULT_SCENARIO, None)
    items = [(i, {param: v}) for i, v in enumerate(values)]
    got: dict[int, dict[str, Any]] = {}
    for done in execute_points(base, items, runs=300, seed=11):  # one model, point after point
        got.update(done)
    for i, point in items:
        _, fresh = evaluate((i, base.point(point), 300, 11, ()))  # a new scenario, a new model
        assert _same(got[i], fresh), point
    # the points differ (the test would pass trivially if the value were ignored)
    assert len({str(r["outcomes"]) + str(r["means"]) for r in got.values()}) == len(values)


def test_point_reuse_spans_blocks() -> None:
    """Points of several blocks each (a block of 128 runs, 300 runs a point)."""
    base = prepare(DEFAULT_SCENARIO, None)
    base.scenario = set_values(base.scenario, {"simulation.block_size": 128})
    base.raw = {**base.raw, "simulation": {**base.raw["simulation"], "block_size": 128}}
    items = [(0, {CHARM: 0.2, THREATS: 0.0}), (1, {CHARM: 0.0, THREATS: 0.3})]
    got: dict[int, dict[str, Any]] = {}
    for done in execute_points(base, items, runs=300, seed=3):
        got.update(done)
    for i, point in items:
        assert _same(got[i], evaluate((i, base.point(point), 300, 3, ()))[1])


def test_set_values_checks_each_value_and_marks_it_set() -> None:
    base = prepare(DEFAULT_SCENARIO, None)
    s = set_values(base.scenario, {"behaviour.icc_aversion": 2, CHARM: 0.25})
    assert s.behaviour.icc_aversion == 2.0 and isinstance(s.behaviour.icc_aversion, float)
    assert "icc_aversion" in s.behaviour.model_fields_set  # a calibration does not fill it
    assert s.actors.target.strategies[0].intensity == 0.25
    assert base.scenario.actors.target.strategies[0].intensity != 0.25  # the base unchanged
    assert s == base.point({"behaviour.icc_aversion": 2, CHARM: 0.25})
    with pytest.raises(ScenarioError) as info:
        set_values(base.scenario, {CHARM: -1.0})
    assert CHARM in str(info.value) and "greater than or equal to 0" in str(info.value)


def test_change_level() -> None:
    assert change_level([CHARM, "simulation.rounds.plenary"]) == "state"
    assert change_level([CHARM, "behaviour.intercept"]) == "parameters"
    assert change_level(["resolution.clauses.icc_referral"]) == "model"


# --------------------------------------------------------------------------------------------
# The run table written as blocks arrive
# --------------------------------------------------------------------------------------------
def test_run_table_written_in_batches_equals_the_one_written_at_once(tmp_path: Path) -> None:
    from unsim.engine import run
    from unsim.engine.blocks import iter_blocks
    from unsim.engine.results import runs_frame
    from unsim.engine.runtable import RunTableWriter
    from unsim.scenario import load_scenario

    scenario = load_scenario(DEFAULT_SCENARIO)
    blocks = [(b, size) for b, size in enumerate([100, 100, 37])]
    chunks = [res.runs for res in iter_blocks(scenario, 5, blocks, keep_runs=True)]
    assert all(c is not None for c in chunks)
    at_once = runs_frame([c for c in chunks if c is not None])
    at_once.to_parquet(tmp_path / "once.parquet", index=False)
    with RunTableWriter(tmp_path / "batches.parquet") as writer:
        for c in chunks:
            assert c is not None
            writer.write(c)
    assert pq.ParquetFile(tmp_path / "batches.parquet").num_row_groups == 3
    once = pd.read_parquet(tmp_path / "once.parquet")
    batches = pd.read_parquet(tmp_path / "batches.parquet")
    pd.testing.assert_frame_equal(batches, once, check_exact=True)
    assert list(batches["run"]) == list(range(237))

    # through run(): the file streamed by the engine equals the table it keeps in memory
    small = scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update={"block_size": 64})}
    )
    kept = run(small, runs=300, seed=9, workers=1)
    streamed = run(small, runs=300, seed=9, workers=1, run_table=tmp_path / "run.parquet")
    assert streamed.runs is None and streamed.runs_file == tmp_path / "run.parquet"
    assert kept.runs is not None
    pd.testing.assert_frame_equal(streamed.run_table(), kept.runs, check_exact=True)
    assert streamed.summary == kept.summary


def test_an_interrupted_stream_leaves_no_file(tmp_path: Path) -> None:
    from unsim.engine.runtable import RunTableWriter

    path = tmp_path / "runs.parquet"
    with pytest.raises(RuntimeError), RunTableWriter(path) as writer:
        writer.write({"icc_status": np.zeros(3, np.int8), "icc_reason": np.zeros(3, np.int8)})
        raise RuntimeError("interrupted")
    assert not path.exists()
