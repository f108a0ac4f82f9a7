"""A study's points at the engine's speed: one model per worker, re-parameterised from point to
point.

A study's points differ from their scenario in a few values. Building and validating a whole
scenario, then a whole model (193 agents, their parameters) for every point cost more than the
point's runs, so here:

* the study (its base scenario, how its points differ, the run-table columns it wants) travels to
  a worker once (pickled, with a token naming it: ``unsim.engine.blocks.worker_state``, as a
  run's scenario does); a point travels as its few ``{path: value}`` overrides;
* a point's scenario is the base with those values set (``unsim.scenario.overrides.set_values``):
  each value checked and coerced against its field's type and bounds, its model's validators
  run, nothing else validated again (every value was checked before the study started:
  ``unsim.studies.base.check_points``);
* the worker keeps its model in the engine's slot (``unsim.engine.blocks.ModelSlot``) and
  re-parameterises it (``UNModel.reparameterise``): values read only while the history unfolds
  (the target's strategies, rounds, procedure, sponsors' lobbying and bargaining) just swap the
  scenario; behaviour, actors' ties and per-state values rebuild the parameters; the world, the
  calibration or the resolution build a new model;
* the runs are reduced in the worker to counts (each outcome's runs, the yes votes of each
  Assembly stage) and, when asked, a few run-table columns; the record of a point
  (:func:`point_record`: each outcome's probability and 95 % interval, mean yes votes) is built
  from them, also when its blocks ran in several tasks.

The record is the same, number for number, as the one a full ``run()`` of the point's scenario
gives (tested).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.engine.blocks import Change, prepare_process, worker_state
from unsim.engine.core import plan_blocks
from unsim.model import UNModel
from unsim.model.outcomes import count_runs, outcomes_for
from unsim.results.stats import proportion
from unsim.scenario.overrides import NotSettable, set_values
from unsim.scenario.schema import GA_STAGES, Scenario, World
from unsim.studies.base import Base
from unsim.studies.table import OUTCOME_FIELDS

__all__ = [
    "Piece",
    "PointStudy",
    "PointTask",
    "block_counts",
    "change_level",
    "evaluate_points",
    "merge_parts",
    "outcome_keys",
    "point_record",
]

#: Paths read only while a history unfolds (by the strategies and the procedure): a model of
#: the base scenario serves a point that changes them once it holds the point's scenario.
RUNTIME_PATHS = ("actors.target.strategies", "simulation.rounds", "procedure", "actors.sponsors")
#: Paths that shape the model itself (its agents, masks, who is the target): a new model.
STRUCTURAL_PATHS = ("world", "calibration", "resolution", "simulation.block_size")


def _under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def change_level(paths: Sequence[str]) -> Change:
    """What a model of one point needs to serve another point that differs in ``paths``: a new
    scenario only (``state``), its parameters rebuilt (``parameters``) or a new model."""
    if any(_under(p, STRUCTURAL_PATHS) for p in paths):
        return "model"
    if all(_under(p, RUNTIME_PATHS) for p in paths):
        return "state"
    return "parameters"


def point_scenario(base: Base, overrides: Mapping[str, Any]) -> Scenario:
    """The scenario of a point: the base with its values set, else (a value that is not a plain
    one: a list, a mapping, the world...) validated whole."""
    try:
        return set_values(base.scenario, overrides)
    except NotSettable:
        return base.point(overrides)


@dataclass
class PointStudy:
    """What a worker keeps of a study: the base scenario, how its points differ (``change``),
    the run-table columns to return, and the scenario of the point it served last (a point whose
    blocks come in several tasks is set up once)."""

    base: Base
    change: Change
    columns: tuple[str, ...] = ()
    last: tuple[dict[str, Any], Scenario] | None = field(default=None, repr=False)

    def scenario(self, overrides: dict[str, Any]) -> Scenario:
        """The scenario of the point ``overrides`` (kept for the next task of that point)."""
        if self.last is None or self.last[0] != overrides:
            self.last = (overrides, point_scenario(self.base, overrides))
        return self.last[1]


#: Blocks of a point: (point index, overrides, first block, block sizes; None: all of them).
Piece = tuple[int, dict[str, Any], int, list[int] | None]
#: A task: (study token, pickled :class:`PointStudy`, seed, runs per point, pieces).
PointTask = tuple[str, bytes, int, int, list[Piece]]
#: What a piece gives back: its runs, counts, outcome keys, columns and seconds.
Part = dict[str, Any]


def evaluate_points(task: PointTask) -> list[tuple[int, Part]]:
    """Run each piece of a task on the model this worker keeps; return (index, part) pairs.

    Picklable entry point for process pools and Dask."""
    token, payload, seed, runs, pieces = task
    study, slot = worker_state(token, payload)
    prepare_process()
    results = []
    for index, overrides, first, sizes in pieces:
        t0 = time.perf_counter()
        scenario = study.scenario(overrides)
        if sizes is None:
            sizes = plan_blocks(runs, scenario.simulation.block_size)
        counts: dict[str, int] = {}
        chunks = []
        for k, size in enumerate(sizes):
            model = slot.get(scenario, seed, first + k, size, study.change)
            out = model.simulate()
            block_counts(model, out, counts)
            if study.columns:
                chunks.append({c: out[c].copy() for c in study.columns})
        part = {"n": sum(sizes), "counts": counts, "keys": outcome_keys(scenario)}
        part.update(columns=chunks or None, seconds=time.perf_counter() - t0)
        results.append((index, part))
    return results


def block_counts(model: UNModel, out: Mapping[str, NDArray[Any]], counts: dict[str, int]) -> None:
    """Add a simulated block's outcome counts to ``counts`` (``outcomes.count_runs``: the same
    keys as a summary's sums) and, per Assembly stage, the yes votes summed over the runs where
    it was held."""
    count_runs(out, model.columns(), counts)
    for stage in GA_STAGES:
        held = out[f"{stage}_held"]
        key = f"{stage}_yes_total"
        counts[key] = counts.get(key, 0) + int(out[f"{stage}_yes"][held].sum(dtype=np.int64))


def outcome_keys(scenario: Scenario) -> list[tuple[str, str]]:
    """The outcomes that apply to the point's scenario, as in its summary: (name, count key)."""
    world = scenario.world
    assert isinstance(world, World)
    return [(o.name, o.count_key) for o in outcomes_for(scenario, world.security_council.permanent)]


