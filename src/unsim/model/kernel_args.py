"""What the kernels take: a few named structures instead of long lists of arrays.

numba compiles a kernel for each combination of argument types; a ``NamedTuple`` of arrays and
scalars is one argument whose fields the kernel reads by name (``h.deviation``), at no cost.
Arrays are (states, replicates), C-ordered, float32 unless said otherwise; per-replicate arrays
have one entry per replicate, per-state arrays one per state.

``compile_parameters`` forms, once per set of parameters, the kernels' coordinates from the
parameters in domain units (``unsim.model.params``): a vote's tanh argument in the kernels'
*form*, the presence weights of a ballot, the kinds of states that move alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from unsim.model.fastmath import pair_args
from unsim.model.params import Parameters
from unsim.model.stages import Item, stage_named, stages_where
from unsim.scenario.schema import Behaviour

F = NDArray[np.float32]
I64 = NDArray[np.int64]

#: The named bases of a push (``UNModel.shift``), in the order of the columns of the model's
#: bases and of ``kinds``' patterns: the first two are also weighted by swing.
BASES = ("undecided", "lobbied", "receptive", "allies")
SWUNG = 2


class Csr(NamedTuple):
    """(states or kinds, groups) weights as compressed rows: row ``i``'s groups are
    ``group[ptr[i]:ptr[i + 1]]`` with weights ``weight[ptr[i]:ptr[i + 1]]``."""

    ptr: I64  #: (rows + 1,) int64
    group: I64  #: (entries,) int64 group index
    weight: F  #: (entries,) float32


#: No clause deviations (a state's clause cost is its ICC aversion).
NO_CLAUSE = np.zeros((0, 0), dtype=np.float32)


class Histories(NamedTuple):
    """A block's state in domain units: each state's support is ``baseline + deviation``, and
    what the ICC language costs it is ``aversion - clause`` (its ICC aversion less its own
    clause deviation, where there is one). The kernels form a vote's tanh argument from them
    (``argument_form``)."""

    deviation: F  #: (states, replicates) support moved since the start
    aversion: F  #: (states, replicates) the ICC aversion, as stated, drawn and pushed since
    baseline: F  #: (states, replicates) the support each history started from
    clause: F = NO_CLAUSE  #: (states, replicates) each state's clause deviation (or empty)


class Draft(NamedTuple):
    """How a vote's tanh argument is formed (``form``: see ``compile_parameters``) and its
    probabilities weighed."""

    gap: F  #: (replicates,) 1 - the ICC factor (0 while the language is retained)
    use_gap: bool  #: whether any ``gap`` is not 0
    form: F  #: (7,) the tanh argument's coefficients (cd, cc, gc, cbl, gbl, c0, g0)
    pair: Any  #: ``fastmath.pair_args(band / noise)``
    presence: F  #: (states,) probability of being present, 1 - absence
    lobbied: F  #: (states,) lobbying weight of each state (receptiveness in neither camp)


class Observation(NamedTuple):
    """Where the draft stands, as ``observe`` writes it."""

    sums: F  #: (3, replicates) sums of presence x t_yes, presence x t_no, lobbied x swing
    group_means: F  #: (groups, replicates) each group's mean deviation
    swing: F  #: (states, replicates) 1 - t_yes ** 2 (``rules.swing_tanh``)


class Kinds(NamedTuple):
    """States that move alike (same named-basis weights and groups): see ``kinds``."""

    kind_of: I64  #: (states,) each state's kind
    kind_pattern: I64  #: (kinds,) each kind's row of ``patterns``
    patterns: F  #: (patterns, 4) the named-basis weights, columns in ``BASES`` order
    pull: Csr  #: (kinds, groups) bloc_pull x each kind's group weights
    members: Csr  #: (kinds, groups) 1 / group size over each kind's groups


class Pushes(NamedTuple):
    """A round's pushes to one quantity: ``coefficients`` of the named bases, plus ``values[j]``
    on state ``rows[j]`` (pushes on custom bases)."""

    coefficients: F  #: (4, replicates) per named basis, 0 where nothing is pushed
    rows: I64  #: (pushed,) int64 the states reached by custom pushes (repeats allowed)
    values: F  #: (pushed, replicates) what each custom push adds there


class Round(NamedTuple):
    """A round's deliberation: ``keep`` = 1 - bloc_pull, and the pushes to support and to the ICC
    aversion (which rises by its pressure)."""

    keep: Any  #: float32
    support: Pushes
    icc: Pushes


class Ballot(NamedTuple):
    """A vote's uniforms, as thresholds: with h = presence / 2 a state's uniform u becomes
    w = (1 - h - u) / h = ``w_offset`` - ``w_scale`` u; and where the votes go."""

    w_offset: F  #: (states,) (1 - h) / h
    w_scale: F  #: (states,) 1 / h
    u: F  #: (states, replicates) uniforms
    votes: NDArray[np.int8]  #: (states, replicates) out: ``rules.Vote`` codes
    counts: NDArray[np.int32]  #: (4, replicates) out: yes, no, abstain, absent


class Prior(NamedTuple):
    """What a block starts from: baseline = ``expected`` + ``sd`` x noise (+ the calibration's
    draws through ``loadings``), and the ICC aversion ``icc``."""

    expected: F  #: (states,) expected support
    sd: Any  #: float32 state noise
    icc: F  #: (states,) ICC aversion
    loadings: F  #: (states, 4) loadings of the level, two weights and group shock (or empty)
    group_of: I64  #: (states,) each state's regional group (or empty)


#: No draws (``start`` without calibration uncertainty).
NO_LOADINGS = np.zeros((0, 4), dtype=np.float32)
NO_DRAWS = np.zeros((0, 0), dtype=np.float32)
NO_GROUPS = np.zeros(0, dtype=np.int64)
EMPTY_BASIS = np.zeros((0, 0), dtype=np.float32)
NO_ROWS = np.zeros(0, dtype=np.int64)


def csr(weights: F) -> Csr:
    """(states, groups) weights as compressed rows."""
    rows, cols = np.nonzero(weights)
    ptr = np.zeros(weights.shape[0] + 1, dtype=np.int64)
    np.add.at(ptr, rows + 1, 1)
    return Csr(
        np.cumsum(ptr).astype(np.int64),
        cols.astype(np.int64),
        weights[rows, cols].astype(np.float32),
    )


def kinds(bases: F, pull: F, members: F) -> Kinds:
    """The *kinds* of states ``deliberate`` takes: states with the same named-basis weights (a
    row of ``bases``, (states, 4): their *pattern*) and the same groups (rows of the (states,
    groups) ``pull`` and ``members`` weights) move alike but for their own deviation and swing."""
    pattern_index: dict[bytes, int] = {}
    kind_index: dict[tuple[bytes, bytes, bytes], int] = {}
    kind_of = np.empty(bases.shape[0], dtype=np.int64)
    first: list[int] = []
    kind_pattern: list[int] = []
    for i in range(bases.shape[0]):
        pattern = bases[i].tobytes()
        q = pattern_index.setdefault(pattern, len(pattern_index))
        key = (pattern, pull[i].tobytes(), members[i].tobytes())
        if key not in kind_index:
            kind_index[key] = len(first)
            first.append(i)
            kind_pattern.append(q)
        kind_of[i] = kind_index[key]
    patterns = np.zeros((len(pattern_index), bases.shape[1]), dtype=np.float32)
    for i in first:
        patterns[pattern_index[bases[i].tobytes()]] = bases[i]
    return Kinds(
        kind_of,
        np.asarray(kind_pattern, dtype=np.int64),
        patterns,
        csr(np.ascontiguousarray(pull[first], dtype=np.float32)),
        csr(np.ascontiguousarray(members[first], dtype=np.float32)),
    )


#: The votes held with the Assembly's kernels (every body but the Security Council), and those
#: on the draft itself (its tanh argument depends on the ICC language), in procedural order.
ASSEMBLY_VOTES = tuple(stages_where(lambda st: not st.body.is_council))
DRAFT_VOTES = tuple(stages_where(lambda st: st.on_draft))


def argument_form(behaviour: Behaviour, item: Item) -> F:
    """The tanh argument of a vote on ``item`` with the Assembly's kernels
    (``rules.present_tanh`` of the stage's stance, ``UNModel.stances``) as a *form*:
    coefficients (cd, cc, gc, cbl, gbl, c0, g0) of
    z = cd d + (cc + gc gap) c + (cbl + gbl gap) bl + c0 + g0 gap, in the model's state in
    domain units: a state's deviation d and baseline bl (its support is bl + d), its clause
    cost c (its ICC aversion less its clause deviation) and the replicate's gap (1 - ICC
    factor). With h = 1 / (2 noise) and the draft's pass-through p
    (``behaviour.clause_pass_through``):

    * draft: (support - p x factor x cost - band) h = h d + (-p h + p h gap) c + h bl - h band
    * amendment: (cost - support + bias - band) h = -h d + h c - h bl + (bias - band) h
    * no-action motion: (-support + bias - band) h = -h d - h bl + (bias - band) h
    """
    b = behaviour
    h, band = 0.5 / b.vote_noise, b.abstention_band
    if item is Item.AMENDMENT:
        form = (-h, h, 0.0, -h, 0.0, (b.amendment_bias - band) * h, 0.0)
    elif item is Item.NO_ACTION:
        form = (-h, 0.0, 0.0, -h, 0.0, (b.no_action_bias - band) * h, 0.0)
    else:
        p = b.clause_pass_through
        form = (h, -p * h, p * h, h, 0.0, -band * h, 0.0)
    return np.asarray(form, dtype=np.float32)


@dataclass(frozen=True)
class Compiled:
    """The kernels' arguments that follow from the parameters alone (formed once per model)."""

    half: np.float32  #: 1 / (2 vote noise)
    keep: np.float32  #: 1 - bloc_pull
    pair: Any  #: ``pair_args(band / noise)``
    presence: F  #: (states,) 1 - absence
    presence_total: np.float32  #: its sum
    w_offset: F  #: (states,) (1 - h) / h, h = presence / 2 (see ``Ballot``)
    w_scale: F  #: (states,) 1 / h
    lobbied: F  #: (states,) lobbying weight: receptiveness of the states in neither camp
    bases: F  #: (states, 4) the named bases of a push, columns in ``BASES`` order
    kinds: Kinds  #: states that move alike
    members: Csr  #: (states, groups) 1 / group size over each state's groups
    forms: dict[str, F]  #: each Assembly vote's tanh form (``argument_form``)
    #: each motion's bias: its path among the scenario's values and the value its form has
    biases: dict[str, tuple[str, np.float32]]
    prior: Prior  #: what a block starts from

    def draft(self, gap: F, use_gap: bool, stage: str = "third_committee") -> Draft:
        """The vote at ``stage`` as the kernels see it (the draft's, by default)."""
        return Draft(gap, use_gap, self.forms[stage], self.pair, self.presence, self.lobbied)

    def vote(self, stage: str, gap: F, use_gap: bool, draws: dict[str, F] | None) -> Draft:
        """The vote at Assembly ``stage`` as the kernels see it: the draft where it stands
        (with the ICC ``gap``), or a motion (the no-action motion, the amendment; ``gap`` the
        replicates' zeros) with its bias as drawn in each run (``draws``: the scenario's draws
        by path, ``unsim.model.levers``; None: none). A drawn bias enters through the
        per-replicate gap with coefficient 1 / (2 noise), as its change from the bias the form
        was built with (``argument_form``)."""
        if stage in DRAFT_VOTES:
            return self.draft(gap, use_gap, stage)
        path, point = self.biases[stage]
        drawn = None if draws is None else draws.get(path)
        if drawn is None:
            return self.draft(gap, False, stage)
        form = self.forms[stage].copy()
        form[6] = self.half
        return Draft(drawn - point, True, form, self.pair, self.presence, self.lobbied)


