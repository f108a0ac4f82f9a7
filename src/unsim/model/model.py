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
``unsim.model.kernel_args``. The model holds its parts: the diplomatic rounds
(``self.diplomacy``, ``unsim.model.diplomacy.DiplomacyRound``), the votes (``self.procedure``,
``unsim.model.voting.Procedure``) and where the draft stands with the round's pushes
(``self.observation``, ``unsim.model.observation.Observation``); what a strategy sees and
changes (the ``StrategyContext`` interface of ``unsim.strategies``) is the model's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from unsim.model import kernels
from unsim.model.agents import MemberState, TargetState, VetoHolder
from unsim.model.coalitions import AllyCoalition, SponsorCoalition
from unsim.model.diplomacy import DiplomacyRound
from unsim.model.kernel_args import compile_parameters
from unsim.model.levers import (
    BlockLevers,
    LeverEffects,
    council_change,
    draw_levers,
    drawn_strategies,
    icc_change,
    support_changes,
)
from unsim.model.observation import ICC_FACTORS, Observation
from unsim.model.observers import OTHER, Observer
from unsim.model.outcomes import EVENTS, ICC_STATUS, Column, run_columns
from unsim.model.params import build_parameters, state_mask
from unsim.model.stages import SESSIONS, Walk, reported
from unsim.model.voting import Procedure
from unsim.scenario.labels import label_for
from unsim.scenario.schema import Scenario, World
from unsim.strategies import BoundStrategy, bind
from unsim.streams import Streams

