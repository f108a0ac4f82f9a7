"""The regression baseline compared within a statistical tolerance, for an environment other than
the one it was recorded in (another NumPy, numba or Python, another processor).

Both results come from the same seed and the same number of runs. Where the arithmetic agrees
they are the same bits; where it does not (a library's other random streams or rounding), they
are at worst two independent samples of the same model. Every comparison allows for that, at
``Z`` standard errors of the difference of two independent estimates:

* the structure is the same: the run table's columns and types, the number of runs, the
  per-state table's rows (stage, state, name, group) in order, the summary's outcomes and stages;
* each outcome's probability (the summary), each yes/no column of the run table, each category
  of its categorical columns and how often each vote was held: proportions p1, p2 of n1, n2 runs
  within ``Z`` sqrt(1/n1 + 1/n2) of each other on the arcsine scale (2 asin(sqrt p), whose
  variance is 1/n whatever p, also near 0 and 1);
* each tally's mean (yes, no, abstentions, absences over the runs where the vote was held):
  within ``Z`` sqrt(s1^2/n1 + s2^2/n2), s the tallies' standard deviations (equal means where
  both are constant);
* each state's probabilities of yes, no, abstaining, being absent and being pivotal at each
  stage: proportions of the runs where the stage was held, as above.

The tallies' quantiles and the order of the pivotal states in the summary follow from these and
are not compared on their own. With ``Z`` = 5 two independent samples fail a comparison about
once in 1.7 million (the normal tail), and a case makes 3,124 of them. Measured on the default
cases against a run with the next seed (no random number in common): the largest gaps were 3.5
and 4.2 standard errors, and 9 and 5 of the 3,124 gaps exceeded 3 (8.4 expected).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

Z = 5.0
PROBABILITIES = ("p_yes", "p_no", "p_abstain", "p_absent", "p_pivotal")
KEYS = ["stage", "iso3", "name", "group"]


def proportions_agree(p1: float, n1: int, p2: float, n2: int) -> bool:
    """Whether proportions ``p1`` of ``n1`` and ``p2`` of ``n2`` are within ``Z`` standard errors
    on the arcsine scale."""
    if not n1 or not n2:
        return n1 == n2
    gap = abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2)))
    return gap <= Z * math.sqrt(1 / n1 + 1 / n2)


def means_agree(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether the means of samples ``x`` and ``y`` are within ``Z`` standard errors."""
    if len(x) < 2 or len(y) < 2:
        return len(x) == len(y) and bool(np.array_equal(x, y))
    se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    return abs(float(x.mean()) - float(y.mean())) <= Z * se


def problems(got: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    """What of ``got`` is beyond the tolerance of ``stored`` (summary, run table, per-state
    table, as ``baseline.compute`` gives them), in words; empty when everything agrees."""
    out = _structure(got, stored)
    if out:
        return out
    return (
        _outcomes(got["summary"], stored["summary"])
        + _runs(got["runs"], stored["runs"])
        + _per_state(got["per_state"], stored["per_state"])
    )


def _structure(got: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    out = []
    a, b = got["runs"], stored["runs"]
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        out.append(f"run table: {len(a)} runs, columns {list(a.columns)} (stored {len(b)} runs)")
    elif (a.dtypes.astype(str) != b.dtypes.astype(str)).any():
        out.append(f"run table types: {a.dtypes.to_dict()} (stored {b.dtypes.to_dict()})")
    ps, qs = got["per_state"], stored["per_state"]
    if list(ps.columns) != list(qs.columns) or not ps[KEYS].astype(str).equals(
        qs[KEYS].astype(str)
    ):
        out.append("per-state table: other columns or rows than stored")
    s, t = got["summary"], stored["summary"]
    if s.get("runs") != t.get("runs"):
        out.append(f"summary runs: {s.get('runs')} (stored {t.get('runs')})")
    for key in ("outcomes", "tallies"):
        if set(s[key]) != set(t[key]):
            out.append(f"summary {key}: {sorted(s[key])} (stored {sorted(t[key])})")
    return out


def _outcomes(s: dict[str, Any], t: dict[str, Any]) -> list[str]:
    out = []
    for name, o in s["outcomes"].items():
        was = t["outcomes"][name]
        if not proportions_agree(o["p"], o["n"], was["p"], was["n"]):
            out.append(f"outcome {name}: p {o['p']} of {o['n']} (stored {was['p']})")
    return out


def _runs(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    out = []
    n = len(a)
    for col in a.columns:
        x, y = a[col], b[col]
        if x.dtype == bool:
            if not proportions_agree(float(x.mean()), n, float(y.mean()), n):
                out.append(f"run table {col}: share {x.mean()} (stored {y.mean()})")
        elif isinstance(x.dtype, pd.CategoricalDtype):
            for cat in x.cat.categories:
                p, q = float((x == cat).mean()), float((y == cat).mean())
                if not proportions_agree(p, n, q, n):
                    out.append(f"run table {col} = {cat}: share {p} (stored {q})")
        elif col != "run":
            held = f"{col.rsplit('_', 1)[0]}_held"
            xs = x[a[held]].to_numpy(float) if held in a else x.to_numpy(float)
            ys = y[b[held]].to_numpy(float) if held in b else y.to_numpy(float)
            if not means_agree(xs, ys):
                out.append(f"run table {col}: mean {xs.mean()} (stored {ys.mean()})")
    return out


def _per_state(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    out = []
    for i in range(len(a)):
        row, was = a.iloc[i], b.iloc[i]
        n, m = int(row["runs_held"]), int(was["runs_held"])
        for col in PROBABILITIES:
            if col in a.columns and not proportions_agree(row[col], n, was[col], m):
                out.append(
                    f"{row['stage']} {row['iso3']} {col}: {row[col]} of {n} runs "
                    f"(stored {was[col]} of {m})"
                )
    return out
