"""From a lever's effect on the vote level (latent units) to votes and to scenario parameters.

The reference draft is a scenario (by default ``scenarios/icc_referral.yaml``, the 2014 DPRK
draft as it stood before the Third Committee): everything is measured by running the engine on
it, on one master seed (common random numbers), at its first Assembly vote on the draft.

- **Votes.** Shifting every state's support by ``delta`` (the calibration's intercept plus
  ``delta``) changes the mean yes tally by ``g(delta)``; ``g`` is measured on a grid of shifts and
  interpolated. A lever's effect in votes is ``g`` of its latent effect, averaged over the
  effect's normal distribution (its mean and sd in votes).
- **Parameters.** A strategy parameter ``x`` (the charm offensive's ``intensity``...) changes the
  mean yes tally by ``f(x)`` against the strategy's absence; the latent shift with the same effect,
  ``g^-1(f(x1))`` at the scenario's own value ``x1``, divided by ``x1``, is ``k``: a unit of the
  parameter is worth ``k`` latent units at the reference draft. The lever's distribution in the
  parameter's units is then normal with mean ``mean / k`` and sd ``sd / |k|``, truncated to the
  parameter's range (a linear map, checked against a second value ``2 x1``: the report gives
  both).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unsim.errors import InputError
from unsim.scenario.overrides import replace_value

__all__ = ["DELTAS", "PARAMETERS", "Reference", "measure_reference"]

#: Shifts of the level at which the reference draft's yes tally is measured.
DELTAS = (-3.0, -2.0, -1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class Parameter:
    """A strategy parameter a lever informs, and how the strategy is set to measure it."""

    strategy: str
    name: str
    low: float
    high: float
    fixed: dict[str, Any]
    """other settings of the strategy while measuring (e.g. a genuine, unconditional visit)"""
    unit: str


#: The lever indicators that inform a strategy parameter (the others stay in latent units).
PARAMETERS: dict[str, Parameter] = {
    "engagement": Parameter(
        "charm_offensive",
        "intensity",
        0.0,
        5.0,
        {},
        "shift per active round of undecided states' ICC aversion (icc_share of it) and "
        "support (the rest), latent scale",
    ),
    "rapporteur_access": Parameter(
        "invitation",
        "effect",
        0.0,
        10.0,
        {"credibility": 1.0, "conditional_on_dropping_icc": False},
        "one-off rise in undecided states' ICC aversion when a visit is offered, for a genuine "
        "(credibility 1) unconditional offer: the scenario multiplies it by its credibility",
    ),
    "threats": Parameter(
        "threats",
        "intensity",
        0.0,
        5.0,
        {},
        "shift per active round (allies harden; undecided states move by "
        "(backfire - intimidation) x intensity), latent scale",
    ),
}


@dataclass(frozen=True)
class Reference:
    """The reference draft's response to a level shift and to each strategy parameter."""

    path: str
    stage: str
    runs: int
    seed: int
    yes: float
    """the mean yes tally as given"""
    deltas: tuple[float, ...]
    curve: tuple[float, ...]
    """g(delta): change of the mean yes tally for each shift in ``deltas``"""
    per_unit: dict[str, dict[str, float]]
    """per lever with a parameter: x1, f(x1), k (latent units per unit), k at 2 x1"""

    def votes(self, delta: float | np.ndarray) -> np.ndarray:
        """g(delta) on the stretch where it increases, linear beyond its ends."""
        d, g = self._monotone()
        x = np.asarray(delta, dtype=np.float64)
        out = np.interp(x, d, g)
        if len(d) < 2:
            return out
        lo = (g[1] - g[0]) / (d[1] - d[0])
        hi = (g[-1] - g[-2]) / (d[-1] - d[-2])
        out = np.where(x < d[0], g[0] + lo * (x - d[0]), out)
        return np.where(x > d[-1], g[-1] + hi * (x - d[-1]), out)

    def _monotone(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid's stretch around 0 on which g increases (at a large negative shift the
        sponsors of the reference draft may drop its ICC language, and the yes count turns
        back up: no level shift reaches below the turn)."""
        d, g = np.asarray(self.deltas), np.asarray(self.curve)
        z = int(np.argmin(np.abs(d)))
        lo = z
        while lo > 0 and g[lo - 1] < g[lo]:
            lo -= 1
        hi = z
        while hi < len(g) - 1 and g[hi + 1] > g[hi]:
            hi += 1
        return d[lo : hi + 1], g[lo : hi + 1]

    def latent_for_votes(self, votes: float) -> float:
        """The shift whose change of the yes tally is ``votes`` (on the stretch where g
        increases; a change beyond its ends maps to the end)."""
        d, g = self._monotone()
        return float(np.interp(votes, g, d))

    def votes_distribution(self, mean: float, sd: float) -> tuple[float, float]:
        """Mean and sd of g(delta) for delta normal(mean, sd) (Gauss-Hermite)."""
        x, w = np.polynomial.hermite.hermgauss(31)
        values = self.votes(mean + np.sqrt(2.0) * sd * x)
        w = w / np.sqrt(np.pi)
        m = float(w @ values)
        return m, float(np.sqrt(max(float(w @ (values - m) ** 2), 0.0)))


def _mean_yes(scenario: Any, stage: str, runs: int, seed: int) -> float:
    from unsim.engine import run

    res = run(scenario, runs=runs, seed=seed, workers=1)
    table = res.runs
    assert table is not None  # the run table is kept
    held = table[f"{stage}_held"].to_numpy(dtype=bool)
    if not held.any():
        raise InputError(f"the reference scenario never holds its {stage} vote")
    return float(table[f"{stage}_yes"].to_numpy()[held].mean())


def _with_strategy(scenario: Any, p: Parameter, value: float | None) -> Any:
    """The scenario with the first strategy of the type set to ``value`` (removed: None)."""
    strategies = list(scenario.actors.target.strategies)
    index = next((i for i, s in enumerate(strategies) if s.type == p.strategy), None)
    if index is None:
        from unsim.strategies.registry import registered

        entry = registered()[p.strategy].model_validate({"type": p.strategy})
        strategies.append(entry)
        index = len(strategies) - 1
    if value is None:
        del strategies[index]
    else:
        strategies[index] = strategies[index].model_copy(update={p.name: value, **p.fixed})
    return replace_value(scenario, "actors.target.strategies", strategies)


def _reference_value(scenario: Any, p: Parameter) -> float:
    for s in scenario.actors.target.strategies:
        if s.type == p.strategy and getattr(s, p.name) > 0:
            return float(getattr(s, p.name))
    return 0.2 if p.high <= 5 else 1.0


def measure_reference(
    path: str | Path, runs: int = 4096, seed: int = 1, levers: list[str] | None = None
) -> Reference:
    """Run the reference draft on the grid of shifts and each parameter's two values."""
    from unsim.model.params import effective_behaviour
    from unsim.model.stages import stages_where
    from unsim.scenario import load_scenario

    scenario = load_scenario(path)
    held = stages_where(lambda st: st.on_draft and st.body.everyone, scenario.resolution.stages)
    stage = held[0] if held else None
    if stage is None:
        raise InputError(f"{path}: the reference scenario holds no Assembly vote on its draft")
    intercept = effective_behaviour(scenario).intercept
    yes = _mean_yes(scenario, stage, runs, seed)
    curve = []
    for delta in DELTAS:
        shifted = replace_value(scenario, "behaviour.intercept", intercept + delta)
        curve.append(_mean_yes(shifted, stage, runs, seed) - yes if delta else 0.0)
    ref = Reference(str(path), stage, runs, seed, yes, DELTAS, tuple(curve), {})
    per_unit: dict[str, dict[str, float]] = {}
    for name in levers if levers is not None else list(PARAMETERS):
        p = PARAMETERS[name]
        without = _mean_yes(_with_strategy(scenario, p, None), stage, runs, seed)
        x1 = _reference_value(scenario, p)
        f1 = _mean_yes(_with_strategy(scenario, p, x1), stage, runs, seed) - without
        f2 = _mean_yes(_with_strategy(scenario, p, 2 * x1), stage, runs, seed) - without
        k1 = ref.latent_for_votes(f1) / x1
        k2 = ref.latent_for_votes(f2) / (2 * x1)
        per_unit[name] = {"x1": x1, "votes_x1": f1, "k": k1, "votes_2x1": f2, "k_2x1": k2}
    return Reference(str(path), stage, runs, seed, yes, DELTAS, tuple(curve), per_unit)
