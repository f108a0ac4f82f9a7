"""A waterfall of a state's stance: each part a bar from where the parts before it left off, on
the stance scale shaded by the vote it gives (no, abstain, yes)."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from unsim.explain.explanation import Explanation
from unsim.ownership import Paths, save_png
from unsim.results.breakdown_table import STAGE_WORDS
from unsim.results.plots.style import COLORS

#: The parts' bars (neutral: the shading says which vote a stance gives) and the stance's.
PART_COLOR = "#8c8c8c"
STANCE_COLOR = "#333333"
#: How strongly the zones are shaded.
ZONE_ALPHA = 0.16


def _zones(ax: Axes, e: Explanation, lo: float, hi: float) -> None:
    """The stance scale shaded by the state's most likely vote there (its own rule and habit),
    each zone named at the top."""
    for start, end, vote in e.zones:
        a, b = max(start, lo), min(end, hi)
        if a >= b:
            continue
        color = COLORS.get(vote, "#ffffff") if vote != "abstain" else "#bdbdbd"
        ax.axvspan(a, b, color=color, alpha=ZONE_ALPHA, lw=0, zorder=0)
        ax.text(
            (a + b) / 2,
            1.0,
            vote,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
            color=COLORS.get(vote, "#555555"),
        )
        if math.isfinite(start) and lo < start < hi:
            ax.axvline(start, color="#555555", lw=0.8, ls=":", zorder=1)


def waterfall(e: Explanation) -> Figure:
    """The parts of the stance (zero parts left out) as a waterfall ending at the stance, with
    the stance's interval, over the no / abstain / yes zones of the state's most likely vote."""
    parts = e.parts[e.parts["mean"].abs() > 5e-4]
    fig = Figure(figsize=(8.5, 0.36 * (len(parts) + 2) + 1.9), layout="constrained")
    ax = fig.add_subplot()
    level = 0.0
    labels = []
    ends = [0.0]
    for k, (_, p) in enumerate(parts.iterrows()):
        value = float(p["mean"])
        ax.barh(k, value, left=level, color=PART_COLOR, height=0.65, zorder=2)
        ax.plot([level + value] * 2, [k - 0.33, k + 1.33], color="#777777", lw=0.6, zorder=2)
        level += value
        ends.append(level)
        labels.append(f"{p['label']}  ({value:+.2f})")
    k = len(parts)
    ax.barh(k, e.stance, color=STANCE_COLOR, height=0.65, zorder=2)
    ax.errorbar(
        e.stance,
        k,
        xerr=[[e.stance - e.stance_lo], [e.stance_hi - e.stance]],
        color="#f2b134",
        zorder=3,
    )
    labels.append(f"stance at the vote  ({e.stance:+.2f})")
    ax.axvline(0, color="black", lw=0.8, zorder=1)
    ax.use_sticky_edges = False  # bars start where the last ended: keep a margin around them
    ax.margins(x=0.06)
    lo, hi = min([*ends, e.stance]), max([*ends, e.stance])
    for start, _, _ in e.zones[1:]:  # every zone in view, with a little of the next one
        lo, hi = min(lo, start - 0.5), max(hi, start + 0.5)
    pad = 0.06 * max(hi - lo, 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    _zones(ax, e, lo - pad, hi + pad)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(
        "stance on the model's scale; shaded: the vote it gives at that stance (no, abstain, yes)"
    )
    stage = STAGE_WORDS.get(e.stage, e.stage)
    top = max(e.probabilities, key=lambda v: e.probabilities[v]["p"])
    ax.set_title(
        f"{e.name} ({e.iso3}) at the {stage} vote: most likely {top} "
        f"({100 * e.probabilities[top]['p']:.0f} %); mean over {e.runs:,} runs",
        fontsize=9,
        pad=14,
    )
    return fig


def save_waterfall(
    e: Explanation, path: str | Path, inputs: Paths = (), replace: bool = True
) -> Path:
    """Draw the waterfall and write it as PNG atomically to ``path`` (an existing file only if
    ``replace`` and unsim drew it; never one of ``inputs``: :mod:`unsim.ownership`)."""
    fig = waterfall(e)
    return save_png(fig, path, inputs=inputs, replace=replace, dpi=120, bbox_inches="tight")
