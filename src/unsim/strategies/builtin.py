"""The built-in response strategies of the target state.

Effects are on the latent scale of the vote model (see ``unsim.model.rules``): ``support`` is a
state's general support for the draft, ``icc_aversion`` what the ICC-referral language costs it.
A strategy pushes an effect as ``ctx.shift(quantity, basis, coefficient)``: the change is the
basis (which states, how much each) times a per-replicate coefficient. Bases: ``"undecided"``
(``swing`` = 4 p (1 - p), with p the state's probability of voting yes, times its
``receptiveness``; zero for the target's allies), ``"receptive"`` (receptiveness, zero for
allies), ``"allies"`` (1 for the target's allies) or any array over states; ``states=`` weights
restrict a named basis to some states. Pressure thus lands where minds can change; the model adds
up every push of a round in one pass.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from unsim.fields import ActorRef, StateRef
from unsim.model.stages import stage_named
from unsim.strategies.base import BoolArray, Strategy
from unsim.strategies.context import StrategyContext
from unsim.strategies.outcomes import Outcome
from unsim.strategies.registry import register

Term = Literal["transparent", "prison_camp_access", "unrestricted_access", "follow_up_visits"]


def _assembly_draft(stage: str) -> bool:
    """The General Assembly's vote on the draft (the Third Committee's, the plenary's): what
    the invitation's condition and the threat to halt cooperation answer."""
    st = stage_named(stage)
    return st.on_draft and st.body.everyone


@register
class CharmOffensive(Strategy):
    """Engagement and talk of dialogue that lowers undecided states' appetite for punitive clauses.

    Each active round, an undecided receptive state's ICC aversion rises by
    ``intensity * icc_share`` and its general support falls by ``intensity * (1 - icc_share)``.
    """

    type: Literal["charm_offensive"] = "charm_offensive"
    events = ("charm_offensive",)
    outcomes = ()
    intensity: float = Field(0.1, ge=0, le=5, description="shift per active round (latent scale)")
    icc_share: float = Field(
        0.7, ge=0, le=1, description="share of the effect on appetite for the ICC language"
    )

    def apply(self, ctx: StrategyContext, active: BoolArray) -> None:
        """Push the undecided states: their ICC aversion down by the ICC share of the intensity,
        their support down by the rest."""
        ctx.shift("icc_aversion", "undecided", (self.intensity * self.icc_share) * active)
        ctx.shift("support", "undecided", -(self.intensity * (1.0 - self.icc_share)) * active)
        ctx.event("charm_offensive", active)


@register
class Invitation(Strategy):
    """An offered visit by a UN human-rights mandate holder, optionally conditional on dropping the
    ICC language.

    When first offered, an undecided receptive state whose demanded terms are all offered raises its
    ICC aversion by ``effect * credibility``. The offer is genuine with probability ``credibility``
    (drawn once per run). If conditional, the sponsors weigh it in their bargaining rule; the target
    withdraws it if the ICC language is still in the draft at the first General Assembly vote. The
    offer is accepted (event ``invitation_accepted``) where the sponsors give the language up for
    it, not where they drop it for lack of support. The visit is held if the offer is genuine and
    still stands (and, if conditional, the language went).
    """

    type: Literal["invitation"] = "invitation"
    events = (
        "invitation_offered",
        "invitation_accepted",
        "invitation_withdrawn",
        "visit_held",
    )
    outcomes = (
        Outcome("invitation_offered", "invitation offered"),
        Outcome("invitation_accepted", "invitation accepted (ICC dropped for it)"),
        Outcome("invitation_withdrawn", "invitation withdrawn"),
        Outcome("visit_held", "visit held"),
    )
    visitor: Literal["special_rapporteur", "high_commissioner", "commission_of_inquiry"] = (
        "special_rapporteur"
    )
    conditional_on_dropping_icc: bool = True
    credibility: float = Field(0.5, ge=0, le=1, description="probability the offer is genuine")
    terms: list[Term] = Field(default_factory=list, description="terms the target offers")
    demanded_terms: dict[StateRef, list[Term]] = Field(
        default_factory=dict,
        description="states that take the offer seriously only if all these terms are offered",
    )
    effect: float = Field(0.5, ge=0, le=10, description="one-off rise in ICC aversion")

    def _met(self, ctx: StrategyContext) -> np.ndarray:
        unmet = [s for s, want in self.demanded_terms.items() if not set(want) <= set(self.terms)]
        return ~ctx.state_mask(unmet)

    def offer_credibility(self, sponsors: list[str], unmet_terms_discount: float) -> float:
        """The offer's credibility, discounted if a sponsor demands terms it lacks."""
        unmet = any(
            s in sponsors and not set(want) <= set(self.terms)
            for s, want in self.demanded_terms.items()
        )
        return self.credibility * (unmet_terms_discount if unmet else 1.0)

    def apply(self, ctx: StrategyContext, active: BoolArray) -> None:
        """Offer the invitation where it is active and not yet offered: whether it is genuine is
        drawn once per run; an effect moves the ICC aversion of the undecided states met."""
        offered = ctx.has_event("invitation_offered")
        new = active & ~offered
        if not new.any():  # offered everywhere it is active already: nothing to draw or push
            return
        genuine = ctx.memory("genuine")
        draw = ctx.draw("genuine", per_round=False)
        # (the credibility may be drawn per run: an array over runs)
        genuine[new] = (draw < self.credibility)[new].astype(genuine.dtype)
        standing = ctx.memory("standing")
        standing[new] = 1.0
        ctx.event("invitation_offered", new)
        if np.any(self.effect):
            coefficient = (self.effect * self.credibility) * new
            ctx.shift("icc_aversion", "undecided", coefficient, states=self._met(ctx))

    def conditional_offer(self, ctx: StrategyContext) -> np.ndarray | None:
        """(replicates,) where the offer conditional on dropping the ICC language stands; None
        if the invitation is unconditional."""
        if not self.conditional_on_dropping_icc:
            return None
        return ctx.memory("standing") > 0

    def on_icc_dropped(self, ctx: StrategyContext, mask: BoolArray) -> None:
        """Mark the invitation accepted where the sponsors gave the ICC language up in a bargain
        while the offer stood."""
        # accepted: the sponsors gave the language up for an offer (not for lack of support,
        # where the offer merely still stood)
        if self.conditional_on_dropping_icc:
            taken = mask & ctx.icc_bargained & (ctx.memory("standing") > 0)
            ctx.event("invitation_accepted", taken)

    def on_vote(self, ctx: StrategyContext, stage: str, adopted: BoolArray) -> None:
        """At the Assembly's vote on the draft, withdraw a conditional offer where the ICC
        language is still in it."""
        if not self.conditional_on_dropping_icc or not _assembly_draft(stage):
            return
        standing = ctx.memory("standing")
        withdraw = (standing > 0) & ctx.icc_retained
        standing[withdraw] = 0.0
        ctx.event("invitation_withdrawn", withdraw)

    def finish(self, ctx: StrategyContext) -> None:
        """Mark the visit held where a genuine offer still stands (and, if conditional, the ICC
        language was dropped)."""
        held = (ctx.memory("standing") > 0) & (ctx.memory("genuine") > 0)
        if self.conditional_on_dropping_icc:
            held &= ~ctx.icc_retained
        ctx.event("visit_held", held)


