"""The time split of a resolution series (``unsim backtest --timesplit --series ISO3``).

For each recorded vote of the series, everything is refitted on data dated strictly before it
(:mod:`.seriescal`): the forecast scenario is the 2014 world restricted to the states that were
members at that vote, a plenary-only draft with no ICC language, no response strategies, no
lobbying and no diplomatic rounds (:func:`~.validation.backtest_scenario`); the engine forecasts
it, and the forecast is scored against the recorded vote next to the baselines, each fitted on
the votes before it too:

- ``logit``: a multinomial logistic regression on the states' records (:mod:`.baselines`);
- ``last_vote_smoothed``: the last vote, with each state's own rate of change (:mod:`.baselines`);
- ``last_vote``, ``cutpoints``, ``all_yes``: the naive ones (:mod:`.backtest`).

A vote is forecast for one or several seeds (:func:`forecast_vote`): the calibration and the
engine's runs for each, the baselines' probabilities once (they use no random numbers; only
their sampled tallies do). :mod:`.timesplitall` runs every series.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from unsim.calibration.backtest import (
    Forecast,
    baseline_forecasts,
    forecast_from_results,
    sample_tallies,
    score,
    tally_counts,
)
from unsim.calibration.idealpoint import IdealPointConfig
from unsim.calibration.validation import (
    DEFAULT_WORLD,
    RealData,
    backtest_scenario,
    engine_run,
    load_real_data,
    world_groups,
)
from unsim.errors import InputError
from unsim.scenario import Calibration, Scenario, World, load_world

__all__ = [
    "METRICS",
    "SERIES_METHODS",
    "SeriesJob",
    "Task",
    "forecast_vote",
    "run_tasks",
    "series_backtest_scenario",
    "series_job",
    "series_timesplit",
    "series_timesplit_markdown",
    "summarise",
    "vote_targets",
]

#: Methods of the series time split, as named in its JSON.
SERIES_METHODS = ("unsim", "logit", "last_vote_smoothed", "last_vote", "cutpoints", "all_yes")
#: The scores of each method and vote.
METRICS = ("accuracy", "brier", "logloss", "coverage50", "coverage90")
TALLIES = ("yes", "no", "abstain", "absent")
#: A vote of a series to forecast: (series, vote index, seeds, the calibration's seed or None:
#: each seed's own).
Task = tuple[str, int, tuple[int, ...], int | None]
_BASELINE_NAMES = {"last_vote": "last_vote", "cut_points": "cutpoints", "all_yes": "all_yes"}


def series_backtest_scenario(
    world: World,
    calibration: Calibration,
    states: Iterable[str],
    date: dt.date,
    target: str,
    runs: int,
    seed: int,
) -> Scenario:
    """A plenary-only draft on ``target`` without ICC language, strategies, lobbying or rounds."""
    return backtest_scenario(
        world,
        calibration,
        states,
        date,
        runs,
        seed,
        name=f"{target.lower()}_backtest_{date.year}",
        target=target,
        title=f"Situation of human rights in {target}",
    )


@dataclass(frozen=True)
class SeriesJob:
    """What every vote of a series' time split needs (shared with the worker processes)."""

    data: RealData
    world: World
    code: str
    match: str | None
    config: IdealPointConfig | None
    runs: int
    used: pd.DataFrame
    """the series' recorded votes (rcid, date, session...), oldest first"""
    all_votes: Any
    """:class:`~.seriesfit.SeriesVotes` of every recorded vote of the series"""


def series_job(
    data: RealData,
    world: World,
    code: str,
    match: str | None = None,
    config: IdealPointConfig | None = None,
    runs: int = 2000,
) -> SeriesJob:
    """The job of the series about ``code`` (its recorded votes found in the roll calls)."""
    from unsim.calibration.series import find_series
    from unsim.calibration.seriescal import series_votes

    found = find_series(data.roll_calls, code, data.votes, data.members, match=match)
    used = found.used.reset_index(drop=True)
    all_votes = series_votes(data.votes, data.members, used)
    return SeriesJob(data, world, code, match, config, runs, used, all_votes)


def vote_targets(job: SeriesJob, years: Iterable[int] | None, since: int) -> list[int]:
    """The votes of the series to forecast: in ``years`` (or from ``since``) with an earlier
    one."""
    wanted = set(years) if years is not None else None
    out = []
    for k in range(1, len(job.used)):
        year = pd.Timestamp(job.used.loc[k, "date"]).year
        if (year in wanted) if wanted is not None else (year >= since):
            out.append(k)
    return out


