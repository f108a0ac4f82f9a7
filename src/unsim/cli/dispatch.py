"""Command line: ``python -m unsim SCENARIO.yaml`` and its subcommands.

    unsim SCENARIO.yaml [flags]        run a scenario (same as ``unsim run``)
    unsim validate FILE...             check scenario files
    unsim schema                       print the scenario JSON Schema
    unsim plot FOLDER                  redraw the figures of results, a sweep, a sensitivity
                                       analysis or a discovery
    unsim calibrate / backtest / sweep / sensitivity / discover: see ``unsim COMMAND --help``

Exit codes come from :class:`unsim.errors.ExitCode`; errors print without a traceback. One
handler in :func:`main` maps every error to its exit code; an unexpected one prints a line and
saves its traceback to a file (see :func:`save_traceback`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from unsim import __version__
from unsim.cli import collector
from unsim.cli.collector import start_up_done
from unsim.cli.commands import add_scenario_parsers
from unsim.cli.run import add_run_parser
from unsim.errors import ExitCode, UnsimError, one_line

if TYPE_CHECKING:
    pass

COMMANDS = (
    "run",
    "validate",
    "schema",
    "plot",
    "calibrate",
    "backtest",
    "sweep",
    "report",
    "explore",
    "sensitivity",
    "discover",
    "explain",
)


def build_parser() -> argparse.ArgumentParser:
    """The `unsim` command line and its commands."""
    parser = argparse.ArgumentParser(
        prog="unsim",
        description="Simulate UN votes and the diplomacy around them. "
        "`unsim SCENARIO.yaml` runs a scenario.",
    )
    parser.add_argument("--version", action="version", version=f"unsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_run_parser(sub)
    add_scenario_parsers(sub)
    _add_optional(sub)
    return parser


def _add_optional(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The subcommands that live in modules of their own."""
    from unsim.cli.calibrate import add_backtest_parser, add_calibrate_parser
    from unsim.cli.discover import add_discover_parser
    from unsim.cli.explain import add_explain_parser
    from unsim.cli.explore import add_explore_parser
    from unsim.cli.report import add_report_parser
    from unsim.cli.sensitivity import add_sensitivity_parser
    from unsim.cli.sweep import add_sweep_parser

    add_calibrate_parser(sub)
    add_backtest_parser(sub)
    add_sweep_parser(sub)
    add_report_parser(sub)
    add_explore_parser(sub)
    add_explain_parser(sub)
    add_sensitivity_parser(sub)
    add_discover_parser(sub)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that unfinished output is cleaned up on the way out
    (like KeyboardInterrupt, not an Exception: no ``except Exception`` swallows it)."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        """Turn SIGTERM into ``Terminated``."""
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def save_traceback(exc: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to a new file; return it (None if it
    cannot be written). The folder: ``$TMPDIR/unsim-tracebacks``."""
    text = "".join(traceback.format_exception(exc))
    header = f"unsim {__version__}, python {sys.version.split()[0]}\ncommand: {sys.argv!r}\n\n"
    try:
        folder = Path(tempfile.gettempdir()) / "unsim-tracebacks"
        folder.mkdir(mode=0o700, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        fd, name = tempfile.mkstemp(prefix=f"{stamp}-", suffix=".txt", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(header + text)
    except OSError:
        return None
    return Path(name)


def _run_handler(args: argparse.Namespace) -> int:
    """Run a command's handler and map every way it can end to a message and an exit code."""
    from concurrent.futures.process import BrokenProcessPool

    if not getattr(args, "says_start_up_done", False):  # the run command says when (collector)
        start_up_done()
    try:
        with _sigterm_raises():
            return int(args.handler(args))
    except UnsimError as err:
        print(str(err), file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("interrupted: no results were written", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Terminated:
        print("terminated (SIGTERM): no results were written", file=sys.stderr)
        return ExitCode.TERMINATED
    except BrokenProcessPool as exc:
        from unsim.engine.executors import pool_error

        print(str(pool_error(exc)), file=sys.stderr)
        return ExitCode.FAILURE
    except MemoryError:
        print(
            "out of memory: try fewer runs, fewer workers or a smaller block_size", file=sys.stderr
        )
        return ExitCode.SYSTEM
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or one_line(exc, 300)}", file=sys.stderr)
        return ExitCode.SYSTEM
    except Exception as exc:  # a bug: one line here, the traceback in a file
        saved = save_traceback(exc)
        where = f"the full traceback is in {saved}" if saved else "the traceback could not be saved"
        print(f"unsim: internal error: {one_line(exc, 300)}\n{where}", file=sys.stderr)
        return ExitCode.FAILURE


def main(argv: Sequence[str] | None = None, *, started: float | None = None) -> int:
    """Run the command ``argv`` (default: the process's arguments); its exit code.
    ``started``: when the command started, for the start-up its header counts (default now)."""
    started = time.perf_counter() if started is None else started
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "run")  # `unsim SCENARIO.yaml` means `unsim run SCENARIO.yaml`
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return ExitCode.INVALID_INPUT
    args.started = started
    return _run_handler(args)


def program(collector_paused: bool = False) -> int:
    """``unsim`` as a program (the ``unsim`` script, ``python -m unsim``): :func:`main`, then
    the objects of the process frozen (``gc.freeze``), so that the interpreter's last garbage
    collections, as the process ends, do not walk every object of the libraries the command
    loaded (numba, Mesa, pandas, matplotlib...): it ends sooner (README, Reproducibility and
    speed). Not for a caller that goes on after the command: they would never be collected.
    The cyclic collector is paused for the command's start-up (:mod:`unsim.cli.collector`;
    ``collector_paused``: it was paused before the command line was imported)."""
    import gc

    from unsim.cli import STARTED

    collector.pause(already=collector_paused)
    try:
        code = main(started=STARTED)  # the start-up counted from the command line's import
    finally:
        collector.start_up_done()  # a command that ended before its start-up was over
    gc.freeze()
    return code


if __name__ == "__main__":
    raise SystemExit(program())
