"""The statistical baselines of the time split: the logistic regression and the smoothed last vote
see nothing on or after the forecast date, and behave as their definitions say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.baselinefeatures import state_table
from unsim.calibration.baselines import logit_forecast, smoothed_last_vote
from unsim.calibration.history import CountryHistory, country_history

#: The DPRK resolution's recorded plenary vote of 18 December 2009 (session 64).
CUT = pd.Timestamp("2009-12-18")
SESSION = 64


@pytest.fixture(scope="module")
def real(data_dir: Path):
    from unsim.calibration.validation import load_real_data

    return load_real_data(data_dir)


@pytest.fixture(scope="module")
def original(real):
    return _forecasts(real.votes, real.roll_calls, real.members)


def _forecasts(votes: pd.DataFrame, roll_calls: pd.DataFrame, members: pd.DataFrame):
    history = country_history(votes, roll_calls, members, CUT, "PRK")
    states = sorted(members["iso3"])
    groups = members.set_index("iso3")["un_regional_group"]
    logit, choice = logit_forecast(history, "PRK", CUT, SESSION, states, state_table(members))
    smoothed, _ = smoothed_last_vote(history, "PRK", CUT, states, groups)
    return logit, smoothed, choice


def _corrupted(votes: pd.DataFrame, where: pd.Series) -> pd.DataFrame:
    """The votes with every row in ``where`` turned around (yes <-> no, abstain -> absent)."""
    out = votes.copy()
    swap = {1: 3, 3: 1, 2: 8, 8: 2, 9: 9}
    out.loc[where, "vote"] = out.loc[where, "vote"].map(swap)
    return out


def test_baselines_never_see_a_vote_on_or_after_the_forecast_date(real, original) -> None:
    logit, smoothed, choice = original
    assert choice.table, "the choices were validated on earlier votes"
    np.testing.assert_allclose(logit.sum(axis=1), 1.0)
    np.testing.assert_allclose(smoothed.sum(axis=1), 1.0)
    # every vote on or after the date turned around, and the later roll calls renamed: no change
    later = real.votes["date"] >= CUT
    assert later.sum() > 40_000
    calls = real.roll_calls.copy()
    calls.loc[calls["date"] >= CUT, "descr"] = "Situation of human rights in Myanmar"
    again_logit, again_smoothed, _ = _forecasts(_corrupted(real.votes, later), calls, real.members)
    pd.testing.assert_frame_equal(again_logit, logit)
    pd.testing.assert_frame_equal(again_smoothed, smoothed)
    # while the DPRK vote a year before the date moves both (the test can fail)
    earlier = real.votes["rcid"] == 4882
    assert earlier.any()
    moved_logit, moved_smoothed, _ = _forecasts(
        _corrupted(real.votes, earlier), real.roll_calls, real.members
    )
    assert float((moved_logit - logit).abs().max().max()) > 0.05
    assert float((moved_smoothed - smoothed).abs().max().max()) > 0.05


def test_the_logit_forecast_follows_the_states_records(real, original) -> None:
    """States that voted yes (no) at both of their last two DPRK votes before the date are
    forecast yes (no) most likely."""
    logit, _, choice = original
    assert choice.c > 0 and choice.sessions > 0 and choice.n_rows > 1000
    history = country_history(real.votes, real.roll_calls, real.members, CUT, "PRK")
    last_two = history.letters["PRK"].iloc[:, -2:]
    for letter in ("Y", "N"):
        steady = last_two.index[(last_two == letter).all(axis=1)]
        assert len(steady) >= 10
        assert (logit.loc[steady].idxmax(axis=1) == letter).mean() > 0.9, letter
        assert logit.loc[steady, letter].mean() > 0.75, letter


def _history_of(letters: pd.DataFrame) -> CountryHistory:
    """A minimal history with one series ``AAA`` holding ``letters``."""
    rcids = list(letters.columns)
    events = pd.DataFrame(
        {
            "series": "AAA",
            "rcid": rcids,
            "date": pd.to_datetime([f"{2000 + k}-12-15" for k in range(len(rcids))]),
            "session": [55 + k for k in range(len(rcids))],
            "k": range(len(rcids)),
        }
    )
    empty = pd.DataFrame(columns=["rcid", "session", "ccode", "vote", "date"])
    return CountryHistory(pd.Timestamp("2030-01-01"), events, {"AAA": letters}, empty, {})


def test_the_smoothed_last_vote_repeats_the_steady_states_more() -> None:
    steady = ["Y"] * 6
    fickle = ["Y", "A", "Y", "A", "Y", "A"]
    letters = pd.DataFrame(
        [steady] * 20 + [fickle] * 2 + [["N"] * 6],
        index=[f"S{i:02d}" for i in range(20)] + ["F01", "F02", "NOS"],
        columns=range(100, 106),
    )
    groups = pd.Series("g", index=[*letters.index, "NEW"])
    history = _history_of(letters)
    states = [*letters.index, "NEW"]
    p, info = smoothed_last_vote(history, "AAA", "2010-01-01", states, groups)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert info["votes"] == 3
    # the steady states repeat their last vote, never certainly (shrunk to the series' rate of
    # change); the fickle ones, which changed at every vote, more likely change again
    assert 0.9 < p.loc["S00", "Y"] < 1.0
    assert p.loc["NOS", "N"] == pytest.approx(p.loc["S00", "Y"])
    assert p.loc["F01", "A"] < 0.5
    # the fickle state's moves go where it went (abstain <-> yes), not to no
    assert p.loc["F01", "Y"] > p.loc["F01", "N"]
    # a state without a vote takes its group's shares at the last vote
    assert p.loc["NEW", "Y"] == pytest.approx(20 / 23)