def series_timesplit(
    series: str,
    data: RealData | None = None,
    years: Iterable[int] | None = None,
    runs: int = 2000,
    seed: int = 0,
    config: IdealPointConfig | None = None,
    world: World | str | Path | None = None,
    match: str | None = None,
    since: int = 2000,
    workers: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Forecast each recorded vote of a series (from ``since``, or the given ``years``, and with
    at least one earlier vote) from data dated before it, with everything refitted, and score it
    with the baselines. Returns ``{"series", "runs", "seed", "years": [...], "mean": {...}}``."""
    data = data or load_real_data()
    w = world if isinstance(world, World) else load_world(world or DEFAULT_WORLD)
    job = series_job(data, w, series.upper(), match, config, runs)
    targets = vote_targets(job, years, since)
    if not targets:
        raise InputError(f"no recorded vote of the {job.code} series to forecast in those years")
    tasks: list[Task] = [(job.code, k, (seed,), None) for k in targets]
    done = run_tasks({job.code: job}, tasks, workers, progress)
    rows = [entries[seed] for entries in done]
    return {
        "series": job.code,
        "runs": runs,
        "seed": seed,
        "years": rows,
        "mean": summarise(rows),
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each method's mean score over the votes ``rows``."""
    return {
        m: {key: float(np.mean([r[m][key] for r in rows])) for key in METRICS}
        for m in SERIES_METHODS
    }


def _baseline_probabilities(
    job: SeriesJob, k: int, date: dt.date, states: list[str], positions: pd.Series
) -> dict[str, pd.DataFrame]:
    """The logistic baseline and the smoothed last vote of vote ``k`` (no random numbers)."""
    from unsim.calibration.baselinefeatures import state_table
    from unsim.calibration.baselines import logit_forecast, smoothed_last_vote
    from unsim.calibration.history import country_history

    data, code = job.data, job.code
    cut = pd.Timestamp(date)
    history = country_history(data.votes, data.roll_calls, data.members, cut, code, job.match)
    session = int(job.used.loc[k, "session"])
    statics = state_table(data.members)
    logit, _ = logit_forecast(history, code, cut, session, states, statics, positions)
    smoothed, _ = smoothed_last_vote(history, code, cut, states, world_groups(job.world))
    return {"logit": logit, "last_vote_smoothed": smoothed}


def _scored(
    entry: dict[str, Any], forecasts: list[Forecast], votes: pd.Series, tallies: dict[str, int]
) -> dict[str, Any]:
    for f in forecasts:
        s = score(f, votes, tallies)
        n = max(int(s.get("tallies_checked", 4)), 1)
        entry[_BASELINE_NAMES.get(f.method, f.method)] = {
            "accuracy": s["accuracy"],
            "brier": s["brier"],
            "logloss": s["log_loss"],
            "coverage50": s["in50"] / n,
            "coverage90": s["in90"] / n,
            "median": {t: s.get(f"{t}_median") for t in TALLIES},
            "in90": {t: s.get(f"{t}_in90") for t in TALLIES},
        }
    return entry


def _calibration(job: SeriesJob, date: dt.date, seed: int) -> tuple[Any, Calibration]:
    """The calibration on the data before ``date`` (the ideal points' start from ``seed``)."""
    from unsim.calibration.seriescal import build_series_calibration, calibrate_series

    data, code = job.data, job.code
    sc = calibrate_series(
        data.votes, data.roll_calls, data.members, code, date, job.match, job.config, seed
    )
    cal = build_series_calibration(sc, f"{code.lower()}_before_{date}", {"before": str(date)})
    return sc, cal


def _unsim_forecast(
    job: SeriesJob, date: dt.date, states: list[str], seed: int, cal: Calibration
) -> Forecast:
    """The engine's forecast of the vote on ``date`` with the calibration ``cal``, for ``seed``."""
    scenario = series_backtest_scenario(job.world, cal, states, date, job.code, job.runs, seed)
    results = engine_run()(scenario, runs=job.runs, seed=seed, workers=1)
    return forecast_from_results(results, "plenary", "unsim")


def forecast_vote(
    job: SeriesJob, k: int, seeds: Sequence[int], calibration_seed: int | None = None
) -> dict[int, dict[str, Any]]:
    """Vote ``k`` of the series forecast from the data before it and scored, for each seed: the
    calibration with the seed too, or once with ``calibration_seed`` when given (the seed of a
    calibration only starts the ideal points' optimiser), the engine's runs with each seed."""
    date = pd.Timestamp(job.used.loc[k, "date"]).date()
    rcid = int(job.used.loc[k, "rcid"])
    actual = job.all_votes.letters[rcid].dropna()
    states = [c for c in actual.index if c in job.world.index]
    if job.code not in states:
        states.append(job.code)  # the target is in the world even if its vote is not recorded
    votes = actual.reindex([c for c in states if c in actual.index])
    tallies = tally_counts(votes)
    previous = [job.all_votes.letters[r].dropna() for r in job.all_votes.rcids[:k]]
    fixed: dict[str, pd.DataFrame] | None = None
    out: dict[int, dict[str, Any]] = {}
    shared = _calibration(job, date, calibration_seed) if calibration_seed is not None else None
    for seed in seeds:
        sc, cal = shared if shared is not None else _calibration(job, date, seed)
        model = _unsim_forecast(job, date, states, seed, cal)
        if fixed is None:
            fixed = _baseline_probabilities(job, k, date, states, sc.ideal.positions)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1])))
        forecasts = [model]
        forecasts += [Forecast(m, p, sample_tallies(p, job.runs, rng)) for m, p in fixed.items()]
        groups = world_groups(job.world)
        naive = baseline_forecasts(
            previous, states, groups, sc.ideal.positions, sc.absence, job.runs, seed
        )
        forecasts += [f for f in naive if f.method in _BASELINE_NAMES]
        entry = {
            "year": date.year,
            "date": str(date),
            "rcid": rcid,
            "n_states": len(votes),
            "recorded": tallies,
            "specification": sc.fit.spec.name,
            "warnings": sc.warnings,
        }
        out[seed] = _scored(entry, forecasts, votes, tallies)
        out[seed]["paired"] = _paired(forecasts, votes)
    return out


