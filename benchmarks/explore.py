"""Benchmark of the explorer: what one change of a lever costs, and how far its figures trail
its numbers.

A warm session of the default scenario (``unsim.explore.session.Session``, the app's default run
count) is given a fixed series of distinct changes (the ICC language's cost, the charm
offensive's intensity, the sponsors' bar, in turn). For each change:

- **numbers**: from the change to the numbers the page shows (the what-if's run, its data-only
  forecast (one run, shared by the changes of stated levers), the bottom line, the outcome
  table with its paired changes and data-only column, the yes votes, each stage's tallies);
- **figure latency**: from the numbers to the page's three figures (tallies, regional groups,
  world map) painted as PNG, one after the other, as the page paints them
  (:mod:`unsim.explore.painters`: the still parts drawn once, then only what moves);
- **full redraw**: the same three figures drawn from nothing as the report draws them (at the
  page's 72 dpi), which is what the page did before the painters;
- **plain run**: one ``unsim.run`` of the same scenario, runs and seed loaded from its file.

Reported: median and 90th percentile of each (the first change of a layout builds its painter
and is reported apart), and the ratios of the same sitting. ``--browser`` also drives the page
in headless Chromium (``unsim explore`` on a free local port, Playwright): each change is a key
press on a slider, and the page itself records when its numbers changed and when every figure
had been replaced (a MutationObserver), so that figure latency is also measured as a user sees
it.

    python benchmarks/explore.py                   # 12 changes at 4,096 runs
    python benchmarks/explore.py --quick --json    # 4 changes, one JSON object
    python benchmarks/explore.py --browser         # and the page in Chromium
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"
LEVERS = (
    ("behaviour.icc_aversion", 1.0, 0.1),
    ("actors.target.strategies[0].intensity", 0.05, 0.05),
    ("actors.sponsors.bargaining.accept_offer_min_credibility", 0.3, 0.03),
)


def spread(values: list[float]) -> dict[str, float]:
    """Median, 90th percentile and maximum, in seconds."""
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 4),
        "p90": round(p90, 4),
        "max": round(ordered[-1], 4),
        "n": len(ordered),
    }


def changes(n: int) -> list[tuple[str, float]]:
    return [
        (LEVERS[i % 3][0], round(LEVERS[i % 3][1] + LEVERS[i % 3][2] * (i // 3 + 1), 6))
        for i in range(n)
    ]


def server_side(n: int, runs: int) -> dict[str, Any]:
    from matplotlib.figure import Figure

    from unsim import load_scenario, run
    from unsim.explore import painters
    from unsim.explore.session import Session, WhatIf
    from unsim.explore.variants import tallies
    from unsim.results.bottomline import bottom_line
    from unsim.results.plots import map_figure, plot_group_votes, plot_tallies

    t0 = time.perf_counter()
    session = Session(SCENARIO, runs=runs)
    start = time.perf_counter() - t0
    n_states = len(session.scenario.world.states)  # type: ignore[union-attr]
    base = session.baseline

    def paint(results: Any) -> None:
        painters.tallies_png(results.runs, "simple", n_states)
        painters.groups_png(results.per_state, "plenary", base.per_state)
        painters.map_png(results.per_state, "plenary")

    t0 = time.perf_counter()
    paint(base)  # the painters are built on the first figures of the process
    first = time.perf_counter() - t0
    numbers, figures, full, plain = [], [], [], []
    for path, value in changes(n):
        t0 = time.perf_counter()
        what_if = WhatIf.of({path: value})
        results = session.results(what_if)
        bare = session.data_only(what_if)
        bottom_line(results.summary, results.scenario)
        session.outcomes(results, bare)
        session.yes_votes(results, bare)
        tallies(results)
        numbers.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        paint(results)
        figures.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert results.runs is not None
        tall = plot_tallies(results.runs, fig=Figure(figsize=(11, 7), layout="constrained"))
        groups = Figure(figsize=(9, 3.4), layout="constrained")
        plot_group_votes(results.per_state, "plenary", base.per_state, ax=groups.add_subplot())
        world = map_figure(results.per_state, "plenary", fig=Figure())
        for fig in (tall, groups, world):
            fig.savefig(io.BytesIO(), format="png", dpi=72)
        full.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run(load_scenario(SCENARIO, overrides={path: value}), runs=runs, seed=session.seed)
        plain.append(time.perf_counter() - t0)
    return {
        "runs": runs,
        "changes": n,
        "session_start_s": round(start, 3),
        "first_figures_s": round(first, 3),
        "numbers_s": spread(numbers),
        "figure_latency_s": spread(figures),
        "full_redraw_s": spread(full),
        "plain_run_s": spread(plain),
        "ratio_figures_to_full_redraw": round(
            statistics.median(figures) / statistics.median(full), 3
        ),
        "ratio_numbers_to_plain_run": round(
            statistics.median(numbers) / statistics.median(plain), 3
        ),
    }


#: Installed in the page before a change: when its numbers changed (the key of the results
#: shown), and when every figure had been replaced (none left marked stale).
RECORDER = """() => {
  const shown = () => document.querySelector('.unsim-seed').dataset.key;
  const before = shown();
  const keys = () => [...document.querySelectorAll('.unsim-figure img')].map(i => i.dataset.key);
  const old = keys();
  const marks = {numbers: null, figures: null};
  const t0 = performance.now();
  const observer = new MutationObserver(() => {
    if (marks.numbers === null && shown() !== before)
      marks.numbers = performance.now() - t0;
    const now = keys();
    if (marks.numbers !== null && marks.figures === null && now.length === old.length
        && now.every((k, i) => k !== old[i]) && !document.querySelector('.unsim-stale')) {
      marks.figures = performance.now() - t0;
      observer.disconnect();
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true});
  window.__marks = marks;
}"""


def in_browser(n: int, runs: int) -> dict[str, Any]:
    """The page in headless Chromium: per change, the seconds from the key press to the
    numbers, and from the numbers to every figure."""
    import os
    import re
    import shutil
    import signal
    import socket
    import subprocess
    import tempfile

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="unsim-bench-"))
    log = open(folder / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "unsim", "explore", str(SCENARIO), "--port", str(port),
         "--runs", str(runs), "--save-dir", str(folder), "--no-open"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    numbers, figures = [], []
    try:
        url = None
        for _ in range(240):
            found = re.search(
                rf"http://127\.0\.0\.1:{port}/\?token=[\w-]+", (folder / "server.log").read_text()
            )
            if found:
                url = found[0]
                break
            time.sleep(0.25)
        assert url, (folder / "server.log").read_text()
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            for _ in range(120):
                try:
                    page.goto(url, timeout=10_000)
                    break
                except Exception:
                    time.sleep(1)
            page.wait_for_selector('tr[data-outcome="icc_retained"]', timeout=180_000)
            page.wait_for_function(
                "() => document.querySelectorAll('.unsim-figure img').length >= 3"
                " && !document.querySelector('.unsim-stale')",
                timeout=180_000,
            )
            for title in ("How states decide", "Strategy: charm offensive", "Sponsors: bargaining"):
                page.get_by_text(title).first.dispatch_event("click")
            sliders = [
                page.locator(".lever-" + "".join(c if c.isalnum() else "-" for c in path))
                .first.locator("[role=slider]")
                .first
                for path, _, _ in LEVERS
            ]
            page.wait_for_timeout(2000)
            for i in range(n):
                page.evaluate(RECORDER)
                sliders[i % 3].focus()
                page.keyboard.press("ArrowRight")
                page.wait_for_function("() => window.__marks.figures !== null", timeout=120_000)
                marks = page.evaluate("window.__marks")
                numbers.append(marks["numbers"] / 1000)
                figures.append((marks["figures"] - marks["numbers"]) / 1000)
                page.wait_for_timeout(1500)  # let the state's explanation finish too
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    return {
        "changes": n,
        "runs": runs,
        "numbers_s": spread(numbers),
        "figure_latency_s": spread(figures),
    }


def load_average() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def main(argv: list[str] | None = None) -> int:
    from unsim.explore.session import DEFAULT_RUNS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 changes")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--browser", action="store_true", help="also measure the page in Chromium")
    args = parser.parse_args(argv)
    n = 4 if args.quick else 12
    out: dict[str, Any] = {"load_average_before": load_average()}
    out["server"] = server_side(n, args.runs)
    if args.browser:
        out["browser"] = in_browser(n, args.runs)
    out["load_average_after"] = load_average()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    s = out["server"]
    print(f"load average {out['load_average_before']} before, {out['load_average_after']} after")
    print(f"session start (scenario, baseline run, compiled kernels): {s['session_start_s']:.2f} s")
    print(f"first figures of the process (painters built): {s['first_figures_s']:.2f} s")
    for name in ("numbers_s", "figure_latency_s", "full_redraw_s", "plain_run_s"):
        what, q = name[:-2].replace("_", " "), s[name]
        print(f"{what}: median {q['median']:.3f} s, 90 % {q['p90']:.3f} s")
    print(f"figures painted / drawn in full: {s['ratio_figures_to_full_redraw']:.2f}")
    print(f"numbers / plain run: {s['ratio_numbers_to_plain_run']:.2f}")
    if "browser" in out:
        b = out["browser"]
        print(
            f"in Chromium: numbers {b['numbers_s']['median']:.2f} s after the key press (90 %: "
            f"{b['numbers_s']['p90']:.2f}), every figure {b['figure_latency_s']['median']:.2f} s "
            f"after the numbers (90 %: {b['figure_latency_s']['p90']:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
