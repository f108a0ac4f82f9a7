"""The explorer's figures, drawn fast enough to follow the numbers.

A figure of the page is built once per layout (its axes, labels, legend, the map's shapes and
its land of no member state: everything that does not change with a what-if), drawn once, and
kept as a picture; a change then restores that picture and draws only the artists that move
(the tallies' histograms and thresholds, the groups' bars, the map's colours, the titles and the
tallies' y axes) over it, on matplotlib's Agg canvas (blitting), and encodes the result as PNG.
The map's shapes are read and projected once per process (``projected_shapes``).

The tallies are drawn on a fixed x axis (0 to the number of states; 0 to 15 in the Council) so
that only the y axis moves. The figures a user downloads are the report's, drawn in full
(:mod:`unsim.explore.exports`).

Painters are shared by the pages of a server process and draw one at a time (one lock: the
font cache matplotlib shares between figures is not safe to use from two threads at once).
"""

from __future__ import annotations

import io
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from unsim.model.stages import stage_named, vote_rule
from unsim.results.plots import map_figure
from unsim.results.plots.style import (
    COLORS,
    GROUP_LABELS,
    STAGE_LABELS,
    SUPPORT_CATS,
    TALLY_CATS,
    THRESHOLD_COLOR,
    percent_axis,
)
from unsim.results.plots.worldmap import entry_colors
from unsim.results.plots.worldshapes import projected_shapes
from unsim.scenario.schema import REGIONAL_GROUPS, STAGES

#: The page's figures' resolution (dots per inch): drawn for a screen.
DPI = 72
#: Width of the General Assembly's tally bins (states).
BIN = 2
_LOCK = threading.Lock()
_PAINTERS: OrderedDict[Any, Painter] = OrderedDict()
_KEEP = 12
#: Figures being painted, so that slower work (a state's explanation) can let them go first.
_BUSY = 0
_IDLE = threading.Condition()
#: The PNGs painted last, by what they show (the tables' identities: each entry keeps its
#: tables alive, so an identity is never reused while it is here), painted or being painted.
_MADE: OrderedDict[tuple[Any, ...], tuple[Future[bytes], tuple[Any, ...]]] = OrderedDict()
_MADE_LOCK = threading.Lock()
_MADE_KEEP = 24


