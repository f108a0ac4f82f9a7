"""Fitting the model's behaviour parameters to the recorded DPRK human-rights votes.

The vote rule of the model (:mod:`unsim.model.rules`), for a draft without ICC language and a
state that is neither the target nor one of its allies or patrons, is

    support_i = intercept + position_weight * position_i + state_noise * eps_i,  eps_i ~ N(0, 1)
    P(yes | present) = sigmoid((support_i - abstention_band) / vote_noise)
    P(no  | present) = sigmoid((-abstention_band - support_i) / vote_noise)

and the state is absent with probability ``absence_i``. The positions and absence rates come from
the ideal-point estimate on the window before the cut date (:mod:`.idealpoint`). The four global
parameters ``intercept``, ``position_weight``, ``abstention_band >= 0`` and ``state_noise >= 0``
are fitted by maximum likelihood to every recorded plenary vote on a DPRK human-rights resolution
dated before the cut (the target's own votes left out). The recorded resolutions are one item
voted year after year, so a state's deviation ``eps_i`` from what its position predicts is shared
by its votes on them: a random effect, integrated out by Gauss-Hermite quadrature. That is what
identifies ``state_noise`` apart from the logistic vote noise; in the engine each run draws a
fresh ``eps_i``, the uncertainty about a state's deviation on a new vote of the item.
``vote_noise`` is fixed at 1, the scale of the latent support. Absences do not depend on support
in the model, so they add a constant to this likelihood and do not enter the fit.

What these votes cannot identify: the drafts of 2005-2011 had no ICC language, so ``icc_aversion``
(the support a state withdraws from a draft that keeps it) is not fitted; nor are the allies' and
patrons' ``tie`` terms or the bloc effects, which the recorded votes cannot tell apart from the
positions. The calibration file says so in its diagnostics.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from numpy.typing import NDArray
from scipy import optimize, special

from unsim import __version__
from unsim.atomic import write_text_atomically
from unsim.calibration.idealpoint import IdealPointConfig, IdealPoints, estimate_ideal_points
from unsim.data import ABSENT, ABSTAIN, NO, NOT_MEMBER, YES, dprk_plenary_roll_calls
from unsim.errors import InputError
from unsim.scenario.schema import Calibration

__all__ = [
    "PARAMETERS",
    "TARGET",
    "BehaviourFit",
    "RecordedVotes",
    "build_calibration",
    "calibrate",
    "file_sha256",
    "fit_behaviour",
    "recorded_votes",
    "write_calibration",
]

FloatArray = NDArray[np.float64]

#: The fitted behaviour parameters, in the order of the parameter vector.
PARAMETERS = ("intercept", "position_weight", "abstention_band", "state_noise")
#: The state the DPRK resolutions address (its own votes are not data on the others' behaviour).
TARGET = "PRK"
#: Gauss-Hermite nodes used to integrate a state's run-level deviation.
QUADRATURE_NODES = 24
#: Letters of the recorded votes (Y yes, N no, A abstain, X absent).
LETTERS = {YES: "Y", NO: "N", ABSTAIN: "A", ABSENT: "X"}

ICC_NOTE = (
    "icc_aversion is not fitted: the recorded DPRK drafts of 2005-2011 had no ICC language, so "
    "these votes carry no information on what that language costs; the scenario's value stands"
)
TIE_NOTE = (
    "the allies' and patrons' tie terms and bloc effects are not fitted: the recorded votes cannot "
    "tell them apart from the positions, which already place the target's friends low"
)


@dataclass(frozen=True)
class RecordedVotes:
    """Recorded votes of states with a position: one row per state and roll call."""

    table: pd.DataFrame
    """columns rcid, date, iso3, vote (Y/N/A/X), position, absence"""

    @property
    def present(self) -> pd.DataFrame:
        return self.table[self.table["vote"] != "X"]


@dataclass(frozen=True)
class BehaviourFit:
    """Maximum-likelihood estimate of the global behaviour parameters."""

    params: dict[str, float]
    standard_errors: dict[str, float | None]
    log_likelihood: float
    n_votes: int
    converged: bool
    starts: int
    deviation_mean: pd.Series
    """posterior mean of each state's ``eps`` given its recorded votes (by ISO3)"""
    deviation_sd: pd.Series
    """posterior sd of each state's ``eps``"""


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Data for the fit
# --------------------------------------------------------------------------------------------
def recorded_votes(
    votes: pd.DataFrame,
    members: pd.DataFrame,
    rcids: Sequence[int],
    ideal: IdealPoints | None = None,
) -> RecordedVotes:
    """Votes of member states on the given roll calls as letters, with positions if given."""
    iso = dict(zip(members["cow"].astype(int), members["iso3"].astype(str), strict=True))
    rows = votes[votes["rcid"].isin(list(rcids)) & (votes["vote"] != NOT_MEMBER)]
    table = pd.DataFrame(
        {
            "rcid": rows["rcid"].to_numpy(),
            "date": rows["date"].to_numpy(),
            "iso3": rows["ccode"].map(iso).to_numpy(),
            "vote": rows["vote"].map(LETTERS).to_numpy(),
        }
    )
    table = table[table["iso3"].notna()]
    if ideal is not None:
        table["position"] = table["iso3"].map(ideal.positions)
        table["absence"] = table["iso3"].map(ideal.absence)
        table = table[table["position"].notna()]
    return RecordedVotes(table.sort_values(["rcid", "iso3"]).reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# The likelihood
# --------------------------------------------------------------------------------------------
def _category_probabilities(support: FloatArray, band: float) -> tuple[FloatArray, ...]:
    """P(yes), P(no), P(abstain) given presence, at vote_noise 1 (the engine's rule)."""
    p_yes = special.expit(support - band)
    p_no = special.expit(-band - support)
    return p_yes, p_no, np.clip(1.0 - p_yes - p_no, 0.0, 1.0)


def _quadrature() -> tuple[FloatArray, FloatArray]:
    """Nodes and log-weights of Gauss-Hermite quadrature for a standard normal."""
    x, w = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
    return np.sqrt(2.0) * x, np.log(w / np.sqrt(np.pi))


@dataclass(frozen=True)
class _FitData:
    position: FloatArray
    years: FloatArray
    """years from the last recorded vote (0 for it, negative before)"""
    category: NDArray[np.int8]
    """0 yes, 1 no, 2 abstain (rows sorted by state)"""
    starts: NDArray[np.intp]
    """first row of each state"""
    states: NDArray[np.str_]
    nodes: FloatArray
    log_weights: FloatArray


def _fit_data(recorded: RecordedVotes) -> _FitData:
    data = recorded.present.sort_values(["iso3", "rcid"], kind="stable")
    codes = data["iso3"].to_numpy()
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    nodes, log_weights = _quadrature()
    return _FitData(
        position=data["position"].to_numpy(dtype=np.float64),
        years=_years_before_last(data["date"], recorded.table["date"]),
        category=data["vote"].map({"Y": 0, "N": 1, "A": 2}).to_numpy(dtype=np.int8),
        starts=starts,
        states=codes[starts],
        nodes=nodes,
        log_weights=log_weights,
    )


def _years_before_last(dates: pd.Series, all_dates: pd.Series) -> FloatArray:
    """Years from the last recorded vote (0 for it, negative before)."""
    last = pd.Timestamp(pd.to_datetime(all_dates).max())
    days = (pd.to_datetime(dates) - last).dt.days.to_numpy(dtype=np.float64)
    return days / 365.25  # type: ignore[no-any-return]


def _log_joint(theta: FloatArray, data: _FitData) -> FloatArray:
    """(states, nodes) log of weight x likelihood of each state's votes at each node of eps.

    ``theta``: intercept, position_weight, abstention_band, state_noise and, when the support
    trends over the years, ``trend`` (per year; the intercept is then the level at the last
    recorded vote)."""
    intercept, slope, band, noise = theta[:4]
    level = intercept + (theta[4] * data.years if len(theta) > 4 else 0.0)
    support = (level + slope * data.position)[:, None] + noise * data.nodes[None, :]
    probs = _category_probabilities(support, band)
    chosen = np.choose(data.category[:, None], probs)  # (votes, nodes)
    log_chosen = np.log(np.maximum(chosen, 1e-300))
    per_state = np.add.reduceat(log_chosen, data.starts, axis=0)
    return per_state + data.log_weights[None, :]  # type: ignore[no-any-return]


def _negative_log_likelihood(theta: FloatArray, data: _FitData) -> float:
    """Minus the log-likelihood, a state's deviation ``eps`` shared by all its recorded votes."""
    return float(-special.logsumexp(_log_joint(theta, data), axis=1).sum())


def _posterior(theta: FloatArray, data: _FitData) -> tuple[pd.Series, pd.Series]:
    """Posterior mean and sd of each state's ``eps`` given its recorded votes."""
    joint = _log_joint(theta, data)
    post = np.exp(joint - special.logsumexp(joint, axis=1, keepdims=True))
    mean = post @ data.nodes
    var = np.maximum(post @ data.nodes**2 - mean**2, 0.0)
    index = pd.Index(data.states, name="iso3")
    return pd.Series(mean, index=index), pd.Series(np.sqrt(var), index=index)


#: Distinct years of recorded votes needed before a trend in support is fitted.
TREND_MIN_YEARS = 3


def fit_behaviour(
    recorded: RecordedVotes, seed: int = 0, starts: int = 4, trend: bool = True
) -> BehaviourFit:
    """Maximum-likelihood ``intercept, position_weight, abstention_band, state_noise``.

    A state's deviation ``state_noise * eps`` is shared by its votes on the recorded resolutions
    (they are the same item, year after year), which is what identifies ``state_noise`` apart
    from the vote noise; ``eps`` is integrated out by Gauss-Hermite quadrature. Multi-start
    L-BFGS-B (bounds: band and noise non-negative); the first start is fixed, the others drawn
    from ``seed``, so the result is deterministic for a seed.
    """
    if recorded.present.empty:
        raise InputError("no recorded (present) votes to calibrate on")
    data = _fit_data(recorded)
    years = pd.to_datetime(recorded.table["date"]).dt.year.nunique()
    with_trend = trend and years >= TREND_MIN_YEARS
    names = (*PARAMETERS, "trend") if with_trend else PARAMETERS
    bounds = [(-10.0, 10.0), (-10.0, 10.0), (0.0, 10.0), (0.0, 10.0)]
    low, high = [-2.0, 0.2, 0.1, 0.05], [2.0, 4.0, 3.0, 2.0]
    first = [0.5, 1.5, 1.0, 0.5]
    if with_trend:
        bounds.append((-3.0, 3.0))
        low, high, first = [*low, -0.3], [*high, 0.3], [*first, 0.0]
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    inits = [np.array(first)]
    for _ in range(max(starts, 1) - 1):
        inits.append(rng.uniform(low, high))
    best: Any = None
    for init in inits:
        res = optimize.minimize(
            _negative_log_likelihood,
            init,
            args=(data,),
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-8},
        )
        if best is None or res.fun < best.fun - 1e-9:
            best = res
    theta = best.x
    errors = _standard_errors(theta, data, bounds)
    mean, sd = _posterior(theta, data)
    return BehaviourFit(
        params={k: float(v) for k, v in zip(names, theta, strict=True)},
        standard_errors=dict(zip(names, errors, strict=True)),
        log_likelihood=-float(best.fun),
        n_votes=len(data.position),
        converged=bool(best.success),
        starts=len(inits),
        deviation_mean=mean,
        deviation_sd=sd,
    )


