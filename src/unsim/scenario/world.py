"""The world a scenario stands in: member states and their regional groups, blocs, the Security
Council of a year and the memberships of other bodies that vote (the Human Rights Council's;
usually a file that several scenarios share)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from unsim.fields import MAX_STATES, Strict

__all__ = [
    "REGIONAL_GROUPS",
    "Bloc",
    "MemberState",
    "Membership",
    "RegionalGroup",
    "SecurityCouncil",
    "World",
]

RegionalGroup = Literal["African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG"]
REGIONAL_GROUPS: tuple[str, ...] = ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG")


# --------------------------------------------------------------------------------------------
# World
# --------------------------------------------------------------------------------------------
class MemberState(Strict):
    """A member state: its ISO3 code, name and UN regional group (and a second group, if any)."""

    iso3: str = Field(..., pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3 code")
    name: str
    group: RegionalGroup = Field(..., description="UN regional group")
    also_in_group: RegionalGroup | None = Field(
        None, description="a second regional group (Turkey votes with WEOG, sits in Asia-Pacific)"
    )


class Bloc(Strict):
    """A named group of states: its members (ISO3 codes), and whether it is an influence group
    in deliberation."""

    name: str = Field(..., description="full name")
    members: list[str] = Field(..., min_length=1, max_length=MAX_STATES, description="ISO3 codes")
    note: str | None = None
    influence: bool = Field(
        True,
        description="an influence group in deliberation (false: only a list of states, e.g. "
        "Rome Statute parties for behaviour.icc_aversion_by_bloc)",
    )


class SecurityCouncil(Strict):
    """The Security Council's members: the five permanent and ten elected (ISO3 codes)."""

    permanent: list[str] = Field(..., min_length=5, max_length=5)
    elected: list[str] = Field(..., min_length=10, max_length=10)


class Membership(Strict):
    """The members of a body that votes on the draft, other than the General Assembly and the
    Security Council (a stage's ``Body.membership`` names it: ``unsim.model.stages``)."""

    name: str = Field(..., description="full name")
    members: list[str] = Field(..., min_length=1, max_length=MAX_STATES, description="ISO3 codes")
    note: str | None = None


class World(Strict):
    """Member states, blocs and the Security Council as of ``date``."""

    schema_version: Literal[1] = 1
    kind: Literal["world"] = "world"
    name: str
    date: dt.date
    description: str | None = None
    states: list[MemberState] = Field(..., min_length=2, max_length=MAX_STATES)
    blocs: dict[str, Bloc] = Field(default_factory=dict, max_length=MAX_STATES)
    security_council: SecurityCouncil
    memberships: dict[str, Membership] = Field(
        default_factory=dict,
        max_length=100,
        description="members of other bodies that vote, by name (human_rights_council: the "
        "Human Rights Council's 47)",
    )

    @cached_property
    def codes(self) -> list[str]:
        """The ISO3 codes of its states, in the order of the state axis."""
        return [s.iso3 for s in self.states]

    @cached_property
    def index(self) -> dict[str, int]:
        """Each state's position on the state axis, by ISO3 code."""
        return {c: i for i, c in enumerate(self.codes)}

    @model_validator(mode="after")
    def _consistent(self) -> World:
        codes = [s.iso3 for s in self.states]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"states listed twice: {', '.join(dupes)}")
        known = set(codes)
        bad = []
        for name, bloc in self.blocs.items():
            bad += [f"blocs.{name}.members: {c}" for c in bloc.members if c not in known]
        for name, body in self.memberships.items():
            bad += [f"memberships.{name}.members: {c}" for c in body.members if c not in known]
            dupes = sorted({c for c in body.members if body.members.count(c) > 1})
            if dupes:
                raise ValueError(f"memberships.{name}: states listed twice: {', '.join(dupes)}")
        sc = self.security_council
        bad += [f"security_council: {c}" for c in sc.permanent + sc.elected if c not in known]
        if bad:
            raise ValueError("unknown ISO3 codes (not among the world's states): " + "; ".join(bad))
        if len(set(sc.permanent + sc.elected)) != 15:
            raise ValueError("the Security Council must have 15 distinct members")
        return self

    def members_of(self, ref: str) -> list[str]:
        """ISO3 codes named by a state code or a bloc name."""
        if ref in self.blocs:
            return list(self.blocs[ref].members)
        return [ref]
