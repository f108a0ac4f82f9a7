"""Figures of a Monte Carlo run: vote tallies, the outcome funnel, state support, comparisons.

Each function takes result tables (``Results.runs``, ``Results.per_state``, ``Results.summary``, a
``--compare`` table) and an optional matplotlib ``ax``; it draws, returns the Axes (or the Figure,
when the figure has several panels) and never saves or shows anything. Figures of several panels
accept ``fig=`` to draw into a Figure of the caller's instead of a new pyplot one.

``save_standard_plots`` writes the standard PNGs of a results folder. It draws on figures that are
not registered with pyplot and renders them with matplotlib's Agg renderer, so it works headless,
leaves the user's backend alone and leaves no figure open.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter
from numpy.typing import NDArray

from unsim.atomic import write_atomically
from unsim.scenario.schema import GA_STAGES, REGIONAL_GROUPS, SC_STAGES, STAGES, World

__all__ = [
    "COLORS",
    "FUNNEL",
    "STAGE_LABELS",
    "plot_comparison",
    "plot_funnel",
    "plot_state_support",
    "plot_tallies",
    "plot_tally_summary",
    "save_standard_plots",
]

#: Colours of the vote categories (blue/red diverging, safe for the common colour-blindnesses).
COLORS: dict[str, str] = {
    "yes": "#2166ac",
    "no": "#b2182b",
    "abstain": "#969696",
    "absent": "#e3e3e3",
}
_BODY_COLORS = {"ga": "#4d7ea8", "sc": "#e08a3c", "veto": "#b2182b"}
_THRESHOLD_COLOR = "#222222"
_BAND_COLOR = "#f2c14e"

STAGE_LABELS: dict[str, str] = {
    "no_action_motion": "No-action motion (Third Committee)",
    "amendment": "Amendment deleting the ICC paragraphs",
    "third_committee": "Third Committee",
    "plenary": "General Assembly plenary",
    "sc_agenda": "Security Council: agenda (procedural)",
    "sc_referral": "Security Council: ICC referral",
}

GROUP_LABELS: dict[str, str] = {
    "African": "African States",
    "Asia-Pacific": "Asia-Pacific States",
    "Eastern European": "Eastern European States",
    "GRULAC": "Latin American & Caribbean States",
    "WEOG": "Western European & Other States",
}

#: The outcomes of the funnel, from the committee to the Council, in procedural order.
FUNNEL: tuple[str, ...] = (
    "icc_retained",
    "committee_adopted",
    "plenary_adopted",
    "sc_agenda_adopted",
    "referral_tabled",
    "referral_vetoed",
    "referral_adopted",
)
_FUNNEL_BODY = {
    "icc_retained": "ga",
    "committee_adopted": "ga",
    "plenary_adopted": "ga",
    "sc_agenda_adopted": "sc",
    "referral_tabled": "sc",
    "referral_vetoed": "veto",
    "referral_adopted": "sc",
}

_TALLY_CATS = ("yes", "no", "abstain")
_ZORDER = {"yes": 2.3, "no": 2.2, "abstain": 2.1}  # yes drawn over the others
_SUPPORT_CATS = ("yes", "abstain", "absent", "no")  # left to right: yes anchored left, no right
_COUNCIL_SIZE = 15
_ROWS_PER_COLUMN = 56  # states per panel column in the state-support figure


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")


def _stage_majority(stage: str, majority: str) -> str:
    """The GA majority a stage needs: the resolution's at the plenary, simple elsewhere."""
    if majority not in ("simple", "two_thirds"):
        raise ValueError(f"majority must be 'simple' or 'two_thirds', not {majority!r}")
    return majority if stage == "plenary" else "simple"


