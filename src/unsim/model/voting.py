"""How the votes of a run are held, as an object the model holds (``UNModel.procedure``): the
stages of ``unsim.model.stages`` (``UNModel.simulate`` walks them and calls each one's handler,
which calls its kind's method here: ``hold_*``), each vote's stances, the Assembly's votes
(every member state's decision rule at once, compiled, then the habit; a body with a
membership of its own, the Human Rights Council, votes so too, the other states recorded absent
and not counted), the Council's (each member's own stance, one rule for the 15 seats), and the
tallies recorded per replicate (the run table's columns, ``unsim.model.outcomes.run_columns``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from unsim.model import absence, habit, kernels, rules
from unsim.model.agents import MemberState
from unsim.model.levers import column_name
from unsim.model.outcomes import ICC_REASON, ICC_STATUS
from unsim.model.procedure import VoteRule
from unsim.model.stages import Item, Stage, Walk, stage_named
from unsim.model.targetvote import apply_target_vote

if TYPE_CHECKING:
    from unsim.model.model import UNModel

F = NDArray[np.float32]
B = NDArray[np.bool_]


class Procedure:
    """The votes of ``model``'s runs (see the module doc)."""

    def __init__(self, model: UNModel) -> None:
        self.model = model
        self._body_masks: dict[str, B | None] = {}

    def members(self, stage: str) -> B | None:
        """(states,) the members of the body that votes at ``stage`` (None: every state)."""
        body = stage_named(stage).body
        if body.key not in self._body_masks:
            self._body_masks[body.key] = body.mask(self.model.world)
        return self._body_masks[body.key]

    def stances(self, stage: str) -> F:
        """(states, replicates) every state's stance at ``stage`` (``rules``: on the no-action
        motion; on the amendment deleting the ICC paragraphs, minus its stance on the clause
        plus the amendment's bias; or on the draft, which carries the pass-through's share of
        the clause's cost). ``MemberState`` reads one state's."""
        m = self.model
        b, st = m.behaviour, stage_named(stage)
        if st.item is Item.NO_ACTION:
            return rules.no_action_stance(m.support, self.bias(st))
        if st.item is Item.AMENDMENT:
            return rules.amendment_stance(m.support, m.icc_aversion, self.bias(st))
        factor = m.icc_factor()
        return rules.draft_stance(m.support, m.icc_aversion, factor, b.clause_pass_through)

    def bias(self, st: Stage) -> Any:
        """A motion's bias (``Stage.bias``, a behaviour parameter), as drawn where the scenario
        gives a distribution."""
        m = self.model
        assert st.bias is not None
        return m.lever(st.bias, getattr(m.behaviour, st.bias.rpartition(".")[2]))

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
        m = self.model
        if counts is None:
            counts = rules.tally(votes, self.members(stage))
        counts[:, ~held] = 0
        m.votes[stage] = votes
        o = m.outcomes
        o[f"{stage}_held"] = held
        for k, name in enumerate(("yes", "no", "abstain", "absent")):
            o[f"{stage}_{name}"] = counts[k].astype(np.int16)
        o[f"{stage}_adopted"] = adopted & held

    def _assembly_vote(self, stage: str, held: B) -> B:
        """The vote at Assembly ``stage`` where ``held`` (``kernels.votes`` of the stage's tanh
        argument, ``kernel_args.argument_form``)."""
        m = self.model
        if not held.any():  # nobody votes (its stream is its own: skipping it changes no other)
            none = np.zeros(m.n_replicates, dtype=bool)
            votes = np.full((m.n_states, m.n_replicates), rules.ABSENT, dtype=np.int8)
            self._record(stage, none, votes, none, np.zeros((4, m.n_replicates), np.int32))
            if m.observers:
                self._voted(stage, votes)
            return none
        u = m.streams.uniform(f"vote:{stage}", (m.n_states, m.n_replicates))
        linked = getattr(m.spec, "vote_uniforms", None)  # a session's vote copula
        if linked is not None:
            u = linked(m.streams, stage, u)
        u = absence.shaken(m, stage, u)
        votes, counts = self.assembly_votes(stage, u, habit.habit_uniforms(m, stage))
        votes, counts = apply_target_vote(m, stage, votes, counts)
        members = self.members(stage)
        if members is not None:  # a body of its own: the others are absent, not counted
            votes[~members] = rules.ABSENT
            counts = rules.tally(votes, members)
        adopted = self._rule(stage).adopted(counts[0], counts[1]) & held
        self._record(stage, held, votes, adopted, counts)
        if m.observers:
            self._voted(stage, votes)
        return adopted

    def assembly_votes(
        self, stage: str, u: F, habit_u: NDArray[np.uint16] | None = None
    ) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
        """Every member state's vote at Assembly ``stage`` from the uniforms ``u`` (states,
        replicates), with the habit where ``habit_u`` gives its uniform integers
        (``habit.habit_uniforms``), and the tally: ``MemberState.decide`` for all states at
        once (compiled). A vote on the draft also observes it."""
        m = self.model
        counts = np.empty((4, m.n_replicates), dtype=np.int32)
        votes = MemberState.decide(m.member_states, stage, u, habit_u, counts=counts)
        return votes, counts

    def _council_vote(self, stage: str, held: B) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
        """Every member's vote by its own stance (``MemberState.decide_in_council``): the votes
        of all states (the others absent) and the tally."""
        m = self.model
        # one uniform per Council seat (in world order of the members) and replicate
        seats, r = len(m.council_agents), m.n_replicates
        u = m.streams.uniform(f"vote:{stage}", (seats, r))
        counts = np.empty((4, r), dtype=np.int32)
        cast = MemberState.decide_in_council(m.council_agents, stage, u, counts=counts)
        votes = np.full((m.n_states, r), rules.ABSENT, dtype=np.int8)
        votes[m._council_rows] = cast
        return votes, counts

    def council_stances(self, stage: str) -> F:
        """(seats, replicates) each Council member's stance at ``stage``, by its own rule (formed
        once between two rounds: the sponsors' expectation and the vote read the same)."""
        m = self.model
        key = f"council:{stage}"
        if key not in m._cache:
            m._cache[key] = np.stack([a.council_stance(stage) for a in m.council_agents])
        return m._cache[key]  # type: ignore[no-any-return]

    def _expected_council(self, stage: str) -> tuple[F, F]:
        m = self.model
        b = m.behaviour
        p_yes, p_no = rules.present_probabilities(
            self.council_stances(stage), b.abstention_band, b.vote_noise
        )
        no_veto = np.prod(np.float32(1.0) - p_no[m.permanent[m._council_rows]], axis=0)
        return p_yes.sum(axis=0), np.float32(1.0) - no_veto

    # -- the stages' kinds (``stages.SESSIONS``: each stage's handler calls one) -------------
    def hold_no_action(self, stage: Stage, walk: Walk) -> None:
        """The no-action motion: moved by the allies as they judge the expected tally; where it
        is adopted the draft dies."""
        m = self.model
        sums = np.empty((2, m.n_replicates), dtype=np.float32)
        kernels.expected(m.observation.histories(), MemberState.vote_form(m, stage.name), sums)
        # expected yes = sum of presence * (1 + t_yes) / 2, expected no likewise
        total = m.compiled.presence_total
        moved = m.ally_agent.moves_no_action(
            np.float32(0.5) * (total + sums[0]), np.float32(0.5) * (total - sums[1])
        )
        walk.alive &= ~self._assembly_vote(stage.name, moved)

    def hold_amendment(self, stage: Stage, walk: Walk) -> None:
        """The amendment deleting the ICC paragraphs: moved by the allies; where adopted the ICC
        language is dropped."""
        m = self.model
        moved = m.ally_agent.moves_amendment() & walk.alive
        deleted = self._assembly_vote(stage.name, moved)
        m.icc_reason[deleted & m.icc_retained] = ICC_REASON.index("amendment")
        m.icc_status[deleted] = ICC_STATUS.index("dropped")
        m.observation.observed = False  # the draft changed

    def hold_draft(self, stage: Stage, walk: Walk) -> None:
        """A vote on the draft where it stands; the draft goes on only where it is adopted
        (where the stage is ``binding`` for the scenario)."""
        m = self.model
        adopted = self._assembly_vote(stage.name, walk.alive.copy())
        for st in m.strategies:
            st.on_vote(m, stage.name, adopted)
        if stage.binding(m.spec):
            walk.alive &= adopted

    def _agenda(self, walk: Walk) -> B:
        m = self.model
        if walk.on_agenda is None:
            council = m.spec.procedure.council
            walk.on_agenda = (
                walk.alive.copy()
                if council.requires_plenary_adoption
                else np.ones(m.n_replicates, dtype=bool)
            )
        return walk.on_agenda

    def hold_agenda(self, stage: Stage, walk: Walk) -> None:
        """The Council's procedural vote to put the item on its agenda; the walk goes on where
        it is adopted."""
        on_agenda = self._agenda(walk)
        votes, counts = self._council_vote(stage.name, on_agenda)
        adopted = self._rule(stage.name).adopted(counts[0], counts[1]) & on_agenda
        self._record(stage.name, on_agenda, votes, adopted, counts)
        if self.model.observers:
            self._voted(stage.name, votes)
        walk.on_agenda = adopted

    def hold_referral(self, stage: Stage, walk: Walk) -> None:
        """The Council's vote on the referral draft, tabled by the sponsors; records adoption,
        each permanent member's veto and whether it was vetoed."""
        m = self.model
        name = stage.name
        ey, p_veto = self._expected_council(name)
        tabled = self._agenda(walk) & m.sponsor_agent.table_referral(ey, p_veto)
        if m.spec.procedure.council.referral_requires_icc_language:
            tabled &= m.icc_retained
        votes, counts = self._council_vote(name, tabled)
        perm_no = rules.tally(votes, m.permanent)[1]
        adopted = self._rule(name).adopted(counts[0], counts[1], perm_no) & tabled
        self._record(name, tabled, votes, adopted, counts)
        if m.observers:
            self._voted(name, votes)
        for code in m.world.security_council.permanent:
            i = m.world.index[code]
            m.outcomes[f"veto_{code}"] = tabled & (votes[i] == rules.NO)
        m.outcomes[f"{name}_vetoed"] = tabled & (perm_no > 0)

    def _voted(self, stage: str, votes: NDArray[np.int8]) -> None:
        """Tell the observers of the vote at ``stage``: every state's stance as the vote saw it
        (in the Council each member's, the others' rows zero) and the votes."""
        m = self.model
        if stage_named(stage).body.is_council:
            stances = np.zeros((m.n_states, m.n_replicates), dtype=np.float32)
            stances[m._council_rows] = self.council_stances(stage)
        else:
            stances = np.array(self.stances(stage), dtype=np.float32)
        for o in m.observers:
            o.on_vote(m, stage, stances, votes.copy())

    def _rule(self, stage: str) -> VoteRule:
        return stage_named(stage).vote_rule(self.model.spec.resolution.majority)

    def report(self) -> dict[str, NDArray[Any]]:
        """Every column of the run table (``outcomes.run_columns``, ``UNModel.columns``), in its
        order: the stages' and the ICC language's as recorded, the events, and the columns of
        stages not held (not held, no votes)."""
        m = self.model
        o = m.outcomes
        for name in ("icc_status", "icc_reason", "icc_retained"):
            o[name] = getattr(m, name).copy()
        for name, ev in m.events.items():
            o[f"event_{name}"] = ev.copy()
        for path, drawn in (m.levers.draws if m.levers is not None else {}).items():
            o[column_name(path)] = drawn
        columns = m.columns()
        stray = set(o) - {c.name for c in columns}
        if stray:
            raise RuntimeError(f"outcomes not declared in outcomes.run_columns: {sorted(stray)}")
        r = m.n_replicates
        return {c.name: o[c.name] if c.name in o else c.empty(r) for c in columns}
