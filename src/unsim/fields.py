"""Building blocks shared by the scenario format and the strategy plug-ins: the strict base of every
model read from a scenario file, and validated references to member states and blocs.

This module depends on neither the scenario schema nor the strategies, so both import it: a
strategy's parameters are checked exactly like the rest of a scenario.

A reference is checked against the world the scenario uses, which the loader passes to pydantic as
validation context (``{"world": World}``). Without a world (e.g. validating a world file alone, or
building a model in code from parts), only the shape is checked.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from unsim.errors import did_you_mean

__all__ = [
    "LATENT",
    "MAX_ROUND",
    "MAX_STATES",
    "ActorRef",
    "StateRef",
    "Strict",
    "check_actor",
    "check_state",
    "known_blocs",
]

#: Bounds of values on the latent support scale (shifts, biases, positions): far beyond any
#: meaningful value (a shift of 50 already decides every vote; tests use 200 to make a vote
#: certain), small enough to stay finite in float32 arithmetic.
LATENT = 1000.0
#: Longest list of states or blocs (sponsors, members...), and most states in a world.
MAX_STATES = 1000
#: Largest round number a schedule or the bargaining may name.
MAX_ROUND = 1000


class Strict(BaseModel):
    """A part of a scenario file: unknown keys are errors, values are frozen, and NaN and +-inf
    are refused (a NaN cost of the ICC language silently turned every comparison false). A
    mapping of ``states`` keyed by ISO3 codes names each state once, whatever the case (with
    ``JPN`` and ``jpn`` both given, the last would silently win)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _each_state_once(cls, data: Any) -> Any:
        states = data.get("states") if isinstance(data, dict) else None
        if isinstance(states, dict):
            seen: dict[str, str] = {}
            for key in states:
                code = key.strip().upper() if isinstance(key, str) else None
                if code is not None and code in seen:
                    raise PydanticCustomError(
                        "state_twice",
                        "'{first}' and '{again}' name the same state (ISO3 codes are read in "
                        "upper case); give {code} once",
                        {"first": seen[code], "again": key, "code": code},
                    )
                if code is not None:
                    seen[code] = key
        return data


def _world(info: ValidationInfo) -> Any:
    ctx = info.context
    return ctx.get("world") if isinstance(ctx, dict) else None


def _unknown(
    kind: str, value: str, choices: list[str], allowed: str | None = None, hint: str = ""
) -> PydanticCustomError:
    suggestion = did_you_mean(value, choices)
    if allowed is None:
        allowed = ", ".join(choices) if len(choices) <= 12 else f"any of the world's {len(choices)}"
    return PydanticCustomError(
        "unknown_reference",
        "unknown {kind}",
        {"kind": kind, "allowed": allowed, "suggestion": suggestion or "", "hint": hint},
    )


#: How a scenario declares a bloc the world file does not have.
NEW_BLOC = (
    "a new bloc is declared in the world file (the scenario's `world:`) under `blocs:`, as "
    "NAME: {name: ..., members: [ISO3, ...]} (README, Scenario format)"
)


def known_blocs(world: Any) -> str:
    """The blocs of ``world`` in words, for a message: "AU, EU, ... (world 'un_2014')"."""
    names = sorted(world.blocs)
    listed = ", ".join(names) if names else "none"
    return f"{listed} (world {world.name!r})"


def _unknown_actor(value: str, world: Any) -> PydanticCustomError:
    """An unknown state or bloc: the world's blocs listed (its states counted), how to declare
    a new bloc, and a "did you mean" only for a close name (up to four letters, a mistyped code,
    among the states' codes and the blocs; a longer name among the blocs alone, so that
    "ASEAN" does not suggest "SEN")."""
    blocs = sorted(world.blocs)
    choices = blocs + sorted(world.codes) if len(value) <= 4 else blocs
    allowed = (
        f"an ISO3 code of the world's {len(world.codes)} states, or one of its blocs: "
        + known_blocs(world)
    )
    return _unknown("state or bloc", value, choices, allowed, NEW_BLOC)


def check_state(value: str, info: ValidationInfo) -> str:
    """A state's ISO3 code, trimmed and upper-cased, checked against the world (if any) else in
    form."""
    value = value.strip().upper()
    world = _world(info)
    if world is None:
        if len(value) != 3 or not value.isalpha():
            raise PydanticCustomError("iso3", "expected an ISO 3166-1 alpha-3 code such as 'PRK'")
        return value
    codes = world.codes
    if value not in codes:
        raise _unknown("ISO3 code", value, sorted(codes))
    return value


def check_actor(value: str, info: ValidationInfo) -> str:
    """A member state (ISO3) or a bloc name of the world."""
    world = _world(info)
    if world is None:
        return value
    if value in world.blocs:
        return value
    if value.upper() in world.codes:
        return value.upper()
    raise _unknown_actor(value, world)


StateRef = Annotated[str, AfterValidator(check_state)]
ActorRef = Annotated[str, AfterValidator(check_actor)]
