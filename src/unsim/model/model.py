"""The Mesa model: member states, veto holders, sponsors, the target and its allies, and procedure.

One ``UNModel`` advances ``replicates`` independent histories at once: every state variable is an
array whose last axis is replicates, and every agent acts on its slice. With ``replicates=1`` it is
the plain one-history model, convenient to inspect; with thousands it is how the Monte Carlo engine
runs. The rules (``unsim.model.rules`` and the strategies) are the same in both cases.

A run: ``rounds.third_committee`` diplomatic rounds, the committee session (no-action motion,
amendment, the draft), ``rounds.plenary`` rounds, the plenary vote, ``rounds.security_council``
rounds, the Council's agenda vote and referral draft.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from unsim.model import kernels, rules
from unsim.model.kernel_args import DRAFT_VOTES, compile_parameters
from unsim.model.params import build_parameters, state_mask
from unsim.model.rules import ICC_FACTOR, Vote
from unsim.scenario.schema import STAGES, Scenario, World
from unsim.strategies import Strategy
from unsim.streams import Streams

F = NDArray[np.float32]
B = NDArray[np.bool_]

ICC_STATUS = ("retained", "softened", "dropped")
ICC_REASON = ("none", "bargain", "support_short", "amendment")
#: Events every run reports (strategies may add their own).
EVENTS = (
    "charm_offensive",
    "invitation_offered",
    "invitation_accepted",
    "invitation_withdrawn",
    "visit_held",
    "threats_made",
    "cooperation_halted",
    "deception_exposed",
    "inducements",
)


# --------------------------------------------------------------------------------------------
# Agents
# --------------------------------------------------------------------------------------------
class MemberState(mesa.Agent):
    """A member state. Its support for the draft is a row of the model's arrays (one value per
    replicate). Each round the member states deliberate together (``UNModel.deliberate``): each
    takes the pressure it received and moves toward its groups' shift; in the Council each votes
    by its own rule."""

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
        """(replicates,) what the ICC language costs this state."""
        m, i, b = self.model, self.index, self.model.behaviour
        return rules.icc_from_draft_base(
            m.baseline[i], m.draft_base[i], b.abstention_band, b.vote_noise
        )

    @property
    def mean_support(self) -> float:
        return float(self.support.mean())

    def stance(self, stage: str) -> F:
        """This state's latent stance on the item voted at ``stage`` (per replicate)."""
        return self.model.stances(stage)[self.index]

    def council_stance(self, stage: str) -> F:
        m, i = self.model, self.index
        base = self.support + m.council_shift[i]
        if stage == "sc_agenda":
            return base + np.float32(m.behaviour.procedural_shift)  # type: ignore[no-any-return]
        return rules.draft_stance(base, self.icc_aversion, 1.0)


class VetoHolder(MemberState):
    """A permanent member of the Security Council: its negative vote on a substantive draft is a
    veto. A patron of the target defends it harder in the Council than in the Assembly."""

    def council_stance(self, stage: str) -> F:
        stance = super().council_stance(stage)
        if self.model.patrons[self.index] and stage == "sc_referral":
            stance = stance - np.float32(self.model.spec.actors.allies.patron_tie)
        return stance


class TargetState(MemberState):
    """The state the draft addresses; it answers pressure with its response strategies."""

    def respond(self) -> None:
        m = self.model
        share = m.expected_yes_share()
        for strategy in m.strategies:
            active = strategy.active_mask(m, share)
            if active.any():
                strategy.apply(m, active)


