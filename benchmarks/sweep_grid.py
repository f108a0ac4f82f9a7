"""Benchmark of a parameter sweep: a 20 x 20 grid with 1,000 runs per point on the default scenario.

The grid is the charm offensive's intensity against the threats' intensity (400 points, 400,000
runs), every point on the same seed. Reported: wall time, runs per second, and the ratio to the
baseline measured in the same process: one ``run()`` of the same total number of runs (400,000) on
the same scenario with the same workers. The ratio is the price of sweeping (smaller blocks, a
record per point) over one long run. The sweep and the baseline are timed in alternation
(``--repeat`` pairs, default 3) and the ratio is the median of the pairs' ratios, so that each pair
sees a shared machine alike; the best times are printed too.

    python benchmarks/sweep_grid.py                 # 20 x 20 x 1,000 (several minutes)
    python benchmarks/sweep_grid.py --quick         # 5 x 5 x 200, a smoke test
    python benchmarks/sweep_grid.py --workers 4     # default: every CPU
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"
CHARM = "actors.target.strategies[0].intensity"
THREATS = "actors.target.strategies[2].intensity"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 x 5 grid, 200 runs per point")
    parser.add_argument("--size", type=int, help="values per parameter (default 20)")
    parser.add_argument("--runs", type=int, help="runs per point (default 1000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3, help="sweep / baseline pairs timed")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    size = args.size or (5 if args.quick else 20)
    runs = args.runs or (200 if args.quick else 1000)

    from unsim.engine import run
    from unsim.scenario import load_scenario
    from unsim.studies.evaluator import Evaluator

    values = [round(float(v), 4) for v in np.linspace(0.0, 0.3, size)]
    params = {CHARM: values, THREATS: values}
    total = size * size * runs
    workers = args.workers

    # warm-up: worker processes started, modules imported, caches filled
    Evaluator(SCENARIO, runs=min(runs, 100), seed=1, workers=workers).sweep({CHARM: values[:2]})
    scenario = load_scenario(SCENARIO)
    run(
        scenario,
        runs=min(total, 2 * workers * scenario.simulation.block_size),
        seed=1,
        workers=workers,
        keep_runs=False,
    )

    sweeps, bases = [], []
    for _ in range(max(1, args.repeat)):
        t = time.perf_counter()
        table = Evaluator(SCENARIO, runs=runs, seed=20141118, workers=workers).sweep(params)
        sweeps.append(time.perf_counter() - t)
        assert len(table) == size * size
        t = time.perf_counter()
        run(scenario, runs=total, seed=20141118, workers=workers, keep_runs=False)
        bases.append(time.perf_counter() - t)
    ratios = [a / b for a, b in zip(sweeps, bases, strict=True)]
    ratio = float(np.median(ratios))
    sweep_s, base_s = min(sweeps), min(bases)

    figures = {
        "grid": f"{size} x {size}",
        "runs_per_point": runs,
        "total_runs": total,
        "workers": workers,
        "sweep_wall_seconds": round(sweep_s, 2),
        "sweep_runs_per_second": round(total / sweep_s),
        "points_per_second": round(size * size / sweep_s, 2),
        "baseline_wall_seconds": round(base_s, 2),
        "baseline_runs_per_second": round(total / base_s),
        "ratio_sweep_to_baseline": round(ratio, 2),
        "ratios_of_pairs": [round(r, 2) for r in ratios],
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    print(f"sweep {size} x {size} grid x {runs} runs = {total:,} runs, {workers} workers")
    print(f"  sweep (best):    {sweep_s:8.1f} s  {total / sweep_s:10,.0f} runs/s")
    print(f"  baseline (best): {base_s:8.1f} s  {total / base_s:10,.0f} runs/s  (one run())")
    print(
        f"  ratio sweep / baseline: {ratio:.2f} (median of {len(ratios)} pairs: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + ")"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
