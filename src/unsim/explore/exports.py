"""What the explorer's page offers to download: the run table and the per-state probabilities
(CSV and Parquet) and the figures (PNG), of the what-if and of the baseline, each named after the
scenario, the seed and a short hash of the changes.

The bytes are made only when a download is asked for (:func:`export_bytes`); nothing here
writes a file: the browser saves what it is sent.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from unsim.explore.session import WhatIf
from unsim.results.plots import map_figure, plot_group_votes, plot_tallies
from unsim.results.report.html import main_stage
from unsim.results.tables import Results

#: Tables: name in the file name, and how to get it from the results.
TABLES: dict[str, Callable[[Results], pd.DataFrame | None]] = {
    "runs": lambda r: r.run_table(),
    "states": lambda r: r.per_state,
}
#: Figures (PNG): name in the file name.
FIGURES = ("tallies", "groups", "map")
TABLE_FORMATS = ("csv", "parquet")
MIME = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "png": "image/png",
}
#: The figures' resolution in a download (the page's own are drawn smaller).
DOWNLOAD_DPI = 150


def changes_hash(what_if: WhatIf) -> str:
    """Eight hex digits that name a what-if's changes (the same changes, the same digits):
    of its values set, by path, and the strategies it switches off."""
    text = json.dumps(
        {"set": what_if.as_dict(), "off": sorted(what_if.disabled)},
        sort_keys=True,
        default=repr,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def export_name(scenario: str, seed: int, what_if: WhatIf, what: str, suffix: str) -> str:
    """``<scenario>_seed<seed>_<changes>_<what>.<suffix>``, ``<changes>`` being ``baseline``
    for the scenario as written, else ``whatif-`` and :func:`changes_hash`."""
    unchanged = not what_if.overrides and not what_if.disabled
    changes = "baseline" if unchanged else f"whatif-{changes_hash(what_if)}"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in scenario) or "scenario"
    return f"{safe}_seed{seed}_{changes}_{what}.{suffix}"


@dataclass(frozen=True)
class Export:
    """One file to download: its name, its type, and how to make its bytes."""

    filename: str
    mime_type: str
    make: Callable[[], bytes]
    label: str


def table_bytes(table: pd.DataFrame, fmt: str) -> bytes:
    """A table as CSV (UTF-8, no index) or Parquet bytes."""
    if fmt == "csv":
        return table.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        table.to_parquet(buf, index=False)
        return buf.getvalue()
    raise ValueError(f"unknown table format {fmt!r}; allowed: {', '.join(TABLE_FORMATS)}")


def figure(results: Results, baseline: Results, name: str, stage: str | None = None) -> Figure:
    """A figure of ``results`` as the report draws it: ``tallies`` (every stage's tallies
    against its threshold), ``groups`` (expected votes by regional group at the main vote,
    the baseline's yes marked) or ``map`` (each state's vote at ``stage``, default the main
    vote)."""
    main = stage or main_stage(results.per_state)
    if name == "tallies":
        runs = results.run_table()
        assert runs is not None
        return plot_tallies(
            runs,
            majority=results.scenario.resolution.majority,
            fig=Figure(figsize=(11, 7), layout="constrained"),
        )
    if main is None:
        raise ValueError("no vote was held in any run: nothing to draw")
    if name == "groups":
        fig = Figure(figsize=(9, 3.4), layout="constrained")
        plot_group_votes(results.per_state, main, baseline=baseline.per_state, ax=fig.add_subplot())
        return fig
    if name == "map":
        return map_figure(results.per_state, main, fig=Figure())
    raise ValueError(f"unknown figure {name!r}; allowed: {', '.join(FIGURES)}")


def figure_png(results: Results, baseline: Results, name: str, stage: str | None = None) -> bytes:
    """The page's figure ``name`` (at ``stage``) as a PNG to download."""
    buf = io.BytesIO()
    figure(results, baseline, name, stage).savefig(buf, format="png", dpi=DOWNLOAD_DPI)
    return buf.getvalue()


def exports(
    scenario: str, what_if: WhatIf, results: Results, baseline: Results, stage: str | None = None
) -> list[Export]:
    """Every download of one variant (``what_if`` and its ``results``; the baseline for the
    scenario as written): its two tables in each format and its figures."""
    out: list[Export] = []
    seed = results.seed

    def table_maker(get: Callable[[Results], Any], fmt: str) -> Callable[[], bytes]:
        """A download of the table ``get`` takes from the results, in the format ``fmt``."""
        return lambda: table_bytes(get(results), fmt)

    for what, get in TABLES.items():
        for fmt in TABLE_FORMATS:
            out.append(
                Export(
                    export_name(scenario, seed, what_if, what, fmt),
                    MIME[fmt],
                    table_maker(get, fmt),
                    f"{'run table' if what == 'runs' else 'per-state'} .{fmt}",
                )
            )
    for name in FIGURES:
        out.append(
            Export(
                export_name(scenario, seed, what_if, name, "png"),
                MIME["png"],
                (lambda n=name: figure_png(results, baseline, n, stage)),  # type: ignore[misc]
                f"{name} .png",
            )
        )
    return out
