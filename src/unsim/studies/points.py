"""Sweep points at the engine's speed: one model per worker, re-parameterised from point to point.

A sweep's points differ from their scenario in a few values. Building and validating a whole
scenario, then a whole model (193 agents, their parameters) for every point cost more than the
point's runs, so here:

* the base scenario travels to a worker once per sweep (pickled, with a token naming the sweep);
  a point travels as its few ``{path: value}`` overrides;
* a point's scenario is the base with those values set (:func:`set_values`): each value checked
  and coerced against its field's type and bounds, its model's validators run, nothing else
  validated again (every value was checked before the sweep started: see ``sweeps.check_points``);
* the worker keeps its model and re-parameterises it (``UNModel.reparameterise``): values read
  only while the history unfolds (the target's strategies, rounds, procedure, sponsors' lobbying
  and bargaining) just swap the scenario; behaviour, actors' ties and per-state values rebuild
  the parameters; the world, the calibration or the resolution build a new model;
* the runs are reduced in the worker to a small record (counts, each outcome's probability and
  95 % interval, mean yes votes): no run table, no per-state table travels back.

The record is the same, number for number, as the one a full ``run()`` of the point's scenario
gives (tested).
"""

from __future__ import annotations

import math
import pickle
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError

from unsim.engine.blocks import prepare_process
from unsim.engine.core import plan_blocks
from unsim.errors import Problem, ScenarioError
from unsim.model import UNModel
from unsim.model.outcomes import count_runs, outcomes_for
from unsim.results.stats import proportion
from unsim.scenario.loader import split_path
from unsim.scenario.schema import GA_STAGES, Scenario, World

__all__ = [
    "PointTask",
    "change_level",
    "evaluate_points",
    "point_record",
    "point_tasks",
    "set_values",
]

OUTCOME_FIELDS = ("p", "ci_low", "ci_high")

#: Paths read only while a history unfolds (by the strategies and the procedure): a model of
#: the base scenario serves a point that changes them once it holds the point's scenario.
RUNTIME_PATHS = ("actors.target.strategies", "simulation.rounds", "procedure", "actors.sponsors")
#: Paths that shape the model itself (its agents, masks, who is the target): a new model.
STRUCTURAL_PATHS = ("world", "calibration", "resolution", "simulation.block_size")

Level = Literal["state", "parameters", "model"]


def _under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def change_level(paths: Sequence[str]) -> Level:
    """What a model of one point needs to serve another point that differs in ``paths``: a new
    scenario only (``state``), its parameters rebuilt (``parameters``) or a new model."""
    if any(_under(p, STRUCTURAL_PATHS) for p in paths):
        return "model"
    if all(_under(p, RUNTIME_PATHS) for p in paths):
        return "state"
    return "parameters"


