"""The Monte Carlo engine: blocks of replicates, run locally or on a Dask cluster.

Runs are split into fixed-size blocks (``simulation.block_size``); block ``b`` always draws from
the streams of (master seed, ``b``), so the results do not depend on the number of workers or on
the order in which blocks finish. Blocks are reduced to aggregates as they arrive.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import multiprocessing as mp
import os
import pickle
import platform
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from unsim._version import __version__
from unsim._workers import worker_init
from unsim.engine.blocks import BlockResult, Task, block_task, iter_blocks
from unsim.engine.results import Results, build_per_state, build_summary, runs_frame
from unsim.engine.rng import new_master_seed
from unsim.engine.runtable import RunTableWriter
from unsim.errors import WorkerError
from unsim.scenario.schema import Scenario

_POOLS: dict[int, ProcessPoolExecutor] = {}

MAIN_GUARD_HINT = (
    "worker processes could not start: the script {script} runs unsim with several workers "
    "when it is imported, and each worker imports it again (Python's spawn start method). Put "
    'the code that runs unsim under `if __name__ == "__main__":`, or use workers=1'
)


def _in_worker_start_up() -> bool:
    """True while a spawned worker imports the parent's main script (before it takes tasks)."""
    return bool(getattr(mp.current_process(), "_inheriting", False))


def _local_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool kept alive across calls (sweeps run many scenarios).

    Its workers die with this process (see :func:`unsim._workers.worker_init`). A pool broken
    by a worker's death is replaced by a new one."""
    if _in_worker_start_up():
        # the parent's script, re-imported by a worker, asks for a pool of its own: end this
        # worker quietly; the parent sees the broken pool and explains (see pool_error)
        raise SystemExit(1)
    pool = _POOLS.get(workers)
    if pool is not None and getattr(pool, "_broken", False):
        pool.shutdown(wait=False, cancel_futures=True)
        pool = None
    if pool is None:
        # spawn: safe with threads in the parent; the context is local, nothing is set globally
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=mp.get_context("spawn"),
            initializer=worker_init,
            initargs=(os.getpid(), threading.current_thread() is threading.main_thread()),
        )
        _POOLS[workers] = pool
    return pool


def _script_without_main_guard() -> str | None:
    """The main script's path when it has no ``if __name__ == "__main__":`` guard, else None."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path:
        return None  # interactive: workers do not re-import it
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(1 << 20)
    except OSError:
        return None
    return None if "__main__" in text else str(path)


def pool_error(exc: BaseException) -> WorkerError:
    """A clear error for a local pool that broke (``BrokenProcessPool``)."""
    for workers, pool in list(_POOLS.items()):
        if getattr(pool, "_broken", False):
            pool.shutdown(wait=False, cancel_futures=True)
            del _POOLS[workers]
    script = _script_without_main_guard()
    if script is not None:
        return WorkerError(MAIN_GUARD_HINT.format(script=script))
    return WorkerError(
        "a worker process died while running (killed, or out of memory?); "
        "try fewer workers or fewer runs at once (simulation.block_size)"
    )


@atexit.register
def shutdown_pools() -> None:
    """Stop the local pools: queued tasks are cancelled, workers exit cleanly (also when a
    notebook's kernel shuts down)."""
    pools = list(_POOLS.values())
    _POOLS.clear()
    for pool in pools:
        with contextlib.suppress(Exception):  # a pool already broken: its workers are gone
            pool.shutdown(wait=True, cancel_futures=True)


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
    workers: int,
    executor: Any,
) -> tuple[Iterator[BlockResult], int]:
    """Results in block order (one per block when run in this process, one per task of
    consecutive blocks otherwise) and how many results there will be."""
    if executor is None and (workers <= 1 or len(sizes) <= 1):
        blocks = list(enumerate(sizes))
        return iter_blocks(scenario, seed, blocks, keep_runs), len(blocks)
    n_workers = workers if executor is None else _executor_workers(executor)
    token = uuid.uuid4().hex  # names this run for the workers (see blocks.block_task)
    payload = pickle.dumps(scenario)
    tasks: list[Task] = [
        (token, payload, seed, first, part, keep_runs)
        for first, part in plan_shards(sizes, n_workers)
    ]
    if executor is None:
        return _translated(_local_pool(workers).map(block_task, tasks)), len(tasks)
    if hasattr(executor, "map_blocks"):
        return executor.map_blocks(block_task, tasks), len(tasks)
    if isinstance(executor, Executor):
        return executor.map(block_task, tasks), len(tasks)
    raise TypeError("executor must be a concurrent.futures.Executor or a DaskExecutor")


