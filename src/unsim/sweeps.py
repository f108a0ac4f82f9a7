"""Parameter sweeps: many variants of one scenario, every point on common random numbers.

A sweep sets scenario values (dotted paths, as with ``--set``) to each *point* of a design (a full
grid over lists of values, or a Latin hypercube over ``(low, high)`` ranges), runs the Monte Carlo
of every point with the **same master seed**, and returns a tidy table: one row per point with the
parameter values and, for every outcome, its probability and 95 % interval. Because all points share
the seed, differences between points are due to the parameters, not to sampling noise.

Points run in parallel on local worker processes (``workers``) or on a Dask cluster
(``executor=DaskExecutor(...)``). With ``out`` the finished points are written one small file each,
atomically, as they arrive; ``resume=True`` then skips the points already there, so an interrupted
sweep picks up where it stopped and gives the same table as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from unsim.atomic import write_atomically, write_text_atomically
from unsim.engine.results import check_output_folder
from unsim.engine.rng import new_master_seed, stream_key
from unsim.errors import InputError, Problem, ScenarioError
from unsim.scenario.loader import read_yaml, scenario_from_dict, split_path
from unsim.scenario.schema import GA_STAGES, Scenario

if TYPE_CHECKING:
    from matplotlib.axes import Axes

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

Design = Literal["grid", "lhs"]
#: The statistics a sweep table gives for each outcome, as ``<outcome>_<field>`` columns.
OUTCOME_FIELDS = ("p", "ci_low", "ci_high")
POINTS_DIR = "points"
TABLE_NAME = "sweep.parquet"


# --------------------------------------------------------------------------------------------
# Designs
# --------------------------------------------------------------------------------------------
def grid_points(params: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values (the first parameter varies slowest)."""
    names = list(params)
    for name in names:
        if isinstance(params[name], str | bytes) or not len(params[name]):
            raise ValueError(f"{name}: expected a non-empty list of values")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*params.values())]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def parse_range(name: str, bounds: Sequence[Any]) -> tuple[float, float, bool]:
    """(low, high, integer) of a ``(low, high)`` range."""
    if len(bounds) != 2 or not all(_is_number(b) for b in bounds):
        raise ValueError(f"{name}: expected a (low, high) range of numbers, got {list(bounds)!r}")
    low, high = bounds
    if high < low:
        raise ValueError(f"{name}: the range ({low}, {high}) is empty")
    integer = all(isinstance(b, int | np.integer) for b in bounds)
    return float(low), float(high), integer


def scale_unit(u: float, low: float, high: float, integer: bool) -> float | int:
    """Map ``u`` in [0, 1) onto ``[low, high]`` (onto its whole numbers when ``integer``)."""
    if integer:
        return int(min(high, math.floor(low + u * (high - low + 1))))
    return float(low + u * (high - low))


def lhs_points(
    params: Mapping[str, Sequence[Any]], samples: int, seed: int = 0
) -> list[dict[str, Any]]:
    """A Latin hypercube of ``samples`` points over ``(low, high)`` ranges.

    Each range is cut into ``samples`` equal strata and every stratum holds exactly one point (for
    whole-number ranges, one point per stratum before rounding down). The design is a function of
    ``seed`` alone, so a resumed sweep draws the same points."""
    if samples < 1:
        raise ValueError("samples must be at least 1")
    ranges = {name: parse_range(name, b) for name, b in params.items()}
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_key("sweep_lhs"),)))
    columns = {}
    for name in ranges:
        strata = rng.permutation(samples)
        columns[name] = (strata + rng.random(samples)) / samples
    return [
        {name: scale_unit(float(columns[name][i]), *ranges[name]) for name in ranges}
        for i in range(samples)
    ]


