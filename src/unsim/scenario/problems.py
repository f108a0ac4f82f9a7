"""Pydantic's validation errors turned into problems a person can act on: each with its key path,
the value given, what is allowed and a "did you mean"."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from unsim.errors import Problem, did_you_mean
from unsim.strategies.registry import is_strategy_entry, registered, unregistered_subclass

__all__ = ["problems_from_validation"]


# --------------------------------------------------------------------------------------------
def _unwrap(tp: Any) -> list[Any]:
    """Candidate model/container types behind an annotation."""
    if is_strategy_entry(tp):  # the registered strategy types
        return list(registered().values())
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for a in typing.get_args(tp):
            out += _unwrap(a)
        return out
    return [tp]


def _model_at(model: type[BaseModel], loc: Iterable[Any]) -> type[BaseModel] | None:
    """The pydantic model class found by following ``loc`` from ``model``."""
    current: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            origin = typing.get_origin(tp)
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                if isinstance(part, str) and part in tp.model_fields:
                    nxt += _unwrap(tp.model_fields[part].annotation)
            elif origin in (list, tuple) and isinstance(part, int):
                nxt += _unwrap(typing.get_args(tp)[0])
            elif origin is dict:
                nxt += _unwrap(typing.get_args(tp)[1])
        # a discriminated union puts the tag in the location: pick that member
        if isinstance(part, str) and not nxt:
            tagged = [
                tp
                for tp in current
                if isinstance(tp, type)
                and issubclass(tp, BaseModel)
                and getattr(tp.model_fields.get("type"), "default", None) == part
            ]
            nxt = tagged
        if not nxt:
            return None
        current = nxt
    models = [tp for tp in current if isinstance(tp, type) and issubclass(tp, BaseModel)]
    return models[0] if len(models) == 1 else None


#: Names pydantic gives the members of a union, and its validator marks, in an error's location.
_UNION_MEMBERS = frozenset(
    {"str", "int", "float", "bool", "none", "World", "Calibration", "SharedAllies"}
)
_VALIDATOR_MARK = re.compile(r"^[a-z-]+\[.*\]$")


def _display_loc(loc: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """Dotted path for people, and the location without union tags for schema lookup."""
    tags = registered()
    text = ""
    clean: list[Any] = []
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]" or part in _UNION_MEMBERS or _VALIDATOR_MARK.match(part):
            continue  # a mapping's key, or pydantic's name of a union member: not keys of the file
        elif part in tags and clean and isinstance(clean[-1], int):
            pass  # a discriminator tag: kept for schema look-up, not a key of the file
        else:
            text += f".{part}" if text else str(part)
        clean.append(part)
    return text, clean


_QUOTED = re.compile(r"'([^']*)'")


def _unknown_type(path: str, ctx: dict[str, Any], value: Any) -> Problem:
    """An unknown strategy type: the registered ones, and a hint if a class defines the type
    but was not registered."""
    tag = ctx.get("tag", value)
    choices = _QUOTED.findall(str(ctx.get("expected_tags", "")))
    message = "unknown strategy type"
    cls = unregistered_subclass(str(tag))
    if cls is not None:
        message += (
            f" (class {cls.__qualname__} defines it but is not registered: decorate it with "
            "@unsim.strategies.register)"
        )
    return Problem(
        f"{path}.type" if path else "type",
        message,
        tag,
        True,
        ", ".join(choices),
        did_you_mean(str(tag), choices),
    )


def problems_from_validation(model: type[BaseModel], err: ValidationError) -> list[Problem]:
    """pydantic's validation errors as unsim's problems: key path, message, value, allowed and
    did-you-mean."""
    problems: list[Problem] = []
    for e in err.errors(include_url=False):
        loc = tuple(e.get("loc", ()))
        kind = e.get("type", "")
        ctx = e.get("ctx") or {}
        value = e.get("input")
        path, clean = _display_loc(loc)
        if kind == "extra_forbidden":
            parent = _model_at(model, clean[:-1])
            allowed = sorted(parent.model_fields) if parent else []
            key = clean[-1] if clean else ""
            problems.append(
                Problem(
                    path or str(key),
                    "unknown key",
                    allowed=", ".join(allowed) or None,
                    suggestion=did_you_mean(key, allowed) if allowed else None,
                )
            )
        elif kind == "missing":
            problems.append(Problem(path, "required key is missing"))
        elif kind == "literal_error":
            choices = _QUOTED.findall(str(ctx.get("expected", "")))
            problems.append(
                Problem(
                    path,
                    "value not allowed",
                    value,
                    True,
                    ", ".join(choices) or str(ctx.get("expected")),
                    did_you_mean(value, choices) if choices else None,
                )
            )
        elif kind == "union_tag_invalid":
            problems.append(_unknown_type(path, ctx, value))
        elif kind == "union_tag_not_found":
            problems.append(Problem(f"{path}.type", "required key is missing"))
        elif kind in ("lever_distribution", "unknown_reference"):
            problems.append(_context_problem(path, kind, ctx, value))
        elif kind == "state_twice":  # Strict: a mapping of states naming one state twice
            problems.append(Problem(f"{path}.states" if path else "states", str(e.get("msg"))))
        else:
            msg = e.get("msg", "invalid value")
            msg = msg.removeprefix("Value error, ")
            problems.append(Problem(path, msg[0].lower() + msg[1:] if msg else msg, value, True))
    return problems


def _context_problem(path: str, kind: str, ctx: dict[str, Any], value: Any) -> Problem:
    """A problem whose message, allowed values and suggestion travel in the error's context:
    an unknown state or bloc (``fields``), a distribution (``unsim.uncertainty.values``)."""
    if kind == "lever_distribution":
        message, shown = str(ctx.get("problem", "invalid distribution")), value is not None
    else:
        message, shown = f"unknown {ctx.get('kind', 'name')}", True
    return Problem(
        path,
        message,
        value,
        shown,
        ctx.get("allowed") or None,
        ctx.get("suggestion") or None,
        ctx.get("hint") or None,
    )
