"""The smallest change that flips a state's vote in the user's units: in votes, and in the
scenario's levers.

In votes: the smallest stance shift that changes the state's most likely vote
(:func:`unsim.explain.flip.smallest_shift`), given to every other state voting at the same vote,
changes the most likely vote of :attr:`VotesMoved.states` of them and the mean yes tally by
:attr:`VotesMoved.yes` (each by its own rule and habit, over the same replayed runs): a sense of
how large the change is.

In the levers' own units: a part of the stance that a stated lever makes in proportion to the
lever is scaled by a factor ``k`` (:func:`unsim.explain.flip.part_scale`) exactly as the lever
would be: the ICC language's cost for the state (the part is minus the run's ICC factor times
its cost), a stated support, Council or procedural shift, the allies' or a patron's tie, the
Council rule's norm, a patron's defence or a dissenter's reluctance (fitted on the Council's
record, stated in the scenario), and inducements' ``amount`` (its push is the amount times the
state's receptiveness). A source whose pushes follow the state's swing (its chance of being
persuaded, which the pushes themselves move: the sponsors' and the allies' lobbying, a charm
offensive, threats, an invitation, a deception) is not proportional to any number of the
scenario: its factor is said as a multiple of what that source does to the state ("at least 4.2
times the allies' lobbying of this state"). The parts of the calibration (the vote model's
level, the state's position and record, the run's chance) are no levers: no change is offered in
them. The rounds respond to any change (lobbying follows each state's swing), so even a
proportional lever's value is that of the stance at the vote, to first order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.explain.flip import PartScale, StateRule
from unsim.scenario.schema import Scenario, World
from unsim.uncertainty.values import bounds_of

__all__ = ["LeverChange", "LeverUnit", "VotesMoved", "lever_changes", "lever_units"]


@dataclass(frozen=True)
class VotesMoved:
    """The flip's stance shift given to every other voter at the vote: how many of them
    (``of``) would change their most likely vote (``states``), and the change in the mean yes
    tally (``yes``)."""

    states: int
    of: int
    yes: float


@dataclass(frozen=True)
class LeverUnit:
    """How a part of the stance maps to a lever: ``value`` (the part is proportional to the
    number ``now`` at ``path``, named ``name``) or ``times`` (a multiple of what the source
    does to the state, named ``name``)."""

    part: str
    kind: str  #: "value" or "times"
    name: str  #: "an ICC cost", "a charm offensive of intensity", "the sponsors' lobbying..."
    now: float = math.nan
    where: str = ""  #: where the value is stated, in words
    path: str = ""  #: its scenario path
    low: float | None = None  #: the value's bounds in the scenario
    high: float | None = None


@dataclass(frozen=True)
class LeverChange:
    """A change of one lever that changes the state's most likely vote to ``to_vote``, in
    words (``text``); ``value`` the lever's value at the change (NaN for a multiple), ``factor``
    the part's factor there."""

    part: str
    text: str
    to_vote: str
    factor: float
    value: float = math.nan
    path: str = ""


# --------------------------------------------------------------------------------------------
# in votes
# --------------------------------------------------------------------------------------------
def votes_moved(
    stances: NDArray[Any], rules: list[StateRule | None], i: int, shift: float
) -> VotesMoved:
    """``shift`` given to every voter but ``i`` (``stances``: (states, runs) at the vote, over
    the runs in which it was held; ``rules[j]`` the state's rule, None for a state that does
    not vote there)."""
    changed, of, yes = 0, 0, 0.0
    for j, rule in enumerate(rules):
        if rule is None or j == i:
            continue
        s = np.asarray(stances[j], dtype=np.float32)
        both = np.stack([s, s + np.float32(shift)])
        p = rule.probabilities(both)  # (4, 2)
        of += 1
        changed += int(np.argmax(p[:, 0]) != np.argmax(p[:, 1]))
        yes += float(p[0, 1] - p[0, 0])
    return VotesMoved(changed, of, yes)


# --------------------------------------------------------------------------------------------
# in the levers' own units
# --------------------------------------------------------------------------------------------
#: The strategies whose part is proportional to one of their numbers (their pushes do not
#: follow the state's swing): the number, and its name in words.
_STRATEGY_NUMBERS = {"inducements": ("amount", "inducements of amount")}


def _bounds(model: Any, field: str) -> tuple[float | None, float | None]:
    info = type(model).model_fields.get(field)
    if info is None:
        return None, None
    b = bounds_of(info.metadata)
    return (b.ge if b.ge is not None else b.gt), (b.le if b.le is not None else b.lt)


def _icc_unit(scenario: Scenario, params: Any, code: str, i: int) -> LeverUnit:
    """The state's ICC cost, and where the scenario states it."""
    world = scenario.world
    assert isinstance(world, World)
    now = float(params.traits.icc_aversion[i])
    override = scenario.actors.states.get(code)
    behaviour = scenario.behaviour
    low, high = _bounds(behaviour, "icc_aversion")
    if override is not None and override.icc_aversion is not None:
        return LeverUnit("icc", "value", "an ICC cost", now, "stated for this state",
                         f"actors.states.{code}.icc_aversion", low, high)  # fmt: skip
    bloc = None
    for name in behaviour.icc_aversion_by_bloc:  # a later bloc wins
        if code in world.members_of(name):
            bloc = name
    if bloc is not None:
        return LeverUnit("icc", "value", "an ICC cost", now, f"its bloc {bloc}'s",
                         f"behaviour.icc_aversion_by_bloc.{bloc}", low, high)  # fmt: skip
    return LeverUnit("icc", "value", "an ICC cost", now, "the cost for every state",
                     "behaviour.icc_aversion", low, high)  # fmt: skip


