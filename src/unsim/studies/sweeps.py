"""Parameter sweeps: many variants of one scenario, every point on common random numbers.

A sweep sets scenario values (dotted paths, as with ``--set``) to each *point* of a design
(:class:`SweepDesign`: a full grid over lists of values, or a Latin hypercube over ``(low,
high)`` ranges), runs the Monte Carlo of every point with the **same master seed**, and returns a
tidy table: one row per point with the parameter values and, for every outcome, its probability
and 95 % interval. Because all points share the seed, differences between points are due to the
parameters, not to sampling noise.

A sweep is run by an evaluator (:class:`unsim.studies.evaluator.Evaluator`, which says where
the points run, how many runs each, on which seed, and where they are saved):
``Evaluator(scenario, seed=7, workers=2, out="sweep").sweep(SweepDesign({path: values}))``.
With a folder the finished points are written one small file per task, atomically, as they
arrive (this module: :func:`start_folder`, :func:`collect`, :func:`finish_folder`); resuming
then skips the points already there, so an interrupted sweep picks up where it stopped and
gives the same table as an uninterrupted one.

The parts live beside it: designs (:mod:`~unsim.studies.designs`), the varied scenario
(:mod:`~unsim.studies.base`), execution (:mod:`~unsim.studies.execution`), the table
(:mod:`~unsim.studies.table`), the folder (:mod:`~unsim.studies.storage`) and figures
(:mod:`~unsim.studies.sweep_plots`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from unsim.results.tables import check_output_folder
from unsim.studies.base import Base
from unsim.studies.designs import Design, design_points, grid_points, lhs_points
from unsim.studies.resume import check_resume
from unsim.studies.storage import (
    POINTS_DIR,
    TABLE_NAME,
    load_sweep,
    read_saved_points,
    write_json,
    write_table,
)
from unsim.studies.sweep_plots import plot_heatmap, plot_outcome
from unsim.studies.table import OUTCOME_FIELDS, outcome_column, param_columns

__all__ = [
    "OUTCOME_FIELDS",
    "SweepDesign",
    "design_points",
    "grid_points",
    "lhs_points",
    "load_sweep",
    "outcome_column",
    "param_columns",
    "plot_heatmap",
    "plot_outcome",
]


@dataclass(frozen=True)
class SweepDesign:
    """The design of a sweep.

    params: ``{dotted.path: values}``, e.g. ``{"actors.target.strategies[0].intensity": [0, 0.1,
        0.2]}``; for ``kind="lhs"``, ``{path: (low, high)}`` (whole numbers if both bounds are).
        None: the scenario's ``sweep`` section (its parameters, design, samples and runs).
    kind: ``"grid"`` (every combination) or ``"lhs"`` (``samples`` points, Latin hypercube).
    """

    params: Mapping[str, Sequence[Any]] | None = None
    kind: Design | None = None
    samples: int | None = None


def sweep_metadata(
    base: Base,
    points: Sequence[Mapping[str, Any]],
    runs: int,
    seed: int,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What ``metadata.json`` says of a sweep (the parameters labelled in words)."""
    names = base.labels(list(dict.fromkeys(k for p in points for k in p)))
    return {
        "kind": "sweep",
        "scenario": base.scenario.name,
        "scenario_digest": base.digest,
        "source": base.source,
        "seed": seed,
        "runs": runs,
        **dict(extra or {}),
        "points": len(points),
        "labels": names,
    }


def start_folder(
    folder: Path, keys: Sequence[str], meta: Mapping[str, Any], resume: bool
) -> dict[int, dict[str, Any]]:
    """Prepare the sweep's folder; return the records already saved there (when resuming)."""
    pdir = folder / POINTS_DIR
    if resume:  # only in a folder of the same study (unsim.studies.resume)
        check_resume(folder, meta, files=("metadata.json", TABLE_NAME))
    else:  # a sweep starts in a new or empty folder: nothing of the user's is lost
        check_output_folder(folder, force=False, hint="or resume the sweep saved there")
    pdir.mkdir(parents=True, exist_ok=True)
    records: dict[int, dict[str, Any]] = {}
    if resume:
        saved = read_saved_points(pdir)
        records = {i: saved[key] for i, key in enumerate(keys) if key in saved}
    write_json(folder / "metadata.json", {**meta, "status": "running"})
    return records


def collect(
    stream: Any,
    records: dict[int, dict[str, Any]],
    total: int,
    folder: Path | None,
    keys: Sequence[str],
    points: Sequence[Mapping[str, Any]],
    progress: bool,
) -> None:
    """Take the records of the tasks as they arrive (saving each task's to a file)."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=len(records), unit="point", leave=False)
    try:
        for done in stream:
            for index, record in done:
                records[index] = record
            if folder is not None and done:
                entries = [
                    {"index": i, "key": keys[i], "point": points[i], "record": r} for i, r in done
                ]
                name = f"{keys[done[0][0]]}.json"
                write_json(folder / POINTS_DIR / name, {"entries": entries}, indent=None)
            if bar is not None:
                bar.update(len(done))
    finally:
        if bar is not None:
            bar.close()


def finish_folder(
    folder: Path, table: pd.DataFrame, meta: dict[str, Any], computed: int, seconds: float
) -> None:
    """Write the table, then mark the sweep complete in its metadata."""
    from unsim.engine.core import git_revision, versions

    write_table(table, folder / TABLE_NAME)
    meta.update(
        status="complete",
        computed=computed,
        resumed=int(meta["points"]) - computed,
        timings={"wall_seconds": seconds},
        versions=versions(),
        git_revision=git_revision(),
    )
    write_json(folder / "metadata.json", meta)


def sweep_settings(
    base: Base, design: SweepDesign, runs: int | None
) -> tuple[Mapping[str, Sequence[Any]], Design, int | None, int | None]:
    """The parameters, design, samples and runs of a sweep: those given, else the scenario's
    ``sweep`` section's."""
    spec = getattr(base.scenario, "sweep", None)  # a session has none
    params, kind, samples = design.params, design.kind, design.samples
    if params is None:
        if spec is None:
            raise ValueError("no params given and the scenario declares no sweep section")
        params = spec.params
        kind = kind or spec.design
        samples = samples if samples is not None else spec.samples
        runs = runs if runs is not None else spec.runs
    elif spec is not None and runs is None:
        runs = spec.runs
    if not params:
        raise ValueError("nothing to sweep: params is empty")
    return params, kind or "grid", samples, runs
