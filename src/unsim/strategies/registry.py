"""The registry of strategy types, and the scenario field that validates entries against it.

A strategy type becomes valid in scenario files when its class is registered: with the
``@register`` decorator, or by an installed package that names it (or a module that registers its
classes) in the entry-point group ``unsim.strategies``::

    [project.entry-points."unsim.strategies"]
    boycott = "my_package.strategies:Boycott"

Entry points are loaded once, the first time the registry is read. The scenario schema's
``actors.target.strategies`` is a :data:`StrategyEntry` list: its discriminated union (by
``type``) is formed from the registry each time an entry is validated or the JSON Schema is
generated, so a type registered at any time is valid, listed in ``unsim schema`` and shown in the
explorer with no other change. This module does not depend on the scenario schema.
"""

from __future__ import annotations

import threading
import typing
import warnings
from importlib.metadata import entry_points
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import SchemaValidator, core_schema

from unsim.strategies.base import Strategy, instance_keys
from unsim.strategies.outcomes import Outcome

__all__ = [
    "ENTRY_POINT_GROUP",
    "StrategyEntry",
    "StrategyList",
    "is_strategy_entry",
    "load_entry_points",
    "register",
    "registered",
    "unregister",
    "unregistered_subclass",
]

#: The entry-point group in which installed packages name their strategies.
ENTRY_POINT_GROUP = "unsim.strategies"

_REGISTRY: dict[str, type[Strategy]] = {}
_LOCK = threading.RLock()
_ENTRY_POINTS_LOADED = False
_VALIDATOR: tuple[tuple[type[Strategy], ...], SchemaValidator] | None = None

S = TypeVar("S", bound=type[Strategy])


def _type_name(cls: type[Strategy]) -> str:
    field = cls.model_fields.get("type")
    default = getattr(field, "default", None)
    literal = typing.get_args(field.annotation) if field is not None else ()
    if not isinstance(default, str) or not default or literal != (default,):
        raise TypeError(
            f"{cls.__qualname__}: a strategy needs `type: Literal[{default or 'name'!r}] = "
            f"{default or 'name'!r}` (one literal name, the same as its default)"
        )
    return default


def register(cls: S) -> S:
    """Class decorator: make the strategy's ``type`` valid in scenario files.

    Registering a class again under its name (a notebook cell run twice) replaces the earlier
    one; a name taken by a class of another module or name is refused."""
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"{cls!r} is not a subclass of unsim.strategies.Strategy")
    name = _type_name(cls)
    if not all(isinstance(e, str) and e for e in cls.events):
        raise TypeError(f"{cls.__qualname__}.events must be a tuple of event names")
    _check_outcomes(cls)
    with _LOCK:
        held = _REGISTRY.get(name)
        if held is not None and held is not cls and _origin(held) != _origin(cls):
            raise ValueError(
                f"strategy type {name!r} is registered already by {_origin(held)}; "
                f"{_origin(cls)} needs another name"
            )
        for other in _REGISTRY.values():
            taken = _outcome_names(other) & _outcome_names(cls)
            if _origin(other) != _origin(cls) and taken:
                raise ValueError(
                    f"{_origin(cls)}: outcome {sorted(taken)[0]!r} is declared already by "
                    f"{_origin(other)}; give it another name"
                )
        _REGISTRY[name] = cls
    return cls


def _outcome_names(cls: type[Strategy]) -> set[str]:
    return {o.name for o in cls.declared_outcomes()}


def _check_outcomes(cls: type[Strategy]) -> None:
    """Each of the class's outcomes is an ``Outcome`` of one of its events, named once."""
    outcomes = cls.declared_outcomes()
    columns = {f"event_{e}" for e in cls.events}
    names: set[str] = set()
    for o in outcomes:
        if not isinstance(o, Outcome):
            raise TypeError(f"{cls.__qualname__}.outcomes must hold Outcome entries, got {o!r}")
        if o.key not in columns or o.value is not None:
            raise TypeError(
                f"{cls.__qualname__}: outcome {o.name!r} reads {o.key!r}, not one of its events "
                f"({', '.join(sorted(columns)) or 'none declared'})"
            )
        if o.name in names:
            raise TypeError(f"{cls.__qualname__}: outcome {o.name!r} is declared twice")
        names.add(o.name)


