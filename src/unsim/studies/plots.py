"""Figures of study folders: sweeps, sensitivity analyses and scenario discoveries.

``unsim plot FOLDER`` calls :func:`plot_folder`, which tells the kind of folder by its files
(``discovery.json``; ``indices.parquet`` beside ``sweep.parquet``; ``sweep.parquet``) and redraws
its figures. Parameters are labelled in words (``unsim.studies.labels``), outcomes by their summary
labels. Figures are drawn with Agg on a ``Figure`` (never through pyplot) and written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from unsim.errors import InputError
from unsim.ownership import check_output, save_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from unsim.studies.discovery import Discovery

__all__ = [
    "folder_kind",
    "plot_folder",
    "save_discovery_figure",
    "save_sensitivity_figure",
    "save_sweep_figures",
]

SWEEP_OUTCOMES = ("plenary_adopted", "icc_retained", "referral_tabled", "referral_adopted")


def _save(fig: Figure, path: Path, dpi: int = 130) -> Path:
    """Write a figure atomically; an existing file only if unsim drew it (unsim.ownership)."""
    return save_png(fig, path, dpi=dpi)


def folder_kind(folder: Path) -> str:
    """``discovery``, ``sensitivity``, ``sweep`` or ``results`` (a run's folder)."""
    if (folder / "discovery.json").exists():
        return "discovery"
    if (folder / "indices.parquet").exists():
        return "sensitivity"
    if (folder / "sweep.parquet").exists():
        return "sweep"
    return "results"


#: The figures of each kind of study folder (a figure unsim did not draw is refused before any
#: is redrawn).
FIGURES = {
    "discovery": ("discovery.png",),
    "sensitivity": ("indices.png",),
    "sweep": tuple(f"sweep_{o}.png" for o in SWEEP_OUTCOMES),
}


def plot_folder(folder: str | Path) -> list[Path]:
    """Redraw the figures of a study folder; return the files written."""
    folder = Path(folder)
    kind = folder_kind(folder)
    for name in FIGURES.get(kind, ()):
        check_output(folder / name, "png")
    if kind == "discovery":
        from unsim.studies.discovery import load_discovery

        return [save_discovery_figure(load_discovery(folder), folder / "discovery.png")]
    if kind == "sensitivity":
        table = load_indices(folder)
        return [save_sensitivity_figure(table, folder / "indices.png")]
    if kind == "sweep":
        from unsim.studies.storage import load_sweep

        return save_sweep_figures(load_sweep(folder), folder)
    raise InputError(f"{folder}: not a study folder (no sweep.parquet or discovery.json)")


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------
def save_sweep_figures(
    table: pd.DataFrame, folder: Path, outcomes: tuple[str, ...] = SWEEP_OUTCOMES
) -> list[Path]:
    """One figure per outcome (``sweep_<outcome>.png``): a line with its interval over one
    parameter; a heat map over a grid of two; the outcome against each parameter otherwise."""
    from matplotlib.figure import Figure

    from unsim.studies.sweep_plots import outcome_label, param_label, plot_heatmap, plot_outcome
    from unsim.studies.table import outcome_column, param_columns

    names = table.attrs.get("labels") or {}
    params = [p for p in param_columns(table) if table[p].nunique() > 1]
    if not params:
        raise InputError("no parameter varies over the sweep's points: nothing to plot")
    numeric = [p for p in params if pd.api.types.is_numeric_dtype(table[p])]
    written = []
    for outcome in outcomes:
        try:
            col = outcome_column(table, outcome)
        except KeyError:
            continue
        grid = len(params) == 2 and table.groupby(params).size().max() == 1
        if len(params) == 1:
            fig = Figure(figsize=(6.5, 4.2), layout="constrained")
            plot_outcome(table, params[0], outcome, ax=fig.add_subplot())
        elif grid and len(table) == table[params[0]].nunique() * table[params[1]].nunique():
            fig = Figure(figsize=(7.5, 5.5), layout="constrained")
            plot_heatmap(table, params[0], params[1], outcome, ax=fig.add_subplot())
        else:
            shown = numeric[:9]
            if not shown:
                continue
            ncols = min(3, len(shown))
            nrows = int(np.ceil(len(shown) / ncols))
            fig = Figure(figsize=(4.0 * ncols, 3.2 * nrows), layout="constrained")
            axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
            for ax, p in zip(axes, shown, strict=False):
                ax.scatter(table[p], table[col], s=6, alpha=0.5)
                ax.set_xlabel(param_label(p, names))
                ax.set_ylabel(f"P({outcome_label(outcome)})" if col.endswith("_p") else col)
                ax.grid(alpha=0.3)
            for ax in axes[len(shown) :]:
                ax.set_visible(False)
            fig.suptitle(f"{outcome_label(outcome)} over {len(table)} points")
        written.append(_save(fig, folder / f"sweep_{outcome}.png"))
    return written


# --------------------------------------------------------------------------------------------
# Sensitivity
# --------------------------------------------------------------------------------------------
#: The columns of a table of Sobol indices, and of Morris's.
SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "sigma")


