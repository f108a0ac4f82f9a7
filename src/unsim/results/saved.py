"""What unsim's own files hold, checked when they are read back.

A results folder's ``summary.json``, a sweep's ``metadata.json`` and its point records, a
discovery's ``discovery.json``: files that unsim wrote, but that a user (or anyone) may have
edited, cut short or replaced. Each is read within the limits of :mod:`unsim.safeio` and its
shape checked here (every value unsim reads from it, of the type and range unsim writes)
before anything uses it, so that an odd file is an error naming the file, the key and what is
wrong, never a traceback. Keys unsim does not read are left alone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from unsim.errors import InputError, Problem
from unsim.safeio import FileReadError, read_json

__all__ = [
    "DiscoveryInfo",
    "PointRecord",
    "SavedSummary",
    "SweepMeta",
    "check_columns",
    "check_shape",
    "read_mapping",
]

#: Problems named in one message (the count says how many more there are).
SHOWN = 4


class _Saved(BaseModel):
    """A part of a saved file: the types unsim writes (no number given as text), other keys
    ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]


class OutcomeStats(_Saved):
    """An outcome's share of runs and its interval."""

    label: str = ""
    p: Share
    ci_low: Share
    ci_high: Share


class Quantiles(_Saved):
    """The quantiles and mean of a tally of votes over the runs."""

    q05: float
    q25: float
    q50: float
    q75: float
    q95: float
    mean: float


class Tally(_Saved):
    """A stage's tallies: the runs it was held, its threshold and each vote's quantiles."""

    held: Count
    threshold: str = ""
    yes: Quantiles | None = None
    no: Quantiles | None = None
    abstain: Quantiles | None = None
    absent: Quantiles | None = None
    median_needed_yes: float | None = None


class Pivotal(_Saved):
    """How often a state was pivotal at a stage: its share of runs and its interval."""

    stage: str
    iso3: str
    name: str
    p: Share
    ci_low: Share
    ci_high: Share


class AttributionPart(_Saved):
    """What one assumption changes in the mean yes, no, abstain and absent votes."""

    name: str
    label: str
    yes: float
    no: float
    abstain: float
    absent: float
    yes_ci: float | None = None


class StageAttribution(_Saved):
    """One stage's attribution: the scenario as given, the data alone and each assumption's part."""

    as_given: dict[str, float]
    data_only: dict[str, float]
    parts: list[AttributionPart]


class ForwardChange(_Saved):
    """One quantity's change: its mean, its interval's half-width and its 5-95 % range by run."""

    mean: float | None
    ci: float | None = None
    runs: list[float | None] | None = None


class ForwardPart(_Saved):
    """One assumption added (read forward): what it changes in each quantity."""

    name: str
    label: str
    drawn: bool = False
    change: dict[str, ForwardChange]


class ForwardQuantity(_Saved):
    """A quantity the forward reading follows: its label and whether it counts votes or runs."""

    label: str
    short: str
    kind: Literal["votes", "share"]


class Forward(_Saved):
    """The attribution read forward (``unsim.results.forward``)."""

    order: list[str] = []
    quantities: dict[str, ForwardQuantity]
    data_only: dict[str, float | None]
    as_given: dict[str, float | None]
    parts: list[ForwardPart]


class Attribution(StageAttribution):
    """The attribution of a results folder's ``summary.json`` (``unsim.engine.attribution``)."""

    stage: str
    order: list[str] = []
    runs: Count
    by_stage: dict[str, StageAttribution] = {}
    forward: Forward | None = None


class DataOnlyRow(_Saved):
    """A line of the forecast as given beside the data-only one."""

    label: str
    kind: Literal["votes", "share"]
    as_given: float
    data_only: float
    diff: float
    ci_low: float
    ci_high: float
    as_given_range: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    data_only_range: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None


class DataOnly(_Saved):
    """``summary["data_only"]``: the forecast as given beside the data-only one."""

    runs: Count
    rows: dict[str, DataOnlyRow]


class SavedSummary(_Saved):
    """A results folder's ``summary.json``."""

    runs: Annotated[int, Field(ge=1)]
    outcomes: dict[str, OutcomeStats]
    tallies: dict[str, Tally] = {}
    pivotal: list[Pivotal] = []
    seed: Annotated[int, Field(ge=0)] | None = None
    attribution: Attribution | None = None
    data_only: DataOnly | None = None

    @field_validator("attribution", "data_only", mode="before")
    @classmethod
    def _none_for_empty(cls, value: Any) -> Any:
        return None if value == {} else value  # what a scenario without draft votes gets


