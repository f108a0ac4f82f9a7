"""The table of a sweep: one row per point with its parameter values, and for every outcome
its probability and 95 % interval (``<outcome>_p``, ``_ci_low``, ``_ci_high``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from unsim.errors import did_you_mean

if TYPE_CHECKING:
    from unsim.scenario.schema import Scenario

__all__ = ["OUTCOME_FIELDS", "build_table", "outcome_column", "param_columns", "sweep_outcomes"]

#: The statistics a sweep table gives for each outcome, as ``<outcome>_<field>`` columns.
OUTCOME_FIELDS = ("p", "ci_low", "ci_high")


def table_row(index: int, point: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """One row of a sweep table: the point's values, its runs, outcomes and means."""
    row: dict[str, Any] = {"point": index, **point, "runs": record["n"]}
    for name, stats in record["outcomes"].items():
        for f in OUTCOME_FIELDS:
            row[f"{name}_{f}"] = stats[f]
    row.update(record["means"])
    return row


def build_table(
    points: Sequence[Mapping[str, Any]],
    records: Mapping[int, Mapping[str, Any]],
    seed: int,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The sweep table, a row per finished point, with its parameters and seed in ``attrs``."""
    rows = [table_row(i, points[i], records[i]) for i in sorted(records)]
    df = pd.DataFrame(rows)
    df.attrs = {"params": list(points[0]) if points else [], "seed": seed}
    if labels:
        df.attrs["labels"] = dict(labels)
    return df


def param_columns(df: pd.DataFrame) -> list[str]:
    """The parameter columns of a sweep table (between ``point`` and ``runs``)."""
    params = df.attrs.get("params")
    if params:
        return list(params)
    cols = list(df.columns)
    return cols[cols.index("point") + 1 : cols.index("runs")]


def outcome_column(df: pd.DataFrame, outcome: str) -> str:
    """The column of an outcome's probability: ``plenary_adopted``, ``sc_referral_adopted`` (a run
    table column) and ``plenary_yes_mean`` (a column itself) are all understood."""
    from unsim.model.outcomes import known_outcomes

    if outcome in df.columns:
        return outcome
    if f"{outcome}_p" in df.columns:
        return f"{outcome}_p"
    if f"{outcome}_mean" in df.columns:  # a number's mean (a session's adopted_count)
        return f"{outcome}_mean"
    for o in known_outcomes():
        if o.value is None and o.key == outcome and f"{o.name}_p" in df.columns:
            return f"{o.name}_p"
    known = sorted(c[:-2] for c in df.columns if c.endswith("_p"))
    hint = did_you_mean(outcome, known)
    raise KeyError(
        f"unknown outcome {outcome!r}; known: {', '.join(known)}"
        + (f"; did you mean {hint!r}?" if hint else "")
    )


def sweep_outcomes(scenario: Scenario) -> list[str]:
    """The outcomes a sweep of ``scenario`` tabulates, by the names :func:`outcome_column`
    understands: each outcome of its summary (and the run-table column it counts, when that is
    a column of its own), and each Assembly stage's mean yes votes."""
    from unsim.model.outcomes import outcomes_for
    from unsim.scenario.schema import GA_STAGES, World

    world = scenario.world
    permanent = world.security_council.permanent if isinstance(world, World) else []
    applying = outcomes_for(scenario, permanent)
    names = [o.name for o in applying]
    names += [o.key for o in applying if o.value is None and o.key not in names]
    return names + [f"{stage}_yes_mean" for stage in GA_STAGES]
