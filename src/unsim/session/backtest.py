"""The backtest of whole sessions (``unsim backtest --session 2008-2013``).

For each General Assembly session in the range in which the plenary recorded votes on two or
more of the country-specific human-rights series (``calibration.series.COMPARABLE``, found by
``find_series``; each series' first such vote in the session), everything is fitted on the data
dated strictly before the session's first such vote, the cut:

- each draft is built as the single-draft time split builds it (``calibration.timesplit``: a
  plenary-only draft on the series' target, the states recorded at the vote), its calibration
  fitted on the data before the cut (not before its own vote);
- the linkage (the vote copula's rho and the session shock's sd) is estimated on the sessions
  before the cut (``session.calibrate``, ``session.estimate``), as ``calibrate
  --session-linkage --before CUT`` would;
- the drafts run together as a session (``session.run``).

:func:`forecast_session` sees only the data it is given; :func:`session_backtest` hands it the
data cut at the session's first vote (:func:`data_before`), and reads the recorded votes only to
score. The scores: each draft's per-state forecast (accuracy, Brier, log loss, as the time split
scores them) next to the single-draft time split's forecast of the same vote
(``timesplit.forecast_vote``: calibrated on the data before that vote, run alone) and to the
same drafts as the session calibrated them run unlinked (``alone_at_cut``: alone, with the
information a forecaster had at the session's cut), and the joint coverage of the yes tallies
(:func:`joint_coverage`).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from unsim.calibration.backtest import forecast_from_results, score, tally_counts
from unsim.calibration.validation import RealData
from unsim.errors import InputError
from unsim.scenario.schema import Scenario, World
from unsim.scenario.session import Linkage, LinkageSd, Session
from unsim.session.load import LoadedSession
from unsim.session.run import SessionResults

#: Nothing dated on or after this is read.
LAST_DATE = dt.date(2014, 11, 18)
#: The tallies' interval, as the time split's (``backtest.INTERVALS['90']``).
LEVEL = (0.05, 0.95)
SCORES = ("accuracy", "brier", "logloss")
#: each draft scored in the session (linked), alone as the time split (calibrated before its
#: own vote) and alone at the session's cut (the session's drafts, unlinked)
HOWS = ("session", "alone", "alone_at_cut")
#: the linkage off: each draft of a session gives what it gives alone
UNLINKED = Linkage(
    state_factor=LinkageSd(sd=0.0, source="off"), session_shock=LinkageSd(sd=0.0, source="off")
)


@dataclass(frozen=True)
class HeldOutDraft:
    """A recorded plenary vote of a series, forecast as a draft of its session."""

    iso3: str
    rcid: int
    date: dt.date
    states: tuple[str, ...]  #: the states the draft's world holds (those recorded, the target)

    @property
    def name(self) -> str:
        """The draft's name in its session: the target's ISO3 in lower case."""
        return self.iso3.lower()


def data_before(data: RealData, cut: dt.date) -> RealData:
    """The data with only the roll calls dated before ``cut`` (and their votes)."""
    rc = data.roll_calls[pd.to_datetime(data.roll_calls["date"]) < pd.Timestamp(cut)]
    votes = data.votes[data.votes["rcid"].isin(rc["rcid"])]
    return RealData(votes, rc, data.members)


def held_out_sessions(data: RealData, sessions: Iterable[int]) -> dict[int, pd.DataFrame]:
    """Each session of ``sessions`` with recorded plenary votes on two or more series that
    had one in an earlier session (as the time split, which forecasts a vote from the series'
    earlier ones): the first vote of each in it (iso3, rcid, session, date), oldest first."""
    from unsim.session.calibrate import series_roll_calls

    found = series_roll_calls(data.roll_calls, data.votes, data.members, LAST_DATE)
    first = found.groupby("iso3")["session"].min()
    out = {}
    for s in sessions:
        rows = found[found["session"] == s].sort_values(["date", "rcid"])
        rows = rows[rows["iso3"].map(first) < s]
        rows = rows.drop_duplicates("iso3").reset_index(drop=True)
        if len(rows) >= 2:
            out[int(s)] = rows
    return out


def recorded_letters(data: RealData, rows: pd.DataFrame) -> pd.DataFrame:
    """(ISO3 x rcid) the recorded letters (Y, N, A, X) of the votes in ``rows``."""
    from unsim.calibration.seriescal import series_votes

    return series_votes(data.votes, data.members, rows).letters


def held_out_drafts(rows: pd.DataFrame, letters: pd.DataFrame, world: World) -> list[HeldOutDraft]:
    """The drafts of a session: each vote's states as the time split takes them (those with a
    recorded vote and in the world, and the target)."""
    out = []
    for r in rows.itertuples():
        recorded = letters[int(r.rcid)].dropna()
        states = [c for c in recorded.index if c in world.index]
        if r.iso3 not in states:
            states.append(str(r.iso3))
        out.append(
            HeldOutDraft(str(r.iso3), int(r.rcid), pd.Timestamp(r.date).date(), tuple(states))
        )
    return out


def session_linkage(data: RealData, cut: dt.date, seed: int) -> tuple[Linkage, dict[str, Any]]:
    """The linkage estimated on the sessions before ``cut`` (``calibrate --session-linkage``)."""
    from unsim.session.calibrate import (
        LINKAGE_FORM,
        build_linkage_file,
        series_roll_calls,
        session_votes,
    )
    from unsim.session.estimate import estimate_linkage

    found = series_roll_calls(data.roll_calls, data.votes, data.members, cut)
    sessions = session_votes(data.votes, data.members, found, cut)
    if len(sessions) < 2:
        raise InputError(
            f"the linkage before {cut}: {len(sessions)} earlier sessions with two or more recorded "
            "country human-rights votes; at least 2 are needed"
        )
    est = estimate_linkage(sessions, seed=seed, form=LINKAGE_FORM)
    command = f"unsim calibrate --session-linkage --before {cut}"
    link = build_linkage_file(est, "backtest", cut, {}, sessions, command)
    return link.linkage, {
        **link.fit,
        "state_factor_sd": link.linkage.state_factor.sd,
        "session_shock_sd": link.linkage.session_shock.sd,
        "vote_copula_rho": est.copula_rho,
    }


def draft_scenarios(
    data: RealData,
    world: World,
    drafts: Sequence[HeldOutDraft],
    cut: dt.date,
    runs: int,
    seed: int,
) -> dict[str, Scenario]:
    """Each draft as the time split builds it, calibrated on the data before ``cut``."""
    from unsim.calibration.seriescal import build_series_calibration, calibrate_series
    from unsim.calibration.timesplit import series_backtest_scenario

    out = {}
    for d in drafts:
        sc = calibrate_series(
            data.votes, data.roll_calls, data.members, d.iso3, cut, None, None, seed
        )
        cal = build_series_calibration(sc, f"{d.name}_before_{cut}", {"before": str(cut)})
        out[d.name] = series_backtest_scenario(world, cal, d.states, d.date, d.iso3, runs, seed)
    return out


def run_drafts(
    scenarios: dict[str, Scenario], world: World, linkage: Linkage, runs: int, seed: int, name: str
) -> SessionResults:
    """The drafts run together as a session on ``linkage``."""
    from unsim.session.run import run_session

    session = Session.model_validate(
        {
            "name": name,
            "world": world,
            "drafts": {n: f"<{n}>" for n in scenarios},
            "linkage": linkage,
            "simulation": {"runs": runs, "seed": seed},
        },
        context={"world": world},
    )
    loaded = LoadedSession(session, dict(scenarios), dict.fromkeys(scenarios), f"<{name}>")
    return run_session(loaded, runs=runs, seed=seed, workers=1)


def forecast_session(
    data: RealData,
    world: World,
    drafts: Sequence[HeldOutDraft],
    cut: dt.date,
    runs: int,
    seed: int,
    linkage: Linkage | None = None,
    keep: dict[str, Scenario] | None = None,
) -> tuple[SessionResults, dict[str, Any]]:
    """The session's forecast from ``data`` (which the caller cuts at ``cut``): the drafts
    calibrated and the linkage estimated (unless given) on the data before ``cut`` (the
    drafts as calibrated put in ``keep``, if given)."""
    if linkage is None:
        linkage, fit = session_linkage(data, cut, seed)
    else:
        fit = {
            "state_factor_sd": linkage.state_factor.sd,
            "session_shock_sd": linkage.session_shock.sd,
            "given": True,
        }
    scenarios = draft_scenarios(data, world, drafts, cut, runs, seed)
    if keep is not None:
        keep.update(scenarios)
    name = f"backtest_{cut.isoformat()}"
    return run_drafts(scenarios, world, linkage, runs, seed, name), fit


def yes_interval(x: NDArray[Any]) -> tuple[float, float]:
    """The 90 % interval of simulated tallies, as the time split takes it."""
    lo = float(np.quantile(x, LEVEL[0], method="lower"))
    hi = float(np.quantile(x, LEVEL[1], method="higher"))
    return lo, hi


def joint_coverage(
    table: pd.DataFrame, names: Sequence[str], recorded: dict[str, int] | None = None
) -> dict[str, dict[str, Any]]:
    """For each pair of drafts in the session's run table: the share of runs in which both
    drafts' plenary yes tallies fall inside their own 90 % intervals (``claimed``), each
    draft's share alone (``marginal_a``, ``marginal_b``, their ``product``), and with the
    recorded tallies whether both fall inside (``observed``)."""
    out = {}
    for a, b in combinations(names, 2):
        held = table[f"{a}.plenary_held"].to_numpy(bool) & table[f"{b}.plenary_held"].to_numpy(bool)
        ya = table[f"{a}.plenary_yes"].to_numpy()[held]
        yb = table[f"{b}.plenary_yes"].to_numpy()[held]
        (la, ha), (lb, hb) = yes_interval(ya), yes_interval(yb)
        ina, inb = (ya >= la) & (ya <= ha), (yb >= lb) & (yb <= hb)
        entry: dict[str, Any] = {
            "interval_a": [la, ha],
            "interval_b": [lb, hb],
            "claimed": float((ina & inb).mean()),
            "marginal_a": float(ina.mean()),
            "marginal_b": float(inb.mean()),
            "product": float(ina.mean() * inb.mean()),
            "runs": int(held.sum()),
        }
        if recorded is not None:
            entry["recorded"] = [recorded[a], recorded[b]]
            entry["observed"] = bool(la <= recorded[a] <= ha and lb <= recorded[b] <= hb)
        out[f"{a}~{b}"] = entry
    return out


def _scores(forecast: Any, votes: pd.Series, tallies: dict[str, int]) -> dict[str, Any]:
    s = score(forecast, votes, tallies)
    return {
        "accuracy": s["accuracy"],
        "brier": s["brier"],
        "logloss": s["log_loss"],
        "yes_median": s.get("yes_median"),
        "yes_in90": bool(s.get("yes_in90")),
    }


def alone_scores(
    data: RealData, world: World, d: HeldOutDraft, runs: int, seed: int
) -> dict[str, Any]:
    """The single-draft time split's forecast of the draft's vote, scored."""
    from unsim.calibration.timesplit import forecast_vote, series_job

    job = series_job(data, world, d.iso3, runs=runs)
    k = [int(r) for r in job.used["rcid"]].index(d.rcid)
    m = forecast_vote(job, k, [seed])[seed]["unsim"]
    return {
        "accuracy": m["accuracy"],
        "brier": m["brier"],
        "logloss": m["logloss"],
        "yes_median": m["median"]["yes"],
        "yes_in90": bool(m["in90"]["yes"]),
    }


def score_session(
    res: SessionResults,
    drafts: Sequence[HeldOutDraft],
    letters: pd.DataFrame,
) -> tuple[dict[str, Any], dict[str, int]]:
    """Each draft's scores in the session, and the recorded yes tallies."""
    out, yes = {}, {}
    for d in drafts:
        actual = letters[d.rcid].dropna()
        votes = actual.reindex([c for c in d.states if c in actual.index])
        tallies = tally_counts(votes)
        forecast = forecast_from_results(res.drafts[d.name], "plenary", "session")
        out[d.name] = {"recorded": tallies, **_scores(forecast, votes, tallies)}
        yes[d.name] = int(tallies["yes"])
    return out, yes