def design_points(
    params: Mapping[str, Sequence[Any]],
    design: Design = "grid",
    samples: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The points of a grid or Latin-hypercube design."""
    if design == "grid":
        return grid_points(params)
    if design == "lhs":
        if samples is None:
            raise ValueError("a Latin hypercube needs samples")
        return lhs_points(params, samples, seed)
    raise ValueError(f"unknown design {design!r} (grid, lhs)")


# --------------------------------------------------------------------------------------------
# The scenario a sweep varies
# --------------------------------------------------------------------------------------------
@dataclass
class Base:
    """A scenario as a raw mapping (world and calibration inlined), ready to vary."""

    raw: dict[str, Any]
    base_dir: Path
    source: str
    scenario: Scenario
    digest: str = field(default="")

    def point(self, overrides: Mapping[str, Any]) -> Scenario:
        raw = self.raw
        # the world and calibration validated once, unless the point changes them
        touched = {split_path(str(path))[0] for path in overrides if split_path(str(path))}
        if not touched & {"world", "calibration"}:
            raw = dict(raw)
            raw["world"] = self.scenario.world
            if self.scenario.calibration is not None:
                raw["calibration"] = self.scenario.calibration
        return scenario_from_dict(
            raw, base_dir=self.base_dir, source=self.source, overrides=overrides
        )


def _inline(raw: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Read the world and calibration files into the mapping: points validate fast and can be
    shipped to workers that do not share this file system."""
    out = dict(raw)
    for key in ("world", "calibration"):
        value = out.get(key)
        if isinstance(value, str):
            path = Path(value) if Path(value).is_absolute() else base_dir / value
            with contextlib.suppress(ScenarioError):  # else left as a path: validation reports it
                out[key] = read_yaml(path)
    return out


def prepare(
    scenario: str | Path | Mapping[str, Any] | Scenario, base_dir: str | Path | None
) -> Base:
    """The raw mapping behind a scenario file, mapping or loaded scenario."""
    if isinstance(scenario, str | Path):
        path = Path(scenario)
        raw = read_yaml(path)
        folder = Path(base_dir) if base_dir is not None else path.parent
        source = str(path)
    elif isinstance(scenario, Scenario):
        raw = scenario.model_dump(mode="json")
        folder = Path(base_dir) if base_dir is not None else Path(".")
        source = f"<scenario {scenario.name}>"
    elif isinstance(scenario, Mapping):
        raw = dict(scenario)
        folder = Path(base_dir) if base_dir is not None else Path(".")
        source = "<scenario>"
    else:
        raise TypeError("scenario must be a path, a mapping or a Scenario")
    raw = _inline(raw, folder)
    validated = scenario_from_dict(raw, base_dir=folder, source=source)
    # what the points' results depend on: not the sweep section (resume after widening a grid)
    content = {k: v for k, v in raw.items() if k != "sweep"}
    digest = hashlib.sha256(_canonical(content).encode()).hexdigest()
    return Base(raw=raw, base_dir=folder, source=source, scenario=validated, digest=digest)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))


