"""Vote tallies of each stage against the majority they need."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, overload

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from numpy.typing import NDArray

from unsim.model.stages import STAGE_PLAN, STAGES, stage_named, vote_rule
from unsim.results.plots.style import (
    COLORS,
    COUNCIL_SIZE,
    STAGE_LABELS,
    TALLY_CATS,
    THRESHOLD_COLOR,
    ZORDER,
    check_stage,
    new_axes,
    new_figure,
    number,
    pct,
    percent_axis,
)
from unsim.results.runtable import tally_columns as tally_columns  # the figures' own


@overload
def plot_tallies(
    runs: pd.DataFrame,
    stage: None = None,
    majority: str = "simple",
    ax: None = None,
    *,
    fig: Figure | None = None,
) -> Figure:
    """Without a stage: every stage held in some run, as small multiples in a Figure."""
    ...


@overload
def plot_tallies(
    runs: pd.DataFrame,
    stage: str,
    majority: str = "simple",
    ax: Axes | None = None,
    *,
    fig: Figure | None = None,
) -> Axes:
    """With a stage: its tallies in one Axes (``ax`` if given), which is returned."""
    ...


def plot_tallies(
    runs: pd.DataFrame,
    stage: str | None = None,
    majority: str = "simple",
    ax: Axes | None = None,
    *,
    fig: Figure | None = None,
) -> Axes | Figure:
    """Distribution over runs of the yes, no and abstain votes at a stage, threshold marked.

    General Assembly stages: histograms of the three counts over the runs where the vote was held,
    with the required majority, the yes votes needed out of those present and voting (median
    line and 5-95 % range: it varies with turnout; ``majority`` applies at the plenary).
    Council stages: bars per count 0-15 with the line of nine yes votes. The title gives how
    often the vote carried.

    ``stage=None`` draws every stage held in some run as small multiples and returns the Figure
    (into ``fig`` if given); with a stage it returns the Axes (drawn into ``ax`` if given).
    """
    if stage is None:
        if ax is not None:
            raise ValueError(
                "plot_tallies: give a stage to draw into one Axes (stage=None draws a "
                "figure of every stage held)"
            )
        return tallies_grid(runs, majority, fig)
    check_stage(stage)
    vote_rule(stage, majority)  # checks the majority
    if ax is None:
        ax = new_axes((8.0, 5.6))
    _draw_tally(ax, runs, stage, majority, compact=False)
    return ax


def held_stages(runs: pd.DataFrame) -> list[str]:
    """The stages held in at least one run of the run table, in procedural order."""
    return [s for s in STAGES if f"{s}_held" in runs and bool(runs[f"{s}_held"].any())]


def tallies_grid(runs: pd.DataFrame, majority: str, fig: Figure | None) -> Figure:
    """Every held stage's tallies as small multiples on one figure (``fig`` if given)."""
    stages = held_stages(runs)
    ncols = 2 if len(stages) > 1 else 1
    nrows = max(1, math.ceil(len(stages) / ncols))
    fig = new_figure(fig, (6.4 * ncols, 3.4 * nrows + 1.0))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, stage in zip(axes, stages, strict=False):
        _draw_tally(ax, runs, stage, majority, compact=True)
    for ax in axes[len(stages) :]:
        ax.set_axis_off()
    if not stages:
        _no_vote_held(axes[0])
    else:
        handles: list[Any] = [
            Patch(facecolor=to_rgba(COLORS[c], 0.3), edgecolor=COLORS[c]) for c in TALLY_CATS
        ]
        labels = list(TALLY_CATS)
        handles.append(Line2D([], [], color=THRESHOLD_COLOR, ls="--", lw=1.3))
        labels.append("yes needed to adopt (GA: median required majority; Council: 9)")
        if any(stage_named(s).rule.assembly for s in stages):
            handles.append(Line2D([], [], color=THRESHOLD_COLOR, lw=1.2, marker="|", ms=9))
            labels.append("required majority, 5-95 % of runs")
        fig.legend(handles, labels, loc="outside lower center", ncol=len(handles), frameon=False)
    fig.suptitle(
        f"Votes at each stage: distribution of yes, no and abstain in {len(runs):,} runs",
        fontsize="large",
        fontweight="bold",
    )
    return fig


def _no_vote_held(ax: Axes) -> None:
    ax.text(
        0.5, 0.5, "no vote was held in any run", ha="center", va="center", transform=ax.transAxes
    )


