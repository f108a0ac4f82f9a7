"""Benchmark of the run table: the main job with its run table against the same runs without it.

Times, on the default scenario with the same workers and seed, in alternation (``--repeat``
triples, default 3, so that each sees a shared machine alike):

* without the run table: ``run(keep_runs=False)`` and the results folder saved (no figures);
* with it, streamed: ``run(run_table=...)`` writing Arrow record batches into the results folder
  being built as the blocks arrive, then the folder saved (what ``unsim run`` does);
* with it, kept in memory and written at the end (``run()`` then ``Results.save``), for reference.

The ratios are the medians of the triples' ratios to the run without the table. The main
process's CPU time is printed too (what the table costs the process that gathers the blocks,
less sensitive than wall time to other work on a shared machine).

    python benchmarks/run_table.py                  # 1,000,000 runs, 2 workers
    python benchmarks/run_table.py --runs 200000    # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    from unsim.engine import run
    from unsim.results.tables import staging_folder
    from unsim.scenario import load_scenario

    scenario = load_scenario(SCENARIO)
    work = Path(tempfile.mkdtemp(prefix="unsim-bench-runs-"))
    seed = 20141118

    cpu: dict[str, list[float]] = {"without": [], "streamed": [], "in_memory": []}

    def without() -> float:
        c = time.process_time()
        t = time.perf_counter()
        res = run(scenario, runs=args.runs, seed=seed, workers=args.workers, keep_runs=False)
        res.save(work / "without")
        elapsed = time.perf_counter() - t
        cpu["without"].append(time.process_time() - c)
        shutil.rmtree(work / "without")
        return elapsed

    def streamed() -> float:
        c = time.process_time()
        t = time.perf_counter()
        staging = staging_folder(work / "streamed")
        res = run(
            scenario,
            runs=args.runs,
            seed=seed,
            workers=args.workers,
            run_table=staging / "runs.parquet",
        )
        res.save(work / "streamed", staging=staging)
        elapsed = time.perf_counter() - t
        cpu["streamed"].append(time.process_time() - c)
        assert (work / "streamed" / "runs.parquet").stat().st_size > 0
        shutil.rmtree(work / "streamed")
        return elapsed

    def in_memory() -> float:
        c = time.process_time()
        t = time.perf_counter()
        res = run(scenario, runs=args.runs, seed=seed, workers=args.workers)
        res.save(work / "memory")
        elapsed = time.perf_counter() - t
        cpu["in_memory"].append(time.process_time() - c)
        shutil.rmtree(work / "memory")
        return elapsed

    try:
        # warm-up: worker processes started, kernels loaded
        run(scenario, runs=20_000, seed=1, workers=args.workers, keep_runs=False)
        times: dict[str, list[float]] = {"without": [], "streamed": [], "in_memory": []}
        for _ in range(max(1, args.repeat)):
            times["without"].append(without())
            times["streamed"].append(streamed())
            times["in_memory"].append(in_memory())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def ratio(name: str) -> float:
        pairs = [a / b for a, b in zip(times[name], times["without"], strict=True)]
        return float(np.median(pairs))

    figures = {
        "runs": args.runs,
        "workers": args.workers,
        "seconds": {k: [round(v, 2) for v in vals] for k, vals in times.items()},
        "main_process_cpu_seconds": {k: [round(v, 2) for v in vals] for k, vals in cpu.items()},
        "ratio_streamed_to_without": round(ratio("streamed"), 2),
        "ratio_in_memory_to_without": round(ratio("in_memory"), 2),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    print(f"run table benchmark: {args.runs:,} runs, {args.workers} workers")
    for name, vals in times.items():
        print(
            f"  {name:10s} best {min(vals):6.2f} s  ({', '.join(f'{v:.2f}' for v in vals)}); "
            f"main process CPU {np.median(cpu[name]):.2f} s"
        )
    print(f"  streamed run table / without: {figures['ratio_streamed_to_without']:.2f}")
    print(f"  in memory, written at the end / without: {figures['ratio_in_memory_to_without']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
