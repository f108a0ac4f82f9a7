"""The scenario's Security Council procedure (``procedure.council``): when the Council takes the
matter up, when its sponsors table a referral draft, and how its members vote on one.

Two rules come from the Council's own record (``unsim.council``):

* ``table_referral: record``: a referral that can win nine votes is tabled with a chance fitted
  on the situations in which a referral was sought (``tabling.opposed_by`` states the signal),
  drawn per run from its estimation uncertainty;
* ``votes``: each member's stance on the referral draft is the Council's norm toward yes, less
  a patron's defence and an earlier dissenter's reluctance, fitted member by member on the
  recorded Council votes (``unsim backtest --council``). Without it (None) a member votes by its
  Assembly support, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from unsim.council.tabling import from_moments, record_chance
from unsim.fields import LATENT, StateRef
from unsim.uncertainty import Levered, Uncertain
from unsim.uncertainty.values import problem


def _old_chance(value: Any) -> Any:
    """A chance written as ``{mean, sd}`` (the format before distributions) as the Beta of
    those moments (``{dist: beta, ...}``, or the mean itself when the sd is 0); anything else
    as it is. ``ValueError`` with what to write instead when no Beta has those moments."""
    if not (isinstance(value, Mapping) and set(value) and set(value) <= {"mean", "sd"}):
        return value
    mean, sd = value.get("mean"), value.get("sd", 0.0)
    if not isinstance(mean, int | float) or not isinstance(sd, int | float) or sd < 0:
        raise ValueError(f"{{mean, sd}} needs two numbers (sd at least 0), got {dict(value)}")
    beta = from_moments(float(mean), float(sd))
    return beta if isinstance(beta, float) else beta.model_dump(exclude_none=True)


class Tabling(Levered):
    """What the rule ``table_referral: record`` reads: the signal observable before the vote and
    the chance itself (a number or a distribution; left out: the record's)."""

    opposed_by: list[StateRef] = Field(
        default_factory=list,
        max_length=5,
        description="permanent members that defended the target in the Council's votes or "
        "publicly opposed a referral of the situation (stated patrons): the signal",
    )
    chance: float | None = Field(
        None,
        ge=0,
        le=1,
        description="the chance that a referral that can win nine votes is tabled, a number or "
        "a distribution drawn once per run (e.g. {dist: beta, a, b}); left out: fitted on the "
        "Council's record before the scenario's date for the signal (unsim.council.tabling). "
        "The earlier form {mean, sd} is read as the Beta of those moments",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _earlier_form(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """``chance: {mean, sd}`` read as the Beta of those moments (before the distributions
        are read)."""
        if not (isinstance(data, Mapping) and "chance" in data):
            return handler(data)
        try:
            chance = _old_chance(data["chance"])
        except ValueError as err:
            detail = problem(
                ("chance",),
                dict(data["chance"]),
                str(err),
                "a number in [0, 1] or a distribution such as {dist: beta, a: 3, b: 4.75} "
                "(the earlier {mean, sd} is read as the Beta of those moments)",
            )
            raise ValidationError.from_exception_data(cls.__name__, [detail]) from None
        return handler({**data, "chance": chance})

    @field_validator("opposed_by")
    @classmethod
    def _permanent(cls, values: list[str], info: ValidationInfo) -> list[str]:
        world = info.context.get("world") if isinstance(info.context, dict) else None
        if world is not None:
            permanent = list(world.security_council.permanent)
            bad = [v for v in values if v not in permanent]
            if bad:
                raise ValueError(
                    f"{bad}: not permanent members of the Council ({', '.join(permanent)})"
                )
        return values


class CouncilVotes(Levered):
    """How each member votes on a referral draft (its stance, on the latent scale of the vote
    model's band and noise): ``norm + support_weight * support - icc_weight * ICC cost -
    patron_defence (a patron among the permanent members) - dissent (a stated dissenter)``
    plus its own ``actors.states.<ISO3>.council_shift``; a patron's also takes
    ``patron_shock`` times a standard normal of the run that every patron shares. Fitted by
    ``unsim backtest --council``."""

    norm: float = Field(..., ge=-LATENT, le=LATENT, description="the Council's norm toward yes")
    patron_defence: float = Field(
        ..., ge=0, le=LATENT, description="a patron's defence of the target (actors.allies.patrons)"
    )
    dissent: float = Field(0.0, ge=0, le=LATENT, description="reluctance of a member in dissenters")
    patron_shock: float = Field(
        0.0,
        ge=0,
        le=LATENT,
        description="sd of a shock drawn once per run and shared by the target's patrons among "
        "the permanent members (their votes go together; 0: drawn apart)",
    )
    dissenters: list[StateRef] = Field(
        default_factory=list,
        max_length=15,
        description="elected members that abstained on or voted against an earlier Council "
        "draft on the situation",
    )
    support_weight: float = Field(
        0.0, ge=0, le=100, description="weight of the member's Assembly support for the draft"
    )
    icc_weight: float = Field(
        0.0, ge=0, le=100, description="weight of what the ICC language costs the member"
    )


class Council(Levered):
    """The Security Council's part: when it takes the matter up, when a referral draft is
    tabled, and how members vote on it."""

    requires_plenary_adoption: bool = Field(
        True, description="the Council takes the matter up only if the plenary adopted the draft"
    )
    referral_requires_icc_language: bool = Field(
        True,
        description="a referral draft is tabled only if the adopted text kept the ICC language",
    )
    table_referral: Literal[
        "never", "always", "if_nine_votes", "if_no_veto_expected", "expected", "record"
    ] = Field(
        "if_nine_votes",
        description="when the Council's sponsors table a referral draft, judged on expected votes "
        "(expected: if nine yes are expected, always when no veto is expected and with the chance "
        "table_into_veto when one is; record: if nine yes are expected, with the chance fitted on "
        "the Council's record for the signal in tabling, drawn per run)",
    )
    table_into_veto: float = Field(
        0.5,
        ge=0,
        le=1,
        description="with table_referral: expected, the chance that the sponsors table a referral "
        "they expect to be vetoed (to put the veto on record)",
    )
    tabling: Tabling = Field(
        default_factory=Tabling, description="with table_referral: record, its signal and chance"
    )
    votes: CouncilVotes | None = Field(
        None,
        description="how members vote on the referral draft, fitted on the Council's record "
        "(left out: by their Assembly support, the Council shift and a patron's tie)",
    )


def fill_record_chance(council: Council, on: date | None) -> None:
    """Under ``table_referral: record`` with the chance left out, the chance fitted on the
    Council's record as known on ``on`` (:func:`unsim.council.tabling.record_chance`), set as
    the scenario's distribution (so it is drawn, shown and removed like any other)."""
    tabling = council.tabling
    if council.table_referral != "record" or tabling.chance is not None:
        return
    chance = Uncertain(record_chance(bool(tabling.opposed_by), on))
    tabling.__dict__["chance"] = chance
