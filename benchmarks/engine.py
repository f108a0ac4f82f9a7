"""Benchmark of the Monte Carlo engine on the default scenario, reported as ratios.

Measured in one run, on this machine:
  * throughput (runs/s) of the engine with 1 and 2 workers;
  * the baseline: the same model run the idiomatic Mesa way, one Model per run (``UNModel`` with
    one replicate, same agents and rules);
  * the time just to draw the random numbers the model consumes (same streams, same shapes);
  * peak memory (max RSS of a fresh process) for 10,000, 100,000 and 1,000,000 runs without the
    run table.

    python benchmarks/engine.py            # full (a few minutes)
    python benchmarks/engine.py --quick    # smaller counts, for a smoke test
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"


def load():
    from unsim.scenario import load_scenario

    return load_scenario(SCENARIO)


#: Every rate is the best of this many timed repetitions (the usual estimator on a shared
#: machine, where other load only ever slows a repetition down); the same for every path.
REPEATS = 3


def throughput(runs: int, workers: int, repeats: int = REPEATS) -> float:
    from unsim.engine import run

    s = load()
    run(s, runs=min(runs, 2 * s.simulation.block_size * workers), seed=1, workers=workers)  # warm
    best = 0.0
    for rep in range(repeats):
        t = time.perf_counter()
        run(s, runs=runs, seed=2 + rep, workers=workers, keep_runs=False)
        best = max(best, runs / (time.perf_counter() - t))
    return best


def idiomatic(runs: int, repeats: int = REPEATS) -> tuple[float, dict[str, float]]:
    """One Mesa Model per run, as a Mesa user would write the loop."""
    from unsim.model import UNModel

    s = load()
    for i in range(min(runs, 20)):  # warm-up, untimed (first calls fill caches)
        UNModel(s, replicates=1, seed=0, block=i).simulate()
    yes, tabled = [], []
    best = 0.0
    for rep in range(repeats):
        t = time.perf_counter()
        for i in range(rep * runs, (rep + 1) * runs):
            m = UNModel(s, replicates=1, seed=3, block=i)
            out = m.simulate()
            yes.append(int(out["third_committee_yes"][0]))
            tabled.append(bool(out["sc_referral_held"][0]))
        best = max(best, runs / (time.perf_counter() - t))
    return best, _distribution(np.asarray(yes), np.asarray(tabled))


def _distribution(yes: np.ndarray, tabled: np.ndarray) -> dict[str, float]:
    """What the two paths must agree on: committee yes (mean, sd) and P(referral tabled)."""
    return {
        "committee_yes_mean": float(yes.mean()),
        "committee_yes_sd": float(yes.std(ddof=1)),
        "referral_tabled": float(tabled.mean()),
        "runs": len(yes),
    }


def engine_distribution(runs: int) -> dict[str, float]:
    from unsim.engine import run

    r = run(load(), runs=runs, seed=3)
    assert r.runs is not None
    return _distribution(
        r.runs["third_committee_yes"].to_numpy(), r.runs["sc_referral_held"].to_numpy()
    )


def recorded_draws() -> list[tuple[str, str, tuple[int, ...] | int, int | None]]:
    """The draws one block of the default scenario makes: (kind, stream, shape, round)."""
    from unsim.engine.blocks import simulate_block
    from unsim.streams import Streams

    calls: list[tuple[str, str, tuple[int, ...] | int, int | None]] = []
    uniform, normal = Streams.uniform, Streams.normal

    def rec_uniform(self, name, shape, round_=None):  # type: ignore[no-untyped-def]
        calls.append(("uniform", name, shape, round_))
        return uniform(self, name, shape, round_)

    def rec_normal(self, name, shape, round_=None):  # type: ignore[no-untyped-def]
        calls.append(("normal", name, shape, round_))
        return normal(self, name, shape, round_)

    Streams.uniform, Streams.normal = rec_uniform, rec_normal  # type: ignore[method-assign]
    try:
        s = load()
        simulate_block(s, 4, 0, s.simulation.block_size, keep_runs=False)
    finally:
        Streams.uniform, Streams.normal = uniform, normal  # type: ignore[method-assign]
    return calls


def draws_only(runs: int) -> float:
    """Draw exactly the random numbers a block consumes (recorded from a real block: same
    streams, same shapes), block after block."""
    from unsim.streams import Streams

    calls = recorded_draws()
    size = load().simulation.block_size
    best = 0.0
    for _ in range(REPEATS):
        t = time.perf_counter()
        done = 0
        b = 0
        while done < runs:
            st = Streams(4, b)
            for kind, name, shape, round_ in calls:
                getattr(st, kind)(name, shape, round_)
            done += size
            b += 1
        best = max(best, done / (time.perf_counter() - t))
    return best


def peak_memory(runs: int) -> float:
    """Max RSS (MiB) of a fresh process that runs ``runs`` runs without keeping the run table."""
    code = (
        f"import resource, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from benchmarks.engine import load\n"
        "from unsim.engine import run\n"
        f"r = run(load(), runs={runs}, seed=5, keep_runs=False)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args()
    n_engine = 40_000 if args.quick else 400_000
    n_idiom = 20 if args.quick else 200
    mem_runs = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]

    print(
        f"default scenario: {SCENARIO.relative_to(ROOT)}; "
        f"each rate is the best of {REPEATS} repetitions"
    )
    base, base_out = idiomatic(n_idiom)
    print(
        f"idiomatic Mesa, one Model per run ({n_idiom} runs a repetition): "
        f"{base:,.1f} runs/s  (baseline)"
    )
    eng_out = engine_distribution(20_000)
    for label, d in (("idiomatic", base_out), ("engine", eng_out)):
        print(
            f"  same model, {label:>9} ({d['runs']:>6,} runs): committee yes "
            f"{d['committee_yes_mean']:.1f} (sd {d['committee_yes_sd']:.1f}), "
            f"P(referral tabled) {d['referral_tabled']:.3f}"
        )
    e1 = throughput(n_engine, 1)
    e2 = throughput(n_engine, 2)
    d = draws_only(n_engine)
    print(f"engine, 1 worker  ({n_engine:,} runs): {e1:,.0f} runs/s  = {e1 / base:,.0f} x baseline")
    print(f"engine, 2 workers ({n_engine:,} runs): {e2:,.0f} runs/s  = {e2 / base:,.0f} x baseline")
    print(f"  scaling from 1 to 2 workers: {e2 / e1:.2f} x")
    print(
        f"drawing the random numbers only: {d:,.0f} runs/s  -> model costs {d / e1:.1f} x its draws"
    )
    mems = {}
    for n in mem_runs:
        mems[n] = peak_memory(n)
        print(f"peak memory, {n:>9,} runs (no run table): {mems[n]:7.1f} MiB")
    ratio = mems[mem_runs[-1]] / mems[mem_runs[0]]
    print(f"peak memory ratio {mem_runs[-1]:,} / {mem_runs[0]:,} runs: {ratio:.2f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "idiomatic_runs_per_s": base,
                    "engine_1_worker_runs_per_s": e1,
                    "engine_2_workers_runs_per_s": e2,
                    "draws_only_runs_per_s": d,
                    "peak_memory_mib": mems,
                    "idiomatic_distribution": base_out,
                    "engine_distribution": eng_out,
                },
                indent=2,
            )
        )
    _ = resource


if __name__ == "__main__":
    main()
