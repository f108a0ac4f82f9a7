"""The model's parameters, built from a scenario by one pure function, in domain units.

``build_parameters(scenario)`` reads the scenario (its world, calibration, behaviour, actors and
resolution) and returns a frozen :class:`Parameters`: who is who (masks over the world's states),
what each state brings to the draft (expected support, ICC aversion, absence, receptiveness,
Council shift), its influence groups, and what the calibration leaves uncertain. Nothing here
knows of the kernels' coordinates: ``unsim.model.kernel_args.compile_parameters`` forms those.

Arrays are indexed by the world's states in world order ("(states,)"); float32 unless said
otherwise. The arrays are shared, never written after they are built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.model.rules import VOTE_LETTERS
from unsim.scenario.clausefile import ClauseCalibration
from unsim.scenario.schema import Behaviour, Calibration, Scenario, World

F = NDArray[np.float32]
B = NDArray[np.bool_]

#: The target state's expected support for a draft on itself (it votes against).
TARGET_SUPPORT = -50.0
NO_LAST = np.int8(-1)  #: a state with no last vote on the series
_CODE = {letter: np.int8(code) for code, letter in VOTE_LETTERS.items()}
REGIONAL_GROUPS = ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG")


@dataclass(frozen=True)
class Roles:
    """Who is who: (states,) boolean masks, and the target's index."""

    target: int  #: index of the state the draft addresses
    allies: B  #: the target's allies (never the target itself)
    patrons: B  #: the target's patrons (veto holders that defend it)
    sponsors: B  #: the draft's main sponsors
    cosponsors: B  #: sponsors and co-sponsors
    council: B  #: members of the Security Council
    permanent: B  #: its permanent members
    sponsor_codes: tuple[str, ...]  #: ISO3 codes of the main sponsors, in scenario order


@dataclass(frozen=True)
class StateTraits:
    """What each state brings to the draft, in the scenario's units (latent support scale)."""

    support_parts: dict[str, NDArray[np.float64]]  #: (states,) float64 named parts of support
    expected_support: F  #: (states,) their sum; the target's is ``TARGET_SUPPORT``
    icc_aversion: F  #: (states,) what the ICC language costs each state (latent units)
    absence: F  #: (states,) probability of being absent from an Assembly vote (0 to 1)
    receptiveness: F  #: (states,) how far pressure moves each state (0 for the target)
    council_shift: F  #: (states,) what each adds to its support in the Council (latent units)
    lobbied: B  #: (states,) the states both camps lobby (in neither camp, not the target)
    position: F  #: (states,) each state's position (the calibration's, or its override)
    record: F  #: (states,) each state's record on the series (the calibration's)


@dataclass(frozen=True)
class Groups:
    """Influence groups: regional groups, blocs with influence, and the target's camp."""

    membership: F  #: (states, groups) 1 where a state belongs (0 for the target)
    weights: F  #: (states, groups) each state's weights over its groups, rows summing to 1


@dataclass(frozen=True)
class Uncertainty:
    """What the calibration's fit leaves uncertain, drawn per run: the standard normals of the
    level, the two weights and the state's regional group, times ``loadings``, add to support."""

    loadings: F  #: (states, 4) latent units per standard normal (0 for the target)
    group_of: NDArray[np.int64]  #: (states,) each state's regional group (sorted names)
    groups: int  #: number of regional groups


@dataclass(frozen=True)
class Habit:
    """Who repeats what: (states,) arrays in world order."""

    last: NDArray[np.int8]  #: each state's last vote on the series (``rules.Vote`` code; -1 none)
    chance: F  #: probability that it repeats it when present (0 where it has none)


def habit_parameters(
    cal: Calibration | None, world: World, behaviour: Behaviour, target: int
) -> Habit | None:
    """The states' habit from the calibration's last votes and ``behaviour.habit``; None where
    no state has one (then nothing is drawn)."""
    if cal is None or behaviour.habit <= 0:
        return None
    last = np.full(len(world.states), NO_LAST, dtype=np.int8)
    for code, state in cal.states.items():
        if code in world.index and state.last_vote is not None:
            last[world.index[code]] = _CODE[state.last_vote]
    last[target] = NO_LAST
    chance = np.where(last >= 0, np.float32(behaviour.habit), np.float32(0.0)).astype(np.float32)
    return Habit(last, chance) if chance.any() else None


