"""The attribution read forward: from the data alone, adding each stated assumption in turn, to
the scenario as given.

The attribution (:mod:`unsim.engine.attribution`) runs the scenario as given and then with its
stated assumptions removed one at a time, cumulatively, down to *data only*, every variant on the
same seed (common random numbers). Read from the other end, the same variants are a path from
what the calibration alone forecasts to the scenario as given: the last assumption removed is the
first added. Each part is what its assumption adds to the variant holding the ones added before
it, so the parts add up exactly to *as given minus data only* at every quantity, and they depend
on the order: added in another order, an assumption would take other interactions with the rest.

:func:`forward_table` measures each part on the quantities a reader asks about: the mean yes
votes of each Assembly vote on the draft (over the runs in which it was held), the share of runs
in which the ICC language is retained, and in the Council the shares in which a referral draft is
tabled and adopted. Each change has the half-width of its 95 % interval over the paired runs,
and a yes tally's change the 5 % and 95 % quantiles of the change run by run (wide where the
assumption's lever is drawn per run: the runs then differ in the lever itself).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from unsim.model.kernel_args import DRAFT_VOTES
from unsim.model.stages import BY_NAME, STAGE_SHORT, stage_named
from unsim.results.stats import paired_difference
from unsim.scenario.schema import Scenario

__all__ = [
    "ORDER_SENTENCE",
    "PLUS_MINUS",
    "RANGE",
    "format_forward",
    "forward_of",
    "forward_table",
    "quantities",
    "spread_text",
]

#: The range over runs of a tally's per-run changes: its 5 % and 95 % quantiles.
RANGE = (0.05, 0.95)
#: The shares measured, when the scenario holds what they need: (name, label, short label,
#: run-table column, what the scenario needs).
SHARES = (
    ("icc_retained", "ICC language retained", "ICC kept", "icc_retained", "icc"),
    ("referral_tabled", "referral draft tabled", "tabled", "sc_referral_held", "sc_referral"),
    (
        "referral_adopted",
        "Council refers to the ICC",
        "referred",
        "sc_referral_adopted",
        "sc_referral",
    ),
)
LABEL_WIDTH = 46
CELL = 12


def quantities(scenario: Scenario, tables: Sequence[pd.DataFrame]) -> dict[str, dict[str, Any]]:
    """What the forward table measures in ``scenario`` (its variants' run ``tables``): each
    quantity's ``label``, ``short`` label, ``kind`` ("votes" or "share") and ``column``."""
    out: dict[str, dict[str, Any]] = {}
    for stage in DRAFT_VOTES:
        if stage in scenario.resolution.stages and any(t[f"{stage}_held"].any() for t in tables):
            out[f"{stage}_yes"] = {
                "label": f"{STAGE_SHORT[stage]}: yes votes",
                "short": stage_named(stage).column_name,
                "kind": "votes",
                "column": f"{stage}_yes",
                "held": f"{stage}_held",
            }
    for name, label, short, column, needs in SHARES:
        present = (
            bool(scenario.resolution.clauses.icc_referral)
            if needs == "icc"
            else needs in scenario.resolution.stages
        )
        if present:
            out[name] = {"label": label, "short": short, "kind": "share", "column": column}
    return out


def _value(table: pd.DataFrame, q: dict[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """A variant's value of quantity ``q``, its per-run values and the runs they count in."""
    values = table[q["column"]].to_numpy().astype(np.float64)
    if q["kind"] == "votes":
        held = table[q["held"]].to_numpy(dtype=bool)
        mean = float(values[held].mean()) if held.any() else math.nan
        return mean, values, held
    return float(values.mean()), values, np.ones(len(values), dtype=bool)


def _change(before: Any, after: Any, kind: str) -> dict[str, Any]:
    """What adding an assumption changes: ``after`` is the variant with it, ``before`` without
    it (each ``_value``)."""
    mean = after[0] - before[0]
    both = before[2] & after[2]
    d = paired_difference(before[1][both], after[1][both])
    ci = (d["ci_high"] - d["ci_low"]) / 2 if both.sum() > 1 else math.nan
    spread: list[float] | None = None
    if kind == "votes":
        per_run = after[1][both] - before[1][both]
        spread = [float(x) for x in np.quantile(per_run, RANGE)] if per_run.size else [math.nan] * 2
    return {"mean": mean, "ci": ci, "runs": spread}


def forward_table(
    tables: Sequence[pd.DataFrame],
    steps: Sequence[Any],
    scenario: Scenario,
    drawn: Sequence[bool],
) -> dict[str, Any]:
    """The forward table (module doc) from the attribution's run ``tables`` (as given first,
    then one per assumption removed, data only last) and its ``steps`` (each with ``name`` and
    ``label``); ``drawn[k]`` says whether step ``k`` removes a number drawn per run.

    Returns ``order`` (the assumptions' names in the order they are added), ``quantities``
    (each one's ``label``, ``short`` label and ``kind``), ``data_only`` and ``as_given`` (each
    quantity's value) and ``parts`` in the order added: ``name``, ``label``, ``drawn`` and
    ``change`` (per quantity: ``mean``, ``ci`` the half-width of its 95 % interval over the
    paired runs, ``runs`` the 5-95 % range of a tally's change run by run, else None)."""
    qs = quantities(scenario, tables)
    values = [{k: _value(t, q) for k, q in qs.items()} for t in tables]
    parts = []
    for k in reversed(range(len(steps))):  # the last removed is the first added
        change = {
            name: _change(values[k + 1][name], values[k][name], q["kind"]) for name, q in qs.items()
        }
        parts.append(
            {
                "name": steps[k].name,
                "label": steps[k].label,
                "drawn": bool(drawn[k]),
                "change": change,
            }
        )
    return {
        "order": [p["name"] for p in parts],
        "quantities": {k: {f: q[f] for f in ("label", "short", "kind")} for k, q in qs.items()},
        "data_only": {k: values[-1][k][0] for k in qs},
        "as_given": {k: values[0][k][0] for k in qs},
        "parts": parts,
    }


def forward_of(attribution: dict[str, Any]) -> dict[str, Any]:
    """The forward table of a summary's ``attribution``: its own, or, for one saved before it
    had one, the Assembly's yes votes read forward from its table per stage (its parts in
    reverse order), without the other quantities."""
    if not attribution:
        return {}
    if attribution.get("forward"):
        return dict(attribution["forward"])
    by_stage = attribution.get("by_stage") or {attribution.get("stage", ""): attribution}
    qs: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {}
    for stage, table in by_stage.items():
        key = f"{stage}_yes"
        name = STAGE_SHORT.get(stage, stage)
        short = stage_named(stage).column_name if stage in BY_NAME else name
        qs[key] = {"label": f"{name}: yes votes", "short": short, "kind": "votes"}
        for p in reversed(table.get("parts", [])):
            part = parts.setdefault(
                p["name"], {"name": p["name"], "label": p["label"], "drawn": False, "change": {}}
            )
            ci = p.get("yes_ci")
            part["change"][key] = {"mean": p["yes"], "ci": math.nan if ci is None else ci}
    return {
        "order": list(parts),
        "quantities": qs,
        "data_only": {f"{s}_yes": t["data_only"]["yes"] for s, t in by_stage.items()},
        "as_given": {f"{s}_yes": t["as_given"]["yes"] for s, t in by_stage.items()},
        "parts": list(parts.values()),
    }


# --------------------------------------------------------------------------------------------
# as text
# --------------------------------------------------------------------------------------------
def _level(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.1f}" if kind == "votes" else f"{100 * value:.1f} %"


def _cell(change: dict[str, Any], kind: str) -> str:
    scale = 1.0 if kind == "votes" else 100.0
    mean, ci = change.get("mean"), change.get("ci")
    if mean is None or math.isnan(mean):
        return "n/a"
    if mean == 0 and not ci:
        return "0"  # nothing moves in any run
    text = f"{scale * mean:+.1f}"
    if ci is not None and not math.isnan(ci):
        text += f" ±{scale * ci:.1f}"
    return text


#: How to read the parts: their order and that they depend on it.
ORDER_SENTENCE = (
    "Each assumption is added to all those above it, in this order (the reverse of the order "
    "they are removed in): the parts depend on the order (added in another, an assumption "
    "would take other interactions with the rest), and they add up to as given minus data only."
)


PLUS_MINUS = (
    "± is the half-width of the 95 % interval of the mean change over the paired runs; "
    "shares change in percentage points; where an assumption's lever is drawn per run, "
    "'runs' gives the 5-95 % range of its change of the yes votes run by run (the lever's "
    "own spread)."
)


def spread_text(part: dict[str, Any], quantities: dict[str, Any]) -> str:
    """The per-run range of a drawn part's yes-vote changes, or ""."""
    if not part.get("drawn"):
        return ""
    ranges = []
    for name, q in quantities.items():
        r = (part.get("change", {}).get(name) or {}).get("runs")
        if q.get("kind") == "votes" and r and not any(x is None or math.isnan(x) for x in r):
            ranges.append(f"{q.get('short', name)} {r[0]:+.0f} to {r[1]:+.0f}")
    return "runs: " + ", ".join(ranges) if ranges else ""


def format_forward(forward: dict[str, Any], runs: int) -> list[str]:
    """The forward table as lines of text (module doc)."""
    if not forward or not forward.get("quantities"):
        return []
    qs = forward["quantities"]
    kinds = {k: q["kind"] for k, q in qs.items()}
    top = "".join(f"{q['short'][: CELL - 1]:>{CELL}}" for q in qs.values())
    unit = "".join(
        f"{'yes votes' if q['kind'] == 'votes' else '% of runs':>{CELL}}" for q in qs.values()
    )
    lines = [
        f"From the data alone to the scenario as given: what each stated assumption adds "
        f"({runs:,} paired runs a variant)",
        *textwrap.wrap(ORDER_SENTENCE, 100, initial_indent="  ", subsequent_indent="  "),
        *textwrap.wrap(PLUS_MINUS, 100, initial_indent="  ", subsequent_indent="  "),
        f"  {'':<{LABEL_WIDTH}}{top}",
        f"  {'':<{LABEL_WIDTH}}{unit}",
    ]

    def levels(values: dict[str, Any]) -> str:
        """A row's cells: each quantity's value (votes, or % of runs)."""
        return "".join(f"{_level(values.get(k), kinds[k]):>{CELL}}" for k in qs)

    start = "data only (the calibration alone)"
    lines.append(f"  {start:<{LABEL_WIDTH}}{levels(forward['data_only'])}")
    for p in forward["parts"]:
        cells = "".join(f"{_cell(p['change'].get(k, {}), kinds[k]):>{CELL}}" for k in qs)
        extra = spread_text(p, qs)
        label = f"+ {p['label']}"[:LABEL_WIDTH]
        lines.append(f"  {label:<{LABEL_WIDTH}}{cells}" + (f"   ({extra})" if extra else ""))
    lines.append(f"  {'= as given':<{LABEL_WIDTH}}{levels(forward['as_given'])}")
    return lines


def format_attribution(attribution: dict[str, Any]) -> list[str]:
    """The attribution as lines of text: read forward, from the data alone to the scenario as
    given (this module)."""
    if not attribution:
        return []
    return format_forward(forward_of(attribution), int(attribution.get("runs", 0)))
