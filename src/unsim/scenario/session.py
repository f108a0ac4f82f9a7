"""The session format (``kind: session``): several drafts voted in one session, and what links
them.

A session names the world and the date, its ``drafts`` (each a draft scenario file, relative to
the session file, or a scenario given inline) under short names, and its ``linkage``: the sd of a
per-state factor added to the state's support on every draft (its stance on country-specific
resolutions as such) and the sd of one session shock added to every state's support on every
draft, each with its ``source``; or the path of a linkage file written by ``unsim calibrate
--session-linkage``. ``joint_outcomes`` are expressions over the drafts' run-table columns
(``unsim.session.expr``); ``without_vote`` gives each draft's record of adoptions without a
recorded vote.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from unsim.fields import LATENT, StateRef, Strict
from unsim.limits import MAX_SEED
from unsim.scenario.world import World
from unsim.uncertainty.distributions import Distribution

#: A draft's name in a session: prefixes its run-table columns (``dprk.plenary_adopted``).
DRAFT_NAME = r"^[a-z][a-z0-9_]{0,39}$"
MAX_DRAFTS = 20


class LinkageSd(Strict):
    """One sd of the linkage, in latent support units, with its evidence."""

    sd: float = Field(..., ge=0, le=LATENT, description="standard deviation (latent units)")
    source: str = Field(..., min_length=1, max_length=2000, description="the evidence for it")


class LinkageCorrelation(Strict):
    """The vote copula's correlation, with its evidence."""

    rho: float = Field(..., ge=0, le=0.99, description="correlation of the uniforms")
    source: str = Field(..., min_length=1, max_length=2000, description="the evidence for it")


class Linkage(Strict):
    """What links the drafts of a session: drawn once per run, shared by every draft."""

    state_factor: LinkageSd = Field(
        ..., description="per-state factor added to the state's support on every draft"
    )
    session_shock: LinkageSd = Field(
        ..., description="one shock added to every state's support on every draft"
    )
    factor_from_noise: bool = Field(
        True,
        description="the factor is the shared part of each vote's noise: each draft's vote "
        "noise is scaled down so that the noise and the factor together keep its variance "
        "(the drafts' own forecasts stay as calibrated); false adds the factor on top",
    )
    shock_from_level: bool = Field(
        True,
        description="the session shock is the shared part of each draft's level uncertainty "
        "(the calibration's level_sd): the draft's own level draw is scaled down so that its "
        "spread stays level_sd; false adds the shock on top",
    )
    vote_copula: LinkageCorrelation | None = Field(
        None,
        description="a mixture copula on the uniforms that cast each state's votes: a "
        "state's uniform on each draft is, with probability sqrt(rho), one shared by every "
        "draft (per state, stage and run), so that they correlate by rho across the drafts "
        "and every draft's own vote distribution stays exactly as alone",
    )
    spillover: Annotated[Distribution, Field(discriminator="dist")] | float | None = Field(
        None,
        description="the share of a state's change of stance on one draft from its content "
        "(the ICC language's cost for it, as retained, softened or dropped in the run) that "
        "carries to its support on the session's other drafts: a distribution drawn once per "
        "run (stream session:spillover), with its source, or a share from 0 to 1; none or 0: "
        "no spillover",
    )

    @field_validator("spillover")
    @classmethod
    def _spillover_source(cls, value: Any) -> Any:
        if isinstance(value, float):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"spillover: a share from 0 to 1; got {value:g}")
        elif value is not None and not value.source:
            raise ValueError("spillover: a distribution needs its `source:` (its evidence)")
        return value


class WithoutVoteRecord(Strict):
    """A series' record: how many of its adoptions were without a recorded vote."""

    without_vote: int = Field(..., ge=0, le=1000)
    adoptions: int = Field(..., ge=0, le=1000)
    source: str = Field(..., min_length=1, max_length=2000)


class LinkageFile(Strict):
    """A linkage file (``kind: session_linkage``), written by ``unsim calibrate
    --session-linkage``."""

    schema_version: Literal[1] = 1
    kind: Literal["session_linkage"] = "session_linkage"
    name: str = Field(..., max_length=100)
    before: dt.date = Field(..., description="only votes before this date were used")
    linkage: Linkage
    #: a series' adoptions without a recorded vote, by its target (ISO3)
    without_vote: dict[str, WithoutVoteRecord] = Field(default_factory=dict, max_length=300)
    fit: dict[str, Any] = Field(default_factory=dict, description="what the estimate rests on")


