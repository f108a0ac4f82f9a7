"""Numbers given as distributions: :class:`Uncertain` values, and how a distribution or a
``{lever: NAME}`` reference written in a scenario is checked against a field's bounds.

The problems found are pydantic error details of the type ``lever_distribution``, whose context
holds the problem, what is allowed and a suggestion (the scenario loader reads them), at the
key's location, so that they are reported with every other problem of the file.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from unsim.errors import did_you_mean
from unsim.uncertainty.distributions import DISTRIBUTIONS, Distribution

__all__ = [
    "ERROR",
    "Bounds",
    "Uncertain",
    "bounds_of",
    "distribution_from",
    "is_uncertain_input",
    "problem",
    "uncertain_value",
]

#: The pydantic error type of a problem with a distribution (the loader reads its context).
ERROR = "lever_distribution"


class Uncertain(float):
    """A number given as a distribution: as a ``float`` it is the distribution's mean;
    ``dist`` is the distribution and ``lever`` the levers-file entry it came from (or None)."""

    dist: Distribution
    lever: str | None

    def __new__(cls, dist: Distribution, lever: str | None = None) -> Uncertain:
        value = super().__new__(cls, dist.expectation())
        value.dist = dist
        value.lever = lever
        return value

    def __reduce__(self) -> tuple[Any, ...]:
        return (Uncertain, (self.dist, self.lever))

    def __repr__(self) -> str:
        ref = f"lever {self.lever!r}: " if self.lever else ""
        return f"Uncertain({ref}{self.dist.describe()})"

    def __eq__(self, other: object) -> bool:
        """Equal to the same distribution (and reference) only, never to a plain number."""
        return (
            isinstance(other, Uncertain) and self.dist == other.dist and self.lever == other.lever
        )

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((float(self), self.dist.describe(), self.lever))

    def as_written(self) -> dict[str, Any]:
        """As a scenario gives it: ``{lever: NAME}``, or the distribution's keys."""
        if self.lever is not None:
            return {"lever": self.lever}
        return self.dist.model_dump(exclude_none=True)


def is_uncertain_input(value: Any) -> bool:
    """Whether ``value`` is (or is written as) a distribution or a lever reference."""
    return isinstance(value, Uncertain) or (
        isinstance(value, Mapping) and ("dist" in value or "lever" in value)
    )


# --------------------------------------------------------------------------------------------
# Bounds and problems
# --------------------------------------------------------------------------------------------
class Bounds(typing.NamedTuple):
    """The limits a value must keep (greater or equal, greater, less or equal, less; None:
    no such limit)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def holds(self, lo: float, hi: float) -> bool:
        """Whether the whole range [lo, hi] keeps within the limits."""
        return not (
            (self.ge is not None and lo < self.ge)
            or (self.gt is not None and lo <= self.gt)
            or (self.le is not None and hi > self.le)
            or (self.lt is not None and hi >= self.lt)
        )

    def text(self) -> str:
        """``[0, 5]``, ``(0, 1)``, ``[-5, inf)``..."""
        lo = "(-inf" if self.ge is None and self.gt is None else None
        lo = lo or (f"[{self.ge:g}" if self.ge is not None else f"({self.gt:g}")
        hi = "inf)" if self.le is None and self.lt is None else None
        hi = hi or (f"{self.le:g}]" if self.le is not None else f"{self.lt:g})")
        return f"{lo}, {hi}"


def bounds_of(metadata: list[Any]) -> Bounds:
    """The numeric bounds in a field's metadata (``annotated_types`` constraints)."""
    found: dict[str, float] = {}
    for m in metadata:
        for key in Bounds._fields:
            v = getattr(m, key, None)
            if v is not None:
                found[key] = float(v)
    return Bounds(**found)


def problem(
    loc: tuple[Any, ...], value: Any, message: str, allowed: str = "", hint: str = ""
) -> InitErrorDetails:
    """A problem at ``loc`` (the loader reports ``message``, ``allowed`` and ``hint``)."""
    ctx = {"problem": message, "allowed": allowed, "suggestion": hint}
    return InitErrorDetails(type=PydanticCustomError(ERROR, "{problem}", ctx), loc=loc, input=value)


