"""Each state's probabilities of yes, abstain, absent and no, by regional group."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from numpy.typing import NDArray

from unsim.results.plots.style import (
    COLORS,
    GROUP_LABELS,
    ROWS_PER_COLUMN,
    STAGE_LABELS,
    SUPPORT_CATS,
    check_stage,
    new_figure,
    percent_axis,
)
from unsim.scenario.schema import REGIONAL_GROUPS, STAGES, World


@overload
def plot_state_support(
    per_state: pd.DataFrame,
    stage: str = "plenary",
    by: str = "group",
    world: World | None = None,
    ax: None = None,
    *,
    fig: Figure | None = None,
) -> Figure:
    """Without ``ax``: a Figure with one panel per group (drawn into ``fig`` if given)."""
    ...


@overload
def plot_state_support(
    per_state: pd.DataFrame,
    stage: str = "plenary",
    by: str = "group",
    world: World | None = None,
    *,
    ax: Axes,
    fig: Figure | None = None,
) -> Axes:
    """With ``ax`` by keyword: every state in that one Axes, which is returned."""
    ...


@overload
def plot_state_support(
    per_state: pd.DataFrame,
    stage: str,
    by: str,
    world: World | None,
    ax: Axes,
    *,
    fig: Figure | None = None,
) -> Axes:
    """With ``ax`` in its place: every state in that one Axes, which is returned."""
    ...


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
    check_stage(stage)
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
    return _support_panels(groups, title, fig)


def _support_panels(
    groups: list[tuple[str, pd.DataFrame]], title: str, fig: Figure | None
) -> Figure:
    """One panel per group (long groups continue in a further column), in a fixed layout."""
    columns: list[tuple[str, pd.DataFrame]] = []
    for name, rows in groups:
        k = max(1, math.ceil(len(rows) / ROWS_PER_COLUMN))
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
    fig = new_figure(fig, (width, fig_h), layout=None)
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
        """The states from most to least likely to vote yes (then least likely no, then by name)."""
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
    for cat in SUPPORT_CATS:
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
    percent_axis(ax.xaxis)
    ax.tick_params(axis="x", labelsize="small", top=True, labeltop=True)
    ax.axvline(0.5, color="white", lw=0.6, ls=":")
    ax.spines[["top", "right", "left"]].set_visible(False)


def _support_legend() -> tuple[list[Patch], list[str]]:
    return [Patch(color=COLORS[c]) for c in SUPPORT_CATS], list(SUPPORT_CATS)


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
