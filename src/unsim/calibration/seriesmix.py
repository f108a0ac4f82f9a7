"""The series' own vote model mixed with a regression pooled over the country series.

The series' vote model (:mod:`.seriesfit`) learns from a handful of votes of one series; a state's
votes on the other country-specific series, in the same weeks, say much about its stance on
this one, and the country series together hold thousands of votes. The pooled regression is a
multinomial logistic regression of a present state's vote (yes, no, abstain) on its record
before the vote (:mod:`.baselinefeatures`: its last votes on that series, its recent votes on the
other country series, its agreement with the United States and with the target, its absences,
groups, blocs and ideal point), fitted on every present vote of every country series before the
forecast (its choices, as the logistic baseline's, by time-ordered validation).

Each state's probabilities given presence are the mix ``lam * pooled + (1 - lam) * own``
(the own model's with its offsets); ``lam`` and the habit (:mod:`.serieshabit`) are chosen
together by likelihood on the series' last votes before the cut, each forecast from the data
before it. A series with fewer than three votes in the window has no own model to weigh (its
weights would be borrowed from the other series, which the pooled regression pools already):
it takes the pooled regression alone, and the habit that goes with it on the comparable series'
votes at the same age (as many earlier votes: :mod:`.seriesyoung`; without any, on their last
votes). The engine reads one support per state: the support that, under the series'
band and the level's and groups' uncertainty, gives the mixed probabilities closest (least
Kullback-Leibler divergence) is the state's; its part beyond the level and the position is the
fit's ``terms`` (the calibration's ``record`` times ``record_weight``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from unsim.calibration.baselinefeatures import StateTable, vote_features
from unsim.calibration.baselines import (
    choose_logistic,
    class_probabilities,
    design,
    fit_logistic,
    training_rows,
)
from unsim.calibration.history import CountryHistory
from unsim.calibration.seriesfit import (
    CATEGORY,
    SeriesFit,
    SeriesVotes,
    Spec,
    forecast_probabilities,
    quadrature,
)
from unsim.calibration.serieshabit import fit_habit, last_votes
from unsim.calibration.serieslevels import vote_probabilities
from unsim.calibration.seriesstate import fitted, with_offsets

__all__ = [
    "MIX_WEIGHTS",
    "PooledRegression",
    "Source",
    "choose_mix",
    "mix_holdout",
    "pooled_regression",
    "support_for",
    "with_mix",
]

#: Candidate weights of the pooled regression in the mix.
MIX_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
_ORDER = ["Y", "N", "A"]
_GRID = np.linspace(-15.0, 15.0, 601)


@dataclass(frozen=True)
class PooledRegression:
    """The pooled regression's rows (every present country-series vote before the cut) and its
    choices."""

    history: CountryHistory
    statics: StateTable
    positions: pd.Series
    x: pd.DataFrame
    y: pd.Series
    meta: pd.DataFrame
    told: bool
    sessions: int
    c: float
    table: list[dict[str, Any]]

    def forecast(
        self, series: str, date: pd.Timestamp, session: int, states: list[str]
    ) -> pd.DataFrame:
        """P(yes, no, abstain | present) of ``states`` at a vote of ``series`` on ``date``, the
        regression fitted on the votes before it."""
        before = (self.meta["date"] < date).to_numpy()
        if not before.any():
            raise ValueError(f"no country-series vote before {date.date()} to learn from")
        last = int(self.meta.loc[before, "session"].max())
        keep = before & (self.meta["session"] > last - self.sessions).to_numpy()
        codes = sorted(set(self.meta["series"]) | {series})
        with threadpool_limits(limits=1, user_api="blas"):
            model = fit_logistic(
                design(self.x[keep], self.meta[keep], codes, self.told),
                self.y[keep].to_numpy(),
                self.c,
            )
            index = pd.Index(states, name="iso3")
            xf = vote_features(
                self.history, series, series, date, session, index, self.statics, self.positions
            )
            xf = xf.reindex(columns=self.x.columns).fillna(0.0)
            mf = pd.DataFrame({"series": series}, index=index)
            p = class_probabilities(model, design(xf, mf, codes, self.told))[:, :3]
        p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        return pd.DataFrame(p, index=index, columns=_ORDER)


def pooled_regression(
    history: CountryHistory, statics: StateTable, positions: pd.Series, series: str
) -> PooledRegression:
    """The pooled regression of the votes in ``history`` (its choices made on them)."""
    x, y, meta = training_rows(history, statics, positions)
    present = (y != "X").to_numpy()
    x, y, meta = x[present], y[present], meta[present]
    codes = sorted(set(meta["series"]) | {series})
    with threadpool_limits(limits=1, user_api="blas"):
        told, sessions, c, table = choose_logistic(x, y, meta, codes)
    return PooledRegression(history, statics, positions, x, y, meta, told, sessions, c, table)


def _chosen(p: pd.DataFrame, letters: pd.Series) -> np.ndarray:
    cols = [p.columns.get_loc(v) for v in letters]
    return np.asarray(p.to_numpy()[np.arange(len(letters)), cols], dtype=np.float64)


def mix_holdout(
    own: list[pd.DataFrame],
    pooled: list[pd.DataFrame],
    cast: list[pd.Series],
    last: list[pd.Series],
    weights: tuple[float, ...] = MIX_WEIGHTS,
) -> tuple[float, float, float, list[dict[str, Any]]]:
    """``(lam, habit, its standard error, table)``: the mix weight (among ``weights``) and habit
    with the highest likelihood of the votes ``cast`` (a series per holdout vote, of the states
    present with an earlier vote ``last``), given the own and pooled forecasts of each."""
    rows: list[dict[str, Any]] = []
    best: tuple[float, float, float, float] | None = None
    repeated = np.concatenate(
        [(c.to_numpy() == v.to_numpy()) for c, v in zip(cast, last, strict=True)]
    )
    for lam in weights:
        p = np.concatenate(
            [
                lam * _chosen(q, c) + (1.0 - lam) * _chosen(o, c)
                for o, q, c in zip(own, pooled, cast, strict=True)
            ]
        )
        h, se = fit_habit(p, repeated.astype(np.float64))
        ll = float(np.log(np.maximum(h * repeated + (1.0 - h) * p, 1e-300)).sum())
        rows.append(
            {"pooled_weight": lam, "habit": round(float(h), 4), "log_likelihood": round(ll, 3)}
        )
        if best is None or ll > best[0]:
            best = (ll, lam, h, se)
    assert best is not None
    return best[1], best[2], best[3], rows


def holdout_forecasts(
    regression: PooledRegression,
    fit_at: Any,
    letters: pd.DataFrame,
    dates: pd.Series,
    sessions: list[int],
    series: str,
    targets: list[int],
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], list[pd.Series], list[pd.Series]]:
    """For each holdout vote ``k`` in ``targets``: the own model's forecast (``fit_at(k,
    states)``), the pooled one, the votes cast and the states' last earlier votes, over the
    states present with an earlier present vote."""
    own, pooled, cast, last = [], [], [], []
    for k in targets:
        col = letters.iloc[:, k]
        before = last_votes(letters.iloc[:, :k]).reindex(col.index)
        keep = col.isin(list(CATEGORY)) & before.notna()
        states = list(col.index[keep])
        own.append(fit_at(k, states)[_ORDER])
        date = pd.Timestamp(dates.iloc[k])
        pooled.append(regression.forecast(series, date, sessions[k], states))
        cast.append(col[keep])
        last.append(before[keep])
    return own, pooled, cast, last


def support_for(p: pd.DataFrame, band: float, sd: float) -> pd.Series:
    """The support of each state whose probabilities given presence (the level and the groups'
    shocks of sd ``sd`` integrated) are closest to ``p`` (least Kullback-Leibler divergence)."""
    nodes, weights = quadrature()
    q = np.einsum(
        "gkc,k->gc", vote_probabilities(_GRID[:, None] + sd * nodes[None, :], band), weights
    )
    loss = -(p[_ORDER].to_numpy() @ np.log(np.maximum(q, 1e-12)).T)  # (states, grid)
    return pd.Series(_GRID[loss.argmin(axis=1)], index=p.index)


def with_mix(
    fit: SeriesFit,
    regression: PooledRegression,
    votes: SeriesVotes,
    positions: pd.Series,
    cut: pd.Timestamp,
    lam: float,
    series: str,
) -> SeriesFit:
    """``fit`` whose states' terms give the mix ``lam`` of its own forecast at ``cut`` and the
    pooled regression's (none when ``lam`` is 0)."""
    params = {**fit.params, "pooled_weight": float(lam)}
    if lam <= 0:
        return dataclasses.replace(fit, params=params)
    states = sorted(set(votes.letters.index) | set(positions.index))
    own = forecast_probabilities(fit, votes, positions, states, cut)[_ORDER]
    session = int(cut.year - 1945 - (1 if cut.month < 9 else 0))
    pooled = regression.forecast(series, cut, session, states)
    mixed = lam * pooled + (1.0 - lam) * own
    level, level_sd = fit.level_at(cut)
    sd = float(np.sqrt(level_sd**2 + fit.params["group_shock_sd"] ** 2))
    s = support_for(mixed, fit.params["abstention_band"], sd)
    pos = positions.reindex(s.index).fillna(0.0)
    terms = s - level - fit.params["position_weight"] * pos
    return dataclasses.replace(fit, params=params, terms=terms)