def _paired(forecasts: list[Forecast], votes: pd.Series) -> dict[str, Any]:
    """unsim's per-state scores paired with the targets' baselines' (:mod:`.paired`)."""
    from unsim.calibration.paired import PAIRED_BASELINES, paired_vote

    by = {_BASELINE_NAMES.get(f.method, f.method): f.probabilities for f in forecasts}
    common = votes.index
    for name in ("unsim", *PAIRED_BASELINES):
        common = common.intersection(by[name].index)
    baselines = {name: by[name] for name in PAIRED_BASELINES}
    return paired_vote(by["unsim"], baselines, votes.loc[common])


_JOBS: dict[str, SeriesJob] = {}


def _set_jobs(jobs: dict[str, SeriesJob]) -> None:
    _JOBS.clear()
    _JOBS.update(jobs)


def _task(task: Task) -> dict[int, dict[str, Any]]:
    code, k, seeds, calibration_seed = task
    with threadpool_limits(limits=1, user_api="blas"):
        return forecast_vote(_JOBS[code], k, seeds, calibration_seed)


def run_tasks(
    jobs: dict[str, SeriesJob],
    tasks: list[Task],
    workers: int,
    progress: Callable[[str], None] | None = None,
) -> list[dict[int, dict[str, Any]]]:
    """Each task (series, vote, seeds) forecast and scored, ``workers`` at a time; in order."""
    if workers > 1 and len(tasks) > 1:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        if progress:
            progress(f"{len(tasks)} votes, each refitted and forecast, {workers} at a time")
        out: list[dict[int, dict[str, Any]] | None] = [None] * len(tasks)
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_set_jobs, initargs=(jobs,)
        ) as pool:
            futures = {pool.submit(_task, t): i for i, t in enumerate(tasks)}
            for n, future in enumerate(as_completed(futures), start=1):
                i = futures[future]
                out[i] = future.result()
                if progress:
                    code, k = tasks[i][:2]
                    when = pd.Timestamp(jobs[code].used.loc[k, "date"]).date()
                    progress(f"  {n}/{len(tasks)} done: {code} {when}")
        return [o for o in out if o is not None]
    _set_jobs(jobs)
    results = []
    for t in tasks:
        if progress:
            when = pd.Timestamp(jobs[t[0]].used.loc[t[1], "date"]).date()
            progress(f"{t[0]} {when}: calibrating on the data before it, forecasting")
        results.append(_task(t))
    return results


def series_timesplit_markdown(result: dict[str, Any]) -> str:
    """The series time split as markdown: per vote, then the means."""
    lines = [
        f"Series {result['series']}: {len(result['years'])} votes, each forecast from data "
        "before it",
        "",
        "| year | method | accuracy | Brier | log loss | tallies in 50 % PI | in 90 % PI |"
        " yes: median (recorded) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["years"]:
        for m in SERIES_METHODS:
            s = r[m]
            lines.append(
                f"| {r['year']} | {m} | {s['accuracy']:.3f} | {s['brier']:.3f} | "
                f"{s['logloss']:.3f} | {s['coverage50']:.0%} | {s['coverage90']:.0%} | "
                f"{s['median']['yes']:.0f} ({r['recorded']['yes']}) |"
            )
    lines += [
        "",
        "| method (mean over votes) | accuracy | Brier | log loss | in 50 % PI | in 90 % PI |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m, s in result["mean"].items():
        lines.append(
            f"| {m} | {s['accuracy']:.3f} | {s['brier']:.3f} | {s['logloss']:.3f} | "
            f"{s['coverage50']:.0%} | {s['coverage90']:.0%} |"
        )
    return "\n".join(lines)
