"""An episode's shift: how far its vote's level fell from what the series' calibration before it
expected, and the scores of a forecast of that vote.

For an episode (a recorded vote of a series, :mod:`.episodes`) the series is calibrated on data
dated strictly before the vote (:func:`.seriescal.calibrate_series`: positions, specification,
states' offsets and habit, the level's trend and its uncertainty). Given that calibration each
present state ``i`` has the support ``level + base_i`` (``base_i``: its position and record terms)
and votes as the engine's rule says, repeating its last vote on the series with probability
``habit``. The vote's *level* is then estimated by maximum likelihood from the states' recorded
votes, everything else held (its standard error from the curvature), and the episode's *shift* is
that level minus the level the calibration expected at the vote's date:

    shift = level_hat - expected,   variance = se(level_hat)^2 + var(expected)

``var(expected)`` is the uncertainty of the intercept and trend carried to the date; the session's
own shock is not in it (the meta-regression's ``tau0`` is that shock, :mod:`.metareg`). The shift
is in the vote model's latent units, net of who the states are (positions, records, habit).

:func:`forecast_scores` scores a forecast of the vote whose level is normal with a given mean
and variance: the log loss of the present states' votes (probabilities below 1 % counted as 1 %,
as in :mod:`.backtest`) and of the tallies (``-log P(yes and no counts)`` given who was present).
The probabilities integrate the level (a shock common to the states) and the regional groups'
shock (per state) by Gauss-Hermite quadrature.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize

from unsim.calibration.serieslevels import vote_probabilities
from unsim.errors import InputError

__all__ = [
    "EpisodeShift",
    "VoteForecast",
    "episode_shift",
    "fit_level",
    "forecast_scores",
    "state_probabilities",
    "vote_forecast",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: Vote letters in the order of the probability columns (as :func:`vote_probabilities`).
CATEGORIES = ("Y", "N", "A")
LOG_LOSS_FLOOR = 0.01
_LEVEL_NODES = 21
_GROUP_NODES = 9


def _nodes(k: int) -> tuple[FloatArray, FloatArray]:
    x, w = np.polynomial.hermite.hermgauss(k)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


@dataclass(frozen=True)
class VoteForecast:
    """What the calibration before a vote says about each present state, and its vote."""

    states: list[str]
    base: FloatArray
    """each state's support without the level (position and record terms)"""
    observed: IntArray
    """its recorded vote: 0 yes, 1 no, 2 abstain"""
    last: IntArray
    """its last vote on the series (same codes), -1 where it has none"""
    habit: float
    band: float
    expected: float
    """the level the calibration expects at the vote's date"""
    expected_sd: float
    """the sd of that expectation (intercept and trend), without the session's shock"""
    session_sd: float
    group_sd: float
    specification: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def level_sd(self) -> float:
        """The sd of the level the calibration's forecast draws (with the session's shock)."""
        return float(np.sqrt(self.expected_sd**2 + self.session_sd**2))


def state_probabilities(f: VoteForecast, level: FloatArray | float) -> FloatArray:
    """(..., states, 3) P(yes, no, abstain) at the given level(s), with the habit, no shocks."""
    lv = np.asarray(level, dtype=np.float64)[..., None]
    p = vote_probabilities(f.base + lv, f.band)
    if f.habit <= 0:
        return p
    has = f.last >= 0
    repeat = np.zeros((len(f.states), 3))
    repeat[np.flatnonzero(has), f.last[has]] = 1.0
    mixed = f.habit * repeat + (1.0 - f.habit) * p
    return np.where(has[:, None], mixed, p)


def _chosen(f: VoteForecast, level: float) -> FloatArray:
    p = state_probabilities(f, level)
    return p[np.arange(len(f.states)), f.observed]


def fit_level(f: VoteForecast) -> tuple[float, float]:
    """The vote's level by maximum likelihood, the rest of the calibration held, and its
    standard error (inverse square root of the curvature)."""

    def nll(level: float) -> float:
        """The negative log likelihood of the votes cast at vote level ``level``."""
        return float(-np.log(np.maximum(_chosen(f, level), 1e-300)).sum())

    res = optimize.minimize_scalar(nll, bounds=(-15.0, 15.0), method="bounded")
    level = float(res.x)
    h = 1e-3
    curv = (nll(level + h) - 2 * nll(level) + nll(level - h)) / h**2
    se = 1.0 / np.sqrt(curv) if curv > 1e-9 else float("inf")
    return level, float(se)


@dataclass(frozen=True)
class EpisodeShift:
    """An episode's vote level against what the calibration before it expected."""

    id: str
    level: float
    level_se: float
    expected: float
    expected_sd: float
    n_states: int

    @property
    def shift(self) -> float:
        """The level less what the calibration expected."""
        return self.level - self.expected

    @property
    def variance(self) -> float:
        """The shift's variance: the level's sampling variance plus the expected level's."""
        return self.level_se**2 + self.expected_sd**2

    def as_dict(self) -> dict[str, Any]:
        """The shift as a plain dict, rounded to four places."""
        return {
            "id": self.id,
            "level": round(self.level, 4),
            "level_se": round(self.level_se, 4),
            "expected": round(self.expected, 4),
            "expected_sd": round(self.expected_sd, 4),
            "shift": round(self.shift, 4),
            "shift_se": round(float(np.sqrt(self.variance)), 4),
            "states": self.n_states,
        }