def _plain(value: Any) -> Any:
    """Numpy scalars to Python ones (for YAML-like overrides and JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _representatives(points: Sequence[Mapping[str, Any]], limit: int = 64) -> set[int]:
    """Points to validate whole (their scenario as a file would be): all of a small design;
    else the first, and for each parameter a point at its lowest and at its highest value (or
    at each of its first ``limit`` distinct values when they are not numbers)."""
    if len(points) <= limit:
        return set(range(len(points)))
    chosen = {0}
    for name in points[0]:
        values: list[Any] = [p.get(name) for p in points]
        if all(_is_number(v) for v in values):
            chosen.add(int(np.argmin(values)))
            chosen.add(int(np.argmax(values)))
        else:
            seen: dict[str, int] = {}
            for i, v in enumerate(values):
                seen.setdefault(repr(v), i)
                if len(seen) >= limit:
                    break
            chosen.update(seen.values())
    return chosen


def check_points(base: Base, points: Sequence[Mapping[str, Any]]) -> None:
    """Check every point first, so that a bad value fails the sweep before any run.

    Each value is checked against its field (``unsim.studies.points.set_values``); the
    scenarios of a few representative points (all of them in a small design) are validated
    whole, as a file would be."""
    from unsim.studies.points import NotSettable, set_values

    problems: list[Problem] = []
    whole = _representatives(points)
    for i, point in enumerate(points):
        try:
            if i in whole:
                base.point(point)
            else:
                try:
                    set_values(base.scenario, point)
                except NotSettable:
                    base.point(point)
        except ScenarioError as err:
            where = ", ".join(f"{k}={v!r}" for k, v in point.items())
            problems += [
                Problem(
                    f"point {i} ({where}): {p.path}",
                    p.message,
                    p.value,
                    p.has_value,
                    p.allowed,
                    p.suggestion,
                )
                for p in err.problems
            ]
            if len(problems) >= 20:
                break
    if problems:
        raise ScenarioError(base.source, problems)


# --------------------------------------------------------------------------------------------
# Evaluating points
# --------------------------------------------------------------------------------------------
#: A task: (point index, scenario, runs, seed, run-table columns to return).
Task = tuple[int, Scenario, int, int, tuple[str, ...]]


def evaluate(task: Task, workers: int = 1, executor: Any = None) -> tuple[int, dict[str, Any]]:
    """Run one point; return its index and record (outcomes, vote means, optional columns)."""
    from unsim.engine import run

    index, scenario, runs, seed, columns = task
    t0 = time.perf_counter()
    results = run(
        scenario, runs=runs, seed=seed, workers=workers, executor=executor, keep_runs=bool(columns)
    )
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


def _local_pool(workers: int) -> Executor:
    from unsim.engine.core import _local_pool as engine_pool

    return engine_pool(workers)


def _futures(executor: Executor, tasks: Iterator[Any], window: int, fn: Any) -> Iterator[Any]:
    """Results of a concurrent.futures executor as they complete, ``window`` tasks in flight."""
    pending: set[Future[Any]] = set()
    try:
        for task in itertools.islice(tasks, window):
            pending.add(executor.submit(fn, task))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                nxt = next(tasks, None)
                if nxt is not None:
                    pending.add(executor.submit(fn, nxt))
                yield fut.result()
    finally:  # interrupted: do not leave queued points running for nobody
        for fut in pending:
            fut.cancel()


def _dask(client: Any, tasks: Iterator[Any], window: int, fn: Any) -> Iterator[Any]:
    """Results of tasks on a Dask cluster as they complete, ``window`` tasks in flight."""
    from distributed import as_completed

    queue = as_completed()
    submitted = []
    try:
        for task in itertools.islice(tasks, window):
            submitted.append(client.submit(fn, task, pure=False))
            queue.add(submitted[-1])
        for fut in queue:
            nxt = next(tasks, None)
            if nxt is not None:
                submitted.append(client.submit(fn, nxt, pure=False))
                queue.add(submitted[-1])
            yield fut.result()
    finally:
        client.cancel([f for f in submitted if not f.done()])


def execute(
    tasks: Iterable[Task], n_tasks: int, workers: int = 1, executor: Any = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, record) of every task, in the order they finish.

    With several points and workers (or an executor), points run side by side, one process per
    point; otherwise points run one after another, each spreading its blocks over the workers."""
    it = iter(tasks)
    if n_tasks > 1 and (executor is not None or workers > 1):
        yield from _in_parallel(evaluate, it, workers, executor)
        return
    for task in it:
        yield evaluate(task, workers=workers, executor=executor)


