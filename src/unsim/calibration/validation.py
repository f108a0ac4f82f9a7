"""Out-of-sample validation: forecasts of recorded votes the model never saw.

Time split of any resolution series (``series_timesplit``, ``unsim backtest --series ISO3
--timesplit``): for each recorded vote of the series, everything is refitted on data dated
strictly before it (:mod:`.seriescal`). The forecast scenario is the 2014 world restricted to the
states that were members at that vote, a plenary-only draft with no ICC language, no response
strategies, no lobbying and no diplomatic rounds; the engine forecasts it and the forecast is
scored against the recorded vote, next to the naive baselines built from the earlier votes (see
:mod:`.backtest`).

Backtest of a scenario. ``python -m unsim backtest SCENARIO.yaml --actual FILE`` runs the scenario
and scores each stage the file records; the baselines come from the DPRK plenary votes recorded
before the scenario's date, with the positions of its calibration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from unsim.calibration.backtest import (
    ActualVote,
    Forecast,
    baseline_forecasts,
    forecast_from_results,
    score,
    tally_counts,
)
from unsim.calibration.calibrate import TARGET, recorded_votes
from unsim.calibration.idealpoint import IdealPointConfig
from unsim.data import (
    MEMBERS_FILE,
    ROLL_CALLS_FILE,
    VOTES_FILE,
    default_data_dir,
    dprk_plenary_roll_calls,
    load_members,
    load_roll_calls,
    load_votes,
)
from unsim.errors import DataNotFoundError, InputError
from unsim.scenario import Calibration, Scenario, World, load_world, scenario_from_dict

__all__ = [
    "DEFAULT_WORLD",
    "RealData",
    "backtest_scenario",
    "load_real_data",
    "previous_votes",
    "restrict_world",
    "score_scenario",
    "series_timesplit",
    "series_timesplit_markdown",
]

_WORLD_IN_REPO = Path("scenarios") / "worlds" / "un_2014.yaml"
#: The 2014 world file: in the source tree unsim runs from, else under the current folder
#: (a clone of the repository with unsim installed from it).
DEFAULT_WORLD = next(
    (
        p
        for p in (Path(__file__).resolve().parents[3] / _WORLD_IN_REPO, Path.cwd() / _WORLD_IN_REPO)
        if p.exists()
    ),
    _WORLD_IN_REPO,
)
DPRK_TITLE = "Situation of human rights in the Democratic People's Republic of Korea"


class RealData:
    """The real UN data the validation reads (votes, roll calls, member states)."""

    def __init__(self, votes: pd.DataFrame, roll_calls: pd.DataFrame, members: pd.DataFrame):
        self.votes = votes
        self.roll_calls = roll_calls
        self.members = members

    @property
    def dprk(self) -> pd.DataFrame:
        return dprk_plenary_roll_calls(self.roll_calls)


def load_real_data(data_dir: str | Path | None = None) -> RealData:
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    return RealData(
        load_votes(folder / VOTES_FILE),
        load_roll_calls(folder / ROLL_CALLS_FILE),
        load_members(folder / MEMBERS_FILE),
    )


def previous_votes(data: RealData, before: dt.date | str) -> list[pd.Series]:
    """Letters by ISO3 of each DPRK plenary vote dated before ``before``, oldest first."""
    cut = pd.Timestamp(before)
    dprk = data.dprk[data.dprk["date"] < cut]
    table = recorded_votes(data.votes, data.members, dprk["rcid"].tolist()).table
    return [
        table[table["rcid"] == r].set_index("iso3")["vote"].rename(str(r)) for r in dprk["rcid"]
    ]


def restrict_world(world: World, codes: Iterable[str]) -> dict[str, Any]:
    """The world as a mapping, keeping only the states in ``codes`` (and their bloc seats)."""
    keep = set(codes)
    raw = world.model_dump(mode="json")
    raw["states"] = [s for s in raw["states"] if s["iso3"] in keep]
    blocs = {}
    for name, bloc in raw["blocs"].items():
        members = [c for c in bloc["members"] if c in keep]
        if members:
            blocs[name] = {**bloc, "members": members}
    raw["blocs"] = blocs
    council = world.security_council
    missing = [c for c in council.permanent + council.elected if c not in keep]
    if missing:
        raise InputError(
            f"cannot restrict the world {world.name!r}: its Security Council members "
            f"{', '.join(missing)} would be left out"
        )
    return raw


def backtest_scenario(
    world: World,
    calibration: Calibration,
    states: Iterable[str],
    date: dt.date,
    runs: int,
    seed: int,
    name: str = "dprk_backtest",
    target: str = TARGET,
    title: str = DPRK_TITLE,
) -> Scenario:
    """A plenary-only draft on ``target`` (the DPRK by default) without ICC language,
    strategies, lobbying or rounds."""
    raw = {
        "schema_version": 1,
        "kind": "scenario",
        "name": name,
        "description": "time-split backtest: the recorded draft as the model saw it beforehand",
        "date": date.isoformat(),
        "world": restrict_world(world, states),
        "calibration": calibration.model_dump(mode="json"),
        "resolution": {
            "title": title,
            "target": target,
            "sponsors": ["EU", "JPN"],
            "clauses": {"icc_referral": False},
            "stages": ["plenary"],
        },
        "procedure": {"no_action_motion": {"move": "never"}, "amendment": {"move": "never"}},
        "actors": {
            "target": {"strategies": []},
            "sponsors": {"lobbying": {"budget": 0}},
            "allies": {"members": [], "patrons": [], "counter_lobbying": {"budget": 0}},
        },
        "simulation": {
            "runs": runs,
            "seed": seed,
            "rounds": {"third_committee": 0, "plenary": 0, "security_council": 0},
        },
    }
    return scenario_from_dict(raw, source=f"<{name}>")


def _groups(world: World) -> pd.Series:
    return pd.Series({s.iso3: s.group for s in world.states}, name="group")


def _engine() -> Callable[..., Any]:
    try:
        from unsim.engine import run
    except ImportError as exc:  # pragma: no cover - the engine ships with the package
        raise InputError(f"the simulation engine is not available: {exc}") from None
    return run


def _scenario_baselines(
    scenario: Scenario, results: Any, data: RealData | None, notes: list[str]
) -> list[Forecast]:
    """The baselines of a scenario's backtest from the DPRK votes recorded before its date (none,
    with a note in ``notes`` saying why, without a date, the data or an earlier vote)."""
    if scenario.date is None:
        notes.append("baselines left out: the scenario has no date to take earlier votes from")
        return []
    try:
        data = data or load_real_data()
    except DataNotFoundError as err:
        notes.append(f"baselines left out: {err}")
        return []
    previous = previous_votes(data, scenario.date)
    if not previous:
        notes.append(f"baselines left out: no recorded DPRK vote before {scenario.date}")
        return []
    cal = scenario.calibration if isinstance(scenario.calibration, Calibration) else None
    positions = absence = None
    if cal is not None:
        positions = pd.Series({c: s.position for c, s in cal.states.items()})
        absence = pd.Series(
            {c: s.absence for c, s in cal.states.items() if s.absence is not None}, dtype=float
        )
    else:
        notes.append("cut_points baseline left out: the scenario has no calibration")
    assert isinstance(scenario.world, World)
    return baseline_forecasts(
        previous,
        scenario.world.codes,
        _groups(scenario.world),
        positions,
        absence,
        draws=max(results.summary.get("runs", 2000), 1000),
        seed=results.seed,
    )


def score_scenario(
    scenario: Scenario,
    actual: ActualVote,
    runs: int | None = None,
    seed: int | None = None,
    data: RealData | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Run a scenario and score each stage of ``actual`` that it holds, with the baselines.

    Returns the scores (one row per stage and method) and notes (e.g. why baselines are missing).
    """
    if not isinstance(scenario.world, World):
        raise InputError("the scenario's world is not loaded")
    run = _engine()
    results = run(scenario, runs=runs, seed=seed, workers=1)
    notes: list[str] = []
    baselines = _scenario_baselines(scenario, results, data, notes)
    rows = []
    for stage in actual.stages:
        held = results.per_state[results.per_state["stage"] == stage]
        if held.empty:
            notes.append(f"{stage}: the scenario never held this stage in its runs; not scored")
            continue
        votes = actual.votes.get(stage)
        tallies = actual.tallies.get(stage)
        for f in [forecast_from_results(results, stage), *baselines]:
            rows.append({"stage": stage, **score(f, votes, tallies)})
    if not rows:
        raise InputError(
            f"{actual.source}: none of its stages ({', '.join(actual.stages)}) was held in the "
            "scenario's runs"
        )
    return pd.DataFrame(rows), notes


