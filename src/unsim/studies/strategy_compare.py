"""Which strategy works? The target's strategies compared on the outcomes that matter to it.

Each *variant* replaces the target's list of strategies (``actors.target.strategies``): one strategy
alone, a combination, or a strategy on another schedule. Every variant and the *baseline* (no
strategy at all) run with the same master seed, so run ``i`` of a variant and run ``i`` of the
baseline share their random numbers wherever their logic agrees: the difference between them is the
strategy's effect in that history, and the interval of the mean difference (paired) is much
narrower than comparing two independent estimates.

What the target wants, each measured against the baseline:

- ``icc_dropped``: the ICC-referral language is not in the text (bargained away, given up for want
  of support, or deleted by amendment);
- ``plenary_defeated``: the plenary does not adopt the draft (not held, or voted down);
- ``plenary_yes``: yes votes in the plenary, over the runs in which both variants held that vote
  (fewer is better for the target);
- ``referral_avoided``: the Security Council does not refer the situation to the ICC.

``gain`` is the difference oriented so that positive is good for the target; variants are ranked on
it, metric by metric. ``Evaluator.compare`` (:mod:`unsim.studies.evaluator`) runs a comparison.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from unsim.results.stats import paired_difference
from unsim.scenario.schema import Scenario
from unsim.studies.base import prepare
from unsim.studies.sweep_plots import axes_or_new

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "METRICS",
    "RUN_COLUMNS",
    "STRATEGIES_PATH",
    "comparison_points",
    "comparison_table",
    "default_variants",
    "plot_strategies",
    "strategy_names",
]

STRATEGIES_PATH = "actors.target.strategies"

#: name -> (label, sign of the target's gain)
METRICS: dict[str, tuple[str, int]] = {
    "icc_dropped": ("ICC language dropped", 1),
    "plenary_defeated": ("plenary does not adopt", 1),
    "plenary_yes": ("yes votes in the plenary", -1),
    "referral_avoided": ("no Council referral", 1),
}
#: The run-table columns the metrics are computed from.
RUN_COLUMNS = (
    "icc_retained",
    "plenary_adopted",
    "plenary_held",
    "plenary_yes",
    "sc_referral_adopted",
)


def strategy_names(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """A name per strategy entry: its label, else its type (numbered if a type repeats)."""
    base = [str(e.get("label") or e.get("type")) for e in entries]
    out = []
    for i, name in enumerate(base):
        n = base[:i].count(name)
        out.append(f"{name}#{n + 1}" if n or base.count(name) > 1 else name)
    return out


def _entries(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    target = (raw.get("actors") or {}).get("target") or {}
    return [dict(e) for e in target.get("strategies") or []]


def default_variants(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    *,
    singles: bool = True,
    pairs: bool = True,
    all_but_one: bool = True,
    full: bool = True,
    schedules: Mapping[str, Mapping[str, Any]] | None = None,
    base_dir: str | Path | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Variants built from the scenario's own strategies.

    Each strategy alone, every pair, all but one, all together, and each strategy alone on the
    given schedules (default: ``early`` = rounds 1-4, ``late`` = from round 6)."""
    base = prepare(scenario, base_dir)
    entries = _entries(base.raw)
    names = strategy_names(entries)
    k = len(entries)
    if schedules is None:
        schedules = {"rounds 1-4": {"start": 1, "end": 4}, "from round 6": {"start": 6}}
    variants: dict[str, list[dict[str, Any]]] = {}

    def add(idx: Sequence[int]) -> None:
        """Add the variant of the strategies at ``idx``, named by joining their names."""
        variants[" + ".join(names[i] for i in idx)] = [entries[i] for i in idx]

    if singles:
        for i in range(k):
            add([i])
    if pairs and k > 2:
        for combo in itertools.combinations(range(k), 2):
            add(combo)
    if all_but_one and k > 3:
        for rest in itertools.combinations(range(k), k - 1):
            add(rest)
    if full and k > 1:
        variants["all"] = entries
    for label, schedule in schedules.items():
        for i in range(k):
            entry = {**entries[i], "schedule": dict(schedule)}
            variants[f"{names[i]} ({label})"] = [entry]
    return variants


