"""How the votes of a run are held, as a mixin of ``UNModel``: the stages of
``unsim.model.stages`` (``UNModel.simulate`` walks them and calls each one's handler, which
calls its kind's method here: ``hold_*``), each vote's stances, the Assembly's votes (every member
state's decision rule at once, compiled, then the habit; a body with a membership of its own,
the Human Rights Council, votes so too, the other states recorded absent and not counted), the
Council's (each member's own stance, one rule for the 15 seats), and the tallies recorded per
replicate (the run table's columns, ``unsim.model.outcomes.run_columns``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.model import absence, habit, kernels, rules
from unsim.model.agents import AllyCoalition, MemberState, SponsorCoalition
from unsim.model.diplomacy import Diplomacy
from unsim.model.outcomes import ICC_REASON, ICC_STATUS
from unsim.model.params import Parameters
from unsim.model.procedure import VoteRule
from unsim.model.stages import Item, Stage, Walk, stage_named
from unsim.model.targetvote import apply_target_vote
from unsim.scenario.schema import Scenario
from unsim.strategies import BoundStrategy

F = NDArray[np.float32]
B = NDArray[np.bool_]


class Voting(Diplomacy):
    """The votes of a run over the model's arrays (see ``UNModel``)."""

    spec: Scenario
    params: Parameters
    icc_reason: NDArray[np.int8]
    permanent: B
    council: B
    council_agents: list[MemberState]
    _council_rows: NDArray[np.intp]
    sponsor_agent: SponsorCoalition
    ally_agent: AllyCoalition
    strategies: list[BoundStrategy]
    votes: dict[str, NDArray[np.int8]]
    outcomes: dict[str, NDArray[Any]]
    _body_masks: dict[str, B | None]

    def members(self, stage: str) -> B | None:
        """(states,) the members of the body that votes at ``stage`` (None: every state)."""
        body = stage_named(stage).body
        if body.key not in self._body_masks:
            self._body_masks[body.key] = body.mask(self.world)
        return self._body_masks[body.key]

    def stances(self, stage: str) -> F:
        """(states, replicates) every state's stance at ``stage`` (``rules``: on the no-action
        motion; on the amendment deleting the ICC paragraphs, minus its stance on the clause
        plus the amendment's bias; or on the draft, which carries the pass-through's share of
        the clause's cost). ``MemberState`` reads one state's."""
        b, st = self.behaviour, stage_named(stage)
        if st.item is Item.NO_ACTION:
            return rules.no_action_stance(self.support, self._bias(st))
        if st.item is Item.AMENDMENT:
            return rules.amendment_stance(self.support, self.icc_aversion, self._bias(st))
        factor = self.icc_factor()
        return rules.draft_stance(self.support, self.icc_aversion, factor, b.clause_pass_through)

    def _bias(self, st: Stage) -> Any:
        """A motion's bias (``Stage.bias``, a behaviour parameter), as drawn where the scenario
        gives a distribution."""
        assert st.bias is not None
        return self.lever(st.bias, getattr(self.behaviour, st.bias.rpartition(".")[2]))

    def _record(
        self,
        stage: str,
        held: B,
        votes: NDArray[np.int8],
        adopted: B,
        counts: NDArray[np.int32] | None = None,
    ) -> None:
        """Keep the votes at ``stage`` and report its columns: held, the tally (zero where not
        held), adopted."""
        if counts is None:
            counts = rules.tally(votes, self.members(stage))
        counts[:, ~held] = 0
        self.votes[stage] = votes
        o = self.outcomes
        o[f"{stage}_held"] = held
        for k, name in enumerate(("yes", "no", "abstain", "absent")):
            o[f"{stage}_{name}"] = counts[k].astype(np.int16)
        o[f"{stage}_adopted"] = adopted & held

    def _assembly_vote(self, stage: str, held: B) -> B:
        """The vote at Assembly ``stage`` where ``held`` (``kernels.votes`` of the stage's tanh
        argument, ``kernel_args.argument_form``)."""
        if not held.any():  # nobody votes (its stream is its own: skipping it changes no other)
            none = np.zeros(self.n_replicates, dtype=bool)
            votes = np.full((self.n_states, self.n_replicates), rules.ABSENT, dtype=np.int8)
            self._record(stage, none, votes, none, np.zeros((4, self.n_replicates), np.int32))
            if self._observers:
                self._voted(stage, votes)
            return none
        u = self.streams.uniform(f"vote:{stage}", (self.n_states, self.n_replicates))
        linked = getattr(self.spec, "vote_uniforms", None)  # a session's vote copula
        if linked is not None:
            u = linked(self.streams, stage, u)
        u = absence.shaken(self, stage, u)
        votes, counts = habit.apply_habit(self, stage, *self.assembly_votes(stage, u))
        votes, counts = apply_target_vote(self, stage, votes, counts)
        members = self.members(stage)
        if members is not None:  # a body of its own: the others are absent, not counted
            votes[~members] = rules.ABSENT
            counts = rules.tally(votes, members)
        adopted = self._rule(stage).adopted(counts[0], counts[1]) & held
        self._record(stage, held, votes, adopted, counts)
        if self._observers:
            self._voted(stage, votes)
        return adopted

    def assembly_votes(self, stage: str, u: F) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
        """Every member state's vote at Assembly ``stage`` from the uniforms ``u`` (states,
        replicates), and the tally: ``MemberState.decide`` for all states at once, compiled
        (``kernels.votes`` of the stage's tanh form). A vote on the draft also observes it."""
        votes = np.empty((self.n_states, self.n_replicates), dtype=np.int8)
        counts = np.empty((4, self.n_replicates), dtype=np.int32)
        draft = stage_named(stage).on_draft
        c = self.compiled
        kernels.votes(
            self._histories(),
            c.draft(*self._gap(), stage) if draft else self._motion(stage),
            kernels.Ballot(c.w_offset, c.w_scale, u, votes, counts),
            # a vote on the draft also observes it for the rounds that follow (the state does
            # not change in between)
            draft,
            c.kinds,
            self._observation(self._group_means),
        )
        self._observed = self._observed or draft
        return votes, counts

    def _motion(self, stage: str) -> kernels.Draft:
        """How the kernels see a motion's vote (the no-action motion, the amendment): its tanh
        form; with its bias drawn per run, the change from the form's bias enters through the
        per-replicate ``gap`` with coefficient 1 / (2 noise) (``kernel_args.argument_form``)."""
        c, bias = self.compiled, stage_named(stage).bias
        assert bias is not None
        drawn = None if self.levers is None else self.levers.draws.get(bias)
        if drawn is None:
            return c.draft(self._no_gap, False, stage)
        point = np.float32(getattr(self.behaviour, bias.rpartition(".")[2]))
        form = c.forms[stage].copy()
        form[6] = c.half
        return kernels.Draft(drawn - point, True, form, c.pair, c.presence, c.lobbied)

    def _council_vote(self, stage: str, held: B) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
        """Every member's vote by its own stance (``council_stance``), then one rule for the 15
        seats at once (``rules.cast_votes`` with no absences, as ``kernels.cast``): the votes of
        all states (the others absent) and the tally."""
        # one uniform per Council seat (in world order of the members) and replicate
        seats, r = len(self.council_agents), self.n_replicates
        u = self.streams.uniform(f"vote:{stage}", (seats, r))
        cast = np.empty((seats, r), dtype=np.int8)
        counts = np.empty((4, r), dtype=np.int32)
        half = self.compiled.half
        band_half = np.float32(self.behaviour.abstention_band) * half
        kernels.cast(
            self._council_stances(stage), half, band_half, self.compiled.pair, u, cast, counts
        )
        votes = np.full((self.n_states, r), rules.ABSENT, dtype=np.int8)
        votes[self._council_rows] = cast
        return votes, counts

    def _council_stances(self, stage: str) -> F:
        """(seats, replicates) each Council member's stance at ``stage``, by its own rule (formed
        once between two rounds: the sponsors' expectation and the vote read the same)."""
        key = f"council:{stage}"
        if key not in self._cache:
            self._cache[key] = np.stack([a.council_stance(stage) for a in self.council_agents])
        return self._cache[key]  # type: ignore[no-any-return]

    def _expected_council(self, stage: str) -> tuple[F, F]:
        b = self.behaviour
        p_yes, p_no = rules.present_probabilities(
            self._council_stances(stage), b.abstention_band, b.vote_noise
        )
        no_veto = np.prod(np.float32(1.0) - p_no[self.permanent[self._council_rows]], axis=0)
        return p_yes.sum(axis=0), np.float32(1.0) - no_veto

    # -- the stages' kinds (``stages.SESSIONS``: each stage's handler calls one) -------------
    def hold_no_action(self, stage: Stage, walk: Walk) -> None:
        sums = np.empty((2, self.n_replicates), dtype=np.float32)
        kernels.expected(self._histories(), self._motion(stage.name), sums)
        # expected yes = sum of presence * (1 + t_yes) / 2, expected no likewise
        total = self.compiled.presence_total
        moved = self.ally_agent.moves_no_action(
            np.float32(0.5) * (total + sums[0]), np.float32(0.5) * (total - sums[1])
        )
        walk.alive &= ~self._assembly_vote(stage.name, moved)

    def hold_amendment(self, stage: Stage, walk: Walk) -> None:
        moved = self.ally_agent.moves_amendment() & walk.alive
        deleted = self._assembly_vote(stage.name, moved)
        self.icc_reason[deleted & self.icc_retained] = ICC_REASON.index("amendment")
        self.icc_status[deleted] = ICC_STATUS.index("dropped")
        self._observed = False  # the draft changed

    def hold_draft(self, stage: Stage, walk: Walk) -> None:
        """A vote on the draft where it stands; the draft goes on only where it is adopted
        (where the stage is ``binding`` for the scenario)."""
        adopted = self._assembly_vote(stage.name, walk.alive.copy())
        for st in self.strategies:
            st.on_vote(self, stage.name, adopted)
        if stage.binding(self.spec):
            walk.alive &= adopted

    def _agenda(self, walk: Walk) -> B:
        if walk.on_agenda is None:
            council = self.spec.procedure.council
            walk.on_agenda = (
                walk.alive.copy()
                if council.requires_plenary_adoption
                else np.ones(self.n_replicates, dtype=bool)
            )
        return walk.on_agenda

    def hold_agenda(self, stage: Stage, walk: Walk) -> None:
        on_agenda = self._agenda(walk)
        votes, counts = self._council_vote(stage.name, on_agenda)
        adopted = self._rule(stage.name).adopted(counts[0], counts[1]) & on_agenda
        self._record(stage.name, on_agenda, votes, adopted, counts)
        if self._observers:
            self._voted(stage.name, votes)
        walk.on_agenda = adopted

    def hold_referral(self, stage: Stage, walk: Walk) -> None:
        name = stage.name
        ey, p_veto = self._expected_council(name)
        tabled = self._agenda(walk) & self.sponsor_agent.table_referral(ey, p_veto)
        if self.spec.procedure.council.referral_requires_icc_language:
            tabled &= self.icc_retained
        votes, counts = self._council_vote(name, tabled)
        perm_no = rules.tally(votes, self.permanent)[1]
        adopted = self._rule(name).adopted(counts[0], counts[1], perm_no) & tabled
        self._record(name, tabled, votes, adopted, counts)
        if self._observers:
            self._voted(name, votes)
        for code in self.world.security_council.permanent:
            i = self.world.index[code]
            self.outcomes[f"veto_{code}"] = tabled & (votes[i] == rules.NO)
        self.outcomes[f"{name}_vetoed"] = tabled & (perm_no > 0)

    def _voted(self, stage: str, votes: NDArray[np.int8]) -> None:
        """Tell the observers of the vote at ``stage``: every state's stance as the vote saw it
        (in the Council each member's, the others' rows zero) and the votes."""
        if stage_named(stage).body.is_council:
            stances = np.zeros((self.n_states, self.n_replicates), dtype=np.float32)
            stances[self._council_rows] = self._council_stances(stage)
        else:
            stances = np.array(self.stances(stage), dtype=np.float32)
        for o in self._observers:
            o.on_vote(self, stage, stances, votes.copy())  # type: ignore[arg-type]

    def _rule(self, stage: str) -> VoteRule:
        return stage_named(stage).vote_rule(self.spec.resolution.majority)
