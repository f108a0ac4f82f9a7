"""The Council's record (src/unsim/council/record.yaml): every entry valid, dated before the cut,
sourced, and consistent with the real data where both hold it."""

from __future__ import annotations

import datetime as dt
import gzip
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from unsim.council.cases import scored, vote_cases
from unsim.council.record import PERMANENT, load_record, parse_record
from unsim.errors import InputError
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO

CUT = dt.date(2014, 11, 18)


@pytest.fixture(scope="module")
def world():
    return load_scenario(DEFAULT_SCENARIO).world


def test_every_entry_is_dated_before_the_cut_and_sourced(world) -> None:
    record = load_record()
    assert record.cut == CUT
    codes = set(world.codes)
    for w in record.tabling:
        assert w.sought_from < CUT and w.end <= CUT, w.key
        assert w.sources and all(s.strip() for s in w.sources)
        assert w.target in codes and set(w.opposed_by) <= set(PERMANENT)
    for v in record.votes:
        assert v.date < CUT and v.sources, v.key
        assert v.target in codes
        if v.members != "data_file":
            letters = v.members.letters()
            assert len(letters) == 15 and set(letters) <= codes
            assert set(PERMANENT) <= set(letters)
    # the windows as recorded: three tabled (Darfur, Libya, Syria), two sought and not tabled
    tabled = {w.key: w.tabled for w in record.tabling}
    assert tabled["darfur"] == dt.date(2005, 3, 31) and tabled["libya"] == dt.date(2011, 2, 26)
    assert tabled["syria"] == dt.date(2014, 5, 22)
    assert tabled["gaza"] is None and tabled["dprk"] is None


def test_a_window_as_known_on_an_earlier_day() -> None:
    record = load_record()
    before_syria = {w.key: w for w in record.windows_before(dt.date(2014, 5, 22))}
    # the Syria referral was not yet tabled on the morning of its vote; the DPRK's window is
    # cut at that day; Libya's was known
    assert before_syria["syria"].tabled is None
    assert before_syria["syria"].until == dt.date(2014, 5, 22)
    assert before_syria["dprk"].until == dt.date(2014, 5, 22)
    assert before_syria["libya"].tabled == dt.date(2011, 2, 26)
    # nothing was sought before Darfur's window opened
    assert record.windows_before(dt.date(2005, 1, 31)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    until: 2014-11-18", "    until: 2015-01-02"), "after the cut"),
        (("opposed_by: [USA]", "opposed_by: [DEU]"), "not permanent members"),
        (("      abstaining: [CHN, DZA, RUS]", "      abstaining: [CHN, DZA]"), "15 distinct"),
        (
            ("    tabled: 2011-02-26", "    tabled: 2011-02-26\n    until: 2011-03-01"),
            "exactly one",
        ),
    ],
)
def test_a_bad_record_is_a_clear_error(change: tuple[str, str], message: str) -> None:
    text = (resources.files("unsim.council") / "record.yaml").read_text()
    old, new = change
    assert old in text
    bad = text.replace(old, new, 1)
    with pytest.raises(InputError, match=message):
        parse_record(bad, "record.yaml")


@pytest.mark.data
def test_the_votes_member_by_member(data_dir: Path, world) -> None:
    cases = {c.key: c for c in vote_cases(data_dir, world)}
    tallies = {
        k: tuple(sum(v == x for v in c.votes.values()) for x in "YNA") for k, c in cases.items()
    }
    assert tallies == {
        "darfur_1564": (11, 0, 4),  # SC/8191
        "darfur_1591": (12, 0, 3),  # SC/8346
        "darfur_2005": (11, 0, 4),
        "libya_2011": (15, 0, 0),
        "syria_2011_10": (9, 2, 4),  # SC/10403
        "syria_2012_02": (13, 2, 0),  # SC/10536
        "syria_2012_07": (11, 2, 2),  # SC/10714
        "syria_2014": (13, 2, 0),
    }
    # patrons and dissenters from the earlier votes on the situation, never from the vote itself
    assert cases["darfur_1591"].patrons == ("CHN", "RUS")
    assert cases["darfur_1591"].dissenters == ("DZA",)
    assert cases["darfur_2005"].dissenters == ("DZA",)  # Brazil voted for 1591
    assert cases["syria_2011_10"].patrons == () and cases["libya_2011"].patrons == ()
    assert cases["syria_2012_02"].dissenters == ("IND", "ZAF")  # Brazil, Lebanon had left
    assert cases["syria_2012_07"].dissenters == ("IND", "ZAF")  # Pakistan voted yes in February
    assert cases["syria_2014"].patrons == ("CHN", "RUS") and cases["syria_2014"].dissenters == ()
    assert next(c.key for c in scored(list(cases.values()))) == "darfur_1591"
    assert [c.key for c in vote_cases(data_dir, world, before=dt.date(2012, 1, 1))][-1] == (
        "syria_2011_10"
    )


@pytest.mark.data
def test_the_gaza_window_against_the_assembly_roll_call(data_dir: Path) -> None:
    """The record says the United States voted against resolution 64/10 (114-18-44)."""
    calls = pd.read_csv(data_dir / "unga_roll_calls_1946_2014-09.csv")
    rcid = int(calls.loc[calls["unres"] == "R/64/10", "rcid"].iloc[0])
    with gzip.open(data_dir / "unga_votes_1946_2014-09.csv.gz", "rt") as f:
        votes = pd.read_csv(f, usecols=["rcid", "vote", "ccode"])
    call = votes[votes["rcid"] == rcid]
    assert [int((call["vote"] == k).sum()) for k in (1, 3, 2)] == [114, 18, 44]
    assert int(call.loc[call["ccode"] == 2, "vote"].iloc[0]) == 3  # the United States: no