def _example(bounds: Bounds) -> str:
    lo = bounds.ge if bounds.ge is not None else bounds.gt
    hi = bounds.le if bounds.le is not None else bounds.lt
    if lo is None or hi is None:
        return "truncnorm with low and high inside the bounds"
    return f"{{dist: truncnorm, mean: ..., sd: ..., low: {lo:g}, high: {hi:g}}}"


def distribution_from(
    raw: Mapping[str, Any], loc: tuple[Any, ...], also: tuple[str, ...] = ()
) -> tuple[Distribution | None, list[InitErrorDetails]]:
    """``raw`` validated as a distribution, or the problems (locations below ``loc``); ``also``:
    further keys allowed where it is written (named when a key is unknown)."""
    names = list(DISTRIBUTIONS)
    kind = raw.get("dist")
    if kind is None:
        return None, [problem((*loc, "dist"), None, "required key is missing", ", ".join(names))]
    cls = DISTRIBUTIONS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        hint = did_you_mean(kind, names) or ""
        return None, [problem((*loc, "dist"), kind, "unknown distribution", ", ".join(names), hint)]
    try:
        return cls.model_validate(dict(raw)), []  # type: ignore[return-value]
    except ValidationError as err:
        out = []
        keys = sorted({*cls.model_fields, *also})
        for e in err.errors(include_url=False):
            where = (*loc, *e["loc"])
            if e["type"] == "extra_forbidden":
                key = str(e["loc"][-1])
                out.append(
                    problem(
                        where, None, "unknown key", ", ".join(keys), did_you_mean(key, keys) or ""
                    )
                )
            elif e["type"] == "missing":
                out.append(problem(where, None, "required key is missing"))
            else:
                msg = str(e["msg"]).removeprefix("Value error, ")
                out.append(problem(where, e.get("input"), msg[:1].lower() + msg[1:]))
        return None, out


def _resolve(
    raw: Mapping[str, Any], loc: tuple[Any, ...], context: Any
) -> tuple[Uncertain | None, list[InitErrorDetails]]:
    """``{lever: NAME}`` from the levers file in the validation context, or ``{dist: ...}``."""
    if "lever" not in raw:
        dist, problems = distribution_from(raw, loc)
        return (Uncertain(dist) if dist is not None else None), problems
    extra = sorted(set(raw) - {"lever"})
    if extra:
        return None, [
            problem(
                (*loc, extra[0]),
                None,
                "unknown key (a reference to a levers file holds `lever` alone)",
                "lever",
            )
        ]
    name = raw["lever"]
    levers = context.get("levers") if isinstance(context, Mapping) else None
    if levers is None:
        return None, [
            problem(
                (*loc, "lever"),
                name,
                "the scenario names no levers file to look this lever up in (add `levers: "
                "PATH` at the top level)",
            )
        ]
    entries = getattr(levers, "levers", {})
    if not isinstance(name, str) or name not in entries:
        hint = did_you_mean(name, list(entries)) or ""
        allowed = (
            ", ".join(sorted(entries))
            if len(entries) <= 12
            else f"any of the {len(entries)} levers of {getattr(levers, 'name', 'the levers file')}"
        )
        return None, [
            problem(
                (*loc, "lever"),
                name,
                f"no such lever in the levers file {getattr(levers, 'name', '')!s}".rstrip(),
                allowed,
                hint,
            )
        ]
    return Uncertain(entries[name].distribution, lever=name), []


def uncertain_value(
    value: Any, loc: tuple[Any, ...], bounds: Bounds, context: Any
) -> tuple[Uncertain | None, list[InitErrorDetails]]:
    """A distribution, a lever reference or an :class:`Uncertain` checked against a field's
    ``bounds`` (its draws must stay within them)."""
    found: Uncertain | None = value if isinstance(value, Uncertain) else None
    problems: list[InitErrorDetails] = []
    if found is None:
        found, problems = _resolve(value, loc, context)
    if found is None:
        return None, problems
    lo, hi = found.dist.reach()
    if not bounds.holds(lo, hi):
        what = f"the lever {found.lever!r}'s " if found.lever else "its "
        return None, [
            problem(
                loc,
                found.as_written(),
                f"a distribution whose draws leave the field's bounds {bounds.text()}: {what}"
                f"{found.dist.describe()} draws from {lo:.4g} to {hi:.4g}",
                f"a number in {bounds.text()}, or a distribution whose draws stay within it, "
                f"e.g. {_example(bounds)}",
            )
        ]
    return found, []