# --------------------------------------------------------------------------------------------
# A point's scenario without validating it all again
# --------------------------------------------------------------------------------------------
class NotSettable(Exception):
    """The path does not lead to a plain value of a model field: validate the whole point."""


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def set_values(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """``scenario`` with each ``{dotted.path: value}`` set, validated value by value.

    The model holding each value is validated again with it (the value's type and bounds, the
    model's own validators); the models above it are copied with the new one.
    The fields a value is given for count as set (as when a file gives them), so a calibration
    does not fill them. Raises :class:`ScenarioError` for a bad value and :class:`NotSettable`
    when a path does not end at a plain value of a model (a mapping key, a whole list or model,
    the world, the calibration or the resolution): those points are validated whole instead."""
    out = scenario
    problems: list[Problem] = []
    world = scenario.world if isinstance(scenario.world, World) else None
    for path, value in overrides.items():
        if _under(path, ("world", "calibration", "resolution")) or not _scalar(value):
            raise NotSettable(path)
        parts = split_path(path)
        if not parts or not isinstance(parts[-1], str):
            raise NotSettable(path)
        chain: list[Any] = [out]
        for part in parts[:-1]:
            node = chain[-1]
            if isinstance(part, int) and isinstance(node, list | tuple) and part < len(node):
                chain.append(node[part])
            elif isinstance(part, str) and isinstance(node, BaseModel):
                if part not in type(node).model_fields:
                    raise NotSettable(path)
                chain.append(getattr(node, part))
            else:
                raise NotSettable(path)
        parent, name = chain[-1], parts[-1]
        if not isinstance(parent, BaseModel) or name not in type(parent).model_fields:
            raise NotSettable(path)
        if not _scalar(getattr(parent, name)) and getattr(parent, name) is not None:
            raise NotSettable(path)
        try:
            given = {k: getattr(parent, k) for k in parent.model_fields_set}
            given[name] = value
            child: Any = type(parent).model_validate(given, context={"world": world})
        except ValidationError as err:
            for e in err.errors():
                problems.append(Problem(path, e["msg"], value, True))
            continue
        for depth in range(len(parts) - 2, -1, -1):
            holder, part = chain[depth], parts[depth]
            if isinstance(part, int):
                items = list(holder)
                items[part] = child
                child = type(holder)(items)
            else:
                child = holder.model_copy(update={part: child})
        out = child
    if problems:
        raise ScenarioError("<point>", problems)
    return out


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------
def _block_counts(model: UNModel, out: Mapping[str, NDArray[Any]], counts: dict[str, int]) -> None:
    """Add a simulated block's outcome counts to ``counts`` (``outcomes.count_runs``: the same
    keys as a summary's sums) and, per Assembly stage, the yes votes summed over the runs where
    it was held."""
    count_runs(out, model.columns(), counts)
    for stage in GA_STAGES:
        held = out[f"{stage}_held"]
        key = f"{stage}_yes_total"
        counts[key] = counts.get(key, 0) + int(out[f"{stage}_yes"][held].sum(dtype=np.int64))


def point_record(counts: Mapping[str, int], n: int, scenario: Scenario) -> dict[str, Any]:
    """A point's record from its counts: each outcome of a summary with its probability and
    95 % interval, and the mean yes votes of each Assembly stage where it was held."""
    world = scenario.world
    assert isinstance(world, World)
    # the outcomes that apply to the point's scenario, as in its summary
    keys = [(o.name, o.count_key) for o in outcomes_for(scenario, world.security_council.permanent)]
    outcomes = {}
    for name, key in keys:
        stats = proportion(counts.get(key, 0), n)
        outcomes[name] = {f: float(stats[f]) for f in OUTCOME_FIELDS}
    means = {}
    for stage in GA_STAGES:
        held = counts.get(f"{stage}_held", 0)
        means[f"{stage}_yes_mean"] = counts[f"{stage}_yes_total"] / held if held else math.nan
    return {"n": n, "outcomes": outcomes, "means": means}


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------
#: (sweep token, pickled base, seed, runs per point, [(point index, overrides)], change level)
PointTask = tuple[str, bytes, int, int, list[tuple[int, dict[str, Any]]], Level]

_WORKER = threading.local()


def point_tasks(
    base: Any,
    items: Sequence[tuple[int, dict[str, Any]]],
    runs: int,
    seed: int,
    workers: int,
    per_task: int = 16,
) -> Iterator[PointTask]:
    """The points as tasks of a few points each (``per_task`` at most, and at least sixteen tasks
    a worker when there are enough points, so that no worker idles long at the end)."""
    token = uuid.uuid4().hex
    payload = pickle.dumps(base)
    paths = sorted({p for _, overrides in items for p in overrides})
    level = change_level(paths)
    per = max(1, min(per_task, len(items) // (16 * max(workers, 1))))
    for first in range(0, len(items), per):
        yield (token, payload, seed, runs, list(items[first : first + per]), level)


def _point_scenario(base: Any, overrides: dict[str, Any]) -> Scenario:
    try:
        return set_values(base.scenario, overrides)
    except NotSettable:
        return base.point(overrides)  # type: ignore[no-any-return]


def evaluate_points(task: PointTask) -> list[tuple[int, dict[str, Any]]]:
    """Run each point of a task on the model this worker keeps; return (index, record) pairs.

    Picklable entry point for process pools and Dask."""
    token, payload, seed, runs, items, level = task
    state = _WORKER.__dict__
    if state.get("token") != token:
        release_worker_model()
        state["token"] = token
        state["base"] = pickle.loads(payload)
    base = state["base"]
    prepare_process()
    results = []
    for index, overrides in items:
        t0 = time.perf_counter()
        scenario = _point_scenario(base, overrides)
        counts: dict[str, int] = {}
        sizes = plan_blocks(runs, scenario.simulation.block_size)
        for block, size in enumerate(sizes):
            model = _model_for(state, scenario, seed, block, size, level)
            _block_counts(model, model.simulate(), counts)
        record = point_record(counts, runs, scenario)
        record["seconds"] = time.perf_counter() - t0
        results.append((index, record))
    return results


def _model_for(
    state: dict[str, Any], scenario: Scenario, seed: int, block: int, size: int, level: Level
) -> UNModel:
    """The worker's model set to ``scenario`` and block ``block``: the kept one re-parameterised
    and reset when it can serve, else a new one."""
    model: UNModel | None = state.get("model")
    if model is not None and model.n_replicates == size and level != "model":
        if model.spec is not scenario:
            model.reparameterise(scenario, parameters=level == "parameters")
        model.reset(seed, block)
        return model
    _drop_model(state)
    model = UNModel(scenario, replicates=size, seed=seed, block=block)
    state["model"] = model
    return model


def _drop_model(state: dict[str, Any]) -> None:
    model = state.pop("model", None)
    if model is not None:
        model.release()


def release_worker_model() -> None:
    """Drop the model and the sweep this thread keeps (the next sweep builds its own)."""
    state = _WORKER.__dict__
    _drop_model(state)
    state.pop("token", None)
    state.pop("base", None)
