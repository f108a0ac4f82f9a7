"""Benchmark of uncertain levers: the engine on the DPRK draft with every lever a point
(``scenarios/levers/reference_2014.yaml``, the values the shipped scenario was first stated
with) against the same draft with its levers given as distributions, drawn once per run.

Three variants of drawn levers: ``strategies`` (the four strategies' strengths and the
invitation's credibility, read while a history unfolds), ``all`` (those and the sponsors'
and allies' budgets and ties, the ICC costs, per-state shifts, the procedural biases and the
Council shifts, which change every state's starting support and draft argument per run) and
``shipped`` (the shipped ``scenarios/icc_referral.yaml``, which draws its 35 levers). Each
variant runs in alternation with the point scenario (``--repeat`` pairs, default 5) with one
worker and no run table, so that each pair sees a shared machine alike; prints the best rate of
each and the median of the pairs' ratios (drawn / point).

    python benchmarks/levers.py
    python benchmarks/levers.py --runs 20000 --repeat 3 --json levers.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "levers" / "reference_2014.yaml"
SHIPPED = ROOT / "scenarios" / "icc_referral.yaml"


def _uniform(point: float, spread: float, low: float, high: float) -> dict[str, Any]:
    """A uniform distribution around ``point``, inside [low, high]."""
    return {"dist": "uniform", "low": max(low, point - spread), "high": min(high, point + spread)}


def variants() -> dict[str, dict[str, Any]]:
    """The overrides of each variant: every chosen lever around its value in the scenario."""
    from unsim.scenario import load_scenario
    from unsim.scenario.labels import value_at

    s = load_scenario(SCENARIO)

    def around(path: str, spread: float, low: float, high: float) -> dict[str, Any]:
        return _uniform(float(value_at(s, path)), spread, low, high)

    strategies = {
        "actors.target.strategies[0].intensity": around(
            "actors.target.strategies[0].intensity", 0.1, 0, 5
        ),
        "actors.target.strategies[1].credibility": around(
            "actors.target.strategies[1].credibility", 0.05, 0, 1
        ),
        "actors.target.strategies[2].intensity": around(
            "actors.target.strategies[2].intensity", 0.05, 0, 5
        ),
        "actors.target.strategies[3].intensity": around(
            "actors.target.strategies[3].intensity", 0.05, 0, 5
        ),
    }
    rest = {
        "actors.sponsors.lobbying.budget": around("actors.sponsors.lobbying.budget", 5, 0, 1000),
        "actors.allies.counter_lobbying.budget": around(
            "actors.allies.counter_lobbying.budget", 2, 0, 1000
        ),
        "actors.allies.tie": around("actors.allies.tie", 0.5, 0, 10),
        "behaviour.icc_aversion": around("behaviour.icc_aversion", 0.5, -5, 10),
        "behaviour.icc_aversion_by_bloc.ICC_PARTIES": around(
            "behaviour.icc_aversion_by_bloc.ICC_PARTIES", 0.3, -5, 10
        ),
        "actors.states.CHN.icc_aversion": around("actors.states.CHN.icc_aversion", 0.5, -5, 10),
        "actors.states.JPN.support_shift": around("actors.states.JPN.support_shift", 0.5, -9, 9),
        "behaviour.amendment_bias": around("behaviour.amendment_bias", 0.3, -9, 9),
        "behaviour.council_shift": around("behaviour.council_shift", 0.3, -9, 9),
        "behaviour.procedural_shift": around("behaviour.procedural_shift", 0.3, -9, 9),
        "procedure.council.table_into_veto": around("procedure.council.table_into_veto", 0.2, 0, 1),
    }
    return {"strategies": strategies, "all": {**strategies, **rest}, "shipped": {}}


def _rate(scenario: Any, runs: int, seed: int) -> float:
    from unsim.engine import run

    t = time.perf_counter()
    run(scenario, runs=runs, seed=seed, workers=1, keep_runs=False)
    return runs / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    from unsim.scenario import load_scenario
    from unsim.scenario.drawn import scenario_levers as drawn_levers

    point = load_scenario(SCENARIO)
    figures: dict[str, Any] = {"runs": args.runs, "pairs": args.repeat}
    for name, overrides in variants().items():
        drawn = load_scenario(SHIPPED if name == "shipped" else SCENARIO, overrides=overrides)
        count = len(drawn_levers(drawn))
        for s in (point, drawn):  # warm: kernels compiled, caches filled
            _rate(s, 2 * s.simulation.block_size, 1)
        pairs = [
            (_rate(point, args.runs, 2 + k), _rate(drawn, args.runs, 2 + k))
            for k in range(args.repeat)
        ]
        ratios = [d / p for p, d in pairs]
        figures[name] = {
            "levers": count,
            "point_runs_per_s": max(p for p, _ in pairs),
            "drawn_runs_per_s": max(d for _, d in pairs),
            "ratio_median": float(np.median(ratios)),
            "ratios": ratios,
        }
        print(
            f"{name:<11} {count:>2} levers drawn: "
            f"{figures[name]['drawn_runs_per_s']:,.0f} runs/s against "
            f"{figures[name]['point_runs_per_s']:,.0f} as points; median ratio "
            f"{figures[name]['ratio_median']:.2f} ({', '.join(f'{r:.2f}' for r in ratios)})"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
