"""Heat maps and bars of votes by regional group, with numbers readable on every cell."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.ticker import PercentFormatter
from numpy.typing import NDArray

from unsim.results.plots.style import (
    COLORS,
    GROUP_LABELS,
    STAGE_LABELS,
    SUPPORT_CATS,
    THRESHOLD_COLOR,
    check_stage,
    new_axes,
)
from unsim.scenario.schema import REGIONAL_GROUPS, STAGES


def readable_text_color(rgba: Any) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba``: chosen by the cell's
    relative luminance (WCAG), so numbers stay readable on every colour of any colour map."""
    r, g, b = to_rgba(rgba)[:3]

    def linear(c: float) -> float:
        """The sRGB channel ``c`` (0 to 1) made linear."""
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
        ax = new_axes((1.5 * len(stages) + 3.5, 0.55 * len(groups) + 2.0))
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
    check_stage(stage)
    df = per_state[per_state["stage"].astype(str) == stage]
    groups = [g for g in REGIONAL_GROUPS if g in set(df["group"])]
    sums = df.groupby("group", observed=True)[[f"p_{c}" for c in SUPPORT_CATS]].sum()
    sums = sums.reindex(groups)
    if ax is None:
        ax = new_axes((7.5, 0.5 * len(groups) + 1.6))
    y = np.arange(len(groups))
    left = np.zeros(len(groups))
    for cat in SUPPORT_CATS:
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
            color=THRESHOLD_COLOR,
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