def _standard_errors(
    theta: FloatArray, data: _FitData, bounds: list[tuple[float, float]]
) -> list[float | None]:
    """Asymptotic standard errors from a finite-difference Hessian (None at a bound)."""
    k = len(theta)
    h = 1e-4
    at_bound = [theta[i] - bounds[i][0] < 2 * h for i in range(k)]
    free = [i for i in range(k) if not at_bound[i]]

    def f(t: FloatArray) -> float:
        return _negative_log_likelihood(t, data)

    hess = np.zeros((len(free), len(free)))
    for a, i in enumerate(free):
        for b, j in enumerate(free):
            ei, ej = np.zeros(k), np.zeros(k)
            ei[i], ej[j] = h, h
            hess[a, b] = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * h * h)
    out: list[float | None] = [None] * k
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return out
    for a, i in enumerate(free):
        if cov[a, a] > 0:
            out[i] = float(np.sqrt(cov[a, a]))
    return out


def _expected_tallies(recorded: RecordedVotes, params: dict[str, float]) -> pd.DataFrame:
    """Expected and recorded yes/no/abstain/absent per roll call at the fitted parameters."""
    nodes, log_weights = _quadrature()
    weights = np.exp(log_weights)
    t = recorded.table
    years = _years_before_last(t["date"], t["date"])
    level = params["intercept"] + params.get("trend", 0.0) * years
    support = (level + params["position_weight"] * t["position"].to_numpy())[:, None] + params[
        "state_noise"
    ] * nodes[None, :]
    p_yes, p_no, p_abs = (
        p @ weights for p in _category_probabilities(support, params["abstention_band"])
    )
    present = 1.0 - t["absence"].to_numpy()
    frame = pd.DataFrame(
        {
            "rcid": t["rcid"],
            "Y": present * p_yes,
            "N": present * p_no,
            "A": present * p_abs,
            "X": 1.0 - present,
        }
    )
    expected = frame.groupby("rcid").sum()
    observed = pd.crosstab(t["rcid"], t["vote"]).reindex(columns=list("YNAX"), fill_value=0)
    return expected.add_suffix("_expected").join(observed.add_suffix("_recorded"))


