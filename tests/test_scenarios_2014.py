"""The shipped 2014 scenarios of Iran, Syria and Myanmar: valid, each with its own calibration,
and the facts written into them by hand (co-sponsors, allies, patrons) true of the recorded
votes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from unsim import load_scenario, run
from unsim.calibration.series import find_series
from unsim.data import load_members, load_roll_calls, load_votes
from unsim.scenario.schema import Calibration, World

from .conftest import SCENARIOS

CASES = {
    "iran_2014": ("IRN", "2003-01-01"),
    "syria_2014": ("SYR", "2011-01-01"),
    "myanmar_2014": ("MMR", "2006-01-01"),
}


@pytest.fixture(scope="module")
def records(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Per series: a row per state and recorded plenary vote since the date, with its iso3."""
    votes = load_votes(data_dir / "unga_votes_1946_2014-09.csv.gz")
    roll_calls = load_roll_calls(data_dir / "unga_roll_calls_1946_2014-09.csv")
    members = load_members(data_dir / "un_member_states_2014.csv")
    iso3 = dict(zip(members["cow"], members["iso3"], strict=True))
    out = {}
    for name, (target, since) in CASES.items():
        series = find_series(roll_calls, target, votes=votes, members=members, before="2014-11-18")
        dates = pd.to_datetime(series.used["date"])
        rcids = [r for r, d in zip(series.rcids, dates, strict=True) if d >= pd.Timestamp(since)]
        v = votes[votes["rcid"].isin(rcids)].copy()
        v["iso3"] = v["ccode"].map(iso3)
        out[name] = v
    return out


def _share(v: pd.DataFrame, code: int) -> pd.Series:
    return (v["vote"] == code).groupby(v["iso3"]).mean()


@pytest.mark.parametrize("name", sorted(CASES))
def test_scenario_is_valid_and_has_its_own_calibration(name: str) -> None:
    s = load_scenario(SCENARIOS / f"{name}.yaml")
    assert isinstance(s.calibration, Calibration)
    assert s.calibration.provenance["series"] == CASES[name][0]
    assert s.resolution.target == CASES[name][0]
    assert not s.resolution.clauses.icc_referral


def test_the_hand_written_facts_hold_in_the_recorded_votes(
    records: dict[str, pd.DataFrame],
) -> None:
    iran, syria, myanmar = records["iran_2014"], records["syria_2014"], records["myanmar_2014"]
    assert iran["rcid"].nunique() == 11 and syria["rcid"].nunique() == 3
    assert myanmar["rcid"].nunique() == 5
    for name, v, least_yes, least_no in (
        ("iran_2014", iran, 10 / 11, 10 / 11),
        ("syria_2014", syria, 1.0, 1.0),
        ("myanmar_2014", myanmar, 1.0, 1.0),
    ):
        s = load_scenario(SCENARIOS / f"{name}.yaml")
        world = s.world
        assert isinstance(world, World)
        yes, no = _share(v, 1), _share(v, 3)
        refs = s.resolution.sponsors + s.resolution.cosponsors
        camp = [c for r in refs for c in world.members_of(r)]
        low = {c: round(float(yes.get(c, 0.0)), 2) for c in camp if yes.get(c, 0.0) < least_yes}
        assert not low, f"{name}: sponsors or co-sponsors that did not vote yes: {low}"
        allies = s.actors.allies.members
        weak = {c: round(float(no.get(c, 0.0)), 2) for c in allies if no.get(c, 0.0) < least_no}
        assert not weak, f"{name}: allies that did not vote no: {weak}"
    assert (_share(iran, 3)[["RUS", "CHN"]] == 1.0).all()
    assert (_share(syria, 3)[["RUS", "CHN"]] >= 2 / 3).all()
    assert (_share(myanmar, 3)[["RUS", "CHN"]] == 1.0).all()


def test_myanmar_2012_and_2013_have_no_recorded_vote(data_dir: Path) -> None:
    """A/RES/67/233 and A/RES/68/242 were adopted without a vote: the roll calls hold no vote
    on either resolution as a whole (the record of adoptions without a vote counts them), and
    Myanmar's last recorded vote is of 2011, three sessions before 2014's."""
    from unsim.session.calibrate import PUBLIC_WITHOUT_VOTE

    roll_calls = load_roll_calls(data_dir / "unga_roll_calls_1946_2014-09.csv")
    whole = roll_calls[(roll_calls["amend"] != 1) & (roll_calls["para"] != 1)]
    symbols = {str(u) for u in whole["unres"].dropna()}
    listed = [symbol for _, symbol, _ in PUBLIC_WITHOUT_VOTE["MMR"]]
    assert listed == ["A/RES/67/233", "A/RES/68/242"]
    for symbol in listed:
        assert symbol.replace("A/RES/", "R/") not in symbols, symbol
    text = whole["descr"].fillna("") + " " + whole["short"].fillna("")
    about = whole[whole["session"].isin([67, 68]) & text.str.contains("Myanmar")]
    assert about.empty, about[["rcid", "unres"]]
    votes = load_votes(data_dir / "unga_votes_1946_2014-09.csv.gz")
    members = load_members(data_dir / "un_member_states_2014.csv")
    series = find_series(roll_calls, "MMR", votes=votes, members=members, before="2014-11-18")
    assert int(series.used["session"].max()) == 66
    s = load_scenario(SCENARIOS / "myanmar_2014.yaml")
    assert isinstance(s.calibration, Calibration)
    gap = s.calibration.diagnostics["habit_gap"]
    assert gap["sessions_since_last_vote"] == 3
    assert gap["habit_carried"] < gap["habit_one_session"]


def test_iran_and_syria_forecasts_differ() -> None:
    tallies = {}
    for name in CASES:
        r = run(load_scenario(SCENARIOS / f"{name}.yaml"), runs=1000, seed=5)
        tallies[name] = r.summary["tallies"]["plenary"]["yes"]["q50"]
    assert abs(tallies["iran_2014"] - tallies["syria_2014"]) > 10, tallies
