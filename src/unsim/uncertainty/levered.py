"""Numbers of a scenario that may be written as distributions: :class:`Uncertain` values and the
:class:`Levered` base of the models that hold them.

A field of a :class:`Levered` model whose type is a number (``float``, or a mapping of numbers
such as ``behaviour.icc_aversion_by_bloc``) accepts, instead of a number, a distribution
(:mod:`unsim.uncertainty.distributions`) or ``{lever: NAME}``, an entry of the scenario's levers
file (``levers: PATH``, passed to validation as ``context["levers"]``). It then holds an
:class:`Uncertain`: a ``float`` whose value is the distribution's mean, the one value that stands
for it wherever one value is needed (a label, the explorer's slider, a check that a budget is not
zero), and which carries the distribution. The engine draws it once per run
(:mod:`unsim.model.levers`). Dumping the model gives the distribution (or the reference) back as
written, so a dumped scenario validates to the same one.

Validation is as strict as for any number: unknown keys, an unknown ``dist`` (with a "did you
mean"), parameters out of their ranges, and a distribution whose draws can leave the field's
bounds (its *reach*, see the distributions' module) are errors at the key's path. A field in a
model's ``point_only`` takes numbers only, with the reason given.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Union

from pydantic import (
    BaseModel,
    Field,
    GetJsonSchemaHandler,
    RootModel,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType, SerializerFunctionWrapHandler, ValidationInfo

from unsim.fields import Strict
from unsim.uncertainty.distributions import Distribution
from unsim.uncertainty.values import (
    Bounds,
    Uncertain,
    bounds_of,
    is_uncertain_input,
    problem,
    uncertain_value,
)

__all__ = ["LeverRef", "Levered", "error_details", "lever_fields", "uncertain_items"]

_KNOWN_ERRORS = frozenset(typing.get_args(ErrorType))


# --------------------------------------------------------------------------------------------
# The models that hold uncertain values
# --------------------------------------------------------------------------------------------
def _number_field(info: FieldInfo) -> tuple[str, Bounds] | None:
    """("number", bounds) for a float field (optional or not), ("mapping", bounds of its
    values) for a mapping of floats, None for any other field."""
    annotation = info.annotation
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else None
    if annotation is float:
        return "number", bounds_of(info.metadata)
    if typing.get_origin(annotation) is dict:
        item = typing.get_args(annotation)[1]
        if item is float:
            return "mapping", Bounds()
        if typing.get_origin(item) is typing.Annotated and typing.get_args(item)[0] is float:
            meta: list[Any] = []
            for m in typing.get_args(item)[1:]:
                meta += m.metadata if isinstance(m, FieldInfo) else [m]
            return "mapping", bounds_of(meta)
    return None


_FIELDS: dict[type, dict[str, tuple[str, Bounds]]] = {}


def lever_fields(cls: type[Levered]) -> dict[str, tuple[str, Bounds]]:
    """The fields of ``cls`` that may hold a distribution: name -> (kind, bounds)."""
    held = _FIELDS.get(cls)
    if held is None:
        held = _FIELDS[cls] = {
            name: kind
            for name, info in cls.model_fields.items()
            if name not in cls.point_only and (kind := _number_field(info)) is not None
        }
    return held


def error_details(err: ValidationError) -> list[InitErrorDetails]:
    """A validation error's errors, to be raised again together with others."""
    out: list[InitErrorDetails] = []
    for e in err.errors(include_url=False):
        kind: Any = e["type"]
        if kind not in _KNOWN_ERRORS:
            kind = PydanticCustomError(
                kind, e["msg"].replace("{", "{{").replace("}", "}}"), e.get("ctx")
            )
        detail = InitErrorDetails(type=kind, loc=e["loc"], input=e["input"])
        if "ctx" in e and isinstance(kind, str):
            detail["ctx"] = e["ctx"]
        out.append(detail)
    return out


