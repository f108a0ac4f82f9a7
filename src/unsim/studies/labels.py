"""Parameters in words for studies: the labels of :mod:`unsim.scenario.labels`, made unique
across the paths a study varies.

``actors.target.strategies[0].intensity`` reads "charm offensive: intensity" (the strategy's
type), ``behaviour.icc_aversion`` "behaviour: ICC aversion"; the description is the schema's text
for the field ("shift per active round (latent scale)").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from unsim.scenario.labels import describe, label_for

__all__ = ["describe", "label", "labels"]


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
