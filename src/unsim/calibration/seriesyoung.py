"""The habit of a young series, judged on the comparable series' votes at the same age.

A series with fewer than three votes in the window has no own model to weigh: its states' votes
given presence are the pooled regression's (:mod:`.seriesmix`), with the habit
(:mod:`.serieshabit`). The regression reads a state's last two votes on the series; on a young
series it has one or two, and the series' own term rests on as few. How much more a state repeats
its last vote than the regression says is then a question about votes like this one: the habit
is fitted by likelihood on every comparable series' vote that had as many earlier recorded votes
as the forecast's series has (its ``depth``-th vote, counted from its first), dated before the
cut, each forecast by the pooled regression fitted on the votes before it, over the states
present with an earlier present vote on that series (the target left out). Without such a vote
(no series that old before the cut) the caller keeps the habit judged on the comparable series'
last votes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from unsim.calibration.series import COMPARABLE, find_series
from unsim.calibration.seriesfit import CATEGORY
from unsim.calibration.serieshabit import fit_habit, last_votes
from unsim.calibration.seriesmix import PooledRegression

__all__ = ["young_habit"]


def _vote_at_depth(
    regression: PooledRegression, data: Any, code: str, depth: int, cut: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray] | None:
    """The pooled regression's probability of each vote cast at the ``depth``-th vote of the
    series ``code`` (0-based, before ``cut``), and whether it repeated the state's last vote."""
    from unsim.calibration.seriescal import series_votes

    votes, roll_calls, members = data
    used = find_series(roll_calls, code, votes, members, before=cut).used.reset_index(drop=True)
    if len(used) <= depth:
        return None
    letters = series_votes(votes, members, used.head(depth + 1)).letters
    letters = letters.drop(index=code, errors="ignore")
    col = letters.iloc[:, depth]
    before = last_votes(letters.iloc[:, :depth]).reindex(col.index)
    keep = col.isin(list(CATEGORY)) & before.notna()
    if not keep.any():
        return None
    date = pd.Timestamp(used.loc[depth, "date"])
    try:
        p = regression.forecast(code, date, int(used.loc[depth, "session"]), list(col.index[keep]))
    except ValueError:  # no country-series vote before it to learn from
        return None
    cast = col[keep]
    chosen = p.to_numpy()[np.arange(len(cast)), [p.columns.get_loc(v) for v in cast]]
    return np.asarray(chosen, dtype=np.float64), (cast == before[keep]).to_numpy(np.float64)


def young_habit(
    regression: PooledRegression,
    data: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    series: str,
    depth: int,
    cut: pd.Timestamp,
) -> tuple[float, float, dict[str, Any]] | None:
    """``(habit, its standard error, the table's row)`` judged on the comparable series' votes
    with ``depth`` earlier recorded votes before ``cut`` (module docstring); None without any.
    ``data``: the votes, roll calls and members."""
    p, r, judged = [], [], []
    for code in COMPARABLE:
        if code == series:
            continue
        got = _vote_at_depth(regression, data, code, depth, cut)
        if got is not None:
            p.append(got[0])
            r.append(got[1])
            judged.append(code)
    if not p:
        return None
    h, se = fit_habit(np.concatenate(p), np.concatenate(r))
    row = {
        "habit": round(float(h), 4),
        "standard_error": round(float(se), 4) if np.isfinite(se) else None,
        "earlier_votes": depth,
        "judged_on": judged,
        "n": int(sum(len(x) for x in p)),
    }
    return h, se, row
