"""Running the points of a study on an executor (:mod:`unsim.engine.executors`).

With several points and more than one worker, points run side by side, a task of a few points
each; a single point on several workers has its blocks spread over them (tasks of consecutive
blocks, as a run's: ``unsim.engine.core.plan_shards``). Either way a worker runs on the model it
keeps (:mod:`unsim.studies.points`), and records come back in the order of the points, the same
for any executor and any number of workers.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from unsim.engine.blocks import release_worker
from unsim.engine.core import plan_blocks, plan_shards
from unsim.engine.executors import TaskExecutor
from unsim.studies.base import Base
from unsim.studies.points import (
    Part,
    Piece,
    PointStudy,
    PointTask,
    change_level,
    evaluate_points,
    merge_parts,
    point_record,
    point_scenario,
)

__all__ = ["Record", "execute_points", "point_tasks"]

#: A point's index and its record (outcomes, vote means, seconds, optional run-table columns).
Record = tuple[int, dict[str, Any]]


def point_tasks(
    base: Base,
    items: Sequence[tuple[int, dict[str, Any]]],
    runs: int,
    seed: int,
    executor: TaskExecutor,
    columns: tuple[str, ...] = (),
    per_task: int = 16,
) -> list[PointTask]:
    """The points as tasks: a single point on several workers, its blocks spread over them;
    otherwise a few points each (``per_task`` at most, and at least sixteen tasks a worker when
    there are enough points, so that no worker idles long at the end)."""
    token = uuid.uuid4().hex
    paths = sorted({p for _, overrides in items for p in overrides})
    study = PointStudy(base, change_level(paths), tuple(columns))
    payload = pickle.dumps(study)
    pieces: list[list[Piece]]
    if not executor.inline and len(items) == 1:
        index, overrides = items[0]
        sizes = plan_blocks(runs, point_scenario(base, overrides).simulation.block_size)
        shards = plan_shards(sizes, executor.workers)
        pieces = [[(index, overrides, first, part)] for first, part in shards]
    else:
        per = max(1, min(per_task, len(items) // (16 * max(executor.workers, 1))))
        whole: list[Piece] = [(i, overrides, 0, None) for i, overrides in items]
        pieces = [whole[first : first + per] for first in range(0, len(whole), per)]
    return [(token, payload, seed, runs, task) for task in pieces]


def execute_points(
    base: Base,
    items: Sequence[tuple[int, dict[str, Any]]],
    runs: int,
    seed: int,
    executor: TaskExecutor,
    columns: tuple[str, ...] = (),
) -> Iterator[list[Record]]:
    """The records of the points ``(index, overrides)``, the points each task completes at a
    time, in the order of the tasks; with ``columns``, each record holds those run-table
    columns (``record["columns"]``)."""
    tasks = point_tasks(base, items, runs, seed, executor, columns)
    parts: dict[int, Part] = {}
    try:
        for done in executor.map(evaluate_points, tasks):
            records = []
            for index, part in done:
                whole = merge_parts(parts.pop(index, None), part)
                if whole["n"] < runs:  # more of its blocks to come
                    parts[index] = whole
                else:
                    records.append((index, point_record(whole)))
            yield records
    finally:
        if executor.inline:  # the model kept between points lives in this process
            release_worker()
