"""Colours, labels and small helpers shared by unsim's figures."""

from __future__ import annotations

import math
from typing import Any, Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from unsim.model.outcomes import OUTCOMES
from unsim.model.stages import STAGE_LABELS as STAGE_LABELS  # the figures take it from here
from unsim.model.stages import STAGE_PLAN
from unsim.scenario.schema import STAGES

#: Colours of the vote categories (blue/red diverging, safe for the common colour-blindnesses).
COLORS: dict[str, str] = {
    "yes": "#2166ac",
    "no": "#b2182b",
    "abstain": "#969696",
    "absent": "#e3e3e3",
}
BODY_COLORS = {"ga": "#4d7ea8", "sc": "#e08a3c", "veto": "#b2182b"}
THRESHOLD_COLOR = "#222222"
BAND_COLOR = "#f2c14e"


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


def _funnel_body(name: str) -> str:
    """The body whose colour a funnel bar takes: the vote's that produces the outcome (the
    ICC language's fate is the Assembly's), a veto its own."""
    if name == "referral_vetoed":
        return "veto"
    stage = next(o.stage for o in OUTCOMES if o.name == name)
    bodies = {st.name: st.body for st in STAGE_PLAN}
    return "sc" if stage in bodies and bodies[stage].is_council else "ga"


FUNNEL_BODY = {k: _funnel_body(k) for k in FUNNEL}

TALLY_CATS = ("yes", "no", "abstain")
ZORDER = {"yes": 2.3, "no": 2.2, "abstain": 2.1}  # yes drawn over the others
SUPPORT_CATS = ("yes", "abstain", "absent", "no")  # left to right: yes anchored left, no right
COUNCIL_SIZE = 15
ROWS_PER_COLUMN = 56  # states per panel column in the state-support figure


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def check_stage(stage: str) -> None:
    """A ValueError naming the known stages unless ``stage`` is one."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")


def percent_axis(axis: Any) -> None:
    """Label ``axis`` (a matplotlib x or y axis) in whole percent of 1."""
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def pct(p: float) -> str:
    """A share as a percentage: whole between 10 and 90 %, with one decimal nearer 0 or 1."""
    if math.isnan(p):
        return "n/a"
    if p == 0 or p == 1 or 0.1 <= p <= 0.9:
        return f"{p:.0%}"
    return f"{p:.1%}"


def new_axes(figsize: tuple[float, float]) -> Axes:
    """Axes on a new pyplot figure (pyplot is loaded here only: saving draws on figures that
    pyplot does not hold)."""
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def new_figure(
    fig: Figure | None,
    figsize: tuple[float, float],
    layout: Literal["constrained"] | None = "constrained",
) -> Figure:
    """``fig`` resized to ``figsize`` with ``layout``, or a new pyplot figure if None."""
    if fig is None:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize, layout=layout)
    fig.set_size_inches(*figsize)
    fig.set_layout_engine(layout)
    return fig


def number(x: Any) -> float:
    """A summary number (``None`` where JSON stored NaN)."""
    return math.nan if x is None else float(x)
