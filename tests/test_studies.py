"""Studies: sweep points on a reused model, the streamed run table, the convergence check of a
sensitivity analysis, scenario discovery and the labels and plots of study folders."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from unsim.engine.executors import LocalExecutor
from unsim.errors import ScenarioError
from unsim.scenario.overrides import set_values
from unsim.scenario.schema import GA_STAGES
from unsim.studies.base import Base, prepare
from unsim.studies.execution import execute_points
from unsim.studies.points import change_level
from unsim.studies.table import OUTCOME_FIELDS

from .conftest import DEFAULT_SCENARIO

CHARM = "actors.target.strategies[0].intensity"
THREATS = "actors.target.strategies[2].intensity"


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def plain(r: dict[str, Any]) -> tuple[Any, ...]:
        means = tuple(None if math.isnan(v) else v for v in r["means"].values())
        return (r["n"], r["outcomes"], means)

    return plain(a) == plain(b)


def _full_run(base: Base, point: dict[str, Any], runs: int, seed: int) -> dict[str, Any]:
    """A point's record from a full ``run()`` of its scenario, validated whole (its summary)."""
    from unsim.engine import run

    summary = run(base.point(point), runs=runs, seed=seed, keep_runs=False).summary
    outcomes = {
        name: {f: float(v[f]) for f in OUTCOME_FIELDS} for name, v in summary["outcomes"].items()
    }
    means = {}
    for stage in GA_STAGES:
        tally = summary["tallies"].get(stage)
        means[f"{stage}_yes_mean"] = float(tally["yes"]["mean"]) if tally else math.nan
    return {"n": int(summary["runs"]), "outcomes": outcomes, "means": means}


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
    for done in execute_points(base, items, 300, 11, LocalExecutor(1)):  # one model, reused
        got.update(done)
    for i, point in items:
        fresh = _full_run(base, point, 300, 11)  # a new scenario, a new model
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
    for done in execute_points(base, items, 300, 3, LocalExecutor(1)):
        got.update(done)
    for i, point in items:
        assert _same(got[i], _full_run(base, point, 300, 3))


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
    from unsim.results.runtable import RunTableWriter
    from unsim.results.tables import runs_frame
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
    from unsim.results.runtable import RunTableWriter

    path = tmp_path / "runs.parquet"
    with pytest.raises(RuntimeError), RunTableWriter(path) as writer:
        writer.write({"icc_status": np.zeros(3, np.int8), "icc_reason": np.zeros(3, np.int8)})
        raise RuntimeError("interrupted")
    assert not path.exists()


# --------------------------------------------------------------------------------------------
# Convergence of a sensitivity analysis
# --------------------------------------------------------------------------------------------
ISHIGAMI_BOUNDS = {f"x{i}": (-math.pi, math.pi) for i in (1, 2, 3)}


def _ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_convergence_warning_fires_on_a_sparse_sample_and_not_on_a_large_one() -> None:
    from unsim.studies.convergence import convergence_warnings, suggest_n
    from unsim.studies.sensitivity import morris_analysis, sobol_analysis

    sparse = convergence_warnings(sobol_analysis(_ishigami, ISHIGAMI_BOUNDS, 4, seed=0))
    assert sparse and all(w.outcome == "y0" for w in sparse)
    assert {w.kind for w in sparse} <= {"first_above_total", "negative", "wide_interval"}
    enough = sobol_analysis(_ishigami, ISHIGAMI_BOUNDS, 1024, seed=0)
    assert convergence_warnings(enough) == []
    # the large sample finds the known indices (S1 = 0.31, 0.44, 0; ST = 0.56, 0.44, 0.24)
    st = enough.set_index("parameter")["ST"]
    assert abs(st["x1"] - 0.557) < 0.08 and abs(st["x3"] - 0.244) < 0.06
    assert suggest_n(4, "sobol") == 16

    assert convergence_warnings(morris_analysis(_ishigami, ISHIGAMI_BOUNDS, 4, seed=0))
    assert convergence_warnings(morris_analysis(_ishigami, ISHIGAMI_BOUNDS, 50, seed=0)) == []


def test_convergence_signs_on_a_table() -> None:
    from unsim.studies.convergence import convergence_warnings

    table = pd.DataFrame(
        [
            # first order well above the total, beyond both intervals
            {
                "outcome": "o",
                "parameter": "a",
                "S1": 0.6,
                "S1_conf": 0.05,
                "ST": 0.3,
                "ST_conf": 0.05,
            },
            # a total index below zero beyond its interval
            {
                "outcome": "o",
                "parameter": "b",
                "S1": 0.0,
                "S1_conf": 0.01,
                "ST": -0.2,
                "ST_conf": 0.05,
            },
            # a sound row: no sign
            {
                "outcome": "o",
                "parameter": "c",
                "S1": 0.2,
                "S1_conf": 0.02,
                "ST": 0.25,
                "ST_conf": 0.03,
            },
            # an index near zero with a small interval: it cannot matter, no sign
            {
                "outcome": "o",
                "parameter": "d",
                "S1": 0.0,
                "S1_conf": 0.01,
                "ST": 0.005,
                "ST_conf": 0.01,
            },
        ]
    )
    kinds = {(w.parameter, w.kind) for w in convergence_warnings(table)}
    # b's total below zero also puts its first-order index above it
    assert kinds == {("a", "first_above_total"), ("b", "negative"), ("b", "first_above_total")}