def _metric_arrays(
    cols: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(baseline, variant) arrays of each metric, on the runs where it is defined for both."""
    held = cols["plenary_held"].astype(bool) & other["plenary_held"].astype(bool)
    return {
        "icc_dropped": (~cols["icc_retained"].astype(bool), ~other["icc_retained"].astype(bool)),
        "plenary_defeated": (
            ~cols["plenary_adopted"].astype(bool),
            ~other["plenary_adopted"].astype(bool),
        ),
        "plenary_yes": (cols["plenary_yes"][held], other["plenary_yes"][held]),
        "referral_avoided": (
            ~cols["sc_referral_adopted"].astype(bool),
            ~other["sc_referral_adopted"].astype(bool),
        ),
    }


def comparison_points(
    variants: Mapping[str, Sequence[Mapping[str, Any]]], baseline: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[list[Mapping[str, Any]]], list[dict[str, Any]]]:
    """The names, strategy lists and points (``{STRATEGIES_PATH: entries}``) of the baseline
    and the variants, baseline first."""
    if not variants:
        raise ValueError("no variants to compare")
    names = ["(baseline)", *variants]
    lists = [list(baseline), *(list(v) for v in variants.values())]
    points = [{STRATEGIES_PATH: [dict(e) for e in entries]} for entries in lists]
    return names, lists, points


def comparison_table(
    names: Sequence[str],
    lists: Sequence[Sequence[Mapping[str, Any]]],
    columns: Mapping[int, Mapping[str, np.ndarray]],
) -> pd.DataFrame:
    """Each variant against the baseline (the first), paired run by run, ranked per metric.

    One row per (metric, variant): ``metric``, ``label``, ``rank`` (1 = best for the target),
    ``variant``, ``strategies``, ``baseline`` and ``value`` (the metric's mean under each),
    ``diff`` = value - baseline with ``ci_low``/``ci_high`` (95 %, paired), ``gain`` with
    ``gain_low``/``gain_high`` (oriented: positive helps the target) and ``n`` (paired runs)."""
    rows = [
        row
        for i in range(1, len(names))
        for row in _variant_rows(names[i], lists[i], columns[0], columns[i])
    ]
    return _ranked(pd.DataFrame(rows))


def _variant_rows(
    name: str,
    entries: Sequence[Mapping[str, Any]],
    baseline: Mapping[str, np.ndarray],
    variant: Mapping[str, np.ndarray],
) -> list[dict[str, Any]]:
    """One row per metric: the variant against the baseline, paired run by run."""
    described = " + ".join(strategy_names(entries)) or "none"
    rows = []
    for metric, (a, b) in _metric_arrays(baseline, variant).items():
        label, sign = METRICS[metric]
        d = paired_difference(a, b)  # numeric metrics (yes votes) pair the same way
        low, high = sorted((sign * d["ci_low"], sign * d["ci_high"]))
        rows.append(
            {
                "metric": metric,
                "label": label,
                "variant": name,
                "strategies": described,
                "baseline": d["p_a"],
                "value": d["p_b"],
                "diff": d["diff"],
                "ci_low": d["ci_low"],
                "ci_high": d["ci_high"],
                "gain": sign * d["diff"],
                "gain_low": low,
                "gain_high": high,
                "n": d["n"],
            }
        )
    return rows


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """The rows ranked within each metric (1 = best for the target), rank after the label."""
    table["rank"] = table.groupby("metric")["gain"].rank(ascending=False, method="min").astype(int)
    table = table.sort_values(["metric", "rank", "variant"], ignore_index=True)
    first = ["metric", "label", "rank"]
    return table[[*first, *[c for c in table.columns if c not in first]]]


def plot_strategies(
    table: pd.DataFrame, metric: str = "referral_avoided", ax: Axes | None = None
) -> Axes:
    """The target's gain on ``metric`` per variant with its 95 % paired interval, best on top."""
    part = table[table["metric"] == metric].sort_values("gain")
    if part.empty:
        raise ValueError(f"no rows for metric {metric!r}; known: {', '.join(sorted(METRICS))}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 0.3 * len(part) + 1.2))
    else:
        ax = axes_or_new(ax)
    y = np.arange(len(part))
    gain = part["gain"].to_numpy(dtype=float)
    err = np.vstack(
        [
            gain - part["gain_low"].to_numpy(dtype=float),
            part["gain_high"].to_numpy(dtype=float) - gain,
        ]
    )
    colours = [
        "tab:green" if lo > 0 else "tab:red" if hi < 0 else "tab:grey"
        for lo, hi in zip(part["gain_low"], part["gain_high"], strict=True)
    ]
    ax.errorbar(gain, y, xerr=err, fmt="none", ecolor="black", elinewidth=1, capsize=2)
    ax.scatter(gain, y, c=colours, zorder=3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, list(part["variant"]))
    label = METRICS.get(metric, (metric, 1))
    unit = "votes" if metric == "plenary_yes" else "probability"
    sign = "fewer" if label[1] < 0 else "more"
    ax.set_xlabel(f"gain for the target vs no strategy ({unit}; {sign} {label[0]})")
    ax.grid(axis="x", alpha=0.3)
    return ax
