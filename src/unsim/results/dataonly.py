"""The data-only forecast beside the scenario's: what the calibration alone forecasts (every
stated assumption removed, ``unsim.engine.assumptions.data_only``) against the forecast as
given, paired run by run on common random numbers.

``run(scenario, data_only=True)`` (``unsim run --data-only``) runs the data-only variant as a
forecast of its own; the main job's attribution, which runs that variant anyway, reports the two
side by side (:func:`data_only_forecast`, ``summary["data_only"]``): the mean yes votes of each
vote on the draft and the probability of each outcome, each forecast with its own interval over
runs (``as_given_range``, ``data_only_range``: the 5 % and 95 % quantiles of the yes votes over
the runs in which the vote was held, the 95 % Wilson interval of a share), and the paired
difference (as given minus data only) with its 95 % interval over runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from unsim.model.kernel_args import DRAFT_VOTES
from unsim.model.outcomes import outcomes_for
from unsim.model.stages import STAGE_SHORT
from unsim.results.stats import paired_difference, proportion
from unsim.scenario.schema import Scenario, World

__all__ = ["data_only_forecast", "format_data_only"]

#: The outcomes the printed block shows (``summary["data_only"]`` holds every one).
SHOWN = (
    "icc_retained",
    "committee_adopted",
    "plenary_adopted",
    "sc_agenda_adopted",
    "referral_tabled",
    "referral_adopted",
)


def _row(label: str, kind: str, given: Any, bare: Any, both: Any = None) -> dict[str, Any]:
    """One line: the value as given and data only, and the paired difference over the runs in
    ``both`` (all runs when None)."""
    x, y = np.asarray(given, dtype=np.float64), np.asarray(bare, dtype=np.float64)
    sel = np.ones(len(x), dtype=bool) if both is None else both
    d = paired_difference(y[sel], x[sel])
    return {
        "label": label,
        "kind": kind,
        "as_given": float(x.mean()) if x.size else math.nan,
        "data_only": float(y.mean()) if y.size else math.nan,
        "as_given_range": _range(kind, x),
        "data_only_range": _range(kind, y),
        "diff": d["diff"],
        "ci_low": d["ci_low"],
        "ci_high": d["ci_high"],
        "runs": int(sel.sum()),
    }


#: The quantiles of a vote's yes votes over runs that give its range.
RANGE = (0.05, 0.95)


def _range(kind: str, values: Any) -> list[float]:
    """A forecast's interval over runs: the 5-95 % of a vote's yes votes, the 95 % interval of
    a share (NaN without runs)."""
    x = np.asarray(values, dtype=np.float64)
    if not x.size:
        return [math.nan, math.nan]
    if kind == "votes":
        return [float(q) for q in np.quantile(x, RANGE)]
    p = proportion(int(x.sum()), len(x))
    return [p["ci_low"], p["ci_high"]]


def data_only_forecast(
    given: pd.DataFrame, bare: pd.DataFrame, scenario: Scenario, bare_scenario: Scenario, seed: int
) -> dict[str, Any]:
    """The forecast as given (run table ``given``) beside the data-only one (``bare``, the same
    runs of ``bare_scenario``): per line its value in each, the difference as given minus data
    only and the 95 % interval of that difference over the paired runs. A draft stage's yes
    votes are averaged over the runs in which it was held (the difference over the runs held in
    both); an outcome is the share of runs in which it happened."""
    rows: dict[str, dict[str, Any]] = {}
    for stage in DRAFT_VOTES:
        if f"{stage}_held" not in given or f"{stage}_held" not in bare:
            continue  # an optional stage the scenario does not hold
        held_a = given[f"{stage}_held"].to_numpy(dtype=bool)
        held_b = bare[f"{stage}_held"].to_numpy(dtype=bool)
        if not (held_a.any() or held_b.any()):
            continue
        yes_a, yes_b = given[f"{stage}_yes"].to_numpy(), bare[f"{stage}_yes"].to_numpy()
        row = _row(f"{STAGE_SHORT[stage]}: yes votes", "votes", yes_a, yes_b, held_a & held_b)
        row["as_given"] = float(yes_a[held_a].mean()) if held_a.any() else math.nan
        row["data_only"] = float(yes_b[held_b].mean()) if held_b.any() else math.nan
        row["as_given_range"] = _range("votes", yes_a[held_a])
        row["data_only_range"] = _range("votes", yes_b[held_b])
        rows[f"{stage}_yes"] = row
    world = scenario.world
    assert isinstance(world, World)
    permanent = world.security_council.permanent
    names = {o.name for o in outcomes_for(bare_scenario, permanent)}
    for o in outcomes_for(scenario, permanent):
        if o.name in names or o.name in SHOWN:
            rows[o.name] = _row(o.label, "share", o.happened(given), o.happened(bare))
    return {"runs": len(given), "seed": int(seed), "rows": rows}


def _cell(r: dict[str, Any], side: str) -> str:
    """One side of a line: the value and its interval over runs."""
    lo, hi = r.get(f"{side}_range") or (math.nan, math.nan)
    if r["kind"] == "votes":
        return f"{r[side]:.1f} [{lo:.0f}-{hi:.0f}]"
    return f"{100 * r[side]:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}]"


def format_data_only(forecast: dict[str, Any]) -> list[str]:
    """The short block of the main job's text: the draft's yes votes and the adoptions, each
    forecast with its interval over runs, and the paired difference."""
    if not forecast or not forecast.get("rows"):
        return []
    lines = [
        f"As given beside data only (the calibration alone, every stated assumption removed; "
        f"{forecast['runs']:,} paired runs)",
        "  yes votes: mean [5-95 % over runs]; outcomes: share of runs [95 % interval]; the "
        "difference is as given minus data only, with its 95 % interval over runs",
        f"  {'':<32}{'as given':>22}{'data only':>23}   difference",
    ]
    for name, r in forecast["rows"].items():
        if r["kind"] == "votes":
            diff = f"{r['diff']:+.1f} [{r['ci_low']:+.1f}, {r['ci_high']:+.1f}]"
        elif name in SHOWN:
            diff = (
                f"{100 * r['diff']:+.1f} pts [{100 * r['ci_low']:+.1f}, {100 * r['ci_high']:+.1f}]"
            )
        else:
            continue
        lines.append(
            f"  {r['label'][:31]:<32}{_cell(r, 'as_given'):>22}{_cell(r, 'data_only'):>23}   {diff}"
        )
    return lines