# --------------------------------------------------------------------------------------------
# Scenario discovery
# --------------------------------------------------------------------------------------------
def test_prim_finds_the_box_of_a_toy_outcome() -> None:
    from unsim.studies.discovery import discover

    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.random((2000, 4)), columns=["a", "b", "c", "d"])
    y = ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()  # the cases: a in (0.6, 1], b in [0, 0.3)
    (box,) = discover(x, y, density=0.9)
    lim = box.limits.set_index("parameter")
    assert set(lim.index) == {"a", "b"}  # c and d do not matter and stay unrestricted
    assert abs(lim.loc["a", "low"] - 0.6) < 0.03 and lim.loc["a", "high"] > 0.97
    assert lim.loc["b", "low"] < 0.03 and abs(lim.loc["b", "high"] - 0.3) < 0.03
    assert box.coverage > 0.9 and box.density > 0.9
    assert len(box.trajectory) > 5 and box.trajectory["coverage"].iloc[0] == 1.0


def test_discover_and_plot_a_sweep_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from unsim.cli import main

    sweep_dir = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            str(DEFAULT_SCENARIO),
            "--param",
            "actors.sponsors.bargaining.accept_offer_min_credibility=0:1:6",
            "--param",
            f"{CHARM}=0,0.3",
            "--runs",
            "60",
            "--seed",
            "3",
            "--out",
            str(sweep_dir),
            "--quiet",
        ]
    )
    assert code == 0
    out = tmp_path / "found"
    args = ["discover", str(sweep_dir), "--outcome", "icc_retained", "--below", "--out", str(out)]
    assert main([*args, "--threshold", "0.5"]) == 0
    said = capsys.readouterr()
    text = said.out
    assert "box 1: coverage" in text and "bargaining: accept offer min credibility" in text
    assert said.err.startswith("unsim: looking for boxes of icc_retained (PRIM) over the points")
    assert f"unsim: saving the discovery to {out} (drawing its figure)" in said.err
    for name in ("boxes.csv", "trajectory.csv", "discovery.json", "discovery.png"):
        assert (out / name).exists(), name
    assert main([*args, "--threshold", "0.5"]) != 0  # the folder is not overwritten
    capsys.readouterr()
    assert main(["discover", str(sweep_dir), "--outcome", "icc_retaind"]) == 2
    assert "unknown outcome 'icc_retaind'" in capsys.readouterr().err
    # every point a case (the plenary adopts at all of them): an error, not PRIM's assertion
    assert main(["discover", str(sweep_dir), "--outcome", "plenary_adopted"]) == 2
    err = capsys.readouterr().err
    assert "every point has plenary_adopted at least 0.5, so there are no boxes to find" in err
    assert "internal error" not in err

    assert main(["plot", str(sweep_dir)]) == 0
    assert main(["plot", str(out)]) == 0
    written = capsys.readouterr().out.split()
    assert str(sweep_dir / "sweep_icc_retained.png") in written
    assert str(out / "discovery.png") in written


def test_sensitivity_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from unsim.cli import main

    out = tmp_path / "sens"
    args = [
        "sensitivity",
        str(DEFAULT_SCENARIO),
        "--method",
        "sobol",
        "--param",
        f"{CHARM}=0:0.4",
        "--param",
        "actors.sponsors.bargaining.accept_offer_min_credibility=0:1",
        "--n",
        "4",
        "--runs",
        "40",
        "--seed",
        "2",
        "--outcome",
        "icc_retained",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "charm offensive: intensity" in captured.out
    assert "warning: the sample looks too small" in captured.err and "--n 16" in captured.err
    info = json.loads((out / "sensitivity.json").read_text())
    assert info["method"] == "sobol" and info["points"] == 16 and info["warnings"]
    indices = pd.read_parquet(out / "indices.parquet")
    assert set(indices["parameter"]) == {
        CHARM,
        "actors.sponsors.bargaining.accept_offer_min_credibility",
    }
    assert (out / "indices.png").exists() and (out / "sweep.parquet").exists()
    # resumed: nothing runs again, the same indices
    assert main([*args, "--resume", "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "indices.parquet"), indices)
    assert json.loads((out / "metadata.json").read_text())["computed"] == 0
    # redrawn by unsim plot
    assert main(["plot", str(out)]) == 0
    assert str(out / "indices.png") in capsys.readouterr().out
    # bad input: a clear message, no traceback
    assert main(["sensitivity", str(DEFAULT_SCENARIO), "--param", f"{CHARM}=0.5:0.1"]) == 2
    assert "LOW < HIGH" in capsys.readouterr().err


def test_labels_in_words() -> None:
    from unsim.studies.labels import describe, labels

    base = prepare(DEFAULT_SCENARIO, None)
    names = labels(
        [CHARM, THREATS, "behaviour.icc_aversion", "simulation.rounds.plenary"], base.scenario
    )
    assert names == {
        CHARM: "charm offensive: intensity",
        THREATS: "threats: intensity",
        "behaviour.icc_aversion": "behaviour: ICC aversion",
        "simulation.rounds.plenary": "diplomatic rounds before: plenary",
    }
    assert describe(CHARM, base.scenario) == "shift per active round (latent scale)"


def test_a_worker_builds_one_model_for_all_its_points(monkeypatch: pytest.MonkeyPatch) -> None:
    import unsim.engine.blocks as blocks_mod
    from unsim.model import UNModel

    built: list[int] = []

    class Counting(UNModel):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(blocks_mod, "UNModel", Counting)
    base = prepare(DEFAULT_SCENARIO, None)
    items = [(i, {CHARM: 0.01 * i, "behaviour.icc_aversion": 1 + 0.05 * i}) for i in range(40)]
    tasks = 0
    for _ in execute_points(base, items, 20, 1, LocalExecutor(1)):  # 20 tasks of 2 points
        tasks += 1
    assert tasks > 1 and len(built) == 1