class SweepMeta(_Saved):
    """What a sweep's (or a sensitivity analysis's) ``metadata.json`` says of its table."""

    params: Any = {}
    seed: Annotated[int, Field(ge=0)] | None = None
    labels: dict[str, str] | None = None

    @field_validator("params")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if not isinstance(value, dict | list) or not all(isinstance(k, str) for k in value):
            raise ValueError("expected the parameters' names (a mapping or a list of them)")
        return value


class PointRecord(_Saved):
    """A point's record in a sweep's ``points`` folder."""

    n: Annotated[int, Field(ge=1)]
    outcomes: dict[str, OutcomeStats]
    means: dict[str, float | None] = {}


class DiscoveryBox(_Saved):
    """A box of a discovery: its coverage, density, mass, points and step on the trajectory."""

    coverage: Share
    density: Share
    mass: Share
    points: Count
    step: Count


class DiscoveryInfo(_Saved):
    """A discovery folder's ``discovery.json``."""

    outcome: str
    threshold: float
    below: bool
    cases: Count
    points: Count
    boxes: list[DiscoveryBox]
    labels: dict[str, str] = {}
    params: list[str] = []


def _where(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _problem(error: Any) -> str:
    """One validation error as ``key.path: what is wrong; got value``."""
    where = _where(error["loc"])
    if error["type"] == "missing":
        return f"{where}: missing"
    message = re.sub(r" or instance of \w+|^Value error, ", "", str(error["msg"]))
    message = message[:1].lower() + message[1:]
    return Problem(where, message, error.get("input"), True).render()


def check_shape(model: type[_Saved], data: Any, path: Path | str) -> Any:
    """``data`` (read from ``path``) validated as ``model``; :class:`InputError` naming the
    file, the keys and what is wrong otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = [_problem(e) for e in err.errors(include_url=False)]
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        raise InputError(
            f"{path}: not as unsim writes it: " + "; ".join(problems[:SHOWN]) + more
        ) from None


def read_mapping(path: Path, what: str) -> dict[str, Any]:
    """A JSON file that holds a mapping (read with :func:`unsim.safeio.read_json`);
    :class:`InputError` otherwise (``what`` says what the folder should be when it is
    missing)."""
    try:
        data = read_json(path)
    except FileReadError as exc:
        if exc.missing:
            hint = _inner_hint(path.parent, path.name)
            raise InputError(f"{path.parent}: not {what} ({path.name} missing){hint}") from None
        raise InputError(f"{path}: {exc.reason}") from None
    if not isinstance(data, dict):
        problem = Problem("", "expected a mapping of keys", data, True).render()
        raise InputError(
            f"{path}: not as unsim writes it ({problem.removeprefix('(top level): ')})"
        )
    return data


def _inner_hint(folder: Path, name: str) -> str:
    """Where ``folder`` holds folders that have ``name`` (``results/<scenario>/`` holds its runs'
    folders): the text naming the last of them (by name: a run's begins with its time), to give
    instead; else nothing. At most 10,000 entries of the folder are looked at."""
    try:
        entries = itertools.islice(folder.iterdir(), 10_000)
        inner = sorted(p for p in entries if (p / name).is_file())
    except OSError:
        return ""
    if not inner:
        return ""
    more = f" (the last of {len(inner)})" if len(inner) > 1 else ""
    return f"; give a folder inside it that holds one, such as {inner[-1]}{more}"


def check_columns(
    table: pd.DataFrame, path: Path, needed: Sequence[str], numeric: Sequence[str] = ()
) -> None:
    """:class:`InputError` unless ``table`` (read from ``path``) has the columns ``needed``, and
    ``numeric`` among them hold numbers."""
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(
            f"{path}: not as unsim writes it (no column {', '.join(map(repr, missing))})"
        )
    for c in numeric:
        if c in table.columns and not (
            pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        ):
            raise InputError(
                f"{path}: not as unsim writes it (column {c!r} holds {table[c].dtype}, not numbers)"
            )