class SharedAllies(Strict):
    """The states that counter-lobby on every draft of the session where they are not the
    target."""

    members: list[StateRef] = Field(..., min_length=1, max_length=200)
    source: str = Field(..., min_length=1, max_length=2000, description="the evidence for it")


class SharedStrategy(Strict):
    """A strategy run by one draft's target (``from``) on another draft (``draft``)."""

    draft: str = Field(..., pattern=DRAFT_NAME, description="the draft it acts on")
    from_: str = Field(..., alias="from", pattern=DRAFT_NAME, description="whose target runs it")
    strategy: dict[str, Any] = Field(
        ..., description="a strategy entry, as under the draft's actors.target.strategies"
    )


def _allies_kind(value: Any) -> str:
    """The union's member for a value: only its errors are reported."""
    return "SharedAllies" if isinstance(value, dict | SharedAllies) else "bool"


class SharedActors(Strict):
    """Actors of the session acting across its drafts (``unsim.session.shared``)."""

    allies_across_drafts: Annotated[
        Annotated[bool, Tag("bool")] | Annotated[SharedAllies, Tag("SharedAllies")],
        Discriminator(_allies_kind),
    ] = Field(
        False,
        description="true: each draft's ally coalition also includes every other draft's target "
        "and allies; or the states listed (members, source); a draft's own target, sponsors and "
        "co-sponsors are left out of its coalition",
    )
    strategies: list[SharedStrategy] = Field(
        default_factory=list,
        max_length=100,
        description="strategies appended to a draft's target strategies, run by another draft's "
        "target",
    )


class SessionSimulation(Strict):
    """How to run a session: runs, the session's master seed and replicates per block."""

    runs: int = Field(10_000, ge=1, le=100_000_000)
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="the session's master seed")
    block_size: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="replicates a block of every draft (default: the drafts' own, which must "
        "then agree)",
    )


class Session(Strict):
    """Several drafts voted in one session, on common random numbers, and what links them."""

    schema_version: Literal[1] = 1
    kind: Literal["session"] = "session"
    name: str = Field(..., pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$", max_length=100)
    description: str | None = None
    date: dt.date | None = Field(None, description="the date the session stands at")
    world: str | World = Field(..., description="path of a world file (relative to this file)")
    drafts: dict[str, Any] = Field(
        ...,
        min_length=1,
        max_length=MAX_DRAFTS,
        description="draft name -> path of a draft scenario (relative to this file), or the "
        "scenario inline",
    )
    linkage: str | Linkage | LinkageFile = Field(
        ..., description="the linkage inline, or the path of a linkage file (unsim calibrate)"
    )
    without_vote: dict[str, WithoutVoteRecord] = Field(
        default_factory=dict,
        max_length=MAX_DRAFTS,
        description="draft name -> its series' record of adoptions without a recorded vote "
        "(default: the linkage file's record of the draft's target, if any)",
    )
    joint_outcomes: dict[str, str] = Field(
        default_factory=dict,
        max_length=50,
        description="name -> expression over the drafts' columns (dprk.plenary_adopted and "
        "iran.plenary_yes > 90)",
    )
    shared_actors: SharedActors | None = Field(
        None, description="actors acting across the drafts (none: each draft's own only)"
    )
    simulation: SessionSimulation = Field(default_factory=SessionSimulation)

    @field_validator("drafts", "without_vote")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        import re

        for name in value:
            if not isinstance(name, str) or not re.match(DRAFT_NAME, name):
                raise ValueError(
                    f"draft name {name!r}: lower-case letters, digits and _, starting with a "
                    "letter (at most 40)"
                )
        return value

    @field_validator("joint_outcomes")
    @classmethod
    def _outcome_names(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for name, text in value.items():
            if not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,59}$", name):
                raise ValueError(f"outcome name {name!r}: letters, digits and _ (at most 60)")
            if len(text) > 1000:
                raise ValueError(f"outcome {name!r}: an expression of at most 1000 characters")
        return value

    def linkage_values(self) -> Linkage:
        """The linkage, inline or from its file."""
        link = self.linkage
        if isinstance(link, LinkageFile):
            return link.linkage
        assert isinstance(link, Linkage), "the linkage file is not loaded"
        return link
