"""Argument types shared by the command-line parsers (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

from unsim.limits import DASK_TIMEOUT, MAX_RUNS, MAX_SEED


def max_workers() -> int:
    """Most local worker processes: four per CPU (at least 8); more only adds memory."""
    return max(8, 4 * (os.cpu_count() or 1))


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def integer_between(text: str, least: int, most: int | None = None) -> int:
    """The whole number in ``text``, from ``least`` up to ``most`` if any (else an error)."""
    if len(text) > 40:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {_short(text)!r}")
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    if most is not None and value > most:
        raise argparse.ArgumentTypeError(f"must be at most {most:,}, got {value:,}")
    return value


def whole_number(text: str) -> int:
    """A whole number, 0 or more (counts)."""
    return integer_between(text, 0)


def seed(text: str) -> int:
    """A master seed: a whole number from 0 to 2**64 - 1."""
    return integer_between(text, 0, MAX_SEED)


def positive(text: str) -> int:
    """A whole number, 1 or more."""
    return integer_between(text, 1)


def runs(text: str) -> int:
    """A number of runs: 1 to 100 million (as in a scenario's ``simulation.runs``)."""
    return integer_between(text, 1, MAX_RUNS)


def workers(text: str) -> int:
    """A number of local worker processes: 1 to :func:`max_workers`."""
    return integer_between(text, 1, max_workers())


def number_between(
    least: float, most: float, *, above: bool = False, below: bool = False
) -> Callable[[str], float]:
    """An argparse type: a finite number from ``least`` to ``most`` (more than ``least`` with
    ``above``, less than ``most`` with ``below``). NaN, infinities and numbers out of the range
    are refused with the range in the message."""
    low = f"more than {least:g}" if above else f"at least {least:g}"
    high = f"less than {most:g}" if below else f"at most {most:g}"

    def number(text: str) -> float:
        """The number in ``text``, checked against the range."""
        try:
            value = float(text) if len(text) <= 40 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"expected a finite number ({low} and {high}), got {_short(text)!r}"
            )
        if value < least or value > most or (above and value == least) or (below and value == most):
            raise argparse.ArgumentTypeError(f"must be {low} and {high}, got {_short(text)}")
        return value

    number.__name__ = "number"
    return number


def count_between(least: int, most: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``least`` to ``most``."""

    def count(text: str) -> int:
        """The whole number in ``text``, checked against the range."""
        return integer_between(text, least, most)

    count.__name__ = "count"
    return count


#: A time-out in seconds: more than 0 and at most an hour.
seconds = number_between(0, 3600, above=True)


def iso_date(text: str) -> dt.date:
    """An argparse type: a date YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def input_file(text: str) -> Path:
    """A path to read: refused at once when it names a folder, a FIFO, a socket or a device
    (reading one would fail late, block forever or never end). A missing file is left to the
    command, which says what it expected there."""
    path = Path(text)
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return path
    if stat.S_ISDIR(mode):
        raise argparse.ArgumentTypeError(f"{_short(text)!r} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise argparse.ArgumentTypeError(
            f"{_short(text)!r} is not a regular file (a device, FIFO or socket)"
        )
    return path


def add_parallel_arguments(parser: argparse.ArgumentParser, what: str, dask: bool = True) -> None:
    """``--workers`` (capped by :func:`max_workers`) and, with ``dask``, ``--dask ADDRESS`` and
    ``--dask-timeout SECONDS``: the same flags, bounds and defaults for every command that runs
    ``what`` in parallel."""
    parser.add_argument(
        "--workers",
        type=workers,
        default=1,
        help=f"local worker processes for {what} (up to 4 per CPU)",
    )
    if not dask:
        return
    parser.add_argument("--dask", metavar="ADDRESS", help=f"run {what} on a Dask scheduler")
    parser.add_argument(
        "--dask-timeout",
        type=seconds,
        default=DASK_TIMEOUT,
        metavar="SECONDS",
        help=f"give up connecting to the Dask scheduler after this long (default {DASK_TIMEOUT:g})",
    )
