"""A waterfall of a state's stance: each part a bar from where the parts before it left off."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from unsim.explain.explanation import STAGE_WORDS, Explanation
from unsim.ownership import Paths, save_png


def waterfall(e: Explanation) -> Figure:
    """The parts of the stance (zero parts left out) as a waterfall ending at the stance, with
    the stance's interval and the point where its most likely vote would change."""
    parts = e.parts[e.parts["mean"].abs() > 5e-4]
    fig = Figure(figsize=(8.5, 0.36 * (len(parts) + 2) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    level = 0.0
    labels = []
    for k, (_, p) in enumerate(parts.iterrows()):
        value = float(p["mean"])
        color = "#2b7bba" if value >= 0 else "#c8553d"
        ax.barh(k, value, left=level, color=color, height=0.65)
        ax.plot([level + value] * 2, [k - 0.33, k + 1.33], color="#777777", lw=0.6)
        level += value
        labels.append(f"{p['label']}  ({value:+.2f})")
    k = len(parts)
    ax.barh(k, e.stance, color="#333333", height=0.65)
    ax.errorbar(
        e.stance, k, xerr=[[e.stance - e.stance_lo], [e.stance_hi - e.stance]], color="#f2b134"
    )
    labels.append(f"stance at the vote  ({e.stance:+.2f})")
    if e.flip is not None:
        at = e.stance + e.flip.threshold
        ax.axvline(at, color="#f2b134", ls="--", lw=1.2)
        ax.annotate(
            f"{e.flip.from_vote} -> {e.flip.to_vote}",
            (at, -0.6),
            fontsize=8,
            ha="center",
            va="top",
            color="#9a6c00",
        )
    ax.axvline(0, color="black", lw=0.8)
    ax.use_sticky_edges = False  # bars start where the last ended: keep a margin around them
    ax.margins(x=0.06)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("stance on the model's latent scale (support less the ICC language's cost)")
    stage = STAGE_WORDS.get(e.stage, e.stage)
    top = max(e.probabilities, key=lambda v: e.probabilities[v]["p"])
    ax.set_title(
        f"{e.name} ({e.iso3}) at the {stage} vote: most likely {top} "
        f"({100 * e.probabilities[top]['p']:.0f} %); mean over {e.runs:,} runs",
        fontsize=9,
    )
    return fig


def save_waterfall(
    e: Explanation, path: str | Path, inputs: Paths = (), replace: bool = True
) -> Path:
    """Draw the waterfall and write it as PNG atomically to ``path`` (an existing file only if
    ``replace`` and unsim drew it; never one of ``inputs``: :mod:`unsim.ownership`)."""
    fig = waterfall(e)
    return save_png(fig, path, inputs=inputs, replace=replace, dpi=120, bbox_inches="tight")