class SponsorCoalition(mesa.Agent):
    """The draft's main sponsors: they lobby undecided states, decide whether to give way on the ICC
    language, and (as the Council's referral sponsors) whether to table a referral."""

    model: UNModel

    def lobby(self) -> None:
        """Share the lobbying budget over undecided states (see ``rules.allocate``)."""
        m = self.model
        lob = m.spec.actors.sponsors.lobbying
        if lob.budget and lob.efficacy:
            m.shift("support", "lobbied", m.lobby_share(lob.budget * lob.efficacy))

    def bargain(self) -> None:
        m = self.model
        rule = m.spec.actors.sponsors.bargaining
        if m.round < rule.from_round or not m.spec.resolution.clauses.icc_referral:
            return
        retained = m.icc_retained
        if not retained.any():
            return
        accept = np.zeros(m.n_replicates, dtype=bool)
        for s in m.strategies:
            offer = s.conditional_offer(m)
            if offer is None:
                continue
            credibility = s.offer_credibility(m.sponsor_codes, rule.unmet_terms_discount)
            judged = credibility + rule.credibility_noise * m.sponsor_judgement
            accept |= offer & (judged >= rule.accept_offer_min_credibility)
        short = m.expected_yes_share() < rule.drop_if_expected_yes_share_below
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
        the chance ``table_into_veto`` into a certain veto (its own random stream)."""
        council = self.model.spec.procedure.council
        rule = council.table_referral
        n = self.model.n_replicates
        if rule == "expected":
            chance = 1.0 - veto_probability * np.float32(1.0 - council.table_into_veto)
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
        m = self.model
        lob = m.spec.actors.allies.counter_lobbying
        if lob.budget and lob.efficacy and m.allies.any():
            m.shift("support", "lobbied", -m.lobby_share(lob.budget * lob.efficacy))

    def moves_no_action(self, expected_yes: F, expected_no: F) -> B:
        rule = self.model.spec.procedure.no_action_motion.move
        n = self.model.n_replicates
        if rule == "always":
            return np.ones(n, dtype=bool)
        if rule == "never":
            return np.zeros(n, dtype=bool)
        return expected_yes > expected_no  # type: ignore[no-any-return]

    def moves_amendment(self) -> B:
        rule = self.model.spec.procedure.amendment.move
        m = self.model
        if rule == "never" or not m.spec.resolution.clauses.icc_referral:
            return np.zeros(m.n_replicates, dtype=bool)
        if rule == "always":
            return np.ones(m.n_replicates, dtype=bool)
        return m.icc_retained.copy()


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
        self.strategies: list[Strategy] = list(scenario.actors.target.strategies)
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
        self.strategies = list(scenario.actors.target.strategies)
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
        self.absence = traits.absence[:, None]
        self.presence = c.presence
        self.council_shift = traits.council_shift[:, None]
        self.membership = p.groups.membership
        self.group_weights = p.groups.weights

    def _build_agents(self) -> None:
        w = self.world
        perm = set(w.security_council.permanent)
        # plain lists in world order (model.agents holds them all; selecting an AgentSet per
        # block would cost more than a round of diplomacy)
        self.member_states: list[MemberState] = []
        for i, st in enumerate(w.states):
            cls: type[MemberState] = MemberState
            if i == self.target:
                cls = TargetState
            elif st.iso3 in perm:
                cls = VetoHolder
            self.member_states.append(cls(self, i, st.iso3, st.name, st.group))
        self.sponsor_agent = SponsorCoalition(self)
        self.ally_agent = AllyCoalition(self)
        target = self.member_states[self.target]
        assert isinstance(target, TargetState)
        self.target_agent: TargetState = target
        self.council_agents = [a for a in self.member_states if self.council[a.index]]
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

    # -- the StrategyContext interface ----------------------------------------------------------
    @property
    def icc_retained(self) -> B:
        return self.icc_status == 0  # type: ignore[no-any-return]

    def icc_factor(self) -> F:
        return _ICC_FACTORS[self.icc_status]  # type: ignore[no-any-return]

    def _gap(self) -> tuple[F, bool]:
        """(1 - the ICC factor per replicate, whether any is not 0): where the draft's tanh
        argument must add back the aversion of softened or dropped ICC language."""
        if not self.icc_status.any():
            return self._no_gap, False
        # the gap of status k is k / 2 (retained 0, softened 0.5, dropped 1)
        return np.multiply(self.icc_status, np.float32(0.5), dtype=np.float32), True

    def _histories(self) -> kernels.Histories:
        return kernels.Histories(self.deviation, self.draft_base, self.baseline)

    def _observation(self, group_means: F) -> kernels.Observation:
        return kernels.Observation(self._sums, group_means, self._swing)

    def _draft_view(self) -> kernels.Draft:
        """How the kernels see the draft as it stands, to observe it (the ICC gap, the draft
        vote's tanh form, presence, lobbying weights)."""
        return self.compiled.draft(*self._gap())

    def _observe(self) -> None:
        """Where the draft stands at the start of the round (``kernels.observe``, unless the
        last round's deliberation or a vote on the draft observed it already): the expected yes
        share, swing, the total lobbying weight and the group means."""
        if not self._observed:
            kernels.observe(
                self._histories(),
                self._draft_view(),
                self.compiled.members,
                self._observation(self._group_means),
            )
            self._observed = True
        # sum of presence * P(yes) = (sum of presence + presence @ t_yes) / 2, same for no
        self._share = np.empty(self.n_replicates, dtype=np.float32)
        self._lobbied_total = np.empty(self.n_replicates, dtype=np.float32)
        total = self.compiled.presence_total
        kernels.yes_share(self._sums, total, self._share, self._lobbied_total)

    def swing(self) -> F:
        """(states, replicates) this round's swing (overwritten by the next round's)."""
        self._observed_now()
        return self._swing

    def _observed_now(self) -> None:
        if "observed" not in self._cache:
            self._observe()
            self._cache["observed"] = True

    def undecided(self) -> F:
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
        self._observed_now()
        return np.float32(budget) / self._lobbied_total  # type: ignore[no-any-return]

    def shift(self, quantity: str, basis: Any, coefficient: Any, states: Any = None) -> None:
        if isinstance(basis, str):
            key = (quantity, basis)
            prev = self._ledger.get(key)
            self._ledger[key] = coefficient if prev is None else prev + coefficient
            if states is None or basis not in kernels.BASES:
                return
            # the basis weighted by ``states``: the push on the whole basis, less its share on
            # the states weighted otherwise than 1 (a few rows)
            weights = np.broadcast_to(np.asarray(states, dtype=np.float32), (self.n_states,))
            rows = np.flatnonzero(weights != 1)
            if rows.size:
                k = kernels.BASES.index(basis)
                values = (self.compiled.bases[rows, k] * (weights[rows] - np.float32(1)))[:, None]
                if k < kernels.SWUNG:
                    values = values * self.swing()[rows]
                self._custom.append((quantity, rows, values, coefficient))
        else:
            basis = np.asarray(basis, dtype=np.float32)
            basis = basis[:, None] if basis.ndim == 1 else basis
            rows = np.flatnonzero(basis.any(axis=1))  # the states it reaches
            self._custom.append((quantity, rows, basis[rows], coefficient))

    def _pushes(self, quantity: str) -> kernels.Pushes:
        """This round's pushes to ``quantity`` as ``(coefficients, rows, values)``: the pressure
        is ``swing * (bases[:, :2] @ coefficients[:2]) + bases[:, 2:] @ coefficients[2:]``
        plus ``values[j]`` on state ``rows[j]``, with ``bases`` the named bases
        (``kernels.BASES``: per-state weights, the first two also weighted by swing),
        ``coefficients`` (4, replicates) their sums over the round's pushes, and ``values``
        (len(rows), replicates) the pushes on custom bases, on the states they reach (empty if
        there are none). Named bases are never materialised: the deliberation kernel forms
        them."""
        n_rep = self.n_replicates
        coefficients = np.zeros((len(kernels.BASES), n_rep), dtype=np.float32)
        for (q, name), coef in self._ledger.items():
            if q != quantity:
                continue
            if name not in kernels.BASES:
                raise ValueError(
                    f"unknown basis {name!r}; allowed: {', '.join(kernels.BASES)} or an array"
                )
            coefficients[kernels.BASES.index(name)] += np.asarray(coef, dtype=np.float32)
        rows: list[NDArray[np.int64]] = []
        values: list[F] = []
        for q, on, basis_rows, coef in self._custom:
            if q == quantity and on.size:
                rows.append(on)
                term = basis_rows * np.asarray(coef, dtype=np.float32)
                values.append(np.broadcast_to(term, (on.size, n_rep)).astype(np.float32))
        if not rows:
            return kernels.Pushes(coefficients, kernels.NO_ROWS, kernels.EMPTY_BASIS)
        return kernels.Pushes(coefficients, np.concatenate(rows), np.concatenate(values))

    def pressure(self, quantity: str) -> F | None:
        """Everything pushed to ``quantity`` this round, as one (states, replicates) array."""
        coefficients, rows, values = self._pushes(quantity)
        if not (coefficients.any() or rows.size):
            return None
        k = kernels.SWUNG
        out = self.swing() * (self.compiled.bases[:, :k] @ coefficients[:k])
        out += self.compiled.bases[:, k:] @ coefficients[k:]
        if rows.size:
            np.add.at(out, rows, values)
        return out  # type: ignore[no-any-return]

    def expected_yes_share(self) -> F:
        self._observed_now()
        return self._share

    def state_mask(self, refs: list[str]) -> B:
        return state_mask(self.world, refs)

    def draw(self, stream: str, per_round: bool = True) -> F:
        return self.streams.uniform(
            f"strategy:{stream}", self.n_replicates, self.round if per_round else None
        )

    def event(self, name: str, mask: B) -> None:
        cur = self.events.get(name)
        self.events[name] = mask.copy() if cur is None else (cur | mask)

    def has_event(self, name: str) -> B:
        ev = self.events.get(name)
        return np.zeros(self.n_replicates, dtype=bool) if ev is None else ev

    def memory(self, key: str, initial: float = 0.0) -> F:
        if key not in self._memory:
            self._memory[key] = np.full(self.n_replicates, initial, dtype=np.float32)
        return self._memory[key]

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

    def _assembly_vote(self, stage: str, held: B, majority: str) -> B:
        """The vote at Assembly ``stage`` where ``held`` (``kernels.votes`` of the stage's tanh
        argument, ``_argument_form``)."""
        if not held.any():  # nobody votes (its stream is its own: skipping it changes no other)
            none = np.zeros(self.n_replicates, dtype=bool)
            votes = np.full((self.n_states, self.n_replicates), rules.ABSENT, dtype=np.int8)
            self._record(stage, none, votes, none, np.zeros((4, self.n_replicates), np.int32))
            return none
        u = self.streams.uniform(f"vote:{stage}", (self.n_states, self.n_replicates))
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
        adopted = rules.majority_adopted(counts[0], counts[1], majority) & held
        self._record(stage, held, votes, adopted, counts)
        return adopted

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
        """Run every round and stage; return per-replicate outcome arrays."""
        s = self.spec
        stages = set(s.resolution.stages)
        rounds = s.simulation.rounds
        r = self.n_replicates
        alive = np.ones(r, dtype=bool)
        none = np.zeros(r, dtype=bool)

        self._diplomacy(rounds.third_committee)
        # Third Committee session ------------------------------------------------------------
        if "no_action_motion" in stages:
            sums = np.empty((2, r), dtype=np.float32)
            kernels.expected(
                self._histories(),
                self.compiled.draft(self._no_gap, False, "no_action_motion"),
                sums,
            )
            # expected yes = sum of presence * (1 + t_yes) / 2, expected no likewise
            total = self.compiled.presence_total
            moved = self.ally_agent.moves_no_action(
                np.float32(0.5) * (total + sums[0]), np.float32(0.5) * (total - sums[1])
            )
            killed = self._assembly_vote("no_action_motion", moved, "simple")
            alive &= ~killed
        if "amendment" in stages:
            moved = self.ally_agent.moves_amendment() & alive
            deleted = self._assembly_vote("amendment", moved, "simple")
            self.icc_reason[deleted & self.icc_retained] = ICC_REASON.index("amendment")
            self.icc_status[deleted] = ICC_STATUS.index("dropped")
            self._observed = False  # the draft changed
        if "third_committee" in stages:
            adopted = self._assembly_vote("third_committee", alive.copy(), "simple")
            for st in self.strategies:
                st.on_vote(self, "third_committee", adopted)
            alive &= adopted
        # Plenary ------------------------------------------------------------------------------
        if "plenary" in stages:
            self._diplomacy(rounds.plenary)
            adopted = self._assembly_vote("plenary", alive.copy(), s.resolution.majority)
            for st in self.strategies:
                st.on_vote(self, "plenary", adopted)
            alive &= adopted
        # Security Council ---------------------------------------------------------------------
        council = s.procedure.council
        on_agenda = alive.copy() if council.requires_plenary_adoption else np.ones(r, dtype=bool)
        if stages & {"sc_agenda", "sc_referral"}:
            self._diplomacy(rounds.security_council)
        if "sc_agenda" in stages:
            votes, counts = self._council_vote("sc_agenda", on_agenda)
            adopted = rules.council_adopted(counts[0], counts[1], procedural=True) & on_agenda
            self._record("sc_agenda", on_agenda, votes, adopted, counts)
            on_agenda = adopted
        if "sc_referral" in stages:
            ey, p_veto = self._expected_council("sc_referral")
            tabled = on_agenda & self.sponsor_agent.table_referral(ey, p_veto)
            if council.referral_requires_icc_language:
                tabled &= self.icc_retained
            votes, counts = self._council_vote("sc_referral", tabled)
            perm_no = rules.tally(votes, self.permanent)[1]
            adopted = rules.council_adopted(counts[0], perm_no, procedural=False) & tabled
            self._record("sc_referral", tabled, votes, adopted, counts)
            for code in self.world.security_council.permanent:
                i = self.world.index[code]
                self.outcomes[f"veto_{code}"] = tabled & (votes[i] == rules.NO)
            self.outcomes["sc_referral_vetoed"] = tabled & (perm_no > 0)
        for st in self.strategies:
            st.finish(self)
        # stages not in the scenario are reported as not held
        for stage in STAGES:
            if f"{stage}_held" not in self.outcomes:
                zeros = np.zeros(r, dtype=np.int16)
                self.outcomes.update(
                    {
                        f"{stage}_held": none,
                        f"{stage}_yes": zeros,
                        f"{stage}_no": zeros,
                        f"{stage}_abstain": zeros,
                        f"{stage}_absent": zeros,
                        f"{stage}_adopted": none,
                    }
                )
        if "sc_referral_vetoed" not in self.outcomes:
            self.outcomes["sc_referral_vetoed"] = none
            for code in self.world.security_council.permanent:
                self.outcomes[f"veto_{code}"] = none
        self.outcomes["icc_status"] = self.icc_status.copy()
        self.outcomes["icc_reason"] = self.icc_reason.copy()
        self.outcomes["icc_retained"] = self.icc_retained.copy()
        for name, ev in self.events.items():
            self.outcomes[f"event_{name}"] = ev.copy()
        self.running = False
        return self.outcomes

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


ICC_FACTOR_ARRAY = [ICC_FACTOR[s] for s in ICC_STATUS]
_ICC_FACTORS = np.asarray(ICC_FACTOR_ARRAY, dtype=np.float32)


def inspect_run(scenario: Scenario, seed: int = 0, run: int = 0) -> dict[str, Any]:
    """One history in full, for inspection: every state's vote at every stage held (Y, N, A, X;
    empty where the stage was not held, or for states outside the Council), the per-round
    trajectory of every state's support (Mesa's DataCollector), and the run's outcomes.

    It is the one-replicate model with the streams of block ``run`` (the same history as run
    ``run`` of a Monte Carlo with ``simulation.block_size: 1``)."""
    import pandas as pd

    model = UNModel(scenario, replicates=1, seed=seed, block=run, collect=True)
    out = model.simulate()
    codes = model.world.codes
    letters = np.array([rules.VOTE_LETTERS[v] for v in Vote])
    votes = pd.DataFrame(
        {
            stage: letters[v[:, 0]] if out[f"{stage}_held"][0] else ""
            for stage, v in model.votes.items()
        },
        index=codes,
    )
    for stage in ("sc_agenda", "sc_referral"):
        if stage in votes:
            votes.loc[~model.council, stage] = ""
    votes.index.name = "iso3"
    assert model.datacollector is not None
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    names = {a.unique_id: a.iso3 for a in model.member_states}
    agents = agents[agents["AgentID"].isin(names)]
    trajectory = agents.assign(iso3=agents["AgentID"].map(names)).pivot(
        index="Step", columns="iso3", values="support"
    )
    trajectory.index.name = "round"
    outcomes = {k: v[0].item() for k, v in out.items()}
    outcomes["icc_status"] = ICC_STATUS[int(outcomes["icc_status"])]
    outcomes["icc_reason"] = ICC_REASON[int(outcomes["icc_reason"])]
    return {
        "votes": votes,
        "trajectory": trajectory,
        "rounds": model.datacollector.get_model_vars_dataframe(),
        "outcomes": outcomes,
    }