def load_indices(folder: Path) -> pd.DataFrame:
    """A sensitivity analysis's ``indices.parquet`` with the parameters' labels from its
    ``sensitivity.json`` (if any), both read within bounds and checked
    (:mod:`unsim.results.saved`)."""
    from unsim.results.saved import SweepMeta, check_columns, check_shape, read_mapping
    from unsim.safeio import FileReadError
    from unsim.safetables import read_parquet_table

    path = folder / "indices.parquet"
    try:
        table = read_parquet_table(path)
    except FileReadError as exc:
        raise InputError(f"{path}: {exc.reason}") from None
    kind = SOBOL_COLUMNS if "ST" in table.columns else MORRIS_COLUMNS
    check_columns(table, path, ("outcome", "parameter", *kind), kind)
    labels: dict[str, str] = {}
    info_path = folder / "sensitivity.json"
    if info_path.exists() or info_path.is_symlink():
        info = check_shape(SweepMeta, read_mapping(info_path, "a sensitivity folder"), info_path)
        labels = dict(info.labels or {})
    table.attrs["labels"] = labels
    return table


def save_sensitivity_figure(table: pd.DataFrame, path: Path) -> Path:
    """The indices of every outcome, one panel each (``S1`` and ``ST``, or ``mu*`` and sigma),
    with their 95 % intervals."""
    from matplotlib.figure import Figure

    from unsim.studies.sensitivity import (
        no_indices_note,
        outcomes_without_indices,
        plot_sensitivity,
    )

    skipped = outcomes_without_indices(table)  # no panel of empty bars: said in words
    outcomes = [o for o in dict.fromkeys(table["outcome"]) if o not in skipped]
    params = table["parameter"].nunique()
    width = max(6.0, 0.7 * params + 3)
    fig = Figure(figsize=(width, 3.6 * max(len(outcomes), 1)), layout="constrained")
    if not outcomes:
        no_indices_note(fig.subplots(), skipped)
        return _save(fig, path)
    axes = fig.subplots(len(outcomes), 1, squeeze=False).ravel()
    for ax, outcome in zip(axes, outcomes, strict=True):
        part = table[table["outcome"] == outcome].copy()
        part.attrs = dict(table.attrs)
        plot_sensitivity(part, outcome=outcome, ax=ax)
    if skipped:
        left_out = "; ".join(f"{o} ({why})" for o, why in skipped.items())
        fig.suptitle(f"no Sobol indices: {left_out}", fontsize="small", color="0.3")
    return _save(fig, path)


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------
def save_discovery_figure(d: Discovery, path: Path) -> Path:
    """For each box: its peeling trajectory (coverage against density, coloured by the number
    of restricted parameters, the chosen box circled) and its ranges within the full ranges."""
    from matplotlib.figure import Figure

    from unsim.studies.sweep_plots import outcome_label

    n = max(1, len(d.boxes))
    fig = Figure(figsize=(12.0, 4.2 * n), layout="constrained")
    axes = fig.subplots(n, 2, squeeze=False)
    for k, box in enumerate(d.boxes):
        ax = axes[k, 0]
        t = box.trajectory
        points = ax.scatter(
            t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18, zorder=2
        )
        ax.plot(t["coverage"], t["density"], color="grey", lw=0.8, zorder=1)
        ax.scatter(
            [box.coverage],
            [box.density],
            s=160,
            facecolors="none",
            edgecolors="red",
            linewidths=1.6,
            zorder=3,
            label=f"chosen box (step {box.index})",
        )
        fig.colorbar(points, ax=ax, label="restricted parameters")
        ax.set_xlabel("coverage (share of the cases inside the box)")
        ax.set_ylabel("density (share of the box that are cases)")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower left")
        ax.set_title(f"box {k + 1}: peeling trajectory")
        _draw_box(axes[k, 1], box, d.labels)
    rel = "below" if d.below else "at least"
    fig.suptitle(
        f"Scenario discovery (PRIM): P({outcome_label(d.outcome)}) {rel} {d.threshold:g} "
        f"in {d.cases} of {d.points} points"
    )
    return _save(fig, path)


def _draw_box(ax: Any, box: Any, labels: dict[str, str]) -> None:
    """The box's ranges as bars within each parameter's full range (scaled to 0-1)."""
    lim = box.limits
    numeric = lim[lim["low"].notna()] if "low" in lim else lim.iloc[0:0]
    if numeric.empty:
        ax.text(0.5, 0.5, "no numeric restriction", ha="center", va="center")
        ax.set_axis_off()
        return
    y = np.arange(len(numeric))
    span = (numeric["range_high"] - numeric["range_low"]).replace(0, 1).to_numpy()
    lo = ((numeric["low"] - numeric["range_low"]).to_numpy()) / span
    hi = ((numeric["high"] - numeric["range_low"]).to_numpy()) / span
    ax.barh(y, np.ones(len(y)), color="#e0e0e0", height=0.6)
    ax.barh(y, hi - lo, left=lo, color="#1f77b4", height=0.6)
    for i, r in enumerate(numeric.itertuples(index=False)):
        inside = hi[i] - lo[i] > 0.35
        ax.text(
            (lo[i] + hi[i]) / 2 if inside else min(hi[i] + 0.01, 0.99),
            i,
            f"{r.low:.3g} to {r.high:.3g}",
            ha="center" if inside else "left",
            va="center",
            fontsize=8,
            color="white" if inside else "black",
        )
    ax.set_yticks(y, [labels.get(p, p) for p in numeric["parameter"]])
    ax.set_xlim(0, 1)
    ax.set_xlabel("position within the parameter's range (low to high)")
    ax.set_title(
        f"the box: coverage {box.coverage:.2f}, density {box.density:.2f}, {box.points} points"
    )
