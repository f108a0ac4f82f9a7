"""Benchmark of the Monte Carlo engine on the default scenario, reported as ratios.

Measured in one run, on this machine:
  * throughput (runs/s) of the engine with 1 and 2 workers;
  * the baseline: the same model run the idiomatic Mesa way, one Model per run (``UNModel`` with
    one replicate, same agents and rules);
  * the time just to draw the random numbers the model consumes (same streams, same shapes),
    timed in alternation with the 1-worker engine so that each pair sees the machine alike;
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
    return max(_engine_rate(s, runs, workers, 2 + rep) for rep in range(repeats))


def _engine_rate(scenario, runs: int, workers: int, seed: int) -> float:  # type: ignore[no-untyped-def]
    from unsim.engine import run

    t = time.perf_counter()
    run(scenario, runs=runs, seed=seed, workers=workers, keep_runs=False)
    return runs / (time.perf_counter() - t)


#: Pairs of (engine, draws) timings for the model's cost against its draws.
PAIRS = 5


def model_and_draws(runs: int, pairs: int = PAIRS) -> tuple[float, float, list[float]]:
    """The engine with 1 worker and the draws alone, timed in alternation so that the two of a
    pair see the machine in the same state (a shared machine's speed drifts over a minute):
    (best engine rate, best draws rate, the model's cost over its draws in each pair)."""
    from unsim.engine import run

    s = load()
    run(s, runs=min(runs, 2 * s.simulation.block_size), seed=1)  # warm
    calls = recorded_draws()
    engine, draws = [], []
    for rep in range(pairs):
        engine.append(_engine_rate(s, runs, 1, 2 + rep))
        draws.append(_draws_rate(runs, calls, s.simulation.block_size))
    return max(engine), max(draws), [d / e for e, d in zip(engine, draws, strict=True)]


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
    calls = recorded_draws()
    size = load().simulation.block_size
    return max(_draws_rate(runs, calls, size) for _ in range(REPEATS))


def _draws_rate(runs: int, calls: list, size: int) -> float:  # type: ignore[type-arg]
    from unsim.streams import Streams

    t = time.perf_counter()
    done = 0
    b = 0
    while done < runs:
        st = Streams(4, b)
        for kind, name, shape, round_ in calls:
            getattr(st, kind)(name, shape, round_)
        done += size
        b += 1
    return done / (time.perf_counter() - t)


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
        f"each rate is the best of {REPEATS} repetitions ({PAIRS} for the 1-worker engine and "
        "the draws)"
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
    e1, d, ratios = model_and_draws(n_engine)
    e2 = throughput(n_engine, 2)
    ratio = float(np.median(ratios))
    print(f"engine, 1 worker  ({n_engine:,} runs): {e1:,.0f} runs/s  = {e1 / base:,.0f} x baseline")
    print(f"engine, 2 workers ({n_engine:,} runs): {e2:,.0f} runs/s  = {e2 / base:,.0f} x baseline")
    print(f"  scaling from 1 to 2 workers: {e2 / e1:.2f} x")
    print(f"drawing the random numbers only: {d:,.0f} runs/s")
    print(
        f"  the model costs {ratio:.2f} x its draws (median of {len(ratios)} pairs timed in "
        f"alternation: {', '.join(f'{r:.2f}' for r in ratios)}; ratio of the best rates "
        f"{d / e1:.2f})"
    )
    mems = {}
    for n in mem_runs:
        mems[n] = peak_memory(n)
        print(f"peak memory, {n:>9,} runs (no run table): {mems[n]:7.1f} MiB")
    growth = mems[mem_runs[-1]] / mems[mem_runs[0]]
    print(f"peak memory ratio {mem_runs[-1]:,} / {mem_runs[0]:,} runs: {growth:.2f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "idiomatic_runs_per_s": base,
                    "engine_1_worker_runs_per_s": e1,
                    "engine_2_workers_runs_per_s": e2,
                    "draws_only_runs_per_s": d,
                    "model_over_draws": ratio,
                    "model_over_draws_pairs": ratios,
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
