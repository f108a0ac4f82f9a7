"""Runs many command lines through ``unsim.cli.main`` in one process (for the bad-input corpus).

    python tests/corpus_driver.py CASES.json RESULTS.json SECONDS

CASES.json is a list of argument lists. Each is run in turn with its output captured and a time
limit (SIGALRM); RESULTS.json gets, per case: exit code (or "hang"), stdout, stderr, seconds, an
exception that escaped ``main`` (with its traceback), and the process's peak resident memory.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import signal
import sys
import time
import traceback
from types import FrameType
from typing import Any


class Hang(BaseException):
    """The case's time ran out."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang()


def peak_rss_mb() -> float:
    """This process's own peak resident memory, in MB: ``VmHWM`` on Linux (its ``ru_maxrss``
    also holds the peak of the parent it was forked from, which an exec keeps), else
    ``ru_maxrss``."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_cases(cases: list[list[str]], limit: float) -> list[dict[str, Any]]:
    from unsim.cli import main

    signal.signal(signal.SIGALRM, _alarm)
    results = []
    for argv in cases:
        out, err = io.StringIO(), io.StringIO()
        code: int | str | None = None
        escaped = None
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:  # argparse's usage errors
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Hang:
            code = "hang"
        except BaseException:  # anything main let through is a failure of the CLI
            escaped = traceback.format_exc()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        results.append(
            {
                "argv": argv,
                "code": code,
                "stdout": out.getvalue()[-4000:],
                "stderr": err.getvalue()[-4000:],
                "seconds": time.perf_counter() - t0,
                "escaped": escaped,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    return results


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        todo = json.load(f)
    done = run_cases(todo, float(sys.argv[3]))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(done, f)
