"""Out-of-sample validation: forecasts of recorded votes the model never saw.

The real data, and the scenario a time split forecasts (:func:`backtest_scenario`: the 2014
world restricted to the states that were members at a vote, a plenary-only draft with no ICC
language, no response strategies, no lobbying and no diplomatic rounds); the time split itself
is :mod:`.timesplit`.

Backtest of a scenario. ``python -m unsim backtest SCENARIO.yaml --actual FILE`` runs the scenario
and scores each stage the file records; the baselines come from the DPRK plenary votes recorded
before the scenario's date, with the positions of its calibration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from unsim.calibration.backtest import (
    ActualVote,
    Forecast,
    baseline_forecasts,
    forecast_from_results,
    score,
)
from unsim.calibration.calibrate import TARGET, recorded_votes
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
from unsim.scenario import Calibration, Scenario, World, scenario_from_dict

__all__ = [
    "DEFAULT_WORLD",
    "RealData",
    "backtest_scenario",
    "engine_run",
    "load_real_data",
    "previous_votes",
    "restrict_world",
    "score_scenario",
    "world_groups",
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
        """The recorded plenary votes on human rights in the DPRK, oldest first."""
        return dprk_plenary_roll_calls(self.roll_calls)


def load_real_data(data_dir: str | Path | None = None) -> RealData:
    """Read the real UN data (votes, roll calls, member states) from ``data_dir`` or the default
    folder."""
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
    """The world as a mapping, keeping only the states in ``codes`` (and their seats in blocs and
    other bodies)."""
    keep = set(codes)
    raw = world.model_dump(mode="json")
    raw["states"] = [s for s in raw["states"] if s["iso3"] in keep]
    blocs = {}
    for name, bloc in raw["blocs"].items():
        members = [c for c in bloc["members"] if c in keep]
        if members:
            blocs[name] = {**bloc, "members": members}
    raw["blocs"] = blocs
    bodies = {}
    for name, body in raw.get("memberships", {}).items():
        members = [c for c in body["members"] if c in keep]
        if members:
            bodies[name] = {**body, "members": members}
    raw["memberships"] = bodies
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


def world_groups(world: World) -> pd.Series:
    """Each state's UN regional group, by ISO3 code."""
    return pd.Series({s.iso3: s.group for s in world.states}, name="group")


def engine_run() -> Callable[..., Any]:
    """The engine's ``run``; a clear error if the engine cannot be imported."""
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
        world_groups(scenario.world),
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
    run = engine_run()
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