def episode_shift(episode_id: str, f: VoteForecast) -> EpisodeShift:
    """An episode's shift: its vote level by maximum likelihood against the forecast's expected
    level."""
    level, se = fit_level(f)
    return EpisodeShift(episode_id, level, se, f.expected, f.expected_sd, len(f.states))


def _marginal(f: VoteForecast, level: FloatArray) -> FloatArray:
    """(levels, states, 3) probabilities at each common level, the group shock integrated."""
    if f.group_sd <= 0:
        return state_probabilities(f, level)
    g, w = _nodes(_GROUP_NODES)
    lv = np.asarray(level)[:, None] + f.group_sd * g[None, :]
    p = state_probabilities(f, lv)  # (levels, groups nodes, states, 3)
    return np.einsum("lgsc,g->lsc", p, w)


def _tally_pmf(p: FloatArray) -> FloatArray:
    """P(yes count, no count) of independent states with probabilities ``p`` (states x 3):
    (states + 1) x (states + 1), built one state at a time (after ``i`` states only counts up
    to ``i`` can be non-zero, so the table grows with them)."""
    pmf = np.ones((1, 1))
    for i, (py, pn, pa) in enumerate(p):
        new = np.zeros((i + 2, i + 2))
        new[:-1, :-1] = pmf * pa
        new[1:, :-1] += pmf * py
        new[:-1, 1:] += pmf * pn
        pmf = new
    return pmf


def forecast_scores(f: VoteForecast, mean: float, variance: float) -> dict[str, float]:
    """Scores of a forecast whose level is normal(``mean``, ``variance``): per-state log loss
    and Brier score (three outcomes, given presence), the tallies' log loss."""
    x, w = _nodes(_LEVEL_NODES)
    levels = mean + np.sqrt(max(variance, 0.0)) * x
    p_nodes = _marginal(f, levels)  # (nodes, states, 3)
    p = np.einsum("lsc,l->sc", p_nodes, w)
    rows = np.arange(len(f.states))
    chosen = p[rows, f.observed]
    onehot = np.zeros_like(p)
    onehot[rows, f.observed] = 1.0
    yes = int((f.observed == 0).sum())
    no = int((f.observed == 1).sum())
    joint = float(sum(wk * _tally_pmf(pk)[yes, no] for wk, pk in zip(w, p_nodes, strict=True)))
    return {
        "log_loss": float(-np.log(np.maximum(chosen, LOG_LOSS_FLOOR)).mean()),
        "brier": float(((p - onehot) ** 2).sum(axis=1).mean()),
        "tally_log_loss": float(-np.log(max(joint, 1e-300))),
        "yes_expected": float(p[:, 0].sum()),
        "yes_recorded": float(yes),
    }


def vote_forecast(
    data: Any,
    series: str,
    rcid: int,
    date: dt.date,
    match: str | None = None,
    config: Any = None,
    seed: int = 0,
) -> VoteForecast:
    """The calibration of ``series`` on data dated before ``date`` and the recorded vote
    ``rcid`` it bears on (``data``: :class:`.validation.RealData`)."""
    from unsim.calibration.seriescal import calibrate_series, series_votes
    from unsim.calibration.seriesfit import CATEGORY, state_records
    from unsim.calibration.serieshabit import last_votes

    sc = calibrate_series(
        data.votes, data.roll_calls, data.members, series, date, match, config, seed
    )
    fit = sc.fit
    if fit.levels.empty:
        raise InputError(
            f"{series} before {date}: too few votes of its own (the fit is borrowed); "
            "an episode needs two earlier votes of its series in the window"
        )
    found = data.roll_calls.loc[data.roll_calls["rcid"] == rcid, ["rcid", "date"]]
    col = series_votes(data.votes, data.members, found).letters[rcid]
    col = col.drop(index=series.upper(), errors="ignore")
    positions = sc.ideal.positions
    col = col[col.isin(list(CATEGORY)) & col.index.isin(positions.index)]
    states = list(col.index)
    record, weight = state_records(fit, sc.votes.letters)
    p = fit.params
    base = p["position_weight"] * positions.reindex(states).to_numpy() + weight * (
        record.reindex(states).fillna(0.0).to_numpy()
    )
    last = last_votes(sc.votes.letters).reindex(states).map(CATEGORY)
    expected, level_sd = fit.level_at(date)
    session = float(p["session_shock_sd"])
    return VoteForecast(
        states=states,
        base=base.astype(np.float64),
        observed=col.map(CATEGORY).to_numpy(dtype=np.intp),
        last=last.fillna(-1).to_numpy(dtype=np.intp),
        habit=float(p.get("habit", 0.0)),
        band=float(p["abstention_band"]),
        expected=float(expected),
        expected_sd=float(np.sqrt(max(level_sd**2 - session**2, 0.0))),
        session_sd=session,
        group_sd=float(p["group_shock_sd"]),
        specification=fit.spec.name,
        warnings=list(sc.warnings),
    )


def shift_table(shifts: list[EpisodeShift]) -> pd.DataFrame:
    """The shifts as a table, one row per episode."""
    return pd.DataFrame([s.as_dict() for s in shifts]).set_index("id")
