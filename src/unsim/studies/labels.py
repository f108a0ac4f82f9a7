"""Parameters in words: axis labels and descriptions for the dotted paths a study varies.

``actors.target.strategies[0].intensity`` reads "charm offensive: intensity" (the strategy's
type), ``behaviour.icc_aversion`` "behaviour: ICC aversion", ``simulation.rounds.plenary``
"rounds: plenary"; the description is the schema's text for the field, when it has one
("shift per active round (latent scale)").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from unsim.scenario.loader import _split_path

__all__ = ["describe", "label", "labels"]

#: Words that read better in capitals or spelled out.
_WORDS = {"icc": "ICC", "un": "UN", "sc": "Council", "ga": "Assembly", "p5": "P5"}


def words(name: str) -> str:
    """``icc_aversion`` -> ``ICC aversion``."""
    return " ".join(_WORDS.get(w, w) for w in str(name).split("_"))


def _walk(scenario: Any, path: str) -> tuple[list[Any], list[str | int]]:
    """The objects along ``path`` in ``scenario`` (as far as they go) and the path's parts."""
    parts = _split_path(path)
    chain: list[Any] = [scenario]
    for part in parts[:-1]:
        node = chain[-1]
        if isinstance(part, int) and isinstance(node, list | tuple) and part < len(node):
            chain.append(node[part])
        elif isinstance(part, str) and isinstance(node, BaseModel) and hasattr(node, part):
            chain.append(getattr(node, part))
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            chain.append(node[part])
        else:
            break
    return chain, parts


def label(path: str, scenario: Any = None) -> str:
    """A short label in words for a dotted path (the scenario names the strategies' types)."""
    parts = _split_path(path)
    if not parts:
        return path
    leaf = words(str(parts[-1]))
    chain, _ = _walk(scenario, path) if scenario is not None else ([], parts)
    # the nearest strategy above the value names it by its type
    from unsim.strategies import Strategy

    for depth in range(min(len(chain), len(parts)) - 1, 0, -1):
        node = chain[depth]
        if isinstance(node, Strategy):
            return f"{words(str(node.type))}: {leaf}"
    if len(parts) >= 2:
        parent = parts[-2]
        if isinstance(parent, int):
            above = parts[-3] if len(parts) >= 3 else "item"
            return f"{words(str(above)).rstrip('s')} {parent + 1}: {leaf}"
        return f"{words(parent)}: {leaf}"
    return leaf


def describe(path: str, scenario: Any = None) -> str | None:
    """The schema's description of the field a path ends at, if it has one."""
    if scenario is None:
        return None
    chain, parts = _walk(scenario, path)
    if len(chain) != len(parts) or not isinstance(parts[-1], str):
        return None
    parent = chain[-1]
    if not isinstance(parent, BaseModel):
        return None
    info = type(parent).model_fields.get(parts[-1])
    return info.description if info is not None else None


def labels(paths: Iterable[str], scenario: Any = None) -> dict[str, str]:
    """``{path: label}``, made unique (a path's last parts are added where two would read alike)."""
    paths = list(paths)
    out = {p: label(p, scenario) for p in paths}
    seen: dict[str, list[str]] = {}
    for p, text in out.items():
        seen.setdefault(text, []).append(p)
    for text, same in seen.items():
        if len(same) > 1:
            for p in same:
                out[p] = f"{text} ({p})"
    return out
