"""Overrides of scenario values: ``--set dotted.path=value`` on the command line, a sweep's
points, the explorer's edits, the attribution's steps. A path names a value
(``actors.target.strategies[0].intensity``); the value is parsed as YAML (so ``{dist: uniform,
low: 0, high: 1}`` sets a distribution).

Two ways to set them: on a scenario's raw mapping before it is validated
(:func:`apply_overrides`), or on a loaded scenario (:func:`set_values`, each value checked against
its field; :func:`replace_value`, a value the caller built and vouches for)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import ConstructorError

from unsim.errors import Problem, ScenarioError
from unsim.safeio import YamlLimitError, load_yaml

if TYPE_CHECKING:
    from unsim.scenario.schema import Scenario

__all__ = [
    "NotSettable",
    "apply_overrides",
    "parse_override",
    "replace_value",
    "set_values",
    "split_path",
]


# --------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """``"a.b[2].c"`` (or ``"a.b.2.c"``) -> ``["a", "b", 2, "c"]``."""
    parts: list[str | int] = []
    for name, index in _TOKEN.findall(path):
        if index:
            parts.append(int(index))
        elif name.isdigit():
            parts.append(int(name))
        else:
            parts.append(name)
    return parts


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"a.b[0].c=value"`` into the path and the YAML-parsed value."""
    if "=" not in text:
        raise ScenarioError("--set", [Problem(text, "expected dotted.path=value", text, True)])
    path, raw = text.split("=", 1)
    try:
        value = load_yaml(raw) if raw.strip() else None
    except (YamlLimitError, ConstructorError) as exc:
        raise ScenarioError("--set", [Problem(path.strip(), str(exc.problem))]) from None
    except yaml.YAMLError:
        value = raw
    return path.strip(), value


def _shallow_copy(value: Any) -> Any:
    """A new mapping or list with the same items (other values as they are)."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def apply_overrides(
    raw: dict[str, Any], overrides: Mapping[str, Any] | Iterable[str] | None
) -> dict[str, Any]:
    """A copy of ``raw`` with each ``path: value`` set (creating mappings where needed).

    ``raw`` is left as it was: the mappings and lists along each path are copied before they
    change, the rest is shared with ``raw`` (a sweep varies a few values of a scenario whose
    inlined world holds 193 states; copying all of it for every point cost more than the rest
    of building the point)."""
    out = dict(raw)
    if not overrides:
        return out
    items = (
        list(overrides.items())
        if isinstance(overrides, Mapping)
        else [parse_override(t) for t in overrides]
    )
    problems = [p for path, value in items if (p := _set_path(out, path, value)) is not None]
    if problems:
        raise ScenarioError("--set", problems)
    return out


def _set_path(out: dict[str, Any], path: str, value: Any) -> Problem | None:
    """Set ``path`` of ``out`` to ``value`` (copying the containers along it), or the problem."""
    parts = split_path(path)
    if not parts:
        return Problem(path, "empty path")
    node: Any = out
    for depth, part in enumerate(parts[:-1]):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                size = len(node) if isinstance(node, list) else 0
                return Problem(path, f"index [{part}] out of range (the list has {size})")
            node[part] = _shallow_copy(node[part])
        else:
            if not isinstance(node, dict):
                return Problem(path, f"{part!r} is not inside a mapping")
            if node.get(part) is None:
                node[part] = [] if isinstance(parts[depth + 1], int) else {}
            else:
                node[part] = _shallow_copy(node[part])
        node = node[part]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            return Problem(path, f"index [{last}] out of range")
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        return Problem(path, "cannot set a key inside a non-mapping")
    return None


# --------------------------------------------------------------------------------------------
# On a loaded scenario
# --------------------------------------------------------------------------------------------
def join_path(parts: list[str | int]) -> str:
    """``["a", "b", 2, "c"]`` -> ``"a.b[2].c"`` (the inverse of :func:`split_path`)."""
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in parts).replace(".[", "[")


def replace_value(model: Any, path: str, value: Any) -> Any:
    """A copy of ``model`` (a scenario, or any model, list or mapping in it) with the value at
    ``path`` (dotted, with list indices and mapping keys) set to ``value``, not validated: the
    caller vouches for it (the attribution's steps). The models, lists and mappings along the
    path are copied; the rest is shared."""
    head, *rest = split_path(path)
    below = join_path(rest)
    if isinstance(model, list | tuple):
        items = list(model)
        items[int(head)] = replace_value(items[int(head)], below, value) if rest else value
        return type(model)(items)
    if isinstance(model, dict):
        return {**model, head: replace_value(model[head], below, value) if rest else value}
    inner = replace_value(getattr(model, str(head)), below, value) if rest else value
    return model.model_copy(update={str(head): inner})


class NotSettable(Exception):
    """The path does not lead to a plain value of a model field: validate the whole point."""


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _holder(scenario: Any, path: str) -> tuple[BaseModel, list[str | int]]:
    """The model holding the plain value at ``path``, and the path's parts; else
    :class:`NotSettable`."""
    parts = split_path(path)
    if not parts or not isinstance(parts[-1], str):
        raise NotSettable(path)
    node: Any = scenario
    for part in parts[:-1]:
        if isinstance(part, int) and isinstance(node, list | tuple) and part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, BaseModel):
            if part not in type(node).model_fields:
                raise NotSettable(path)
            node = getattr(node, part)
        else:
            raise NotSettable(path)
    name = parts[-1]
    if not isinstance(node, BaseModel) or name not in type(node).model_fields:
        raise NotSettable(path)
    if not _scalar(getattr(node, name)) and getattr(node, name) is not None:
        raise NotSettable(path)
    return node, parts


def set_values(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """``scenario`` with each ``{dotted.path: value}`` set, validated value by value.

    The model holding each value is validated again with it (the value's type and bounds, the
    model's own validators); the models above it are copied with the new one.
    The fields a value is given for count as set (as when a file gives them), so a calibration
    does not fill them. Raises :class:`ScenarioError` for a bad value and :class:`NotSettable`
    when a path does not end at a plain value of a model (a mapping key, a whole list or model,
    the world, the calibration or the resolution): those points are validated whole instead."""
    from unsim.scenario.schema import World

    out = scenario
    problems: list[Problem] = []
    world = scenario.world if isinstance(scenario.world, World) else None
    for path, value in overrides.items():
        whole = split_path(path)[:1] in (["world"], ["calibration"], ["resolution"])
        if whole or not _scalar(value):
            raise NotSettable(path)
        parent, parts = _holder(out, path)
        try:
            given = {k: getattr(parent, k) for k in parent.model_fields_set}
            given[str(parts[-1])] = value
            child: Any = type(parent).model_validate(given, context={"world": world})
        except ValidationError as err:
            problems += [Problem(path, e["msg"], value, True) for e in err.errors()]
            continue
        out = replace_value(out, join_path(parts[:-1]), child) if len(parts) > 1 else child
    if problems:
        raise ScenarioError("<point>", problems)
    return out
