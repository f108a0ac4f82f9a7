"""Errors and exit codes shared by the library and the command line.

Library code raises these exceptions; only :mod:`unsim.cli` turns them into exit codes.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes of ``python -m unsim``."""

    OK = 0
    #: an unexpected error (its traceback is saved to a file, see :mod:`unsim.cli`)
    FAILURE = 1
    #: bad input: a scenario, a flag, an input file, an output folder that would lose files
    INVALID_INPUT = 2
    #: the system refused: a folder that cannot be written, a full disk, out of memory
    SYSTEM = 3
    #: the Dask scheduler cannot be reached or the cluster failed
    CLUSTER = 4
    #: stopped by Ctrl-C (SIGINT)
    INTERRUPTED = 130
    #: stopped by SIGTERM
    TERMINATED = 143


def did_you_mean(value: object, choices: Iterable[str], n: int = 1) -> str | None:
    """Return the closest valid choice to ``value``, or None when nothing is close."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    text = str(value)
    pool = list(choices)
    if not text or len(text) > 200:
        return None
    prefixed = [c for c in pool if c.lower().startswith(text.lower())]
    if len(prefixed) == 1:
        return prefixed[0]
    hits = difflib.get_close_matches(text, pool, n=n, cutoff=0.6)
    if not hits:
        lower = {c.lower(): c for c in pool}
        hits = difflib.get_close_matches(text.lower(), list(lower), n=n, cutoff=0.6)
        hits = [lower[h] for h in hits]
    return hits[0] if hits else None


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlong = 40
for _attr in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset", "maxdeque"):
    setattr(_REPR, _attr, 4)


def _short(value: Any, limit: int = 60) -> str:
    """A short rendering of a value given in a file: never renders more than a few items of it
    (a value built from aliases can stand for gigabytes if rendered whole)."""
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(exc: BaseException, limit: int = 200, *, with_type: bool = True) -> str:
    """An exception in one short line: the first line of its message, cut to ``limit``
    characters, its type's name in front (``with_type``); without the type an ``OSError`` reads
    as its ``strerror`` when it has one, and an empty message as the type's name."""
    if not with_type and isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        message = str(exc).strip()
        first = message.splitlines()[0] if message else ""
        name = type(exc).__name__
        text = (f"{name}: {first}" if first else name) if with_type else (first or name)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One problem found in a scenario, world or calibration file."""

    path: str
    message: str
    value: Any = None
    has_value: bool = False
    allowed: str | None = None
    suggestion: str | None = None
    #: what to do about it, said last (how to make a missing file, declare a new name...)
    hint: str | None = None

    def render(self) -> str:
        """The problem in one line: key path, message, value got, what is allowed, did-you-mean,
        hint."""
        parts = [f"{self.path or '(top level)'}: {self.message}"]
        if self.has_value:
            parts.append(f"got {_short(self.value)}")
        if self.allowed:
            parts.append(f"allowed: {self.allowed}")
        text = "; ".join(parts)
        if self.suggestion:
            text += f"; did you mean {self.suggestion!r}?"
        if self.hint:
            text += f"; {self.hint}"
        return text


class UnsimError(Exception):
    """Base class of errors that the command line reports without a traceback."""

    exit_code: ExitCode = ExitCode.FAILURE


#: Most problems a message lists (the count says how many more there are).
MAX_SHOWN = 50


class ScenarioError(UnsimError):
    """A scenario (or a file it references) is invalid; carries every problem found."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """The source and its problems, one a line (at most ``MAX_SHOWN``, then how many more)."""
        n = len(self.problems)
        source = (
            self.source if len(self.source) <= 160 else f"{self.source[:80]}...{self.source[-77:]}"
        )
        head = f"{source}: {n} problem{'s' if n != 1 else ''}"
        lines = [head, *(f"- {p.render()}" for p in self.problems[:MAX_SHOWN])]
        if n > MAX_SHOWN:
            lines.append(f"- ... and {n - MAX_SHOWN} more")
        return "\n".join(lines)


class InputError(UnsimError):
    """A malformed input file other than a scenario (an actual-vote file, a results folder)."""

    exit_code = ExitCode.INVALID_INPUT


class OutputError(UnsimError):
    """An output path cannot be written without losing a user's files, or cannot be written."""

    exit_code = ExitCode.INVALID_INPUT


class DataNotFoundError(UnsimError):
    """The real UN data files are not where they were expected."""

    exit_code = ExitCode.INVALID_INPUT


class SystemFailure(UnsimError):
    """The operating system refused an operation (a folder not writable, a full disk...)."""

    exit_code = ExitCode.SYSTEM


class ClusterError(UnsimError):
    """The Dask scheduler cannot be reached, or the cluster failed while running."""

    exit_code = ExitCode.CLUSTER


class WorkerError(UnsimError):
    """A local worker process could not start or died while running."""

    exit_code = ExitCode.FAILURE