def _strategy_unit(scenario: Scenario, part: str, label: str) -> LeverUnit:
    index = int(part[len("strategies[") : -1])
    strategy = scenario.actors.target.strategies[index]
    number = _STRATEGY_NUMBERS.get(str(getattr(strategy, "type", "")))
    if number is None:
        return LeverUnit(part, "times", f"what the {label} does to this state")
    field, name = number
    low, high = _bounds(strategy, field)
    path = f"actors.target.strategies[{index}].{field}"
    return LeverUnit(part, "value", name, float(getattr(strategy, field)), "", path, low, high)


def lever_units(
    scenario: Scenario, code: str, parts: dict[str, float], labels: dict[str, str]
) -> dict[str, LeverUnit]:
    """How each of the state's ``parts`` (name: its mean at the vote) maps to a lever of
    ``scenario`` (module doc); the parts that are no levers are left out."""
    from unsim.model.params import build_parameters

    world = scenario.world
    assert isinstance(world, World)
    i = world.index[code]
    params = build_parameters(scenario)
    votes = scenario.procedure.council.votes
    allies = scenario.actors.allies
    fitted = "fitted on the Council's record"
    units: dict[str, LeverUnit] = {}
    for part, mean in parts.items():
        unit: LeverUnit | None = None
        if part == "icc":
            unit = _icc_unit(scenario, params, code, i)
        elif part.startswith("strategies["):
            unit = _strategy_unit(scenario, part, labels.get(part, part))
        elif part == "lobbying":
            unit = LeverUnit(part, "times", "the sponsors' lobbying of this state")
        elif part == "counter_lobbying":
            unit = LeverUnit(part, "times", "the allies' lobbying of this state")
        elif part == "shift":
            unit = LeverUnit(part, "value", "a support shift", mean, "stated for this state",
                             f"actors.states.{code}.support_shift")  # fmt: skip
        elif part == "council":
            unit = LeverUnit(part, "value", "a Council shift", mean, "stated",
                             f"actors.states.{code}.council_shift")  # fmt: skip
        elif part == "procedural":
            unit = LeverUnit(part, "value", "a procedural shift", mean, "stated",
                             "behaviour.procedural_shift")  # fmt: skip
        elif part == "ties" and mean:
            ally = abs(mean + float(allies.tie)) < abs(mean + float(allies.patron_tie))
            field = "tie" if ally else "patron_tie"
            name = "an allies' tie" if ally else "a patrons' tie"
            unit = LeverUnit(part, "value", name, -mean, "stated", f"actors.allies.{field}")
        elif part == "patron":
            unit = LeverUnit(part, "value", "a patrons' tie", -mean, "stated",
                             "actors.allies.patron_tie")  # fmt: skip
        elif part == "blocs" and scenario.behaviour.bloc_effects:
            unit = LeverUnit(part, "times", "its blocs' stated effects")
        elif votes is not None and part in ("council_norm", "patron_defence", "dissent"):
            field = {"council_norm": "norm"}.get(part, part)
            sign = 1.0 if part == "council_norm" else -1.0
            name = {
                "council_norm": "the Council's norm toward yes",
                "patron_defence": "a patron's defence",
                "dissent": "a dissenter's reluctance",
            }[part]
            unit = LeverUnit(part, "value", name, sign * mean, fitted,
                             f"procedure.council.votes.{field}")  # fmt: skip
        if unit is not None:
            units[part] = unit
    return units


def _number(x: float) -> str:
    return f"{x:.3g}" if abs(x) >= 0.01 else f"{x:.2g}"


def lever_changes(scales: list[PartScale], units: dict[str, LeverUnit]) -> list[LeverChange]:
    """Each part's factor that changes the state's vote (``scales``) said in its lever's units
    (``units``); parts without a lever left out; the nearest to the lever as it is first."""
    out = []
    for s in scales:
        unit = units.get(s.part)
        if unit is None:
            continue
        k = s.threshold  # the factor at the change
        if unit.kind == "times":
            if s.factor <= 0:
                text = f"without {unit.name}"
            else:
                text = f"{'at least' if k > 1 else 'at most'} {k:.2g} times {unit.name}"
            out.append(LeverChange(s.part, text, s.to_vote, s.factor))
            continue
        value = k * unit.now
        up = value > unit.now
        if abs(k) < 1e-6:  # only without it
            text = f"{unit.name} of 0"
        else:
            text = f"{unit.name} {'above' if up else 'below'} {_number(value)}"
        if unit.part == "icc":
            text += " for this state"
        now = f"now {_number(unit.now)}" + (f", {unit.where}" if unit.where else "")
        text += f" ({now})"
        beyond = (unit.high is not None and value > unit.high) or (
            unit.low is not None and value < unit.low
        )
        if beyond:
            limit = unit.high if up else unit.low
            text += f", beyond what the scenario allows ({_number(float(limit))})"  # type: ignore[arg-type]
        out.append(LeverChange(s.part, text, s.to_vote, s.factor, value, unit.path))
    out.sort(key=lambda c: abs(math.log(max(abs(c.factor), 1e-9))))
    return out
