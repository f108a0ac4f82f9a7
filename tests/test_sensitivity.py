"""Global sensitivity analysis: known indices of test functions, and the scenario path."""

from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pytest

from unsim.studies.evaluator import Evaluator, Sensitivity
from unsim.studies.sensitivity import morris_analysis, plot_sensitivity, sobol_analysis

from .conftest import DEFAULT_SCENARIO

matplotlib.use("Agg")

PI = math.pi
ISHIGAMI_BOUNDS = {"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI)}


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    """Analytical first-order and total Sobol indices of the Ishigami function."""
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return [v1 / var, v2 / var, 0.0], [(v1 + v13) / var, v2 / var, v13 / var]


def test_sobol_recovers_ishigami_indices() -> None:
    table = sobol_analysis(ishigami, ISHIGAMI_BOUNDS, n=2048, seed=12, outputs=["y"])
    assert list(table["parameter"]) == ["x1", "x2", "x3"]
    assert table.attrs["evaluations"] == 2048 * 5
    s1, st = ishigami_indices()
    assert np.allclose(table["S1"], s1, atol=0.05), table
    assert np.allclose(table["ST"], st, atol=0.05), table
    # the bootstrap intervals are honest about the sampling error
    assert (table["S1_conf"] > 0).all() and (table["S1_conf"] < 0.1).all()


def test_sobol_of_several_outputs_and_a_constant() -> None:
    def model(x: np.ndarray) -> np.ndarray:
        return np.column_stack([x[:, 0], 2 * x[:, 1] + 0 * x[:, 0], np.ones(len(x))])

    table = sobol_analysis(model, {"a": (0, 1), "b": (0, 1)}, n=500, seed=1)  # rounded up to 512
    assert table.attrs["evaluations"] == 512 * 4
    y0 = table[table["outcome"] == "y0"].set_index("parameter")
    assert y0.loc["a", "S1"] == pytest.approx(1, abs=0.05)
    assert y0.loc["b", "ST"] == pytest.approx(0, abs=0.01)
    y1 = table[table["outcome"] == "y1"].set_index("parameter")
    assert y1.loc["b", "S1"] == pytest.approx(1, abs=0.05)
    assert table[table["outcome"] == "y2"][["S1", "ST"]].isna().all().all()


def test_morris_ranks_linear_effects() -> None:
    def model(x: np.ndarray) -> np.ndarray:
        return 3 * x[:, 0] + 1 * x[:, 1] + 0 * x[:, 2]

    table = morris_analysis(model, {"a": (0, 1), "b": (0, 1), "c": (0, 1)}, 12, seed=2)
    t = table.set_index("parameter")
    assert t.loc["a", "mu_star"] == pytest.approx(3)
    assert t.loc["b", "mu_star"] == pytest.approx(1)
    assert t.loc["c", "mu_star"] == pytest.approx(0)
    assert t["sigma"].max() == pytest.approx(0, abs=1e-9)  # linear: no spread of the effects


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="low < high"):
        sobol_analysis(ishigami, {"x1": (1.0, 1.0)}, n=8)
    with pytest.raises(ValueError, match="range"):
        sobol_analysis(ishigami, {"x1": (0.0, 1.0, 2.0)}, n=8)


