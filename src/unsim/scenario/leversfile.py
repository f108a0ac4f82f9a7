"""Levers files (``kind: levers``): distributions of the scenario's levers fitted on past
episodes (``unsim calibrate --levers`` writes them), named so that a scenario can refer to one
with ``{lever: NAME}`` (its top-level ``levers: PATH`` names the file).

    schema_version: 1
    kind: levers
    name: levers_2014
    before: 2014-11-18                 # every episode used ended before this date
    method: "..."
    episodes: [prk_2011, irn_2013]
    levers:
      charm_offensive.intensity:
        dist: truncnorm                # any distribution of unsim.uncertainty.distributions,
        mean: 0.25                     # with its optional source
        sd: 0.15
        low: 0.0
        high: 5.0
        unit: "..."                    # what one unit of the lever is
        effect_latent: {mean: -0.4, sd: 0.3}      # its effect on the latent support scale
        effect_yes_votes: {mean: -6.0, sd: 4.5}   # and on the yes votes, in the episodes
        episodes: 7                    # how many episodes informed it
        identified: true               # whether the episodes identify it (not the prior alone)
        source: "..."

An entry holds those keys and no others (an unknown key is an error, with the allowed keys).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from unsim.fields import MAX_STATES, Strict
from unsim.uncertainty.distributions import SCALE, Distribution
from unsim.uncertainty.levered import error_details
from unsim.uncertainty.values import distribution_from

__all__ = ["Effect", "LeverEntry", "LeversFile"]


class Effect(Strict):
    """An effect measured over the episodes: its mean and sd."""

    mean: float = Field(..., ge=-SCALE, le=SCALE)
    sd: float = Field(..., ge=0, le=SCALE)


class LeverEntry(Strict):
    """One lever of a levers file: its distribution and what the episodes say of it."""

    distribution: Distribution
    unit: str | None = Field(None, max_length=500, description="what one unit of the lever is")
    effect_latent: Effect | None = Field(None, description="its effect on the latent scale")
    effect_yes_votes: Effect | None = Field(None, description="its effect on the yes votes")
    episodes: int | None = Field(None, ge=0, le=1_000_000, description="episodes that informed it")
    identified: bool | None = Field(
        None, description="whether the episodes identify it (not the prior alone)"
    )

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> Any:
        """As the file writes it: the distribution's keys beside the others."""
        data = handler(self)
        if not isinstance(data, dict):
            return data
        dist = data.pop("distribution", {})
        return {**dist, **{k: v for k, v in data.items() if v is not None}}


#: The keys of an entry beside its distribution's.
ENTRY_KEYS = tuple(k for k in LeverEntry.model_fields if k != "distribution")


class LeversFile(Strict):
    """Named distributions of levers, with the episodes and the cut date they come from."""

    schema_version: Literal[1] = 1
    kind: Literal["levers"] = "levers"
    name: str = Field(..., max_length=200)
    before: dt.date = Field(..., description="every episode used ended before this date")
    method: str | None = Field(None, max_length=5000)
    episodes: list[str] = Field(default_factory=list, max_length=MAX_STATES)
    levers: dict[str, LeverEntry] = Field(..., max_length=MAX_STATES)

    @model_validator(mode="wrap")
    @classmethod
    def _entries(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Each entry's distribution read from its flat keys (errors at their paths)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("levers"), Mapping):
            return handler(data)
        entries: dict[str, Any] = {}
        problems: list[InitErrorDetails] = []
        for name, raw in data["levers"].items():
            if not isinstance(raw, Mapping):
                entries[name] = raw  # the entry's own validation says what is wrong
                continue
            meta = {k: v for k, v in raw.items() if k in ENTRY_KEYS}
            dist_raw = {k: v for k, v in raw.items() if k not in ENTRY_KEYS}
            if "distribution" in raw:  # an entry as pydantic holds it
                entries[name] = raw
                continue
            dist, found = distribution_from(dist_raw, ("levers", name), ENTRY_KEYS)
            problems += found
            entries[name] = {**meta, "distribution": dist} if dist is not None else None
        clean = {**data, "levers": entries}
        if not problems:
            return handler(clean)
        try:
            handler({**clean, "levers": {k: v for k, v in entries.items() if v is not None}})
        except ValidationError as err:
            problems += error_details(err)
        raise ValidationError.from_exception_data(cls.__name__, problems)
