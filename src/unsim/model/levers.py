"""Uncertain levers in the model: which of a scenario's numbers are distributions, their draws,
and what the draws change in a block's arrays.

Each distribution is drawn once per run from its own named random stream, ``lever:`` and its
path, with a strategy's entry named by its key (its label, else its type: see
``strategies.instance_keys``), as the strategies' own streams are: adding, removing or changing
one distribution changes no other random number of the run (common random numbers). A key per
state (``actors.states.CHN.icc_aversion``) is one lever of that state, drawn per run; a global
key (``behaviour.icc_aversion``) is one value per run shared by every state it applies to.

The model's parameters are built from the scenario as written, each distribution standing as
its mean (``Uncertain``); a block then adds, per run, what its draws change:

* support (the parts of ``params.StateTraits.support_parts``: intercept, position and record
  weights, bloc effects, ties, per-state positions and shifts, and the state noise's scale),
  added to the baseline (and to the draft's tanh argument);
* the ICC language's cost (global, by bloc, per state: each state takes the one that sets its
  cost, as ``params`` does), taken from the draft's tanh argument;
* the Council shifts, per state and run;
* and values read while a history unfolds (the strategies' parameters, the sponsors' lobbying
  and bargaining, the allies' counter-lobbying, the procedural biases and shifts, the chance of
  tabling into a veto): ``BlockLevers.value``. A strategy's hooks see its drawn parameters as
  arrays over runs.

Every draw is a column of the run table, ``lever:<path>`` (``outcomes.run_columns``). With no
distribution in the scenario nothing here runs: the model is exactly the one of point values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from unsim.model.params import Parameters, state_mask
from unsim.scenario.drawn import STRATEGIES, Lever, column_name, scenario_levers
from unsim.scenario.schema import Calibration, Scenario, World
from unsim.strategies import Strategy
from unsim.streams import Streams
from unsim.uncertainty.distributions import grid_uniforms

F = NDArray[np.float32]

__all__ = [
    "BlockLevers",
    "Lever",
    "LeverEffects",
    "column_name",
    "council_change",
    "draw_levers",
    "drawn_strategies",
    "icc_change",
    "scenario_levers",
    "support_changes",
]


def draw_levers(levers: tuple[Lever, ...], streams: Streams, runs: int) -> dict[str, F]:
    """Each lever's draws for one block (``runs`` values each), by path."""
    return {
        lever.path: lever.value.dist.ppf(
            grid_uniforms(streams.generator(lever.stream), runs)
        ).astype(np.float32)
        for lever in levers
    }


# --------------------------------------------------------------------------------------------
# What the draws change
# --------------------------------------------------------------------------------------------
def icc_owner(scenario: Scenario, world: World) -> NDArray[np.object_]:
    """(states,) the path of the number that sets each state's ICC cost (``params._traits``:
    the global cost, a bloc's in the order listed, the state's own)."""
    owner = np.full(len(world.states), "behaviour.icc_aversion", dtype=object)
    for bloc in scenario.behaviour.icc_aversion_by_bloc:
        owner[state_mask(world, [bloc])] = f"behaviour.icc_aversion_by_bloc.{bloc}"
    for code, o in scenario.actors.states.items():
        if o.icc_aversion is not None:
            owner[world.index[code]] = f"actors.states.{code}.icc_aversion"
    return owner


@dataclass(frozen=True)
class LeverEffects:
    """What each drawn number adds per state, formed once per set of parameters: a support
    part's per-state weights (``support``: path -> (part, weights)), the ICC cost's and the
    Council shift's masks, the positions, and the calibration's position-weight loading."""

    levers: tuple[Lever, ...]
    support: dict[str, tuple[str, NDArray[np.float64]]]
    icc: dict[str, NDArray[np.float64]]
    council: dict[str, NDArray[np.float64]]
    positions: dict[str, int]  #: actors.states.X.position -> X's row
    position: NDArray[np.float64]  #: (states,) each state's position (as the parameters hold it)
    position_sd: float  #: the calibration's sd of the position weight (0 without)

    @classmethod
    def of(cls, scenario: Scenario, params: Parameters) -> LeverEffects | None:
        """The effects of ``scenario``'s distributions on ``params`` (None without any)."""
        levers = scenario_levers(scenario)
        if not levers:
            return None
        world = scenario.world
        assert isinstance(world, World)
        n, roles = params.n_states, params.roles
        others = np.ones(n)
        others[roles.target] = 0.0
        position = params.traits.position.astype(np.float64)
        patrons_only = (roles.patrons & ~roles.allies).astype(np.float64)
        support: dict[str, tuple[str, NDArray[np.float64]]] = {
            "behaviour.intercept": ("intercept", others),
            "behaviour.position_weight": ("position", position * others),
            "behaviour.record_weight": ("record", params.traits.record * others),
            "actors.allies.tie": ("ties", -roles.allies.astype(np.float64) * others),
            "actors.allies.patron_tie": ("ties", -patrons_only * others),
        }
        for bloc in scenario.behaviour.bloc_effects:
            mask = state_mask(world, [bloc]) * others
            support[f"behaviour.bloc_effects.{bloc}"] = ("blocs", mask)
        unit = {code: np.eye(1, n, world.index[code])[0] * others for code in world.codes}
        council = {"behaviour.council_shift": np.ones(n)}
        for code in scenario.actors.states:
            support[f"actors.states.{code}.support_shift"] = ("shift", unit[code])
            council[f"actors.states.{code}.council_shift"] = np.eye(1, n, world.index[code])[0]
        owner = icc_owner(scenario, world)
        paths = {lever.path for lever in levers}
        cal = scenario.calibration
        u = cal.uncertainty if isinstance(cal, Calibration) else {}
        return cls(
            levers=levers,
            support={k: v for k, v in support.items() if k in paths},
            icc={p: (owner == p).astype(np.float64) for p in paths if p in set(owner)},
            council={k: v for k, v in council.items() if k in paths},
            positions={
                f"actors.states.{c}.position": world.index[c]
                for c in scenario.actors.states
                if c != world.codes[roles.target] and f"actors.states.{c}.position" in paths
            },
            position=position,
            position_sd=float(u.get("position_weight_sd", 0.0)),
        )

    def point(self, path: str) -> float:
        """The value that stands for the lever at ``path`` in the parameters (its mean)."""
        return next(float(lever.value) for lever in self.levers if lever.path == path)


