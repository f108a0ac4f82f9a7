"""The agents: member states (veto holders and the target among them); the sponsors' coalition
and the target's allies are in ``unsim.model.coalitions``.

A member state's quantities are rows of the model's arrays (one value per replicate): its
support, its ICC aversion, its stance at a stage. What the states do are class methods over
all the states of a kind at once, which the model calls: ``MemberState.decide`` (their votes in
the Assembly: the compiled vote of ``unsim.model.vote_kernels`` for every state in one pass, or
the plain rule of ``unsim.model.rules``; the tests check the two agree),
``MemberState.deliberate`` (a round's deliberation, ``unsim.model.round_kernels``) and
``MemberState.decide_in_council``. The model groups them by kind with Mesa's ``AgentSet``
(``agents.select``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from unsim.model import kernel_args, round_kernels, rules, vote_kernels
from unsim.model.stages import Item, stage_named

if TYPE_CHECKING:
    from unsim.model.model import UNModel
    from unsim.scenario.council import CouncilVotes

F = NDArray[np.float32]
B = NDArray[np.bool_]


class MemberState(mesa.Agent):
    """A member state. Its support for the draft is a row of the model's arrays (one value per
    replicate). Each round the member states deliberate together (``UNModel.deliberate``): each
    takes the pressure it received and moves toward its groups' shift; in the Council each votes
    by its own rule.

    How it votes in the Assembly: on the ICC paragraphs it has a stance of its own
    (``clause_stance``: its support for the draft's purpose plus its own clause term, minus
    its ICC aversion plus its clause deviation), which its vote on the amendment deleting them
    follows in full (``amendment_stance``); its vote on the draft carries only the share
    ``behaviour.clause_pass_through`` of the clause term (``draft_stance``), so it may dislike
    the paragraphs and still vote for the draft."""

    model: UNModel

    def __init__(self, model: UNModel, index: int, iso3: str, name: str, group: str):
        super().__init__(model)
        self.index = index
        self.iso3 = iso3
        self.name = name
        self.group = group

    @property
    def support(self) -> F:
        """(replicates,) this state's support for the draft (its own row: no other state's is
        formed)."""
        m, i = self.model, self.index
        return m.baseline[i] + m.deviation[i]  # type: ignore[no-any-return]

    @property
    def icc_aversion(self) -> F:
        """(replicates,) what the ICC language costs this state: its ICC aversion (stated, and
        pushed since) less its own clause deviation; minus its clause term."""
        m, i = self.model, self.index
        clause = m.clause_deviation
        return m.aversion[i] if clause is None else m.aversion[i] - clause[i]  # type: ignore[no-any-return]

    @property
    def clause_deviation(self) -> F:
        """(replicates,) its own deviation on the ICC clause in each run, beside its ICC
        aversion (``behaviour.clause_deviation_sd``; zero without one)."""
        drawn = self.model.clause_deviation
        if drawn is None:
            return np.zeros(self.model.n_replicates, dtype=np.float32)
        return drawn[self.index]  # type: ignore[no-any-return]

    @property
    def clause_stance(self) -> F:
        """(replicates,) its stance on the ICC paragraphs themselves (yes = keep them)."""
        return rules.clause_stance(self.support, self.icc_aversion)

    def draft_stance(self) -> F:
        """(replicates,) its stance on the draft: its support less the share
        ``clause_pass_through`` of the ICC language's cost, as retained or softened."""
        m = self.model
        factor = m.icc_factor()
        pass_through = m.behaviour.clause_pass_through
        return rules.draft_stance(self.support, self.icc_aversion, factor, pass_through)

    def amendment_stance(self) -> F:
        """(replicates,) its stance on the amendment deleting the ICC paragraphs (yes =
        delete): minus its ``clause_stance``, plus the amendment's bias."""
        m = self.model
        bias = m.lever("behaviour.amendment_bias", m.behaviour.amendment_bias)
        return rules.amendment_stance(self.support, self.icc_aversion, bias)

    @property
    def mean_support(self) -> float:
        """Its support for the draft, averaged over the replicates."""
        return float(self.support.mean())

    @property
    def absence(self) -> float:
        """This state's probability of being absent from an Assembly vote (its parameter)."""
        return float(self.model.params.traits.absence[self.index])

    @property
    def receptiveness(self) -> float:
        """How far pressure moves this state (its parameter)."""
        return float(self.model.params.traits.receptiveness[self.index])

    @classmethod
    def decide(
        cls,
        states: Iterable[MemberState],
        stage: str,
        u: F,
        habit_u: NDArray[np.uint16] | None = None,
        plain: bool = False,
        counts: NDArray[np.int32] | None = None,
    ) -> NDArray[np.int8]:
        """The votes of ``states`` at the Assembly's (or the Human Rights Council's) ``stage``,
        all replicates at once: (len(states), replicates) ``rules.Vote`` codes from one uniform
        ``u`` per state and replicate. Each state votes by its stance at the stage (``stance``:
        ``draft_stance``, ``amendment_stance``, or on the no-action motion
        ``rules.no_action_stance``) and its absence, as ``rules.cast_votes`` draws: present, yes
        with probability sigmoid((stance - band) / noise), no with sigmoid((-band - stance) /
        noise), abstain otherwise.

        For the model's member states (all of them, ``UNModel.member_states``) this runs
        compiled: ``vote_kernels.votes`` of the stage's tanh form (``vote_form``: the form of
        ``kernel_args.argument_form``), which tallies the votes into ``counts`` (4, replicates)
        as it goes and, on the draft, observes it for the rounds that follow. For another set of
        states, or with ``plain``, the plain rule (``rules.cast_votes`` of
        ``UNModel.stances``); the tests check the two agree. With the model's habit and its
        uniform integers ``habit_u`` (states, replicates, ``habit.habit_uniforms``), a present
        state then repeats its last vote where ``rules.repeat_last`` says so: compiled, in
        ``vote_kernels.repeat_last``, which tallies the votes after it into ``counts``."""
        agents = list(states)
        if not agents:
            return np.empty((0, u.shape[-1]), dtype=np.int8)
        m = agents[0].model
        rows = np.array([a.index for a in agents], dtype=np.intp)
        if plain or agents != m.member_states:
            b = m.behaviour
            absence = m.params.traits.absence[rows][:, None]
            stance = m.stances(stage)[rows]
            votes = rules.cast_votes(stance, b.abstention_band, b.vote_noise, absence, u)
            h = m.params.habit
            if h is None or habit_u is None:
                return votes
            return rules.repeat_last(votes, h.last[rows], h.chance[rows], habit_u[rows])
        if counts is None:
            counts = np.empty((4, m.n_replicates), dtype=np.int32)
        votes = cls._compiled_votes(m, stage, u, counts)
        h = m.params.habit
        if h is not None and habit_u is not None:
            vote_kernels.repeat_last(votes, h.last, h.chance, habit_u, counts)
        return votes

    @classmethod
    def _compiled_votes(
        cls, m: UNModel, stage: str, u: F, counts: NDArray[np.int32]
    ) -> NDArray[np.int8]:
        """Every member state's vote at ``stage``, compiled (``decide``), tallied into
        ``counts``."""
        votes = np.empty((m.n_states, m.n_replicates), dtype=np.int8)
        obs, c = m.observation, m.compiled
        draft = stage in kernel_args.DRAFT_VOTES
        vote_kernels.votes(
            obs.histories(),
            cls.vote_form(m, stage),
            kernel_args.Ballot(c.w_offset, c.w_scale, u, votes, counts),
            # a vote on the draft also observes it for the rounds that follow (the state does
            # not change in between)
            draft,
            c.kinds,
            obs.out(),
        )
        obs.observed = obs.observed or draft
        return votes

    @staticmethod
    def vote_form(m: UNModel, stage: str) -> kernel_args.Draft:
        """How the kernels see the vote at Assembly ``stage`` (``Compiled.vote``): the draft
        where it stands, or a motion with its bias as drawn in each run."""
        obs = m.observation
        gap, use_gap = obs.gap() if stage in kernel_args.DRAFT_VOTES else (obs.no_gap, False)
        draws = None if m.levers is None else m.levers.draws
        return m.compiled.vote(stage, gap, use_gap, draws)

    @classmethod
    def deliberate(cls, states: Iterable[MemberState]) -> None:
        """The round's deliberation of the member states, in place: each takes the pressure
        pushed to it this round (the ledger of the model's ``Observation``) and closes the share
        ``bloc_pull`` of the gap between its own shift and its groups' (``rules.deliberate``:
        new deviation = keep x (deviation + pressure) + the pull-weighted means of its groups'
        deviations); its ICC aversion rises by its own pushes. All the model's member states
        and replicates at once, compiled (``round_kernels.deliberate``, fused with the round's
        pushes; with ``Observation.observe_next`` the same pass observes the draft for the
        next round)."""
        agents = list(states)
        m = agents[0].model
        if agents != m.member_states:
            raise ValueError("the member states deliberate together: pass model.member_states")
        obs, c = m.observation, m.compiled
        pushes = (obs.pushes("support"), obs.pushes("icc_aversion"))
        round_kernels.deliberate(
            obs.histories(),
            c.kinds,
            kernel_args.Round(c.keep, *pushes),
            obs.group_means,
            obs.observe_next,
            obs.draft(),
            obs.out(obs.next_group_means),
        )
        obs.deliberated()

    @classmethod
    def decide_in_council(
        cls,
        states: Iterable[MemberState],
        stage: str,
        u: F,
        plain: bool = False,
        counts: NDArray[np.int32] | None = None,
    ) -> NDArray[np.int8]:
        """The votes of Council members ``states`` at ``stage`` (all present), each by its own
        ``council_stance``: ``rules.cast_votes`` with no absence. For the model's Council
        (``UNModel.council_agents``) compiled: ``vote_kernels.cast`` of the stances formed once
        between two rounds (``Procedure.council_stances``: the sponsors' expectation and the
        vote read the same), tallied into ``counts``; for other states, or with ``plain``, the
        plain rule."""
        agents = list(states)
        if not agents:
            return np.empty((0, u.shape[-1]), dtype=np.int8)
        m = agents[0].model
        b = m.behaviour
        if plain or agents != m.council_agents:
            stance = np.stack([a.council_stance(stage) for a in agents])
            none = np.zeros((1, 1), dtype=np.float32)
            return rules.cast_votes(stance, b.abstention_band, b.vote_noise, none, u)
        out = np.empty((len(agents), m.n_replicates), dtype=np.int8)
        if counts is None:
            counts = np.empty((4, m.n_replicates), dtype=np.int32)
        half = m.compiled.half
        band_half = np.float32(b.abstention_band) * half
        stances = m.procedure.council_stances(stage)
        vote_kernels.cast(stances, half, band_half, m.compiled.pair, u, out, counts)
        return out

    def stance(self, stage: str) -> F:
        """This state's latent stance on the item voted at ``stage`` (per replicate): on the
        amendment, on the draft (``amendment_stance``, ``draft_stance``) or on the no-action
        motion (the model's, for every state at once: ``UNModel.stances``)."""
        item = stage_named(stage).item
        if item is Item.AMENDMENT:
            return self.amendment_stance()
        if item is Item.DRAFT:
            return self.draft_stance()
        return self.model.stances(stage)[self.index]

    def council_stance(self, stage: str) -> F:
        """(replicates,) this member's stance at the Council's ``stage``. The agenda vote: its
        support, its Council shift and the procedural shift. The referral draft: by the
        Council's rule fitted on its record (``procedure.council.votes``: the norm toward yes,
        less a patron's defence and a dissenter's reluctance, plus its own stated shift), or
        without one by its support, Council shift and the ICC language's full cost, less a
        patron's tie."""
        m, i = self.model, self.index
        votes = m.spec.procedure.council.votes
        item = stage_named(stage).item
        if item is Item.REFERRAL and votes is not None:
            return self._record_stance(votes) - self.defence(stage)  # type: ignore[no-any-return]
        base = self.support + m.council_shift[i]
        if item is Item.AGENDA:
            shift = m.lever("behaviour.procedural_shift", m.behaviour.procedural_shift)
            return base + np.float32(shift)  # type: ignore[no-any-return]
        stance = rules.draft_stance(base, self.icc_aversion, 1.0)
        return stance - self.defence(stage)  # type: ignore[no-any-return]

    def _record_stance(self, votes: CouncilVotes) -> F:
        """The referral stance by the Council's rule, before a patron's defence (each number
        as drawn in each run where the scenario gives a distribution)."""
        m = self.model
        lever = m.lever
        root = "procedure.council.votes"
        fixed = lever(f"{root}.norm", votes.norm)
        own = m.spec.actors.states.get(self.iso3)
        if own is not None:
            fixed = fixed + lever(f"actors.states.{self.iso3}.council_shift", own.council_shift)
        if self.iso3 in votes.dissenters:
            fixed = fixed - lever(f"{root}.dissent", votes.dissent)
        shape = (m.n_replicates,)
        stance = np.broadcast_to(np.asarray(fixed, dtype=np.float32), shape).copy()
        if votes.support_weight:
            weight = lever(f"{root}.support_weight", votes.support_weight)
            stance += np.float32(weight) * self.support
        if votes.icc_weight:
            weight = lever(f"{root}.icc_weight", votes.icc_weight)
            stance -= np.float32(weight) * self.icc_aversion
        return stance

    def council_stance_parts(self, stage: str) -> tuple[Any, Any, dict[str, Any]]:
        """This member's ``council_stance`` at ``stage`` in parts: ``(support_weight,
        icc_weight, parts)``, the stance being support_weight x its support - icc_weight x its
        ICC aversion + the sum of ``parts`` (up to float rounding), each a number or per
        replicate. Without the Council's rule: ``council`` (its Council shift) and, at the
        agenda vote, ``procedural`` (the procedural shift) or, at the referral draft, the ICC
        aversion in full and a patron's ``patron`` (minus its tie). By the rule
        (``procedure.council.votes``): its weights, ``council_norm``, ``council`` (its own
        stated shift), ``dissent`` (minus a dissenter's reluctance) and a patron's
        ``patron_defence`` and ``patron_shock`` (``VetoHolder``)."""
        m, i = self.model, self.index
        votes = m.spec.procedure.council.votes
        item = stage_named(stage).item
        if item is Item.REFERRAL and votes is not None:
            lever, root = m.lever, "procedure.council.votes"
            own = m.spec.actors.states.get(self.iso3)
            shift = own.council_shift if own is not None else 0.0
            parts = {
                "council_norm": lever(f"{root}.norm", votes.norm),
                "council": lever(f"actors.states.{self.iso3}.council_shift", shift),
                "dissent": -lever(f"{root}.dissent", votes.dissent)
                if self.iso3 in votes.dissenters
                else 0.0,
                "patron_defence": 0.0,
                **({"patron_shock": 0.0} if votes.patron_shock else {}),
                **self.defence_parts(stage),
            }
            support = lever(f"{root}.support_weight", votes.support_weight)
            icc = lever(f"{root}.icc_weight", votes.icc_weight)
            return support, icc, parts
        parts = {"council": m.council_shift[i]}
        if item is Item.AGENDA:
            shift = m.lever("behaviour.procedural_shift", m.behaviour.procedural_shift)
            parts["procedural"] = shift
            return 1.0, 0.0, parts
        return 1.0, 1.0, {**parts, **self.defence_parts(stage)}

    def defence_parts(self, stage: str) -> dict[str, Any]:
        """``defence`` in parts, as they add to the stance (none: not a patron)."""
        return {}

    def defence(self, stage: str) -> F | np.float32:
        """What this member's defence of the target takes off its stance (none: not a patron
        among the permanent members)."""
        return np.float32(0.0)