# --------------------------------------------------------------------------------------------
# The calibration file
# --------------------------------------------------------------------------------------------
def _r(value: float, digits: int = 4) -> float:
    out = round(float(value), digits)
    return 0.0 if out == 0 else out  # no "-0.0" in files


def calibrate(
    votes: pd.DataFrame,
    roll_calls: pd.DataFrame,
    members: pd.DataFrame,
    before: dt.date | str,
    config: IdealPointConfig | None = None,
    seed: int = 0,
) -> tuple[IdealPoints, RecordedVotes, BehaviourFit]:
    """Positions from the window before ``before``, behaviour fitted to the DPRK votes before it."""
    cut = pd.Timestamp(before)
    ideal = estimate_ideal_points(votes, cut.date(), members, config, seed=seed)
    dprk = dprk_plenary_roll_calls(roll_calls)
    dprk = dprk[dprk["date"] < cut]
    if dprk.empty:
        raise InputError(
            f"no recorded plenary vote on a DPRK human-rights resolution before {cut.date()}: "
            "nothing to calibrate the behaviour parameters on"
        )
    recorded = recorded_votes(votes, members, dprk["rcid"].tolist(), ideal)
    recorded = RecordedVotes(recorded.table[recorded.table["iso3"] != TARGET])
    fit = fit_behaviour(recorded, seed=seed)
    return ideal, recorded, fit


