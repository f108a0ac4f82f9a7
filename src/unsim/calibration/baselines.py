"""Statistical baselines of a series' vote, fitted only on votes before it.

- ``logit``: a multinomial logistic regression of a state's vote (Y, N, A, X) on its record
  (:mod:`.baselinefeatures`: its last votes on the series, its recent votes on the other country
  series, its agreement with the United States and with the target, its absences, group, blocs
  and ideal point). Its rows are every state at every recorded vote of every country-specific
  series before the forecast date (:mod:`.history`). The choices (the series told or not, how
  many sessions of votes, the regularisation ``C``) are made by time-ordered validation: each
  candidate is fitted on the votes of the sessions before the last session with a vote before
  the date, and scored (log loss) on that last session's votes; the best is refitted on all of
  them.
- ``last_vote_smoothed``: each state repeats its last recorded vote on the series with
  probability ``1 - e`` and moves to another outcome with probability ``e``, spread over the
  outcomes as its own moves went (shrunk to the moves of the series and the other country
  series from that vote). ``e`` is the state's own rate of change between consecutive votes on
  the series, shrunk to the series-wide rate (itself shrunk to the other country series' rate)
  with a strength chosen on the series' last earlier votes. A state without a vote on the series
  takes its regional group's shares at the last one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from unsim.calibration.baselinefeatures import OUTCOMES, StateTable, vote_features
from unsim.calibration.history import CountryHistory

__all__ = [
    "LOGIT_C",
    "LOGIT_SESSIONS",
    "LogitChoice",
    "choose_logistic",
    "class_probabilities",
    "design",
    "fit_logistic",
    "logit_forecast",
    "smoothed_last_vote",
    "training_rows",
]

#: Candidate regularisation strengths (scikit-learn's ``C``: the inverse of the penalty).
LOGIT_C = (0.03, 0.3, 3.0)
#: Candidate windows: the sessions of country-series votes the model learns from.
LOGIT_SESSIONS = (8, 20)
#: Pseudo-transitions of the series-wide rate of change toward the other series' rate.
SERIES_RATE_PSEUDO = 100.0
#: Candidate strengths of the shrinkage of a state's rate of change toward the series' rate.
STATE_RATE_PSEUDO = (0.5, 2.0, 8.0)
#: Rate of change without any consecutive votes to measure it on.
DEFAULT_RATE = 0.1
#: Pseudo-moves of a state's own moves toward the pooled ones.
MOVE_PSEUDO = 2.0


@dataclass(frozen=True)
class LogitChoice:
    """The logistic baseline's choices and their validation."""

    series_indicator: bool
    sessions: int
    c: float
    table: list[dict[str, Any]]
    n_rows: int


