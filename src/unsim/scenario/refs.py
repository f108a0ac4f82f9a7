"""Validated references to member states (ISO3 codes) and blocs inside scenario files.

A reference is checked against the world the scenario uses, which the loader passes to pydantic as
validation context (``{"world": World}``). Without a world (e.g. validating a world file alone, or
building a model in code from parts), only the shape is checked.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from unsim.errors import did_you_mean


def _world(info: ValidationInfo) -> Any:
    ctx = info.context
    return ctx.get("world") if isinstance(ctx, dict) else None


def _unknown(kind: str, value: str, choices: list[str]) -> PydanticCustomError:
    hint = did_you_mean(value, choices)
    allowed = ", ".join(choices) if len(choices) <= 12 else f"any of the world's {len(choices)}"
    return PydanticCustomError(
        "unknown_reference",
        "unknown {kind}",
        {"kind": kind, "allowed": allowed, "suggestion": hint or ""},
    )


def check_state(value: str, info: ValidationInfo) -> str:
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
    raise _unknown("state or bloc", value, sorted(world.blocs) + sorted(world.codes))


StateRef = Annotated[str, AfterValidator(check_state)]
ActorRef = Annotated[str, AfterValidator(check_actor)]
