"""The plotting functions: axes, titles, labels, thresholds and the standard PNG files."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from unsim.engine import Results, run
from unsim.model.outcomes import known_outcomes
from unsim.results.plots import (
    FUNNEL,
    plot_comparison,
    plot_funnel,
    plot_state_support,
    plot_tallies,
    plot_tally_summary,
    save_standard_plots,
)
from unsim.results.stats import paired_difference
from unsim.scenario import World, load_scenario

from .conftest import DEFAULT_SCENARIO

matplotlib.use("Agg")  # before any figure: no window, whatever MPLBACKEND says

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results() -> Results:
    return run(load_scenario(DEFAULT_SCENARIO), runs=500, seed=1)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def by_gid(ax: Axes, gid: str) -> list[Any]:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def dots(ax: Axes) -> dict[float, float]:
    """The comparison's points, y: x."""
    return {
        float(y): float(x)
        for line in by_gid(ax, "difference")
        if isinstance(line, Line2D) and line.get_marker() == "o"
        for x, y in zip(np.asarray(line.get_xdata()), np.asarray(line.get_ydata()), strict=True)
    }


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def texts(ax: Axes, gid: str) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


# -- tallies ---------------------------------------------------------------------------------------
def test_tallies_of_the_plenary(results: Results) -> None:
    assert results.runs is not None
    ax = plot_tallies(results.runs, "plenary")
    assert isinstance(ax, Axes)
    held = int(results.runs["plenary_held"].sum())
    assert ax.get_title().startswith("General Assembly plenary: yes, no and abstain votes")
    assert f"{held:,} runs where it was held" in ax.get_title()
    assert "adopted in" in ax.get_title()
    assert ax.get_xlabel() == "votes (number of states)"
    assert ax.get_ylabel() == "share of runs where held"
    for cat in ("yes", "no", "abstain"):
        (hist,) = by_gid(ax, f"tally_{cat}")
        assert hist.get_label().startswith(f"{cat} (median ")
    # the required majority: the median line and its 5-95 % range, in the legend
    (line,) = by_gid(ax, "threshold")
    yes = results.runs.loc[results.runs["plenary_held"], "plenary_yes"]
    no = results.runs.loc[results.runs["plenary_held"], "plenary_no"]
    x = line.get_xdata()[0]
    assert x == int(np.quantile((yes + no) // 2 + 1, 0.5, method="lower"))
    assert any(isinstance(a, LineCollection) for a in by_gid(ax, "threshold_range"))
    labels = legend_texts(ax)
    assert any(lbl.startswith("required majority (more yes than no): median") for lbl in labels)


def test_two_thirds_raises_the_plenary_threshold(results: Results) -> None:
    assert results.runs is not None
    simple = plot_tallies(results.runs, "plenary", majority="simple")
    two_thirds = plot_tallies(results.runs, "plenary", majority="two_thirds")
    x_simple = by_gid(simple, "threshold")[0].get_xdata()[0]
    x_two = by_gid(two_thirds, "threshold")[0].get_xdata()[0]
    assert x_two > x_simple
    legend = legend_texts(two_thirds)
    assert any("2/3 of present and voting" in lbl for lbl in legend)
    # the committee always needs a simple majority
    committee = plot_tallies(results.runs, "third_committee", majority="two_thirds")
    legend = legend_texts(committee)
    assert any("more yes than no" in lbl for lbl in legend)


def test_tallies_of_the_council_agenda_mark_nine_votes(results: Results) -> None:
    assert results.runs is not None
    _, ax = plt.subplots()
    out = plot_tallies(results.runs, "sc_agenda", ax=ax)
    assert out is ax
    assert ax.get_title().startswith("Security Council: agenda")
    for cat in ("yes", "no", "abstain"):
        assert len(by_gid(ax, f"tally_{cat}")) == 16  # one bar per count 0-15
    (line,) = by_gid(ax, "threshold")
    assert line.get_xdata()[0] == 8.5  # nine or more to the right of the line
    assert line.get_label() == "9 yes needed"
    assert list(ax.get_xticks()) == list(range(16))


def test_a_stage_never_held_says_so(results: Results) -> None:
    assert results.runs is not None
    runs = results.runs.copy()
    runs["sc_referral_held"] = False
    ax = plot_tallies(runs, "sc_referral")
    assert "not held" in ax.get_title()
    assert any(t.get_text() == "not held in any run" for t in ax.texts)


def test_tallies_of_every_stage_held(results: Results) -> None:
    assert results.runs is not None
    fig = plot_tallies(results.runs)
    assert isinstance(fig, Figure)
    held = [
        s
        for s in ("amendment", "third_committee", "plenary", "sc_agenda", "sc_referral")
        if results.runs[f"{s}_held"].any()
    ]
    drawn = [ax for ax in fig.axes if ax.axison]
    assert len(drawn) == len(held)
    assert all(by_gid(ax, "threshold") for ax in drawn)
    assert all(ax.get_xlabel() == "votes (number of states)" for ax in drawn)
    assert fig.get_suptitle().startswith("Votes at each stage: distribution of yes, no and abstain")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:3] == ["yes", "no", "abstain"]


def test_tallies_reject_a_bad_stage_or_majority(results: Results) -> None:
    assert results.runs is not None
    with pytest.raises(ValueError, match="unknown stage"):
        plot_tallies(results.runs, "plenum")
    with pytest.raises(ValueError, match="majority"):
        plot_tallies(results.runs, "plenary", majority="three_quarters")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="give a stage"):
        plot_tallies(results.runs, None, ax=ax)  # type: ignore[call-overload]