def backtest_one(
    data: RealData,
    world: World,
    session: int,
    rows: pd.DataFrame,
    runs: int,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """One held-out session forecast from the data before its first vote, and scored."""
    t0 = time.perf_counter()
    letters = recorded_letters(data, rows)
    drafts = held_out_drafts(rows, letters, world)
    cut = min(d.date for d in drafts)
    if progress:
        names = ", ".join(d.iso3 for d in drafts)
        progress(f"session {session}: {names}; calibrating on the data before {cut}")
    scenarios: dict[str, Scenario] = {}
    res, fit = forecast_session(
        data_before(data, cut), world, drafts, cut, runs, seed, None, scenarios
    )
    scores, yes = score_session(res, drafts, letters)
    # the same drafts, calibrated at the same cut, unlinked: each as it runs alone
    unlinked = run_drafts(scenarios, world, UNLINKED, runs, seed, f"alone_{cut.isoformat()}")
    at_cut, _ = score_session(unlinked, drafts, letters)
    for d in drafts:
        if progress:
            progress(f"  {d.iso3} {d.date}: the single-draft time split")
        scores[d.name] = {
            "iso3": d.iso3,
            "date": str(d.date),
            "rcid": d.rcid,
            "session": scores[d.name],
            "alone": alone_scores(data, world, d, runs, seed),
            "alone_at_cut": {k: v for k, v in at_cut[d.name].items() if k != "recorded"},
        }
    return {
        "session": session,
        "year": 1945 + session,
        "cut": str(cut),
        "linkage": fit,
        "drafts": scores,
        "pairs": joint_coverage(res.table, [d.name for d in drafts], yes),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean scores over every draft (in the session, alone) and the joint coverage over every
    pair: the share observed, the mean claimed rate and the mean product of the marginals."""
    drafts = [d for r in rows for d in r["drafts"].values()]
    pairs = [p for r in rows for p in r["pairs"].values()]
    mean: dict[str, Any] = {}
    for how in HOWS:
        mean[how] = {k: float(np.mean([d[how][k] for d in drafts])) for k in SCORES}
        mean[how]["yes_in90"] = float(np.mean([d[how]["yes_in90"] for d in drafts]))
    observed = sum(p["observed"] for p in pairs)
    return {
        "drafts": len(drafts),
        "pairs": len(pairs),
        "mean": mean,
        "joint": {
            "observed": observed,
            "observed_rate": observed / len(pairs) if pairs else math.nan,
            "claimed": float(np.mean([p["claimed"] for p in pairs])) if pairs else math.nan,
            "product": float(np.mean([p["product"] for p in pairs])) if pairs else math.nan,
        },
    }


def session_backtest(
    years: Iterable[int],
    data: RealData,
    world: World,
    runs: int = 2000,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every held-out session of ``years`` (the sessions opening in them) forecast and scored:
    ``{"runs", "seed", "sessions": [...], "summary": {...}}``."""
    data = data_before(data, LAST_DATE)
    sessions = held_out_sessions(data, [y - 1945 for y in years])
    if not sessions:
        raise InputError(
            "no session in those years has recorded plenary votes on two or more country "
            "human-rights series"
        )
    t0 = time.perf_counter()
    rows = [backtest_one(data, world, s, r, runs, seed, progress) for s, r in sessions.items()]
    return {
        "runs": runs,
        "seed": seed,
        "sessions": rows,
        "summary": summarise(rows),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _fmt(s: dict[str, Any]) -> str:
    yes = "in" if s["yes_in90"] else "out"
    return (
        f"{s['accuracy']:.3f} | {s['brier']:.3f} | {s['logloss']:.3f} | {s['yes_median']:.0f} {yes}"
    )


def session_backtest_markdown(result: dict[str, Any]) -> str:
    """The session backtest as markdown: per draft, per pair, then the means."""
    lines = [
        f"Sessions backtest: {len(result['sessions'])} sessions, {result['runs']} runs, seed "
        f"{result['seed']}; each draft in its session (calibrated before the session's first "
        "vote, linked), alone (the single-draft time split) and alone at the session's cut "
        "(the session's drafts unlinked; in the means)",
        "",
        "| session | draft | recorded yes | in session: accuracy | Brier | log loss | yes median, "
        "90 % PI | alone: accuracy | Brier | log loss | yes median, 90 % PI |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in result["sessions"]:
        for d in r["drafts"].values():
            lines.append(
                f"| {r['session']} ({r['year']}) | {d['iso3']} {d['date']} | "
                f"{d['session']['recorded']['yes']} | {_fmt(d['session'])} | {_fmt(d['alone'])} |"
            )
    lines += [
        "",
        "| session | pair | both recorded yes in their 90 % PI | claimed (runs) | product of "
        "marginals |",
        "|---|---|---|---:|---:|",
    ]
    for r in result["sessions"]:
        for pair, p in r["pairs"].items():
            lines.append(
                f"| {r['session']} | {pair.replace('~', ' & ').upper()} | "
                f"{'yes' if p['observed'] else 'no'} | {p['claimed']:.3f} | {p['product']:.3f} |"
            )
    s = result["summary"]
    lines += [
        "",
        "| mean over drafts | accuracy | Brier | log loss | yes in 90 % PI |",
        "|---|---:|---:|---:|---:|",
    ]
    for how, m in s["mean"].items():
        lines.append(
            f"| {how} | {m['accuracy']:.3f} | {m['brier']:.3f} | {m['logloss']:.3f} | "
            f"{m['yes_in90']:.0%} |"
        )
    j = s["joint"]
    lines += [
        "",
        f"Joint coverage over {s['pairs']} pairs: both yes tallies inside in {j['observed']} "
        f"({j['observed_rate']:.0%}); the model claims {j['claimed']:.1%} (the product of the "
        f"marginals {j['product']:.1%})",
    ]
    return "\n".join(lines)
