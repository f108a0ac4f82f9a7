"""The distributions a scenario may give instead of a number, in the lever's natural units.

    {dist: normal, mean, sd}                      {dist: lognormal, median, sigma}
    {dist: truncnorm, mean, sd, low, high}        {dist: beta, a, b}  (optional low, high)
    {dist: uniform, low, high}

each with an optional ``source`` (its evidence) and an optional ``shared`` name: the
distributions of a scenario that share a name are drawn from one uniform per run, so their
quantiles move together (``uniform(0, 2)`` and ``uniform(0, 4)`` shared keep a ratio of 1 to 2
in every run: a structure the evidence gives, with a size it does not). ``mean`` and ``sd`` of
a truncated normal are those of the normal it is cut from; a beta lies on [0, 1], or on [low,
high] when they are given.

A run draws a value by the inverse of the distribution function (``ppf``) of one uniform of its
own stream (of the shared name's stream when it has one). The uniforms lie on the grid
``(k + 1/2) / 2**32`` (:func:`grid_uniforms`: 32 random bits, finer than the float32 in which
the model uses the value), so no draw is ever at an infinite tail: a distribution's *reach*, the
smallest and the largest value any run can draw, is ``ppf`` of the grid's first and last points
(a normal reaches 6.3 sd either side of its mean, a lognormal 6.3 sigma). A field's bounds must
hold the reach: that is what "the distribution stays within the field's bounds" means, exactly
(a normal or a lognormal whose reach leaves them is refused; a truncated normal, a beta or a
uniform stays where it is told).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from unsim.fields import Strict

__all__ = [
    "DISTRIBUTIONS",
    "U_MAX",
    "U_MIN",
    "Beta",
    "Distribution",
    "LogNormal",
    "Normal",
    "TruncNormal",
    "Uniform",
    "grid_uniforms",
]

#: The grid of the draws' uniforms: (k + 1/2) / 2**32, k = 0 .. 2**32 - 1.
GRID = 2.0**32
U_MIN = 0.5 / GRID
U_MAX = 1.0 - U_MIN

#: Parameters of a distribution stay within this (a mean, a bound, a median).
SCALE = 1e6

Number = Annotated[float, Field(ge=-SCALE, le=SCALE)]
Spread = Annotated[float, Field(gt=0, le=SCALE)]


def grid_uniforms(generator: np.random.Generator, size: int) -> NDArray[np.float64]:
    """``size`` uniforms on the grid (k + 1/2) / 2**32, strictly inside (0, 1)."""
    k = generator.integers(0, 2**32, size=size, dtype=np.uint64)
    return (k.astype(np.float64) + 0.5) / GRID  # type: ignore[no-any-return]


def _fmt(x: float) -> str:
    return f"{x:.4g}"


class _Distribution(Strict):
    """What every distribution has: its evidence, its draws and its moments."""

    dist: str
    source: str | None = Field(
        None, max_length=2000, description="the evidence for this distribution (kept with it)"
    )
    shared: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="a name: the scenario's distributions sharing it are drawn from one "
        "uniform per run (their quantiles move together)",
    )

    def frozen(self) -> Any:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:  # pragma: no cover
        """The values at the uniforms ``u`` (the inverse of the distribution function)."""
        raise NotImplementedError

    def reach(self) -> tuple[float, float]:
        """The smallest and largest value a run can draw (``ppf`` of the grid's ends)."""
        lo, hi = self.ppf(np.array([U_MIN, U_MAX]))
        return float(lo), float(hi)

    def expectation(self) -> float:
        """Its mean (for a truncated normal, the mean of the truncated distribution)."""
        return float(self.frozen().mean())

    def deviation(self) -> float:
        """Its standard deviation."""
        return float(self.frozen().std())

    def quantile(self, q: float) -> float:
        return float(self.ppf(np.array([q]))[0])

    def parameters(self) -> dict[str, float]:
        """Its parameters as written (without ``dist``, ``source`` and ``shared``)."""
        dumped = self.model_dump(exclude={"dist", "source", "shared"})
        return {k: float(v) for k, v in dumped.items()}

    def describe(self) -> str:
        """In short: ``truncnorm(mean 0.25, sd 0.15, low 0, high 5)`` (and ``; drawn with
        NAME`` for a shared one)."""
        args = ", ".join(f"{k} {_fmt(v)}" for k, v in self.parameters().items())
        shared = f"; drawn with {self.shared}" if self.shared else ""
        return f"{self.dist}({args}){shared}"

    def spread(self) -> str:
        """Its mean, sd and central 90 %: ``mean 0.27, sd 0.14, 90 % in [0.05, 0.52]``."""
        return (
            f"mean {_fmt(self.expectation())}, sd {_fmt(self.deviation())}, 90 % in "
            f"[{_fmt(self.quantile(0.05))}, {_fmt(self.quantile(0.95))}]"
        )


class Normal(_Distribution):
    dist: Literal["normal"] = "normal"
    mean: Number = Field(..., description="its mean")
    sd: Spread = Field(..., description="its standard deviation (more than 0)")

    def frozen(self) -> Any:
        from scipy.stats import norm

        return norm(loc=self.mean, scale=self.sd)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        from scipy.special import ndtri

        return self.mean + self.sd * ndtri(u)  # type: ignore[no-any-return]


class TruncNormal(_Distribution):
    dist: Literal["truncnorm"] = "truncnorm"
    mean: Number = Field(..., description="mean of the normal it is cut from")
    sd: Spread = Field(..., description="sd of the normal it is cut from")
    low: Number = Field(..., description="lowest value")
    high: Number = Field(..., description="highest value")

    @model_validator(mode="after")
    def _ordered(self) -> TruncNormal:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def frozen(self) -> Any:
        from scipy.stats import truncnorm

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return truncnorm(a, b, loc=self.mean, scale=self.sd)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        from scipy.stats import truncnorm

        # the distribution's own ppf (robust in the tails), unfrozen: freezing costs more than
        # the draws; its value can round a hair beyond a bound
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        value = truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)
        return np.clip(value, self.low, self.high)


