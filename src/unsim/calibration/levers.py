"""Levers estimated from past episodes, and tested on them out of sample.

1. Each episode's shift (:mod:`.levershift`): its vote's level against what the series'
   calibration on data before the vote expected, with its variance.
2. A random-effects meta-regression of the shifts on the episodes' lever indicators
   (:mod:`.metareg`): each lever's mean effect, its standard error and the spread of its effect
   from one episode to the next.
3. Leave one episode out (:func:`leave_one_out`): the levers estimated without it, its vote
   forecast from the series' calibration before it (data only) and from the same calibration with
   the estimated levers applied for the changes it records; both scored on the recorded vote
   (:func:`.levershift.forecast_scores`). ``past_only`` uses only the episodes dated before it.
4. A lever is *identified* when at least :data:`MIN_EPISODES` episodes hold it and the fit
   estimates it; it *ships* (its estimate goes into the levers file) when, in addition, applying
   it alone lowers the per-state log loss of the episodes that hold it, averaged over them, out
   of sample. Otherwise it ships centred at zero with the spread the data leave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from unsim.calibration.episodes import LEVERS, Episode, EpisodesFile, lever_matrix
from unsim.calibration.levershift import (
    EpisodeShift,
    VoteForecast,
    episode_shift,
    forecast_scores,
    vote_forecast,
)
from unsim.calibration.metareg import MetaFit, control_bias, fit_meta
from unsim.errors import InputError

__all__ = [
    "MIN_EPISODES",
    "EpisodeData",
    "bias_of_controls",
    "compute_episodes",
    "decide",
    "evaluate",
    "fit_levers",
    "fit_table",
    "leave_one_out",
    "summarize",
]

#: Episodes a lever needs before the data can be said to identify it.
MIN_EPISODES = 3
SCORES = ("log_loss", "brier", "tally_log_loss")


@dataclass(frozen=True)
class EpisodeData:
    """An episode with the calibration's forecast of its vote and its shift."""

    episode: Episode
    forecast: VoteForecast
    shift: EpisodeShift

    @property
    def x(self) -> list[float]:
        """The episode's lever indicators, in the order of ``LEVERS`` (0 where not given)."""
        return [self.episode.levers.get(n, 0.0) for n in LEVERS]


# --------------------------------------------------------------------------------------------
# 1. the shifts (the expensive part: one calibration per episode)
# --------------------------------------------------------------------------------------------
_DATA: list[Any] = []


def _set_data(data: Any, config: Any, seed: int) -> None:
    _DATA[:] = [data, config, seed]


def _one(e: Episode) -> tuple[VoteForecast, EpisodeShift]:
    data, config, seed = _DATA
    try:
        f = vote_forecast(data, e.series, e.vote.rcid, e.vote.date, e.match, config, seed)
    except InputError as err:
        raise InputError(f"episode {e.id}: {err}") from None
    return f, episode_shift(e.id, f)