def _needed_yes(
    stage: str, yes: NDArray[np.int64], no: NDArray[np.int64], majority: str
) -> NDArray[np.int64]:
    """The required majority of each run, as UN voting records give it: the yes votes needed out
    of that run's members present and voting (yes + no); nine in the Council."""
    if stage in SC_STAGES:
        return np.full_like(no, 9)
    voting = yes + no
    if _stage_majority(stage, majority) == "two_thirds":
        return np.maximum(-((-2 * voting) // 3), 1)  # ceil(2/3 of present and voting), at least 1
    return voting // 2 + 1  # more yes than no


def _percent_axis(axis: Any) -> None:
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _pct(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    if p == 0 or p == 1 or 0.1 <= p <= 0.9:
        return f"{p:.0%}"
    return f"{p:.1%}"


def _new_axes(figsize: tuple[float, float]) -> Axes:
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _new_figure(
    fig: Figure | None,
    figsize: tuple[float, float],
    layout: Literal["constrained"] | None = "constrained",
) -> Figure:
    if fig is None:
        return plt.figure(figsize=figsize, layout=layout)
    fig.set_size_inches(*figsize)
    fig.set_layout_engine(layout)
    return fig


def _number(x: Any) -> float:
    """A summary number (``None`` where JSON stored NaN)."""
    return math.nan if x is None else float(x)


# ------------------------------------------------------------------------------------------------
# tallies
# ------------------------------------------------------------------------------------------------
@overload
def plot_tallies(
    runs: pd.DataFrame,
    stage: None = None,
    majority: str = "simple",
    ax: None = None,
    *,
    fig: Figure | None = None,
) -> Figure: ...
@overload
def plot_tallies(
    runs: pd.DataFrame,
    stage: str,
    majority: str = "simple",
    ax: Axes | None = None,
    *,
    fig: Figure | None = None,
) -> Axes: ...
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
        return _tallies_grid(runs, majority, fig)
    _check_stage(stage)
    _stage_majority(stage, majority)
    if ax is None:
        ax = _new_axes((8.0, 5.6))
    _draw_tally(ax, runs, stage, majority, compact=False)
    return ax


def tally_columns() -> list[str]:
    """The run-table columns that :func:`plot_tallies` reads (to read no more of a large table)."""
    cats = ("held", "yes", "no", "abstain", "absent", "adopted")
    return [f"{s}_{c}" for s in STAGES for c in cats] + ["sc_referral_vetoed"]


def _held_stages(runs: pd.DataFrame) -> list[str]:
    return [s for s in STAGES if f"{s}_held" in runs and bool(runs[f"{s}_held"].any())]


def _tallies_grid(runs: pd.DataFrame, majority: str, fig: Figure | None) -> Figure:
    stages = _held_stages(runs)
    ncols = 2 if len(stages) > 1 else 1
    nrows = max(1, math.ceil(len(stages) / ncols))
    fig = _new_figure(fig, (6.4 * ncols, 3.4 * nrows + 1.0))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, stage in zip(axes, stages, strict=False):
        _draw_tally(ax, runs, stage, majority, compact=True)
    for ax in axes[len(stages) :]:
        ax.set_axis_off()
    if not stages:
        axes[0].text(
            0.5,
            0.5,
            "no vote was held in any run",
            ha="center",
            va="center",
            transform=axes[0].transAxes,
        )
    else:
        handles: list[Any] = [
            Patch(facecolor=to_rgba(COLORS[c], 0.3), edgecolor=COLORS[c]) for c in _TALLY_CATS
        ]
        labels = list(_TALLY_CATS)
        handles.append(Line2D([], [], color=_THRESHOLD_COLOR, ls="--", lw=1.3))
        labels.append("yes needed to adopt (GA: median required majority; Council: 9)")
        if any(s in GA_STAGES for s in stages):
            handles.append(Line2D([], [], color=_THRESHOLD_COLOR, lw=1.2, marker="|", ms=9))
            labels.append("required majority, 5-95 % of runs")
        fig.legend(handles, labels, loc="outside lower center", ncol=len(handles), frameon=False)
    fig.suptitle(
        f"Votes at each stage: distribution of yes, no and abstain in {len(runs):,} runs",
        fontsize="large",
        fontweight="bold",
    )
    return fig


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
    counts = {c: runs.loc[held, f"{stage}_{c}"].to_numpy(dtype=np.int64) for c in _TALLY_CATS}
    needed = _needed_yes(stage, counts["yes"], counts["no"], majority)
    adopted = float(runs.loc[held, f"{stage}_adopted"].mean())
    if stage in SC_STAGES:
        peak = _council_bars(ax, counts, n)
    else:
        peak = _ga_histograms(ax, counts, needed, n)
    ax.set_ylim(0, peak * 1.2 if stage in GA_STAGES else min(peak * 1.15, 1.0))
    _threshold(ax, stage, needed, majority, peak * 1.1)
    _percent_axis(ax.yaxis)
    ax.grid(axis="y", color="0.9", lw=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    outcome = f"adopted in {_pct(adopted)}"
    if stage == "sc_referral" and "sc_referral_vetoed" in runs:
        outcome += f", vetoed in {_pct(float(runs.loc[held, 'sc_referral_vetoed'].mean()))}"
    if compact:
        medians = ", ".join(f"{c} {np.median(counts[c]):.0f}" for c in _TALLY_CATS)
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
    lo = int(min(min(v.min() for v in counts.values()), needed.min()))
    hi = int(max(max(v.max() for v in counts.values()), needed.max()))
    width = max(1, math.ceil((hi - lo + 1) / 45))
    edges = np.arange(lo - 0.5, hi + width + 0.5, width)
    peak = 0.0
    for cat in _TALLY_CATS:
        hist, _ = np.histogram(counts[cat], bins=edges)
        ax.stairs(
            hist / n,
            edges,
            fill=True,
            facecolor=to_rgba(COLORS[cat], 0.28),
            edgecolor=COLORS[cat],
            lw=1.4,
            gid=f"tally_{cat}",
            zorder=_ZORDER[cat],
            label=f"{cat} (median {np.median(counts[cat]):.0f})",
        )
        peak = max(peak, float(hist.max()) / n)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return peak


def _council_bars(ax: Axes, counts: dict[str, NDArray[np.int64]], n: int) -> float:
    top = max(_COUNCIL_SIZE, *(int(v.max()) for v in counts.values()))
    x = np.arange(top + 1)
    width = 0.28
    peak = 0.0
    for i, cat in enumerate(_TALLY_CATS):
        share = np.bincount(counts[cat], minlength=top + 1)[: top + 1] / n
        ax.bar(
            x + (i - 1) * width,
            share,
            width=width,
            color=COLORS[cat],
            gid=f"tally_{cat}",
            label=f"{cat} (median {np.median(counts[cat]):.0f})",
        )
        peak = max(peak, float(share.max()))
    ax.set_xticks(x)
    ax.set_xlim(-0.6, top + 0.6)
    return peak


def _threshold(
    ax: Axes, stage: str, needed: NDArray[np.int64], majority: str, y_range: float
) -> None:
    """The yes votes needed: a dashed line at the median (nine in the Council) and, in the
    General Assembly, where it depends on the number present and voting, its 5-95 % range."""
    if stage in SC_STAGES:
        rule = "9 yes needed" + (", and no permanent-member no" if stage == "sc_referral" else "")
        ax.axvline(8.5, color=_THRESHOLD_COLOR, ls="--", lw=1.3, gid="threshold", label=rule)
        return
    q05, q50, q95 = (int(q) for q in np.quantile(needed, [0.05, 0.5, 0.95], method="lower"))
    rule = (
        "2/3 of present and voting"
        if _stage_majority(stage, majority) == "two_thirds"
        else "more yes than no"
    )
    ax.axvline(
        q50,
        color=_THRESHOLD_COLOR,
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
        ecolor=_THRESHOLD_COLOR,
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
    required majority; nine in the Council). One panel for
    the General Assembly, one for the Council.
    """
    tallies: Mapping[str, Any] = summary.get("tallies", {})
    panels = [
        (title, [s for s in stages if s in tallies])
        for title, stages in (("General Assembly", GA_STAGES), ("Security Council", SC_STAGES))
    ]
    panels = [(t, s) for t, s in panels if s]
    rows = [len(s) for _, s in panels] or [1]
    fig = _new_figure(fig, (8.5, 1.0 * sum(rows) + 1.2 * len(rows) + 0.8))
    axes = fig.subplots(len(rows), 1, squeeze=False, height_ratios=rows).ravel()
    handles: dict[str, Any] = {}
    for ax, (title, stages) in zip(axes, panels, strict=False):
        for i, stage in enumerate(stages):
            entry = tallies[stage]
            for j, cat in enumerate(_TALLY_CATS):
                q = entry.get(cat)
                if not q:
                    continue
                y = i + (j - 1) * 0.22
                q05, q25, q50, q75, q95 = (
                    _number(q[k]) for k in ("q05", "q25", "q50", "q75", "q95")
                )
                ax.plot([q05, q95], [y, y], color=COLORS[cat], lw=1.2, solid_capstyle="butt")
                ax.plot([q25, q75], [y, y], color=COLORS[cat], lw=5, solid_capstyle="butt")
                handles[cat] = ax.plot(
                    [q50], [y], "o", color="white", mec=COLORS[cat], ms=5, label=cat
                )[0]
            need = _number(entry.get("median_needed_yes"))
            if not math.isnan(need):
                handles["yes needed (median)"] = ax.plot(
                    [need, need],
                    [i - 0.42, i + 0.42],
                    color=_THRESHOLD_COLOR,
                    ls="--",
                    lw=1.3,
                    gid="threshold",
                    label="yes needed (median)",
                )[0]
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
        axes[0].text(
            0.5,
            0.5,
            "no vote was held in any run",
            ha="center",
            va="center",
            transform=axes[0].transAxes,
        )
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


# ------------------------------------------------------------------------------------------------
# funnel
# ------------------------------------------------------------------------------------------------
def plot_funnel(summary: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """The outcome funnel: ICC language retained, committee and plenary adoption, Council agenda,
    referral tabled, vetoed and adopted, each as a probability over all runs (horizontal bars)
    with its 95 % interval, the numbers written in a column on the right."""
    outcomes: Mapping[str, Any] = summary["outcomes"]
    keys = [k for k in FUNNEL if k in outcomes]
    if not keys:
        raise ValueError("plot_funnel: the summary has none of the funnel's outcomes")
    p = np.array([_number(outcomes[k]["p"]) for k in keys])
    lo = np.array([_number(outcomes[k]["ci_low"]) for k in keys])
    hi = np.array([_number(outcomes[k]["ci_high"]) for k in keys])
    n = summary.get("runs") or outcomes[keys[0]].get("n")
    if ax is None:
        ax = _new_axes((8.0, 0.5 * len(keys) + 1.6))
    y = np.arange(len(keys))
    colors = [_BODY_COLORS[_FUNNEL_BODY[k]] for k in keys]
    ax.barh(y, np.nan_to_num(p), height=0.62, color=colors, gid="funnel")
    err = np.vstack([np.clip(p - lo, 0, None), np.clip(hi - p, 0, None)])
    ax.errorbar(p, y, xerr=err, fmt="none", ecolor="black", elinewidth=1, capsize=3, gid="interval")
    trans = ax.get_yaxis_transform()
    for yi, (pi, li, hi_) in enumerate(zip(p, lo, hi, strict=True)):
        text = "n/a" if math.isnan(pi) else f"{pi:.1%}"
        if not (math.isnan(li) or math.isnan(hi_)):
            text += f"  [{li:.1%}, {hi_:.1%}]"
        ax.text(1.03, yi, text, transform=trans, va="center", fontsize="small", gid="value")
    ax.set_yticks(y, [str(outcomes[k].get("label", k)) for k in keys])
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    _percent_axis(ax.xaxis)
    ax.set_xlabel(
        "probability, share of all runs"
        + (f" (n = {int(n):,})" if n else "")
        + "; whiskers and brackets: 95 % interval"
    )
    ax.set_title("From committee to Council referral: probability of each outcome")
    ax.grid(axis="x", color="0.9", lw=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    bodies = dict.fromkeys(_FUNNEL_BODY[k] for k in keys)
    names = {"ga": "General Assembly", "sc": "Security Council", "veto": "veto"}
    ax.legend(
        [Patch(color=_BODY_COLORS[b]) for b in bodies],
        [names[b] for b in bodies],
        loc="lower right",
        frameon=False,
        fontsize="small",
    )
    return ax


# ------------------------------------------------------------------------------------------------
# state support
# ------------------------------------------------------------------------------------------------
@overload
def plot_state_support(
    per_state: pd.DataFrame,
    stage: str = "plenary",
    by: str = "group",
    world: World | None = None,
    ax: None = None,
    *,
    fig: Figure | None = None,
) -> Figure: ...
@overload
def plot_state_support(
    per_state: pd.DataFrame,
    stage: str = "plenary",
    by: str = "group",
    world: World | None = None,
    *,
    ax: Axes,
    fig: Figure | None = None,
) -> Axes: ...
@overload
def plot_state_support(
    per_state: pd.DataFrame,
    stage: str,
    by: str,
    world: World | None,
    ax: Axes,
    *,
    fig: Figure | None = None,
) -> Axes: ...
def plot_state_support(
    per_state: pd.DataFrame,
    stage: str = "plenary",
    by: str = "group",
    world: World | None = None,
    ax: Axes | None = None,
    *,
    fig: Figure | None = None,
) -> Axes | Figure:
    """Each state's probability of voting yes, abstaining, being absent or voting no at a stage.

    One horizontal stacked bar per state (yes from the left, no from the right), states grouped
    by UN regional group (``by="group"``) or by membership of a bloc (``by`` a bloc name of
    ``world``, e.g. ``"EU"``), most likely yes first within each group.

    Without ``ax``: a Figure with one panel per group (long groups continue in a second column),
    drawn into ``fig`` if given. With ``ax``: every state in that one (tall) Axes, groups
    separated and named on the right; returns the Axes.
    """
    _check_stage(stage)
    df = per_state[per_state["stage"].astype(str) == stage]
    if df.empty:
        held = sorted(set(per_state["stage"].astype(str)), key=STAGES.index)
        raise ValueError(
            f"no per-state results for stage {stage!r} (it was never held); "
            f"stages with results: {', '.join(held) or 'none'}"
        )
    groups = _support_groups(df, by, world)
    n_runs = int(df["runs_held"].iloc[0]) if "runs_held" in df else None
    grouping = "regional group" if by == "group" else f"membership of the {by}"
    head = f"{STAGE_LABELS[stage]}: each state's probability of voting yes, abstaining, "
    head += "being absent"
    tail = f"by {grouping}, most likely yes first"
    if n_runs:
        tail += f" ({n_runs:,} runs where it was held)"
    title = f"{head} or voting no,\n{tail}"
    if ax is not None:
        _support_single(ax, groups)
        ax.tick_params(axis="x", labeltop=False)
        ax.set_title(
            f"{head}\nor voting no, {tail}".replace(" (", "\n("), fontsize="medium", pad=24
        )
        ax.legend(
            *_support_legend(),
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=4,
            frameon=False,
            fontsize="small",
        )
        return ax
    columns: list[tuple[str, pd.DataFrame]] = []
    for name, rows in groups:
        k = max(1, math.ceil(len(rows) / _ROWS_PER_COLUMN))
        size = math.ceil(len(rows) / k)
        for i in range(k):
            part = f"{name} ({len(rows)})" if i == 0 else f"{name} (cont.)"
            columns.append((part, rows.iloc[i * size : (i + 1) * size]))
    # a fixed layout (in inches): faster than a layout engine with ~200 labels, and the bars keep
    # the same thickness in every panel
    label_w, bar_w, gap, row_h, top, bottom = 1.55, 1.25, 0.2, 0.15, 1.25, 0.75
    height = max(len(rows) for _, rows in columns)
    width = len(columns) * (label_w + bar_w + gap) + 0.1
    fig_h = height * row_h + top + bottom
    fig = _new_figure(fig, (width, fig_h), layout=None)
    for i, (name, rows) in enumerate(columns):
        x0 = i * (label_w + bar_w + gap) + label_w
        y0 = bottom + (height - len(rows)) * row_h  # short panels hang from the top
        axi = fig.add_axes((x0 / width, y0 / fig_h, bar_w / width, len(rows) * row_h / fig_h))
        _support_bars(axi, rows, np.arange(len(rows), dtype=float))
        axi.set_ylim(len(rows) - 0.5, -0.5)
        axi.set_title(
            name, fontsize="small", fontweight="bold", loc="left", x=-0.6 * label_w / bar_w, pad=16
        )
    fig.legend(
        *_support_legend(), loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=4, frameon=False
    )
    fig.text(
        0.5,
        0.35 / fig_h,
        "probability over the runs where the vote was held",
        ha="center",
        va="bottom",
    )
    fig.suptitle(title, fontsize="large", y=1 - 0.12 / fig_h, va="top")
    return fig


def _support_groups(
    df: pd.DataFrame, by: str, world: World | None
) -> list[tuple[str, pd.DataFrame]]:
    def order(rows: pd.DataFrame) -> pd.DataFrame:
        return rows.sort_values(["p_yes", "p_no", "name"], ascending=[False, True, True])

    if by == "group":
        known = [g for g in REGIONAL_GROUPS if g in set(df["group"])]
        others = sorted(set(df["group"]) - set(known))
        return [(GROUP_LABELS.get(g, str(g)), order(df[df["group"] == g])) for g in known + others]
    if world is None:
        raise ValueError(
            f"plot_state_support: by={by!r} is not 'group', so it names a bloc and "
            "needs world= (the scenario's World) for the bloc's members"
        )
    if by not in world.blocs:
        raise ValueError(
            f"plot_state_support: by must be 'group' or a bloc of the world "
            f"({', '.join(world.blocs) or 'none'}), not {by!r}"
        )
    inside = df["iso3"].isin(set(world.blocs[by].members))
    return [(f"{by} members", order(df[inside])), (f"not in the {by}", order(df[~inside]))]


def _support_bars(ax: Axes, rows: pd.DataFrame, y: NDArray[np.float64]) -> None:
    """Stacked horizontal bars, one collection per vote category (fast for 193 states)."""
    left = np.zeros(len(rows))
    half = 0.41
    for cat in _SUPPORT_CATS:
        width = rows[f"p_{cat}"].to_numpy(dtype=float)
        boxes = [
            [(x0, yi - half), (x0 + w, yi - half), (x0 + w, yi + half), (x0, yi + half)]
            for x0, w, yi in zip(left, width, y, strict=True)
        ]
        ax.add_collection(
            PolyCollection(
                boxes, facecolors=COLORS[cat], linewidths=0, gid=f"support_{cat}", label=cat
            )
        )
        left += width
    trans = ax.get_yaxis_transform()
    for yi, name in zip(y, rows["name"], strict=True):
        ax.text(
            -0.03,
            yi,
            str(name),
            transform=trans,
            ha="right",
            va="center",
            fontsize=6.5,
            gid="state_name",
        )
    ax.set_yticks([])
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.5, 1])
    _percent_axis(ax.xaxis)
    ax.tick_params(axis="x", labelsize="small", top=True, labeltop=True)
    ax.axvline(0.5, color="white", lw=0.6, ls=":")
    ax.spines[["top", "right", "left"]].set_visible(False)


def _support_legend() -> tuple[list[Patch], list[str]]:
    return [Patch(color=COLORS[c]) for c in _SUPPORT_CATS], list(_SUPPORT_CATS)


def _support_single(ax: Axes, groups: Sequence[tuple[str, pd.DataFrame]]) -> None:
    gap = 1.5
    start = 0.0
    ys, frames = [], []
    for name, rows in groups:
        y = start + np.arange(len(rows), dtype=float)
        ys.append(y)
        frames.append(rows)
        mid = start + (len(rows) - 1) / 2
        ax.text(
            1.02,
            mid,
            name,
            transform=ax.get_yaxis_transform(),
            rotation=270,
            va="center",
            ha="left",
            fontsize="small",
            fontweight="bold",
        )
        if start > 0:
            ax.axhline(start - gap / 2 - 0.5, color="0.5", lw=0.8)
        start = y[-1] + 1 + gap if len(rows) else start
    _support_bars(ax, pd.concat(frames), np.concatenate(ys))
    ax.set_ylim(start - gap - 0.5, -0.5)
    ax.set_xlabel("probability over the runs where the vote was held")


# ------------------------------------------------------------------------------------------------
# comparison
# ------------------------------------------------------------------------------------------------
def plot_comparison(
    comparison: pd.DataFrame,
    ax: Axes | None = None,
    names: tuple[str, str] | None = None,
    *,
    drop_never: bool = True,
) -> Axes:
    """Paired differences (b - a) in each outcome's probability, as dots with 95 % whiskers.

    ``comparison`` has columns outcome, label, p_a, p_b, diff, ci_low, ci_high (as ``--compare``
    computes them on common random numbers). Differences whose interval excludes zero are drawn
    filled (blue up, red down), the others hollow grey; both probabilities are written on the
    right. ``names`` are the two scenarios' names; ``drop_never`` leaves out outcomes that occurred
    in neither scenario (their number is noted under the plot).
    """
    needed = {"p_a", "p_b", "diff", "ci_low", "ci_high"}
    missing = needed - set(comparison.columns)
    if missing:
        raise ValueError(f"plot_comparison: missing columns {', '.join(sorted(missing))}")
    a_name, b_name = names if names is not None else ("A", "B")
    df = comparison.reset_index(drop=True)
    if "outcome" in df:  # rows of mean vote counts are not probabilities: not on this axis
        df = df[~df["outcome"].astype(str).str.endswith("_mean")].reset_index(drop=True)
    dropped = 0
    if drop_never:
        never = (df["p_a"] == 0) & (df["p_b"] == 0)
        dropped = int(never.sum())
        df = df[~never].reset_index(drop=True)
    if ax is None:
        ax = _new_axes((9.5, 0.34 * max(len(df), 1) + 1.9))
    label_col = "label" if "label" in df else "outcome"
    labels = df[label_col].astype(str).tolist() if label_col in df else [""] * len(df)
    y = np.arange(len(df), dtype=float)
    diff = df["diff"].to_numpy(dtype=float) * 100
    lo = df["ci_low"].to_numpy(dtype=float) * 100
    hi = df["ci_high"].to_numpy(dtype=float) * 100
    sig = (lo > 0) | (hi < 0)
    ax.axvline(0, color="black", lw=1, gid="zero")
    for mask, face, edge in (
        (sig & (diff > 0), COLORS["yes"], COLORS["yes"]),
        (sig & (diff < 0), COLORS["no"], COLORS["no"]),
        (~sig, "white", "0.45"),
    ):
        if not mask.any():
            continue
        err = np.vstack([np.clip(diff - lo, 0, None), np.clip(hi - diff, 0, None)])[:, mask]
        ax.errorbar(
            diff[mask],
            y[mask],
            xerr=np.nan_to_num(err),
            fmt="o",
            ms=5,
            mfc=face,
            mec=edge,
            ecolor=edge,
            elinewidth=1.2,
            capsize=2.5,
            gid="difference",
        )
    trans = ax.get_yaxis_transform()
    for yi, pa, pb in zip(y, df["p_a"], df["p_b"], strict=True):
        ax.text(
            1.03,
            yi,
            f"{float(pa):.1%} → {float(pb):.1%}",
            transform=trans,
            va="center",
            fontsize="small",
        )
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_ylim(max(len(df), 1) - 0.5, -0.5)
    span = np.nanmax(np.abs(np.concatenate([lo, hi, [1.0]])))
    ax.set_xlim(-1.08 * span, 1.08 * span)
    ax.set_xlabel(f"difference in probability, {b_name} − {a_name} (percentage points)")
    ax.set_title(
        f"Effect of {b_name} relative to {a_name} on each outcome's probability\n"
        f"paired differences with 95 % intervals; right: {a_name} → {b_name}",
        fontsize="medium",
    )
    ax.grid(axis="x", color="0.9", lw=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if dropped:
        ax.annotate(
            f"{dropped} outcome{'s' if dropped > 1 else ''} that occurred in neither "
            "scenario not shown",
            xy=(0, 0),
            xycoords="figure fraction",
            xytext=(6, 4),
            textcoords="offset points",
            fontsize="x-small",
            color="0.4",
        )
    return ax


# ------------------------------------------------------------------------------------------------
# the standard figures of a results folder
# ------------------------------------------------------------------------------------------------
def save_standard_plots(results: Any, folder: str | Path, dpi: int = 150) -> list[Path]:
    """Write tallies.png, funnel.png and state_support.png into ``folder``; return the files.

    ``results`` is a ``unsim.engine.Results``. Without a run table (``results.runs`` is None) the
    tallies figure is drawn from the summary's quantiles. state_support.png shows the plenary (or
    the last General Assembly stage held) by regional group; it is skipped when no per-state
    results exist. Figures are rendered with Agg and never registered with pyplot.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        # atomically: a figure being redrawn is replaced whole, never left half written
        path = write_atomically(folder / name, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
        fig.clear()
        written.append(path)

    summary = results.summary
    scenario = getattr(results, "scenario", None)
    resolution = getattr(scenario, "resolution", None)
    majority = str(getattr(resolution, "majority", "simple"))
    runs = results.runs
    if runs is None and getattr(results, "runs_file", None) is not None:
        # streamed to a file: only the tally columns are read back
        runs = results.run_table(tally_columns())
    if runs is not None and _held_stages(runs):
        save(_tallies_grid(runs, majority, Figure()), "tallies.png")
    elif summary.get("tallies"):
        save(plot_tally_summary(summary, fig=Figure()), "tallies.png")
    if any(k in summary.get("outcomes", {}) for k in FUNNEL):
        fig = Figure(figsize=(8.0, 5.0), layout="constrained")
        plot_funnel(summary, ax=fig.add_subplot())
        save(fig, "funnel.png")
    per_state = results.per_state
    if per_state is not None and len(per_state):
        present = set(per_state["stage"].astype(str))
        ga = [s for s in GA_STAGES if s in present]
        stage = (
            "plenary"
            if "plenary" in present
            else (ga[-1] if ga else min(present, key=STAGES.index))
        )
        fig = Figure()
        plot_state_support(per_state, stage=stage, fig=fig)
        save(fig, "state_support.png")
    return written


# ------------------------------------------------------------------------------------------------
# heat maps
# ------------------------------------------------------------------------------------------------
def readable_text_color(rgba: Any) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba``: chosen by the cell's
    relative luminance (WCAG), so numbers stay readable on every colour of any colour map."""
    r, g, b = to_rgba(rgba)[:3]

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    # contrast with black (L + 0.05) / 0.05 against white 1.05 / (L + 0.05): equal at L ~ 0.179
    return "black" if luminance > 0.179 else "white"


def annotate_heatmap(
    ax: Axes, image: Any, values: NDArray[np.float64], fmt: str = "{:.2f}"
) -> None:
    """Write each cell's value on a heat map drawn by ``imshow``, in black or white by the
    luminance of the cell's colour."""
    for (i, j), v in np.ndenumerate(values):
        if math.isnan(v):
            continue
        ax.text(
            j,
            i,
            fmt.format(v),
            ha="center",
            va="center",
            fontsize=7,
            color=readable_text_color(image.cmap(image.norm(v))),
            gid="cell_value",
        )


def plot_group_heatmap(per_state: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean probability of a yes vote by UN regional group (rows) and stage (columns), each cell
    written on it; Council stages average over the Council's members of each group."""
    df = per_state.assign(stage=per_state["stage"].astype(str))
    stages = [s for s in STAGES if s in set(df["stage"])]
    groups = [g for g in REGIONAL_GROUPS if g in set(df["group"])]
    grid = (
        df.pivot_table(index="group", columns="stage", values="p_yes", aggfunc="mean")
        .reindex(index=groups, columns=stages)
        .to_numpy(dtype=float)
    )
    if ax is None:
        ax = _new_axes((1.5 * len(stages) + 3.5, 0.55 * len(groups) + 2.0))
    image = ax.imshow(grid, aspect="auto", cmap="RdBu", vmin=0.0, vmax=1.0)
    annotate_heatmap(ax, image, grid, fmt="{:.0%}")
    ax.set_xticks(range(len(stages)), [STAGE_LABELS[s] for s in stages], rotation=25, ha="right")
    ax.set_yticks(range(len(groups)), [GROUP_LABELS.get(g, g) for g in groups])
    ax.figure.colorbar(
        image,
        ax=ax,
        label="mean probability of a yes vote",
        format=PercentFormatter(1.0, decimals=0),
    )
    ax.set_title("Probability of a yes vote by regional group and stage (mean over its states)")
    return ax


def plot_group_votes(
    per_state: pd.DataFrame,
    stage: str,
    baseline: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Expected votes of each UN regional group at a stage (the sum of its states'
    probabilities of yes, abstain, absent and no), one stacked bar per group; with ``baseline``
    (another per-state table), its expected yes votes are marked on each bar."""
    _check_stage(stage)
    df = per_state[per_state["stage"].astype(str) == stage]
    groups = [g for g in REGIONAL_GROUPS if g in set(df["group"])]
    sums = df.groupby("group", observed=True)[[f"p_{c}" for c in _SUPPORT_CATS]].sum()
    sums = sums.reindex(groups)
    if ax is None:
        ax = _new_axes((7.5, 0.5 * len(groups) + 1.6))
    y = np.arange(len(groups))
    left = np.zeros(len(groups))
    for cat in _SUPPORT_CATS:
        width = sums[f"p_{cat}"].to_numpy(dtype=float)
        ax.barh(y, width, left=left, color=COLORS[cat], height=0.62, label=cat, gid=f"group_{cat}")
        left += width
    if baseline is not None:
        base = baseline[baseline["stage"].astype(str) == stage]
        byes = base.groupby("group", observed=True)["p_yes"].sum().reindex(groups)
        ax.plot(
            byes.to_numpy(dtype=float),
            y,
            "|",
            color=_THRESHOLD_COLOR,
            ms=16,
            mew=2,
            label="yes in the baseline",
            gid="baseline_yes",
        )
    ax.set_yticks(y, [GROUP_LABELS.get(g, g) for g in groups])
    ax.set_ylim(len(groups) - 0.5, -0.5)
    ax.set_xlabel("expected votes (sum of the states' probabilities)")
    ax.set_title(f"{STAGE_LABELS[stage]}: expected votes by regional group", loc="left")
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=5, frameon=False, fontsize="small"
    )
    ax.spines[["top", "right"]].set_visible(False)
    return ax
