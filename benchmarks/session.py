"""Benchmark of a session: its cost over the sum of its drafts run alone, in one sitting.

The shipped session (scenarios/session_2014_third_committee.yaml: the DPRK, Iran, Syria and
Myanmar drafts) is run as a session and, in alternation, each of its drafts alone on the seed the
session gives it, the same runs, 1 worker; the cost is the process's CPU time (a shared
machine's other load counts in wall time, not in CPU time). Reported: the ratio session / sum of
the drafts alone for each pair and their median (target: at most 1.2).

With ``--engine-against FOLDER`` (another checkout, e.g. the main branch) it also times a single
draft (the DPRK's) on both sources, alternating, each in a fresh process: the engine's speed for
a single draft, with and without the session's hook in the model.

    python benchmarks/session.py --json out.json
    python benchmarks/session.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SESSION = ROOT / "scenarios" / "session_2014_third_committee.yaml"
DRAFT = ROOT / "scenarios" / "icc_referral.yaml"


def _cpu(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.process_time()
    fn()
    return time.process_time() - t


def session_pairs(runs: int, pairs: int) -> list[tuple[float, float]]:
    """(session CPU seconds, sum of the drafts alone) for each pair, timed in alternation."""
    from unsim.engine import run
    from unsim.session.load import load_session
    from unsim.session.run import draft_seed, run_session, session_drafts

    loaded = load_session(SESSION)
    seed = 20141118
    alone = {name: d for name, d in loaded.drafts.items()}
    sized = session_drafts(loaded, seed)  # the session's block size, for the drafts alone too
    seeds = {n: draft_seed(seed, n) for n in alone}
    plain = {
        n: d.model_copy(update={"simulation": sized[n].simulation}) for n, d in alone.items()
    }
    run_session(loaded, runs=min(runs, 512), seed=seed)  # warm: kernels compiled, caches filled
    out = []
    for _ in range(pairs):
        s = _cpu(lambda: run_session(loaded, runs=runs, seed=seed))
        a = sum(_cpu(lambda n=n: run(plain[n], runs, seeds[n])) for n in plain)
        out.append((s, a))
    return out


_ENGINE = """
import sys, time
from unsim.engine import run
from unsim.scenario import load_scenario
s = load_scenario(sys.argv[1])
run(s, runs=2048, seed=1, keep_runs=False)
t = time.process_time()
run(s, runs=int(sys.argv[2]), seed=2, keep_runs=False)
print(time.process_time() - t)
"""


def engine_pairs(other: Path, runs: int, pairs: int) -> list[tuple[float, float]]:
    """(CPU seconds here, CPU seconds with ``other``'s sources) for the DPRK draft alone."""
    out = []
    for _ in range(pairs):
        times = []
        for src in (ROOT / "src", other / "src"):
            env = {**os.environ, "PYTHONPATH": str(src)}
            res = subprocess.run(
                [sys.executable, "-c", _ENGINE, str(DRAFT), str(runs)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            times.append(float(res.stdout.strip().splitlines()[-1]))
        out.append((times[0], times[1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs and pairs (a smoke test)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    ap.add_argument("--engine-against", type=Path, metavar="FOLDER", help="another checkout")
    args = ap.parse_args()
    runs, pairs = (2048, 2) if args.quick else (32768, 5)
    figures: dict[str, object] = {"runs": runs, "pairs": pairs}
    timed = session_pairs(runs, pairs)
    ratios = [s / a for s, a in timed]
    print(f"the shipped session, {runs:,} runs, 1 worker, CPU seconds (session, its drafts alone):")
    for s, a in timed:
        print(f"  {s:7.2f}  {a:7.2f}  ratio {s / a:.3f}")
    print(f"  median ratio session / sum of drafts alone: {np.median(ratios):.3f} (target <= 1.2)")
    figures.update({"session_over_drafts": float(np.median(ratios)), "pairs_cpu": timed})
    if args.engine_against is not None:
        eng = engine_pairs(args.engine_against, 2 * runs, pairs)
        er = [here / there for here, there in eng]
        print(f"single draft (DPRK), {2 * runs:,} runs, CPU seconds (here, {args.engine_against}):")
        for here, there in eng:
            print(f"  {here:7.2f}  {there:7.2f}  ratio {here / there:.3f}")
        print(f"  median ratio here / there: {np.median(er):.3f}")
        figures.update({"engine_here_over_other": float(np.median(er)), "engine_cpu": eng})
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
