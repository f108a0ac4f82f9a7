"""Each state's stance at a vote on the draft (and each Council member's at the Council's
votes), broken into its parts, over the runs of a scenario.

:func:`replay` runs the first blocks of a scenario's Monte Carlo again (block ``b`` draws from
the streams of (seed, ``b``) alone, so they are the very runs of the main job) with a
:class:`~unsim.explain.tracker.Tracker` watching; :func:`breakdown_table` reduces them to a
tidy table: for every state, stage and part the mean over the runs in which the stage was held
and its 95 % interval (normal, over runs). A row ``part == "stance"`` holds the stance itself;
the parts' means add up to it (to float rounding), and its per-run values are the stances the
model used for the vote (``UNModel.stances``; in the Council, ``MemberState.council_stance``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtri  # scipy.stats.norm.ppf, without loading scipy.stats

from unsim.explain.tracker import VOTED_STAGES, StageRecord, Tracker, part_labels
from unsim.model.params import Habit
from unsim.results.breakdown_table import COLUMNS, STANCE
from unsim.scenario.schema import Scenario, World

if TYPE_CHECKING:
    from unsim.results.tables import Results

#: Runs replayed by default: one block of the default size (the main job's first block).
EXPLAIN_RUNS = 2048


@dataclass
class Replay:
    """The per-run parts of every state's stance at each vote on the draft (and each Council
    member's at the Council's votes), for the first ``runs`` runs of a scenario on ``seed``
    (whole blocks)."""

    scenario: Scenario
    seed: int
    runs: int
    stages: dict[str, StageRecord]
    labels: dict[str, str]
    codes: list[str]
    band: float
    noise: float
    #: the states' habit of repeating their last vote on the series (None: none)
    habit: Habit | None = None


def replay(scenario: Scenario, seed: int, runs: int | None = None) -> Replay:
    """Replay the first blocks of the scenario's runs on ``seed`` (at least ``runs`` runs, at
    most the scenario's run count rounded up to whole blocks; default one block)."""
    block = scenario.simulation.block_size
    want = int(runs if runs is not None else min(EXPLAIN_RUNS, scenario.simulation.runs))
    want = max(1, want)
    sizes = [min(block, want - b * block) for b in range(math.ceil(want / block))]
    records: list[dict[str, StageRecord]] = []
    labels: dict[str, str] = {}
    model = None
    for b, size in enumerate(sizes):
        tracker = Tracker(scenario, seed=seed, block=b, size=size)
        tracker.simulate()
        records.append(tracker.stages)
        labels.update(tracker.labels)
        model = tracker.model
    assert model is not None
    behaviour = model.behaviour
    world = scenario.world
    assert isinstance(world, World)
    return Replay(
        scenario=scenario,
        seed=seed,
        runs=sum(sizes),
        stages=_joined(records),
        labels=part_labels(labels),
        codes=list(world.codes),
        band=float(behaviour.abstention_band),
        noise=float(behaviour.vote_noise),
        habit=model.params.habit,
    )


def _joined(records: list[dict[str, StageRecord]]) -> dict[str, StageRecord]:
    """The blocks' records of each stage side by side (runs in block order)."""
    if len(records) == 1:
        return records[0]
    out: dict[str, StageRecord] = {}
    for stage in records[0]:
        recs = [r[stage] for r in records]
        names = list(dict.fromkeys(k for r in recs for k in r.parts))
        parts = {}
        for k in names:
            parts[k] = np.concatenate(
                [np.asarray(r.parts[k]) if k in r.parts else np.zeros_like(r.stance) for r in recs],
                axis=1,
            )
        out[stage] = StageRecord(
            parts=parts,
            stance=np.concatenate([r.stance for r in recs], axis=1),
            held=np.concatenate([r.held for r in recs]),
            absence=recs[0].absence,
            members=recs[0].members,
            by_habit=recs[0].by_habit,
        )
    return out


def held_runs(record: StageRecord) -> NDArray[np.bool_]:
    """The runs in which the stage was held (all of them if it never was)."""
    return record.held if record.held.any() else np.ones_like(record.held)


def mean_interval(values: NDArray[Any], level: float = 0.95) -> tuple[Any, Any, Any]:
    """Per row: the mean over runs (axis 1) and its normal interval."""
    n = values.shape[1]
    mean = values.mean(axis=1, dtype=np.float64)
    if n < 2:
        return mean, mean, mean
    half = float(ndtri(0.5 + level / 2)) * values.std(axis=1, ddof=1, dtype=np.float64)
    half = half / math.sqrt(n)
    return mean, mean - half, mean + half


def _part_interval(values: NDArray[Any], held: NDArray[np.bool_], every: bool) -> Any:
    """``mean_interval`` over the held runs, without copying a part that is the same in every
    run (a part of the expected support: a broadcast column)."""
    if values.strides[1] == 0:
        column = values[:, 0].astype(np.float64)
        return column, column, column
    return mean_interval(values if every else values[:, held])


def breakdown_table(rep: Replay) -> pd.DataFrame:
    """The tidy table of every voter's parts at every vote recorded (module doc)."""
    frames = []
    for stage, rec in rep.stages.items():
        held = held_runs(rec)
        # the states that vote: all of them in the Assembly, the members in the Council
        rows = np.arange(len(rep.codes)) if rec.members is None else np.flatnonzero(rec.members)
        n = len(rows)
        names = [*rec.parts, STANCE]
        labels = [rep.labels.get(k, k) for k in rec.parts] + ["stance the model used for the vote"]
        every = bool(held.all())
        values = [np.asarray(v) for v in [*rec.parts.values(), rec.stance]]
        if rec.members is not None:
            values = [v[rows] for v in values]
        stats = [_part_interval(v, held, every) for v in values]
        mean, lo, hi = (np.concatenate(x) for x in zip(*stats, strict=True))
        frames.append(
            pd.DataFrame(
                {
                    "iso3": np.tile(np.asarray(rep.codes)[rows], len(names)),
                    "stage": stage,
                    "part": np.repeat(names, n),
                    "label": np.repeat(labels, n),
                    "mean": mean,
                    "lo": lo,
                    "hi": hi,
                    "runs": int(held.sum()),
                    "_state": np.tile(rows, len(names)),
                    "_stage": VOTED_STAGES.index(stage),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["_stage", "_state"], kind="stable")
    return out.reset_index(drop=True)[COLUMNS]


def compute_table(scenario: Scenario, seed: int, runs: int | None = None) -> pd.DataFrame:
    """:func:`breakdown_table` of :func:`replay` (what the main job saves as ``explain``)."""
    return breakdown_table(replay(scenario, seed, runs))


def save_with(results: Results, runs: int | None = None) -> pd.DataFrame:
    """Compute the breakdown table of ``results`` (its first runs replayed) and attach it, so
    that ``Results.save`` writes it as ``explain.parquet``; its file, runs and time go into the
    metadata (``metadata["explain"]``)."""
    t0 = time.perf_counter()
    total = int(results.summary.get("runs", EXPLAIN_RUNS))
    want = min(runs or EXPLAIN_RUNS, total)
    table = compute_table(results.scenario, results.seed, want)
    results.explain = table
    results.metadata["explain"] = {
        "file": "explain.parquet",
        "runs": int(table["runs"].max()) if len(table) else 0,
        "replayed_runs": want,
        "stages": sorted(set(table["stage"]), key=VOTED_STAGES.index),
        "seconds": time.perf_counter() - t0,
    }
    return table
