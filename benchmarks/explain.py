"""Benchmark of the explain table: the main job with every state's breakdown against without it.

The main job as ``unsim run`` does it on the default scenario (its 20,000 runs, seed and one
worker): the runs with the run table streamed, the attribution table, the results folder saved
with its figures; once with the breakdown table (``unsim.explain.breakdown.save_with``, which
replays the first block) and once without, in alternation (``--repeat`` pairs, default 5), so
that each sees a shared machine alike. Prints the median of the pairs' ratios of wall time and
of this process's CPU time.

    python benchmarks/explain.py
    python benchmarks/explain.py --repeat 3 --json explain.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    from unsim.engine import run
    from unsim.engine.attribution import attribute
    from unsim.explain.breakdown import save_with
    from unsim.results.tables import staging_folder
    from unsim.scenario import load_scenario

    scenario = load_scenario(SCENARIO)
    seed = int(scenario.simulation.seed or 0)
    work = Path(tempfile.mkdtemp(prefix="unsim-bench-explain-"))

    def job(explain: bool, name: str) -> tuple[float, float]:
        c, t = time.process_time(), time.perf_counter()
        staging = staging_folder(work / name)
        res = run(scenario, seed=seed, run_table=staging / "runs.parquet")
        res.summary["attribution"] = attribute(scenario, runs=4096, seed=seed, base=res)
        if explain:
            save_with(res)
        res.save(work / name, staging=staging)
        out = (time.perf_counter() - t, time.process_time() - c)
        assert (work / name / "explain.parquet").exists() is explain
        shutil.rmtree(work / name)
        return out

    job(True, "warm-up")  # compiled kernels, imports and fonts loaded once
    pairs = []
    for i in range(args.repeat):
        pairs.append((job(False, f"without-{i}"), job(True, f"with-{i}")))
    shutil.rmtree(work, ignore_errors=True)
    wall = [w[0] / wo[0] for wo, w in pairs]
    cpu = [w[1] / wo[1] for wo, w in pairs]
    figures = {
        "without_wall_s": [wo[0] for wo, _ in pairs],
        "with_wall_s": [w[0] for _, w in pairs],
        "median_wall_ratio": float(np.median(wall)),
        "median_cpu_ratio": float(np.median(cpu)),
    }
    without = float(np.median(figures["without_wall_s"]))
    with_table = float(np.median(figures["with_wall_s"]))
    print(
        f"main job without the explain table: median {without:.2f} s; with it: "
        f"{with_table:.2f} s; ratio {figures['median_wall_ratio']:.3f} (wall), "
        f"{figures['median_cpu_ratio']:.3f} (CPU of this process)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
