"""The Mesa model: member states, veto holders, sponsors, the target and its allies, and procedure.

One ``UNModel`` advances ``replicates`` independent histories at once: every state variable is an
array whose last axis is replicates, and every agent acts on its slice. With ``replicates=1`` it is
the plain one-history model, convenient to inspect; with thousands it is how the Monte Carlo engine
runs. The rules (``unsim.model.rules`` and the strategies) are the same in both cases.

A run walks the stages declared in ``unsim.model.stages``: ``rounds.third_committee`` diplomatic
rounds, the committee session (no-action motion, amendment, the draft), ``rounds.plenary`` rounds,
the plenary vote, ``rounds.security_council`` rounds, the Council's agenda vote and referral
draft; each vote decided by its ``VoteRule`` (``unsim.model.procedure``). The parameters come from
``unsim.model.params`` (in domain units) and the kernels' form of them from
``unsim.model.kernel_args``; what a strategy sees and changes is ``unsim.model.diplomacy``.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from unsim.model import habit, kernels, rules
from unsim.model.agents import (
    AllyCoalition,
    MemberState,
    SponsorCoalition,
    TargetState,
    VetoHolder,
)
from unsim.model.diplomacy import Diplomacy
from unsim.model.kernel_args import DRAFT_VOTES, compile_parameters
from unsim.model.outcomes import EVENTS, ICC_REASON, ICC_STATUS, Column, run_columns
from unsim.model.params import build_parameters
from unsim.model.procedure import VoteRule, vote_rule
from unsim.model.stages import SESSIONS, Walk
from unsim.scenario.schema import Scenario, World
from unsim.strategies import BoundStrategy, bind
from unsim.streams import Streams

F = NDArray[np.float32]
B = NDArray[np.bool_]


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
class UNModel(Diplomacy, mesa.Model):
    """Member states, the Security Council, sponsors, target and allies, over ``replicates``
    independent histories advanced together.

    Parameters
    ----------
    scenario: a resolved :class:`~unsim.scenario.schema.Scenario` (world and calibration loaded).
    replicates: how many histories to advance at once.
    seed: master seed of the named random streams.
    block: which block of runs this model is (selects its random streams).
    collect: record per-round trajectories with Mesa's DataCollector.
    """

    def __init__(
        self,
        scenario: Scenario,
        replicates: int = 1,
        seed: int = 0,
        block: int = 0,
        collect: bool = False,
    ):
        streams = Streams(seed, block)
        super().__init__(rng=streams.generator("mesa"))
        if not isinstance(scenario.world, World):
            raise TypeError("the scenario's world is not loaded: use unsim.load_scenario")
        # ``spec``, not ``scenario``: Mesa 3.5 models have a ``scenario`` property of their own
        self.spec = scenario
        self.world: World = scenario.world
        self.behaviour = scenario.behaviour
        self.streams = streams
        self.n_states = len(self.world.states)
        self.n_replicates = int(replicates)
        self.round = 0
        self._build_parameters()
        self._build_agents()
        self._build_state()
        self.strategies: list[BoundStrategy] = bind(scenario.actors.target.strategies)
        self.datacollector: mesa.DataCollector | None = None
        if collect:
            self.datacollector = mesa.DataCollector(
                model_reporters={
                    "round": "round",
                    "expected_yes_share": lambda m: float(m.expected_yes_share().mean()),
                    "icc_retained": lambda m: float(m.icc_retained.mean()),
                },
                agent_reporters={"support": lambda a: getattr(a, "mean_support", None)},
            )

    def reset(self, seed: int, block: int) -> None:
        """Start the histories of block ``block`` of master seed ``seed`` afresh, keeping the
        agents and the parameters (the engine runs block after block on one model). The state
        afterwards is exactly that of ``UNModel(scenario, replicates, seed, block)``."""
        self.streams = Streams(seed, block)
        self.reset_rng(self.streams.generator("mesa"))
        self.round = 0
        self.running = True
        self._build_state()

    def reparameterise(self, scenario: Scenario, parameters: bool = True) -> None:
        """Take the values of ``scenario``, a variant of this model's scenario with the same
        world, calibration and resolution (a sweep point), keeping the agents. With
        ``parameters`` the parameters are built again from it; without, only the values read
        while a history unfolds change (strategies, rounds, procedure, sponsors' rules). Call
        ``reset`` next: the state afterwards is that of a model built from ``scenario``."""
        self.spec = scenario
        self.strategies = bind(scenario.actors.target.strategies)
        if parameters:
            self.behaviour = scenario.behaviour
            self._build_parameters()

    # -- construction -------------------------------------------------------------------------
    def _build_parameters(self) -> None:
        """The parameters (``params.build_parameters``, in domain units) and the kernels' form
        of them (``kernel_args.compile_parameters``), with the names the rest of the model and
        the strategies read."""
        p = self.params = build_parameters(self.spec)
        c = self.compiled = compile_parameters(p)
        self.behaviour = p.behaviour
        roles, traits = p.roles, p.traits
        self.target = roles.target
        self.allies, self.patrons, self.sponsors = roles.allies, roles.patrons, roles.sponsors
        self.council, self.permanent = roles.council, roles.permanent
        self.sponsor_codes = list(roles.sponsor_codes)
        self.support_parts = traits.support_parts
        self.expected_support = traits.expected_support[:, None]
        self.icc_base = traits.icc_aversion[:, None]
        self.receptiveness = traits.receptiveness[:, None]
        self.receptiveness_not_allied = self.receptiveness * (~self.allies)[:, None]
        self.lobbied_receptiveness = c.lobbied[:, None]
        self.presence = c.presence
        self.council_shift = traits.council_shift[:, None]
        self.membership = p.groups.membership

    def _build_agents(self) -> None:
        w = self.world
        perm = set(w.security_council.permanent)
        for i, st in enumerate(w.states):
            cls: type[MemberState] = MemberState
            if i == self.target:
                cls = TargetState
            elif st.iso3 in perm:
                cls = VetoHolder
            cls(self, i, st.iso3, st.name, st.group)
        self.sponsor_agent = SponsorCoalition(self)
        self.ally_agent = AllyCoalition(self)
        # grouped by kind once (Mesa's AgentSet keeps the order of creation: world order), and
        # kept as plain lists: the model reads them every round
        states = self.agents.select(agent_type=MemberState)
        self.member_states: list[MemberState] = list(states)
        self.veto_holders: list[VetoHolder] = list(self.agents.select(agent_type=VetoHolder))
        target = self.member_states[self.target]
        assert isinstance(target, TargetState)
        self.target_agent: TargetState = target
        self.council_agents = list(states.select(lambda a: bool(self.council[a.index])))
        self._council_rows = np.array([a.index for a in self.council_agents], dtype=np.intp)

    def _build_state(self) -> None:
        n, r = self.n_states, self.n_replicates
        self.icc_status = np.zeros(r, dtype=np.int8)
        if not self.spec.resolution.clauses.icc_referral:
            self.icc_status[:] = ICC_STATUS.index("dropped")
        noise = self.streams.normal("state_noise", (n, r))
        # support is kept as its deviation from the baseline (``support`` adds them up), and
        # the ICC aversion folded into the draft's tanh argument (``icc_aversion`` gives it
        # back): ``kernels.start`` forms the three in one pass, as ``rules.draft_base`` would,
        # and observes where the draft stands (into the round's working arrays, which
        # ``observe`` writes and ``deliberate`` reads)
        self.baseline = np.empty((n, r), dtype=np.float32)
        self.draft_base = np.empty((n, r), dtype=np.float32)
        self.deviation = np.empty((n, r), dtype=np.float32)
        self._swing = np.empty((n, r), dtype=np.float32)
        self._group_means = np.empty((self.membership.shape[1], r), dtype=np.float32)
        self._next_group_means = np.empty_like(self._group_means)
        self._sums = np.empty((3, r), dtype=np.float32)
        self._no_gap = np.zeros(r, dtype=np.float32)
        uncertainty, draws = self.params.uncertainty, kernels.NO_DRAWS
        if uncertainty is not None:  # the calibration's uncertainty, drawn per run
            draws = self.streams.normal("calibration:uncertainty", (3 + uncertainty.groups, r))
        kernels.start(
            self.compiled.prior,
            noise,
            draws,
            uncertainty is not None,
            self._histories(),
            self._draft_view(),
            self._observation(self._group_means),
        )
        # whether ``_swing``, ``_group_means`` and the two below hold ``observe`` of the current
        # state (a round's deliberation may observe the state it leaves, for the next round)
        self._observed = True
        self._observe_next = False
        self._share: F = self._no_gap
        self._lobbied_total: F = self._no_gap
        self._ledger: dict[tuple[str, str], Any] = {}
        # pushes on custom bases: (quantity, the states reached, the basis there, coefficient)
        self._custom: list[tuple[str, NDArray[np.int64], F, Any]] = []
        self.icc_reason = np.zeros(r, dtype=np.int8)
        self.sponsor_judgement = self.streams.normal("sponsors:judgement", r)
        self.events: dict[str, B] = {e: np.zeros(r, dtype=bool) for e in EVENTS}
        self._memory: dict[str, F] = {}
        self.votes: dict[str, NDArray[np.int8]] = {}
        self.outcomes: dict[str, NDArray[Any]] = {}
        self._cache: dict[str, Any] = {}

    @property
    def icc_aversion(self) -> F:
        """(states, replicates) what the ICC language costs each state (computed once per round
        from ``draft_base`` and shared)."""
        icc = self._cache.get("icc_aversion")
        if icc is None:
            b = self.behaviour
            icc = self._cache["icc_aversion"] = rules.icc_from_draft_base(
                self.baseline, self.draft_base, b.abstention_band, b.vote_noise
            )
        return icc  # type: ignore[no-any-return]

    @property
    def support(self) -> F:
        """(states, replicates) each state's support for the draft: baseline plus deviation
        (computed once per round and shared, so an agent's row is a view of it)."""
        support = self._cache.get("support")
        if support is None:
            support = self._cache["support"] = self.baseline + self.deviation
        return support  # type: ignore[no-any-return]

    # -- a diplomatic round ---------------------------------------------------------------------
    def step(self) -> None:
        """One round of diplomacy: the target responds, sponsors and allies lobby, the sponsors
        weigh the ICC language, every state deliberates.

        Everyone acts on where the draft stood at the start of the round (the sponsors' judgement
        included), so the sponsors' choice on the ICC language takes effect from the next round
        whether it is made before the deliberation or after."""
        self.round += 1
        self._cache.clear()
        self._ledger.clear()
        self._custom.clear()
        self.target_agent.respond()
        self.sponsor_agent.lobby()
        self.ally_agent.counter_lobby()
        self.sponsor_agent.bargain()
        self.deliberate()
        self._cache.clear()
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def deliberate(self) -> None:
        """The member states take this round's pressure and move toward their groups' shift
        (``rules.deliberate``, applied to every state and replicate at once, fused with the
        round's pushes in ``kernels.deliberate``). The ICC aversion rises by its own pushes (the
        draft's tanh argument ``draft_base`` falls by them / (2 noise))."""
        self._observed_now()
        c = self.compiled
        kernels.deliberate(
            self._histories(),
            c.kinds,
            kernels.Round(c.keep, -c.half, self._pushes("support"), self._pushes("icc_aversion")),
            self._group_means,
            self._observe_next,
            self._draft_view(),
            self._observation(self._next_group_means),
        )
        # with ``_observe_next`` the kernel observed the state it leaves (the ICC language as
        # the sponsors left it this round); the swing of the round that ends is gone
        self._observed = self._observe_next
        if self._observe_next:
            self._group_means, self._next_group_means = self._next_group_means, self._group_means
        self._cache.pop("icc_aversion", None)
        self._cache.pop("support", None)

    # -- procedure ----------------------------------------------------------------------------
    def stances(self, stage: str) -> F:
        b = self.behaviour
        if stage == "no_action_motion":
            return rules.no_action_stance(self.support, b.no_action_bias)
        if stage == "amendment":
            return rules.amendment_stance(self.support, self.icc_aversion, b.amendment_bias)
        return rules.draft_stance(self.support, self.icc_aversion, self.icc_factor())

    def _record(
        self,
        stage: str,
        held: B,
        votes: NDArray[np.int8],
        adopted: B,
        counts: NDArray[np.int32] | None = None,
    ) -> None:
        if counts is None:
            counts = rules.tally(votes, self.council if stage.startswith("sc_") else None)
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
            return none
        u = self.streams.uniform(f"vote:{stage}", (self.n_states, self.n_replicates))
        votes, counts = habit.apply_habit(self, stage, *self.assembly_votes(stage, u))
        adopted = self._rule(stage).adopted(counts[0], counts[1]) & held
        self._record(stage, held, votes, adopted, counts)
        return adopted

    def assembly_votes(self, stage: str, u: F) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
        """Every member state's vote at Assembly ``stage`` from the uniforms ``u`` (states,
        replicates), and the tally: ``MemberState.decide`` for all states at once, compiled
        (``kernels.votes`` of the stage's tanh form). A vote on the draft also observes it."""
        votes = np.empty((self.n_states, self.n_replicates), dtype=np.int8)
        counts = np.empty((4, self.n_replicates), dtype=np.int32)
        draft = stage in DRAFT_VOTES
        gap, use_gap = self._gap() if draft else (self._no_gap, False)
        c = self.compiled
        kernels.votes(
            self._histories(),
            c.draft(gap, use_gap, stage),
            kernels.Ballot(c.w_offset, c.w_scale, u, votes, counts),
            # a vote on the draft also observes it for the rounds that follow (the state does
            # not change in between)
            draft,
            c.kinds,
            self._observation(self._group_means),
        )
        self._observed = self._observed or draft
        return votes, counts

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

    def _diplomacy(self, rounds: int) -> None:
        for k in range(rounds):
            # each round's deliberation also observes the state it leaves for the next round
            # (one pass less); the last round's is followed by a vote, which reads it afresh
            self._observe_next = k < rounds - 1
            self.step()
        self._observe_next = False

    def simulate(self) -> dict[str, NDArray[Any]]:
        """Run every round and stage (``stages.SESSIONS``); return per-replicate outcome
        arrays."""
        s = self.spec
        held = set(s.resolution.stages)
        walk = Walk(alive=np.ones(self.n_replicates, dtype=bool))
        for session in SESSIONS:
            stages = [st for st in session.stages if st.name in held]
            if session.always or stages:
                self._diplomacy(getattr(s.simulation.rounds, session.name))
            for stage in stages:
                getattr(self, stage.method)(walk)
        for st in self.strategies:
            st.finish(self)
        self.outcomes = self._report_rest()
        self.running = False
        return self.outcomes

    # -- the stages (``stages.SESSIONS``) -------------------------------------------------------
    def _no_action_motion(self, walk: Walk) -> None:
        sums = np.empty((2, self.n_replicates), dtype=np.float32)
        kernels.expected(
            self._histories(), self.compiled.draft(self._no_gap, False, "no_action_motion"), sums
        )
        # expected yes = sum of presence * (1 + t_yes) / 2, expected no likewise
        total = self.compiled.presence_total
        moved = self.ally_agent.moves_no_action(
            np.float32(0.5) * (total + sums[0]), np.float32(0.5) * (total - sums[1])
        )
        walk.alive &= ~self._assembly_vote("no_action_motion", moved)

    def _amendment(self, walk: Walk) -> None:
        moved = self.ally_agent.moves_amendment() & walk.alive
        deleted = self._assembly_vote("amendment", moved)
        self.icc_reason[deleted & self.icc_retained] = ICC_REASON.index("amendment")
        self.icc_status[deleted] = ICC_STATUS.index("dropped")
        self._observed = False  # the draft changed

    def _committee(self, walk: Walk) -> None:
        self._draft_vote("third_committee", walk)

    def _plenary(self, walk: Walk) -> None:
        self._draft_vote("plenary", walk)

    def _draft_vote(self, stage: str, walk: Walk) -> None:
        adopted = self._assembly_vote(stage, walk.alive.copy())
        for st in self.strategies:
            st.on_vote(self, stage, adopted)
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

    def _sc_agenda(self, walk: Walk) -> None:
        on_agenda = self._agenda(walk)
        votes, counts = self._council_vote("sc_agenda", on_agenda)
        adopted = self._rule("sc_agenda").adopted(counts[0], counts[1]) & on_agenda
        self._record("sc_agenda", on_agenda, votes, adopted, counts)
        walk.on_agenda = adopted

    def _sc_referral(self, walk: Walk) -> None:
        ey, p_veto = self._expected_council("sc_referral")
        tabled = self._agenda(walk) & self.sponsor_agent.table_referral(ey, p_veto)
        if self.spec.procedure.council.referral_requires_icc_language:
            tabled &= self.icc_retained
        votes, counts = self._council_vote("sc_referral", tabled)
        perm_no = rules.tally(votes, self.permanent)[1]
        adopted = self._rule("sc_referral").adopted(counts[0], counts[1], perm_no) & tabled
        self._record("sc_referral", tabled, votes, adopted, counts)
        for code in self.world.security_council.permanent:
            i = self.world.index[code]
            self.outcomes[f"veto_{code}"] = tabled & (votes[i] == rules.NO)
        self.outcomes["sc_referral_vetoed"] = tabled & (perm_no > 0)

    def _rule(self, stage: str) -> VoteRule:
        return vote_rule(stage, self.spec.resolution.majority)

    def columns(self) -> tuple[Column, ...]:
        """The run table's columns (``outcomes.run_columns``), with the events of the
        scenario's strategies."""
        return run_columns(self.world.security_council.permanent, self.events)

    def _report_rest(self) -> dict[str, NDArray[Any]]:
        """Every column of the run table (``outcomes.run_columns``), in its order: the stages'
        and the ICC language's as recorded, the events, and the columns of stages not held
        (not held, no votes)."""
        for name in ("icc_status", "icc_reason", "icc_retained"):
            self.outcomes[name] = getattr(self, name).copy()
        for name, ev in self.events.items():
            self.outcomes[f"event_{name}"] = ev.copy()
        columns = self.columns()
        stray = set(self.outcomes) - {c.name for c in columns}
        if stray:
            raise RuntimeError(f"outcomes not declared in outcomes.run_columns: {sorted(stray)}")
        r = self.n_replicates
        return {c.name: self.outcomes.get(c.name, c.empty(r)) for c in columns}

    def release(self) -> None:
        """Drop the large per-replicate arrays and the agents (a block is done with them)."""
        for name in ("baseline", "deviation", "draft_base", "_swing", "_group_means", "_sums"):
            setattr(self, name, None)
        self.votes = {}
        self._cache.clear()
        self._memory.clear()
        self.remove_all_agents()
        # Mesa 3.3 counts agent ids in a class-level dict keyed by model, which would keep every
        # released model alive (memory growing with the number of blocks)
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self, None)
