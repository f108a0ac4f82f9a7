"""Following each source of a state's stance through a history, run by the model itself.

A state's stance on the draft at a vote is

    support - (pass-through) x (ICC factor) x (clause cost),   support = baseline + deviation,
    clause cost = ICC aversion - clause deviation

and on the amendment deleting the ICC paragraphs minus its stance on the paragraphs (support
less the whole clause cost) plus the amendment's bias (``UNModel.stances``). The baseline is
the sum of the model's named parts of the expected support (``UNModel.support_parts``:
intercept, position, record, blocs, ties, per-state shift) plus the run's chance (noise and
the calibration's uncertainty, drawn once per run). The deviation starts at zero and moves
only in the diplomatic rounds, by a rule that is linear in it (``kernels.deliberate``):

    new deviation = keep x (deviation + pressure) + pull x (group means of the deviation)

with ``pressure`` the sum of the round's pushes (the sponsors' lobbying, the allies'
counter-lobbying, each strategy of the target). So the deviation is, exactly, the sum over the
sources of each source's pushes carried forward by that same rule: a push on a neighbour that
reaches a state through its groups counts for the source that made it. The ICC aversion moves
by its own pushes alone (no pull), and what the ICC language costs at the vote on the draft is
the clause's pass-through times the ICC factor of the run (retained 1, softened 0.5, dropped
0) times it, the ICC aversion as stated and the state's own clause deviation shown apart.

:class:`Tracker` runs the model's own ``simulate`` and watches it as an observer of its events
(``unsim.model.observers``; nothing in the model is replaced): each source's pushes are the
model's own (``on_push``), carried to the end of each round by the model's own deliberation rule
(``UNModel.deliberated``), and the stances at each vote are the ones the vote used (``on_vote``:
``UNModel.stances``, in the Council each member's ``council_stance``).

A member of the Security Council takes its stance there from the same support, with its stated
Council shift (``MemberState.council_stance``): at the agenda vote plus the procedural shift, at
the referral draft less the ICC language's full cost (a referral is the ICC) and, for a patron
of the target among the permanent members, its tie; or, where the scenario states the
Council's rule fitted on its record (``procedure.council.votes``), at the referral draft the
rule's norm, its own Council shift, a dissenter's reluctance, a patron's defence and the shock
the patrons share in the run (and its weighted support and ICC cost, if the rule weighs them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.engine.blocks import prepare_process
from unsim.model import UNModel, observers
from unsim.model.kernel_args import DRAFT_VOTES
from unsim.model.observers import Observer
from unsim.model.stages import Item, Stage, stage_named, stages_where
from unsim.scenario.labels import strategy_name
from unsim.scenario.schema import SC_STAGES, Scenario

Array = NDArray[np.floating[Any]]

#: The Assembly votes on the draft itself, whose stances the tracker records.
DRAFT_STAGES = DRAFT_VOTES
#: The Council's votes, whose members' stances the tracker records.
COUNCIL_STAGES = SC_STAGES
#: Every vote the tracker records, in the order they are held: every vote but the no-action
#: motion (the amendment deleting the ICC paragraphs, the votes on the draft, the Council's).
VOTED_STAGES = tuple(stages_where(lambda st: st.item is not Item.NO_ACTION))
#: The named parts of the model's expected support, in the order they are shown, and in words.
STATIC_PARTS = {
    "intercept": "the vote model's level (intercept)",
    "record": "its record on the series",
    "position": "its position (ideal point)",
    "blocs": "its blocs",
    "ties": "ties to the target and its patrons",
    "shift": "per-state support shift (stated)",
}
CHANCE = ("chance", "chance: the run's noise and calibration uncertainty")
LINKAGE = ("session", "the session's linkage (state factor, shock)")
ICC = ("icc", "the ICC language's cost")
CLAUSE = ("clause_deviation", "its own deviation on the ICC clause (drawn per run)")
BIAS = ("amendment_bias", "the amendment's bias (stated)")
LOBBYING = ("lobbying", "the sponsors' lobbying")
COUNTER = ("counter_lobbying", "the allies' lobbying")
TARGET = ("target", "the target votes against a draft on itself")
OTHER = ("other", "other pushes")
COUNCIL = ("council", "its shift in the Council (stated)")
PROCEDURAL = ("procedural", "the agenda vote is procedural (stated shift)")
PATRON = ("patron", "a patron's defence in the Council (stated tie)")
#: The parts of the Council's rule fitted on its record (``procedure.council.votes``).
NORM = ("council_norm", "the Council's norm toward yes (fitted)")
DEFENCE = ("patron_defence", "a patron's defence in the Council (fitted)")
DISSENT = ("dissent", "an earlier dissent on the situation (fitted)")
SHOCK = ("patron_shock", "the patrons' shared shock of the run (fitted spread)")


@dataclass
class StageRecord:
    """What the model held at one vote: per part (states, runs), and the stances it used."""

    parts: dict[str, Array]
    stance: NDArray[np.float32]
    held: NDArray[np.bool_]
    absence: NDArray[np.float32]
    #: (states,) who votes: every state at the Assembly (None), the members of a body of its
    #: own (the Council's 15, the Human Rights Council's 47)
    members: NDArray[np.bool_] | None = None
    #: whether a state's habit of repeating its last vote applies (the votes on the draft)
    by_habit: bool = True


class Tracker(Observer):
    """Runs one block of a scenario on the model, watching it (an observer of the model's
    events, ``unsim.model.observers``), and splits each state's stance at each vote into its
    parts (see the module doc). ``labels`` maps part names to words."""

    def __init__(self, scenario: Scenario, seed: int, block: int, size: int):
        model = UNModel(scenario, replicates=size, seed=seed, block=block, observers=[self])
        self.model = model
        self.labels: dict[str, str] = {LOBBYING[0]: LOBBYING[1], COUNTER[0]: COUNTER[1]}
        # each source of the model's pushes by the part it is shown as: the scenario's
        # strategies by their place in it, the model's own by their name
        self._part = {observers.LOBBYING: LOBBYING[0], observers.COUNTER_LOBBYING: COUNTER[0]}
        strategies = [b.strategy for b in model.strategies]
        for i, bound in enumerate(model.strategies):
            name = f"strategies[{i}]"
            self.labels[name] = strategy_name(strategies[i], strategies)
            self._part[f"strategy:{bound.key}"] = name
        self._pending: dict[str, Array] = {}  # each source's pushes to support this round
        self._flow: dict[str, Array] = {}  # each source's share of the deviation
        self._icc: dict[str, Array] = {}  # each source's pushes to the ICC aversion
        self.stages: dict[str, StageRecord] = {}

    def simulate(self) -> dict[str, NDArray[Any]]:
        """The model's own ``simulate`` (the same history as the engine's block). BLAS runs
        single-threaded, as in the engine's blocks (``prepare_process``)."""
        prepare_process()
        out = self.model.simulate()
        for stage, rec in self.stages.items():
            rec.held = np.asarray(out[f"{stage}_held"], dtype=bool)
        return out

    # -- pushes ---------------------------------------------------------------------------------
    def on_push(self, model: UNModel, source: str, quantity: str, values: Array) -> None:
        """A push of the round, kept for the part of its source (the deliberation's own move
        is carried by each source's share below, not kept)."""
        if source == observers.DELIBERATION:
            return
        name = self._part.get(source)
        if name is None:  # a push the model does not name: its own part
            name = self._part[source] = source if source != observers.OTHER else OTHER[0]
            self.labels.setdefault(name, OTHER[1])
        if quantity == "icc_aversion":  # the ICC aversion moves by its pushes alone
            prev = self._icc.get(name)
            self._icc[name] = values if prev is None else prev + values
        else:
            prev = self._pending.get(name)
            self._pending[name] = values if prev is None else prev + values

    def on_round(self, model: UNModel, round: int, phase: str) -> None:
        """At a round's end each source's share of the deviation moves as the deviation does
        (``UNModel.deliberated``: linear, so the shares add up to it)."""
        if phase != "end":
            return
        for name in set(self._flow) | set(self._pending):
            flow = self._flow.get(name)
            if flow is None:
                flow = np.zeros((model.n_states, model.n_replicates), dtype=np.float32)
            self._flow[name] = model.deliberated(flow, self._pending.get(name))
        self._pending = {}

    def on_vote(self, model: UNModel, stage: str, stances: Array, votes: Any) -> None:
        """The stances at a vote, in parts: the amendment's, the draft's, the Council's."""
        st = stage_named(stage)
        if st.item is Item.NO_ACTION:
            return
        if st.body.is_council:
            self._record_council(stage, stances)
        elif st.item is Item.AMENDMENT:
            self._record_amendment(st, stances)
        else:
            self._record(stage, stances)

    # -- the stances at a vote ------------------------------------------------------------------
    def _support_parts(self) -> dict[str, Array]:
        """Every state's support in parts (states, runs): the model's named parts, the target's
        set support, the run's chance, and each source's share of the deviation."""
        m = self.model
        n, r = m.n_states, m.n_replicates
        parts: dict[str, Array] = {}
        expected = np.zeros((n, 1))
        static = m.support_parts  # (states,), or (states, runs) where a lever is drawn per run
        names = [k for k in STATIC_PARTS if k in static] + [
            k for k in static if k not in STATIC_PARTS
        ]
        for name in names:  # a part the model may add later keeps its own name
            value = np.asarray(static[name], np.float64)
            value = value[:, None] if value.ndim == 1 else value
            parts[name] = np.broadcast_to(value, (n, r))
            expected = expected + value
        fixed = np.asarray(m.expected_support, np.float64) - expected
        # the target's support is set, not built from the parts (the rest is the float32
        # rounding of the sum)
        fixed[np.abs(fixed) < 1e-3] = 0.0
        if fixed.any():
            parts[TARGET[0]] = np.broadcast_to(fixed, (n, r))
        shift = getattr(m, "support_shift", None)  # a session's linkage
        if shift is not None:
            parts[LINKAGE[0]] = shift
            parts[CHANCE[0]] = m.baseline - shift - (expected + fixed).astype(np.float32)
        else:
            parts[CHANCE[0]] = m.baseline - (expected + fixed).astype(np.float32)
        return parts

    def _parts(self, factor: Any | None, scale: Any = 1.0) -> dict[str, Array]:
        """The stance's parts: the support's (times ``scale``), less ``factor`` (per run) times
        the clause cost: the ICC aversion as stated, the state's own clause deviation, and the
        pushes to the aversion, which count for the sources that made them (no ICC part with
        ``factor`` None: the support alone)."""
        m = self.model
        n, r = m.n_states, m.n_replicates
        parts = self._support_parts()
        scale = np.asarray(scale, dtype=np.float32)  # a number, or per run where drawn
        if np.any(scale != 1.0):
            parts = {k: v * scale for k, v in parts.items()}
        if factor is not None:
            pushed_icc = sum(self._icc.values(), np.zeros((n, r), dtype=np.float32))
            own = m.clause_deviation
            stated = m.icc_aversion - pushed_icc
            parts[ICC[0]] = -factor * (stated if own is None else stated + own)
            if own is not None:
                parts[CLAUSE[0]] = factor * own
        icc = self._icc if factor is not None else {}
        for name in sorted(set(self._flow) | set(icc), key=_order):
            part = self._flow.get(name, np.zeros((n, r), dtype=np.float32)) * scale
            if factor is not None and name in icc:
                part -= factor * icc[name]
            parts[name] = part
        return parts

    def _record_amendment(self, stage: Stage, stance: Array) -> None:
        """The amendment's stances (the model's, as its vote saw them) in parts: minus the
        stance on the ICC paragraphs (the support's parts and the whole clause cost's, negated),
        plus the amendment's bias."""
        m = self.model
        n, r = m.n_states, m.n_replicates
        parts = self._parts(np.float32(-1.0), scale=-1.0)
        bias = m.procedure.bias(stage)
        parts[BIAS[0]] = np.broadcast_to(np.asarray(bias, dtype=np.float32), (n, r))
        absence = np.asarray(m.params.traits.absence, np.float32).reshape(n, -1)[:, 0]
        held = np.ones(r, dtype=bool)  # set from the outcomes after the run
        self.stages[stage.name] = StageRecord(parts, stance, held, absence, by_habit=False)

    def _record(self, stage: str, stance: Array) -> None:
        """A vote on the draft's stances in parts: the support's less the clause cost's share
        that reaches the draft (its pass-through times the run's ICC factor)."""
        m = self.model
        through = np.float32(m.behaviour.clause_pass_through)
        parts = self._parts(through * m.icc_factor().astype(np.float32)[None, :])
        n, r = m.n_states, m.n_replicates
        absence = np.asarray(m.params.traits.absence, np.float32).reshape(n, -1)[:, 0]
        held = np.ones(r, dtype=bool)  # set from the outcomes after the run
        self.stages[stage] = StageRecord(parts, stance, held, absence, m.members(stage))

    def _record_council(self, stage: str, stance: Array) -> None:
        """A Council vote's stances (each member's ``council_stance``, the other states' rows
        zero) in parts: the weighted support's and ICC aversion's, and the parts the model
        gives (``MemberState.council_stance_parts``; every state's, as it would stand in the
        Council)."""
        m = self.model
        n, r = m.n_states, m.n_replicates
        members = m.member_states
        given = [a.council_stance_parts(stage) for a in members]
        support, icc = given[0][0], given[0][1]  # the rule's weights, the same for every member
        parts: dict[str, Array] = {}
        if stage_named(stage).item is Item.REFERRAL and m.spec.procedure.council.votes:
            # the Council's rule: its weighted support and ICC cost, where it weighs them
            if np.any(support) or np.any(icc):
                weighted = self._parts(np.asarray(icc, np.float32), scale=support)
                parts.update({k: v for k, v in weighted.items() if np.any(v)})
        else:
            parts = self._parts(np.float32(icc) if icc else None)
        for j, a in enumerate(members):
            for name, value in given[j][2].items():
                if name not in parts:
                    parts[name] = np.zeros((n, r), dtype=np.float32)
                parts[name][a.index] = value
        held = np.ones(r, dtype=bool)  # set from the outcomes after the run
        absent = np.zeros(n, dtype=np.float32)  # in the Council every member votes
        self.stages[stage] = StageRecord(parts, stance, held, absent, m.members(stage))


