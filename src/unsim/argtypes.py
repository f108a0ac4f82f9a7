"""Argument types shared by the command-line parsers (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse
import datetime as dt


def _integer(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def whole_number(text: str) -> int:
    """A whole number, 0 or more (seeds, counts)."""
    return _integer(text, 0)


def positive(text: str) -> int:
    """A whole number, 1 or more (runs, workers)."""
    return _integer(text, 1)


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None
