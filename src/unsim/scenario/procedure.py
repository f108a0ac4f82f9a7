"""The procedure around a draft in a scenario file: the no-action motion, the amendment deleting
the ICC paragraphs, the Security Council's settings and the Human Rights Council's stage."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from unsim.fields import StateRef, Strict
from unsim.scenario.council import Council


class NoActionMotion(Strict):
    """The no-action motion: when the allies move it, and who moves it."""

    move: Literal["never", "always", "if_expected_to_pass"] = "if_expected_to_pass"
    mover: StateRef | None = Field(None, description="the state that moves it (for the record)")


class Amendment(Strict):
    """The amendment deleting the ICC paragraphs: when the allies move it, and who moves it."""

    move: Literal["never", "always", "if_icc_retained"] = "if_icc_retained"
    mover: StateRef | None = None
    deletes: Literal["icc_referral"] = "icc_referral"


class HumanRightsCouncil(Strict):
    """The Human Rights Council's stage: whether the draft needs its adoption to go on."""

    required: bool = Field(
        False,
        description="the draft goes on to the General Assembly only where the Human Rights "
        "Council adopts it (false: its vote is reported and the draft goes on either way); read "
        "where resolution.stages holds hrc",
    )


class Procedure(Strict):
    """The procedure around the draft: no-action motion, amendment, Security Council, Human Rights
    Council."""

    no_action_motion: NoActionMotion = Field(default_factory=NoActionMotion)
    amendment: Amendment = Field(default_factory=Amendment)
    council: Council = Field(default_factory=Council)
    human_rights_council: HumanRightsCouncil = Field(default_factory=HumanRightsCouncil)
