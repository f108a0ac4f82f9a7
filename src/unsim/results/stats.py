"""Statistics over runs: proportions with confidence intervals, quantiles from histograms.

Each run is one independent history, so a probability is a proportion over runs and its interval
is a binomial one over runs (never over the agents of one run).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (good near 0 and 1)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = _z(level)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, min(p, centre - half))
    hi = 1.0 if successes == n else min(1.0, max(p, centre + half))
    return (lo, hi)


@lru_cache(maxsize=16)
def _z(level: float) -> float:
    """The normal quantile of a two-sided ``level`` interval (computed once per level; ``ndtri``
    is what ``scipy.stats.norm.ppf`` computes, without loading ``scipy.stats``)."""
    from scipy.special import ndtri

    return float(ndtri(0.5 + level / 2))


def proportion(successes: int, n: int, level: float = 0.95) -> dict[str, float]:
    """The share ``successes / n`` with its Wilson interval at ``level`` (NaN when n is 0)."""
    lo, hi = wilson_interval(successes, n, level)
    return {"p": successes / n if n else math.nan, "ci_low": lo, "ci_high": hi, "n": n}


def paired_difference(
    a: NDArray[np.bool_] | NDArray[np.number],
    b: NDArray[np.bool_] | NDArray[np.number],
    level: float = 0.95,
) -> dict[str, float]:
    """Difference of two proportions (or means) measured on the same runs (common random numbers).

    The interval is a normal one on the per-run differences (b - a), which is what pairing buys:
    its width reflects only the runs where the two scenarios disagree."""
    n = len(a)
    d = b.astype(np.float64) - a.astype(np.float64)
    mean = float(d.mean()) if n else math.nan
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    z = _z(level)
    half = z * sd / math.sqrt(n) if n > 1 else math.nan
    return {
        "p_a": float(a.mean()) if n else math.nan,
        "p_b": float(b.mean()) if n else math.nan,
        "diff": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "n": n,
    }


def hist_quantiles(hist: NDArray[np.int64], qs: tuple[float, ...]) -> list[float]:
    """Quantiles (lower, as integers) of a distribution given as counts per value 0..len-1."""
    total = int(hist.sum())
    if total == 0:
        return [math.nan for _ in qs]
    cdf = np.cumsum(hist)
    return [float(np.searchsorted(cdf, q * total, side="left")) for q in qs]
