"""The standard figures of a results folder, written as PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from unsim.model.stages import main_stage
from unsim.ownership import save_png
from unsim.results.plots.funnel import plot_funnel
from unsim.results.plots.states import plot_state_support
from unsim.results.plots.style import FUNNEL
from unsim.results.plots.tallies import held_stages, plot_tally_summary, tallies_grid
from unsim.results.plots.worldmap import map_figure
from unsim.results.runtable import tally_runs

if TYPE_CHECKING:
    import pandas as pd

#: The figures :func:`save_standard_plots` may write.
FIGURES = ("tallies.png", "funnel.png", "state_support.png", "map.png")


def save_standard_plots(
    results: Any, folder: str | Path, dpi: int = 150, runs: pd.DataFrame | None = None
) -> list[Path]:
    """Write tallies.png, funnel.png, state_support.png and map.png into ``folder``; return the
    files.

    ``results`` is a ``unsim.engine.Results``. Without a run table (``results.runs`` is None) the
    tallies figure is drawn from the summary's quantiles. state_support.png shows the plenary (or
    the last General Assembly stage held) by regional group, map.png each state's vote there on
    a world map; both are skipped when no per-state results exist. Figures are rendered with Agg
    and never registered with pyplot. An existing figure is replaced only if unsim drew it
    (:data:`FIGURES` can be checked beforehand). ``runs``: what :func:`tally_runs` gives, if
    read already.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        """Save ``fig`` as ``name`` in the folder (not cleared after: that cleared its axes one
        by one, for nothing; unregistered with pyplot, it is freed as any object)."""
        # atomically: a figure being redrawn is replaced whole, never left half written, and
        # only if unsim drew it (unsim.ownership)
        path = save_png(fig, folder / name, dpi=dpi)
        written.append(path)

    summary = results.summary
    scenario = getattr(results, "scenario", None)
    resolution = getattr(scenario, "resolution", None)
    majority = str(getattr(resolution, "majority", "simple"))
    if runs is None:
        runs = tally_runs(results)  # streamed to a file: only the tally columns read back
    if runs is not None and held_stages(runs):
        save(tallies_grid(runs, majority, Figure()), "tallies.png")
    elif summary.get("tallies"):
        save(plot_tally_summary(summary, fig=Figure()), "tallies.png")
    if any(k in summary.get("outcomes", {}) for k in FUNNEL):
        fig = Figure(figsize=(8.0, 5.0), layout="constrained")
        plot_funnel(summary, ax=fig.add_subplot())
        save(fig, "funnel.png")
    per_state = results.per_state
    if per_state is not None and len(per_state):
        stage = main_stage(set(per_state["stage"].astype(str)))
        assert stage is not None
        fig = Figure()
        plot_state_support(per_state, stage=stage, fig=fig)
        save(fig, "state_support.png")
        save(map_figure(per_state, stage, fig=Figure()), "map.png")
    return written
