"""Parameter sweeps: designs, common random numbers, resuming, parallel runs, the command line,
plots, and the strategy comparison built on them."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml

import unsim.studies.execution as execution_mod
from unsim.cli.sweep import parse_param
from unsim.errors import ScenarioError
from unsim.scenario.loader import read_yaml
from unsim.studies.evaluator import Evaluator
from unsim.studies.strategy_compare import default_variants, plot_strategies
from unsim.studies.sweeps import (
    grid_points,
    lhs_points,
    load_sweep,
    param_columns,
    plot_heatmap,
    plot_outcome,
)

from .conftest import DEFAULT_SCENARIO, SCENARIOS

matplotlib.use("Agg")

CHARM = "actors.target.strategies[0].intensity"
THREATS = "actors.target.strategies[2].intensity"
CREDIBILITY = "actors.sponsors.bargaining.accept_offer_min_credibility"
TABLE_REFERRAL = "procedure.council.table_referral"


# --------------------------------------------------------------------------------------------
# Designs
# --------------------------------------------------------------------------------------------
def test_grid_has_every_combination_in_order() -> None:
    points = grid_points({"a": [1, 2, 3], "b": ["x", "y"], "c": [True]})
    assert len(points) == 6
    assert points[0] == {"a": 1, "b": "x", "c": True}
    assert points[1] == {"a": 1, "b": "y", "c": True}
    assert points[-1] == {"a": 3, "b": "y", "c": True}
    assert {(p["a"], p["b"]) for p in points} == {(a, b) for a in (1, 2, 3) for b in "xy"}


def test_grid_rejects_empty_values() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        grid_points({"a": []})


def test_latin_hypercube_puts_one_point_in_each_stratum() -> None:
    n = 17
    points = lhs_points({"a": (0.0, 2.0), "b": (-1.0, 1.0)}, n, seed=3)
    assert len(points) == n
    for name, (low, high) in {"a": (0.0, 2.0), "b": (-1.0, 1.0)}.items():
        values = np.array([p[name] for p in points])
        assert ((values >= low) & (values <= high)).all()
        strata = np.floor((values - low) / (high - low) * n).astype(int)
        assert sorted(strata) == list(range(n))
    assert lhs_points({"a": (0.0, 2.0), "b": (-1.0, 1.0)}, n, seed=3) == points
    assert lhs_points({"a": (0.0, 2.0), "b": (-1.0, 1.0)}, n, seed=4) != points


def test_latin_hypercube_whole_number_ranges() -> None:
    points = lhs_points({"rounds": (2, 9)}, 8, seed=1)
    values = [p["rounds"] for p in points]
    assert all(isinstance(v, int) for v in values)
    assert sorted(values) == list(range(2, 10))  # 8 strata over 8 whole numbers


def test_latin_hypercube_needs_ranges() -> None:
    with pytest.raises(ValueError, match="range"):
        lhs_points({"a": [0.0, 1.0, 2.0]}, 4)


# --------------------------------------------------------------------------------------------
# Common random numbers
# --------------------------------------------------------------------------------------------
def test_parameter_without_effect_gives_identical_probabilities() -> None:
    """When to table a Council referral cannot change what happens in the General Assembly."""
    values = ["never", "always", "if_nine_votes", "if_no_veto_expected"]
    df = Evaluator(DEFAULT_SCENARIO, runs=300, seed=11).sweep({TABLE_REFERRAL: values})
    assert list(df[TABLE_REFERRAL]) == values
    for outcome in ("committee_adopted", "plenary_adopted", "icc_retained"):
        for f in ("p", "ci_low", "ci_high"):
            assert df[f"{outcome}_{f}"].nunique() == 1, outcome
    assert df["plenary_yes_mean"].nunique() == 1
    # ... while the Council stage does depend on it
    assert df["referral_tabled_p"].nunique() > 1
    assert df.loc[df[TABLE_REFERRAL] == "never", "referral_tabled_p"].item() == 0.0


def test_table_is_tidy() -> None:
    df = Evaluator(DEFAULT_SCENARIO, runs=100, seed=2).sweep(
        {CHARM: [0.0, 0.2], CREDIBILITY: [0.3, 0.9]}
    )
    assert len(df) == 4
    assert param_columns(df) == [CHARM, CREDIBILITY]
    assert list(df["point"]) == [0, 1, 2, 3]
    assert (df["runs"] == 100).all()
    for outcome in ("plenary_adopted", "icc_retained", "referral_adopted", "committee_adopted"):
        p, lo, hi = (df[f"{outcome}_{f}"] for f in ("p", "ci_low", "ci_high"))
        assert ((lo <= p + 1e-12) & (p <= hi + 1e-12)).all()
        assert ((p >= 0) & (p <= 1)).all()


def test_invalid_point_fails_before_running(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("no point may run")

    monkeypatch.setattr(execution_mod, "evaluate_points", boom)
    with pytest.raises(ScenarioError) as info:
        Evaluator(DEFAULT_SCENARIO, runs=10, seed=1).sweep({CHARM: [0.1, -1.0]})
    text = str(info.value)
    assert "point 1" in text and CHARM in text and "greater than or equal to 0" in text


# --------------------------------------------------------------------------------------------
# Saving and resuming
# --------------------------------------------------------------------------------------------
def test_resume_skips_finished_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    params = {CHARM: [0.0, 0.1, 0.2], THREATS: [0.0, 0.3]}
    full = Evaluator(DEFAULT_SCENARIO, runs=120, seed=7).sweep(params)

    out = tmp_path / "sweep"
    real = execution_mod.evaluate_points
    calls: list[int] = []

    def interrupted(task, *args, **kwargs):  # type: ignore[no-untyped-def]
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.extend(index for index, *_ in task[4])
        return real(task, *args, **kwargs)

    monkeypatch.setattr(execution_mod, "evaluate_points", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Evaluator(DEFAULT_SCENARIO, runs=120, seed=7, out=out).sweep(params)
    assert len(list((out / "points").glob("*.json"))) == 2
    assert json.loads((out / "metadata.json").read_text())["status"] == "running"
    assert not (out / "sweep.parquet").exists()

    done = list(calls)
    calls.clear()

    def counting(task, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.extend(index for index, *_ in task[4])
        return real(task, *args, **kwargs)

    monkeypatch.setattr(execution_mod, "evaluate_points", counting)
    resumed = Evaluator(DEFAULT_SCENARIO, runs=120, seed=7, out=out, resume=True).sweep(params)
    assert sorted(calls) == sorted(set(range(6)) - set(done))
    pd.testing.assert_frame_equal(resumed, full)

    meta = json.loads((out / "metadata.json").read_text())
    assert meta["status"] == "complete" and meta["resumed"] == 2 and meta["computed"] == 4
    assert meta["seed"] == 7 and meta["design"] == "grid" and CHARM in meta["params"]
    saved = load_sweep(out)
    pd.testing.assert_frame_equal(saved, full, check_dtype=False)

    # a finished sweep resumes without running anything
    calls.clear()
    again = Evaluator(DEFAULT_SCENARIO, runs=120, seed=7, out=out, resume=True).sweep(params)
    assert calls == []
    pd.testing.assert_frame_equal(again, full)


def test_resume_recomputes_when_runs_change(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    Evaluator(DEFAULT_SCENARIO, runs=50, seed=7, out=out).sweep({CHARM: [0.0, 0.1]})
    df = Evaluator(DEFAULT_SCENARIO, runs=60, seed=7, out=out, resume=True).sweep(
        {CHARM: [0.0, 0.1]}
    )
    assert (df["runs"] == 60).all()
    assert json.loads((out / "metadata.json").read_text())["computed"] == 2


# --------------------------------------------------------------------------------------------
# Parallel
# --------------------------------------------------------------------------------------------
def test_workers_and_dask_give_the_same_table() -> None:
    from distributed import Client, LocalCluster

    from unsim.engine import DaskExecutor

    params = {CHARM: [0.0, 0.15], CREDIBILITY: [0.4, 0.8]}
    serial = Evaluator(DEFAULT_SCENARIO, runs=80, seed=5).sweep(params)
    local = Evaluator(DEFAULT_SCENARIO, runs=80, seed=5, workers=2).sweep(params)
    pd.testing.assert_frame_equal(local, serial)
    with (
        LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
        DaskExecutor(client) as executor,
    ):
        dask = Evaluator(DEFAULT_SCENARIO, runs=80, seed=5, executor=executor).sweep(params)
    pd.testing.assert_frame_equal(dask, serial)


# --------------------------------------------------------------------------------------------
# Declared in the scenario; the command line
# --------------------------------------------------------------------------------------------
def _scenario_with_sweep(tmp_path: Path, spec: dict[str, object]) -> Path:
    raw = read_yaml(DEFAULT_SCENARIO)
    raw["world"] = str(SCENARIOS / raw["world"])
    raw["calibration"] = str(SCENARIOS / raw["calibration"])
    raw["levers"] = str(SCENARIOS / raw["levers"])
    raw["clause_calibration"] = str(SCENARIOS / raw["clause_calibration"])
    raw["sweep"] = spec
    path = tmp_path / "swept.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_sweep_declared_in_the_scenario(tmp_path: Path) -> None:
    path = _scenario_with_sweep(
        tmp_path, {"params": {CHARM: [0.0, 0.3], CREDIBILITY: [0.2, 0.9]}, "runs": 40}
    )
    out = tmp_path / "declared"
    df = Evaluator(path, seed=3, out=out).sweep()
    assert len(df) == 4 and (df["runs"] == 40).all()
    assert param_columns(df) == [CHARM, CREDIBILITY]
    # widening the declared grid and resuming runs only the new points
    path = _scenario_with_sweep(
        tmp_path, {"params": {CHARM: [0.0, 0.3, 0.5], CREDIBILITY: [0.2, 0.9]}, "runs": 40}
    )
    wider = Evaluator(path, seed=3, out=out, resume=True).sweep()
    assert len(wider) == 6
    assert json.loads((out / "metadata.json").read_text())["computed"] == 2
    pd.testing.assert_frame_equal(
        wider.iloc[:4].drop(columns="point"), df.drop(columns="point"), check_like=True
    )
    lhs = _scenario_with_sweep(
        tmp_path, {"params": {CHARM: [0.0, 0.3]}, "design": "lhs", "samples": 3, "runs": 20}
    )
    df = Evaluator(lhs, seed=3).sweep()
    assert len(df) == 3 and df[CHARM].between(0.0, 0.3).all()


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from unsim.cli import main

    path = _scenario_with_sweep(tmp_path, {"params": {CHARM: [0.0, 0.3]}, "runs": 30})
    out = tmp_path / "declared"
    assert main(["sweep", str(path), "--seed", "4", "--out", str(out)]) == 0
    assert len(load_sweep(out)) == 2
    out = capsys.readouterr().out
    assert "plenary_yes_mean" in out and "referral_tabled" in out

    out = tmp_path / "cli"
    argv = [
        "sweep",
        str(DEFAULT_SCENARIO),
        "--param",
        f"{CHARM}=0:0.2:3",
        "--param",
        f"{TABLE_REFERRAL}=never,always",
        "--runs",
        "30",
        "--seed",
        "4",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    df = load_sweep(out)
    assert len(df) == 6 and sorted(df[CHARM].unique()) == [0.0, 0.1, 0.2]
    assert main([*argv, "--resume", "--quiet"]) == 0
    assert capsys.readouterr().out.strip().endswith(str(out))
    assert json.loads((out / "metadata.json").read_text())["computed"] == 0

    lhs = [
        "sweep",
        str(DEFAULT_SCENARIO),
        "--param",
        f"{CHARM}=0,0.2",
        "--lhs",
        "3",
        "--runs",
        "20",
        "--seed",
        "4",
        "--out",
        str(tmp_path / "lhs"),
        "-q",
    ]
    assert main(lhs) == 0
    assert len(load_sweep(tmp_path / "lhs")) == 3

    assert main(["sweep", str(DEFAULT_SCENARIO)]) == 2  # neither --param nor a sweep section
    assert main(["sweep", str(DEFAULT_SCENARIO), "--param", "nonsense"]) == 2
    assert main(["sweep", str(DEFAULT_SCENARIO), "--param", f"{CHARM}=1", "--resume"]) == 2


def test_parse_param() -> None:
    assert parse_param("a.b=1,2.5,x,true") == ("a.b", [1, 2.5, "x", True])
    assert parse_param("a[0].b = 0:1:5") == ("a[0].b", [0.0, 0.25, 0.5, 0.75, 1.0])
    assert parse_param("a=[always, never]") == ("a", ["always", "never"])


# --------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------
def test_plots_return_axes() -> None:
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    df = Evaluator(DEFAULT_SCENARIO, runs=40, seed=1).sweep(
        {CHARM: [0.0, 0.1, 0.2], THREATS: [0.0, 0.2]}
    )
    ax = plot_outcome(df, CHARM, "icc_retained")
    assert isinstance(ax, Axes) and len(ax.get_lines()) == 2  # one line per threat intensity
    ax = plot_outcome(df[df[THREATS] == 0.0], CHARM, "sc_referral_adopted")
    assert len(ax.get_lines()) == 1
    ax = plot_outcome(df, CHARM, "plenary_yes_mean", by=THREATS)
    _, given = plt.subplots()
    assert plot_heatmap(df, CHARM, THREATS, "plenary_adopted", ax=given) is given
    with pytest.raises(KeyError, match="unknown outcome"):
        plot_outcome(df, CHARM, "no_such_outcome")
    with pytest.raises(ValueError, match="vary"):
        plot_heatmap(df.assign(extra=range(len(df))).pipe(_with_extra), CHARM, THREATS)
    plt.close("all")


def _with_extra(df: pd.DataFrame) -> pd.DataFrame:
    df.attrs = {"params": [CHARM, THREATS, "extra"]}
    return df


# --------------------------------------------------------------------------------------------
# Which strategy works
# --------------------------------------------------------------------------------------------
def test_default_variants() -> None:
    variants = default_variants(DEFAULT_SCENARIO)
    assert len(variants) == 4 + 6 + 4 + 1 + 8  # singles, pairs, all but one, all, schedules
    assert [e["type"] for e in variants["charm_offensive + threats"]] == [
        "charm_offensive",
        "threats",
    ]
    assert variants["invitation (from round 6)"][0]["schedule"] == {"start": 6}


def test_strategy_comparison_is_paired_and_ranked() -> None:
    import matplotlib.pyplot as plt

    raw = read_yaml(DEFAULT_SCENARIO)
    strategies = raw["actors"]["target"]["strategies"]
    # an invitation the sponsors cannot refuse: fully credible, on every term they demand
    generous = {**strategies[1], "credibility": 1.0, "terms": ["transparent", "prison_camp_access"]}
    variants = {
        "nothing": [],
        "charm offensive": [strategies[0]],
        # twice the scenario's: stronger still, the sponsors drop the ICC language and the
        # yes count recovers
        "strong charm offensive": [{**strategies[0], "intensity": 0.6}],
        "generous invitation": [generous],
    }
    table = Evaluator(DEFAULT_SCENARIO, runs=200, seed=9).compare(variants)
    assert set(table["metric"]) == {
        "icc_dropped",
        "plenary_defeated",
        "plenary_yes",
        "referral_avoided",
    }
    assert len(table) == 4 * len(variants)
    same = table[table["variant"] == "nothing"]
    # the same runs as the baseline: no difference at all, and an interval of width zero
    assert (
        (same["diff"] == 0).all() and (same["ci_low"] == 0).all() and (same["ci_high"] == 0).all()
    )
    for _, part in table.groupby("metric"):
        assert list(part["rank"]) == sorted(part["rank"])
        assert part["gain"].is_monotonic_decreasing
    icc = table[table["metric"] == "icc_dropped"].set_index("variant")
    assert icc.loc["generous invitation", "gain_low"] > 0.5
    assert icc["rank"].idxmin() == "generous invitation"
    assert (icc["n"] == 200).all()
    yes = table[table["metric"] == "plenary_yes"].set_index("variant")
    assert (yes["gain"] == -yes["diff"]).all()
    # the charm offensive lowers support: fewer yes votes, the more so the stronger it is
    assert yes.loc["strong charm offensive", "gain_low"] > yes.loc["charm offensive", "gain"] > 0
    ax = plot_strategies(table, "icc_dropped")
    assert len(ax.get_yticklabels()) == len(variants)
    plt.close("all")
