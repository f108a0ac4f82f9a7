"""Two what-ifs side by side, and the tallies of each stage, for the explorer's tables.

A user pins the current what-if as variant A and keeps editing B. The baseline, A and B run on
the same seed and number of runs, so run i of each shares its random numbers: the difference
B - A of an outcome is measured run by run (paired), and its interval reflects only the runs in
which the two disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from unsim.explore.session import Outcome, Session
from unsim.results.plots import STAGE_LABELS
from unsim.results.stats import paired_difference
from unsim.results.tables import Results
from unsim.scenario.schema import STAGES

#: The votes whose counts the tallies table gives.
TALLY_VOTES = ("yes", "no", "abstain")


@dataclass(frozen=True)
class VariantRow:
    """One outcome under the baseline, variant A and variant B, and B - A paired."""

    name: str
    label: str
    baseline: float
    a: float
    a_low: float
    a_high: float
    b: float
    b_low: float
    b_high: float
    diff: float  #: B - A, run by run
    diff_low: float
    diff_high: float


def compare_variants(session: Session, a: Results, b: Results) -> list[VariantRow]:
    """Every outcome of the baseline, A and B (on one seed and number of runs), with the paired
    difference B - A and its 95 % interval. :class:`ValueError` if A and B are not on the same
    seed and runs (their runs would not be paired)."""
    if a.seed != b.seed or a.summary["runs"] != b.summary["runs"]:
        raise ValueError(
            f"variants A and B must share a seed and a number of runs to be paired; A: seed "
            f"{a.seed}, {a.summary['runs']} runs; B: seed {b.seed}, {b.summary['runs']} runs"
        )
    of_a = {o.name: o for o in session.outcomes(a)}
    b_vs_a = session.outcomes(b, reference=a)
    rows = []
    for o in b_vs_a:
        pa: Outcome | None = of_a.get(o.name)
        rows.append(
            VariantRow(
                name=o.name,
                label=o.label,
                baseline=pa.p_baseline if pa is not None else math.nan,
                a=o.p_baseline,
                a_low=pa.ci_low if pa is not None else math.nan,
                a_high=pa.ci_high if pa is not None else math.nan,
                b=o.p,
                b_low=o.ci_low,
                b_high=o.ci_high,
                diff=o.diff,
                diff_low=o.diff_low,
                diff_high=o.diff_high,
            )
        )
    return rows


def tallies(results: Results) -> pd.DataFrame:
    """Each stage's yes, no and abstain counts over the runs in which it was held: median and
    5-95 % range, as the summary's tallies count them (the smallest count reached by that share
    of the runs: at most 5 % of the runs fall below the range, at most 5 % above). Rows: the
    stages held in some run, in order; columns ``stage``, ``label``, ``held`` and, for each
    vote, ``<vote>_median``, ``<vote>_q05``, ``<vote>_q95``."""
    runs = results.run_table()
    rows: list[dict[str, Any]] = []
    if runs is None:
        return pd.DataFrame(rows)
    for stage in STAGES:
        if f"{stage}_held" not in runs:
            continue
        held = runs[f"{stage}_held"].to_numpy(dtype=bool)
        if not held.any():
            continue
        row: dict[str, Any] = {
            "stage": stage,
            "label": STAGE_LABELS.get(stage, stage),
            "held": int(held.sum()),
        }
        for vote in TALLY_VOTES:
            counts = runs[f"{stage}_{vote}"].to_numpy()[held]
            q05, q50, q95 = np.quantile(counts, [0.05, 0.5, 0.95], method="inverted_cdf")
            row.update(
                {f"{vote}_median": int(q50), f"{vote}_q05": int(q05), f"{vote}_q95": int(q95)}
            )
        rows.append(row)
    return pd.DataFrame(rows)


def paired_tally_change(a: Results, b: Results, stage: str, vote: str = "yes") -> dict[str, float]:
    """The mean change B - A of a stage's count of ``vote``, run by run, over the runs in which
    both held it, with its 95 % interval."""
    ra, rb = a.run_table(), b.run_table()
    assert ra is not None and rb is not None
    both = ra[f"{stage}_held"].to_numpy(dtype=bool) & rb[f"{stage}_held"].to_numpy(dtype=bool)
    return paired_difference(
        ra[f"{stage}_{vote}"].to_numpy()[both], rb[f"{stage}_{vote}"].to_numpy()[both]
    )
