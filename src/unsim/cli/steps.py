"""What a command is doing, told as it goes: each long step announced on stderr when it starts
and timed, a progress bar of the runs on a terminal, and the numba compilation of the kernels
announced when it starts and timed apart.

On a terminal a step is one line and, when it counts runs, a bar (tqdm) that goes away when the
step ends; when stderr is not a terminal (a log file, a pipe) it is one line a step and no bar;
with ``--quiet`` nothing (warnings are still printed: they say why a result may be wrong).
The times go into the header of the run's summary (``Steps.seconds``): a step's time leaves
out the steps inside it and the compilation of the kernels, which is reported on its own.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = [
    "COMPILING",
    "Steps",
    "ready_kernels",
    "step_seconds",
    "summary_timings",
    "warn_scenarios",
]

#: What a first run says when numba starts compiling the model's kernels.
COMPILING = (
    "compiling the model's kernels with numba: the first run on this machine (or of this "
    "version) takes 10 to 30 s more, once; later runs load them from the cache"
)

class Steps:
    """The steps of one command: announced on ``stream`` (stderr) and timed.

    ``seconds``: each step's time by key, in the order the steps ran, without the time of the
    steps inside it or of compiling kernels (``compiled``, the seconds numba spent compiling,
    in any step)."""

    def __init__(
        self, quiet: bool = False, stream: TextIO | None = None, started: float | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.tty = not quiet and _is_terminal(self.stream)
        self.started = started if started is not None else time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.compiled = 0.0
        self._excluded = [0.0]  # per open step: time of the steps inside it
        self._lock = threading.Lock()
        self._compiling = 0  # depth of nested compilations
        self._compile_start = 0.0
        self._announced_compile = False
        self._bars: list[_RunBar] = []

    def say(self, text: str) -> None:
        """One line on the stream (not with ``quiet``)."""
        if not self.quiet:
            print(f"unsim: {text}", file=self.stream, flush=True)

    def warn(self, text: str) -> None:
        """A warning: printed even with ``quiet``."""
        print(f"warning: {text}", file=self.stream, flush=True)

    def mark(self, key: str) -> None:
        """Record the time since the command started as step ``key`` (the start-up: reading
        the input and loading the libraries, before the first announced step)."""
        self.seconds[key] = time.perf_counter() - self.started

    @contextmanager
    def step(self, key: str, text: str | None = None) -> Iterator[None]:
        """Announce ``text`` (if given) and time the block as step ``key``."""
        if text:
            self.say(text)
        t0 = time.perf_counter()
        compiled0 = self.compiled
        self._excluded.append(0.0)
        try:
            yield
        finally:
            for bar in self._bars:  # a bar left open by an error
                bar.close()
            self._bars.clear()
            inner = self._excluded.pop()
            elapsed = time.perf_counter() - t0
            own = elapsed - inner - (self.compiled - compiled0)
            self.seconds[key] = self.seconds.get(key, 0.0) + max(own, 0.0)
            self._excluded[-1] += elapsed - (self.compiled - compiled0)

    def total(self) -> float:
        """Seconds since the command started."""
        return time.perf_counter() - self.started

    def counter(self, total: int) -> Callable[[Iterable[Any], int], Iterator[Any]]:
        """A ``progress`` for :func:`unsim.engine.run` (or several runs, sharing one bar of
        ``total`` runs): on a terminal a bar that counts the runs each result holds."""
        bar = _RunBar(total, self.stream) if self.tty else None
        if bar is not None:
            self._bars.append(bar)

        def progress(results: Iterable[Any], count: int) -> Iterator[Any]:
            """Pass the results on, counting their runs on the bar."""
            for res in results:
                if bar is not None:
                    bar.update(int(getattr(res, "n", 0)))
                yield res
            if bar is not None and bar.done >= total:
                bar.close()

        return progress

    @contextmanager
    def watching_compiles(self) -> Iterator[None]:
        """Announce numba compiling a kernel when it starts, and time it (``compiled``)."""
        from numba.core import event

        listener = _compile_listener(self)
        event.register("numba:compile", listener)
        try:
            yield
        finally:
            event.unregister("numba:compile", listener)

    def _compile_started(self) -> None:
        with self._lock:
            self._compiling += 1
            if self._compiling > 1:
                return
            self._compile_start = time.perf_counter()
            first = not self._announced_compile
            self._announced_compile = True
        if first:
            self.say(COMPILING)

    def _compile_ended(self) -> None:
        with self._lock:
            self._compiling -= 1
            if self._compiling == 0:
                self.compiled += time.perf_counter() - self._compile_start


def ready_kernels(scenario: Any, inline: bool, steps: Steps) -> None:
    """Make the model's kernels ready before the runs, as step ``kernels`` (a compilation is
    announced when numba starts it): in this process when the runs run here (``inline``), so
    that loading them is not counted as runs; before local workers or a cluster start only when
    they are not compiled yet, so that they are compiled once, here, with a message, instead of
    silently in every worker at once."""
    from unsim.engine.warmup import kernels_cached, warm_up

    if not inline and kernels_cached() is True:
        return  # each worker loads them from the cache
    with steps.step("kernels"):
        warm_up(scenario)


def step_seconds(steps: Steps) -> dict[str, float]:
    """The steps' times as a run's metadata records them (``<step>_seconds``)."""
    out = {f"{key}_seconds": value for key, value in steps.seconds.items()}
    out["compile_seconds"] = steps.compiled
    return out


def summary_timings(steps: Steps) -> dict[str, float]:
    """The steps' times for the header of the summary (``unsim.results.text``): each step's,
    ``compiling`` (numba, in whichever step) and ``total``."""
    return {**steps.seconds, "compiling": steps.compiled, "total": steps.total()}


def warn_scenarios(steps: Steps, scenarios: Iterable[tuple[Any, Any]]) -> None:
    """Print the warnings of each ``(path, scenario)`` (a scenario may be None)."""
    from unsim.scenario.advice import scenario_warnings

    for path, scenario in scenarios:
        if scenario is not None:
            for text in scenario_warnings(scenario):
                steps.warn(f"{path}: {text}")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _RunBar:
    """A tqdm bar of runs, closed once."""

    def __init__(self, total: int, stream: TextIO) -> None:
        from tqdm import tqdm

        self.bar: Any = tqdm(total=total, unit="run", unit_scale=True, leave=False, file=stream)
        self.done = 0
        self.closed = False

    def update(self, n: int) -> None:
        """Count ``n`` more runs done."""
        self.done += n
        self.bar.update(n)

    def close(self) -> None:
        """Close the bar (once)."""
        if not self.closed:
            self.closed = True
            self.bar.close()


def _compile_listener(steps: Steps) -> Any:
    """A numba event listener for ``numba:compile`` (the start and the end of compiling one
    function; nested ones are counted once by ``Steps``); numba is loaded here, when a command
    runs the model."""
    from numba.core.event import Listener

    class CompileListener(Listener):  # type: ignore[misc]
        """Tells ``steps`` when numba starts and ends compiling a function."""

        def on_start(self, event: Any) -> None:
            """Numba starts compiling a function."""
            steps._compile_started()

        def on_end(self, event: Any) -> None:
            """Numba has compiled a function."""
            steps._compile_ended()

    return CompileListener()
