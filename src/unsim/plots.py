"""Plots of outcome distributions (placeholder module; the plotting functions land next)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save_standard_plots(results: Any, folder: Path) -> list[Path]:
    """Write the standard figures of a results folder; returns the files written."""
    return []
