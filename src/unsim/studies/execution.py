"""Running the points of a study on an executor (:mod:`unsim.engine.executors`).

With several points and more than one worker, points run side by side, a task of points per
worker; otherwise points run one after another, each spreading its blocks over the workers.
Records come back in the order of the tasks and do not depend on the executor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from unsim.engine.executors import TaskExecutor, choose_executor
from unsim.scenario.schema import GA_STAGES, Scenario
from unsim.studies.base import Base
from unsim.studies.table import OUTCOME_FIELDS

__all__ = ["Task", "evaluate", "execute", "execute_points"]

#: A task: (point index, scenario, runs, seed, run-table columns to return).
Task = tuple[int, Scenario, int, int, tuple[str, ...]]
#: A point's index and its record (outcomes, vote means, optional run-table columns).
Record = tuple[int, dict[str, Any]]


def evaluate(task: Task, executor: TaskExecutor | None = None) -> Record:
    """Run one point (on ``executor``, else in this process); return its index and record."""
    from unsim.engine import run

    index, scenario, runs, seed, columns = task
    t0 = time.perf_counter()
    results = run(scenario, runs=runs, seed=seed, executor=executor, keep_runs=bool(columns))
    summary = results.summary
    outcomes = {
        name: {f: float(v[f]) for f in OUTCOME_FIELDS} for name, v in summary["outcomes"].items()
    }
    means = {}
    for stage in GA_STAGES:
        tally = summary["tallies"].get(stage)
        means[f"{stage}_yes_mean"] = float(tally["yes"]["mean"]) if tally else math.nan
    record: dict[str, Any] = {
        "n": int(summary["runs"]),
        "outcomes": outcomes,
        "means": means,
        "seconds": time.perf_counter() - t0,
    }
    if columns:
        assert results.runs is not None
        record["columns"] = {c: results.runs[c].to_numpy() for c in columns}
    return index, record


def execute(
    tasks: Iterable[Task], n_tasks: int, workers: int = 1, executor: Any = None
) -> Iterator[Record]:
    """(index, record) of every task, in the order of the tasks, on ``executor`` (see
    :func:`unsim.engine.executors.choose_executor`) or ``workers`` local processes."""
    chosen = choose_executor(workers, executor)
    if n_tasks > 1 and not chosen.inline:
        yield from chosen.map(evaluate, tasks)
        return
    for task in tasks:
        yield evaluate(task, chosen)


def execute_points(
    base: Base,
    items: Sequence[tuple[int, dict[str, Any]]],
    runs: int,
    seed: int,
    workers: int = 1,
    executor: Any = None,
) -> Iterator[list[Record]]:
    """The records of the points ``(index, overrides)``, a task's points at a time, in the order
    of the tasks (see :mod:`unsim.studies.points`: one model per worker, re-parameterised from
    point to point)."""
    from unsim.studies.points import evaluate_points, point_tasks, release_worker_model

    chosen = choose_executor(workers, executor)
    if not chosen.inline and len(items) == 1:  # one point: its blocks spread over the workers
        index, overrides = items[0]
        yield [evaluate((index, base.point(overrides), runs, seed, ()), chosen)]
        return
    tasks = point_tasks(base, items, runs, seed, chosen.workers)
    try:
        yield from chosen.map(evaluate_points, tasks)
    finally:
        if chosen.inline:  # the model kept between points lives in this process
            release_worker_model()
