"""Which part of a forecast is data and which is assumption: an attribution of the tallies.

A scenario's forecast mixes what the calibration fitted on past roll calls (positions, the vote
model) with priors that no past vote identifies: the ICC language's cost, the target's
strategies, the sponsors' bargaining bar, lobbying, the allies' ties, per-state overrides. The
attribution runs the scenario as given and then with those assumptions removed one at a time,
cumulatively, in a fixed order, down to *data only*; every run uses the same master seed, so run
``i`` of every variant shares its random numbers (common random numbers) and the differences are
measured with little noise.

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
9. ``icc_aversion``: the ICC language's cost set to 0 for every state.

What is left ("data only") is the calibrated model voting on the draft: positions, intercept,
trend, abstention band and noises from the calibration, and the model's structural defaults
(diplomatic rounds, the pull of groups, procedural biases).

Part ``k`` is the mean tally with assumptions ``1..k-1`` removed minus the mean with ``1..k``
removed (tallies averaged over the runs in which the stage was held), so the parts add up to
``as_given - data_only`` by construction. Its interval is a normal one on the per-run
differences of the runs held in both variants. An earlier removal takes the interactions with
later ones (the bargaining bar's part is what it adds once the strategies are gone).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from unsim.engine.core import run
from unsim.model.kernel_args import DRAFT_VOTES
from unsim.results.stats import paired_difference
from unsim.results.tables import Results
from unsim.scenario.labels import strategy_name
from unsim.scenario.schema import Scenario
from unsim.strategies import Strategy

CATEGORIES = ("yes", "no", "abstain", "absent")
WIDTHS = (9, 8, 9, 8)
#: The Assembly stages on the draft itself, the first held is the one attributed at top level.
DRAFT_STAGES = DRAFT_VOTES


@dataclass(frozen=True)
class Assumption:
    """An assumption the scenario states and how to remove it."""

    name: str
    label: str
    remove: Callable[[Scenario], Scenario]


def _replace(model: BaseModel, path: str, value: Any) -> Any:
    """A copy of ``model`` with the field at dotted ``path`` set to ``value``."""
    head, _, rest = path.partition(".")
    if not rest:
        return model.model_copy(update={head: value})
    return model.model_copy(update={head: _replace(getattr(model, head), rest, value)})


def assumptions(scenario: Scenario) -> list[Assumption]:
    """The assumptions ``scenario`` holds, in the order they are removed (see the module doc)."""
    out = _strategy_assumptions(scenario) + _actor_assumptions(scenario)
    out += _state_assumptions(scenario)
    if scenario.resolution.clauses.icc_referral:
        out += _icc_assumptions(scenario)
    return out


def _strategy_assumptions(scenario: Scenario) -> list[Assumption]:
    """Each of the target's strategies, removed one at a time."""
    out: list[Assumption] = []
    strategies: list[Strategy] = list(scenario.actors.target.strategies)
    for i, strategy in enumerate(strategies):
        # this entry itself (two entries of one type may have the same key and be equal)
        def drop(s: Scenario, entry: Strategy = strategy) -> Scenario:
            kept = [st for st in s.actors.target.strategies if st is not entry]
            return _replace(s, "actors.target.strategies", kept)  # type: ignore[no-any-return]

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
    return _replace(s, "actors.sponsors.bargaining", rule)  # type: ignore[no-any-return]


def _untie(s: Scenario) -> Scenario:
    allies = s.actors.allies.model_copy(update={"tie": 0.0, "patron_tie": 0.0})
    return _replace(s, "actors.allies", allies)  # type: ignore[no-any-return]


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
                lambda s: _replace(s, "actors.sponsors.lobbying.budget", 0.0),
            )
        )
    counter = actors.allies.counter_lobbying
    if counter.budget and counter.efficacy and actors.allies.members:
        out.append(
            Assumption(
                "counter_lobbying",
                "allies' counter-lobbying",
                lambda s: _replace(s, "actors.allies.counter_lobbying.budget", 0.0),
            )
        )
    if (actors.allies.tie and actors.allies.members) or (
        actors.allies.patron_tie and actors.allies.patrons
    ):
        out.append(Assumption("ties", "allies' and patrons' ties", _untie))
    return out


def _plain_states(s: Scenario) -> Scenario:
    kept = {
        code: type(o)(icc_aversion=o.icc_aversion)
        for code, o in s.actors.states.items()
        if o.icc_aversion is not None
    }
    s = _replace(s, "actors.states", kept)
    return _replace(s, "behaviour.bloc_effects", {})  # type: ignore[no-any-return]


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
    return _replace(s, "actors.states", states)  # type: ignore[no-any-return]


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
                lambda s: _replace(s, "behaviour.icc_aversion_by_bloc", {}),
            )
        )
    if behaviour.icc_aversion:
        out.append(
            Assumption(
                "icc_aversion",
                "ICC language's cost (every state)",
                lambda s: _replace(s, "behaviour.icc_aversion", 0.0),
            )
        )
    return out


def _means(runs: pd.DataFrame, stage: str) -> tuple[dict[str, float], np.ndarray]:
    held = runs[f"{stage}_held"].to_numpy(dtype=bool)
    n = max(int(held.sum()), 1)
    means = {c: float(runs[f"{stage}_{c}"].to_numpy()[held].sum() / n) for c in CATEGORIES}
    return means, held


