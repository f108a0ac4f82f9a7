"""The explorer's figures: painted in a worker thread after the numbers
(:mod:`unsim.explore.painters`), and the world map panel."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import threading
from collections.abc import Callable
from typing import Any, cast

import solara
from matplotlib.figure import Figure

from unsim.explore.painters import groups_png, map_png, painting, tallies_png
from unsim.results.plots import STAGE_LABELS
from unsim.results.report.html import main_stage
from unsim.scenario.schema import STAGES


def png(fig: Figure, dpi: int = 72) -> bytes:
    """A figure as PNG bytes (and cleared)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    fig.clear()
    return buf.getvalue()


def img_html(data: bytes, alt: str, key: str = "") -> str:
    """An ``<img>`` of PNG bytes with its text alternative (inline: nothing is fetched)."""
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return (
        f'<img alt="{html.escape(alt)}" data-key="{key}" src="{src}" '
        'style="width: 100%; height: auto">'
    )


def figure_key(key: Any) -> str:
    """A short name of what a figure shows (its what-if, seed, runs, stage), for the page."""
    return hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:12]


@solara.component
def BackgroundFigure(paint: Callable[[], bytes], key: Any, alt: str) -> None:
    """A figure painted in a worker thread (``paint`` returns its PNG): the numbers of a change
    show at once, its figure as soon as it is painted. Until then the previous figure stays,
    dimmed and marked "redrawing…". An ``<img>`` with the text alternative ``alt``; its
    ``data-key`` names what it shows."""
    last = solara.use_ref(cast(tuple[bytes, str, Any] | None, None))

    def work() -> tuple[bytes, str, Any]:
        """Paint the figure: its PNG, its text alternative and its key."""
        with painting():  # counted from the start, while it waits for its turn too
            return paint(), alt, key

    result = solara.use_thread(work, dependencies=[key], intrusive_cancel=False)
    if result.state == solara.ResultState.FINISHED and result.value is not None:
        last.current = result.value
    if last.current is None:
        solara.ProgressLinear(True)
        return
    data, drawn_alt, drawn_key = last.current  # the figure shown, with its own text
    stale = drawn_key != key
    badge = '<span class="unsim-redrawing">redrawing…</span>' if stale else ""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=img_html(data, drawn_alt, figure_key(drawn_key)) + badge,
        classes=["unsim-figure", "unsim-map" if drawn_alt.startswith("World map") else "unsim-fig"]
        + (["unsim-stale"] if stale else []),
    )


def paint_ahead(results: Any, baseline: Any) -> None:
    """Paint the page's figures of ``results`` (tallies, regional groups and map at the main
    vote): the page's own calls then find them made (:func:`unsim.explore.painters.once`)."""
    stage = main_stage(results.per_state)
    n_states = len(results.scenario.world.states)
    try:
        if results.runs is not None:
            tallies_png(results.runs, results.scenario.resolution.majority, n_states)
        if stage is not None:
            map_png(results.per_state, stage)
            groups_png(results.per_state, stage, baseline.per_state)
    except Exception:  # the page paints it again, and shows the error
        pass


def prefetch(results: Any, baseline: Any) -> None:
    """:func:`paint_ahead` in a thread of its own, started as soon as the numbers are computed:
    the figures are painted while the page shows the numbers, and follow them by about a
    render (see ``benchmarks/explore.py --browser``)."""
    threading.Thread(
        target=paint_ahead, args=(results, baseline), name="unsim-figures", daemon=True
    ).start()


def map_alt(stage: str) -> str:
    """The world map's text alternative at ``stage``."""
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
    BackgroundFigure(lambda: map_png(shown.per_state, stage), key=(key, stage), alt=map_alt(stage))
