"""Scenario paths in words, for figures, the explorer and the HTML report.

A scenario value is named in code by a dotted path (``actors.target.strategies[0].intensity``);
a reader needs words: ``label_for`` gives a short label ("charm offensive: intensity") and
``describe`` the schema's description of the field ("shift per active round (latent scale)").
Both work from the pydantic models, so a field added to the schema gets a label with no change
here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from unsim.scenario.loader import split_path

#: Words for the containers of the scenario (the parts of a path before the field itself).
_CONTAINERS: dict[str, str] = {
    "actors": "",
    "target": "target",
    "sponsors": "sponsors",
    "allies": "allies",
    "states": "",
    "bargaining": "bargaining",
    "lobbying": "lobbying",
    "counter_lobbying": "counter-lobbying",
    "behaviour": "behaviour",
    "bloc_effects": "bloc effect",
    "simulation": "",
    "rounds": "diplomatic rounds before",
    "resolution": "draft",
    "clauses": "clause",
    "procedure": "",
    "no_action_motion": "no-action motion",
    "amendment": "amendment",
    "council": "Council procedure",
    "schedule": "schedule",
    "adaptive": "adaptive policy",
}

#: Words that read better than the field name with spaces.
_WORDS: dict[str, str] = {
    "icc": "ICC",
    "sc": "Council",
    "un": "UN",
}


def words(name: str) -> str:
    """A field or type name in words: ``accept_offer_min_credibility`` -> "accept offer min
    credibility", ``icc_aversion`` -> "ICC aversion"."""
    return " ".join(_WORDS.get(w, w) for w in str(name).split("_") if w)


def _get(node: Any, part: str | int) -> Any:
    if node is None:
        return None
    if isinstance(part, int):
        if isinstance(node, list | tuple) and 0 <= part < len(node):
            return node[part]
        return None
    if isinstance(node, BaseModel):
        return getattr(node, part, None)
    if isinstance(node, Mapping):
        return node.get(part)
    return None


def value_at(scenario: Any, path: str) -> Any:
    """The value at a dotted path of a scenario (or any nest of models, lists and mappings),
    None where the path leads nowhere."""
    node = scenario
    for part in split_path(path):
        node = _get(node, part)
    return node


def strategy_name(strategy: Any, siblings: list[Any] | None = None) -> str:
    """A strategy entry in words: its ``label`` if it has one, else its type ("charm offensive"),
    numbered when the scenario has several entries of the same type."""
    label = _get(strategy, "label")
    kind = _get(strategy, "type")
    if label:
        return words(str(label))
    name = words(str(kind)) if kind else "strategy"
    if siblings is not None and kind:
        same = [s for s in siblings if _get(s, "type") == kind and not _get(s, "label")]
        if len(same) > 1:
            name += f" {next(i for i, s in enumerate(same) if s is strategy) + 1}"
    return name


def _state_name(scenario: Any, code: str) -> str:
    world = _get(scenario, "world")
    states = _get(world, "states")
    if isinstance(states, list):
        for s in states:
            if _get(s, "iso3") == code:
                return str(_get(s, "name"))
    blocs = _get(world, "blocs")
    if isinstance(blocs, Mapping) and code in blocs:
        return code
    return code


def label_for(path: str, scenario: Any = None) -> str:
    """A short label in words for a scenario path, e.g.
    ``actors.target.strategies[0].intensity`` -> "charm offensive: intensity",
    ``actors.sponsors.bargaining.accept_offer_min_credibility`` ->
    "sponsors' bargaining: accept offer min credibility", ``behaviour.icc_aversion`` ->
    "behaviour: ICC aversion".

    ``scenario`` (a :class:`~unsim.scenario.schema.Scenario` or its raw mapping) names the
    strategies and states; without it a strategy is named by its position ("strategy 1")."""
    parts = split_path(path)
    if not parts:
        return words(path)
    owner: list[str] = []
    node: Any = scenario
    field_words: list[str] = []
    strategy_owned = False  # below a strategy, containers read as part of the field
    i = 0
    while i < len(parts):
        part = parts[i]
        if part == "strategies" and i + 1 < len(parts) and isinstance(parts[i + 1], int):
            strategies = _get(node, "strategies")
            if strategies is None and i == 0:  # "strategies[0]" short for the target's
                strategies = _get(_get(_get(scenario, "actors"), "target"), "strategies")
            entry = _get(strategies, parts[i + 1])
            strategy_owned = True
            if entry is not None:
                owner = [strategy_name(entry, list(strategies))]
            else:
                owner = [f"strategy {int(parts[i + 1]) + 1}"]
            node = entry
            i += 2
            continue
        if isinstance(part, int):
            field_words.append(f"item {part + 1}")
            node = _get(node, part)
            i += 1
            continue
        _name_part(parts, i, scenario, owner, field_words, strategy_owned)
        node = _get(node, part)
        i += 1
    head = " ".join(owner).strip()
    tail = " ".join(w for w in field_words if w)
    if head and tail:
        return f"{head}: {tail}"
    return head or tail or words(path)


def _name_part(
    parts: list[str | int],
    i: int,
    scenario: Any,
    owner: list[str],
    field_words: list[str],
    strategy_owned: bool,
) -> None:
    """Add the words of the named ``parts[i]`` to the label's owner or field words."""
    part = parts[i]
    last = i == len(parts) - 1
    prev = parts[i - 1] if i else None
    if prev == "states" and len(str(part)) == 3 and str(part).isupper():
        owner[:] = [_state_name(scenario, str(part))]
    elif prev == "bloc_effects":
        owner[:] = ["bloc effect"]
        field_words.append(str(part))
    elif prev == "demanded_terms":
        field_words.append(f"terms {_state_name(scenario, str(part))} demands")
    elif part == "demanded_terms" and not last:
        pass
    elif last or str(part) not in _CONTAINERS or strategy_owned:
        field_words.append(words(str(part)))
    else:
        container = _CONTAINERS[str(part)]
        if container:
            if owner and owner[-1] in ("sponsors", "allies", "target"):
                owner[-1] += "'"
            owner.append(container)


def describe(path: str, scenario: Any = None) -> str | None:
    """The schema's description of the field at ``path`` (None if it has none)."""
    import typing

    from unsim.scenario.schema import Scenario

    model: Any = Scenario
    node: Any = scenario
    info = None
    key_next = False  # the part after a mapping field is a key (a state, a bloc)
    for part in split_path(path):
        if key_next or isinstance(part, int):
            key_next = False
            node = _get(node, part)
            if isinstance(node, BaseModel):
                model = type(node)
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        node = _get(node, part)
        annotation = info.annotation
        key_next = typing.get_origin(annotation) is dict
        model = type(node) if isinstance(node, BaseModel) else _model_of(annotation)
    return info.description if info is not None else None


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside an annotation (``X | None``, ``list[X]``...), if one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def is_code_path(text: str) -> bool:
    """True when ``text`` reads like a code path rather than words (dots between names,
    indices in brackets, snake_case names)."""
    return bool(
        re.search(r"\w\[\d+\]", text)
        or re.search(r"[a-z]\.[a-z_]", text)
        or re.search(r"[a-z]_[a-z]", text)
    )
