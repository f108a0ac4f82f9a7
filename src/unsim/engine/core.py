"""The Monte Carlo engine: blocks of replicates, run locally or on a Dask cluster.

Runs are split into fixed-size blocks (``simulation.block_size``); block ``b`` always draws from
the streams of (master seed, ``b``), so the results do not depend on the number of workers or on
the order in which blocks finish. Blocks are reduced to aggregates as they arrive.
"""

from __future__ import annotations

import math
import pickle
import platform
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unsim import __version__
from unsim.council.tabling import tabling_summary
from unsim.engine.assumptions import data_only as strip_assumptions
from unsim.engine.blocks import Task, block_task, iter_blocks
from unsim.engine.executors import TaskExecutor, choose_executor
from unsim.engine.rng import new_master_seed
from unsim.results.aggregates import BlockResult
from unsim.results.runtable import RunTableWriter
from unsim.results.tables import Results, build_per_state, build_summary, runs_frame
from unsim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd


def plan_blocks(runs: int, block_size: int) -> list[int]:
    """Sizes of the blocks that make up ``runs`` (all ``block_size`` but maybe the last)."""
    n = math.ceil(runs / block_size)
    return [min(block_size, runs - b * block_size) for b in range(n)]


def plan_shards(sizes: list[int], workers: int, per_task: int = 4) -> list[tuple[int, list[int]]]:
    """Consecutive blocks grouped into tasks, ``(first block, sizes)``: at most ``per_task``
    blocks a task (each task builds its model once and reuses it for its blocks), and at least
    eight tasks a worker when there are enough blocks (so that no worker idles at the end while
    another finishes a long task)."""
    per = max(1, min(per_task, len(sizes) // (8 * max(workers, 1))))
    return [(first, sizes[first : first + per]) for first in range(0, len(sizes), per)]


def _map(
    scenario: Scenario,
    seed: int,
    sizes: list[int],
    keep_runs: bool,
    executor: TaskExecutor,
) -> tuple[Iterator[BlockResult], int]:
    """Results in block order (one per block when run in this process, one per task of
    consecutive blocks otherwise) and how many results there will be."""
    if executor.inline or len(sizes) <= 1:
        blocks = list(enumerate(sizes))
        return iter_blocks(scenario, seed, blocks, keep_runs), len(blocks)
    token = uuid.uuid4().hex  # names this run for the workers (see blocks.block_task)
    payload = pickle.dumps(scenario)
    tasks: list[Task] = [
        (token, payload, seed, first, part, keep_runs)
        for first, part in plan_shards(sizes, executor.workers)
    ]
    return executor.map(block_task, tasks), len(tasks)


def _with_progress(
    results: Iterator[BlockResult],
    n_results: int,
    runs: int,
    progress: bool | Callable[[Iterable[Any], int], Iterable[Any]],
) -> Iterable[BlockResult]:
    """The results with a progress bar of the runs done (True) or wrapped by the caller's
    callable (given the results and how many there will be)."""
    if progress is True:
        return counted_runs(results, runs)
    if callable(progress):
        return progress(results, n_results)
    return results


def counted_runs(results: Iterable[BlockResult], total: int) -> Iterator[BlockResult]:
    """The results, with a progress bar that counts the runs they hold (a result holds a block
    or a task of several blocks, of different sizes: counting results would not be runs)."""
    from tqdm.auto import tqdm

    with tqdm(total=total, unit="run", unit_scale=True, leave=False) as bar:
        for res in results:
            bar.update(res.n)
            yield res


def _reduce(
    stream: Iterable[BlockResult], run_table: str | Path | None
) -> tuple[BlockResult, list[Any]]:
    """Merge the results as they arrive; their run tables are kept in order (``chunks``) or,
    with ``run_table``, appended to that file."""
    agg = BlockResult()
    chunks = []
    writer = RunTableWriter(run_table) if run_table is not None else None
    try:
        for res in stream:
            if res.runs is not None:
                if writer is not None:
                    writer.write(res.runs)
                else:
                    chunks.append(res.runs)
                res.runs = None
            agg.merge(res)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    return agg, chunks


def run(
    scenario: Scenario,
    runs: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    *,
    executor: Any = None,
    keep_runs: bool = True,
    progress: bool | Callable[[Iterable[Any], int], Iterable[Any]] = False,
    run_table: str | Path | None = None,
    data_only: bool = False,
) -> Results:
    """Run a scenario's Monte Carlo and return its results.

    Parameters
    ----------
    scenario: a loaded scenario (``unsim.load_scenario``).
    runs: number of runs (default: the scenario's ``simulation.runs``).
    seed: master seed (default: the scenario's, else a fresh one; always recorded).
    workers: local worker processes (results are identical for any number).
    executor: where blocks run instead of local processes: a ``DaskExecutor``, a
        ``concurrent.futures.Executor`` or any :class:`unsim.engine.executors.TaskExecutor`.
    keep_runs: keep the run table (one row per run); without it memory stays flat in ``runs``.
    progress: show a progress bar of the runs done (True), or wrap the iterator of results
        (``BlockResult``, each holding ``n`` runs) with a callable ``progress(results, count)``.
    run_table: write the run table to this Parquet file as the blocks arrive (Arrow record
        batches) instead of keeping it in memory; ``Results.runs`` is then None and
        ``Results.runs_file`` the file (``Results.run_table()`` reads it).
    data_only: run the scenario with every assumption it states removed
        (``unsim.engine.assumptions.data_only``: the attribution's last variant), the forecast
        of the calibration alone; ``Results.scenario`` is that variant.
    """
    t0 = time.perf_counter()
    if data_only:
        scenario = strip_assumptions(scenario)
    sim = scenario.simulation
    runs, seed = _runs_and_seed(scenario, runs, seed)
    sizes = plan_blocks(runs, sim.block_size)
    keep_runs = keep_runs or run_table is not None
    chosen = choose_executor(workers, executor)
    results, n_results = _map(scenario, int(seed), sizes, keep_runs, chosen)
    agg, chunks = _reduce(_with_progress(results, n_results, runs, progress), run_table)
    wall = time.perf_counter() - t0
    summary = build_summary(agg, scenario)
    summary["seed"] = int(seed)
    metadata = {
        **_run_metadata(scenario, int(seed), sizes, workers if executor is None else executor),
        "data_only": bool(data_only),
        "timings": {"wall_seconds": wall, "block_seconds": agg.seconds},
        **provenance(),
    }
    return Results(
        scenario=scenario,
        seed=int(seed),
        summary=summary,
        per_state=build_per_state(agg, scenario),
        runs=runs_frame(chunks, scenario) if chunks else None,
        metadata=metadata,
        runs_file=Path(run_table) if run_table is not None else None,
    )


def run_table(
    scenario: Scenario,
    runs: int,
    seed: int,
    workers: int = 1,
    *,
    executor: Any = None,
    progress: bool | Callable[[Iterable[Any], int], Iterable[Any]] = False,
) -> pd.DataFrame:
    """The run table of ``run(scenario, runs, seed, ...)`` alone, the same rows, without the
    summary, the per-state table and the metadata that ``run`` builds around it: what the
    attribution compares, variant after variant."""
    sizes = plan_blocks(int(runs), scenario.simulation.block_size)
    results, n_results = _map(scenario, int(seed), sizes, True, choose_executor(workers, executor))
    _, chunks = _reduce(_with_progress(results, n_results, int(runs), progress), None)
    return runs_frame(chunks, scenario)


def _run_metadata(scenario: Scenario, seed: int, sizes: list[int], where: Any) -> dict[str, Any]:
    """What a run's metadata says of the run: the resolved scenario, seed, runs and blocks,
    where they ran (a number of local workers, or the executor's type) and, under the Council's
    rule ``table_referral: record``, the tabling chance the runs drew theirs from and the
    record's fit for its signal (``unsim.council.tabling``)."""
    council = scenario.procedure.council
    if council.table_referral == "record":
        opposed = bool(council.tabling.opposed_by)
        return {
            **_plain_metadata(scenario, seed, sizes, where),
            "council_tabling": tabling_summary(council.tabling.chance, opposed, scenario.date),
        }
    return _plain_metadata(scenario, seed, sizes, where)


def _plain_metadata(scenario: Scenario, seed: int, sizes: list[int], where: Any) -> dict[str, Any]:
    return {
        "scenario": scenario.model_dump(mode="json"),
        "seed": seed,
        "runs": sum(sizes),
        "block_size": scenario.simulation.block_size,
        "blocks": len(sizes),
        "workers": where if isinstance(where, int) else type(where).__name__,
    }


def _runs_and_seed(scenario: Scenario, runs: int | None, seed: int | None) -> tuple[int, int]:
    """The number of runs and the master seed: as given, else the scenario's, else a new seed."""
    sim = scenario.simulation
    runs = int(runs if runs is not None else sim.runs)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    if seed is None:
        seed = sim.seed if sim.seed is not None else new_master_seed()
    return runs, int(seed)


def provenance() -> dict[str, Any]:
    """The versions of unsim and its libraries, and the git revision, recorded with results."""
    return {"versions": versions(), "git_revision": git_revision()}


def versions() -> dict[str, str]:
    """The versions of Python, unsim and the libraries a run depends on (for the metadata)."""
    import mesa
    import numpy
    import pandas
    import pydantic

    return {
        "unsim": __version__,
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "pydantic": pydantic.__version__,
    }


def git_revision() -> str | None:
    """The revision of the source tree unsim runs from, when it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rev = out.stdout.strip()
    return rev or None
