"""Calibrating the model to any resolution series (``unsim calibrate --series ISO3``).

Positions from the ideal-point estimate on the window before the cut (:mod:`.idealpoint`); the
series' recorded plenary votes found in the roll calls (:mod:`.series`); the vote model fitted to
them and its specification chosen out of sample (:mod:`.seriesfit`); absences fitted on the
series and the comparable high-profile votes. The result is a
:class:`~unsim.scenario.schema.Calibration`: per-state ``position``, ``absence`` and ``record``,
the global ``behaviour`` and the fit's ``uncertainty`` that the engine draws per run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from unsim import __version__
from unsim.calibration.baselinefeatures import state_table
from unsim.calibration.history import CountryHistory, country_history
from unsim.calibration.idealcache import cached_ideal_points
from unsim.calibration.idealpoint import IdealPointConfig, IdealPoints
from unsim.calibration.series import (
    COMPARABLE,
    SeriesRollCalls,
    comparable_series_of,
    find_series,
)
from unsim.calibration.seriesabsence import (
    ABSENCE_DECAY,
    absence_shock_sd,
    absence_shock_within,
    fit_absence,
    select_absence,
    series_absence,
)
from unsim.calibration.seriesfit import (
    SPECS,
    SeriesFit,
    SeriesVotes,
    Spec,
    fit_series,
    select_spec,
    state_records,
)
from unsim.calibration.seriesgap import GapFit, change_pairs, fit_gap, recorded_series
from unsim.calibration.serieshabit import last_votes, with_habit
from unsim.calibration.seriesmix import (
    MIX_WEIGHTS,
    Source,
    choose_mix,
    pooled_regression,
    with_mix,
)
from unsim.calibration.seriespool import pooled_fit, weight_uncertainty
from unsim.calibration.seriesstate import select_offset_sd, with_offsets
from unsim.calibration.seriesyoung import young_habit
from unsim.calibration.targetvote import TargetVoteFit, fit_target_vote, target_records
from unsim.data import ABSENT, ABSTAIN, NO, NOT_MEMBER, YES
from unsim.errors import InputError
from unsim.scenario.schema import Calibration

__all__ = [
    "FEW_VOTES",
    "SeriesCalibration",
    "build_series_calibration",
    "cached_ideal_points",
    "calibrate_series",
    "series_votes",
]

LETTERS = {YES: "Y", NO: "N", ABSTAIN: "A", ABSENT: "X"}
#: A series with fewer recorded votes than this gets a warning.
FEW_VOTES = 5
#: A series with fewer votes in the window borrows its fit from the comparable series.
BORROW_BELOW = 2
#: Votes in the window a comparable series needs to lend its fit.
LENDER_MIN_VOTES = 3
#: Votes in the window a series needs to choose its states' offsets itself (else borrowed).
OWN_OFFSETS_MIN_VOTES = 3


def series_votes(votes: pd.DataFrame, members: pd.DataFrame, found: pd.DataFrame) -> SeriesVotes:
    """(ISO3 x roll calls) letters of the member states on the roll calls in ``found``."""
    iso = dict(zip(members["cow"].astype(int), members["iso3"].astype(str), strict=True))
    rcids = [int(r) for r in found["rcid"]]
    rows = votes[votes["rcid"].isin(rcids) & (votes["vote"] != NOT_MEMBER)]
    table = pd.DataFrame(
        {
            "iso3": rows["ccode"].map(iso).to_numpy(),
            "rcid": rows["rcid"].to_numpy(),
            "vote": rows["vote"].map(LETTERS).to_numpy(),
        }
    ).dropna(subset=["iso3"])
    letters = table.pivot_table(index="iso3", columns="rcid", values="vote", aggfunc="first")
    letters = letters.reindex(columns=rcids)
    dates = pd.Series(pd.to_datetime(found["date"]).to_numpy(), index=rcids)
    return SeriesVotes(letters, dates)


@dataclass(frozen=True)
class SeriesCalibration:
    """A series' calibration before the cut: ideal points, roll calls, votes, the vote model's
    fit, absences and warnings."""

    iso3: str
    before: pd.Timestamp
    ideal: IdealPoints
    found: SeriesRollCalls
    votes: SeriesVotes
    fit: SeriesFit
    selection: list[dict[str, Any]]
    absence: pd.Series
    absence_info: dict[str, Any]
    data_last_date: pd.Timestamp
    warnings: list[str] = field(default_factory=list)
    #: the target's own vote on its resolution (``calibration.targetvote``); None: it votes no
    target: TargetVoteFit | None = None
    #: the habit's decline with the sessions since the last recorded vote (``seriesgap``)
    gap: GapFit | None = None

    @property
    def sessions_since(self) -> int:
        """Sessions from the series' last recorded vote before the cut to the cut's session
        (the Assembly's session ``n`` opens in September of ``1945 + n``)."""
        cut_session = self.before.year - (1945 if self.before.month >= 9 else 1946)
        return max(cut_session - int(self.found.used["session"].max()), 1)

    @property
    def habit(self) -> float:
        """The fitted habit carried to the forecast's gap (``seriesgap``)."""
        h = float(self.fit.params.get("habit", 0.0))
        return self.gap.habit_at(h, self.sessions_since) if self.gap is not None else h


def calibrate_series(*args: Any, **kwargs: Any) -> SeriesCalibration:
    """:func:`_calibrate_series` with BLAS on one thread (its threads only spin on these small
    problems, and slow down the optimiser several times on a busy machine)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _calibrate_series(*args, **kwargs)


def _calibrate_series(
    votes: pd.DataFrame,
    roll_calls: pd.DataFrame,
    members: pd.DataFrame,
    iso3: str,
    before: dt.date | str,
    match: str | None = None,
    config: IdealPointConfig | None = None,
    seed: int = 0,
    select: bool = True,
) -> SeriesCalibration:
    """Everything fitted on data dated strictly before ``before`` (module docstring)."""
    cut = pd.Timestamp(before)
    code = iso3.upper()
    found = find_series(roll_calls, code, votes, members, match=match, before=cut)
    if found.used.empty:
        raise InputError(
            f"--series {code}: no recorded plenary vote on a human-rights resolution on "
            f"{code} (text matched: {found.pattern!r}) before {cut.date()}; give --match TEXT "
            "to name the country as the roll calls do"
        )
    ideal = cached_ideal_points(votes, cut, members, config, seed)
    first_session = ideal.sessions[0]
    in_window = found.used[found.used["session"] >= first_session]
    if in_window.empty:  # an old series: its last votes, even before the window
        in_window = found.used.tail(FEW_VOTES)
    sv = series_votes(votes, members, in_window)
    sv = SeriesVotes(sv.letters.drop(index=code, errors="ignore"), sv.dates)
    history = country_history(votes, roll_calls, members, cut, code, match)
    groups = members.set_index("iso3")["un_regional_group"]
    warnings: list[str] = []
    if len(in_window) < FEW_VOTES:
        warnings.append(f"the series has {len(in_window)} recorded vote(s) in the window (fewer "
                        f"than {FEW_VOTES}): its estimates are weak")  # fmt: skip
    sessions = [int(s) for s in in_window["session"]]
    context = _Context(votes, roll_calls, members, code, cut, first_session, ideal, groups,
                       history, sessions, len(found.used))  # fmt: skip
    fit, table = _fit_vote_model(context, sv, select, warnings)
    data_last = pd.Timestamp(votes["date"].max())
    if (cut - data_last).days > 365:
        warnings.append(f"the forecast date {cut.date()} is more than a year past the data's "
                        f"last roll call ({data_last.date()})")  # fmt: skip
    absence, info = _absences(context, sv)
    series = recorded_series(votes, roll_calls, members, cut, (*COMPARABLE, code))
    return SeriesCalibration(
        iso3=code,
        before=cut,
        ideal=ideal,
        found=found,
        votes=sv,
        fit=fit,
        selection=table,
        absence=absence,
        absence_info=info,
        data_last_date=data_last,
        warnings=warnings,
        target=fit_target_vote(target_records(series)),
        gap=fit_gap(change_pairs(series)),
    )


def _absences(c: _Context, sv: SeriesVotes) -> tuple[pd.Series, dict[str, Any]]:
    """Absence rates: the series and the comparable high-profile votes in the window."""
    votes = c.votes
    series_of = comparable_series_of(c.roll_calls, before=c.cut)
    series_of.update({int(r): c.code for r in sv.rcids})
    comparable = sorted(series_of)
    sessions = votes.loc[votes["rcid"].isin(comparable), ["rcid", "session"]].drop_duplicates()
    comparable = sessions.loc[sessions["session"] >= c.first_session, "rcid"].astype(int).tolist()
    iso = dict(zip(c.members["cow"].astype(int), c.members["iso3"].astype(str), strict=True))
    rows = votes[votes["rcid"].isin(comparable) & (votes["vote"] != NOT_MEMBER)]
    absent = (
        pd.DataFrame(
            {
                "iso3": rows["ccode"].map(iso).to_numpy(),
                "rcid": rows["rcid"].to_numpy(),
                "absent": (rows["vote"] == ABSENT).to_numpy(),
            }
        )
        .dropna(subset=["iso3"])
        .pivot_table(index="iso3", columns="rcid", values="absent", aggfunc="first")
    )
    session_of = sessions.set_index("rcid")["session"]
    ages = float(session_of.max()) - session_of.astype(float)
    propensity, info = fit_absence(absent, c.ideal.absence, ages=ages)
    own = sv.letters == "X"
    own = own.where(sv.letters.notna())
    own_weights = np.power(ABSENCE_DECAY, ages.reindex(own.columns).fillna(0.0).to_numpy(float))
    sd, shock = absence_shock_within(absent, propensity, pd.Series(series_of), own_weights)
    info["absence_sd_all_votes"] = round(absence_shock_sd(absent, propensity), 4)
    info["absence_sd"] = round(sd, 4)
    info["absence_sd_estimate"] = shock
    pseudo, choice = select_absence(own, propensity, ages)
    absence, own_info = series_absence(own, propensity, ages, pseudo_votes=pseudo)
    return absence, {"comparable": info, "series": own_info, "pseudo_votes_comparison": choice}


@dataclass(frozen=True)
class _Context:
    """The data and estimates a series' calibration shares between its steps."""

    votes: pd.DataFrame
    roll_calls: pd.DataFrame
    members: pd.DataFrame
    code: str
    cut: pd.Timestamp
    first_session: int
    ideal: IdealPoints
    groups: pd.Series
    history: CountryHistory
    sessions: list[int]
    """the sessions of the series' votes in the window"""
    depth: int
    """the series' recorded votes before the cut"""


def _fit_vote_model(
    c: _Context, sv: SeriesVotes, select: bool, warnings: list[str]
) -> tuple[SeriesFit, list[dict[str, Any]]]:
    """The series' vote model: its specification and the states' offsets chosen out of sample
    (:mod:`.seriesfit`, :mod:`.seriesstate`), fitted on its own votes or, with too few,
    borrowed from the comparable series; mixed with the pooled regression and the habit
    (:mod:`.seriesmix`; a young series' habit: :mod:`.seriesyoung`); the choices' table."""
    positions, groups = c.ideal.positions, c.groups
    fits: dict[tuple[Spec, int], SeriesFit] = {}
    spec, table = select_spec(sv, positions, groups, fits=fits) if select else (SPECS[2], [])
    n = len(sv.rcids)
    lenders = _lenders(c) if n < OWN_OFFSETS_MIN_VOTES else []
    if n >= BORROW_BELOW:
        fit = fit_series(sv, positions, groups, spec)
        warnings += fit.warnings
    else:
        lent = [fit_series(lv.votes, positions, groups, spec) for lv in lenders]
        fit = pooled_fit(lent, c.cut, spec)
        warnings.append(
            f"{n} recorded vote(s) of the series: the record and position weights, band and "
            f"level are borrowed from the comparable series {', '.join(lv.code for lv in lenders)}"
        )
    if not select:
        return fit, table
    if n >= OWN_OFFSETS_MIN_VOTES:
        sd, rows = select_offset_sd(sv, positions, groups, spec, fits=fits)
        sources = [Source(c.code, sv, c.sessions, sd, fits)]
    else:
        sd, rows, sources = _borrowed_offsets(lenders, positions, groups, spec)
    regression = pooled_regression(c.history, state_table(c.members), positions, c.code)
    weights = MIX_WEIGHTS if n >= OWN_OFFSETS_MIN_VOTES else (1.0,)
    lam, h, h_se, mix_rows = choose_mix(regression, sources, positions, groups, spec, weights)
    data = (c.votes, c.roll_calls, c.members)
    if n < OWN_OFFSETS_MIN_VOTES and (y := young_habit(regression, data, c.code, c.depth, c.cut)):
        h, h_se, mix_rows = y[0], y[1], [*mix_rows, y[2]]  # the habit at the same age
    fit = with_habit(with_offsets(fit, sv, positions, groups, sd), h, h_se)
    fit = with_mix(fit, regression, sv, positions, c.cut, lam, c.code)
    return fit, table + rows + mix_rows


def _borrowed_offsets(
    lenders: list[Source], positions: pd.Series, groups: pd.Series, spec: Spec
) -> tuple[float, list[dict[str, Any]], list[Source]]:
    """The offsets' sd of a series with too few votes: chosen on each comparable series, averaged
    weighted by their votes; and the comparable series with their own sd, to judge the mix and
    the habit on."""
    sources = []
    for lender in lenders:
        fits: dict[tuple[Spec, int], SeriesFit] = {}
        sd = select_offset_sd(lender.votes, positions, groups, spec, fits=fits)[0]
        sources.append(dataclasses.replace(lender, offset_sd=sd, fits=fits))
    weights = [len(s.votes.rcids) for s in sources]
    sd = float(np.average([s.offset_sd for s in sources], weights=weights))
    rows = [{"state_offset_sd": round(sd, 4), "borrowed_from": [s.code for s in sources]}]
    return sd, rows, sources


def _lenders(c: _Context) -> list[Source]:
    """The comparable series with enough votes in the window to lend their estimates."""
    out = []
    for other in COMPARABLE:
        if other == c.code:
            continue
        found = find_series(c.roll_calls, other, c.votes, c.members, before=c.cut)
        used = found.used[found.used["session"] >= c.first_session]
        if len(used) < LENDER_MIN_VOTES:
            continue
        sv = series_votes(c.votes, c.members, used)
        sv = SeriesVotes(sv.letters.drop(index=other, errors="ignore"), sv.dates)
        out.append(Source(other, sv, [int(s) for s in used["session"]]))
    if not out:
        raise InputError(
            f"the {c.code} series has too few votes before {c.cut.date()} and no comparable "
            "series has enough to borrow from"
        )
    return out


def _r(value: float | None, digits: int = 4) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    out = round(float(value), digits)
    return 0.0 if out == 0 else out


def _diagnostics(sc: SeriesCalibration, level: float) -> dict[str, Any]:
    """The calibration file's diagnostics: the series, window, estimates, choices, warnings."""
    fit, p = sc.fit, sc.fit.params
    per_vote = {}
    for rcid in sc.votes.rcids:
        col = sc.votes.letters[rcid]
        per_vote[int(rcid)] = {
            "date": str(pd.Timestamp(sc.votes.dates[rcid]).date()),
            "recorded": {c: int((col == c).sum()) for c in "YNAX"},
            "fitted_level": _r(fit.levels.get(rcid)) if rcid in fit.levels.index else None,
        }
    diagnostics = {
        "series": {
            "target": sc.iso3,
            "text_matched": sc.found.pattern,
            "roll_calls_used": sc.votes.rcids,
            "roll_calls_found_before_cut": sc.found.rcids,
            "roll_calls_dropped": sc.found.dropped,
        },
        "window": {
            "sessions": list(sc.ideal.sessions),
            "before": str(sc.before.date()),
            "data_last_date": str(sc.data_last_date.date()),
            "last_recorded_vote": str(fit.last_date.date()),
        },
        "specification": fit.spec.name,
        "specification_comparison": sc.selection,
        "estimates": {
            k: {"value": _r(v), "standard_error": _r(fit.standard_errors.get(k))}
            for k, v in p.items()
        },
        "intercept_at_forecast_date": _r(level),
        "log_likelihood": _r(fit.log_likelihood, 3),
        "n_votes": fit.n_votes,
        "n_roll_calls_fitted": fit.n_roll_calls,
        "converged": fit.converged,
        "at_bounds": fit.at_bounds,
        "absence": sc.absence_info,
        "per_vote": per_vote,
        "warnings": sc.warnings,
        "fixed": {
            "vote_noise": "1 (the scale of the latent support)",
            "state_noise": "0 (a state's own deviation is carried by its record)",
        },
        "not_identified": {
            "icc_aversion": "not fitted: the series' recorded drafts carry no ICC language",
            "tie": "the allies' tie terms and bloc effects are not fitted (positions and records "
            "already place the target's friends)",
        },
        "ideal_points": sc.ideal.diagnostics,
    }
    return diagnostics


def build_series_calibration(
    sc: SeriesCalibration, name: str, provenance: dict[str, Any]
) -> Calibration:
    """The calibration file of a series fit: the level carried to the forecast date."""
    fit, p = sc.fit, sc.fit.params
    level, level_sd = fit.level_at(sc.before)
    record, record_weight = state_records(fit, sc.votes.letters)
    behaviour = {
        "intercept": _r(level),
        "position_weight": _r(p["position_weight"]),
        "record_weight": _r(record_weight),
        "abstention_band": _r(p["abstention_band"]),
        "vote_noise": 1.0,
        "state_noise": 0.0,
        "absence": _r(float(sc.absence.mean())),
        "habit": _r(sc.habit),
    }
    uncertainty = {"level_sd": _r(level_sd), "group_shock_sd": _r(p["group_shock_sd"])}
    uncertainty["absence_sd"] = _r(sc.absence_info["comparable"]["absence_sd"])
    uncertainty.update(weight_uncertainty(fit, record_weight))
    states: dict[str, dict[str, float | str | None]] = {}
    last = last_votes(sc.votes.letters)
    for code in sorted(sc.ideal.positions.index):
        states[code] = {
            "position": _r(sc.ideal.positions[code]),
            "absence": _r(sc.absence.get(code, sc.ideal.absence[code])),
            "record": _r(float(record.get(code, 0.0))),
        }
        if isinstance(last.get(code), str):
            states[code]["last_vote"] = last[code]
    diagnostics = _diagnostics(sc, level)
    raw = {
        "schema_version": 1,
        "kind": "calibration",
        "name": name,
        "provenance": provenance,
        "behaviour": behaviour,
        "uncertainty": uncertainty,
        "states": states,
        "diagnostics": diagnostics,
    }
    if sc.gap is not None:
        diagnostics["habit_gap"] = {
            "habit_one_session": _r(p.get("habit", 0.0)),
            "sessions_since_last_vote": sc.sessions_since,
            "habit_carried": _r(sc.habit),
            "change_one_session": _r(sc.gap.change),
            "growth_per_log_session": _r(sc.gap.growth),
            "pairs": {str(g): list(v) for g, v in sc.gap.pairs.items()},
        }
    if sc.target is not None:
        raw["target_vote"] = sc.target.probabilities(sc.iso3)
        diagnostics["target_vote"] = {
            "repeat": _r(sc.target.repeat),
            "repeat_se": _r(sc.target.repeat_se),
            "pooled": {k: _r(v) for k, v in sc.target.pooled.items()},
            "record": "".join(sc.target.records.get(sc.iso3, [])),
            "series": sorted(sc.target.records),
        }
    return Calibration.model_validate(raw)


def series_provenance(
    sc: SeriesCalibration,
    command: str,
    paths: dict[str, Path],
    seed: int,
) -> dict[str, Any]:
    """Where a series calibration came from: command, series, inputs and their SHA-256, cut,
    method, window, seed, version."""
    from unsim.calibration.calibrate import file_sha256

    return {
        "command": command,
        "series": sc.iso3,
        "inputs": {k: Path(v).name for k, v in paths.items()},
        "inputs_sha256": {k: file_sha256(v) for k, v in paths.items()},
        "before": str(sc.before.date()),
        "method": (
            "ordered-logit ideal points on the sessions before the cut; the series' vote model "
            "(per-vote levels, position, the state's record on the series, band) by maximum "
            "likelihood, trend and session / regional-group shocks by moments, specification "
            "chosen by out-of-sample log loss on the series' later votes; each state's support "
            "mixed with a logistic regression pooled over the country human-rights series, the "
            "mix and the habit chosen by likelihood on the series' last votes; absences on the "
            "series and comparable country human-rights votes, shrunk toward each state's general "
            "rate, and their vote-to-vote spread"
        ),
        "window": {"sessions": list(sc.ideal.sessions), "roll_calls": len(sc.ideal.rcids)},
        "ideal_points": sc.ideal.config.as_dict(),
        "seed": seed,
        "software": f"unsim {__version__}",
    }
