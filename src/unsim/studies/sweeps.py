"""Parameter sweeps: many variants of one scenario, every point on common random numbers.

A sweep sets scenario values (dotted paths, as with ``--set``) to each *point* of a design (a full
grid over lists of values, or a Latin hypercube over ``(low, high)`` ranges), runs the Monte Carlo
of every point with the **same master seed**, and returns a tidy table: one row per point with the
parameter values and, for every outcome, its probability and 95 % interval. Because all points share
the seed, differences between points are due to the parameters, not to sampling noise.

Points run in parallel on local worker processes (``workers``) or on an executor
(``executor=DaskExecutor(...)`` or a ``concurrent.futures.Executor``, see
:mod:`unsim.engine.executors`). With ``out`` the finished points are written one small file
each, atomically, as they arrive; ``resume=True`` then skips the points already there, so an
interrupted sweep picks up where it stopped and gives the same table as an uninterrupted one.

This module is the public entry point of sweeps; the parts live beside it: designs
(:mod:`~unsim.studies.designs`), the varied scenario (:mod:`~unsim.studies.base`), execution
(:mod:`~unsim.studies.execution`), the table (:mod:`~unsim.studies.table`), the folder
(:mod:`~unsim.studies.storage`) and figures (:mod:`~unsim.studies.sweep_plots`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from unsim.results.tables import check_output_folder
from unsim.scenario.schema import Scenario
from unsim.studies.base import Base, check_points, choose_seed, plain, prepare
from unsim.studies.designs import Design, design_points, grid_points, lhs_points
from unsim.studies.execution import execute_points
from unsim.studies.resume import check_resume
from unsim.studies.storage import (
    POINTS_DIR,
    TABLE_NAME,
    load_sweep,
    point_key,
    read_saved_points,
    write_json,
    write_table,
)
from unsim.studies.sweep_plots import plot_heatmap, plot_outcome
from unsim.studies.table import OUTCOME_FIELDS, build_table, outcome_column, param_columns

__all__ = [
    "OUTCOME_FIELDS",
    "design_points",
    "grid_points",
    "lhs_points",
    "load_sweep",
    "outcome_column",
    "param_columns",
    "plot_heatmap",
    "plot_outcome",
    "run_points",
    "sweep",
]


def run_points(
    scenario: str | Path | Mapping[str, Any] | Scenario | Base,
    points: Sequence[Mapping[str, Any]],
    runs: int | None = None,
    seed: int | None = None,
    *,
    workers: int = 1,
    executor: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    base_dir: str | Path | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Run the Monte Carlo of every point (a mapping ``{dotted.path: value}``) on one seed.

    The lower level of :func:`sweep`, for designs made elsewhere (sensitivity analysis)."""
    t0 = time.perf_counter()
    base = scenario if isinstance(scenario, Base) else prepare(scenario, base_dir)
    points = [{k: plain(v) for k, v in p.items()} for p in points]
    folder = Path(out) if out is not None else None
    seed = choose_seed(base, seed, folder if resume else None)
    runs = int(runs if runs is not None else base.scenario.simulation.runs)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    check_points(base, points)
    keys = [point_key(base, p, runs, seed) for p in points]
    meta = sweep_metadata(base, points, runs, seed, metadata)
    records = start_folder(folder, keys, meta, resume) if folder is not None else {}
    todo = [i for i in range(len(points)) if i not in records]
    stream = execute_points(
        base, [(i, dict(points[i])) for i in todo], runs, seed, workers=workers, executor=executor
    )
    collect(stream, records, len(points), folder, keys, points, progress)
    table = build_table(points, records, seed, meta["labels"])
    if folder is not None:
        finish_folder(folder, table, meta, computed=len(todo), seconds=time.perf_counter() - t0)
    return table


def sweep_metadata(
    base: Base,
    points: Sequence[Mapping[str, Any]],
    runs: int,
    seed: int,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What ``metadata.json`` says of a sweep (the parameters labelled in words)."""
    from unsim.studies.labels import labels as path_labels

    names = path_labels(dict.fromkeys(k for p in points for k in p), base.scenario)
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


def sweep(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    params: Mapping[str, Sequence[Any]] | None = None,
    runs: int | None = None,
    seed: int | None = None,
    design: Design | None = None,
    samples: int | None = None,
    workers: int = 1,
    executor: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    *,
    base_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Sweep scenario values over a grid or a Latin hypercube, every point on the same seed.

    Parameters
    ----------
    scenario: a scenario file, its raw mapping (then ``base_dir`` resolves the world file) or a
        loaded ``Scenario``.
    params: ``{dotted.path: values}``, e.g. ``{"actors.target.strategies[0].intensity": [0, 0.1,
        0.2]}``; for ``design="lhs"``, ``{path: (low, high)}`` (whole numbers if both bounds are).
        Default: the scenario's ``sweep`` section.
    runs: runs per point (default: the sweep section's, else ``simulation.runs``).
    seed: the master seed shared by every point (default: the scenario's, else a fresh one).
    design: ``"grid"`` (every combination) or ``"lhs"`` (``samples`` points, Latin hypercube).
    workers / executor: local worker processes, or a ``DaskExecutor`` / Dask ``Client`` /
        ``concurrent.futures.Executor``; results do not depend on either.
    out: folder to save into: ``sweep.parquet``, ``metadata.json`` and one file per finished point.
    resume: skip the points already saved in ``out``.
    progress: show a progress bar over points.

    Returns a DataFrame with one row per point: ``point``, one column per parameter, ``runs``, then
    ``<outcome>_p``, ``<outcome>_ci_low``, ``<outcome>_ci_high`` for every outcome of a run's
    summary and ``<stage>_yes_mean`` for the General Assembly stages.
    """
    base = prepare(scenario, base_dir)
    params, design, samples, runs = sweep_settings(base, params, design, samples, runs)
    folder = Path(out) if out is not None else None
    seed = choose_seed(base, seed, folder if resume else None)
    points = design_points(params, design, samples, seed)
    meta = {
        "design": design,
        "samples": samples,
        "params": {k: [plain(v) for v in vals] for k, vals in params.items()},
    }
    return run_points(
        base,
        points,
        runs=runs,
        seed=seed,
        workers=workers,
        executor=executor,
        out=out,
        resume=resume,
        progress=progress,
        metadata=meta,
    )


def sweep_settings(
    base: Base,
    params: Mapping[str, Sequence[Any]] | None,
    design: Design | None,
    samples: int | None,
    runs: int | None,
) -> tuple[Mapping[str, Sequence[Any]], Design, int | None, int | None]:
    """The parameters, design, samples and runs of a sweep: those given, else the scenario's
    ``sweep`` section's."""
    spec = base.scenario.sweep
    if params is None:
        if spec is None:
            raise ValueError("no params given and the scenario declares no sweep section")
        params = spec.params
        design = design or spec.design
        samples = samples if samples is not None else spec.samples
        runs = runs if runs is not None else spec.runs
    elif spec is not None and runs is None:
        runs = spec.runs
    if not params:
        raise ValueError("nothing to sweep: params is empty")
    return params, design or "grid", samples, runs