def png_bytes(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as PNG (RGB, fast compression: the page is on this machine)."""
    buf = canvas.buffer_rgba()
    image = Image.frombuffer("RGBA", (buf.shape[1], buf.shape[0]), buf, "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


class Painter:
    """A figure whose still parts are drawn once and whose ``moving`` artists are redrawn
    over them for each change (see the module doc)."""

    def __init__(self, fig: Figure, moving: Sequence[Artist]) -> None:
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)
        self._background: Any = None
        self._still: Any = None
        #: what the still picture shows (a scale, a title): when it changes, it is redrawn
        self.still: Any = None

    def render(self) -> bytes:
        """The figure as PNG: the still picture (redrawn if :attr:`still` changed), the
        moving artists drawn over it."""
        if self._background is None or self.still != self._still:
            self.canvas.draw()  # the animated artists are left out of it
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._still = self.still
        else:
            self.canvas.restore_region(self._background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        return png_bytes(self.canvas)


@contextmanager
def painting() -> Iterator[None]:
    """Counts a figure as being painted while in the block (see :func:`wait_for_figures`)."""
    global _BUSY
    with _IDLE:
        _BUSY += 1
    try:
        yield
    finally:
        with _IDLE:
            _BUSY -= 1
            _IDLE.notify_all()


def wait_for_figures(timeout: float) -> None:
    """Wait until no figure is being painted (at most ``timeout`` seconds): work that is not
    a figure waits, so that the figures follow the numbers closely."""
    with _IDLE:
        _IDLE.wait_for(lambda: _BUSY == 0, timeout)


def painted(key: Any, build: Callable[[], Any], update: Callable[[Any], None]) -> bytes:
    """Draw with the painter of ``key`` (made by ``build`` the first time): ``update`` sets its
    moving artists, then it renders. One figure at a time in the process."""
    with painting(), _LOCK:
        painter = _PAINTERS.get(key)
        if painter is None:
            painter = build()
            _PAINTERS[key] = painter
            while len(_PAINTERS) > _KEEP:
                _PAINTERS.popitem(last=False)
        else:
            _PAINTERS.move_to_end(key)
        update(painter)
        return painter.render()


def once(key: tuple[Any, ...], tables: tuple[Any, ...], make: Callable[[], bytes]) -> bytes:
    """The PNG of ``key`` (the tables' ``id`` and the other arguments), made by ``make`` the
    first time: a figure already painted ahead of the page (:func:`unsim.explore.figures.
    prefetch`) is not painted again, and one being painted is waited for."""
    with _MADE_LOCK:
        entry = _MADE.get(key)
        if entry is not None:
            _MADE.move_to_end(key)
        else:
            future: Future[bytes] = Future()
            _MADE[key] = (future, tables)
            while len(_MADE) > _MADE_KEEP:
                _MADE.popitem(last=False)
    if entry is not None:
        return entry[0].result()
    try:
        future.set_result(make())
    except BaseException as err:
        future.set_exception(err)
        with _MADE_LOCK:  # the next call paints it again (and shows the error)
            if key in _MADE and _MADE[key][0] is future:
                del _MADE[key]
        raise
    return future.result()


# --------------------------------------------------------------------------------------------
# the tallies of each stage
# --------------------------------------------------------------------------------------------
#: The tallies' y scales (share of runs): a panel keeps its scale until its tallest bar
#: outgrows it or falls below a third of it, so that most changes leave the axes as drawn.
Y_STEPS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def y_step(peak: float, current: float | None = None) -> float:
    """``current`` if it still holds ``peak`` (with a twentieth to spare, and ``peak`` at
    least a third of it), else the smallest scale of ``Y_STEPS`` that holds ``peak`` with a
    tenth to spare."""
    if current is not None and peak * 1.05 <= current and peak >= current / 3:
        return current
    return next((y for y in Y_STEPS if peak * 1.1 <= y), 1.0)


class TallyPainter(Painter):
    """Each held stage's yes, no and abstain counts as histograms over the runs where it was
    held, with the yes votes needed (the Assembly's: median and 5-95 % of runs). The numbers
    (runs held, medians, how often adopted) are in the page's tables, not in the figure."""

    def __init__(self, stages: tuple[str, ...], n_states: int) -> None:
        ncols = 2 if len(stages) > 1 else 1
        nrows = max(1, math.ceil(len(stages) / ncols))
        height = 1.9 * nrows + 0.9
        fig = Figure(figsize=(10.0, height), dpi=DPI)
        fig.subplots_adjust(
            left=0.06, right=0.99, top=1 - 0.55 / height, bottom=0.6 / height, hspace=0.6
        )
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        self.panels: dict[str, dict[str, Any]] = {}
        moving: list[Artist] = []
        for ax, stage in zip(axes, stages, strict=False):
            panel = self._panel(ax, stage, n_states)
            self.panels[stage] = panel
            # drawn in the order a full drawing takes them (by zorder): over the bars, the
            # thresholds and the axes' lines
            moving += [*panel["bars"], *panel["lines"], *ax.spines.values()]
        for ax in axes[len(stages) :]:
            ax.set_axis_off()
        fig.suptitle(
            "Yes, no and abstain at each stage, over the runs where it was held",
            fontsize="medium",
            fontweight="bold",
        )
        _tally_legend(fig)
        super().__init__(fig, moving)

    @staticmethod
    def _panel(ax: Axes, stage: str, n_states: int) -> dict[str, Any]:
        body = stage_named(stage).body
        council = body.is_council
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="0.9", lw=0.8)
        ax.set_axisbelow(True)
        percent_axis(ax.yaxis)
        ax.tick_params(labelsize="small")
        ax.set_title(STAGE_LABELS.get(stage, stage), fontsize="small", loc="left")
        top = body.size or n_states
        bars: list[Artist] = []
        lines: list[Artist] = []
        edges = None
        if council:
            x = np.arange(top + 1)
            for i, cat in enumerate(TALLY_CATS):
                container = ax.bar(x + (i - 1) * 0.28, np.zeros(top + 1), 0.28, color=COLORS[cat])
                bars += list(container.patches)
            ax.set_xlim(-0.6, top + 0.6)
            lines.append(ax.axvline(8.5, color=THRESHOLD_COLOR, ls="--", lw=1.2))
        else:
            edges = np.arange(-0.5, top + BIN + 0.5, BIN, dtype=float)
            for cat in TALLY_CATS:
                bars.append(
                    ax.stairs(
                        np.zeros(len(edges) - 1),
                        edges,
                        fill=True,
                        facecolor=to_rgba(COLORS[cat], 0.28),
                        edgecolor=COLORS[cat],
                        lw=1.2,
                    )
                )
            ax.set_xlim(-0.5, top + 0.5)
            blend = blended_transform_factory(ax.transData, ax.transAxes)
            lines.append(ax.axvline(0, color=THRESHOLD_COLOR, ls="--", lw=1.2))
            span = Line2D([0, 0], [0.92, 0.92], transform=blend, color=THRESHOLD_COLOR, marker="|")
            ax.add_artist(span)
            lines.append(span)
        return {"council": council, "bars": bars, "lines": lines, "edges": edges}

    def update(self, runs: pd.DataFrame, majority: str) -> None:
        """Redraw each stage's tallies of a run table: the bars, their scale, the yes needed."""
        scales = []
        for stage, panel in self.panels.items():
            ax = panel["bars"][0].axes
            held = runs[f"{stage}_held"].to_numpy(dtype=bool)
            n = max(int(held.sum()), 1)
            counts = {c: runs[f"{stage}_{c}"].to_numpy(dtype=np.int64)[held] for c in TALLY_CATS}
            scale = y_step(self._bars(panel, counts, n), panel.get("scale"))
            panel["scale"] = scale
            ax.set_ylim(0, scale)
            scales.append(scale)
            if not panel["council"] and held.any():
                needed = vote_rule(stage, majority).needed_each(counts["yes"], counts["no"])
                q05, q50, q95 = np.quantile(needed, [0.05, 0.5, 0.95], method="inverted_cdf")
                median, span = panel["lines"]  # the Assembly's
                median.set_xdata([q50, q50])
                span.set_xdata([q05, q95])
        self.still = tuple(scales)

    @staticmethod
    def _bars(panel: dict[str, Any], counts: dict[str, Any], n: int) -> float:
        peak = 0.0
        if panel["council"]:
            per = len(panel["bars"]) // len(TALLY_CATS)
            for i, cat in enumerate(TALLY_CATS):
                share = np.bincount(counts[cat], minlength=per)[:per] / n
                for rect, h in zip(panel["bars"][i * per : (i + 1) * per], share, strict=True):
                    rect.set_height(float(h))
                peak = max(peak, float(np.max(share)) if share.size else 0.0)
            return peak
        size = len(panel["edges"]) - 1
        for stairs, cat in zip(panel["bars"], TALLY_CATS, strict=True):
            per_count = np.bincount(np.clip(counts[cat], 0, size * BIN - 1), minlength=size * BIN)
            share = per_count[: size * BIN].reshape(size, BIN).sum(axis=1) / n
            stairs.set_data(share)
            peak = max(peak, float(np.max(share)) if share.size else 0.0)
        return peak


def _tally_legend(fig: Figure) -> None:
    handles: list[Any] = [
        Patch(facecolor=to_rgba(COLORS[c], 0.3), edgecolor=COLORS[c]) for c in TALLY_CATS
    ]
    handles.append(Line2D([], [], color=THRESHOLD_COLOR, ls="--", lw=1.2))
    labels = [*TALLY_CATS, "yes needed to adopt (Assembly: median of runs, 5-95 % bar; Council: 9)"]
    fig.legend(
        handles, labels, loc="lower center", ncol=len(handles), frameon=False, fontsize="small"
    )


def tallies_png(runs: pd.DataFrame, majority: str, n_states: int) -> bytes:
    """The page's tallies figure of a run table (stages held in some run)."""
    stages = tuple(s for s in STAGES if f"{s}_held" in runs and bool(runs[f"{s}_held"].any()))

    def update(p: Any) -> None:
        """Set the painter's bars and lines to this run table."""
        p.update(runs, majority)

    return once(
        ("tallies", id(runs), majority, n_states),
        (runs,),
        lambda: painted(
            ("tallies", stages, n_states), lambda: TallyPainter(stages, n_states), update
        ),
    )


# --------------------------------------------------------------------------------------------
# expected votes by regional group
# --------------------------------------------------------------------------------------------
class GroupPainter(Painter):
    """Expected votes of each regional group at a stage (stacked bars), the baseline's yes
    marked."""

    def __init__(self, stage: str, groups: tuple[str, ...], sizes: tuple[int, ...]) -> None:
        fig = Figure(figsize=(9.0, 0.42 * len(groups) + 1.3), dpi=DPI)
        fig.subplots_adjust(left=0.27, right=0.98, top=0.86, bottom=0.33)
        ax = fig.add_subplot()
        y = np.arange(len(groups))
        self.bars = {
            cat: ax.barh(y, np.zeros(len(groups)), height=0.62, color=COLORS[cat], label=cat)
            for cat in SUPPORT_CATS
        }
        (self.marker,) = ax.plot(
            np.zeros(len(groups)),
            y,
            "|",
            color=THRESHOLD_COLOR,
            ms=14,
            mew=2,
            label="yes in the baseline",
        )
        ax.set_yticks(y, [GROUP_LABELS.get(g, g) for g in groups], fontsize="small")
        ax.tick_params(axis="y", length=0)  # the groups' names suffice (no tick under a bar)
        ax.set_ylim(len(groups) - 0.5, -0.5)
        ax.set_xlim(0, max(sizes) * 1.02)
        ax.set_xlabel("expected votes (sum of the states' probabilities)", fontsize="small")
        ax.set_title(
            f"{STAGE_LABELS.get(stage, stage)}: expected votes by regional group",
            loc="left",
            fontsize="medium",
        )
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=5, frameon=False, fontsize="small"
        )
        ax.spines[["top", "right"]].set_visible(False)
        self.groups = groups
        moving: list[Artist] = [p for c in SUPPORT_CATS for p in self.bars[c].patches]
        super().__init__(fig, [*moving, self.marker, *ax.spines.values()])

    def update(self, sums: pd.DataFrame, baseline_yes: Any) -> None:
        """Set the bars to each group's expected votes and the marks to the baseline's yes votes."""
        left = np.zeros(len(self.groups))
        for cat in SUPPORT_CATS:
            width = sums[f"p_{cat}"].to_numpy(dtype=float)
            for rect, x, w in zip(self.bars[cat].patches, left, width, strict=True):
                rect.set_x(float(x))
                rect.set_width(float(w))
            left += width
        self.marker.set_xdata(np.asarray(baseline_yes, dtype=float))


def groups_png(per_state: pd.DataFrame, stage: str, baseline: pd.DataFrame) -> bytes:
    """The page's figure of each regional group's expected votes at ``stage``."""
    df = per_state[per_state["stage"].astype(str) == stage]
    groups = tuple(g for g in REGIONAL_GROUPS if g in set(df["group"]))
    sizes = tuple(int(v) for v in df.groupby("group", observed=True).size().reindex(groups))
    sums = df.groupby("group", observed=True)[[f"p_{c}" for c in SUPPORT_CATS]].sum()
    base = baseline[baseline["stage"].astype(str) == stage]
    byes = base.groupby("group", observed=True)["p_yes"].sum().reindex(list(groups))

    def update(p: Any) -> None:
        """Set the painter's bars to these groups' expected votes."""
        p.update(sums.reindex(list(groups)), byes.to_numpy(dtype=float))

    key = ("groups", stage, groups, sizes)
    return once(
        ("groups", id(per_state), stage, id(baseline)),
        (per_state, baseline),
        lambda: painted(key, lambda: GroupPainter(stage, groups, sizes), update),
    )


# --------------------------------------------------------------------------------------------
# the world map
# --------------------------------------------------------------------------------------------
class MapPainter(Painter):
    """:func:`unsim.results.plots.map_figure`, its member states' colours, dots and title
    moving."""

    def __init__(self, per_state: pd.DataFrame, stage: str) -> None:
        fig = map_figure(per_state, stage, fig=Figure(figsize=(11.0, 6.2), dpi=DPI))
        ax = fig.axes[0]
        for cax in ax.child_axes:  # the colour bar: a little lower, clear of the map's shapes
            box = cax.get_position()
            cax.set_axes_locator(None)  # type: ignore[arg-type]
            cax.set_position((box.x0, box.y0 - 0.02, box.width, box.height))
        by_gid = {c.get_gid(): c for c in ax.collections}
        self.states = by_gid["map_states"]
        self.dots = by_gid["map_dots"]
        self.ax = ax
        # land of no member state is drawn after the states, as in a full drawing (they share
        # borders)
        super().__init__(fig, [self.states, by_gid["map_other"], self.dots])

    def update(self, per_state: pd.DataFrame, stage: str) -> None:
        """Colour each state by its vote at ``stage``, and set the title."""
        shapes = projected_shapes()
        df = per_state[per_state["stage"].astype(str) == stage]
        colors, voting = entry_colors(shapes.key, shapes.member, df)
        rings = shapes.member_rings()
        self.states.set_facecolor(colors[shapes.ring_key[rings]])  # type: ignore[arg-type]
        dotted = np.flatnonzero(shapes.has_dot() & voting)
        self.dots.set_offsets(shapes.dot[dotted])
        self.dots.set_facecolor(colors[dotted])  # type: ignore[arg-type]
        # the runs in which the vote was held are in the page's tallies table: a title that
        # holds no number is drawn once per stage
        title = (
            f"{STAGE_LABELS.get(stage, stage)}: each state's vote, over the runs where it was "
            "held\ncolour: its probability of voting yes minus its probability of voting no"
        )
        self.ax.set_title(title, fontsize="medium")
        self.still = title


def map_png(per_state: pd.DataFrame, stage: str) -> bytes:
    """The page's world map of each state's vote at ``stage``."""
    own = not stage_named(stage).body.everyone  # a body of its own: its legend

    def update(p: Any) -> None:
        """Set the painter's colours to these states' votes."""
        p.update(per_state, stage)

    return once(
        ("map", id(per_state), stage),
        (per_state,),
        lambda: painted(("map", own), lambda: MapPainter(per_state, stage), update),
    )