def _weighted(weights: NDArray[np.float64], draws: F, point: float) -> F:
    """(states, runs) ``weights`` times each run's change from the point value."""
    change = (draws.astype(np.float64) - point).astype(np.float32)
    return np.outer(weights.astype(np.float32), change)  # type: ignore[no-any-return]


def support_changes(
    effects: LeverEffects, params: Parameters, draws: Mapping[str, F], noise: F, shocks: F | None
) -> tuple[dict[str, F], F | None]:
    """What the draws add to each state's support in each run: by named part (those of
    ``StateTraits.support_parts`` they change) and to the run's chance (the state noise's scale,
    the calibration's loading of a drawn position; ``shocks`` are its draws, None without)."""
    parts: dict[str, F] = {}
    for path, (part, weights) in effects.support.items():
        change = _weighted(weights, draws[path], effects.point(path))
        parts[part] = parts[part] + change if part in parts else change
    chance: F | None = None
    if effects.positions:
        moved = np.zeros_like(noise)
        for path, row in effects.positions.items():
            moved[row] = draws[path] - np.float32(effects.position[row])
        weight = draws.get(
            "behaviour.position_weight", np.float32(params.behaviour.position_weight)
        )
        parts["position"] = parts.get("position", 0) + weight * moved
        if shocks is not None and effects.position_sd:
            chance = np.float32(effects.position_sd) * moved * shocks[1]
    if "behaviour.state_noise" in draws:
        scale = draws["behaviour.state_noise"] - np.float32(params.behaviour.state_noise)
        chance = scale * noise if chance is None else chance + scale * noise
    return parts, chance


def icc_change(effects: LeverEffects, draws: Mapping[str, F]) -> F | None:
    """(states, runs) what the draws add to each state's ICC cost (None: nothing)."""
    out = [_weighted(mask, draws[path], effects.point(path)) for path, mask in effects.icc.items()]
    return sum(out[1:], out[0]) if out else None


def council_change(effects: LeverEffects, draws: Mapping[str, F]) -> F | None:
    """(states, runs) what the draws add to each state's Council shift (None: nothing)."""
    out = [_weighted(w, draws[path], effects.point(path)) for path, w in effects.council.items()]
    return sum(out[1:], out[0]) if out else None


def drawn_strategies(strategies: list[Strategy], draws: Mapping[str, F]) -> list[Strategy]:
    """The scenario's strategy entries with their drawn parameters as arrays over runs."""
    out = []
    for i, entry in enumerate(strategies):
        prefix = f"{STRATEGIES}[{i}]."
        mine = {p[len(prefix) :]: v for p, v in draws.items() if p.startswith(prefix)}
        out.append(_with_values(entry, mine) if mine else entry)
    return out


def _with_values(model: BaseModel, values: Mapping[str, Any]) -> Any:
    """A copy of ``model`` with each dotted sub-path set (no validation: arrays stand for
    numbers)."""
    update: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            update[head] = value
    for head, sub in nested.items():
        update[head] = _with_values(getattr(model, head), sub)
    return model.model_copy(update=update)


class BlockLevers:
    """One block's draws (by path), and the values they give while its histories unfold."""

    def __init__(self, draws: dict[str, F]) -> None:
        self.draws = draws

    def value(self, path: str, point: Any) -> Any:
        """The lever at ``path`` in each run (an array over runs), or ``point`` if it is no
        distribution."""
        return self.draws.get(path, point)
