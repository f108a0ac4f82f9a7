"""The outcome funnel: the share of runs reaching each step of the procedure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from unsim.results.plots.style import (
    BODY_COLORS,
    FUNNEL,
    FUNNEL_BODY,
    new_axes,
    number,
    percent_axis,
)


def plot_funnel(summary: Mapping[str, Any], ax: Axes | None = None) -> Axes:
    """The outcome funnel: ICC language retained, committee and plenary adoption, Council agenda,
    referral tabled, vetoed and adopted, each as a probability over all runs (horizontal bars)
    with its 95 % interval, the numbers written in a column on the right."""
    outcomes: Mapping[str, Any] = summary["outcomes"]
    keys = [k for k in FUNNEL if k in outcomes]
    if not keys:
        raise ValueError("plot_funnel: the summary has none of the funnel's outcomes")
    p = np.array([number(outcomes[k]["p"]) for k in keys])
    lo = np.array([number(outcomes[k]["ci_low"]) for k in keys])
    hi = np.array([number(outcomes[k]["ci_high"]) for k in keys])
    n = summary.get("runs") or outcomes[keys[0]].get("n")
    if ax is None:
        ax = new_axes((8.0, 0.5 * len(keys) + 1.6))
    y = np.arange(len(keys))
    colors = [BODY_COLORS[FUNNEL_BODY[k]] for k in keys]
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
    percent_axis(ax.xaxis)
    ax.set_xlabel(
        "probability, share of all runs"
        + (f" (n = {int(n):,})" if n else "")
        + "; whiskers and brackets: 95 % interval"
    )
    ax.set_title("From committee to Council referral: probability of each outcome")
    ax.grid(axis="x", color="0.9", lw=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    bodies = dict.fromkeys(FUNNEL_BODY[k] for k in keys)
    names = {"ga": "General Assembly", "sc": "Security Council", "veto": "veto"}
    ax.legend(
        [Patch(color=BODY_COLORS[b]) for b in bodies],
        [names[b] for b in bodies],
        loc="lower right",
        frameon=False,
        fontsize="small",
    )
    return ax
