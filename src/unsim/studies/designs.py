"""Sweep designs: a full grid over lists of values, or a Latin hypercube over ``(low, high)``
ranges. A design is a list of points, each a mapping ``{dotted.path: value}``, of at most
:data:`MAX_POINTS` points (checked before any is made: :func:`check_design_size`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from unsim.engine.rng import stream_key

__all__ = [
    "MAX_POINTS",
    "Design",
    "check_design_size",
    "design_points",
    "grid_points",
    "is_number",
    "lhs_points",
    "parse_range",
]

Design = Literal["grid", "lhs"]
#: Most points of a study's design: a grid's product of values, a Latin hypercube's samples,
#: Sobol's N x (parameters + 2), Morris's trajectories x (parameters + 1).
MAX_POINTS = 1_000_000


def check_design_size(points: int, what: str) -> None:
    """:class:`ValueError` saying the limit when a design of ``points`` points (``what`` says
    how they come about) is larger than :data:`MAX_POINTS`; checked before any point is made."""
    if points > MAX_POINTS:
        raise ValueError(
            f"{what} makes {points:,} points; a design has at most {MAX_POINTS:,} points "
            "(fewer values, samples or parameters)"
        )


def grid_points(params: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values (the first parameter varies slowest)."""
    names = list(params)
    for name in names:
        if isinstance(params[name], str | bytes) or not len(params[name]):
            raise ValueError(f"{name}: expected a non-empty list of values")
    sizes = [len(params[name]) for name in names]
    check_design_size(math.prod(sizes), f"the grid of {' x '.join(map(str, sizes))} values")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*params.values())]


def is_number(v: Any) -> bool:
    """True for a number (not a boolean)."""
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def parse_range(name: str, bounds: Sequence[Any]) -> tuple[float, float, bool]:
    """(low, high, integer) of a ``(low, high)`` range."""
    if len(bounds) != 2 or not all(is_number(b) for b in bounds):
        raise ValueError(f"{name}: expected a (low, high) range of numbers, got {list(bounds)!r}")
    low, high = bounds
    if high < low:
        raise ValueError(f"{name}: the range ({low}, {high}) is empty")
    integer = all(isinstance(b, int | np.integer) for b in bounds)
    return float(low), float(high), integer


def scale_unit(u: float, low: float, high: float, integer: bool) -> float | int:
    """Map ``u`` in [0, 1) onto ``[low, high]`` (onto its whole numbers when ``integer``)."""
    if integer:
        return int(min(high, math.floor(low + u * (high - low + 1))))
    return float(low + u * (high - low))


def lhs_points(
    params: Mapping[str, Sequence[Any]], samples: int, seed: int = 0
) -> list[dict[str, Any]]:
    """A Latin hypercube of ``samples`` points over ``(low, high)`` ranges
    (``scipy.stats.qmc.LatinHypercube``, drawn from the study's ``sweep_lhs`` stream).

    Each range is cut into ``samples`` equal strata and every stratum holds exactly one point (for
    whole-number ranges, one point per stratum before rounding down). The design is a function of
    ``seed`` alone, so a resumed sweep draws the same points."""
    if samples < 1:
        raise ValueError("samples must be at least 1")
    check_design_size(samples, f"a Latin hypercube of {samples:,} samples")
    ranges = {name: parse_range(name, b) for name, b in params.items()}
    if not ranges:
        return [{} for _ in range(samples)]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_key("sweep_lhs"),)))
    unit = _latin_hypercube(len(ranges), rng).random(samples)
    return [
        {name: scale_unit(float(u), *ranges[name]) for name, u in zip(ranges, row, strict=True)}
        for row in unit
    ]


def _latin_hypercube(d: int, rng: np.random.Generator) -> Any:
    """SciPy's Latin hypercube sampler in ``d`` dimensions drawing from ``rng`` (its keyword is
    ``rng`` from SciPy 1.15, ``seed`` before)."""
    from scipy.stats import qmc  # loaded by a Latin-hypercube sweep only

    try:
        return qmc.LatinHypercube(d, rng=rng)
    except TypeError:  # SciPy < 1.15
        return qmc.LatinHypercube(d, seed=rng)


def design_points(
    params: Mapping[str, Sequence[Any]],
    design: Design = "grid",
    samples: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The points of a grid or Latin-hypercube design."""
    if design == "grid":
        return grid_points(params)
    if design == "lhs":
        if samples is None:
            raise ValueError("a Latin hypercube needs samples")
        return lhs_points(params, samples, seed)
    raise ValueError(f"unknown design {design!r} (grid, lhs)")