def compute_episodes(
    file: EpisodesFile,
    data: Any,
    before: dt.date | str = "2014-11-18",
    workers: int = 1,
    config: Any = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[EpisodeData]:
    """The shift of each episode whose vote is dated before ``before`` (``workers`` episodes
    calibrated at a time; the ideal points of each vote's date are cached on disk)."""
    cut = dt.date.fromisoformat(str(before))
    episodes = [e for e in file.episodes if e.vote.date < cut]
    if progress:
        progress(f"{len(episodes)} episodes before {cut}: each series calibrated before its vote")
    if workers > 1 and len(episodes) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(
            max_workers=workers, initializer=_set_data, initargs=(data, config, seed)
        ) as pool:
            done = list(pool.map(_one, episodes))
    else:
        _set_data(data, config, seed)
        done = []
        for e in episodes:
            if progress:
                progress(f"  {e.id}: calibrating {e.series} before {e.vote.date}")
            done.append(_one(e))
    return [EpisodeData(e, f, s) for e, (f, s) in zip(episodes, done, strict=True)]


# --------------------------------------------------------------------------------------------
# 2. the meta-regression
# --------------------------------------------------------------------------------------------
def fit_levers(items: Sequence[EpisodeData]) -> MetaFit:
    """The meta-regression of the items' shifts on their indicators (every lever named)."""
    x = lever_matrix([i.episode for i in items]).to_numpy()
    y = [i.shift.shift for i in items]
    v = [i.shift.variance for i in items]
    try:
        return fit_meta(y, v, x, list(LEVERS))
    except ValueError as err:
        raise InputError(f"the levers cannot be estimated: {err}") from None


def bias_of_controls(items: Sequence[EpisodeData]) -> tuple[float, float, int]:
    """The mean shift of the control episodes (no lever set), its standard error and their
    number."""
    x = lever_matrix([i.episode for i in items]).to_numpy()
    return control_bias([i.shift.shift for i in items], x)


# --------------------------------------------------------------------------------------------
# 3. out of sample
# --------------------------------------------------------------------------------------------
def _only(x: Sequence[float], name: str) -> list[float]:
    return [v if n == name else 0.0 for n, v in zip(LEVERS, x, strict=True)]


def _scored(f: VoteForecast, shift: tuple[float, float]) -> dict[str, float]:
    return forecast_scores(f, f.expected + shift[0], f.level_sd**2 + shift[1])


def _episode_row(
    item: EpisodeData, fit: MetaFit | None, applied: set[str] | None, base: dict[str, float]
) -> dict[str, Any]:
    """The data-only (``base``) and lever forecasts of one episode, ``fit`` made without it:
    every lever alone, and those in ``applied`` (None: every lever) together."""
    f, x = item.forecast, item.x
    row: dict[str, Any] = {
        "id": item.episode.id,
        "series": item.episode.series,
        "date": str(item.episode.vote.date),
        "levers": dict(item.episode.levers),
        "shift": item.shift.shift,
        "data_only": base,
    }
    if fit is None or not any(x):
        row["levers_applied"] = {"mean": 0.0, "var": 0.0, "unestimated": []}
        row["with_levers"] = base
        row["per_lever"] = {}
        return row
    used = [v if applied is None or n in applied else 0.0 for n, v in zip(LEVERS, x, strict=True)]
    mean, var = fit.predict(used)
    row["levers_applied"] = {"mean": mean, "var": var, "unestimated": fit.unestimated(used)}
    row["with_levers"] = _scored(f, (mean, var)) if var or mean else base
    row["per_lever"] = {}
    for name, value in zip(LEVERS, x, strict=True):
        if value and fit.estimated(name):
            row["per_lever"][name] = _scored(f, fit.predict(_only(x, name)))
    return row


def data_only_scores(items: Sequence[EpisodeData]) -> dict[str, dict[str, float]]:
    """Each episode's data-only forecast scored (by episode id)."""
    return {i.episode.id: _scored(i.forecast, (0.0, 0.0)) for i in items}


def leave_one_out(
    items: Sequence[EpisodeData],
    past_only: bool = False,
    applied: set[str] | None = None,
    base: dict[str, dict[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """Each episode forecast with the levers estimated without it (``past_only``: from the
    episodes dated before it alone), next to its data-only forecast (``base``, scored here if
    not given); ``applied``: the levers applied together (None: every lever estimated)."""
    base = base if base is not None else data_only_scores(items)
    rows = []
    for k, item in enumerate(items):
        if past_only:
            train = [i for i in items if i.episode.vote.date < item.episode.vote.date]
        else:
            train = [i for j, i in enumerate(items) if j != k]
        fit = _fit_or_none(train)
        rows.append(_episode_row(item, fit, applied, base[item.episode.id]))
    return rows


def _fit_or_none(train: Sequence[EpisodeData]) -> MetaFit | None:
    x = lever_matrix([i.episode for i in train]).to_numpy()
    held = int(np.count_nonzero(np.any(x != 0, axis=0)))
    if len(train) <= held + 1:
        return None
    return fit_levers(train)


def _mean_interval(values: Sequence[float]) -> dict[str, float | int]:
    a = np.asarray(values, dtype=np.float64)
    n = len(a)
    if n == 0:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    mean = float(a.mean())
    if n < 2:
        return {"mean": mean, "low": float("nan"), "high": float("nan"), "n": n}
    half = float(stats.t.ppf(0.975, n - 1) * a.std(ddof=1) / np.sqrt(n))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean differences (with levers minus data only; below 0: the levers help) and their 95 %
    intervals (t over episodes): over all episodes, over those with a change, per lever."""
    changed = [r for r in rows if r["levers"]]
    out: dict[str, Any] = {"episodes": len(rows), "changed": len(changed)}
    for score in SCORES:
        diff = [r["with_levers"][score] - r["data_only"][score] for r in rows]
        diff_changed = [r["with_levers"][score] - r["data_only"][score] for r in changed]
        out[score] = {
            "data_only": float(np.mean([r["data_only"][score] for r in rows])),
            "with_levers": float(np.mean([r["with_levers"][score] for r in rows])),
            "difference": _mean_interval(diff),
            "difference_changed": _mean_interval(diff_changed),
        }
    per: dict[str, Any] = {}
    for name in LEVERS:
        held = [r for r in rows if name in r["per_lever"]]
        per[name] = {
            score: _mean_interval(
                [r["per_lever"][name][score] - r["data_only"][score] for r in held]
            )
            for score in SCORES
        }
    out["per_lever"] = per
    return out


# --------------------------------------------------------------------------------------------
# 4. which levers ship
# --------------------------------------------------------------------------------------------
def decide(fit: MetaFit, summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For each lever: identified (enough episodes, estimated), ships (identified and lowering
    the out-of-sample log loss of its episodes on average) and why."""
    out = {}
    for name in LEVERS:
        n = fit.counts[name]
        estimated = fit.estimated(name)
        loo = summary["per_lever"][name]["log_loss"]
        identified = n >= MIN_EPISODES and estimated
        helps = bool(loo["n"]) and float(loo["mean"]) < 0
        if not identified:
            why = (
                f"not identified: {n} episode(s)"
                if n < MIN_EPISODES
                else "not identified apart from other levers"
            )
        elif not helps:
            why = (
                f"identified ({n} episodes) but its estimate did not lower the out-of-sample "
                f"log loss of its episodes (mean change {float(loo['mean']):+.4f})"
            )
        else:
            why = (
                f"identified ({n} episodes); out of sample it lowered the log loss of its "
                f"episodes by {-float(loo['mean']):.4f} on average"
            )
        out[name] = {
            "episodes": n,
            "identified": identified,
            "ships": identified and helps,
            "why": why,
        }
    return out


def evaluate(items: Sequence[EpisodeData]) -> dict[str, Any]:
    """Everything ``calibrate --levers`` and ``backtest --levers`` report: the fit on every
    episode, the decisions, and the out-of-sample comparisons (every lever, the shipped ones,
    the shipped ones from past episodes alone)."""
    fit = fit_levers(items)
    base = data_only_scores(items)
    rows_all = leave_one_out(items, base=base)
    summary_all = summarize(rows_all)
    decisions = decide(fit, summary_all)
    shipped = {n for n, d in decisions.items() if d["ships"]}
    rows = leave_one_out(items, applied=shipped, base=base)
    rows_past = leave_one_out(items, past_only=True, applied=shipped, base=base)
    bias, bias_se, controls = bias_of_controls(items)
    return {
        "fit": fit,
        "decisions": decisions,
        "shipped": sorted(shipped),
        "rows": rows,
        "summary": summarize(rows),
        "rows_all": rows_all,
        "summary_all": summary_all,
        "summary_past": summarize(rows_past),
        "control_bias": {"mean": bias, "se": bias_se, "controls": controls},
    }


def fit_table(fit: MetaFit) -> list[dict[str, Any]]:
    """Each lever's estimate as plain values (JSON)."""
    out = []
    for name in LEVERS:
        row: dict[str, Any] = {"lever": name, "episodes": fit.counts[name]}
        if fit.estimated(name):
            mean, se = fit.effect(name)
            low, high = fit.interval(name)
            row.update(
                effect=mean, se=se, low=low, high=high, predictive_sd=fit.predictive_sd(name)
            )
        out.append(row)
    return out
