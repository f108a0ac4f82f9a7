"""The executor interface (unsim.engine.executors): same seed, same results on every executor;
results in task order; and the package's import rule (no private names across modules)."""

from __future__ import annotations

import ast
import multiprocessing as mp
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from unsim.engine import run
from unsim.engine.executors import (
    FuturesExecutor,
    LocalExecutor,
    TaskExecutor,
    choose_executor,
    in_order,
)
from unsim.scenario import load_scenario
from unsim.studies.evaluator import Evaluator

from .conftest import DEFAULT_SCENARIO, slow_selected

CHARM = "actors.target.strategies[0].intensity"
CREDIBILITY = "actors.sponsors.bargaining.accept_offer_min_credibility"
PARAMS = {CHARM: [0.0, 0.2], CREDIBILITY: [0.4, 0.8]}
SRC = Path(__file__).resolve().parents[1] / "src" / "unsim"


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    """The sweep on one local worker (in this process)."""
    return Evaluator(DEFAULT_SCENARIO, runs=60, seed=7).sweep(PARAMS)


def test_explicit_local_executors_give_the_same_table(reference: pd.DataFrame) -> None:
    for workers in (1, 2):
        table = Evaluator(DEFAULT_SCENARIO, runs=60, seed=7, executor=LocalExecutor(workers)).sweep(
            PARAMS
        )
        pd.testing.assert_frame_equal(table, reference)


def test_a_thread_pool_gives_the_same_table(reference: pd.DataFrame) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        table = Evaluator(DEFAULT_SCENARIO, runs=60, seed=7, executor=pool).sweep(PARAMS)
    pd.testing.assert_frame_equal(table, reference)


@pytest.mark.slow
def test_a_process_pool_gives_the_same_table(request: pytest.FixtureRequest) -> None:
    if not slow_selected(request.config):
        pytest.skip("a new process pool (spawn) runs with -m slow")
    reference = request.getfixturevalue("reference")
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as pool:
        table = Evaluator(DEFAULT_SCENARIO, runs=60, seed=7, executor=pool).sweep(PARAMS)
    pd.testing.assert_frame_equal(table, reference)


def test_a_dask_client_passed_as_it_is_gives_the_same_table(reference: pd.DataFrame) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        table = Evaluator(DEFAULT_SCENARIO, runs=60, seed=7, executor=client).sweep(PARAMS)
    pd.testing.assert_frame_equal(table, reference)


def test_one_point_spreads_its_blocks_over_a_thread_pool() -> None:
    """A single point runs its blocks on the executor (through the engine's dispatch)."""
    one = {CHARM: [0.1]}
    serial = Evaluator(DEFAULT_SCENARIO, runs=300, seed=3).sweep(one)
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = Evaluator(DEFAULT_SCENARIO, runs=300, seed=3, executor=pool).sweep(one)
    pd.testing.assert_frame_equal(threaded, serial)


def test_the_main_run_gives_the_same_results_on_a_thread_pool() -> None:
    scenario = load_scenario(DEFAULT_SCENARIO, overrides={"simulation.block_size": 100})
    serial = run(scenario, runs=400, seed=11)
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = run(scenario, runs=400, seed=11, executor=pool)
    assert serial.runs is not None and threaded.runs is not None
    pd.testing.assert_frame_equal(threaded.runs, serial.runs)
    pd.testing.assert_frame_equal(threaded.per_state, serial.per_state)
    assert threaded.metadata["workers"] == "ThreadPoolExecutor"


# -- the interface ----------------------------------------------------------------------------
def test_choose_executor_is_explicit() -> None:
    local = choose_executor(3)
    assert isinstance(local, LocalExecutor) and local.workers == 3 and not local.inline
    assert choose_executor(1).inline
    with ThreadPoolExecutor(max_workers=3) as pool:
        wrapped = choose_executor(executor=pool)
        assert isinstance(wrapped, FuturesExecutor) and wrapped.workers == 3
        assert choose_executor(executor=wrapped) is wrapped
    assert isinstance(LocalExecutor(2), TaskExecutor)
    with pytest.raises(TypeError, match=r"executor must be .* got str"):
        choose_executor(executor="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="workers must be at least 1"):
        LocalExecutor(0)


def _sleep_then(x: int) -> int:
    time.sleep(0.02 * (5 - x))  # the first tasks finish last
    return x * x


def test_results_come_in_task_order_with_a_bounded_window() -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()

    with ThreadPoolExecutor(max_workers=4) as pool:

        def submit(x: int) -> Future[int]:
            nonlocal in_flight, most
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            fut = pool.submit(_sleep_then, x)

            def done(_: Future[int]) -> None:
                nonlocal in_flight
                with lock:
                    in_flight -= 1

            fut.add_done_callback(done)
            return fut

        assert list(in_order(submit, range(5), window=3)) == [0, 1, 4, 9, 16]
    assert most <= 3


def test_tasks_left_pending_are_cancelled_when_the_caller_stops() -> None:
    class Pending:
        def __init__(self, x: int) -> None:
            self.x = x
            self.cancelled = False

        def result(self) -> int:
            if self.x == 1:
                raise RuntimeError("task 1 failed")
            return self.x

        def cancel(self) -> bool:
            self.cancelled = True
            return True

    made: list[Pending] = []

    def submit(x: int) -> Pending:
        made.append(Pending(x))
        return made[-1]

    results: Iterator[Any] = in_order(submit, range(10), window=4)
    assert next(results) == 0
    with pytest.raises(RuntimeError, match="task 1 failed"):
        next(results)
    assert len(made) == 5  # never more than the window ahead
    assert [p.cancelled for p in made] == [False, False, True, True, True]


# -- the import rule ----------------------------------------------------------------------------
def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(text: str, package: str) -> list[str]:
    """``from unsim... import _name``, and imports of a private module (``unsim._version``)
    from outside its package, in the source of a module of ``package``."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            modules, names = [a.name for a in node.names], []
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] != "unsim":
                continue
            if any(_private(p) for p in parts) and ".".join(parts[:-1]) != package:
                found.append(f"line {node.lineno}: {module}")
            found += [f"line {node.lineno}: {module}.{n}" for n in names if _private(n)]
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 40
    problems = []
    for path in files:
        package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
        problems += [f"{path}: {p}" for p in private_imports(path.read_text("utf-8"), package)]
    assert problems == []


def test_the_import_rule_finds_what_it_forbids() -> None:
    code = (
        "from unsim.engine.executors import _POOLS, local_pool\n"
        "from unsim._version import __version__\n"
        "import unsim.engine.executors\n"
        "from unsim.engine.dask import DaskExecutor\n"
    )
    found = private_imports(code, "unsim.studies")
    assert found == ["line 1: unsim.engine.executors._POOLS", "line 2: unsim._version"]
    assert private_imports("from unsim._version import __version__\n", "unsim") == []