def _draw_tally(ax: Axes, runs: pd.DataFrame, stage: str, majority: str, compact: bool) -> None:
    label = STAGE_LABELS[stage]
    held = runs[f"{stage}_held"].to_numpy(dtype=bool) if f"{stage}_held" in runs else None
    n = int(held.sum()) if held is not None else 0
    ax.set_xlabel("votes (number of states)")
    ax.set_ylabel("share of runs where held")
    if held is None or n == 0:
        ax.set_title(f"{label}: not held in any of {len(runs):,} runs")
        ax.text(
            0.5,
            0.5,
            "not held in any run",
            ha="center",
            va="center",
            color="0.4",
            transform=ax.transAxes,
        )
        return
    counts = {c: runs.loc[held, f"{stage}_{c}"].to_numpy(dtype=np.int64) for c in TALLY_CATS}
    needed = vote_rule(stage, majority).needed_each(counts["yes"], counts["no"]).astype(np.int64)
    adopted = float(runs.loc[held, f"{stage}_adopted"].mean())
    council = stage_named(stage).body.is_council
    peak = _council_bars(ax, counts, n) if council else _ga_histograms(ax, counts, needed, n)
    ax.set_ylim(0, min(peak * 1.15, 1.0) if council else peak * 1.2)
    _threshold(ax, stage, needed, majority, peak * 1.1)
    percent_axis(ax.yaxis)
    ax.grid(axis="y", color="0.9", lw=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    outcome = f"adopted in {pct(adopted)}"
    if stage_named(stage).rule.veto and f"{stage}_vetoed" in runs:
        outcome += f", vetoed in {pct(float(runs.loc[held, f'{stage}_vetoed'].mean()))}"
    if compact:
        medians = ", ".join(f"{c} {np.median(counts[c]):.0f}" for c in TALLY_CATS)
        runs_txt = f"{n:,} run{'s' if n > 1 else ''}"
        ax.set_title(
            f"{label}\nheld in {runs_txt}, {outcome}; medians: {medians}", fontsize="medium"
        )
    else:
        runs_txt = f"{n:,} run{'s' if n > 1 else ''}"
        ax.set_title(
            f"{label}: yes, no and abstain votes\nin the {runs_txt} where it was held ({outcome})"
        )
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)


def _ga_histograms(
    ax: Axes, counts: dict[str, NDArray[np.int64]], needed: NDArray[np.int64], n: int
) -> float:
    lo = int(min(min(np.min(v) for v in counts.values()), np.min(needed)))
    hi = int(max(max(np.max(v) for v in counts.values()), np.max(needed)))
    width = max(1, math.ceil((hi - lo + 1) / 45))
    edges = np.arange(lo - 0.5, hi + width + 0.5, width)
    peak = 0.0
    for cat in TALLY_CATS:
        hist, _ = np.histogram(counts[cat], bins=edges)
        ax.stairs(
            hist / n,
            edges,
            fill=True,
            facecolor=to_rgba(COLORS[cat], 0.28),
            edgecolor=COLORS[cat],
            lw=1.4,
            gid=f"tally_{cat}",
            zorder=ZORDER[cat],
            label=f"{cat} (median {np.median(counts[cat]):.0f})",
        )
        peak = max(peak, float(np.max(hist)) / n)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return peak


def _council_bars(ax: Axes, counts: dict[str, NDArray[np.int64]], n: int) -> float:
    top = max(COUNCIL_SIZE, *(int(np.max(v)) for v in counts.values()))
    x = np.arange(top + 1)
    width = 0.28
    peak = 0.0
    for i, cat in enumerate(TALLY_CATS):
        share = np.bincount(counts[cat], minlength=top + 1)[: top + 1] / n
        ax.bar(
            x + (i - 1) * width,
            share,
            width=width,
            color=COLORS[cat],
            gid=f"tally_{cat}",
            label=f"{cat} (median {np.median(counts[cat]):.0f})",
        )
        peak = max(peak, float(np.max(share)))
    ax.set_xticks(x)
    ax.set_xlim(-0.6, top + 0.6)
    return peak


