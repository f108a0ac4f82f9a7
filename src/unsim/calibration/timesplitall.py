"""The time split of every country-specific series, over several seeds
(``unsim backtest --timesplit --series all --seeds 0 1 2 3 4``).

The series are those of :data:`~unsim.calibration.series.COMPARABLE` with a recorded vote since
``since`` that has an earlier one. Each vote is a task (:func:`~.timesplit.forecast_vote`): its
calibration once, with the first seed (a calibration's seed only starts the ideal points'
optimiser: another one moves the positions by less than 0.001), the engine's runs with every
seed, the baselines' probabilities once and their tallies with every seed; the tasks of all
series share one pool of worker processes. Per series and seed, each method's scores are
averaged over the votes; those means are then summarised over the seeds (mean, sd, lowest,
highest). ``overall`` averages over every forecast vote of every series (each vote weighs
alike).

The targets a forecast should meet on a series with at least :data:`TARGET_MIN_VOTES` recorded
votes, averaged over the seeds: Brier score and log loss below both ``logit`` and ``last_vote``,
accuracy at least ``last_vote``'s, and 90 % tally coverage within :data:`COVERAGE90`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from unsim.calibration.idealpoint import IdealPointConfig
from unsim.calibration.paired import paired_series
from unsim.calibration.series import COMPARABLE
from unsim.calibration.timesplit import (
    METRICS,
    SERIES_METHODS,
    TALLIES,
    Task,
    run_tasks,
    series_job,
    summarise,
    vote_targets,
)
from unsim.calibration.validation import DEFAULT_WORLD, RealData, load_real_data
from unsim.errors import InputError
from unsim.scenario import World, load_world

__all__ = [
    "COVERAGE90",
    "TARGET_MIN_VOTES",
    "targets_met",
    "timesplit_all",
    "timesplit_all_markdown",
]

#: Recorded votes a series needs for the targets to apply to it.
TARGET_MIN_VOTES = 4
#: The range the 90 % intervals' coverage of the recorded tallies should fall in.
COVERAGE90 = (0.80, 0.98)
#: A gap smaller than this many of its standard errors is reported as within its noise.
NOISE_SE = 2.0


def _spread(values: Sequence[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "min": float(np.min(v)),
        "max": float(np.max(v)),
    }


def _over_seeds(per_seed: dict[int, dict[str, dict[str, float]]]) -> dict[str, Any]:
    """Each method's and metric's mean over the votes, summarised over the seeds."""
    return {
        m: {k: _spread([per_seed[s][m][k] for s in per_seed]) for k in METRICS}
        for m in SERIES_METHODS
    }


def targets_met(summary: dict[str, Any]) -> dict[str, bool]:
    """Whether unsim meets each target on a series (module docstring), from its summary."""
    u = {k: summary["unsim"][k]["mean"] for k in METRICS}
    lv = {k: summary["last_vote"][k]["mean"] for k in METRICS}
    lg = {k: summary["logit"][k]["mean"] for k in METRICS}
    return {
        "brier": u["brier"] < min(lv["brier"], lg["brier"]),
        "logloss": u["logloss"] < min(lv["logloss"], lg["logloss"]),
        "accuracy": u["accuracy"] >= lv["accuracy"],
        "coverage90": COVERAGE90[0] <= u["coverage90"] <= COVERAGE90[1],
    }


def _series_found(data: RealData, world: World, since: int, config: Any, runs: int) -> dict:
    jobs = {}
    for code in COMPARABLE:
        job = series_job(data, world, code, None, config, runs)
        if vote_targets(job, None, since):
            jobs[code] = job
    return jobs


def timesplit_all(
    data: RealData | None = None,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    runs: int = 2000,
    series: Sequence[str] | None = None,
    since: int = 2000,
    config: IdealPointConfig | None = None,
    world: World | str | Path | None = None,
    workers: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The time split of every country series (or those in ``series``) for each seed, and its
    summary (module docstring)."""
    start = time.perf_counter()
    data = data or load_real_data()
    w = world if isinstance(world, World) else load_world(world or DEFAULT_WORLD)
    if series is None:
        jobs = _series_found(data, w, since, config, runs)
    else:
        jobs = {c.upper(): series_job(data, w, c.upper(), None, config, runs) for c in series}
    tasks: list[Task] = [
        (code, k, tuple(seeds), seeds[0])
        for code, job in jobs.items()
        for k in vote_targets(job, None, since)
    ]
    if not tasks:
        raise InputError(f"no recorded vote of those series to forecast since {since}")
    done = run_tasks(jobs, tasks, workers, progress)
    out: dict[str, Any] = {"seeds": list(seeds), "runs": runs, "since": since, "series": {}}
    for code, job in jobs.items():
        rows = [d for t, d in zip(tasks, done, strict=True) if t[0] == code]
        per_seed = {s: summarise([r[s] for r in rows]) for s in seeds}
        summary = _over_seeds(per_seed)
        out["series"][code] = {
            "recorded_votes": len(job.used),
            "forecast_votes": len(rows),
            "years": [r[seeds[0]]["year"] for r in rows],
            "summary": summary,
            "targets": targets_met(summary) if len(job.used) >= TARGET_MIN_VOTES else None,
            "paired": paired_series({s: [r[s] for r in rows] for s in seeds}),
            "per_seed": {str(s): [r[s] for r in rows] for s in seeds},
        }
    overall = {s: summarise([d[s] for d in done]) for s in seeds}
    out["overall"] = {
        "forecast_votes": len(done),
        "summary": _over_seeds(overall),
        "paired": paired_series({s: [d[s] for d in done] for s in seeds}),
    }
    out["seconds"] = round(time.perf_counter() - start, 1)
    return out