# --------------------------------------------------------------------------------------------
# Time split of any series
# --------------------------------------------------------------------------------------------
#: Methods of the series time split, as named in its JSON.
SERIES_METHODS = ("unsim", "last_vote", "cutpoints", "all_yes")
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
    with the series' baselines. Returns ``{"series", "years": [...], "mean": {...}}``."""
    from unsim.calibration.series import find_series
    from unsim.calibration.seriescal import series_votes

    data = data or load_real_data()
    w = world if isinstance(world, World) else load_world(world or DEFAULT_WORLD)
    code = series.upper()
    found = find_series(data.roll_calls, code, data.votes, data.members, match=match)
    used = found.used.reset_index(drop=True)
    wanted = set(years) if years is not None else None
    targets = [
        k
        for k in range(1, len(used))
        if (
            pd.Timestamp(used.loc[k, "date"]).year in wanted
            if wanted is not None
            else pd.Timestamp(used.loc[k, "date"]).year >= since
        )
    ]
    if not targets:
        raise InputError(f"no recorded vote of the {code} series to forecast in those years")
    dates = [pd.Timestamp(used.loc[k, "date"]).date() for k in targets]
    all_votes = series_votes(data.votes, data.members, used)
    job = _SeriesJob(data, w, code, match, config, seed, runs, used, all_votes)
    rows = _run_votes(job, list(zip(targets, dates, strict=True)), workers, progress)
    mean = {
        m: {
            key: float(np.mean([r[m][key] for r in rows]))
            for key in ("accuracy", "brier", "logloss", "coverage50", "coverage90")
        }
        for m in SERIES_METHODS
    }
    return {"series": code, "runs": runs, "seed": seed, "years": rows, "mean": mean}


