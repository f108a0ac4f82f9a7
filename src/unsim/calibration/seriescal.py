"""Calibrating the model to any resolution series (``unsim calibrate --series ISO3``).

Positions from the ideal-point estimate on the window before the cut (:mod:`.idealpoint`); the
series' recorded plenary votes found in the roll calls (:mod:`.series`); the vote model fitted to
them and its specification chosen out of sample (:mod:`.seriesfit`); absences fitted on the
series and the comparable high-profile votes. The result is a
:class:`~unsim.scenario.schema.Calibration`: per-state ``position``, ``absence`` and ``record``,
the global ``behaviour`` and the fit's ``uncertainty`` that the engine draws per run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from unsim import __version__
from unsim.calibration.idealcache import cached_ideal_points
from unsim.calibration.idealpoint import IdealPointConfig, IdealPoints
from unsim.calibration.series import (
    COMPARABLE,
    SeriesRollCalls,
    comparable_roll_calls,
    find_series,
)
from unsim.calibration.seriesabsence import fit_absence, select_absence, series_absence
from unsim.calibration.seriesfit import (
    SPECS,
    SeriesFit,
    SeriesVotes,
    Spec,
    fit_series,
    select_spec,
    state_records,
)
from unsim.calibration.serieshabit import last_votes, select_habit, with_habit
from unsim.calibration.seriespool import pooled_fit
from unsim.calibration.seriesstate import select_offset_sd, with_offsets
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
    groups = members.set_index("iso3")["un_regional_group"]
    warnings: list[str] = []
    if len(in_window) < FEW_VOTES:
        warnings.append(
            f"the series has {len(in_window)} recorded vote(s) in the window (fewer than "
            f"{FEW_VOTES}): its estimates are weak"
        )
    context = _Context(votes, roll_calls, members, code, cut, first_session, ideal, groups)
    fit, table = _fit_vote_model(context, sv, select, warnings)
    data_last = pd.Timestamp(votes["date"].max())
    if (cut - data_last).days > 365:
        warnings.append(
            f"the forecast date {cut.date()} is more than a year past the data's last roll "
            f"call ({data_last.date()})"
        )
    absence, info = _absences(context, sv)
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
    )


def _absences(c: _Context, sv: SeriesVotes) -> tuple[pd.Series, dict[str, Any]]:
    """Absence rates: the series and the comparable high-profile votes in the window."""
    votes = c.votes
    comparable = comparable_roll_calls(c.roll_calls, votes, before=c.cut)
    comparable = sorted(set(comparable) | set(sv.rcids))
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


def _fit_vote_model(
    c: _Context, sv: SeriesVotes, select: bool, warnings: list[str]
) -> tuple[SeriesFit, list[dict[str, Any]]]:
    """The series' vote model: its specification and the states' offsets chosen out of sample
    (:mod:`.seriesfit`, :mod:`.seriesstate`), fitted on its own votes or, with too few,
    borrowed from the comparable series; the choices' table."""
    positions, groups = c.ideal.positions, c.groups
    fits: dict[tuple[Spec, int], SeriesFit] = {}
    spec, table = select_spec(sv, positions, groups, fits=fits) if select else (SPECS[2], [])
    n = len(sv.rcids)
    lenders = _lenders(c) if n < OWN_OFFSETS_MIN_VOTES else []
    if n >= BORROW_BELOW:
        fit = fit_series(sv, positions, groups, spec)
        warnings += fit.warnings
    else:
        fit = pooled_fit(
            [fit_series(lv, positions, groups, spec) for _, lv in lenders], c.cut, spec
        )
        warnings.append(
            f"{n} recorded vote(s) of the series: the record and position weights, band and "
            f"level are borrowed from the comparable series {', '.join(k for k, _ in lenders)}"
        )
    if not select:
        return fit, table
    if n >= OWN_OFFSETS_MIN_VOTES:
        sd, rows = select_offset_sd(sv, positions, groups, spec, fits=fits)
        h, h_se, row = select_habit(sv, positions, groups, spec, sd, fits=fits)
    else:
        sd, h, h_se, rows = _borrowed_state_terms(lenders, positions, groups, spec)
        row = {"habit": round(h, 4), "borrowed_from": [k for k, _ in lenders]}
    return with_habit(with_offsets(fit, sv, positions, groups, sd), h, h_se), table + rows + [row]


