"""Is a sensitivity analysis's sample large enough? Signs that its indices have not converged.

Sobol indices estimated from too few points show it in their bootstrap intervals: a first-order
index above the total index (impossible: S1 <= ST) by more than both intervals allow, an index
below zero by more than its interval, or an interval wider than the total index it qualifies while
that index could still matter. Morris screening shows it as an interval on ``mu_star`` wider than
``mu_star`` for a parameter that could be among the influential ones. Each sign is reported with
the outcome and the parameter, and a larger sample is suggested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["ConvergenceSign", "convergence_warnings", "suggest_n"]

#: A total index (or share of the largest ``mu_star``) below this cannot matter much: its wide
#: interval is not a warning.
MATERIAL = 0.05


@dataclass(frozen=True)
class ConvergenceSign:
    """One sign of a sample too small."""

    outcome: str
    parameter: str
    kind: str  # "first_above_total", "negative", "wide_interval"
    message: str


def convergence_warnings(
    table: pd.DataFrame, names: Mapping[str, str] | None = None
) -> list[ConvergenceSign]:
    """The signs of non-convergence in a table of Sobol (``S1``, ``S1_conf``, ``ST``,
    ``ST_conf``) or Morris (``mu_star``, ``mu_star_conf``) indices, one row per (outcome,
    parameter). Rows whose indices are not numbers (an outcome that never varied) are skipped."""
    names = names or {}
    out: list[ConvergenceSign] = []
    sobol = "ST" in table.columns
    largest: dict[str, float] = {}
    if not sobol:
        largest = table.groupby("outcome")["mu_star"].max().to_dict()
    for row in table.itertuples(index=False):
        outcome, param = str(row.outcome), str(row.parameter)
        who = f"{outcome}, {names.get(param, param)}"
        if sobol:
            out += _sobol_signs(row, outcome, param, who)
        else:
            out += _morris_signs(row, outcome, param, who, largest.get(outcome, 0.0))
    return out


def _sobol_signs(row: Any, outcome: str, param: str, who: str) -> list[ConvergenceSign]:
    s1, s1c, st, stc = (float(getattr(row, k)) for k in ("S1", "S1_conf", "ST", "ST_conf"))
    if any(v != v for v in (s1, s1c, st, stc)):  # NaN
        return []
    out = []
    if s1 - s1c > st + stc:
        out.append(
            ConvergenceSign(
                outcome,
                param,
                "first_above_total",
                f"{who}: first-order index {s1:.3f} ± {s1c:.3f} above the total "
                f"{st:.3f} ± {stc:.3f} beyond their intervals",
            )
        )
    for name, v, c in (("first-order", s1, s1c), ("total", st, stc)):
        if v + c < 0:
            out.append(
                ConvergenceSign(
                    outcome,
                    param,
                    "negative",
                    f"{who}: {name} index {v:.3f} ± {c:.3f} below zero beyond its interval",
                )
            )
    if stc > abs(st) and st + stc > MATERIAL:
        out.append(
            ConvergenceSign(
                outcome,
                param,
                "wide_interval",
                f"{who}: the interval of the total index (± {stc:.3f}) is wider than "
                f"the index ({st:.3f})",
            )
        )
    return out


def _morris_signs(
    row: Any, outcome: str, param: str, who: str, top: float
) -> list[ConvergenceSign]:
    mu, c = float(row.mu_star), float(row.mu_star_conf)
    if mu != mu or c != c or not (c > mu and mu + c > MATERIAL * top and top > 0):
        return []
    return [
        ConvergenceSign(
            outcome,
            param,
            "wide_interval",
            f"{who}: the interval of mu* (± {c:.3g}) is wider than mu* ({mu:.3g})",
        )
    ]


def suggest_n(n: int, method: str) -> int:
    """A sample size worth trying next: four times as many points halves the intervals."""
    return 4 * n if method == "sobol" else 2 * n
