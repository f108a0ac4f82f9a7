"""The Mesa model: member states, veto holders, sponsors, the target and its allies, and procedure.

One ``UNModel`` advances ``replicates`` independent histories at once: every state variable is an
array whose last axis is replicates, and every agent acts on its slice. With ``replicates=1`` it is
the plain one-history model, convenient to inspect; with thousands it is how the Monte Carlo engine
runs. The rules (``unsim.model.rules`` and the strategies) are the same in both cases.

A run walks the stages declared in ``unsim.model.stages``: the Human Rights Council's vote
where the scenario holds it, ``rounds.third_committee`` diplomatic rounds, the committee
session (no-action motion, amendment, the draft), ``rounds.plenary`` rounds, the plenary vote,
``rounds.security_council`` rounds, the Council's agenda vote and referral draft; each vote
decided by its stage's ``VoteRule`` (``unsim.model.procedure``). The parameters come from
``unsim.model.params`` (in domain units) and the kernels' form of them from
``unsim.model.kernel_args``; what a strategy sees and changes is ``unsim.model.diplomacy``, how
each vote is held ``unsim.model.voting``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from unsim.model import kernels
from unsim.model.agents import (
    AllyCoalition,
    MemberState,
    SponsorCoalition,
    TargetState,
    VetoHolder,
)
from unsim.model.kernel_args import compile_parameters
from unsim.model.levers import (
    BlockLevers,
    LeverEffects,
    column_name,
    council_change,
    draw_levers,
    drawn_strategies,
    icc_change,
    support_changes,
)
from unsim.model.observers import DELIBERATION, Observer
from unsim.model.outcomes import EVENTS, ICC_STATUS, Column, run_columns
from unsim.model.params import build_parameters
from unsim.model.stages import SESSIONS, Walk, reported
from unsim.model.voting import Voting
from unsim.scenario.labels import label_for
from unsim.scenario.schema import Scenario, World
from unsim.strategies import BoundStrategy, bind
from unsim.streams import Streams

F = NDArray[np.float32]
B = NDArray[np.bool_]


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
class UNModel(Voting, mesa.Model):
    """Member states, the Security Council, sponsors, target and allies, over ``replicates``
    independent histories advanced together.

    Parameters
    ----------
    scenario: a resolved :class:`~unsim.scenario.schema.Scenario` (world and calibration loaded).
    replicates: how many histories to advance at once.
    seed: master seed of the named random streams.
    block: which block of runs this model is (selects its random streams).
    collect: record per-round trajectories with Mesa's DataCollector.
    observers: :class:`~unsim.model.observers.Observer` s the model calls as the run unfolds
        (``subscribe`` adds one later).
    """

    def __init__(
        self,
        scenario: Scenario,
        replicates: int = 1,
        seed: int = 0,
        block: int = 0,
        collect: bool = False,
        observers: Iterable[Observer] = (),
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
        self._observers: list[Observer] = list(observers)
        self._in_round = False  # whether a push reaches the states (in a round's actions)
        self._body_masks: dict[str, B | None] = {}
        self._build_parameters()
        self._build_agents()
        self._bound: list[BoundStrategy] = bind(scenario.actors.target.strategies)
        self._build_state()
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

    def subscribe(self, observer: Observer) -> None:
        """Have ``observer`` watch this model's runs from now on (``unsim.model.observers``)."""
        self._observers.append(observer)

    def reset(self, seed: int, block: int) -> None:
        """Start the histories of block ``block`` of master seed ``seed`` afresh, keeping the
        agents and the parameters (the engine runs block after block on one model). The state
        afterwards is exactly that of ``UNModel(scenario, replicates, seed, block)``."""
        self.streams = Streams(seed, block)
        self.reset_rng(self.streams.generator("mesa"))
        self.round = 0
        self.running = True
        self._in_round = False
        self._build_state()

    def reparameterise(self, scenario: Scenario, parameters: bool = True) -> None:
        """Take the values of ``scenario``, a variant of this model's scenario with the same
        world, calibration and resolution (a sweep point), keeping the agents. With
        ``parameters`` the parameters are built again from it; without, only the values read
        while a history unfolds change (strategies, rounds, procedure, sponsors' rules). Call
        ``reset`` next: the state afterwards is that of a model built from ``scenario``."""
        self.spec = scenario
        self._bound = bind(scenario.actors.target.strategies)
        if parameters:
            self.behaviour = scenario.behaviour
            self._build_parameters()
        else:
            self.lever_effects = LeverEffects.of(scenario, self.params)

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
        self.icc_base = traits.icc_aversion[:, None]
        self.receptiveness = traits.receptiveness[:, None]
        self.receptiveness_not_allied = self.receptiveness * (~self.allies)[:, None]
        self.lobbied_receptiveness = c.lobbied[:, None]
        self.presence = c.presence
        self.membership = p.groups.membership
        self._pull: kernels.Csr | None = None  # the groups' pull by state (``deliberated``)
        # the scenario's distributions, drawn per run (None: every lever is a point value)
        self.lever_effects = LeverEffects.of(self.spec, p)

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
        self.strategies: list[Any] = self._bound
        # the parameters' per-state values, which the scenario's distributions change per run
        traits = self.params.traits
        self.support_parts: dict[str, Any] = dict(traits.support_parts)
        self.expected_support = traits.expected_support[:, None]
        self.council_shift = traits.council_shift[:, None]
        self.levers: BlockLevers | None = None
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
        self.clause_deviation = self._draw_clause_deviation()
        kernels.start(
            self._prior(),
            noise,
            draws,
            uncertainty is not None,
            self._histories(),
            self._draft_view(),
            self._observation(self._group_means),
        )
        if self.lever_effects is not None:
            self._start_levers(noise, draws if uncertainty is not None else None)
        self._shift_support(draws if uncertainty is not None else None)
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

    def _draw_clause_deviation(self) -> F | None:
        """(states, replicates) each state's own deviation on the clause in each run, from its
        stream ``clause_deviation`` (None where there is none: no sd, or no ICC clause)."""
        sd = self.behaviour.clause_deviation_sd
        if not sd or not self.spec.resolution.clauses.icc_referral:
            return None
        shape = (self.n_states, self.n_replicates)
        deviation = self.streams.normal("clause_deviation", shape) * np.float32(sd)
        deviation[self.target] = 0.0  # the target's support is set, not formed
        return deviation.astype(np.float32, copy=False)

    def _prior(self) -> Any:
        """The kernels' prior, with the states' own clause deviations where they are drawn."""
        prior = self.compiled.prior
        if self.clause_deviation is not None:
            prior = prior._replace(clause=self.clause_deviation)
        return prior

    def _shift_support(self, draws: F | None) -> None:
        """Add what the scenario draws beside the model's own numbers, per state and run
        (``Scenario.run_shift``: a session's linkage, ``unsim.session.linkage``; ``draws``:
        the calibration's uncertainty draws, if any), to each state's support: the baseline,
        the draft's tanh argument and what the states observe (as the levers' draws of chance
        do in ``_start_levers``)."""
        self.support_shift: F | None = None  # (states, runs): what the explanation shows
        run_shift = getattr(self.spec, "run_shift", None)
        if run_shift is None:
            return
        u = self.params.uncertainty
        level = u.loadings[:, 0] if u is not None and draws is not None else None
        level_draw = draws[0] if level is not None and draws is not None else None
        shift = run_shift(self.streams, self.n_replicates, self.target, level, level_draw)
        if shift is None:
            return
        self.baseline += shift
        self.support_shift = shift
        self.draft_base += shift * self.compiled.half
        kernels.observe(
            self._histories(),
            self._draft_view(),
            self.compiled.members,
            self._observation(self._group_means),
        )

    def _start_levers(self, noise: F, shocks: F | None) -> None:
        """This block's draws of the scenario's distributions (``unsim.model.levers``): the
        strategies take theirs, support, the ICC cost and the Council shifts change per run."""
        e = self.lever_effects
        assert e is not None
        draws = draw_levers(e.levers, self.streams, self.n_replicates)
        self.levers = BlockLevers(draws)
        self.strategies = bind(drawn_strategies(list(self.spec.actors.target.strategies), draws))
        parts, chance = support_changes(e, self.params, draws, noise, shocks)
        icc = icc_change(e, draws)
        traits = self.params.traits
        if parts or chance is not None or icc is not None:
            moved = np.zeros_like(noise)  # what the draws add to the expected support
            for part in parts.values():
                moved += part
            self.expected_support = traits.expected_support[:, None] + moved
            if chance is not None:
                moved += chance
            self.baseline += moved
            if icc is not None:
                moved -= icc
            moved *= self.compiled.half
            self.draft_base += moved
            kernels.observe(
                self._histories(),
                self._draft_view(),
                self.compiled.members,
                self._observation(self._group_means),
            )
        self.support_parts = {
            k: v if k not in parts else v[:, None] + parts[k]
            for k, v in traits.support_parts.items()
        }
        council = council_change(e, draws)
        if council is not None:
            self.council_shift = traits.council_shift[:, None] + council

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
        for o in self._observers:
            o.on_round(self, self.round, "start")
        self._in_round = True  # the pushes from now on reach the states (observers see them)
        self.target_agent.respond()
        self.sponsor_agent.lobby()
        self.ally_agent.counter_lobby()
        self.sponsor_agent.bargain()
        self.deliberate()
        self._in_round = False
        self._cache.clear()
        for o in self._observers:
            o.on_round(self, self.round, "end")
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def deliberate(self) -> None:
        """The member states take this round's pressure and move toward their groups' shift
        (``rules.deliberate``, applied to every state and replicate at once, fused with the
        round's pushes in ``kernels.deliberate``). The ICC aversion rises by its own pushes (the
        draft's tanh argument ``draft_base`` falls by them / (2 noise))."""
        self._observed_now()
        if self._observers:  # what the deliberation does, besides the pushes (observers)
            before = self.deviation.copy()
            pressure = self.pressure("support")
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
        if self._observers:
            moved = self.deviation - before
            if pressure is not None:
                moved -= pressure
            for o in self._observers:
                o.on_push(self, DELIBERATION, "support", moved)

    def deliberated(self, deviation: F, pressure: F | None = None) -> F:
        """What a round's deliberation makes of a deviation (states, replicates) under
        ``pressure``: ``keep x (deviation + pressure)`` plus each state's bloc-pull-weighted
        mean of its groups' means of ``deviation`` (``rules.deliberate``, the rule
        ``kernels.deliberate`` applies to ``deviation``), in the same order on every CPU. It is
        linear: an observer may carry each source's share of the deviation by it."""
        if self._pull is None:
            weights = self.params.groups.weights.astype(np.float32)
            self._pull = kernels.csr(np.float32(self.behaviour.bloc_pull) * weights)
        pulled = kernels.pull(
            self.compiled.members, self._pull, deviation, self.membership.shape[1]
        )
        moved = deviation if pressure is None else deviation + pressure
        moved = moved * self.compiled.keep
        moved += pulled
        return moved  # type: ignore[no-any-return]

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
            if session.rounds is not None and (session.always or stages):
                self._diplomacy(getattr(s.simulation.rounds, session.rounds))
            for stage in stages:
                stage.handler(self, stage, walk)
        for st in self.strategies:
            st.finish(self)
        self.outcomes = self._report_rest()
        self.running = False
        for o in self._observers:
            o.on_run_end(self)
        return self.outcomes

    def columns(self) -> tuple[Column, ...]:
        """The run table's columns (``outcomes.run_columns``), with the events of the
        scenario's strategies."""
        e = self.lever_effects
        levers = [(lv.column, label_for(lv.path, self.spec)) for lv in e.levers] if e else []
        stages = reported(self.spec.resolution.stages)
        return run_columns(self.world.security_council.permanent, self.events, levers, stages)

    def _report_rest(self) -> dict[str, NDArray[Any]]:
        """Every column of the run table (``outcomes.run_columns``), in its order: the stages'
        and the ICC language's as recorded, the events, and the columns of stages not held
        (not held, no votes)."""
        for name in ("icc_status", "icc_reason", "icc_retained"):
            self.outcomes[name] = getattr(self, name).copy()
        for name, ev in self.events.items():
            self.outcomes[f"event_{name}"] = ev.copy()
        for path, drawn in (self.levers.draws if self.levers is not None else {}).items():
            self.outcomes[column_name(path)] = drawn
        columns = self.columns()
        stray = set(self.outcomes) - {c.name for c in columns}
        if stray:
            raise RuntimeError(f"outcomes not declared in outcomes.run_columns: {sorted(stray)}")
        r = self.n_replicates
        o = self.outcomes
        return {c.name: o[c.name] if c.name in o else c.empty(r) for c in columns}

    def release(self) -> None:
        """Drop the large per-replicate arrays and the agents (a block is done with them)."""
        for name in ("baseline", "deviation", "draft_base", "_swing", "_group_means", "_sums",
                     "clause_deviation"):  # fmt: skip
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