def test_tally_summary_without_the_run_table(results: Results) -> None:
    fig = plot_tally_summary(results.summary)
    ga, sc = fig.axes
    assert ga.get_title(loc="left") == "General Assembly"
    assert sc.get_title(loc="left") == "Security Council"
    stages = list(results.summary["tallies"])
    assert len(ga.get_yticks()) + len(sc.get_yticks()) == len(stages)
    assert len(by_gid(ga, "threshold")) == len([s for s in stages if not s.startswith("sc_")])
    assert by_gid(sc, "threshold")[0].get_xdata()[0] == 9
    assert ga.get_xlabel() == "votes (number of states)"


# -- funnel ----------------------------------------------------------------------------------------
def test_funnel(results: Results) -> None:
    ax = plot_funnel(results.summary)
    outcomes = results.summary["outcomes"]
    assert ax.get_title() == "From committee to Council referral: probability of each outcome"
    assert ax.get_xlabel().startswith("probability, share of all runs (n = 500)")
    assert [t.get_text() for t in ax.get_yticklabels()] == [outcomes[k]["label"] for k in FUNNEL]
    bars = [p for p in ax.patches if p.get_gid() == "funnel"]
    assert len(bars) == len(FUNNEL) == 7
    widths = [p.get_width() for p in bars]  # type: ignore[attr-defined]
    assert widths == pytest.approx([outcomes[k]["p"] for k in FUNNEL])
    (whiskers,) = [a for a in by_gid(ax, "interval") if isinstance(a, LineCollection)]
    assert len(whiskers.get_segments()) == 7
    values = texts(ax, "value")
    assert len(values) == 7
    p = outcomes["committee_adopted"]
    assert values[1] == f"{p['p']:.1%}  [{p['ci_low']:.1%}, {p['ci_high']:.1%}]"
    assert ax.get_xlim() == (0, 1)


def test_funnel_from_a_saved_summary_with_missing_intervals(results: Results) -> None:
    summary = {
        "runs": 10,
        "outcomes": {
            "committee_adopted": {
                "label": "Third Committee adopts",
                "p": 0.5,
                "ci_low": None,
                "ci_high": None,
                "n": 10,
            },
            "plenary_adopted": {
                "label": "plenary adopts",
                "p": 0.4,
                "ci_low": 0.1,
                "ci_high": 0.7,
                "n": 10,
            },
        },
    }
    ax = plot_funnel(summary)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Third Committee adopts",
        "plenary adopts",
    ]
    assert texts(ax, "value")[0] == "50.0%"
    with pytest.raises(ValueError, match="none of the funnel"):
        plot_funnel({"outcomes": {}})


# -- state support ---------------------------------------------------------------------------------
def _names_drawn(axes: list[Axes]) -> list[str]:
    return [name for ax in axes for name in texts(ax, "state_name")]


