"""A young series' habit, judged on the comparable series' votes at the same age."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.seriesyoung import young_habit


class _Asked:
    """A stand-in for the pooled regression: it records each forecast asked of it and answers
    either uniform probabilities or the recorded votes themselves (a perfect forecast)."""

    def __init__(self, letters: dict[int, pd.Series] | None = None) -> None:
        self.asked: list[tuple[str, pd.Timestamp]] = []
        self.letters = letters

    def forecast(
        self, series: str, date: pd.Timestamp, session: int, states: list[str]
    ) -> pd.DataFrame:
        self.asked.append((series, date))
        p = np.full((len(states), 3), 1.0 / 3.0)
        if self.letters is not None:
            cast = self.letters[session].reindex(states).to_numpy()
            p = (cast[:, None] == np.array(["Y", "N", "A"])[None, :]).astype(float)
        return pd.DataFrame(p, index=pd.Index(states), columns=["Y", "N", "A"])


@pytest.fixture(scope="module")
def real(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from unsim.calibration.validation import load_real_data

    data = load_real_data(data_dir)
    return data.votes, data.roll_calls, data.members


def test_a_young_series_habit_is_judged_on_other_series_votes_at_its_age(real: tuple) -> None:
    """The DPRK's 2006 vote (one earlier recorded vote): the second vote of every other series
    dated before it, none on or after the cut; a later vote turned around changes nothing."""
    from unsim.calibration.series import find_series

    votes, roll_calls, members = real
    cut = pd.Timestamp("2006-12-19")
    asked = _Asked()
    h, se, row = young_habit(asked, real, "PRK", 1, cut)
    assert row["judged_on"] == ["IRN", "COD", "TKM", "SDN", "IRQ", "CUB"]
    assert row["earlier_votes"] == 1
    for code, date in asked.asked:
        second = find_series(roll_calls, code, votes, members).used["date"].iloc[1]
        assert date == pd.Timestamp(second) < cut
    # states mostly repeat their last vote, far more than uniform probabilities say
    assert 0.5 < h < 1.0 and se > 0
    later = votes["date"] >= cut
    turned = votes.copy()
    turned.loc[later, "vote"] = turned.loc[later, "vote"].map({1: 3, 3: 1, 2: 8, 8: 2, 9: 9})
    again = young_habit(_Asked(), (turned, roll_calls, members), "PRK", 1, cut)
    assert again is not None and again[0] == h and again[2] == row


def test_no_habit_beyond_a_forecast_that_already_knows_the_votes(real: tuple) -> None:
    from unsim.calibration.series import find_series
    from unsim.calibration.seriescal import series_votes

    votes, roll_calls, members = real
    cut = pd.Timestamp("2006-12-19")
    letters: dict[int, pd.Series] = {}
    for code in ("IRN", "COD", "TKM", "SDN", "IRQ", "CUB"):
        used = find_series(roll_calls, code, votes, members, before=cut).used
        table = series_votes(votes, members, used.head(2)).letters
        letters[int(used["session"].iloc[1])] = table.iloc[:, 1]
    got = young_habit(_Asked(letters), real, "PRK", 1, cut)
    assert got is not None and got[0] == 0.0
    # no series had 40 votes before the cut: no habit to judge there
    assert young_habit(_Asked(), real, "PRK", 40, cut) is None
