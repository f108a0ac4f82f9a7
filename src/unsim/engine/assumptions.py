"""The assumptions a scenario states, and how each is removed: the attribution's steps
(``unsim.engine.attribution``) and, all of them removed, the *data only* variant
(:func:`data_only`), which ``run(..., data_only=True)`` and ``unsim run --data-only`` run.

The removal order (only the assumptions the scenario holds are listed):

1. each response strategy of the target, in the order of ``actors.target.strategies``;
2. ``bargaining``: the sponsors never give way on the ICC language;
3. ``lobbying``: the sponsors' lobbying budget set to 0;
4. ``counter_lobbying``: the allies' counter-lobbying budget set to 0;
5. ``ties``: the allies' and patrons' ties set to 0;
6. ``states``: per-state overrides (positions, support and Council shifts, receptiveness,
   absence) and bloc effects removed; the per-state ICC costs stay for the next steps;
7. ``icc_aversion.states``: the per-state ICC costs removed (those states take their bloc's or
   the global cost);
8. ``icc_aversion_by_bloc``: the ICC costs by bloc removed (every state takes the global cost);
9. ``icc_aversion``: the ICC language's cost set to 0 for every state;
10. ``spread``: any number still given as a distribution (one the steps above do not remove:
    a procedural bias, a Council shift, the state noise...) set to its mean, so that what is
    left draws no stated distribution.

A number given as a distribution is removed by its step like a number given as a point (a
strategy goes with its drawn parameters, a drawn lobbying budget is set to 0...).

What is left ("data only") is the calibrated model voting on the draft: positions, intercept,
trend, abstention band and noises from the calibration, and the model's structural defaults
(diplomatic rounds, the pull of groups, procedural biases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unsim.scenario.drawn import scenario_levers
from unsim.scenario.labels import strategy_name
from unsim.scenario.overrides import replace_value
from unsim.scenario.schema import Scenario
from unsim.strategies import Strategy
from unsim.uncertainty import Uncertain

__all__ = ["Assumption", "assumptions", "data_only"]


def _stated(value: Any) -> bool:
    """A number the scenario states: not zero, or a distribution (whatever its mean)."""
    return bool(value) or isinstance(value, Uncertain)


@dataclass(frozen=True)
class Assumption:
    """An assumption the scenario states and how to remove it."""

    name: str
    label: str
    remove: Callable[[Scenario], Scenario]


def assumptions(scenario: Scenario) -> list[Assumption]:
    """The assumptions ``scenario`` holds, in the order they are removed (see the module doc)."""
    out = _strategy_assumptions(scenario) + _actor_assumptions(scenario)
    out += _state_assumptions(scenario)
    if scenario.resolution.clauses.icc_referral:
        out += _icc_assumptions(scenario)
    rest = scenario
    for step in out:
        rest = step.remove(rest)
    spread = _spread_assumption(rest)
    return out + ([spread] if spread is not None else [])


def data_only(scenario: Scenario) -> Scenario:
    """``scenario`` with every assumption it states removed (the attribution's last variant):
    the calibration's forecast of the draft, with no stated prior and no stated distribution."""
    for step in assumptions(scenario):
        scenario = step.remove(scenario)
    return scenario


def _spread_assumption(scenario: Scenario) -> Assumption | None:
    """The distributions the other steps leave (``model.levers.scenario_levers``), each set to
    its mean."""
    paths = [lever.path for lever in scenario_levers(scenario)]
    if not paths:
        return None

    def points(s: Scenario) -> Scenario:
        """The scenario with each of its drawn numbers set to its mean."""
        for lever in scenario_levers(s):
            s = replace_value(s, lever.path, float(lever.value))
        return s

    # short enough for the tables' label column (the paths are the run table's lever: columns)
    label = f"other drawn numbers at their means ({len(paths)})"
    return Assumption("spread", label, points)


def _strategy_assumptions(scenario: Scenario) -> list[Assumption]:
    """Each of the target's strategies, removed one at a time."""
    out: list[Assumption] = []
    strategies: list[Strategy] = list(scenario.actors.target.strategies)
    for i, strategy in enumerate(strategies):
        # this entry itself (two entries of one type may have the same key and be equal)
        def drop(s: Scenario, entry: Strategy = strategy) -> Scenario:
            """The scenario without this one strategy of the target."""
            kept = [st for st in s.actors.target.strategies if st is not entry]
            return replace_value(s, "actors.target.strategies", kept)  # type: ignore[no-any-return]

        out.append(Assumption(f"strategies[{i}]", strategy_name(strategy, strategies), drop))
    return out


def _never_give_way(s: Scenario) -> Scenario:
    rule = s.actors.sponsors.bargaining.model_copy(
        update={
            "drop_if_expected_yes_share_below": 0.0,
            "accept_offer_min_credibility": 1.01,
            "credibility_noise": 0.0,  # credibility is at most 1: never accepted
        }
    )
    return replace_value(s, "actors.sponsors.bargaining", rule)  # type: ignore[no-any-return]


def _untie(s: Scenario) -> Scenario:
    allies = s.actors.allies.model_copy(update={"tie": 0.0, "patron_tie": 0.0})
    return replace_value(s, "actors.allies", allies)  # type: ignore[no-any-return]


def _actor_assumptions(scenario: Scenario) -> list[Assumption]:
    """The sponsors' bargaining bar and lobbying, the allies' counter-lobbying and ties."""
    out: list[Assumption] = []
    actors = scenario.actors
    bargain = actors.sponsors.bargaining
    if scenario.resolution.clauses.icc_referral and (
        bargain.drop_if_expected_yes_share_below > 0 or bargain.accept_offer_min_credibility <= 1
    ):
        out.append(Assumption("bargaining", "sponsors' bargaining bar", _never_give_way))
    if actors.sponsors.lobbying.budget and actors.sponsors.lobbying.efficacy:
        out.append(
            Assumption(
                "lobbying",
                "sponsors' lobbying",
                lambda s: replace_value(s, "actors.sponsors.lobbying.budget", 0.0),
            )
        )
    counter = actors.allies.counter_lobbying
    if counter.budget and counter.efficacy and actors.allies.members:
        out.append(
            Assumption(
                "counter_lobbying",
                "allies' counter-lobbying",
                lambda s: replace_value(s, "actors.allies.counter_lobbying.budget", 0.0),
            )
        )
    if (_stated(actors.allies.tie) and actors.allies.members) or (
        _stated(actors.allies.patron_tie) and actors.allies.patrons
    ):
        out.append(Assumption("ties", "allies' and patrons' ties", _untie))
    return out


def _plain_states(s: Scenario) -> Scenario:
    kept = {
        code: type(o)(icc_aversion=o.icc_aversion)
        for code, o in s.actors.states.items()
        if o.icc_aversion is not None
    }
    s = replace_value(s, "actors.states", kept)
    return replace_value(s, "behaviour.bloc_effects", {})  # type: ignore[no-any-return]


def _state_assumptions(scenario: Scenario) -> list[Assumption]:
    """Per-state overrides (other than the ICC cost) and bloc effects, removed together."""
    states, bloc_effects = scenario.actors.states, scenario.behaviour.bloc_effects
    overridden = sorted(
        code
        for code, o in states.items()
        if o.model_fields_set - {"icc_aversion"}
        and any(
            getattr(o, f) != type(o).model_fields[f].default
            for f in o.model_fields_set - {"icc_aversion"}
        )
    )
    if not (overridden or bloc_effects):
        return []
    named = overridden[:6] + (["..."] if len(overridden) > 6 else [])
    what = ", ".join(named) + (" and bloc effects" if bloc_effects else "")
    return [Assumption("states", f"per-state overrides ({what})", _plain_states)]


def _no_state_icc(s: Scenario) -> Scenario:
    states = {
        code: o.model_copy(update={"icc_aversion": None}) for code, o in s.actors.states.items()
    }
    return replace_value(s, "actors.states", states)  # type: ignore[no-any-return]


def _icc_assumptions(scenario: Scenario) -> list[Assumption]:
    """The ICC language's cost: per state, by bloc, then for every state."""
    out: list[Assumption] = []
    behaviour = scenario.behaviour
    hostile = sorted(c for c, o in scenario.actors.states.items() if o.icc_aversion is not None)
    if hostile:
        codes = ", ".join(hostile[:4]) + (", ..." if len(hostile) > 4 else "")
        out.append(
            Assumption("icc_aversion.states", f"ICC cost per state ({codes})", _no_state_icc)
        )
    by_bloc = behaviour.icc_aversion_by_bloc
    if by_bloc:
        out.append(
            Assumption(
                "icc_aversion_by_bloc",
                f"ICC cost by bloc ({', '.join(by_bloc)})",
                lambda s: replace_value(s, "behaviour.icc_aversion_by_bloc", {}),
            )
        )
    if _stated(behaviour.icc_aversion):
        out.append(
            Assumption(
                "icc_aversion",
                "ICC language's cost (every state)",
                lambda s: replace_value(s, "behaviour.icc_aversion", 0.0),
            )
        )
    return out