def _order(name: str) -> tuple[int, str]:
    """Sources in a fixed order: the strategies, then lobbying, counter-lobbying, the rest."""
    if name.startswith("strategies["):
        return (0, f"{int(name[11:-1]):04d}")
    rank = {LOBBYING[0]: 1, COUNTER[0]: 2}
    return (rank.get(name, 3), name)


def part_labels(tracker_labels: dict[str, str]) -> dict[str, str]:
    """Every part's name in words."""
    return {
        **STATIC_PARTS,
        CHANCE[0]: CHANCE[1],
        LINKAGE[0]: LINKAGE[1],
        ICC[0]: ICC[1],
        TARGET[0]: TARGET[1],
        CLAUSE[0]: CLAUSE[1],
        BIAS[0]: BIAS[1],
        LOBBYING[0]: LOBBYING[1],
        COUNTER[0]: COUNTER[1],
        OTHER[0]: OTHER[1],
        COUNCIL[0]: COUNCIL[1],
        PROCEDURAL[0]: PROCEDURAL[1],
        PATRON[0]: PATRON[1],
        NORM[0]: NORM[1],
        DEFENCE[0]: DEFENCE[1],
        DISSENT[0]: DISSENT[1],
        SHOCK[0]: SHOCK[1],
        **tracker_labels,
    }
