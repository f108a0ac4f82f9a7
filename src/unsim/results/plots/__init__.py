"""Figures of a Monte Carlo run: vote tallies, the outcome funnel, state support, comparisons and
a world map of each state's vote.

Each function takes result tables (``Results.runs``, ``Results.per_state``, ``Results.summary``, a
``--compare`` table) and an optional matplotlib ``ax``; it draws, returns the Axes (or the Figure,
when the figure has several panels) and never saves or shows anything. Figures of several panels
accept ``fig=`` to draw into a Figure of the caller's instead of a new pyplot one.

``save_standard_plots`` writes the standard PNGs of a results folder. It draws on figures that are
not registered with pyplot and renders them with matplotlib's Agg renderer, so it works headless,
leaves the user's backend alone and leaves no figure open.

The modules: ``style`` (colours, labels, shared helpers), ``tallies``, ``funnel``, ``states``,
``compare``, ``groups`` (heat maps and group bars), ``worldmap`` (the map; its shapes, shipped
as package data, in ``worldshapes``) and ``save``.
"""

from unsim.results.plots.compare import plot_comparison
from unsim.results.plots.funnel import plot_funnel
from unsim.results.plots.groups import (
    annotate_heatmap,
    plot_group_heatmap,
    plot_group_votes,
    readable_text_color,
)
from unsim.results.plots.save import save_standard_plots
from unsim.results.plots.states import plot_state_support
from unsim.results.plots.style import COLORS, FUNNEL, GROUP_LABELS, STAGE_LABELS
from unsim.results.plots.tallies import plot_tallies, plot_tally_summary, tally_columns
from unsim.results.plots.worldmap import map_figure, plot_state_map

__all__ = [
    "COLORS",
    "FUNNEL",
    "GROUP_LABELS",
    "STAGE_LABELS",
    "annotate_heatmap",
    "map_figure",
    "plot_comparison",
    "plot_funnel",
    "plot_group_heatmap",
    "plot_group_votes",
    "plot_state_map",
    "plot_state_support",
    "plot_tallies",
    "plot_tally_summary",
    "readable_text_color",
    "save_standard_plots",
    "tally_columns",
]