def _cell(s: dict[str, float], percent: bool) -> str:
    if percent:
        return f"{s['mean']:.0%} ± {100 * s['sd']:.0f}"
    return f"{s['mean']:.3f} ± {s['sd']:.3f}"


def _gap_text(gap: dict[str, float | None], digits: int) -> str:
    diff, se = float(gap["diff"] or 0.0), float(gap["se"] or 0.0)
    tie = "~" if abs(diff) < NOISE_SE * se else ""
    return f"{tie}{diff:+.{digits}f} ± {se:.{digits}f}"


def coverage_range(tallies: int, level: float = 0.90, mass: float = 0.90) -> tuple[float, float]:
    """The central ``mass`` range of the share of ``tallies`` recorded tallies inside honest
    ``level`` intervals, were they inside independently (binomial)."""
    lo, hi = stats.binom.ppf([(1 - mass) / 2, (1 + mass) / 2], tallies, level)
    return float(lo) / tallies, float(hi) / tallies


def _coverage_text(v: dict[str, Any]) -> str:
    n = len(TALLIES) * int(v["forecast_votes"])
    lo, hi = coverage_range(n)
    return f"{v['summary']['unsim']['coverage90']['mean']:.0%} of {n}; honest: {lo:.0%}-{hi:.0%}"


def _target_cell(met: bool | None, paired: dict[str, Any], key: str) -> str:
    """A target's cell: met or not, and unsim's gap to the baselines with its standard error."""
    names = ("last_vote",) if key == "accuracy" else ("logit", "last_vote")
    digits = 3 if key == "accuracy" else 4
    gaps = " / ".join(_gap_text(paired[n][key], digits) for n in names)
    if met is None:
        return f"({gaps})"
    return f"{'met' if met else '**not met**'} ({gaps})"


def timesplit_all_markdown(result: dict[str, Any]) -> str:
    """The summary as markdown: per series and method, the mean over the seeds ± their sd."""
    lines = [
        f"Time split of {len(result['series'])} series, {result['overall']['forecast_votes']} "
        f"votes since {result['since']}, seeds {', '.join(map(str, result['seeds']))}, "
        f"{result['runs']} runs each (mean over seeds ± sd over seeds of the mean over votes)",
        "",
        "| series (votes) | method | accuracy | Brier | log loss | in 50 % PI | in 90 % PI |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    blocks = [(f"{c} ({v['forecast_votes']}: {v['years'][0]}-{v['years'][-1]})", v["summary"])
              for c, v in result["series"].items()]  # fmt: skip
    blocks.append((f"all ({result['overall']['forecast_votes']})", result["overall"]["summary"]))
    for label, summary in blocks:
        for m in SERIES_METHODS:
            s = summary[m]
            cells = [_cell(s[k], k.startswith("coverage")) for k in METRICS]
            lines.append(f"| {label} | {m} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| series | Brier | log loss | accuracy | 90 % coverage in 80-98 % |",
        "|---|---|---|---|---|",
    ]
    for code, v in result["series"].items():
        t = v["targets"]
        if t is None:
            lines.append(f"| {code} | fewer than {TARGET_MIN_VOTES} recorded votes | | | |")
            continue
        cells = [_target_cell(t[k], v["paired"], k) for k in ("brier", "logloss", "accuracy")]
        cells.append(f"{'met' if t['coverage90'] else '**not met**'} ({_coverage_text(v)})")
        lines.append(f"| {code} | " + " | ".join(cells) + " |")
    overall = result["overall"]
    cells = [_target_cell(None, overall["paired"], k) for k in ("brier", "logloss", "accuracy")]
    lines.append(f"| all ({overall['forecast_votes']}) | " + " | ".join(cells) + " | |")
    lines += [
        "",
        "(In brackets: unsim's score minus logit's / minus last_vote's (accuracy: minus "
        "last_vote's), mean over the votes ± its standard error over the states' paired "
        f"differences; ~: within {NOISE_SE:g} standard errors of no gap. Coverage: of how many "
        "recorded tallies, and the central 90 % range of the share inside honest 90 % "
        "intervals were they inside independently.)",
    ]
    lines.append(f"\nWall time {result['seconds']:.0f} s.")
    return "\n".join(lines)