@register
class Threats(Strategy):
    """Threats to halt cooperation, weapons tests, pressure on defectors.

    Each active round allies harden (support falls by ``intensity``), and undecided non-allied
    states move by ``(backfire - intimidation) * intensity``: toward yes when the threat backfires
    more than it intimidates. With ``halt_cooperation``, the target halts cooperation on human
    rights in the runs where it threatened and the General Assembly then adopted the draft.
    """

    type: Literal["threats"] = "threats"
    events = ("threats_made", "cooperation_halted")
    outcomes = (Outcome("cooperation_halted", "cooperation halted"),)
    intensity: float = Field(0.1, ge=0, le=5, description="shift per active round (latent scale)")
    backfire: float = Field(0.6, ge=0, le=1, description="pull of undecided states toward yes")
    intimidation: float = Field(0.2, ge=0, le=1, description="push of undecided states toward no")
    halt_cooperation: bool = True

    def apply(self, ctx: StrategyContext, active: BoolArray) -> None:
        """Lower the allies' support by the intensity, and move the undecided states' support by
        (backfire - intimidation) times it."""
        ctx.shift("support", "allies", -self.intensity * active)
        ctx.shift(
            "support", "undecided", ((self.backfire - self.intimidation) * self.intensity) * active
        )
        ctx.event("threats_made", active)

    def on_vote(self, ctx: StrategyContext, stage: str, adopted: BoolArray) -> None:
        """With ``halt_cooperation``, mark cooperation halted where the Assembly adopts the
        draft after threats."""
        if self.halt_cooperation and _assembly_draft(stage):
            ctx.event("cooperation_halted", adopted & ctx.has_event("threats_made"))


@register
class Deception(Strategy):
    """Cosmetic concessions (closing one camp while moving its inmates) that help until exposed.

    While unexposed, undecided receptive states' support falls by ``intensity`` each active round.
    Each active round the deception is exposed with probability ``exposure_hazard``; on exposure
    every receptive non-allied state's support rises by ``exposure_penalty`` once.
    """

    type: Literal["deception"] = "deception"
    events = ("deception_exposed",)
    outcomes = (Outcome("deception_exposed", "deception exposed"),)
    intensity: float = Field(0.1, ge=0, le=5, description="shift per active round while unexposed")
    exposure_hazard: float = Field(0.1, ge=0, le=1, description="chance of exposure per round")
    exposure_penalty: float = Field(0.5, ge=0, le=10, description="one-off backlash on exposure")

    def apply(self, ctx: StrategyContext, active: BoolArray) -> None:
        """Lower the undecided states' support until the deception is exposed (a hazard each
        round); exposure moves the receptive states' support by the penalty."""
        act = active & ~ctx.has_event("deception_exposed")
        ctx.shift("support", "undecided", -self.intensity * act)
        exposed = act & (ctx.draw("exposure") < self.exposure_hazard)
        ctx.event("deception_exposed", exposed)
        if exposed.any():
            ctx.shift("support", "receptive", self.exposure_penalty * exposed)


@register
class Inducements(Strategy):
    """Aid or trade promises to chosen states: their support falls by ``amount`` per active round
    (scaled by receptiveness)."""

    type: Literal["inducements"] = "inducements"
    events = ("inducements",)
    outcomes = ()
    recipients: list[ActorRef] = Field(..., min_length=1, description="states or blocs courted")
    amount: float = Field(0.1, ge=0, le=5, description="shift per active round (latent scale)")

    def apply(self, ctx: StrategyContext, active: BoolArray) -> None:
        """Lower the support of the recipient states, weighted by their receptiveness, by the
        amount."""
        basis = ctx.state_mask(self.recipients)[:, None] * ctx.receptiveness
        ctx.shift("support", basis, -self.amount * active)
        ctx.event("inducements", active)


#: The built-in strategies' events, in order: a column of every run table, whichever strategies
#: a scenario has (``model.outcomes.EVENTS``).
EVENTS = tuple(
    e for kind in (CharmOffensive, Invitation, Threats, Deception, Inducements) for e in kind.events
)
