"""Parameters in words for studies: the labels of :mod:`unsim.scenario.labels`, made unique
across the paths a study varies, and the objects along a path (for its bounds).

``actors.target.strategies[0].intensity`` reads "charm offensive: intensity" (the strategy's
type), ``behaviour.icc_aversion`` "behaviour: ICC aversion"; the description is the schema's text
for the field ("shift per active round (latent scale)").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from unsim.scenario.labels import describe, label_for
from unsim.scenario.loader import _split_path

__all__ = ["describe", "label", "labels"]


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
    """A short label in words for a dotted path (``unsim.scenario.labels.label_for``)."""
    return label_for(path, scenario)


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
