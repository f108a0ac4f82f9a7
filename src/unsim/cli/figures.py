"""The run command's standard figures, drawn by a second process while this one runs the
attribution and the explanation.

Drawing the figures is matplotlib's Python, and so are most of the attribution's runs: in a
thread the two take turns on the interpreter (measured: no faster than one after the other).
After the main runs, on Linux, :class:`Figures` forks the command: the copy draws the figures
into the folder being built (the run table is streamed there already) from the results as they
are then (the figures show the main runs alone: nothing the attribution or the explanation
adds), writes nothing else and ends; the command goes on with the attribution and the
explanation, then waits for it before it saves the tables. The figures are those the command
would draw itself, pixel for pixel. If the copy fails in any way, or cannot be started (no
``fork``: Windows, macOS), the command draws the figures itself when it saves, as before, with
the same errors, and so it does if the copy has not finished ``FIGURES_ALONGSIDE_TIMEOUT``
seconds after the command is ready for them (it is then stopped: a copy can never hang the
command). On an error or an interruption before the copy is done (while the command
waits for it too), the copy is stopped before the folder being built is removed.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unsim.limits import FIGURES_ALONGSIDE_TIMEOUT

if TYPE_CHECKING:
    from unsim.cli.steps import Steps

__all__ = ["Figures", "can_fork"]


def can_fork() -> bool:
    """True where the figures can be drawn by a forked copy of the command (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class Figures:
    """The standard figures of one run command: drawn alongside (:meth:`start`) or when the
    results are saved (:meth:`writer`)."""

    def __init__(self, timeout: float = FIGURES_ALONGSIDE_TIMEOUT) -> None:
        self.pid: int | None = None
        self.drawn = False
        #: seconds :meth:`writer` waits for the copy before it stops it and draws the figures
        self.timeout = timeout

    def start(self, results: Any, folder: Path, steps: Steps) -> bool:
        """Fork a copy of the command that draws the figures of ``results`` into ``folder``;
        True if it was started."""
        if not can_fork() or self.pid is not None:
            return False
        from unsim.results.runtable import tally_runs  # read here: no Arrow in the copy

        runs = tally_runs(results)
        with warnings.catch_warnings():  # Python 3.12+: "fork() of a multi-threaded process"
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the copy: draws, and ends without running anything of the command's
            _draw_and_exit(results, folder, runs)
        self.pid = pid
        steps.say("drawing the figures (alongside)")
        return True

    def cancel(self) -> None:
        """Stop the copy (an error or an interruption: the folder it writes in is removed)."""
        if self.pid is not None:
            pid, self.pid = self.pid, None
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)

    def writer(self, results: Any, steps: Steps) -> Callable[[Path], None] | None:
        """For ``Results.save(also=...)``: wait for the copy (step "figures"); None if it drew
        the figures, else what draws them in this process."""
        if self.pid is not None:
            with steps.step("figures"):
                code = _wait(self.pid, self.timeout)  # interrupted: still there for cancel
            if code is None:  # still drawing (stuck?): stopped, and drawn here
                self.cancel()
            self.pid = None
            self.drawn = code == 0
        if self.drawn:
            return None
        return figure_writer(results, steps)


def figure_writer(results: Any, steps: Steps) -> Callable[[Path], None]:
    """What draws the standard figures into a results folder being written, as the step
    "figures" (for ``Results.save(also=...)``: the figures are written with the tables, in one
    atomic folder, but drawn by the command, not by the results)."""

    def draw(folder: Path) -> None:
        """The figures, into ``folder``."""
        with steps.step("figures", "drawing the figures"):
            from unsim.results.plots import save_standard_plots  # matplotlib: a figure's

            save_standard_plots(results, folder)

    return draw


def _draw_and_exit(results: Any, folder: Path, runs: Any) -> None:
    """The forked copy: draw the figures, exit 0 if they are all written, 1 otherwise."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the command says what happened
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        gc.freeze()  # the command's objects: never walked by the copy's collections (nor copied)
        from unsim.results.plots import save_standard_plots

        save_standard_plots(results, folder, runs=runs)
        code = 0
    except BaseException:
        pass
    finally:
        os._exit(code)  # no exit handlers, no buffers of the command's flushed twice


def _wait(pid: int, timeout: float) -> int | None:
    """Wait at most ``timeout`` seconds for the copy: its exit code as :func:`_reap` gives it,
    or None if it is still running then."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return -1
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _reap(pid: int) -> int:
    """Wait for the copy; its exit code (negative: the signal that ended it; -1 if there is no
    such process)."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status)
