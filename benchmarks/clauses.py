"""What a clause stance of its own costs the engine, as ratios measured in one sitting.

Each timing is a fresh process running the engine (1 worker, the run table not kept) on a
scenario, the best of ``--repeats``; the configurations alternate so that each sees the machine
alike:

  * ``before``: the code at ``--before-src`` (a source tree, e.g. the branch's merge base
    exported with ``git archive``) on the default scenario less its clause calibration;
  * ``mirror``: this tree's code on the same scenario (pass-through 1, no clause deviation:
    the model before clauses had a stance, and what the shipped clause calibration gives);
  * ``clauses``: this tree's code on the default scenario with a clause stance of its own
    (``--pass-through``, ``--deviation-sd``: each state's deviation drawn per run, and the
    draft's vote reading the baseline), through a clause calibration file of those values.

    python benchmarks/clauses.py --before-src /tmp/base/src
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"

_TIMED = """
import sys, time
from unsim.engine import run
from unsim.scenario import load_scenario
s = load_scenario(sys.argv[1])
runs = int(sys.argv[2])
run(s, runs=2 * s.simulation.block_size, seed=1, keep_runs=False)  # warm
t = time.perf_counter()
run(s, runs=runs, seed=2, workers=1, keep_runs=False)
print(runs / (time.perf_counter() - t))
"""


def _rate(src: Path, scenario: Path, runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", _TIMED, str(scenario), str(runs)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def _scenario_file(tag: str, text: str) -> Path:
    """``text`` written next to the default scenario (its relative paths hold) under a new name
    of this process (removed after)."""
    path = SCENARIO.parent / f".bench_clauses_{tag}_{os.getpid()}.yaml"
    with path.open("x", encoding="utf-8") as fh:  # never a file this script did not make
        fh.write(text)
    return path


def _scenarios(folder: Path, pass_through: float, sd: float) -> tuple[Path, Path]:
    """(the default scenario without its clause calibration, which the code before reads as
    it was; the default naming a clause calibration of these values, written in ``folder``)."""
    calibration = folder / "clauses.yaml"
    calibration.write_text(
        "kind: clauses\nname: bench\nbefore: 2014-11-18\nbehaviour:\n"
        f"  clause_pass_through: {pass_through}\n  clause_deviation_sd: {sd}\n",
        encoding="utf-8",
    )
    lines = SCENARIO.read_text(encoding="utf-8").splitlines(keepends=True)
    plain = "".join(x for x in lines if not x.startswith("clause_calibration:"))
    clauses = plain + f"\nclause_calibration: {calibration.resolve()}\n"
    return _scenario_file("plain", plain), _scenario_file("clauses", clauses)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before-src", type=Path, required=True)
    ap.add_argument("--pass-through", type=float, default=0.5)
    ap.add_argument("--deviation-sd", type=float, default=1.5)
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    rates: dict[str, list[float]] = {"before": [], "mirror": [], "clauses": []}
    folder = tempfile.TemporaryDirectory()
    plain, clauses = _scenarios(Path(folder.name), args.pass_through, args.deviation_sd)
    try:
        configs = {
            "before": (args.before_src, plain),
            "mirror": (ROOT / "src", plain),
            "clauses": (ROOT / "src", clauses),
        }
        for _ in range(args.repeats):
            for name, (src, scenario) in configs.items():
                rates[name].append(_rate(src, scenario, args.runs))
    finally:
        plain.unlink()
        clauses.unlink()
        folder.cleanup()
    best = {k: max(v) for k, v in rates.items()}
    print(json.dumps({"runs/s (best)": best, "all": rates}, indent=1))
    for name in ("mirror", "clauses"):
        print(f"{name} / before: {best[name] / best['before']:.3f} of its speed")


if __name__ == "__main__":
    main()
