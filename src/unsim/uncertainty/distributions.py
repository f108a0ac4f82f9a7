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

import math
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
        """The distribution as a frozen scipy.stats distribution."""
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
        """The value at quantile q (between 0 and 1)."""
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
    """A normal distribution, by its mean and standard deviation."""

    dist: Literal["normal"] = "normal"
    mean: Number = Field(..., description="its mean")
    sd: Spread = Field(..., description="its standard deviation (more than 0)")

    def frozen(self) -> Any:
        """The distribution as a frozen scipy.stats.norm."""
        from scipy.stats import norm

        return norm(loc=self.mean, scale=self.sd)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """The values at the uniforms ``u``: mean + sd times the standard normal quantile."""
        from scipy.special import ndtri

        return self.mean + self.sd * ndtri(u)  # type: ignore[no-any-return]

    def expectation(self) -> float:
        """Its mean."""
        return float(self.mean)

    def deviation(self) -> float:
        """Its standard deviation."""
        return float(self.sd)


class TruncNormal(_Distribution):
    """A normal distribution cut to [low, high], by the mean and sd of the normal it is cut from."""

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
        """The distribution as a frozen scipy.stats.truncnorm."""
        from scipy.stats import truncnorm

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return truncnorm(a, b, loc=self.mean, scale=self.sd)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """The normal's quantile function at the uniform placed between the bounds' mass
        (``scipy.special``: a run never loads ``scipy.stats``), taken on the side of the
        normal the bounds leave in a tail, mirrored where both are above the mean, so the
        mass between them keeps its precision; rounded into the bounds."""
        from scipy.special import ndtr, ndtri

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        u = np.asarray(u, dtype=np.float64)
        if a > 0:  # both bounds above the mean: the mirror image has both below it
            a, b, u = -b, -a, 1.0 - u
            sign = -1.0
        else:
            sign = 1.0
        pa, pb = ndtr(a), ndtr(b)
        z = np.clip(ndtri(pa + u * (pb - pa)), a, b)
        value = self.mean + sign * self.sd * z
        return np.clip(value, self.low, self.high)  # type: ignore[no-any-return]

    def _moments(self) -> tuple[float, float]:
        """Mean and sd from the normal's density and distribution function at the bounds
        (``scipy.special``; ``scipy.stats`` only where the kept mass is too small for them)."""
        from scipy.special import ndtr

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        mass = float(ndtr(b) - ndtr(a))
        if mass < 1e-6:
            frozen = self.frozen()
            return float(frozen.mean()), float(frozen.std())

        def density(z: float) -> float:
            """The standard normal density at z (0 at an infinite bound)."""
            return 0.0 if math.isinf(z) else math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

        da, db = density(a), density(b)
        za = 0.0 if math.isinf(a) else a * da
        zb = 0.0 if math.isinf(b) else b * db
        shift = (da - db) / mass
        variance = max(1.0 + (za - zb) / mass - shift * shift, 0.0)
        return self.mean + self.sd * shift, self.sd * math.sqrt(variance)

    def expectation(self) -> float:
        """The mean of the truncated distribution."""
        return self._moments()[0]

    def deviation(self) -> float:
        """The standard deviation of the truncated distribution."""
        return self._moments()[1]


class LogNormal(_Distribution):
    """A log-normal distribution, by its median and the standard deviation of its logarithm."""

    dist: Literal["lognormal"] = "lognormal"
    median: float = Field(..., gt=0, le=SCALE, description="its median (more than 0)")
    sigma: float = Field(..., gt=0, le=10, description="sd of its logarithm")

    def frozen(self) -> Any:
        """The distribution as a frozen scipy.stats.lognorm."""
        from scipy.stats import lognorm

        return lognorm(s=self.sigma, scale=self.median)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """The values at the uniforms ``u``: the median times exp(sigma times the normal
        quantile)."""
        from scipy.special import ndtri

        return self.median * np.exp(self.sigma * ndtri(u))  # type: ignore[no-any-return]

    def expectation(self) -> float:
        """Its mean: median times exp(sigma² / 2)."""
        return self.median * math.exp(0.5 * self.sigma**2)

    def deviation(self) -> float:
        """Its standard deviation: the mean times the square root of exp(sigma²) - 1."""
        return self.expectation() * math.sqrt(math.expm1(self.sigma**2))


class Beta(_Distribution):
    """A beta distribution with shapes a and b, stretched from [0, 1] to [low, high]."""

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
        """The distribution as a frozen scipy.stats.beta on [low, high]."""
        from scipy.stats import beta

        return beta(self.a, self.b, loc=self.low, scale=self.high - self.low)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """The values at the uniforms ``u`` (the beta quantile, stretched to [low, high])."""
        from scipy.special import betaincinv

        value = self.low + (self.high - self.low) * betaincinv(self.a, self.b, u)
        return np.clip(value, self.low, self.high)

    def expectation(self) -> float:
        """Its mean: low + (high - low) a / (a + b)."""
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)

    def deviation(self) -> float:
        """Its standard deviation, stretched to [low, high]."""
        n = self.a + self.b
        return (self.high - self.low) * math.sqrt(self.a * self.b / (n * n * (n + 1)))


class Uniform(_Distribution):
    """A uniform distribution on [low, high]."""

    dist: Literal["uniform"] = "uniform"
    low: Number = Field(..., description="lowest value")
    high: Number = Field(..., description="highest value")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def frozen(self) -> Any:
        """The distribution as a frozen scipy.stats.uniform."""
        from scipy.stats import uniform

        return uniform(loc=self.low, scale=self.high - self.low)

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """The values at the uniforms ``u``, stretched linearly to [low, high]."""
        return self.low + (self.high - self.low) * u

    def expectation(self) -> float:
        """Its mean, halfway between low and high."""
        return 0.5 * (self.low + self.high)

    def deviation(self) -> float:
        """Its standard deviation: (high - low) / sqrt(12)."""
        return (self.high - self.low) / math.sqrt(12.0)


#: The distributions by their ``dist`` name, in the order the documentation lists them.
DISTRIBUTIONS: dict[str, type[_Distribution]] = {
    "normal": Normal,
    "truncnorm": TruncNormal,
    "lognormal": LogNormal,
    "beta": Beta,
    "uniform": Uniform,
}

Distribution = Normal | TruncNormal | LogNormal | Beta | Uniform