class LogNormal(_Distribution):
    dist: Literal["lognormal"] = "lognormal"
    median: float = Field(..., gt=0, le=SCALE, description="its median (more than 0)")
    sigma: float = Field(..., gt=0, le=10, description="sd of its logarithm")

    def frozen(self) -> Any:
        from scipy.stats import lognorm

        return lognorm(s=self.sigma, scale=self.median)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        from scipy.special import ndtri

        return self.median * np.exp(self.sigma * ndtri(u))  # type: ignore[no-any-return]


class Beta(_Distribution):
    dist: Literal["beta"] = "beta"
    a: float = Field(..., gt=0, le=SCALE, description="first shape parameter")
    b: float = Field(..., gt=0, le=SCALE, description="second shape parameter")
    low: Number = Field(0.0, description="the value of 0 (default 0)")
    high: Number = Field(1.0, description="the value of 1 (default 1)")

    @model_validator(mode="after")
    def _ordered(self) -> Beta:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def frozen(self) -> Any:
        from scipy.stats import beta

        return beta(self.a, self.b, loc=self.low, scale=self.high - self.low)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        from scipy.special import betaincinv

        value = self.low + (self.high - self.low) * betaincinv(self.a, self.b, u)
        return np.clip(value, self.low, self.high)


class Uniform(_Distribution):
    dist: Literal["uniform"] = "uniform"
    low: Number = Field(..., description="lowest value")
    high: Number = Field(..., description="highest value")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def frozen(self) -> Any:
        from scipy.stats import uniform

        return uniform(loc=self.low, scale=self.high - self.low)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.low + (self.high - self.low) * u


#: The distributions by their ``dist`` name, in the order the documentation lists them.
DISTRIBUTIONS: dict[str, type[_Distribution]] = {
    "normal": Normal,
    "truncnorm": TruncNormal,
    "lognormal": LogNormal,
    "beta": Beta,
    "uniform": Uniform,
}

Distribution = Normal | TruncNormal | LogNormal | Beta | Uniform