@dataclass(frozen=True)
class Source:
    """A series whose last votes judge the mix: its code, votes, their sessions, the offsets' sd
    chosen on it and the fits already made (by specification and number of votes)."""

    code: str
    votes: SeriesVotes
    sessions: list[int]
    offset_sd: float = 0.0
    fits: dict[tuple[Spec, int], SeriesFit] = dataclasses.field(default_factory=dict)


def choose_mix(
    regression: PooledRegression,
    sources: list[Source],
    positions: pd.Series,
    groups: pd.Series,
    spec: Spec,
    weights: tuple[float, ...] = MIX_WEIGHTS,
    holdout: int = 3,
) -> tuple[float, float, float, list[dict[str, Any]]]:
    """The mix weight (among ``weights``) and the habit (and its standard error) with the
    highest likelihood of the last ``holdout`` votes of the ``sources`` (each forecast from the
    votes before it, with at least two earlier ones), and the table."""
    parts: tuple[list[Any], ...] = ([], [], [], [])
    for src in sources:
        t = src.votes.letters.shape[1]

        def fit_at(k: int, states: list[str], src: Source = src) -> pd.DataFrame:
            """The forecast probabilities of ``states`` at vote ``k`` from the fit on the votes
            before it."""
            past = src.votes.head(k)
            fit = fitted(src.fits, spec, k, past, positions, groups)
            fit = with_offsets(fit, past, positions, groups, src.offset_sd)
            return forecast_probabilities(fit, past, positions, states, src.votes.dates.iloc[k])

        targets = list(range(max(2, t - holdout), t))
        got = holdout_forecasts(
            regression, fit_at, src.votes.letters, src.votes.dates, src.sessions, src.code, targets
        )
        for bucket, values in zip(parts, got, strict=True):
            bucket.extend(values)
    if not parts[0]:
        return 0.0, 0.0, float("nan"), []
    lam, h, se, rows = mix_holdout(parts[0], parts[1], parts[2], parts[3], weights=weights)
    n = int(sum(len(c) for c in parts[2]))
    chosen = {
        "pooled_weight": lam,
        "habit": round(h, 4),
        "standard_error": round(float(se), 4) if np.isfinite(se) else None,
        "votes": len(parts[2]),
        "n": n,
        "judged_on": [s.code for s in sources],
    }
    return lam, h, se, [*rows, chosen]