def _borrowed_state_terms(
    lenders: list[tuple[str, SeriesVotes]], positions: pd.Series, groups: pd.Series, spec: Spec
) -> tuple[float, float, float, list[dict[str, Any]]]:
    """The offsets' sd and the habit (and its standard error) of a series with too few votes:
    each chosen on the comparable series, averaged weighted by their votes."""
    chosen = []
    for _, lv in lenders:
        fits: dict[tuple[Spec, int], SeriesFit] = {}
        sd = select_offset_sd(lv, positions, groups, spec, fits=fits)[0]
        h, se, _ = select_habit(lv, positions, groups, spec, sd, fits=fits)
        chosen.append((sd, h, se, len(lv.rcids)))
    weights = [c[3] for c in chosen]
    sd = float(np.average([c[0] for c in chosen], weights=weights))
    h = float(np.average([c[1] for c in chosen], weights=weights))
    se = float(np.sqrt(np.average([c[2] ** 2 for c in chosen], weights=weights)))
    rows = [{"state_offset_sd": round(sd, 4), "borrowed_from": [k for k, _ in lenders]}]
    return sd, h, se, rows


def _lenders(c: _Context) -> list[tuple[str, SeriesVotes]]:
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
        out.append((other, SeriesVotes(sv.letters.drop(index=other, errors="ignore"), sv.dates)))
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


def _weight_uncertainty(fit: SeriesFit, scale: float) -> dict[str, float | None]:
    """The sds of the position weight and of the record's weight as the engine reads it, and
    their correlation. The record's weight is the record's and the last vote's summed, ``w``;
    the engine's per-state record is their mix (and the offset) divided by ``scale`` (``w`` or
    more), so its weight's sd is ``sd(w)`` in proportion: ``sd(w) * scale / w`` (the offsets
    uncertain in the same proportion)."""
    c = fit.covariance["weights"]
    mixed = ("record_weight", "last_vote_weight") if fit.spec.last else ("record_weight",)
    pos_var = max(c["position_weight"]["position_weight"], 0.0)
    rec_var = max(sum(c[a].get(b, 0.0) for a in mixed for b in mixed), 0.0)
    cross = sum(c["position_weight"].get(b, 0.0) for b in mixed)
    rho = cross / np.sqrt(pos_var * rec_var) if pos_var > 0 and rec_var > 0 else 0.0
    w = sum(fit.params.get(k, 0.0) for k in mixed)
    ratio = scale / w if w > 0 and scale > w else 1.0
    return {
        "position_weight_sd": _r(float(np.sqrt(pos_var))),
        "record_weight_sd": _r(float(np.sqrt(rec_var) * ratio)),
        "weights_correlation": _r(float(np.clip(rho, -1.0, 1.0))),
    }


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
        "habit": _r(p.get("habit", 0.0)),
    }
    uncertainty = {"level_sd": _r(level_sd), "group_shock_sd": _r(p["group_shock_sd"])}
    uncertainty.update(_weight_uncertainty(fit, record_weight))
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
    return Calibration.model_validate(raw)


def series_provenance(
    sc: SeriesCalibration,
    command: str,
    paths: dict[str, Path],
    seed: int,
) -> dict[str, Any]:
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
            "chosen by out-of-sample log loss on the series' later votes; absences on the series "
            "and comparable country human-rights votes, shrunk toward each state's general rate"
        ),
        "window": {"sessions": list(sc.ideal.sessions), "roll_calls": len(sc.ideal.rcids)},
        "ideal_points": sc.ideal.config.as_dict(),
        "seed": seed,
        "software": f"unsim {__version__}",
    }
