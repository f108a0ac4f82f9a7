"""Outcome probabilities of several scenarios or strategies side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from unsim.results.plots.style import COLORS, new_axes


def plot_comparison(
    comparison: pd.DataFrame,
    ax: Axes | None = None,
    names: tuple[str, str] | None = None,
    *,
    drop_never: bool = True,
) -> Axes:
    """Paired differences (b - a) in each outcome's probability, as dots with 95 % whiskers.

    ``comparison`` has columns outcome, label, p_a, p_b, diff, ci_low, ci_high (as ``--compare``
    computes them on common random numbers). Differences whose interval excludes zero are drawn
    filled (blue up, red down), the others hollow grey; both probabilities are written on the
    right. ``names`` are the two scenarios' names; ``drop_never`` leaves out outcomes that occurred
    in neither scenario (their number is noted under the plot).
    """
    a_name, b_name = names if names is not None else ("A", "B")
    df, dropped = _comparison_rows(comparison, drop_never)
    if ax is None:
        ax = new_axes((9.5, 0.34 * max(len(df), 1) + 1.9))
    label_col = "label" if "label" in df else "outcome"
    labels = df[label_col].astype(str).tolist() if label_col in df else [""] * len(df)
    y = np.arange(len(df), dtype=float)
    lo = df["ci_low"].to_numpy(dtype=float) * 100
    hi = df["ci_high"].to_numpy(dtype=float) * 100
    _draw_differences(ax, df["diff"].to_numpy(dtype=float) * 100, lo, hi, y)
    trans = ax.get_yaxis_transform()
    for yi, pa, pb in zip(y, df["p_a"], df["p_b"], strict=True):
        ax.text(
            1.03,
            yi,
            f"{float(pa):.1%} → {float(pb):.1%}",
            transform=trans,
            va="center",
            fontsize="small",
        )
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_ylim(max(len(df), 1) - 0.5, -0.5)
    span = np.nanmax(np.abs(np.concatenate([lo, hi, [1.0]])))
    ax.set_xlim(-1.08 * span, 1.08 * span)
    ax.set_xlabel(f"difference in probability, {b_name} − {a_name} (percentage points)")
    ax.set_title(
        f"Effect of {b_name} relative to {a_name} on each outcome's probability\n"
        f"paired differences with 95 % intervals; right: {a_name} → {b_name}",
        fontsize="medium",
    )
    ax.grid(axis="x", color="0.9", lw=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if dropped:
        ax.annotate(
            f"{dropped} outcome{'s' if dropped > 1 else ''} that occurred in neither "
            "scenario not shown",
            xy=(0, 0),
            xycoords="figure fraction",
            xytext=(6, 4),
            textcoords="offset points",
            fontsize="x-small",
            color="0.4",
        )
    return ax


def _comparison_rows(comparison: pd.DataFrame, drop_never: bool) -> tuple[pd.DataFrame, int]:
    """The rows to draw (probabilities only; without the never-seen ones if asked) and how many
    rows were left out for never occurring."""
    needed = {"p_a", "p_b", "diff", "ci_low", "ci_high"}
    missing = needed - set(comparison.columns)
    if missing:
        raise ValueError(f"plot_comparison: missing columns {', '.join(sorted(missing))}")
    df = comparison.reset_index(drop=True)
    if "outcome" in df:  # rows of mean vote counts are not probabilities: not on this axis
        df = df[~df["outcome"].astype(str).str.endswith("_mean")].reset_index(drop=True)
    dropped = 0
    if drop_never:
        never = (df["p_a"] == 0) & (df["p_b"] == 0)
        dropped = int(never.sum())
        df = df[~never].reset_index(drop=True)
    return df, dropped


def _draw_differences(
    ax: Axes,
    diff: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    y: np.ndarray,
) -> None:
    """Dots with whiskers: filled blue (up) or red (down) where the interval excludes zero."""
    sig = (lo > 0) | (hi < 0)
    ax.axvline(0, color="black", lw=1, gid="zero")
    for mask, face, edge in (
        (sig & (diff > 0), COLORS["yes"], COLORS["yes"]),
        (sig & (diff < 0), COLORS["no"], COLORS["no"]),
        (~sig, "white", "0.45"),
    ):
        if not mask.any():
            continue
        err = np.vstack([np.clip(diff - lo, 0, None), np.clip(hi - diff, 0, None)])[:, mask]
        ax.errorbar(
            diff[mask],
            y[mask],
            xerr=np.nan_to_num(err),
            fmt="o",
            ms=5,
            mfc=face,
            mec=edge,
            ecolor=edge,
            elinewidth=1.2,
            capsize=2.5,
            gid="difference",
        )