def build_calibration(
    ideal: IdealPoints,
    recorded: RecordedVotes,
    fit: BehaviourFit,
    name: str,
    provenance: dict[str, Any],
    item_effects: bool = True,
) -> Calibration:
    """The :class:`~unsim.scenario.schema.Calibration` of a fit (values rounded for the file).

    With ``item_effects`` (empirical Bayes), each state's position becomes its position *on the
    item*: the ideal point plus its estimated deviation on the recorded DPRK votes,
    ``state_noise * E[eps_i | votes] / position_weight``, and ``state_noise`` becomes the
    deviation left uncertain after those votes, ``state_noise * sqrt(mean Var[eps_i | votes])``
    (states without recorded votes keep their ideal point and a variance of 1). Without it the
    positions are the ideal points and ``state_noise`` the spread of deviations between states.
    """
    mean_absence = float(ideal.absence.mean())
    behaviour = {k: _r(v) for k, v in fit.params.items() if k != "trend"}
    last_vote = pd.Timestamp(pd.to_datetime(recorded.table["date"]).max())
    years_ahead = 0.0
    if "trend" in fit.params and provenance.get("before"):
        # the support's trend carried from the last recorded vote to the forecast date
        years_ahead = (pd.Timestamp(str(provenance["before"])) - last_vote).days / 365.25
        behaviour["intercept"] = _r(fit.params["intercept"] + fit.params["trend"] * years_ahead)
    behaviour["vote_noise"] = 1.0
    behaviour["absence"] = _r(mean_absence)
    noise, slope = fit.params["state_noise"], fit.params["position_weight"]
    position = ideal.positions.copy()
    use_effects = item_effects and noise > 1e-6 and abs(slope) > 1e-6
    if use_effects:
        shift = (noise * fit.deviation_mean / slope).reindex(position.index).fillna(0.0)
        position = position + shift
        var = (fit.deviation_sd**2).reindex(position.index).fillna(1.0)
        behaviour["state_noise"] = _r(noise * float(np.sqrt(var.mean())))
    states = {
        code: {"position": _r(position[code]), "absence": _r(ideal.absence[code])}
        for code in sorted(position.index)
    }
    tallies = _expected_tallies(recorded, fit.params)
    dates = recorded.table.groupby("rcid")["date"].first()
    per_vote = {
        int(rcid): {
            "date": str(pd.Timestamp(dates[rcid]).date()),
            "expected": {c: _r(row[f"{c}_expected"], 1) for c in "YNAX"},
            "recorded": {c: int(row[f"{c}_recorded"]) for c in "YNAX"},
        }
        for rcid, row in tallies.iterrows()
    }
    diagnostics = {
        "log_likelihood": _r(fit.log_likelihood, 3),
        "n_votes": fit.n_votes,
        "n_absent": int((recorded.table["vote"] == "X").sum()),
        "fitted_on_rcids": sorted(int(r) for r in recorded.table["rcid"].unique()),
        "fitted_parameters": list(fit.params),
        "trend": (
            {
                "per_year": _r(fit.params["trend"]),
                "last_recorded_vote": str(last_vote.date()),
                "years_ahead": _r(years_ahead, 2),
                "intercept_at_last_vote": _r(fit.params["intercept"]),
            }
            if "trend" in fit.params
            else f"not fitted (fewer than {TREND_MIN_YEARS} years of recorded votes)"
        ),
        "standard_errors": {
            k: (None if v is None else _r(v)) for k, v in fit.standard_errors.items()
        },
        "converged": fit.converged,
        "optimiser_starts": fit.starts,
        "fixed": {"vote_noise": "1 (the scale of the latent support)"},
        "state_noise_between_states": _r(noise),
        "positions": (
            "ideal point plus the state's estimated deviation on the recorded DPRK votes "
            "(empirical Bayes); behaviour.state_noise is the deviation left uncertain"
            if use_effects
            else "ideal points (standardised); behaviour.state_noise is the spread of "
            "deviations between states"
        ),
        "not_identified": {"icc_aversion": ICC_NOTE, "tie": TIE_NOTE},
        "per_vote_tallies": per_vote,
        "ideal_points": ideal.diagnostics,
    }
    raw = {
        "schema_version": 1,
        "kind": "calibration",
        "name": name,
        "provenance": provenance,
        "behaviour": behaviour,
        "states": states,
        "diagnostics": diagnostics,
    }
    return Calibration.model_validate(raw)