def test_scenario_indices_and_plot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import matplotlib.pyplot as plt

    params = {
        "actors.target.strategies[0].intensity": (0.0, 0.3),
        "simulation.rounds.third_committee": (2, 10),  # whole-number bounds: rounded points
    }
    outcomes = ["plenary_yes_mean", "icc_retained", "referral_adopted"]
    evaluator = Evaluator(DEFAULT_SCENARIO, runs=60, seed=3, out=tmp_path / "sobol")
    table = evaluator.sobol(Sensitivity(params, outcomes, n=4))
    assert len(table) == 3 * 2
    assert set(table["outcome"]) == set(outcomes)
    assert (tmp_path / "sobol" / "sweep.parquet").exists()
    from unsim.studies.sensitivity import outcomes_without_indices

    ax = plot_sensitivity(table, "plenary_yes_mean")
    assert len(ax.patches) == 2 * 2  # S1 and ST for each parameter
    # the ICC language is retained at every point of these ranges: a note, not empty bars
    assert "icc_retained" in outcomes_without_indices(table)
    assert not plot_sensitivity(table, "icc_retained").patches
    # one labeller: the scenario's words, as a sweep's and the command line's
    charm_label = "charm offensive: intensity"
    assert table.attrs["labels"]["actors.target.strategies[0].intensity"] == charm_label
    assert charm_label in [t.get_text() for t in ax.get_xticklabels()]
    ax = plot_sensitivity(table)
    problem = Sensitivity(params, outcomes=["icc_retained", "plenary_yes_mean"], n=3)
    table = Evaluator(DEFAULT_SCENARIO, runs=60, seed=3).morris(problem)
    assert table.attrs["evaluations"] == 3 * 3
    assert table.attrs["labels"]["actors.target.strategies[0].intensity"] == charm_label
    ticks = [t.get_text() for t in plot_sensitivity(table, "icc_retained").get_xticklabels()]
    assert charm_label in ticks and not any(t.startswith("strategy 1") for t in ticks)
    charm = table.set_index(["outcome", "parameter"]).loc[
        ("plenary_yes_mean", "actors.target.strategies[0].intensity")
    ]
    assert charm["mu"] < 0 and charm["mu_star"] > 0  # the charm offensive costs yes votes
    assert plot_sensitivity(table, "plenary_yes_mean") is not None
    plt.close("all")


def test_an_outcome_that_never_varies_has_no_indices_and_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No ``nan ± nan`` and no empty panel: the outcome is named, with why, and left out."""
    from matplotlib.figure import Figure

    from unsim.cli.sensitivity import format_indices
    from unsim.studies.plots import save_sensitivity_figure
    from unsim.studies.sensitivity import outcomes_without_indices

    def model(x: np.ndarray) -> np.ndarray:
        return np.column_stack([x[:, 0], x[:, 1] + x[:, 0], np.ones(len(x))])

    table = sobol_analysis(model, {"a": (0, 1), "b": (0, 1)}, n=64, seed=1)
    assert table[table["outcome"] == "y2"][["S1", "ST"]].isna().all().all()  # kept, as NaN
    why = outcomes_without_indices(table)
    assert list(why) == ["y2"] and "the same at all 256 points (1)" in why["y2"]
    bare = table.copy()
    bare.attrs = {}  # as read back from indices.parquet
    assert list(outcomes_without_indices(bare)) == ["y2"]
    text = format_indices(table, {})
    assert "nan" not in text and "y2" not in text and "y0" in text and "y1" in text
    ax = plot_sensitivity(table, "y2", ax=Figure().add_subplot())
    assert not ax.patches and "no Sobol indices" in ax.texts[0].get_text()
    ax = plot_sensitivity(table, ax=Figure().add_subplot())  # the others only
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"y0 (ST)", "y1 (ST)"}
    save_sensitivity_figure(table, tmp_path / "indices.png")
    assert (tmp_path / "indices.png").exists()


def test_the_command_warns_of_an_outcome_without_indices(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from .conftest import ROOT

    out = tmp_path / "s"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "unsim",
            "sensitivity",
            str(DEFAULT_SCENARIO),
            "--param",
            "actors.target.strategies[0].intensity=0:1",
            "--n",
            "2",
            "--runs",
            "20",
            "--outcome",
            "plenary_adopted",  # adopted in every run of every point
            "--outcome",
            "plenary_yes_mean",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: plenary_adopted: no Sobol indices, the same at all" in proc.stderr
    assert "nan" not in proc.stdout and "plenary_yes_mean" in proc.stdout
    info = json.loads((out / "sensitivity.json").read_text())
    assert list(info["no_indices"]) == ["plenary_adopted"]
