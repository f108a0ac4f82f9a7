"""The explorer's levers in votes: what its units' figures (``unsim.explore.controls.VOTES``
and ``UNITS``) measure, on the current code.

Runs the reference draft (``scenarios/levers/reference_2014.yaml``) at its Third Committee vote
with the lever map's own functions (:mod:`unsim.calibration.levermap`), on one seed (common
random numbers): the change of the mean yes tally when every state's support is shifted by
-0.5 and +0.5, and each strategy the lever map informs at its reference value against the
strategy's absence. Nine runs of the engine.

    python scripts/lever_votes.py
    python scripts/lever_votes.py --runs 8192 --seed 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "levers" / "reference_2014.yaml"


def main() -> None:
    from unsim.calibration.levermap import (
        PARAMETERS,
        _mean_yes,
        _reference_value,
        _with_strategy,
    )
    from unsim.model.params import effective_behaviour
    from unsim.scenario import load_scenario
    from unsim.scenario.overrides import replace_value

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenario, stage = load_scenario(SCENARIO), "third_committee"
    intercept = effective_behaviour(scenario).intercept
    yes = _mean_yes(scenario, stage, args.runs, args.seed)
    print(f"{SCENARIO.name}, {stage}, {args.runs} runs, seed {args.seed}: mean yes {yes:.2f}")
    for delta in (-0.5, 0.5):
        shifted = replace_value(scenario, "behaviour.intercept", intercept + delta)
        change = _mean_yes(shifted, stage, args.runs, args.seed) - yes
        print(f"every state's support {delta:+g}: {change:+.2f} yes votes")
    for p in PARAMETERS.values():
        without = _mean_yes(_with_strategy(scenario, p, None), stage, args.runs, args.seed)
        x1 = _reference_value(scenario, p)
        change = _mean_yes(_with_strategy(scenario, p, x1), stage, args.runs, args.seed) - without
        print(f"{p.strategy}.{p.name} {x1:g} against its absence: {change:+.2f} yes votes")


if __name__ == "__main__":
    main()
