"""Figures of a sweep table: an outcome against a parameter (with its interval as a band) and
a heat map over a grid of two parameters."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from unsim.studies.designs import is_number
from unsim.studies.table import outcome_column, param_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "axes_or_new",
    "outcome_label",
    "param_label",
    "plot_heatmap",
    "plot_outcome",
    "short_name",
]


def axes_or_new(ax: Axes | None) -> Axes:
    """``ax``, or the axes of a new pyplot figure if None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(6, 4))
    return new


def outcome_label(outcome: str) -> str:
    """An outcome in words: its summary label ("plenary adopts"), else its name with spaces."""
    from unsim.model.outcomes import known_outcomes

    for o in known_outcomes():
        # an outcome by its name, or by its run table column when it is the column being true
        if outcome in (o.name, f"{o.name}_p") or (o.value is None and outcome == o.key):
            return o.label
    if outcome.endswith("_yes_mean"):
        return f"{outcome[: -len('_yes_mean')].replace('_', ' ')}: mean yes votes"
    return outcome.replace("_", " ")


def short_name(path: str) -> str:
    """The last two parts of a dotted path: ``strategies[0].intensity``."""
    return ".".join(path.split(".")[-2:])


def param_label(col: str, names: Mapping[str, str] | None = None) -> str:
    """An axis label in words for a dotted path: from ``names`` (a table's ``attrs["labels"]``,
    made from the scenario: "charm offensive: intensity"), else from the path alone."""
    if names and col in names:
        return str(names[col])
    from unsim.studies.labels import label

    return label(col)


def plot_outcome(
    df: pd.DataFrame,
    param: str,
    outcome: str = "plenary_adopted",
    ax: Axes | None = None,
    by: str | None = None,
) -> Axes:
    """Probability of ``outcome`` against ``param``, with its 95 % interval as a band.

    Points that differ in other parameters are drawn as separate lines (grouped by ``by``, or by
    all the other parameters)."""
    ax = axes_or_new(ax)
    col = outcome_column(df, outcome)
    stem = col[:-2] if col.endswith("_p") else None
    names = df.attrs.get("labels")
    others = [by] if by else [c for c in param_columns(df) if c != param and df[c].nunique() > 1]
    groups: Iterable[tuple[Any, pd.DataFrame]] = (
        df.groupby(others, sort=True) if others else [((), df)]
    )
    for key, part in groups:
        part = part.sort_values(param)
        keys = key if isinstance(key, tuple) else (key,)
        label = (
            ", ".join(
                f"{param_label(o, names)}={k:g}" if is_number(k) else f"{param_label(o, names)}={k}"
                for o, k in zip(others, keys, strict=True)
            )
            or None
        )
        (line,) = ax.plot(part[param], part[col], marker="o", ms=3, label=label)
        if stem is not None:
            ax.fill_between(
                part[param],
                part[f"{stem}_ci_low"],
                part[f"{stem}_ci_high"],
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
            )
    ax.set_xlabel(param_label(param, names))
    ax.set_ylabel(f"P({outcome_label(outcome)})" if stem else outcome_label(outcome))
    if stem is not None:
        ax.set_ylim(-0.02, 1.02)
    if others:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_heatmap(
    df: pd.DataFrame,
    x: str,
    y: str,
    outcome: str = "plenary_adopted",
    ax: Axes | None = None,
    annotate: bool = True,
    cmap: str = "viridis",
) -> Axes:
    """Probability of ``outcome`` over a grid of two parameters (the other parameters fixed)."""
    ax = axes_or_new(ax)
    col = outcome_column(df, outcome)
    varying = [c for c in param_columns(df) if c not in (x, y) and df[c].nunique() > 1]
    if varying:
        raise ValueError(f"other parameters vary ({', '.join(varying)}): select one slice first")
    grid = df.pivot_table(index=y, columns=x, values=col, aggfunc="mean").sort_index()
    grid = grid.sort_index(axis=1)
    is_p = col.endswith("_p")
    image = ax.imshow(
        grid.to_numpy(dtype=float),
        origin="lower",
        aspect="auto",
        cmap=cmap,
        vmin=0.0 if is_p else None,
        vmax=1.0 if is_p else None,
    )
    ax.figure.colorbar(
        image, ax=ax, label=f"P({outcome_label(outcome)})" if is_p else outcome_label(outcome)
    )

    def ticks(values: Sequence[Any]) -> list[str]:
        """Tick labels of the values: numbers in short form, others as text."""
        return [f"{v:g}" if is_number(v) else str(v) for v in values]

    from unsim.results.plots import readable_text_color

    ax.set_xticks(range(grid.shape[1]), ticks(list(grid.columns)), rotation=45, ha="right")
    ax.set_yticks(range(grid.shape[0]), ticks(list(grid.index)))
    if annotate and grid.size <= 150:
        values = grid.to_numpy(dtype=float)
        for (i, j), v in np.ndenumerate(values):
            if not math.isnan(v):
                ax.text(
                    j,
                    i,
                    f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=readable_text_color(image.cmap(image.norm(v))),
                )
    names = df.attrs.get("labels")
    ax.set_xlabel(param_label(x, names))
    ax.set_ylabel(param_label(y, names))
    return ax