def _run_votes(
    job: _SeriesJob,
    tasks: list[tuple[int, dt.date]],
    workers: int,
    progress: Callable[[str], None] | None,
) -> list[dict[str, Any]]:
    """Each vote of the time split refitted, forecast and scored (``workers`` at a time)."""
    if workers > 1 and len(tasks) > 1:
        from concurrent.futures import ProcessPoolExecutor

        if progress:
            progress(
                f"{job.code}: {len(tasks)} votes, each refitted and forecast, {workers} at a time"
            )
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_set_series_job, initargs=(job,)
        ) as pool:
            return list(pool.map(_series_vote_in_worker, tasks))
    rows = []
    for task in tasks:
        if progress:
            progress(f"{job.code} {task[1]}: calibrating on data before it, forecasting")
        rows.append(_series_vote(job, *task))
    return rows


@dataclass(frozen=True)
class _SeriesJob:
    """What every vote of a series time split needs (shared by the worker processes)."""

    data: RealData
    world: World
    code: str
    match: str | None
    config: IdealPointConfig | None
    seed: int
    runs: int
    used: pd.DataFrame
    all_votes: Any


_JOB: list[_SeriesJob] = []


def _set_series_job(job: _SeriesJob) -> None:
    _JOB[:] = [job]


def _series_vote_in_worker(task: tuple[int, dt.date]) -> dict[str, Any]:
    return _series_vote(_JOB[0], *task)


def _series_vote(job: _SeriesJob, k: int, date: dt.date) -> dict[str, Any]:
    """Forecast vote ``k`` of the series (on ``date``) from data before it, and score it."""
    from unsim.calibration.seriescal import build_series_calibration, calibrate_series

    data, w, code, runs, seed = job.data, job.world, job.code, job.runs, job.seed
    all_votes = job.all_votes
    run = _engine()
    groups = _groups(w)
    rcid = int(job.used.loc[k, "rcid"])
    sc = calibrate_series(
        data.votes, data.roll_calls, data.members, code, date, job.match, job.config, seed
    )
    cal = build_series_calibration(sc, f"{code.lower()}_before_{date}", {"before": str(date)})
    actual = all_votes.letters[rcid].dropna()
    states = [c for c in actual.index if c in w.index]
    if code not in states:
        states.append(code)  # the target is in the world even if its vote is not recorded
    scenario = series_backtest_scenario(w, cal, states, date, code, runs, seed)
    results = run(scenario, runs=runs, seed=seed, workers=1)
    forecasts = [forecast_from_results(results, "plenary", "unsim")]
    previous = [all_votes.letters[r].dropna() for r in all_votes.rcids[:k]]
    forecasts += [
        f
        for f in baseline_forecasts(
            previous, states, groups, sc.ideal.positions, sc.absence, draws=runs, seed=seed
        )
        if f.method in _BASELINE_NAMES
    ]
    votes = actual.reindex([c for c in states if c in actual.index])
    tallies = tally_counts(votes)
    entry: dict[str, Any] = {
        "year": date.year,
        "date": str(date),
        "rcid": rcid,
        "n_states": len(votes),
        "recorded": tallies,
        "specification": sc.fit.spec.name,
        "warnings": sc.warnings,
    }
    for f in forecasts:
        s = score(f, votes, tallies)
        n = max(int(s.get("tallies_checked", 4)), 1)
        entry[_BASELINE_NAMES.get(f.method, f.method)] = {
            "accuracy": s["accuracy"],
            "brier": s["brier"],
            "logloss": s["log_loss"],
            "coverage50": s["in50"] / n,
            "coverage90": s["in90"] / n,
            "median": {t: s.get(f"{t}_median") for t in ("yes", "no", "abstain", "absent")},
        }
    return entry


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