class Levered(Strict):
    """A part of a scenario whose numbers may be given as distributions (module doc)."""

    #: Number fields that take numbers only, with the reason (said when one is given a
    #: distribution).
    point_only: ClassVar[dict[str, str]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _uncertain(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        if not isinstance(data, Mapping):
            return handler(data)
        clean = dict(data)
        found: dict[tuple[str, ...], Uncertain] = {}
        problems: list[InitErrorDetails] = []
        fields = lever_fields(cls)
        for name, value in data.items():
            if name not in cls.model_fields:
                continue
            kind = fields.get(name, ("", Bounds()))[0]
            items = value.items() if kind == "mapping" and isinstance(value, Mapping) else ()
            if kind == "mapping":
                clean[name] = sub = dict(value) if isinstance(value, Mapping) else value
                for key, v in items:
                    if is_uncertain_input(v):
                        u, p = uncertain_value(v, (name, key), fields[name][1], info.context)
                        problems += p
                        if u is not None:
                            found[(name, key)] = u
                        sub[key] = float(u) if u is not None else 0.0
            elif is_uncertain_input(value):
                if kind != "number":
                    problems.append(cls._refused(name, value))
                    clean.pop(name)
                    continue
                u, p = uncertain_value(value, (name,), fields[name][1], info.context)
                problems += p
                if u is not None:
                    found[(name,)] = u
                    clean[name] = float(u)
                else:
                    clean.pop(name)
        if not problems:
            obj = handler(clean)
        else:
            try:
                handler(clean)
            except ValidationError as err:
                problems += [
                    d
                    for d in error_details(err)
                    if d["type"] != "missing"
                    or d["loc"][:1] not in {(p["loc"][0],) for p in problems}
                ]
            raise ValidationError.from_exception_data(cls.__name__, problems)
        for where, u in found.items():
            if len(where) == 1:
                obj.__dict__[where[0]] = u
            else:
                obj.__dict__[where[0]] = {**obj.__dict__[where[0]], where[1]: u}
        return obj

    @classmethod
    def _refused(cls, name: str, value: Any) -> InitErrorDetails:
        reason = cls.point_only.get(name, "")
        if not reason:
            whole = _number_field(cls.model_fields[name]) is None
            reason = (
                "it is not a number with decimals (a distribution replaces one)"
                if whole
                else "it takes numbers only"
            )
        allowed = "a number" if cls.model_fields[name].annotation is not int else "a whole number"
        return problem(
            (name,),
            value if not isinstance(value, Uncertain) else value.as_written(),
            f"a distribution is not allowed here: {reason}",
            allowed,
        )

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        for name, value in self.__dict__.items():
            if name not in data:
                continue
            if isinstance(value, Uncertain):
                data[name] = value.as_written()
            elif isinstance(value, dict) and isinstance(data[name], dict):
                for key, v in value.items():
                    if isinstance(v, Uncertain) and key in data[name]:
                        data[name][key] = v.as_written()
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> Any:
        schema = handler(core_schema)
        fields = lever_fields(cls)
        if not fields:
            return schema
        target = handler.resolve_ref_schema(schema)
        props = target.get("properties", {})
        ref = handler(_UNCERTAIN.__pydantic_core_schema__)
        for name, (kind, _) in fields.items():
            if name not in props:
                continue
            if kind == "number":
                props[name] = _either(props[name], ref)
            elif isinstance(props[name].get("additionalProperties"), dict):
                props[name]["additionalProperties"] = _either(
                    props[name]["additionalProperties"], ref
                )
        return schema


_BOUNDS = ("exclusiveMinimum", "exclusiveMaximum")


def _either(prop: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """A number's JSON Schema widened to "or a distribution, or a lever reference" (its bounds
    stay beside the alternatives: they apply to a number only)."""
    keep = ("title", "description", "default", "minimum", "maximum", *_BOUNDS)
    meta: dict[str, Any] = {k: prop[k] for k in keep if k in prop}
    inner = {k: v for k, v in prop.items() if k not in meta}
    options = list(inner["anyOf"]) if set(inner) == {"anyOf"} else [inner]
    return {**meta, "anyOf": [*options, ref]}


class LeverRef(Strict):
    """``{lever: NAME}``: an entry of the scenario's levers file (``levers: PATH``)."""

    lever: str


class UncertainNumber(RootModel[Any]):
    """A number given as a distribution (``dist``: normal, truncnorm, lognormal, beta, uniform,
    each with an optional ``source``), or ``{lever: NAME}``, an entry of the levers file."""

    root: Union[  # noqa: UP007 - a runtime union for the JSON Schema
        typing.Annotated[Distribution, Field(discriminator="dist")], LeverRef
    ]


_UNCERTAIN = UncertainNumber


def uncertain_items(node: Any, prefix: str = "") -> Iterator[tuple[str, Uncertain]]:
    """Every uncertain value in a nest of models (not lists), by its dotted path under
    ``prefix``."""
    if not isinstance(node, BaseModel):
        return
    for name in type(node).model_fields:
        value = getattr(node, name)
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, Uncertain):
            yield path, value
        elif isinstance(value, dict):
            for key, v in value.items():
                if isinstance(v, Uncertain):
                    yield f"{path}.{key}", v
        elif isinstance(value, BaseModel):
            yield from uncertain_items(value, path)