def _stage_table(tables: list[pd.DataFrame], steps: list[Assumption], stage: str) -> dict[str, Any]:
    means, helds = zip(*(_means(t, stage) for t in tables), strict=True)
    parts = []
    for k, step in enumerate(steps):
        both = helds[k] & helds[k + 1]
        part: dict[str, Any] = {"name": step.name, "label": step.label}
        for c in CATEGORIES:
            part[c] = means[k][c] - means[k + 1][c]
        for c in CATEGORIES:  # the interval of the per-run differences (paired runs)
            col = f"{stage}_{c}"
            diff = paired_difference(
                tables[k + 1][col].to_numpy()[both], tables[k][col].to_numpy()[both]
            )
            part[f"{c}_ci"] = (diff["ci_high"] - diff["ci_low"]) / 2
        parts.append(part)
    return {
        "as_given": dict(means[0]),
        "data_only": dict(means[-1]),
        "held": {"as_given": float(helds[0].mean()), "data_only": float(helds[-1].mean())},
        "parts": parts,
    }


def _reusable(
    base: Results | None, scenario: Scenario, runs: int, seed: int
) -> pd.DataFrame | None:
    """The first ``runs`` rows of ``base``'s run table when they are the runs ``run(scenario,
    runs, seed)`` would give: same scenario and seed, and either the same number of runs or a
    whole number of blocks (block ``b`` draws from the streams of (seed, ``b``) alone)."""
    if base is None or base.seed != seed or base.scenario is not scenario:
        return None
    n = int(base.summary["runs"])
    if n == runs or (n > runs and runs % scenario.simulation.block_size == 0):
        table = base.run_table()  # in memory, or streamed to a file as the blocks arrived
        if table is not None and len(table) == n:
            return table.iloc[:runs].reset_index(drop=True)
    return None


def attribute(
    scenario: Scenario,
    runs: int,
    seed: int,
    workers: int = 1,
    *,
    executor: Any = None,
    base: Results | None = None,
) -> dict[str, Any]:
    """The attribution of the scenario's Assembly tallies to its assumptions (module doc).

    ``runs`` runs of each variant, all on master seed ``seed``. ``base``: results of the
    scenario as given on the same seed with a run table; its first ``runs`` runs are reused
    instead of running them again when they are the same runs (see ``_reusable``). Returns
    the dict stored as ``summary["attribution"]``: ``stage`` (the
    first draft stage in the scenario), ``order``, ``as_given``, ``data_only``, ``parts`` (each
    with ``name``, ``label``, the change in mean ``yes``/``no``/``abstain``/``absent`` and the
    half-width of its 95 % interval as ``yes_ci``...), ``runs``, ``seed`` and ``by_stage`` (the
    same for every draft stage held)."""
    steps = assumptions(scenario)
    stages = [s for s in DRAFT_STAGES if s in scenario.resolution.stages]
    if not stages:
        return {}

    def table(s: Scenario) -> pd.DataFrame:
        res = run(s, runs=runs, seed=seed, workers=workers, executor=executor)
        assert res.runs is not None
        return res.runs

    first = _reusable(base, scenario, runs, seed)
    tables = [first if first is not None else table(scenario)]
    current = scenario
    for step in steps:
        current = step.remove(current)
        tables.append(table(current))
    by_stage = {
        stage: _stage_table(tables, steps, stage)
        for stage in stages
        if any(t[f"{stage}_held"].any() for t in tables)
    }
    if not by_stage:
        return {}
    main = next(iter(by_stage))
    return {
        "stage": main,
        "order": [s.name for s in steps],
        **by_stage[main],
        "runs": runs,
        "seed": seed,
        "by_stage": by_stage,
    }


def format_attribution(attribution: dict[str, Any]) -> list[str]:
    """A short table of the attribution, as lines of text."""
    if not attribution:
        return []
    from unsim.model.stages import STAGE_SHORT

    stage = STAGE_SHORT.get(attribution["stage"], attribution["stage"])
    head = f"  {'':<46}{'yes':>9}{'no':>8}{'abstain':>9}{'absent':>8}"

    def row(label: str, v: dict[str, Any], sign: bool = False, ci: bool = False) -> str:
        fmt = "{:+.1f}" if sign else "{:.1f}"
        cells = "".join(f"{fmt.format(v[c]):>{w}}" for c, w in zip(CATEGORIES, WIDTHS, strict=True))
        half = v.get("yes_ci")
        extra = f"   (yes ±{half:.1f})" if ci and half is not None and not math.isnan(half) else ""
        return f"  {label[:46]:<46}{cells}{extra}"

    lines = [
        f"What the assumptions move: {stage}, mean tally "
        f"({attribution['runs']:,} paired runs a variant; assumptions removed in this order)",
        head,
        row("as given", attribution["as_given"]),
    ]
    lines += [row(f"{p['label']}", p, sign=True, ci=True) for p in attribution["parts"]]
    lines.append(row("data only (calibration, no stated priors)", attribution["data_only"]))
    return lines
