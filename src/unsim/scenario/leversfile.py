"""Levers files (``kind: levers``): distributions of the scenario's levers fitted on past
episodes. This module is the one definition of the format: ``unsim calibrate --levers`` builds a
:class:`LeversFile` and writes its dump (:mod:`unsim.calibration.leversfile`), the scenario
loader reads a file into the same model, so that a scenario can refer to an entry with
``{lever: NAME}`` (its top-level ``levers: PATH`` names the file).

    schema_version: 1
    kind: levers
    name: levers_2014
    before: 2014-11-18                 # every episode used ended before this date
    method: "..."
    episodes: [prk_2011, irn_2013]
    levers:
      charm_offensive.intensity:
        dist: truncnorm                # any distribution of unsim.uncertainty.distributions
        mean: 0.25
        sd: 0.15
        low: 0.0
        high: 5.0
        unit: "..."                    # what one unit of the lever is
        effect_latent: {mean: -0.4, sd: 0.3}      # its effect on the latent support scale
        effect_yes_votes: {mean: -6.0, sd: 4.5}   # and on the yes votes, at the reference draft
        episodes: 7                    # how many episodes informed it
        identified: true               # whether the episodes identify it (not the prior alone)
        source: "..."                  # what it rests on (required)

Every key of an entry is required and an entry holds no others (an unknown key is an error,
with the allowed keys); the distribution's own checks apply (``dist`` with a "did you mean",
parameters in their ranges).

An entry is named by the scenario parameter it informs. Four keys are parameters of a scenario:
``charm_offensive.intensity``, ``invitation.effect`` and ``threats.intensity`` (a strategy's
parameter: ``intensity: {lever: charm_offensive.intensity}``) and ``behaviour.icc_aversion``
(the ICC language's cost). The others (``target.reform``, ``target.prisoner_release``,
``procedure.no_action_motion``, ``draft.*``) are in latent units, a shift of the support for the
draft: a scenario may reference them wherever it states a shift of support in those units,
``behaviour.bloc_effects.<BLOC>`` (one draw per run for the bloc's members) or
``actors.states.<ISO3>.support_shift`` (one state), when the event they stand for happened in
its case; otherwise they document what past episodes say of such an event.
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
from unsim.uncertainty.distributions import Distribution
from unsim.uncertainty.levered import error_details
from unsim.uncertainty.values import distribution_from, problem

__all__ = ["ENTRY_KEYS", "Effect", "LeverEntry", "LeversFile"]

#: Largest size of an effect (latent units or votes) an entry may give.
EFFECT_SCALE = 1000.0


class Effect(Strict):
    """An effect measured over the episodes: its mean and sd."""

    mean: float = Field(..., ge=-EFFECT_SCALE, le=EFFECT_SCALE)
    sd: float = Field(..., ge=0, le=EFFECT_SCALE)


class LeverEntry(Strict):
    """One lever of a levers file: its distribution (with its ``source``, required) and what
    the episodes say of it."""

    distribution: Distribution
    unit: str = Field(..., min_length=1, max_length=600, description="what one unit of it is")
    effect_latent: Effect = Field(..., description="its effect on the latent support scale")
    effect_yes_votes: Effect = Field(..., description="its effect on the yes votes")
    episodes: int = Field(..., ge=0, le=1_000_000, description="episodes that informed it")
    identified: bool = Field(
        ..., description="whether the episodes identify it (not the prior alone)"
    )

    @model_validator(mode="after")
    def _sourced(self) -> LeverEntry:
        if not (self.distribution.source or "").strip():
            raise ValueError("source: required: what the lever rests on")
        if self.distribution.shared is not None:
            raise ValueError(
                "shared: not in a levers file (a scenario couples its own distributions)"
            )
        return self

    @property
    def source(self) -> str:
        """What the lever rests on (its distribution's ``source``)."""
        return self.distribution.source or ""

    @classmethod
    def flat(cls, raw: Mapping[str, Any]) -> LeverEntry:
        """An entry from its keys as the file writes them (the distribution's beside the
        others); :class:`pydantic.ValidationError` if they are not an entry."""
        meta = {k: v for k, v in raw.items() if k in ENTRY_KEYS}
        dist_raw = {k: v for k, v in raw.items() if k not in ENTRY_KEYS}
        dist, problems = distribution_from(dist_raw, ())
        if dist is None:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return cls.model_validate({**meta, "distribution": dist})

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> Any:
        """As the file writes it: the distribution's keys, the others, its source last."""
        data = handler(self)
        if not isinstance(data, dict):
            return data
        dist = {k: v for k, v in data.pop("distribution", {}).items() if v is not None}
        source = dist.pop("source", None)
        out = {**dist, **{k: v for k, v in data.items() if v is not None}}
        return {**out, "source": source} if source is not None else out


#: The keys of an entry beside its distribution's.
ENTRY_KEYS = tuple(k for k in LeverEntry.model_fields if k != "distribution")


class LeversFile(Strict):
    """Named distributions of levers, with the episodes and the cut date they come from."""

    schema_version: Literal[1] = 1
    kind: Literal["levers"] = "levers"
    name: str = Field(..., min_length=1, max_length=200)
    before: dt.date = Field(..., description="every episode used ended before this date")
    method: str = Field(..., min_length=1, max_length=5000)
    episodes: list[str] = Field(..., max_length=MAX_STATES)
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
            if not isinstance(raw, Mapping) or "distribution" in raw:
                entries[name] = raw  # the entry's own validation says what is wrong, if anything
                continue
            meta = {k: v for k, v in raw.items() if k in ENTRY_KEYS}
            dist_raw = {k: v for k, v in raw.items() if k not in ENTRY_KEYS}
            dist, found = distribution_from(dist_raw, ("levers", name), ENTRY_KEYS)
            problems += found
            if dist is not None and not (dist.source or "").strip():
                where = ("levers", name, "source")
                problems.append(problem(where, None, "required key is missing (what it rests on)"))
                dist = None
            entries[name] = {**meta, "distribution": dist} if dist is not None else None
        clean = {**data, "levers": entries}
        if not problems:
            return handler(clean)
        try:
            handler({**clean, "levers": {k: v for k, v in entries.items() if v is not None}})
        except ValidationError as err:
            problems += error_details(err)
        raise ValidationError.from_exception_data(cls.__name__, problems)