F = NDArray[np.float32]
B = NDArray[np.bool_]


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
class UNModel(mesa.Model):
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
        self.observers: list[Observer] = list(observers)  # who watches (``subscribe``)
        self.diplomacy = DiplomacyRound(self)
        self.procedure = Procedure(self)
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
        self.observers.append(observer)

    def reset(self, seed: int, block: int) -> None:
        """Start the histories of block ``block`` of master seed ``seed`` afresh, keeping the
        agents and the parameters (the engine runs block after block on one model). The state
        afterwards is exactly that of ``UNModel(scenario, replicates, seed, block)``."""
        self.streams = Streams(seed, block)
        self.reset_rng(self.streams.generator("mesa"))
        self.round = 0
        self.running = True
        self.diplomacy.in_round = False
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
        self.diplomacy.pull_weights = None  # the groups' pull by state (``deliberated``)
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
        # the state in domain units: support as its baseline and its deviation from it
        # (``support`` adds them up), the ICC aversion (as stated, drawn and pushed since) and
        # each state's own clause deviation (``icc_aversion`` is the one less the other):
        # ``kernels.start`` forms them in one pass and observes where the draft stands (into
        # the round's working arrays, which ``observe`` writes and ``deliberate`` reads); the
        # kernels form each vote's tanh argument from them (``kernel_args.argument_form``)
        self.baseline = np.empty((n, r), dtype=np.float32)
        self.aversion = np.empty((n, r), dtype=np.float32)
        self.deviation = np.empty((n, r), dtype=np.float32)
        obs = self.observation = Observation(self)
        obs.allocate(n, self.membership.shape[1], r)
        uncertainty, draws = self.params.uncertainty, kernels.NO_DRAWS
        if uncertainty is not None:  # the calibration's uncertainty, drawn per run
            draws = self.streams.normal("calibration:uncertainty", (3 + uncertainty.groups, r))
        self.clause_deviation = self._draw_clause_deviation()
        kernels.start(
            self.compiled.prior,
            noise,
            draws,
            uncertainty is not None,
            obs.histories(),
            obs.draft(),
            obs.out(),
        )
        if self.lever_effects is not None:
            self._start_levers(noise, draws if uncertainty is not None else None)
        self._shift_support(draws if uncertainty is not None else None)
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

    def _shift_support(self, draws: F | None) -> None:
        """Add what the scenario draws beside the model's own numbers, per state and run
        (``Scenario.run_shift``: a session's linkage, ``unsim.session.linkage``; ``draws``:
        the calibration's uncertainty draws, if any), to each state's support (its baseline),
        and observe the draft again (as the levers' draws of chance do in ``_start_levers``)."""
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
        self.support_shift = shift  # the linkage's shift of each state's support, kept for explain
        self.observation.observe()

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
                self.aversion += icc
            self.observation.observe()
        self.support_parts = {
            k: v if k not in parts else v[:, None] + parts[k]
            for k, v in traits.support_parts.items()
        }
        council = council_change(e, draws)
        if council is not None:
            self.council_shift = traits.council_shift[:, None] + council

    # -- what the states are and see (the ``StrategyContext`` interface of ``unsim.strategies``)
    def lever(self, path: str, point: Any) -> Any:
        """The scenario's value at ``path`` in each run of this block: its draws when it is a
        distribution (an array over runs, ``unsim.model.levers``), else ``point`` (the value as
        given)."""
        return point if self.levers is None else self.levers.value(path, point)

    @property
    def icc_aversion(self) -> F:
        """(states, replicates) what the ICC language costs each state: its ICC aversion (as
        stated and pushed since, ``aversion``) less its own clause deviation, the whole of its
        clause term, as its vote on the amendment deleting the language sees it (formed once
        per round and shared; the draft carries ``clause_pass_through`` of it)."""
        icc = self._cache.get("icc_aversion")
        if icc is None:
            clause = self.clause_deviation
            icc = self.aversion if clause is None else self.aversion - clause
            self._cache["icc_aversion"] = icc
        return icc  # type: ignore[no-any-return]

    @property
    def support(self) -> F:
        """(states, replicates) each state's support for the draft: baseline plus deviation
        (computed once per round and shared, so an agent's row is a view of it)."""
        support = self._cache.get("support")
        if support is None:
            support = self._cache["support"] = self.baseline + self.deviation
        return support  # type: ignore[no-any-return]

    def new_view(self) -> None:
        """Forget what was formed from the state and observed of it (a round starts or ends)."""
        self._cache.clear()
        self.observation.fresh = False

    def forget(self, *keys: str) -> None:
        """Forget the quantities ``keys`` formed from the state (the state moved)."""
        for key in keys:
            self._cache.pop(key, None)

    @property
    def icc_retained(self) -> B:
        """(replicates,) whether the draft still holds its ICC language in full."""
        return self.icc_status == 0  # type: ignore[no-any-return]

    def icc_factor(self) -> F:
        """(replicates,) the share of the ICC language's cost the draft carries: retained,
        softened or dropped."""
        return ICC_FACTORS[self.icc_status]  # type: ignore[no-any-return]

    def swing(self) -> F:
        """(states, replicates) this round's swing (``Observation.swing``)."""
        return self.observation.swing()

    def expected_yes_share(self) -> F:
        """(replicates,) the expected yes share on the draft (``Observation``)."""
        return self.observation.expected_yes_share()

    def undecided(self) -> F:
        """(states, replicates) swing x receptiveness, zero for the target's allies."""
        if "undecided" not in self._cache:
            self._cache["undecided"] = self.swing() * self.receptiveness_not_allied
        return self._cache["undecided"]  # type: ignore[no-any-return]

    def lobbied(self) -> F:
        """(states, replicates) lobbying weight: swing x receptiveness of states in neither camp."""
        if "lobbied" not in self._cache:
            self._cache["lobbied"] = self.swing() * self.lobbied_receptiveness
        return self._cache["lobbied"]  # type: ignore[no-any-return]

    def lobby_share(self, budget: float) -> F:
        """Per-replicate coefficient that spreads ``budget`` over the ``lobbied`` weights: pushed on
        the ``"lobbied"`` basis it gives ``rules.allocate(budget, lobbied())`` (the total weight
        comes from ``observe``; the weights are never materialised)."""
        return self.observation.lobby_share(budget)

    def shift(
        self, quantity: str, basis: Any, coefficient: Any, states: Any = None, source: str = OTHER
    ) -> None:
        """Push ``basis * coefficient`` to ``quantity`` for this round (``DiplomacyRound.shift``;
        ``source`` names who pushed, for the observers)."""
        self.diplomacy.shift(quantity, basis, coefficient, states, source)

    def pressure(self, quantity: str) -> F | None:
        """Everything pushed to ``quantity`` this round, as one (states, replicates) array."""
        return self.observation.pressure(quantity)

    def state_mask(self, refs: list[str]) -> B:
        """(states,) which states ``refs`` names (ISO3 codes or blocs of the world)."""
        return state_mask(self.world, refs)

    def draw(self, stream: str, per_round: bool = True) -> F:
        """(replicates,) uniforms from the strategy stream ``stream``, a new draw each round if
        ``per_round``."""
        return self.streams.uniform(
            f"strategy:{stream}", self.n_replicates, self.round if per_round else None
        )

    def event(self, name: str, mask: B) -> None:
        """Mark event ``name`` as happened in the replicates of ``mask`` (added to earlier
        marks)."""
        cur = self.events.get(name)
        self.events[name] = mask.copy() if cur is None else (cur | mask)

    def has_event(self, name: str) -> B:
        """(replicates,) where event ``name`` has been marked (all False if never)."""
        ev = self.events.get(name)
        return np.zeros(self.n_replicates, dtype=bool) if ev is None else ev

    def memory(self, key: str, initial: float = 0.0) -> F:
        """(replicates,) the float32 memory ``key`` of the run, set to ``initial`` at first use."""
        if key not in self._memory:
            self._memory[key] = np.full(self.n_replicates, initial, dtype=np.float32)
        return self._memory[key]

    # -- the votes (``self.procedure``) ---------------------------------------------------------
    def members(self, stage: str) -> B | None:
        """(states,) the members of the body that votes at ``stage`` (None: every state)."""
        return self.procedure.members(stage)

    def stances(self, stage: str) -> F:
        """(states, replicates) every state's stance at ``stage`` (``Procedure.stances``)."""
        return self.procedure.stances(stage)

    def assembly_votes(
        self, stage: str, u: F, habit_u: NDArray[np.uint16] | None = None
    ) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
        """Every member state's vote at Assembly ``stage`` and the tally, with the habit where
        ``habit_u`` is given (``Procedure.assembly_votes``)."""
        return self.procedure.assembly_votes(stage, u, habit_u)

    # -- a diplomatic round (``self.diplomacy``) --------------------------------------------
    def step(self) -> None:
        """One round of diplomacy (``DiplomacyRound.step``)."""
        self.diplomacy.step()
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def deliberate(self) -> None:
        """The round's deliberation (``DiplomacyRound.deliberate``)."""
        self.diplomacy.deliberate()

    def deliberated(self, deviation: F, pressure: F | None = None) -> F:
        """What a round's deliberation makes of a deviation (``DiplomacyRound.deliberated``)."""
        return self.diplomacy.deliberated(deviation, pressure)

    def simulate(self) -> dict[str, NDArray[Any]]:
        """Run every round and stage (``stages.SESSIONS``); return per-replicate outcome
        arrays."""
        s = self.spec
        held = set(s.resolution.stages)
        walk = Walk(alive=np.ones(self.n_replicates, dtype=bool))
        for session in SESSIONS:
            stages = [st for st in session.stages if st.name in held]
            if session.rounds is not None and (session.always or stages):
                self.diplomacy.run(getattr(s.simulation.rounds, session.rounds))
            for stage in stages:
                stage.handler(self, stage, walk)
        for st in self.strategies:
            st.finish(self)
        self.outcomes = self.procedure.report()
        self.running = False
        for o in self.observers:
            o.on_run_end(self)
        return self.outcomes

    def columns(self) -> tuple[Column, ...]:
        """The run table's columns (``outcomes.run_columns``), with the events of the
        scenario's strategies."""
        e = self.lever_effects
        levers = [(lv.column, label_for(lv.path, self.spec)) for lv in e.levers] if e else []
        stages = reported(self.spec.resolution.stages)
        return run_columns(self.world.security_council.permanent, self.events, levers, stages)

    def release(self) -> None:
        """Drop the large per-replicate arrays and the agents (a block is done with them)."""
        for name in ("baseline", "deviation", "aversion", "clause_deviation"):
            setattr(self, name, None)
        self.observation.release()
        self.votes = {}
        self._cache.clear()
        self._memory.clear()
        self.remove_all_agents()
        # Mesa 3.3 counts agent ids in a class-level dict keyed by model, which would keep every
        # released model alive (memory growing with the number of blocks)
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self, None)
