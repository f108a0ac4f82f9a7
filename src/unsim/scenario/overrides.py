"""Overrides of scenario values: ``--set dotted.path=value`` on the command line, a sweep's
points, the explorer's edits. A path names a value (``actors.target.strategies[0].intensity``);
the value is parsed as YAML (so ``{dist: uniform, low: 0, high: 1}`` sets a distribution)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from unsim.errors import Problem, ScenarioError
from unsim.safeio import YamlLimitError, load_yaml

__all__ = ["apply_overrides", "parse_override", "split_path"]


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
