"""Where tasks run: one small interface for the main run and for studies.

An executor maps a picklable function over tasks and yields the results **in the order of the
tasks**, whatever order they finish in, so that what is built from them does not depend on the
executor or on its number of workers. It is chosen explicitly (:func:`choose_executor`):

* :class:`LocalExecutor`: worker processes of this machine (a pool kept alive across calls,
  whose workers end with this process, see :mod:`unsim.worker_start`); one worker runs in this
  process;
* :class:`FuturesExecutor`: a ``concurrent.futures.Executor`` the caller made (threads or
  processes);
* :class:`unsim.engine.dask.DaskExecutor`: a Dask cluster.

At most ``window`` tasks are in flight at a time; the tasks left when the caller stops reading
(an error, Ctrl-C) are cancelled.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import multiprocessing as mp
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar, runtime_checkable

from unsim.errors import WorkerError
from unsim.worker_start import worker_init

__all__ = [
    "FuturesExecutor",
    "LocalExecutor",
    "TaskExecutor",
    "choose_executor",
    "in_order",
    "local_pool",
    "pool_error",
    "shutdown_pools",
]

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class TaskExecutor(Protocol):
    """What the engine and the studies need of an executor."""

    #: True when :meth:`map` runs the tasks one after another in this process (callers may then
    #: keep state between tasks, e.g. reuse one model).
    inline: bool

    @property
    def workers(self) -> int:
        """How many tasks run at once (for cutting work into tasks)."""
        ...

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn(item)`` of every item, in the order of ``items``."""
        ...

    def close(self) -> None:
        """Release what this executor owns (not what the caller passed in)."""
        ...


class Submitted(Protocol):
    """A task sent to an executor whose result comes later (a future)."""

    def result(self) -> Any:
        """The task's return value, once it is done."""
        ...

    def cancel(self) -> Any:
        """Cancel the task if it has not run yet."""
        ...


def in_order(
    submit: Callable[[Any], Submitted], items: Iterable[Any], window: int
) -> Iterator[Any]:
    """The results of ``submit(item)`` for every item, in order, ``window`` tasks in flight; the
    tasks still pending when the caller stops are cancelled."""
    pending: collections.deque[Submitted] = collections.deque()
    it = iter(items)
    try:
        for item in it:
            pending.append(submit(item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()


# -- local worker processes -------------------------------------------------------------------
_POOLS: dict[int, ProcessPoolExecutor] = {}

MAIN_GUARD_HINT = (
    "worker processes could not start: the script {script} runs unsim with several workers "
    "when it is imported, and each worker imports it again (Python's spawn start method). Put "
    'the code that runs unsim under `if __name__ == "__main__":`, or use workers=1'
)
STDIN_HINT = (
    "worker processes cannot start: the program was read from standard input ({source}, as "
    "`python - < FILE` does), which each worker would have to import again (Python's spawn "
    "start method). Run it as a file (`python FILE`), with the code that runs unsim under "
    '`if __name__ == "__main__":`, or use workers=1'
)


def in_worker_start_up() -> bool:
    """True while a spawned worker imports the parent's main script (before it takes tasks)."""
    return bool(getattr(mp.current_process(), "_inheriting", False))


def local_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool kept alive across calls (sweeps run many scenarios).

    Its workers die with this process (see :func:`unsim.worker_start.worker_init`). A pool
    broken by a worker's death is replaced by a new one."""
    if in_worker_start_up():
        # the parent's script, re-imported by a worker, asks for a pool of its own: end this
        # worker quietly; the parent sees the broken pool and explains (see pool_error)
        raise SystemExit(1)
    source = getattr(sys.modules.get("__main__"), "__file__", None)
    if isinstance(source, str) and source.startswith("<"):  # '<stdin>': no file to import
        raise WorkerError(STDIN_HINT.format(source=source))
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


def script_without_main_guard() -> str | None:
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
    script = script_without_main_guard()
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


class LocalExecutor:
    """``workers`` local processes (the shared pool of that size); one worker: this process."""

    def __init__(self, workers: int = 1, window: int | None = None) -> None:
        if int(workers) < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._workers = int(workers)
        self.window = window or 4 * max(self._workers, 2)
        self.inline = self._workers == 1

    @property
    def workers(self) -> int:
        """How many tasks run at once."""
        return self._workers

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over ``items``, the results in the order of the items."""
        if self.inline:
            for item in items:
                yield fn(item)
            return
        pool = local_pool(self._workers)
        try:
            yield from in_order(lambda item: pool.submit(fn, item), items, self.window)
        except BrokenProcessPool as exc:
            raise pool_error(exc) from None

    def close(self) -> None:
        """Nothing to do: the pool is shared and kept for the next call (stopped at exit)."""


class FuturesExecutor:
    """A ``concurrent.futures.Executor`` of the caller's (left open on :meth:`close`)."""

    def __init__(self, executor: Executor, workers: int | None = None) -> None:
        self.executor = executor
        found = workers or getattr(executor, "_max_workers", None) or 1
        self._workers = max(1, int(found))
        self.window = 4 * max(self._workers, 2)
        self.inline = False

    @property
    def workers(self) -> int:
        """How many tasks run at once."""
        return self._workers

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over ``items``, the results in the order of the items."""
        try:
            yield from in_order(lambda item: self.executor.submit(fn, item), items, self.window)
        except BrokenProcessPool as exc:
            raise WorkerError(f"a worker process of the executor died ({exc})") from None

    def close(self) -> None:
        """Nothing to do: the executor is the caller's."""


def choose_executor(workers: int = 1, executor: Any = None) -> TaskExecutor:
    """The executor to run on: ``executor`` if given (a :class:`TaskExecutor` such as a
    ``DaskExecutor``, a ``concurrent.futures.Executor`` or a ``distributed.Client``), else
    ``workers`` local processes."""
    if executor is None:
        return LocalExecutor(workers)
    if isinstance(executor, TaskExecutor):
        return executor
    if isinstance(executor, Executor):
        return FuturesExecutor(executor)
    distributed = sys.modules.get("distributed")  # a Client implies distributed is imported
    if distributed is not None and isinstance(executor, distributed.Client):
        from unsim.engine.dask import DaskExecutor

        return DaskExecutor(executor)
    raise TypeError(
        "executor must be a DaskExecutor, a distributed.Client, a concurrent.futures.Executor "
        f"or an object with inline, workers, map and close; got {type(executor).__name__}"
    )
