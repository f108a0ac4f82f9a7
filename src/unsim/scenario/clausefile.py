"""Clause calibration files (``kind: clauses``): how a state's stance on a clause passes into its
vote on the whole draft, estimated from separate votes on paragraphs and amendments paired with
the vote on the whole (``unsim calibrate --clauses`` writes them). A scenario names one with its
top-level ``clause_calibration: PATH``; its ``behaviour`` fills the scenario's behaviour values of
the same names that the scenario does not set itself.

    schema_version: 1
    kind: clauses
    name: clauses_2014
    before: 2014-11-18              # every vote used was cast before this date
    method: "..."
    behaviour:
      clause_pass_through: 0.6      # the values the engine takes
      clause_deviation_sd: 1.2
    estimates: {...}                # the fits compared, with standard errors
    validation: {...}               # the out-of-sample check
    votes: {...}                    # the separate votes used, and those left out
    provenance: {...}               # command, inputs and their digests
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from unsim.fields import LATENT, Strict

__all__ = ["ClauseBehaviour", "ClauseCalibration"]


class ClauseBehaviour(Strict):
    """The values the engine takes (``behaviour.clause_pass_through``, ``clause_deviation_sd``)."""

    clause_pass_through: float = Field(..., ge=0, le=1)
    clause_deviation_sd: float = Field(..., ge=0, le=LATENT)


class ClauseCalibration(Strict):
    """A clause calibration and what it rests on."""

    schema_version: Literal[1] = 1
    kind: Literal["clauses"] = "clauses"
    name: str = Field(..., max_length=200)
    before: dt.date = Field(..., description="every vote used was cast before this date")
    method: str | None = Field(None, max_length=5000)
    behaviour: ClauseBehaviour
    estimates: dict[str, Any] = Field(default_factory=dict)
    validation: dict[str, Any] = Field(default_factory=dict)
    votes: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)
