"""Benchmark of the explorer's re-run: what one change of a lever costs in the server process.

A warm session of the default scenario (``unsim.explore.session.Session``, the app's default run
count) is given a series of distinct changes (the ICC language's cost, the charm offensive's
intensity, the sponsors' bar); each change is timed from the change to the numbers the page
shows (the what-if's run and the outcome table with its paired changes), and separately the two
figures the page draws after them and its world map (as PNG at 72 dpi, as the page draws them;
the first map of the process also reads and projects the shapes, timed on its own). Reported:
medians over the changes, and the ratio of the re-run to the baseline measured in the same
process: one plain ``unsim.run`` of the same scenario, runs and seed loaded from its file (what
a user re-running the command line pays, less the interpreter's start).

    python benchmarks/explore.py            # 12 changes at 4,096 runs
    python benchmarks/explore.py --quick    # 4 changes
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"


def main(argv: list[str] | None = None) -> int:
    from matplotlib.figure import Figure

    from unsim import load_scenario, run
    from unsim.explore.session import DEFAULT_RUNS, Session, WhatIf
    from unsim.results.plots import map_figure, plot_group_votes, plot_tallies
    from unsim.results.plots.worldshapes import projected_shapes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 changes")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    args = parser.parse_args(argv)
    n = 4 if args.quick else 12

    t0 = time.perf_counter()
    session = Session(SCENARIO, runs=args.runs)
    start = time.perf_counter() - t0
    levers = [
        ("behaviour.icc_aversion", [1.0 + 0.1 * i for i in range(n)]),
        ("actors.target.strategies[0].intensity", [0.05 * (i + 1) for i in range(n)]),
        (
            "actors.sponsors.bargaining.accept_offer_min_credibility",
            [0.3 + 0.03 * i for i in range(n)],
        ),
    ]
    t0 = time.perf_counter()
    projected_shapes()
    shapes = time.perf_counter() - t0
    shown, figures, maps, plain = [], [], [], []
    for i in range(n):
        path, values = levers[i % len(levers)]
        what_if = WhatIf.of({path: round(values[i], 6)})
        t0 = time.perf_counter()
        results = session.results(what_if)
        session.outcomes(results)
        shown.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert results.runs is not None
        for fig in (
            plot_tallies(results.runs, fig=Figure(figsize=(11, 7), layout="constrained")),
            plot_group_votes(
                results.per_state, "plenary", session.baseline.per_state, ax=Figure().add_subplot()
            ).figure,
        ):
            fig.savefig(io.BytesIO(), format="png", dpi=72)
        figures.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        map_figure(results.per_state, "plenary", fig=Figure()).savefig(
            io.BytesIO(), format="png", dpi=72
        )
        maps.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run(
            load_scenario(SCENARIO, overrides={path: round(values[i], 6)}),
            runs=args.runs,
            seed=session.seed,
            workers=1,
        )
        plain.append(time.perf_counter() - t0)
    med_shown, med_plain = statistics.median(shown), statistics.median(plain)
    print(f"session start (scenario, baseline run, compiled kernels): {start:.2f} s")
    print(f"re-run of a change, numbers shown: median {med_shown:.3f} s, max {max(shown):.3f} s")
    print(
        f"figures of a change (drawn after the numbers): median {statistics.median(figures):.3f} s"
    )
    print(
        f"world map of a change (drawn after the numbers): median {statistics.median(maps):.3f} s,"
        f" max {max(maps):.3f} s; the shapes read and projected once: {shapes:.3f} s"
    )
    print(f"baseline, plain unsim.run from the file: median {med_plain:.3f} s")
    print(f"ratio re-run / plain run: {med_shown / med_plain:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