def test_state_support_by_regional_group(results: Results) -> None:
    fig = plot_state_support(results.per_state, "plenary")
    assert isinstance(fig, Figure)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == [
        "African States (54)",
        "Asia-Pacific States (54)",
        "Eastern European States (23)",
        "Latin American & Caribbean States (33)",
        "Western European & Other States (29)",
    ]
    assert fig.get_suptitle().startswith("General Assembly plenary: each state's probability")
    assert "by regional group" in fig.get_suptitle()
    names = _names_drawn(fig.axes)
    assert len(names) == len(set(names)) == 193
    # four stacked segments per state, yes sorted from the most likely down within each group
    plenary = results.per_state[results.per_state["stage"] == "plenary"].set_index("name")
    for ax in fig.axes:
        collections = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert [c.get_gid() for c in collections] == [
            "support_yes",
            "support_abstain",
            "support_absent",
            "support_no",
        ]
        assert all(len(c.get_paths()) == len(texts(ax, "state_name")) for c in collections)
        p_yes = plenary.loc[texts(ax, "state_name"), "p_yes"].to_numpy()
        assert np.all(np.diff(p_yes) <= 0)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["yes", "abstain", "absent", "no"]


def test_state_support_by_bloc(results: Results) -> None:
    world = results.scenario.world
    assert isinstance(world, World)
    fig = plot_state_support(results.per_state, "third_committee", by="EU", world=world)
    assert isinstance(fig, Figure)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0] == "EU members (28)"
    assert titles[1] == "not in the EU (165)"
    assert all(t == "not in the EU (cont.)" for t in titles[2:])
    assert set(texts(fig.axes[0], "state_name")) == {
        s.name for s in world.states if s.iso3 in world.blocs["EU"].members
    }
    assert "membership of the EU" in fig.get_suptitle()
    with pytest.raises(ValueError, match="needs world"):
        plot_state_support(results.per_state, by="EU")
    with pytest.raises(ValueError, match="a bloc of the world"):
        plot_state_support(results.per_state, by="Commonwealth", world=world)


def test_state_support_in_one_axes(results: Results) -> None:
    _, ax = plt.subplots(figsize=(6, 26))
    out = plot_state_support(results.per_state, "plenary", ax=ax)
    assert out is ax
    assert ax.get_xlabel() == "probability over the runs where the vote was held"
    assert "General Assembly plenary" in ax.get_title()
    assert len(texts(ax, "state_name")) == 193
    groups = [t.get_text() for t in ax.texts if t.get_gid() != "state_name"]
    assert groups == [
        "African States",
        "Asia-Pacific States",
        "Eastern European States",
        "Latin American & Caribbean States",
        "Western European & Other States",
    ]


def test_state_support_of_the_council_and_of_a_stage_never_held(results: Results) -> None:
    fig = plot_state_support(results.per_state, "sc_agenda")
    assert len(_names_drawn(fig.axes)) == 15  # type: ignore[union-attr]
    per_state = results.per_state[results.per_state["stage"] != "plenary"]
    with pytest.raises(ValueError, match="never held"):
        plot_state_support(per_state, "plenary")


# -- comparison ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def comparison() -> pd.DataFrame:
    """The plenary under a two-thirds majority against a simple one (same seed), with support
    lowered so that the two-thirds rule bites."""
    lowered = {"behaviour.intercept": 1.5}
    results, other = (
        run(
            load_scenario(DEFAULT_SCENARIO, overrides={**lowered, "resolution.majority": m}),
            runs=500,
            seed=1,
        )
        for m in ("simple", "two_thirds")
    )
    assert results.runs is not None and other.runs is not None
    rows = [
        {
            "outcome": name,
            "label": label,
            **paired_difference(results.runs[key].to_numpy(bool), other.runs[key].to_numpy(bool)),
        }
        for name, label, key in known_outcomes()
        if key in results.runs
    ]
    return pd.DataFrame(rows)