def method_text(config: IdealPointConfig) -> str:
    return (
        f"ordered-logit ideal points ({config.dims}-D, penalised ML, human-rights roll calls "
        f"weighted x{config.hr_weight:g}) on the {config.sessions} sessions before the cut; "
        "behaviour parameters by maximum likelihood on the recorded DPRK plenary votes before the "
        f"cut (state noise integrated by {QUADRATURE_NODES}-node Gauss-Hermite)"
    )


def provenance_for(
    ideal: IdealPoints,
    command: str,
    votes_path: str | Path,
    roll_calls_path: str | Path,
    members_path: str | Path,
    seed: int,
) -> dict[str, Any]:
    """What produced a calibration: command, input hashes, cut date, method and window."""
    return {
        "command": command,
        "input_sha256": file_sha256(votes_path),
        "inputs": {
            "votes": Path(votes_path).name,
            "roll_calls": Path(roll_calls_path).name,
            "roll_calls_sha256": file_sha256(roll_calls_path),
            "members": Path(members_path).name,
            "members_sha256": file_sha256(members_path),
        },
        "before": str(ideal.before),
        "method": method_text(ideal.config),
        "window": {
            "sessions": list(ideal.sessions),
            "roll_calls": len(ideal.rcids),
        },
        "ideal_points": ideal.config.as_dict(),
        "seed": seed,
        "software": f"unsim {__version__}",
    }


def write_calibration(
    calibration: Calibration, path: str | Path, header: str | None = None
) -> Path:
    """Write a calibration file atomically (a temporary file in the same folder, then replace)."""
    text = yaml.safe_dump(
        calibration.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
    )
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    return write_text_atomically(path, text)