def execute_points(
    base: Base,
    items: Sequence[tuple[int, dict[str, Any]]],
    runs: int,
    seed: int,
    workers: int = 1,
    executor: Any = None,
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """The records of the points ``(index, overrides)``, a task's points at a time, in the order
    the tasks finish (see :mod:`unsim.studies.points`: one model per worker, re-parameterised
    from point to point)."""
    from unsim.studies.points import evaluate_points, point_tasks, release_worker_model

    parallel = executor is not None or workers > 1
    if parallel and len(items) == 1:  # one point: its blocks spread over the workers
        index, overrides = items[0]
        yield [evaluate((index, base.point(overrides), runs, seed, ()), workers, executor)]
        return
    tasks = point_tasks(base, items, runs, seed, workers if executor is None else 8)
    if not parallel:
        try:
            for task in tasks:
                yield evaluate_points(task)
        finally:
            release_worker_model()
        return
    yield from _in_parallel(evaluate_points, iter(tasks), workers, executor)


def _in_parallel(fn: Any, tasks: Iterator[Any], workers: int, executor: Any) -> Iterator[Any]:
    """``fn`` of every task on Dask (a ``DaskExecutor`` or a ``Client``), on an ``Executor``, or
    on the local pool of ``workers`` processes; results in the order they finish."""
    if executor is not None and hasattr(executor, "client"):
        yield from _dask(executor.client, tasks, window=64, fn=fn)
        return
    if executor is not None and type(executor).__name__ == "Client":
        yield from _dask(executor, tasks, window=64, fn=fn)
        return
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError("executor must be a DaskExecutor, a Dask Client or an Executor")
    pool = executor if executor is not None else _local_pool(workers)
    try:
        yield from _futures(pool, tasks, window=4 * max(workers, 2), fn=fn)
    except BrokenProcessPool as exc:
        from unsim.engine.core import pool_error

        raise pool_error(exc) from None


# --------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------
def _atomic_write(path: Path, text: str) -> None:
    write_text_atomically(path, text)


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    write_atomically(path, lambda tmp: _parquet_safe(df).to_parquet(tmp, index=False))


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Parameter columns that mix types (numbers and words) are stored as text."""
    out = df.copy()
    out.attrs = {}
    for col in out.columns:
        if out[col].dtype == object and len({type(v) for v in out[col]}) > 1:
            out[col] = out[col].astype(str)
    return out


def point_key(base: Base, point: Mapping[str, Any], runs: int, seed: int) -> str:
    """Identity of a point's result: the scenario, the values set, the runs and the seed."""
    text = _canonical({"scenario": base.digest, "point": dict(point), "runs": runs, "seed": seed})
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def read_saved_points(pdir: Path) -> dict[str, dict[str, Any]]:
    """The records saved in a sweep's ``points`` folder, by point key: files of one point
    (``<key>.json``) or of a task's points (``{"entries": [{"key", "record", ...}]}``);
    unreadable files are skipped (their points are computed again)."""
    saved: dict[str, dict[str, Any]] = {}
    for path in sorted(pdir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        if "record" in data:
            saved[path.stem] = data["record"]
        for entry in data.get("entries", []):
            if isinstance(entry, dict) and "key" in entry and "record" in entry:
                saved[str(entry["key"])] = entry["record"]
    return saved


def load_sweep(folder: str | Path) -> pd.DataFrame:
    """The table of a saved sweep (with its metadata in ``attrs``)."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        df = pd.read_parquet(folder / TABLE_NAME)
    except FileNotFoundError as exc:
        raise InputError(f"{folder}: not a finished sweep ({exc.filename} missing)") from None
    df.attrs = {
        "params": list(meta.get("params", {})),
        "seed": meta.get("seed"),
        "labels": dict(meta.get("labels") or {}),
    }
    return df


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
def _row(index: int, point: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
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
    rows = [_row(i, points[i], records[i]) for i in sorted(records)]
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
    from unsim.engine.results import OUTCOMES

    if outcome in df.columns:
        return outcome
    if f"{outcome}_p" in df.columns:
        return f"{outcome}_p"
    for name, _text, key in OUTCOMES:
        if key == outcome and f"{name}_p" in df.columns:
            return f"{name}_p"
    known = sorted(c[:-2] for c in df.columns if c.endswith("_p"))
    raise KeyError(f"unknown outcome {outcome!r}; known: {', '.join(known)}")


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------
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
    points = [{k: _plain(v) for k, v in p.items()} for p in points]
    folder = Path(out) if out is not None else None
    seed = choose_seed(base, seed, folder if resume else None)
    runs = int(runs if runs is not None else base.scenario.simulation.runs)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    check_points(base, points)
    keys = [point_key(base, p, runs, seed) for p in points]
    records: dict[int, dict[str, Any]] = {}
    from unsim.studies.labels import labels as path_labels

    names = path_labels(dict.fromkeys(k for p in points for k in p), base.scenario)
    meta: dict[str, Any] = {
        "kind": "sweep",
        "scenario": base.scenario.name,
        "source": base.source,
        "seed": seed,
        "runs": runs,
        **dict(metadata or {}),
        "points": len(points),
        "labels": names,
    }
    if folder is not None:
        pdir = folder / POINTS_DIR
        if not resume:  # a sweep starts in a new or empty folder: nothing of the user's is lost
            check_output_folder(folder, force=False, hint="or resume the sweep saved there")
        pdir.mkdir(parents=True, exist_ok=True)
        if resume:
            saved = read_saved_points(pdir)
            for i, key in enumerate(keys):
                if key in saved:
                    records[i] = saved[key]
        _atomic_write(folder / "metadata.json", json.dumps({**meta, "status": "running"}, indent=2))
    todo = [i for i in range(len(points)) if i not in records]
    stream = execute_points(
        base, [(i, dict(points[i])) for i in todo], runs, seed, workers=workers, executor=executor
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(points), initial=len(records), unit="point", leave=False)
    try:
        for done in stream:
            for index, record in done:
                records[index] = record
            if folder is not None and done:
                entries = [
                    {"index": i, "key": keys[i], "point": points[i], "record": r} for i, r in done
                ]
                name = f"{keys[done[0][0]]}.json"
                _atomic_write(folder / POINTS_DIR / name, json.dumps({"entries": entries}))
            if bar is not None:
                bar.update(len(done))
    finally:
        if bar is not None:
            bar.close()
    table = build_table(points, records, seed, names)
    if folder is not None:
        from unsim.engine.core import git_revision, versions

        _atomic_parquet(table, folder / TABLE_NAME)
        meta.update(
            status="complete",
            computed=len(todo),
            resumed=len(points) - len(todo),
            timings={"wall_seconds": time.perf_counter() - t0},
            versions=versions(),
            git_revision=git_revision(),
        )
        _atomic_write(folder / "metadata.json", json.dumps(meta, indent=2, default=str))
    return table


def choose_seed(base: Base, seed: int | None, resume_from: Path | None) -> int:
    if seed is not None:
        return int(seed)
    if base.scenario.simulation.seed is not None:
        return int(base.scenario.simulation.seed)
    if resume_from is not None:
        try:
            saved = json.loads((resume_from / "metadata.json").read_text(encoding="utf-8"))
            return int(saved["seed"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return new_master_seed()


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
    design = design or "grid"
    if not params:
        raise ValueError("nothing to sweep: params is empty")
    folder = Path(out) if out is not None else None
    seed = choose_seed(base, seed, folder if resume else None)
    points = design_points(params, design, samples, seed)
    meta = {
        "design": design,
        "samples": samples,
        "params": {k: [_plain(v) for v in vals] for k, vals in params.items()},
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


# --------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------
def axes_or_new(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(6, 4))
    return new


def outcome_label(outcome: str) -> str:
    """An outcome in words: its summary label ("plenary adopts"), else its name with spaces."""
    from unsim.engine.results import OUTCOMES

    for name, text, key in OUTCOMES:
        if outcome in (name, key, f"{name}_p"):
            return text
    if outcome.endswith("_yes_mean"):
        return f"{outcome[: -len('_yes_mean')].replace('_', ' ')}: mean yes votes"
    return outcome.replace("_", " ")


def short_name(path: str) -> str:
    """The last two parts of a dotted path: ``strategies[0].intensity``."""
    return ".".join(path.split(".")[-2:])


def param_label(col: str, names: Mapping[str, str] | None = None) -> str:
    """An axis label in words for a dotted path: from ``names`` (a table's ``attrs["labels"]``,
    made from the scenario: "charm offensive: intensity"), else from the path alone."""
    if names and col in names:
        return str(names[col])
    from unsim.studies.labels import label

    return label(col)


def plot_outcome(
    df: pd.DataFrame,
    param: str,
    outcome: str = "plenary_adopted",
    ax: Axes | None = None,
    by: str | None = None,
) -> Axes:
    """Probability of ``outcome`` against ``param``, with its 95 % interval as a band.

    Points that differ in other parameters are drawn as separate lines (grouped by ``by``, or by
    all the other parameters)."""
    ax = axes_or_new(ax)
    col = outcome_column(df, outcome)
    stem = col[:-2] if col.endswith("_p") else None
    names = df.attrs.get("labels")
    others = [by] if by else [c for c in param_columns(df) if c != param and df[c].nunique() > 1]
    groups: Iterable[tuple[Any, pd.DataFrame]] = (
        df.groupby(others, sort=True) if others else [((), df)]
    )
    for key, part in groups:
        part = part.sort_values(param)
        keys = key if isinstance(key, tuple) else (key,)
        label = (
            ", ".join(
                f"{param_label(o, names)}={k:g}"
                if _is_number(k)
                else f"{param_label(o, names)}={k}"
                for o, k in zip(others, keys, strict=True)
            )
            or None
        )
        (line,) = ax.plot(part[param], part[col], marker="o", ms=3, label=label)
        if stem is not None:
            ax.fill_between(
                part[param],
                part[f"{stem}_ci_low"],
                part[f"{stem}_ci_high"],
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
            )
    ax.set_xlabel(param_label(param, names))
    ax.set_ylabel(f"P({outcome_label(outcome)})" if stem else outcome_label(outcome))
    if stem is not None:
        ax.set_ylim(-0.02, 1.02)
    if others:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_heatmap(
    df: pd.DataFrame,
    x: str,
    y: str,
    outcome: str = "plenary_adopted",
    ax: Axes | None = None,
    annotate: bool = True,
    cmap: str = "viridis",
) -> Axes:
    """Probability of ``outcome`` over a grid of two parameters (the other parameters fixed)."""
    ax = axes_or_new(ax)
    col = outcome_column(df, outcome)
    varying = [c for c in param_columns(df) if c not in (x, y) and df[c].nunique() > 1]
    if varying:
        raise ValueError(f"other parameters vary ({', '.join(varying)}): select one slice first")
    grid = df.pivot_table(index=y, columns=x, values=col, aggfunc="mean").sort_index()
    grid = grid.sort_index(axis=1)
    is_p = col.endswith("_p")
    image = ax.imshow(
        grid.to_numpy(dtype=float),
        origin="lower",
        aspect="auto",
        cmap=cmap,
        vmin=0.0 if is_p else None,
        vmax=1.0 if is_p else None,
    )
    ax.figure.colorbar(
        image, ax=ax, label=f"P({outcome_label(outcome)})" if is_p else outcome_label(outcome)
    )

    def ticks(values: Sequence[Any]) -> list[str]:
        return [f"{v:g}" if _is_number(v) else str(v) for v in values]

    from unsim.results.plots import readable_text_color

    ax.set_xticks(range(grid.shape[1]), ticks(list(grid.columns)), rotation=45, ha="right")
    ax.set_yticks(range(grid.shape[0]), ticks(list(grid.index)))
    if annotate and grid.size <= 150:
        values = grid.to_numpy(dtype=float)
        for (i, j), v in np.ndenumerate(values):
            if not math.isnan(v):
                ax.text(
                    j,
                    i,
                    f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=readable_text_color(image.cmap(image.norm(v))),
                )
    names = df.attrs.get("labels")
    ax.set_xlabel(param_label(x, names))
    ax.set_ylabel(param_label(y, names))
    return ax