def _translated(results: Iterator[BlockResult]) -> Iterator[BlockResult]:
    try:
        yield from results
    except BrokenProcessPool as exc:
        raise pool_error(exc) from None


def _executor_workers(executor: Any) -> int:
    """How many workers an executor has (for planning its tasks)."""
    count = getattr(executor, "worker_count", None)
    if callable(count):
        return max(1, int(count()))
    return max(1, int(getattr(executor, "_max_workers", 1) or 1))


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
) -> Results:
    """Run a scenario's Monte Carlo and return its results.

    Parameters
    ----------
    scenario: a loaded scenario (``unsim.load_scenario``).
    runs: number of runs (default: the scenario's ``simulation.runs``).
    seed: master seed (default: the scenario's, else a fresh one; always recorded).
    workers: local worker processes (results are identical for any number).
    executor: a ``DaskExecutor`` (or any ``concurrent.futures.Executor``) to run blocks on.
    keep_runs: keep the run table (one row per run); without it memory stays flat in ``runs``.
    progress: show a progress bar (True) or wrap the block iterator with a callable.
    run_table: write the run table to this Parquet file as the blocks arrive (Arrow record
        batches) instead of keeping it in memory; ``Results.runs`` is then None and
        ``Results.runs_file`` the file (``Results.run_table()`` reads it).
    """
    t0 = time.perf_counter()
    sim = scenario.simulation
    runs = int(runs if runs is not None else sim.runs)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    if seed is None:
        seed = sim.seed if sim.seed is not None else new_master_seed()
    sizes = plan_blocks(runs, sim.block_size)
    keep = keep_runs or run_table is not None
    results, n_results = _map(scenario, int(seed), sizes, keep, workers, executor)
    agg, chunks = _collect(_with_progress(results, n_results, progress), run_table)
    wall = time.perf_counter() - t0
    summary = build_summary(agg, scenario)
    summary["seed"] = int(seed)
    metadata = {
        "scenario": scenario.model_dump(mode="json"),
        "seed": int(seed),
        "runs": runs,
        "block_size": sim.block_size,
        "blocks": len(sizes),
        "workers": workers if executor is None else type(executor).__name__,
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


def _with_progress(
    results: Iterable[BlockResult],
    total: int,
    progress: bool | Callable[[Iterable[Any], int], Iterable[Any]],
) -> Iterable[BlockResult]:
    """The blocks' results, with a progress bar (``progress`` True) or wrapped by ``progress``."""
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(results, total=total, unit="task", leave=False)  # type: ignore[no-any-return]
    if callable(progress):
        return progress(results, total)
    return results


def _collect(
    stream: Iterable[BlockResult], run_table: str | Path | None
) -> tuple[BlockResult, list[dict[str, Any]]]:
    """Merge the blocks' aggregates as they arrive; their run tables are kept in memory, or
    written to ``run_table`` (removed again if the run fails)."""
    agg = BlockResult()
    chunks: list[dict[str, Any]] = []
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


def provenance() -> dict[str, Any]:
    """The versions of unsim and its libraries, and the git revision, recorded with results."""
    return {"versions": versions(), "git_revision": git_revision()}


def versions() -> dict[str, str]:
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