def compile_parameters(p: Parameters) -> Compiled:
    """The kernels' coordinates of the parameters ``p`` (in domain units)."""
    b, traits, roles = p.behaviour, p.traits, p.roles
    presence = (np.float32(1.0) - traits.absence).astype(np.float32)
    h = np.maximum(presence * np.float32(0.5), np.float32(1e-30))
    receptiveness = traits.receptiveness[:, None]
    lobbied = traits.lobbied[:, None].astype(np.float32) * receptiveness
    not_allied = receptiveness * (~roles.allies)[:, None]
    named = {
        "undecided": not_allied[:, 0],
        "lobbied": lobbied[:, 0],
        "receptive": not_allied[:, 0],
        "allies": roles.allies[:, None].astype(np.float32)[:, 0],
    }
    bases = np.ascontiguousarray(np.stack([named[n] for n in BASES], axis=1), dtype=np.float32)
    member = p.groups.membership
    per_size = np.divide(member, np.maximum(member.sum(axis=0), np.float32(1.0)), dtype=np.float32)
    half = np.float32(0.5 / b.vote_noise)
    u = p.uncertainty
    return Compiled(
        half=half,
        keep=np.float32(1.0 - b.bloc_pull),
        pair=pair_args(b.abstention_band / b.vote_noise),
        presence=presence,
        presence_total=np.float32(presence.sum()),
        w_offset=((np.float32(1.0) - h) / h).astype(np.float32),
        w_scale=(np.float32(1.0) / h).astype(np.float32),
        lobbied=np.ascontiguousarray(lobbied[:, 0]),
        bases=bases,
        kinds=kinds(bases, np.float32(b.bloc_pull) * p.groups.weights, per_size),
        members=csr(per_size),
        forms={name: argument_form(b, stage_named(name).item) for name in ASSEMBLY_VOTES},
        biases={name: _bias(b, name) for name in ASSEMBLY_VOTES if name not in DRAFT_VOTES},
        prior=Prior(
            expected=traits.expected_support,
            sd=np.float32(b.state_noise),
            icc=traits.icc_aversion,
            loadings=NO_LOADINGS if u is None else u.loadings,
            group_of=NO_GROUPS if u is None else u.group_of,
        ),
    )


def _bias(behaviour: Behaviour, stage: str) -> tuple[str, np.float32]:
    """A motion's bias (``Stage.bias``): its path and its value in ``behaviour``."""
    path = stage_named(stage).bias
    assert path is not None
    return path, np.float32(getattr(behaviour, path.rpartition(".")[2]))
