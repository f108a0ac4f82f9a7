"""The explorer's figures: drawn in a worker thread after the numbers, and the world map panel."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import Any, cast

import solara
from matplotlib.figure import Figure

from unsim.results.plots import STAGE_LABELS, map_figure
from unsim.results.report.html import main_stage
from unsim.scenario.schema import STAGES


def png(fig: Figure, dpi: int = 72) -> bytes:
    """A figure as PNG bytes (and cleared)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    fig.clear()
    return buf.getvalue()


def img_html(data: bytes, alt: str) -> str:
    """An ``<img>`` of PNG bytes with its text alternative (inline: nothing is fetched)."""
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="{src}" style="width: 100%; height: auto">'


@solara.component
def BackgroundFigure(draw: Callable[[], Figure], key: Any, alt: str | None = None) -> None:
    """A figure drawn in a worker thread: the numbers of a change show at once, its figures as
    soon as they are drawn (the previous figure stays until then). With ``alt``, the figure is
    an ``<img>`` with that text alternative."""
    last = solara.use_ref(cast(tuple[bytes, str | None] | None, None))
    result = solara.use_thread(
        lambda: (png(draw()), alt), dependencies=[key], intrusive_cancel=False
    )
    if result.value is not None:
        last.current = result.value
    if last.current is None:
        solara.ProgressLinear(True)
        return
    data, drawn_alt = last.current  # the text of the figure shown, drawn for its own key
    if drawn_alt is None:
        solara.Image(data, width="100%")
    else:
        solara.HTML(tag="div", unsafe_innerHTML=img_html(data, drawn_alt), classes=["unsim-map"])


def map_alt(stage: str) -> str:
    return (
        f"World map of each state's vote at the {STAGE_LABELS.get(stage, stage)}: blue where a "
        "yes is likely, red where a no is likely, pale where an abstention or absence is"
    )


@solara.component
def MapPanel(shown: Any, key: Any) -> None:
    """Each state's vote on a world map at a stage the user chooses (the main vote at first)."""
    held = [s for s in STAGES if s in set(shown.per_state["stage"].astype(str))]
    first = main_stage(shown.per_state) or ""
    stage, set_stage = solara.use_state(first)
    if stage not in held:
        stage = first
    if not stage:
        return
    labels = {STAGE_LABELS.get(s, s): s for s in held}
    solara.Select(
        label="Map of the vote at",
        values=list(labels),
        value=STAGE_LABELS.get(stage, stage),
        on_value=lambda label: set_stage(labels.get(label, first)),
    )
    BackgroundFigure(
        lambda: map_figure(shown.per_state, stage, fig=Figure()),
        key=(key, stage),
        alt=map_alt(stage),
    )