class VetoHolder(MemberState):
    """A permanent member of the Security Council: its negative vote on a substantive draft is a
    veto. A patron of the target defends it harder in the Council than in the Assembly: at the
    referral draft its stance loses the Council rule's ``patron_defence`` less the patrons'
    shared shock of the run (:meth:`patrons_shock`; without a rule, the patron's tie)."""

    def defence(self, stage: str) -> F | np.float32:
        """Its defence of the target at ``stage``: nonzero only for a patron at the referral
        draft."""
        m = self.model
        if not (m.patrons[self.index] and stage_named(stage).item is Item.REFERRAL):
            return np.float32(0.0)
        votes = m.spec.procedure.council.votes
        if votes is None:
            given = m.lever("actors.allies.patron_tie", m.spec.actors.allies.patron_tie)
            return np.asarray(given, dtype=np.float32)  # type: ignore[return-value]
        given = m.lever("procedure.council.votes.patron_defence", votes.patron_defence)
        defence = np.asarray(given, dtype=np.float32)
        if not votes.patron_shock:
            return defence  # type: ignore[return-value]
        return defence - self.patrons_shock(m)  # type: ignore[no-any-return]

    def defence_parts(self, stage: str) -> dict[str, Any]:
        """The parts of :meth:`defence` by name (as they enter its stance, so negative), for the
        explanation."""
        m = self.model
        if not (m.patrons[self.index] and stage_named(stage).item is Item.REFERRAL):
            return {}
        votes = m.spec.procedure.council.votes
        if votes is None:
            return {"patron": -m.lever("actors.allies.patron_tie", m.spec.actors.allies.patron_tie)}
        given = m.lever("procedure.council.votes.patron_defence", votes.patron_defence)
        parts = {"patron_defence": -given}
        if votes.patron_shock:
            parts["patron_shock"] = self.patrons_shock(m)
        return parts

    @staticmethod
    def patrons_shock(m: UNModel) -> F:
        """(replicates,) what the patrons' shared shock adds to each patron's referral stance in
        each run: ``procedure.council.votes.patron_shock`` (as drawn, where a distribution)
        times one standard normal of the run from its own stream, the same for every patron
        (zero without the rule or the shock)."""
        votes = m.spec.procedure.council.votes
        if votes is None or not votes.patron_shock:
            return np.zeros(m.n_replicates, dtype=np.float32)
        sd = m.lever("procedure.council.votes.patron_shock", votes.patron_shock)
        z = m.streams.normal("council:patron_shock", m.n_replicates)
        return np.asarray(sd, dtype=np.float32) * z  # type: ignore[no-any-return]


class TargetState(MemberState):
    """The state the draft addresses; it answers pressure with its response strategies."""

    def respond(self) -> None:
        """Apply each of its strategies in the replicates where it is active, given the expected
        yes share."""
        m = self.model
        share = m.expected_yes_share()
        for strategy in m.strategies:
            active = strategy.active_mask(m, share)
            if active.any():
                strategy.apply(m, active)