def training_rows(
    history: CountryHistory,
    statics: StateTable,
    positions: pd.Series | None,
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """(features, recorded letters, the rows' series/date/session) of every state at every
    vote in ``events`` (by default every vote of the history), each from the history before it."""
    frames, ys, metas = [], [], []
    for _, e in (history.events if events is None else events).iterrows():
        code, rcid = str(e["series"]), int(e["rcid"])
        recorded = history.letters[code][rcid].dropna()
        if recorded.empty:
            continue
        date, session = pd.Timestamp(e["date"]), int(e["session"])
        x = vote_features(history, code, code, date, session, recorded.index, statics, positions)
        frames.append(x)
        ys.append(recorded.rename("vote"))
        metas.append(
            pd.DataFrame({"series": code, "date": date, "session": session}, index=x.index)
        )
    if not frames:
        raise ValueError("no recorded country-series vote to learn from")
    return (
        pd.concat(frames).fillna(0.0),
        pd.concat(ys),
        pd.concat(metas),
    )


def design(x: pd.DataFrame, meta: pd.DataFrame, codes: Sequence[str], told: bool) -> np.ndarray:
    """The regression's design matrix: the features, with an indicator column per series if
    ``told``."""
    if not told:
        return x.to_numpy(dtype=np.float64)
    ind = np.stack([(meta["series"] == c).to_numpy(dtype=np.float64) for c in codes], axis=1)
    return np.hstack([x.to_numpy(dtype=np.float64), ind])


def fit_logistic(xs: np.ndarray, y: np.ndarray, c: float) -> Any:
    """A logistic regression (standardised features, regularisation ``c``) fitted to ``xs`` and
    ``y``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    model.fit(xs, y)
    return model


def class_probabilities(model: Any, xs: np.ndarray) -> np.ndarray:
    """(rows, 4) probabilities of Y, N, A, X (0 for an outcome never seen in training)."""
    p = model.predict_proba(xs)
    out = np.zeros((len(xs), len(OUTCOMES)))
    for j, k in enumerate(model.classes_):
        out[:, OUTCOMES.index(str(k))] = p[:, j]
    return out


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    idx = np.array([OUTCOMES.index(str(v)) for v in y])
    return float(-np.log(np.maximum(p[np.arange(len(y)), idx], 0.01)).mean())


def choose_logistic(
    x: pd.DataFrame, y: pd.Series, meta: pd.DataFrame, codes: Sequence[str]
) -> tuple[bool, int, float, list[dict[str, Any]]]:
    """The series indicator, window and ``C`` with the best log loss on the last session."""
    last = int(meta["session"].max())
    val = (meta["session"] == last).to_numpy()
    rows: list[dict[str, Any]] = []
    if val.all():  # a single session: nothing to validate on
        return True, max(LOGIT_SESSIONS), LOGIT_C[1], rows
    for told in (False, True):
        for sessions in LOGIT_SESSIONS:
            fit_rows = ~val & (meta["session"] > last - 1 - sessions).to_numpy()
            if len(set(y[fit_rows])) < 2:
                continue
            xs_fit = design(x[fit_rows], meta[fit_rows], codes, told)
            xs_val = design(x[val], meta[val], codes, told)
            for c in LOGIT_C:
                model = fit_logistic(xs_fit, y[fit_rows].to_numpy(), c)
                loss = _log_loss(class_probabilities(model, xs_val), y[val].to_numpy())
                rows.append({"series_indicator": told, "sessions": sessions, "C": c,
                             "log_loss": round(loss, 5)})  # fmt: skip
    if not rows:
        return True, max(LOGIT_SESSIONS), LOGIT_C[1], rows
    best = min(rows, key=lambda r: r["log_loss"])
    return bool(best["series_indicator"]), int(best["sessions"]), float(best["C"]), rows


def logit_forecast(
    history: CountryHistory,
    series: str,
    date: pd.Timestamp | str,
    session: int,
    states: Sequence[str],
    statics: StateTable,
    positions: pd.Series | None = None,
) -> tuple[pd.DataFrame, LogitChoice]:
    """P(Y, N, A, X) of ``states`` at a vote of ``series`` on ``date`` (in ``session``) from the
    logistic baseline fitted on the country-series votes of ``history`` before ``date``."""
    date = pd.Timestamp(date)
    if date > history.cut:
        raise ValueError(f"the history ends at {history.cut.date()}, before {date.date()}")
    with threadpool_limits(limits=1, user_api="blas"):
        x, y, meta = training_rows(history, statics, positions, history.before(date))
        codes = sorted(set(meta["series"]) | {series})
        told, sessions, c, table = choose_logistic(x, y, meta, codes)
        keep = (meta["session"] > int(meta["session"].max()) - sessions).to_numpy()
        model = fit_logistic(design(x[keep], meta[keep], codes, told), y[keep].to_numpy(), c)
        index = pd.Index(list(states), name="iso3")
        xf = vote_features(history, series, series, date, session, index, statics, positions)
        xf = xf.reindex(columns=x.columns).fillna(0.0)
        mf = pd.DataFrame({"series": series}, index=index)
        p = class_probabilities(model, design(xf, mf, codes, told))
    choice = LogitChoice(told, sessions, c, table, int(keep.sum()))
    return pd.DataFrame(p, index=index, columns=list(OUTCOMES)), choice


# --------------------------------------------------------------------------------------------
# The last vote, smoothed
# --------------------------------------------------------------------------------------------
def _transitions(letters: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.DataFrame, np.ndarray]:
    """Per state: consecutive recorded votes, changes, moves into each outcome; and the
    (from, to) counts of all states."""
    values = letters.to_numpy(dtype=object)
    n = np.zeros(len(values))
    changes = np.zeros(len(values))
    moves = np.zeros((len(values), len(OUTCOMES)))
    matrix = np.zeros((len(OUTCOMES), len(OUTCOMES)))
    for i, row in enumerate(values):
        seq = [OUTCOMES.index(v) for v in row if isinstance(v, str)]
        for a, b in itertools.pairwise(seq):
            n[i] += 1
            matrix[a, b] += 1
            if a != b:
                changes[i] += 1
                moves[i, b] += 1
    idx = letters.index
    return (
        pd.Series(n, index=idx),
        pd.Series(changes, index=idx),
        pd.DataFrame(moves, index=idx, columns=list(OUTCOMES)),
        matrix,
    )


def _pooled_matrix(history: CountryHistory, series: str, date: pd.Timestamp) -> np.ndarray:
    """(from, to) counts of consecutive votes on the other country series before ``date``."""
    total = np.zeros((len(OUTCOMES), len(OUTCOMES)))
    events = history.before(date)
    for code in set(events["series"]) - {series}:
        rcids = [int(r) for r in events.loc[events["series"] == code, "rcid"]]
        total += _transitions(history.letters[code][rcids])[3]
    return total


def _smoothed(
    letters: pd.DataFrame,
    states: pd.Index,
    groups: pd.Series,
    pooled: np.ndarray,
    strength: float,
) -> pd.DataFrame:
    """The smoothed last vote of ``states`` after the votes ``letters`` (module docstring)."""
    n, changes, moves, matrix = _transitions(letters)
    if pooled.sum() > 0:  # the series' rate shrunk to the other series'
        prior_rate = 1.0 - np.trace(pooled) / pooled.sum()
        rate = (changes.sum() + SERIES_RATE_PSEUDO * prior_rate) / (n.sum() + SERIES_RATE_PSEUDO)
    else:
        rate = changes.sum() / n.sum() if n.sum() > 0 else DEFAULT_RATE
    e = ((changes + strength * rate) / (n + strength)).reindex(states).fillna(rate).to_numpy()
    last = letters.ffill(axis=1).iloc[:, -1].reindex(states) if letters.shape[1] else None
    both = matrix + pooled + 1e-3
    out = np.zeros((len(states), len(OUTCOMES)))
    own = moves.reindex(states).fillna(0.0).to_numpy()
    for i, code in enumerate(states):
        v = last[code] if last is not None else None
        if not isinstance(v, str):
            continue
        a = OUTCOMES.index(v)
        off = np.delete(np.arange(len(OUTCOMES)), a)
        w = own[i, off] + MOVE_PSEUDO * both[a, off] / both[a, off].sum()
        out[i, a] = 1.0 - e[i]
        out[i, off] = e[i] * w / w.sum()
    missing = out.sum(axis=1) == 0
    if missing.any():
        latest = letters.iloc[:, -1].dropna()
        frame = pd.DataFrame({"vote": latest, "group": groups.reindex(latest.index)})
        shares = pd.crosstab(frame["group"], frame["vote"], normalize="index")
        shares = shares.reindex(columns=list(OUTCOMES), fill_value=0.0)
        overall = latest.value_counts(normalize=True).reindex(list(OUTCOMES), fill_value=0.0)
        for i in (int(j) for j in np.nonzero(missing)[0]):
            g = groups.get(states[i])
            row = shares.loc[g] if g in shares.index else overall
            out[i] = row.to_numpy(dtype=np.float64)
    return pd.DataFrame(out, index=states, columns=list(OUTCOMES))


def smoothed_last_vote(
    history: CountryHistory,
    series: str,
    date: pd.Timestamp | str,
    states: Sequence[str],
    groups: pd.Series,
    holdout: int = 3,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """P(Y, N, A, X) of ``states`` at a vote of ``series`` on ``date``: the smoothed last vote
    (module docstring), its strength chosen on the series' last ``holdout`` earlier votes."""
    date = pd.Timestamp(date)
    events = history.before(date)
    rcids = [int(r) for r in events.loc[events["series"] == series, "rcid"]]
    if not rcids:
        raise ValueError(f"no recorded vote of the {series} series before {date.date()}")
    letters = history.letters[series][rcids]
    pooled = _pooled_matrix(history, series, date)
    targets = list(range(max(1, len(rcids) - holdout), len(rcids)))
    losses = {s: 0.0 for s in STATE_RATE_PSEUDO}
    for k in targets:
        col = letters.iloc[:, k].dropna()
        idx = np.array([OUTCOMES.index(v) for v in col])
        for s in STATE_RATE_PSEUDO:
            p = _smoothed(letters.iloc[:, :k], col.index, groups, pooled, s).to_numpy()
            losses[s] += float(-np.log(np.maximum(p[np.arange(len(col)), idx], 0.01)).mean())
    strength = min(losses, key=lambda s: losses[s]) if targets else STATE_RATE_PSEUDO[1]
    index = pd.Index(list(states), name="iso3")
    info = {"strength": strength, "votes": len(targets)}
    return _smoothed(letters, index, groups, pooled, strength), info