def _origin(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def unregister(name: str) -> None:
    """Remove strategy type ``name`` from the registry (no error if it is not there)."""
    with _LOCK:
        _REGISTRY.pop(name, None)


def registered() -> dict[str, type[Strategy]]:
    """Strategy types valid in scenario files, by their ``type`` name (the built-in ones, those
    registered with ``@register`` and those of installed packages' entry points)."""
    load_entry_points()
    with _LOCK:
        return dict(_REGISTRY)


def load_entry_points(again: bool = False) -> None:
    """Load the ``unsim.strategies`` entry points: once (the registry does it when first read),
    or ``again`` (a package installed since). A plug-in that fails to load is reported with a
    warning and left out (the other strategies still work)."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED and not again:
        return
    with _LOCK:
        if _ENTRY_POINTS_LOADED and not again:
            return
        _ENTRY_POINTS_LOADED = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
                if isinstance(loaded, type) and issubclass(loaded, Strategy):
                    register(loaded)
            except Exception as exc:  # a broken plug-in must not break every scenario
                warnings.warn(
                    f"the strategy plug-in {ep.name!r} ({ep.value}) was not loaded: "
                    f"{type(exc).__name__}: {exc}",
                    RuntimeWarning,
                    stacklevel=2,
                )


def unregistered_subclass(name: str) -> type[Strategy] | None:
    """A defined but unregistered strategy class whose type is ``name``, if there is one (the
    error for an unknown type then says to register it)."""
    todo = list(Strategy.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        default = getattr(cls.model_fields.get("type"), "default", None)
        if default == name and _REGISTRY.get(name) is not cls:
            return cls
    return None


def _union_schema(classes: tuple[type[Strategy], ...]) -> core_schema.CoreSchema:
    """The discriminated union of ``classes`` (by ``type``), as pydantic-core schema."""
    return core_schema.tagged_union_schema(
        {_type_name(c): c.__pydantic_core_schema__ for c in classes}, discriminator="type"
    )


def _validator() -> SchemaValidator:
    global _VALIDATOR
    classes = tuple(registered().values())
    held = _VALIDATOR
    if held is None or held[0] != classes:
        held = _VALIDATOR = (classes, SchemaValidator(_union_schema(classes)))
    return held[1]


def _validate_entry(value: Any, info: ValidationInfo) -> Strategy:
    if isinstance(value, Strategy) and type(value) in registered().values():
        return value
    entry: Strategy = _validator().validate_python(value, context=info.context)
    return entry


class _RegisteredStrategies:
    """Pydantic marker: validate a strategy entry against the registry as it is now."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(_validate_entry)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(_union_schema(tuple(registered().values())))

    def __repr__(self) -> str:
        return "RegisteredStrategies()"


#: A strategy entry of a scenario: any registered type, told apart by ``type``.
StrategyEntry = Annotated[Strategy, _RegisteredStrategies()]


def is_strategy_entry(annotation: Any) -> bool:
    """True for the :data:`StrategyEntry` annotation (whose members are the registered types)."""
    return typing.get_origin(annotation) is Annotated and any(
        isinstance(m, _RegisteredStrategies) for m in typing.get_args(annotation)[1:]
    )


def distinct_keys(entries: list[Strategy]) -> list[Strategy]:
    """``entries`` unchanged if their keys differ (each entry keys its random streams, memory and
    events, see ``instance_keys``); else a clear error."""
    keys = instance_keys(entries)
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise ValueError(
                f"entries [{keys.index(key)}] and [{i}] are both named {key!r}: give each "
                "entry its own label"
            )
    return entries


#: The target's list of strategy entries: registered types, each entry with its own key.
StrategyList = Annotated[list[StrategyEntry], AfterValidator(distinct_keys)]