def merge_parts(a: Part | None, b: Part) -> Part:
    """The parts of a point's blocks, in block order, as one."""
    if a is None:
        return b
    counts = dict(a["counts"])
    for key, v in b["counts"].items():
        counts[key] = counts.get(key, 0) + v
    columns = (a["columns"] or []) + (b["columns"] or [])
    return {
        "n": a["n"] + b["n"],
        "counts": counts,
        "keys": a["keys"],
        "columns": columns or None,
        "seconds": a["seconds"] + b["seconds"],
    }


def point_record(part: Part) -> dict[str, Any]:
    """A point's record from its counts: each outcome of a summary with its probability and
    95 % interval, the mean yes votes of each Assembly stage where it was held, the seconds its
    runs took and, when asked, the run-table columns (in run order)."""
    counts, n = part["counts"], part["n"]
    outcomes = {}
    for name, key in part["keys"]:
        stats = proportion(counts.get(key, 0), n)
        outcomes[name] = {f: float(stats[f]) for f in OUTCOME_FIELDS}
    means = {}
    for stage in GA_STAGES:
        held = counts.get(f"{stage}_held", 0)
        means[f"{stage}_yes_mean"] = counts[f"{stage}_yes_total"] / held if held else math.nan
    record: dict[str, Any] = {"n": n, "outcomes": outcomes, "means": means}
    record["seconds"] = part["seconds"]
    if part["columns"]:
        chunks = part["columns"]
        record["columns"] = {c: np.concatenate([ch[c] for ch in chunks]) for c in chunks[0]}
    return record