def test_comparison(comparison: pd.DataFrame) -> None:
    ax = plot_comparison(comparison, names=("simple majority", "two-thirds"))
    assert ax.get_title().startswith(
        "Effect of two-thirds relative to simple majority on each outcome's probability"
    )
    assert ax.get_xlabel() == (
        "difference in probability, two-thirds − simple majority (percentage points)"
    )
    shown = comparison[(comparison["p_a"] > 0) | (comparison["p_b"] > 0)]
    assert [t.get_text() for t in ax.get_yticklabels()] == shown["label"].tolist()
    (zero,) = by_gid(ax, "zero")
    assert zero.get_xdata()[0] == 0
    points = dots(ax)
    assert sorted(points) == list(range(len(shown)))
    # the plenary adopts less often under two thirds, and the plot shows it in percentage points
    plenary = int(np.flatnonzero(shown["outcome"].to_numpy() == "plenary_adopted")[0])
    assert points[plenary] < 0
    assert points[plenary] == pytest.approx(100 * shown["diff"].iloc[plenary])
    assert any("not shown" in t.get_text() for t in ax.texts)


def test_comparison_of_a_scenario_with_itself(results: Results) -> None:
    assert results.runs is not None
    same = results.runs["plenary_adopted"].to_numpy(bool)
    table = pd.DataFrame(
        [{"outcome": "plenary_adopted", "label": "plenary adopts", **paired_difference(same, same)}]
    )
    ax = plot_comparison(table)
    assert ax.get_title().startswith("Effect of B relative to A")
    assert dots(ax) == {0.0: 0.0}
    with pytest.raises(ValueError, match="missing columns"):
        plot_comparison(table.drop(columns=["diff"]))


# -- the standard files ----------------------------------------------------------------------------
def test_save_standard_plots(results: Results, tmp_path: Path) -> None:
    before = plt.get_fignums()
    written = save_standard_plots(results, tmp_path / "out")
    names = ["tallies.png", "funnel.png", "state_support.png", "map.png"]
    assert [p.name for p in written] == names
    for path in written:
        assert path.parent == tmp_path / "out"
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert path.stat().st_size > 10_000
    assert plt.get_fignums() == before  # nothing left open in pyplot


def test_save_standard_plots_without_the_run_table(results: Results, tmp_path: Path) -> None:
    written = save_standard_plots(replace(results, runs=None), tmp_path)
    assert sorted(p.name for p in written) == [
        "funnel.png",
        "map.png",
        "state_support.png",
        "tallies.png",
    ]
    assert all(p.read_bytes()[:8] == PNG_MAGIC for p in written)


def test_results_save_writes_the_plots(results: Results, tmp_path: Path) -> None:
    out = results.save(tmp_path / "res", also=partial(save_standard_plots, results))
    assert {"tallies.png", "funnel.png", "state_support.png", "map.png"} <= {
        p.name for p in out.iterdir()
    }


def test_results_save_draws_no_figure_itself(results: Results, tmp_path: Path) -> None:
    """The results folder's tables are the results' own; the figures are the caller's (the
    command line passes them as ``also``), and the results module never names the plots."""
    out = results.save(tmp_path / "res")
    assert not list(out.glob("*.png"))
    assert {"summary.json", "metadata.json", "per_state.parquet"} <= {p.name for p in out.iterdir()}
    tree = ast.parse((Path(__file__).parents[1] / "src/unsim/results/tables.py").read_text())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not {m for m in imported if m.startswith(("unsim.results.plots", "matplotlib"))}


def test_comparison_plot_shows_probabilities_only() -> None:
    """A comparison table also carries mean vote counts (``*_yes_mean``): they are not drawn on
    the probability axis."""
    table = pd.DataFrame(
        [
            {
                "outcome": "plenary_adopted",
                "label": "plenary adopts",
                "p_a": 0.5,
                "p_b": 0.6,
                "diff": 0.1,
                "ci_low": 0.05,
                "ci_high": 0.15,
                "n": 100,
            },
            {
                "outcome": "plenary_yes_mean",
                "label": "Plenary: mean yes votes",
                "p_a": 75.0,
                "p_b": 89.0,
                "diff": 14.0,
                "ci_low": 13.0,
                "ci_high": 15.0,
                "n": 100,
            },
        ]
    )
    ax = plot_comparison(table, names=("a", "b"))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["plenary adopts"]
    assert ax.get_xlim()[1] < 100
    plt.close(ax.figure)
