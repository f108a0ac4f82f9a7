"""Benchmark of the run's shock to absences: the engine on the default scenario with the
calibration's ``absence_sd`` as shipped against the same scenario with it set to 0.

Both run the scenario's runs (20,000 by default) with one worker, in alternation (``--repeat``
pairs, default 5) so that each sees a shared machine alike; the rate of each is the best of its
repetitions (other load only ever slows a repetition down). Prints the runs per second of each
and the ratio of their times (with the shock over without).

    python benchmarks/absence_shock.py
    python benchmarks/absence_shock.py --runs 10000 --repeat 3 --json shock.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"


def _with_sd(scenario: Any, sd: float | None) -> Any:
    cal = scenario.calibration
    if sd is None:
        return scenario
    uncertainty = {**cal.uncertainty, "absence_sd": sd}
    return scenario.model_copy(
        update={"calibration": cal.model_copy(update={"uncertainty": uncertainty})}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the measures as JSON")
    args = parser.parse_args(argv)

    from unsim import load_scenario, run

    base = load_scenario(SCENARIO)
    shipped = float(base.calibration.uncertainty.get("absence_sd", 0.0))
    if shipped <= 0:
        raise SystemExit("the default scenario's calibration has no absence_sd to measure")
    cases = {"with": _with_sd(base, None), "without": _with_sd(base, 0.0)}
    for s in cases.values():  # compile and warm
        run(s, runs=2_000, seed=1, workers=1)
    best = {name: float("inf") for name in cases}
    for rep in range(args.repeat):
        for name, s in cases.items():
            start = time.perf_counter()
            run(s, runs=args.runs, seed=2 + rep, workers=1)
            best[name] = min(best[name], time.perf_counter() - start)
    out = {
        "absence_sd": shipped,
        "runs": args.runs,
        "repeat": args.repeat,
        "runs_per_second": {name: round(args.runs / t) for name, t in best.items()},
        "time_ratio_with_over_without": round(best["with"] / best["without"], 4),
    }
    print(json.dumps(out, indent=1))
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
