"""The coalitions among the agents: the draft's main sponsors and the target's allies (the member
states are in ``unsim.model.agents``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from numpy.typing import NDArray

from unsim.council import tabling
from unsim.model.observers import COUNTER_LOBBYING, LOBBYING
from unsim.model.outcomes import ICC_REASON

if TYPE_CHECKING:
    from unsim.model.model import UNModel

F = NDArray[np.float32]
B = NDArray[np.bool_]


class SponsorCoalition(mesa.Agent):
    """The draft's main sponsors: they lobby undecided states, decide whether to give way on the ICC
    language, and (as the Council's referral sponsors) whether to table a referral."""

    model: UNModel

    def lobby(self) -> None:
        """Share the lobbying budget over undecided states (see ``rules.allocate``)."""
        m = self.model
        lob = m.spec.actors.sponsors.lobbying
        if lob.budget and lob.efficacy:
            budget = m.lever("actors.sponsors.lobbying.budget", lob.budget)
            efficacy = m.lever("actors.sponsors.lobbying.efficacy", lob.efficacy)
            m.shift("support", "lobbied", m.lobby_share(budget * efficacy), source=LOBBYING)

    def bargain(self) -> None:
        """From the bargaining round on, soften or drop the ICC language where the sponsors
        accept an offer or expect too few yes votes."""
        m = self.model
        rule = m.spec.actors.sponsors.bargaining
        if m.round < rule.from_round or not m.spec.resolution.clauses.icc_referral:
            return
        retained = m.icc_retained
        if not retained.any():
            return
        accept = np.zeros(m.n_replicates, dtype=bool)
        path = "actors.sponsors.bargaining."
        discount = m.lever(path + "unmet_terms_discount", rule.unmet_terms_discount)
        noise = m.lever(path + "credibility_noise", rule.credibility_noise)
        bar = m.lever(path + "accept_offer_min_credibility", rule.accept_offer_min_credibility)
        for s in m.strategies:
            offer = s.conditional_offer(m)
            if offer is None:
                continue
            credibility = s.offer_credibility(m.sponsor_codes, discount)
            judged = credibility + noise * m.sponsor_judgement
            accept |= offer & (judged >= bar)
        floor = m.lever(
            path + "drop_if_expected_yes_share_below", rule.drop_if_expected_yes_share_below
        )
        short = m.expected_yes_share() < floor
        give = retained & (accept | short)
        if give.any():
            status = 2 if rule.action == "drop" else 1
            m.icc_status[give] = status
            m.icc_reason[give & accept] = ICC_REASON.index("bargain")
            m.icc_reason[give & ~accept] = ICC_REASON.index("support_short")
            for s in m.strategies:
                s.on_icc_dropped(m, give)

    def table_referral(self, expected_yes: F, veto_probability: F) -> B:
        """Where the sponsors table a referral draft, from the yes votes they expect and the
        chance of a veto they see (``procedure.council.table_referral``). With ``expected``, a
        draft that can win nine votes is tabled with probability
        ``1 - veto_probability * (1 - table_into_veto)``: always when no veto is expected, with
        the chance ``table_into_veto`` into a certain veto (its own random stream). With
        ``record``, a draft that can win nine votes is tabled with the chance
        ``tabling.chance``, the run's own where it is a distribution (the record's Beta when
        the scenario leaves it out; ``unsim.council.tabling``)."""
        council = self.model.spec.procedure.council
        rule = council.table_referral
        n = self.model.n_replicates
        if rule == "record":
            stated = council.tabling.chance
            if stated is None:  # a scenario copied without validation: the record's mean
                stated = tabling.record_fit(bool(council.tabling.opposed_by)).mean
            chance = self.model.lever("procedure.council.tabling.chance", stated)
            u = self.model.streams.uniform("sponsors:table_referral", n)
            return (expected_yes >= 9) & (u < np.float32(chance))  # type: ignore[no-any-return]
        if rule == "expected":
            into = self.model.lever("procedure.council.table_into_veto", council.table_into_veto)
            chance = 1.0 - veto_probability * np.float32(1.0 - into)
            u = self.model.streams.uniform("sponsors:table_referral", n)
            return (expected_yes >= 9) & (u < chance)  # type: ignore[no-any-return]
        if rule == "always":
            return np.ones(n, dtype=bool)
        if rule == "never":
            return np.zeros(n, dtype=bool)
        if rule == "if_nine_votes":
            return expected_yes >= 9  # type: ignore[no-any-return]
        return (expected_yes >= 9) & (veto_probability < 0.5)  # type: ignore[no-any-return]


class AllyCoalition(mesa.Agent):
    """The target's allies and patrons: they counter-lobby undecided states and use procedure."""

    model: UNModel

    def counter_lobby(self) -> None:
        """The allies lobby against the draft, lowering the support of the states they reach."""
        m = self.model
        lob = m.spec.actors.allies.counter_lobbying
        if lob.budget and lob.efficacy and m.allies.any():
            budget = m.lever("actors.allies.counter_lobbying.budget", lob.budget)
            efficacy = m.lever("actors.allies.counter_lobbying.efficacy", lob.efficacy)
            share = -m.lobby_share(budget * efficacy)
            m.shift("support", "lobbied", share, source=COUNTER_LOBBYING)

    def moves_no_action(self, expected_yes: F, expected_no: F) -> B:
        """(replicates,) where the allies move no action: always, never, or where the expected
        yes exceed the expected no."""
        rule = self.model.spec.procedure.no_action_motion.move
        n = self.model.n_replicates
        if rule == "always":
            return np.ones(n, dtype=bool)
        if rule == "never":
            return np.zeros(n, dtype=bool)
        return expected_yes > expected_no  # type: ignore[no-any-return]

    def moves_amendment(self) -> B:
        """(replicates,) where the allies move the amendment deleting the ICC paragraphs."""
        rule = self.model.spec.procedure.amendment.move
        m = self.model
        if rule == "never" or not m.spec.resolution.clauses.icc_referral:
            return np.zeros(m.n_replicates, dtype=bool)
        if rule == "always":
            return np.ones(m.n_replicates, dtype=bool)
        return m.icc_retained.copy()