@dataclass(frozen=True)
class Parameters:
    """Everything a model of one scenario is built from (see the module's docstring)."""

    n_states: int  #: the world's states
    behaviour: Behaviour  #: the behaviour parameters, calibration's fits applied
    roles: Roles
    traits: StateTraits
    groups: Groups
    uncertainty: Uncertainty | None  #: None when the calibration gives no uncertainty
    habit: Habit | None = None  #: the states' habit of repeating their last vote (None: none)
    #: sd of a run's log multiplier of absences at an Assembly vote (0: none; ``model.absence``)
    absence_sd: float = 0.0
    #: (4,) the target's own vote on the draft, shares of yes, no, abstain, absent (``Vote``
    #: order; ``model.targetvote``); None: the target votes no
    target_vote: NDArray[np.float64] | None = None


def effective_behaviour(scenario: Scenario) -> Behaviour:
    """The scenario's behaviour with the calibration's fitted values (and the clause
    calibration's) where the scenario sets none of its own."""
    b, cal = scenario.behaviour, _calibration(scenario)
    fitted = dict(cal.behaviour) if cal is not None else {}
    clauses = scenario.clause_calibration
    if isinstance(clauses, ClauseCalibration):
        fitted.update(clauses.behaviour.model_dump())
    fitted = {k: v for k, v in fitted.items() if k not in b.model_fields_set}
    return b.model_copy(update=fitted) if fitted else b


def build_parameters(scenario: Scenario) -> Parameters:
    """The parameters of ``scenario`` (its world and calibration loaded)."""
    world = scenario.world
    if not isinstance(world, World):
        raise TypeError("the scenario's world is not loaded: use unsim.load_scenario")
    b = effective_behaviour(scenario)
    roles = _roles(scenario, world)
    position, record, traits = _traits(scenario, world, b, roles)
    return Parameters(
        n_states=len(world.states),
        behaviour=b,
        roles=roles,
        traits=traits,
        groups=_groups(world, b, roles),
        uncertainty=_uncertainty(_calibration(scenario), world, position, record, roles.target),
        habit=habit_parameters(_calibration(scenario), world, b, roles.target),
        absence_sd=_absence_sd(_calibration(scenario)),
        target_vote=_target_vote(_calibration(scenario)),
    )


def _target_vote(cal: Calibration | None) -> NDArray[np.float64] | None:
    """The calibration's ``target_vote`` in ``Vote`` order (None without one)."""
    if cal is None or not cal.target_vote:
        return None
    shares = [cal.target_vote.get(k, 0.0) for k in ("yes", "no", "abstain", "absent")]
    return np.asarray(shares, dtype=np.float64) / sum(shares)


def _absence_sd(cal: Calibration | None) -> float:
    """The calibration's ``uncertainty.absence_sd`` (0 without)."""
    return float(cal.uncertainty.get("absence_sd", 0.0)) if cal is not None else 0.0


def _calibration(scenario: Scenario) -> Calibration | None:
    return scenario.calibration if isinstance(scenario.calibration, Calibration) else None


def state_mask(world: World, refs: list[str]) -> B:
    """(states,) mask of the states named by ISO3 codes or bloc names."""
    out = np.zeros(len(world.states), dtype=bool)
    for r in refs:
        for c in world.members_of(r):
            out[world.index[c]] = True
    return out


def _roles(s: Scenario, w: World) -> Roles:
    target = w.index[s.resolution.target]
    allies = state_mask(w, s.actors.allies.members)
    allies[target] = False
    sponsors = state_mask(w, s.resolution.sponsors)
    council = w.security_council
    return Roles(
        target=target,
        allies=allies,
        patrons=state_mask(w, s.actors.allies.patrons),
        sponsors=sponsors,
        cosponsors=state_mask(w, s.resolution.cosponsors) | sponsors,
        council=state_mask(w, council.permanent + council.elected),
        permanent=state_mask(w, council.permanent),
        sponsor_codes=tuple(c for r in s.resolution.sponsors for c in w.members_of(r)),
    )


def _calibrated_states(s: Scenario, w: World, b: Behaviour) -> tuple[F, F, F]:
    """(position, record, absence) per state from the calibration (0, 0, the behaviour's)."""
    n, idx = len(w.states), w.index
    position = np.zeros(n, dtype=np.float32)
    record = np.zeros(n, dtype=np.float32)
    absence = np.full(n, b.absence, dtype=np.float32)
    cal = _calibration(s)
    for code, cs in cal.states.items() if cal is not None else ():
        if code in idx:
            position[idx[code]] = cs.position
            if cs.absence is not None:
                absence[idx[code]] = cs.absence
            if cs.record is not None:
                record[idx[code]] = cs.record
    return position, record, absence


