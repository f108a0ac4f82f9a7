"""The features of the logistic baseline (:mod:`.baselines`): what a statistician would regress a
state's vote on a country's human-rights resolution on, from the record before the vote.

For state ``i`` at a vote of series ``S`` (on country ``T``) on ``date``, in session ``s``:

- ``last1_*``, ``last2_*``: its last and second-to-last recorded votes on ``S`` (one-hot Y, N,
  A, X, or ``none``), and ``gap``: the years since the last one (capped at
  :data:`GAP_CAP`, 0 without one);
- ``other_*``: its latest recorded vote on any other country series in the same or the previous
  session (one-hot, or ``none``), and ``share_*``: its shares of Y, N, A and X over all those
  votes;
- ``us_agree``, ``target_agree``: its agreement with the United States and with ``T`` on the
  roll calls of sessions ``s - 1`` and ``s - 2`` (same vote 1, one abstaining 1/2, opposite 0;
  the mean over the states where unknown, with ``target_none`` flagging it), ``absence``: its
  share of absences there;
- ``group_*``, ``bloc_*``: its regional group and blocs (the member-state table);
- ``position``: its ideal point, when given;
- ``series_*``: which series, when the model is told.

The rows of a past vote are its recorded votes (``Y``, ``N``, ``A``, ``X``); everything on them is
taken from the history before that vote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd

from unsim.calibration.history import CountryHistory

__all__ = ["BLOC_COLUMNS", "GAP_CAP", "OUTCOMES", "StateTable", "state_table", "vote_features"]

OUTCOMES = ("Y", "N", "A", "X")
_LAGS = (*OUTCOMES, "none")
#: Years since a state's last vote on the series, at most (a longer gap counts as this).
GAP_CAP = 5.0
#: Bloc flags of the member-state table used as features.
BLOC_COLUMNS = ("eu_2014", "au_2014", "oic", "nam_2014", "g77", "p5")
GROUPS = ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG")


StateTable: TypeAlias = pd.DataFrame
"""index ISO3: ``group_*`` and ``bloc_*`` indicator columns"""


def state_table(members: pd.DataFrame) -> StateTable:
    """Each member state's regional group and blocs as 0/1 columns."""
    m = members.set_index("iso3")
    out = pd.DataFrame(index=m.index)
    for g in GROUPS:
        out[f"group_{g}"] = (m["un_regional_group"] == g).astype(np.float64)
    for col in BLOC_COLUMNS:
        if col in m.columns:
            flag = m[col].astype(str).str.lower().isin(["true", "1", "yes"])
            out[f"bloc_{col}"] = flag.astype(np.float64)
    return out


def _onehot(letters: pd.Series, prefix: str, index: pd.Index) -> pd.DataFrame:
    values = letters.reindex(index)
    return pd.DataFrame(
        {f"{prefix}_{k}": (values == k if k != "none" else values.isna()) for k in _LAGS},
        index=index,
    ).astype(np.float64)


def _own_lags(
    history: CountryHistory, series: str, date: pd.Timestamp, index: pd.Index
) -> list[pd.DataFrame]:
    """The last two recorded votes on ``series`` before ``date`` and the years since the last."""
    table = history.letters.get(series)
    events = history.before(date)
    mine = events[events["series"] == series]
    if table is None or mine.empty:
        none = pd.Series(np.nan, index=index, dtype=object)
        gap = pd.DataFrame({"gap": 0.0}, index=index)
        return [_onehot(none, "last1", index), _onehot(none, "last2", index), gap]
    cols = [int(r) for r in mine["rcid"]]
    t = table.reindex(index=index, columns=cols)
    values = t.to_numpy(dtype=object)
    recorded = pd.notna(values)
    last1 = np.full(len(index), np.nan, dtype=object)
    last2 = np.full(len(index), np.nan, dtype=object)
    when = np.full(len(index), np.nan)
    dates = pd.to_datetime(mine["date"]).to_numpy()
    for j in range(values.shape[1]):  # later votes overwrite earlier ones
        seen = recorded[:, j]
        last2[seen] = last1[seen]
        last1[seen] = values[seen, j]
        when[seen] = (date - pd.Timestamp(dates[j])).days / 365.25
    gap = pd.DataFrame({"gap": np.nan_to_num(np.minimum(when, GAP_CAP), nan=0.0)}, index=index)
    return [
        _onehot(pd.Series(last1, index=index), "last1", index),
        _onehot(pd.Series(last2, index=index), "last2", index),
        gap,
    ]


def _other_series(
    history: CountryHistory, series: str, date: pd.Timestamp, session: int, index: pd.Index
) -> list[pd.DataFrame]:
    """The latest vote on another country series in the same or the previous session, and the
    shares of each outcome over them."""
    events = history.before(date)
    near = events[(events["series"] != series) & (events["session"] >= session - 1)]
    latest = pd.Series(np.nan, index=index, dtype=object)
    counts = pd.DataFrame(0.0, index=index, columns=list(OUTCOMES))
    for _, e in near.iterrows():  # oldest first: later votes overwrite
        col = history.letters[str(e["series"])][int(e["rcid"])].reindex(index)
        latest.update(col.dropna())
        for k in OUTCOMES:
            counts[k] += (col == k).to_numpy(dtype=np.float64)
    total = counts.sum(axis=1)
    shares = counts.div(total.where(total > 0), axis=0).fillna(0.0)
    shares.columns = [f"share_{k}" for k in OUTCOMES]
    return [_onehot(latest, "other", index), shares]


def _agreement(history: CountryHistory, target: str, session: int, index: pd.Index) -> pd.DataFrame:
    sessions = [session - 2, session - 1]
    us, _ = history.agreement("USA", sessions)
    tg, _ = history.agreement(target, sessions)
    us, tg = us.reindex(index), tg.reindex(index)
    absence = history.absence_rate(sessions).reindex(index)
    return pd.DataFrame(
        {
            "us_agree": us.fillna(us.mean() if us.notna().any() else 0.5),
            "target_agree": tg.fillna(tg.mean() if tg.notna().any() else 0.5),
            "target_none": tg.isna().astype(np.float64),
            "absence": absence.fillna(absence.mean() if absence.notna().any() else 0.1),
        },
        index=index,
    )


def vote_features(
    history: CountryHistory,
    series: str,
    target: str,
    date: pd.Timestamp,
    session: int,
    states: Sequence[str],
    statics: StateTable,
    positions: pd.Series | None = None,
) -> pd.DataFrame:
    """The features (module docstring) of ``states`` at a vote of ``series`` on ``target`` on
    ``date`` in ``session``, from the history before ``date``."""
    index = pd.Index(list(states), name="iso3")
    parts = [
        *_own_lags(history, series, date, index),
        *_other_series(history, series, date, session, index),
        _agreement(history, target, session, index),
        statics.reindex(index).fillna(0.0),
    ]
    if positions is not None:
        pos = positions.reindex(index)
        parts.append(pd.DataFrame({"position": pos.fillna(0.0)}, index=index))
    return pd.concat(parts, axis=1)