def _threshold(
    ax: Axes, stage: str, needed: NDArray[np.int64], majority: str, y_range: float
) -> None:
    """The yes votes needed: a dashed line at the median (nine in the Council) and, in the
    General Assembly, where it depends on the number present and voting, its 5-95 % range."""
    vote = vote_rule(stage, majority)
    if not vote.assembly:
        rule = "9 yes needed" + ("" if vote.procedural else ", and no permanent-member no")
        ax.axvline(8.5, color=THRESHOLD_COLOR, ls="--", lw=1.3, gid="threshold", label=rule)
        return
    q05, q50, q95 = (int(q) for q in np.quantile(needed, [0.05, 0.5, 0.95], method="lower"))
    rule = vote.label
    ax.axvline(
        q50,
        color=THRESHOLD_COLOR,
        ls="--",
        lw=1.3,
        gid="threshold",
        label=f"required majority ({rule}): median {q50}",
    )
    ax.errorbar(
        [q50],
        [y_range],
        xerr=[[q50 - q05], [q95 - q50]],
        fmt="none",
        ecolor=THRESHOLD_COLOR,
        elinewidth=1.2,
        capsize=4,
        gid="threshold_range",
        label=f"required majority, 5-95 % of runs: {q05}-{q95}",
    )
    ax.annotate(
        f"required {q50}",
        (q50, y_range),
        xytext=(4, 3),
        textcoords="offset points",
        fontsize="small",
        ha="left",
        va="bottom",
    )


def plot_tally_summary(summary: Mapping[str, Any], *, fig: Figure | None = None) -> Figure:
    """Each held stage's tallies from the summary alone (no run table needed).

    Per stage and vote: the 5-95 % range (thin bar), the 25-75 % range (thick bar) and the median
    (dot) over the runs where the vote was held, with the yes votes needed marked (median
    required majority; nine in the Council). One panel for each body that votes (the General
    Assembly, the Council; the Human Rights Council where held), in procedural order.
    """
    tallies: Mapping[str, Any] = summary.get("tallies", {})
    panels: list[tuple[str, list[str]]] = []
    for st in STAGE_PLAN:
        if st.name not in tallies:
            continue
        if not panels or panels[-1][0] != st.body.label:
            panels.append((st.body.label, []))
        panels[-1][1].append(st.name)
    panels = [(t, s) for t, s in panels if s]
    rows = [len(s) for _, s in panels] or [1]
    fig = new_figure(fig, (8.5, 1.0 * sum(rows) + 1.2 * len(rows) + 0.8))
    axes = fig.subplots(len(rows), 1, squeeze=False, height_ratios=rows).ravel()
    handles: dict[str, Any] = {}
    for ax, (title, stages) in zip(axes, panels, strict=False):
        for i, stage in enumerate(stages):
            _draw_stage_summary(ax, i, tallies[stage], handles)
        ax.set_yticks(
            range(len(stages)),
            [f"{STAGE_LABELS[s]}\n(held in {int(tallies[s]['held']):,} runs)" for s in stages],
            fontsize="small",
        )
        ax.set_ylim(len(stages) - 0.5, -0.5)
        ax.set_title(title, loc="left", fontsize="medium")
        ax.set_xlabel("votes (number of states)")
        ax.grid(axis="x", color="0.9", lw=0.8)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
    if not panels:
        axes[0].set_axis_off()
        _no_vote_held(axes[0])
    if handles:
        fig.legend(
            handles.values(),
            handles.keys(),
            loc="outside lower center",
            ncol=len(handles),
            frameon=False,
        )
    n = summary.get("runs")
    fig.suptitle(
        "Votes at each stage: median, 25-75 % and 5-95 % of runs"
        + (f" ({int(n):,} runs)" if n else ""),
        fontweight="bold",
    )
    return fig


def _draw_stage_summary(
    ax: Axes, i: int, entry: Mapping[str, Any], handles: dict[str, Any]
) -> None:
    """One stage's row of a tally summary: quantile bars per vote and the yes votes needed."""
    for j, cat in enumerate(TALLY_CATS):
        q = entry.get(cat)
        if not q:
            continue
        y = i + (j - 1) * 0.22
        q05, q25, q50, q75, q95 = (number(q[k]) for k in ("q05", "q25", "q50", "q75", "q95"))
        ax.plot([q05, q95], [y, y], color=COLORS[cat], lw=1.2, solid_capstyle="butt")
        ax.plot([q25, q75], [y, y], color=COLORS[cat], lw=5, solid_capstyle="butt")
        handles[cat] = ax.plot([q50], [y], "o", color="white", mec=COLORS[cat], ms=5, label=cat)[0]
    need = number(entry.get("median_needed_yes"))
    if not math.isnan(need):
        handles["yes needed (median)"] = ax.plot(
            [need, need],
            [i - 0.42, i + 0.42],
            color=THRESHOLD_COLOR,
            ls="--",
            lw=1.3,
            gid="threshold",
            label="yes needed (median)",
        )[0]