def _traits(s: Scenario, w: World, b: Behaviour, roles: Roles) -> tuple[F, F, StateTraits]:
    """(position, record, the states' traits) with the scenario's per-state overrides."""
    n, idx = len(w.states), w.index
    position, record, absence = _calibrated_states(s, w, b)
    icc = np.full(n, b.icc_aversion, dtype=np.float32)
    for bloc, cost in b.icc_aversion_by_bloc.items():
        icc[state_mask(w, [bloc])] = cost
    recept = np.full(n, b.receptiveness, dtype=np.float32)
    shift = np.zeros(n, dtype=np.float32)
    council = np.full(n, b.council_shift, dtype=np.float32)
    for code, o in s.actors.states.items():
        i = idx[code]
        if o.position is not None:
            position[i] = o.position
        if o.icc_aversion is not None:
            icc[i] = o.icc_aversion
        if o.receptiveness is not None:
            recept[i] = o.receptiveness
        if o.absence is not None:
            absence[i] = o.absence
        shift[i] += o.support_shift
        council[i] += o.council_shift
    parts = _support_parts(s, w, b, roles, position, record, shift)
    support = np.sum(np.stack(list(parts.values())), axis=0)
    support[roles.target] = TARGET_SUPPORT
    absence[roles.target] = 0.0
    recept[roles.target] = 0.0
    lobbied = ~roles.cosponsors & ~roles.allies & ~roles.patrons
    lobbied[roles.target] = False
    traits = StateTraits(
        support_parts=parts,
        expected_support=support.astype(np.float32),
        icc_aversion=icc,
        absence=absence,
        receptiveness=recept,
        council_shift=council,
        lobbied=lobbied,
        position=position,
        record=record,
    )
    return position, record, traits


def _support_parts(
    s: Scenario, w: World, b: Behaviour, roles: Roles, position: F, record: F, shift: F
) -> dict[str, NDArray[np.float64]]:
    """Each state's expected support as named parts (kept for explanations)."""
    n = len(w.states)
    blocs = np.zeros(n)
    for bloc, effect in b.bloc_effects.items():
        blocs = blocs + effect * state_mask(w, [bloc])
    allies = s.actors.allies
    return {
        "intercept": np.full(n, b.intercept),
        "position": b.position_weight * position.astype(np.float64),
        "record": b.record_weight * record.astype(np.float64),
        "blocs": blocs,
        "ties": -allies.tie * roles.allies - allies.patron_tie * (roles.patrons & ~roles.allies),
        "shift": shift.astype(np.float64),
    }


def _groups(w: World, b: Behaviour, roles: Roles) -> Groups:
    groups: list[B] = []
    weights: list[float] = []
    for g in REGIONAL_GROUPS:
        groups.append(np.array([st.group == g or st.also_in_group == g for st in w.states]))
        weights.append(b.regional_weight)
    for name in (name for name, bloc in w.blocs.items() if bloc.influence):
        groups.append(state_mask(w, [name]))
        weights.append(b.bloc_weight)
    groups.append(roles.allies | roles.patrons)
    weights.append(b.bloc_weight)
    member = np.stack(groups, axis=1).astype(np.float32)
    member[roles.target] = 0.0
    wts = member * np.asarray(weights, dtype=np.float32)[None, :]
    rows = wts.sum(axis=1, keepdims=True)
    normalised = np.where(rows > 0, wts / np.maximum(rows, 1e-9), 0.0).astype(np.float32)
    return Groups(membership=member, weights=normalised)


def _uncertainty(
    cal: Calibration | None, w: World, position: F, record: F, target: int
) -> Uncertainty | None:
    """Each run draws the level (intercept and session-wide shock), the position and record
    weights (correlated), and one shock per regional group."""
    u: dict[str, Any] = dict(cal.uncertainty) if cal is not None else {}
    if not u:
        return None
    n = len(w.states)
    level_sd = float(u.get("level_sd", 0.0))
    p_sd = float(u.get("position_weight_sd", 0.0))
    r_sd = float(u.get("record_weight_sd", 0.0))
    rho = float(np.clip(u.get("weights_correlation", 0.0), -1.0, 1.0))
    # (position, record) weights: their covariance's Cholesky factor over two normals
    loadings = np.stack(
        [
            np.full(n, level_sd),
            p_sd * position + r_sd * rho * record,
            r_sd * np.sqrt(1.0 - rho * rho) * record,
            np.full(n, float(u.get("group_shock_sd", 0.0))),
        ],
        axis=1,
    ).astype(np.float32)
    loadings[target] = 0.0
    names = sorted({st.group for st in w.states})
    group_of = np.array([names.index(st.group) for st in w.states], dtype=np.int64)
    return Uncertainty(np.ascontiguousarray(loadings), group_of, len(names))
