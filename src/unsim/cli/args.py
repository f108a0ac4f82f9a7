"""Argument types shared by the command-line parsers (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import stat
from pathlib import Path

#: Most runs of one scenario (the scenario schema's ``simulation.runs`` bound).
MAX_RUNS = 100_000_000
#: Largest master seed (64 bits).
MAX_SEED = 2**64 - 1
#: Seconds to wait for a Dask scheduler before giving up (``--dask-timeout``).
DASK_TIMEOUT = 5.0


def max_workers() -> int:
    """Most local worker processes: four per CPU (at least 8); more only adds memory."""
    return max(8, 4 * (os.cpu_count() or 1))


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def integer_between(text: str, least: int, most: int | None = None) -> int:
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


def seconds(text: str) -> float:
    """A time-out in seconds, more than 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {_short(text)!r}") from None
    if not math.isfinite(value) or not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600, got {text!r}")
    return value


def iso_date(text: str) -> dt.date:
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
