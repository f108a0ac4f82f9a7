"""The hand-written 2014 world file, checked fact by fact against the real UN data."""

from __future__ import annotations

from pathlib import Path

import countrygroups
import pandas as pd
import pytest

from unsim.scenario import load_scenario, load_world

from .conftest import DEFAULT_SCENARIO, SCENARIOS

WORLD = SCENARIOS / "worlds" / "un_2014.yaml"


@pytest.fixture(scope="module")
def members(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / "un_member_states_2014.csv").set_index("iso3")


def test_world_has_the_193_member_states_with_their_regional_groups(members: pd.DataFrame) -> None:
    world = load_world(WORLD)
    assert sorted(world.codes) == sorted(members.index)
    for s in world.states:
        assert s.group == members.loc[s.iso3, "un_regional_group"], s.iso3
        also = members.loc[s.iso3, "also_in_group"]
        assert s.also_in_group == (also if isinstance(also, str) else None), s.iso3


def test_regional_groups_agree_with_countrygroups_package() -> None:
    world = load_world(WORLD)
    assert set(world.codes) == set(countrygroups.UN_REGIONAL_GROUPS)


@pytest.mark.parametrize(
    ("bloc", "column", "size"),
    [("EU", "eu_2014", 28), ("AU", "au_2014", 53), ("NAM", "nam_2014", 119), ("G77", "g77", 133)],
)
def test_blocs_as_of_2014(members: pd.DataFrame, bloc: str, column: str, size: int) -> None:
    world = load_world(WORLD)
    expected = sorted(members.index[members[column]])
    assert sorted(world.blocs[bloc].members) == expected
    assert len(expected) == size


def test_oic_lists_its_active_members(members: pd.DataFrame) -> None:
    world = load_world(WORLD)
    active = members.index[members["oic"] & ~members["oic_suspended_2014"]]
    assert sorted(world.blocs["OIC"].members) == sorted(active)
    assert "SYR" not in world.blocs["OIC"].members


def test_security_council_2014(members: pd.DataFrame) -> None:
    world = load_world(WORLD)
    sc = world.security_council
    assert sorted(sc.permanent) == sorted(members.index[members["p5"]])
    assert sorted(sc.permanent + sc.elected) == sorted(members.index[members["unsc_2014"]])


def test_scenario_allies_voted_no_on_a_past_dprk_resolution(data_dir: Path) -> None:
    """The allies written into the scenario are states that voted against the DPRK resolution
    in the last recorded plenary roll call before the forecast (2011)."""
    s = load_scenario(DEFAULT_SCENARIO)
    votes = pd.read_csv(
        data_dir / "unga_votes_1946_2014-09.csv.gz",
        usecols=["rcid", "ccode", "vote"],
    )
    m = pd.read_csv(data_dir / "un_member_states_2014.csv")
    cow = dict(zip(m.cow, m.iso3, strict=True))
    last = votes[votes.rcid == 5133]
    no = {cow[c] for c in last.loc[last.vote == 3, "ccode"] if c in cow}
    assert set(s.actors.allies.members) <= no
    assert set(s.actors.allies.patrons) <= no


#: The Human Rights Council's members as of 1 January 2014, by their names in the UN's list.
HRC_2014 = {
    "Algeria": "DZA", "Argentina": "ARG", "Austria": "AUT", "Benin": "BEN", "Botswana": "BWA",
    "Brazil": "BRA", "Burkina Faso": "BFA", "Chile": "CHL", "China": "CHN", "Congo": "COG",
    "Costa Rica": "CRI", "Côte d'Ivoire": "CIV", "Cuba": "CUB", "Czech Republic": "CZE",
    "Estonia": "EST", "Ethiopia": "ETH", "France": "FRA", "Gabon": "GAB", "Germany": "DEU",
    "India": "IND", "Indonesia": "IDN", "Ireland": "IRL", "Italy": "ITA", "Japan": "JPN",
    "Kazakhstan": "KAZ", "Kenya": "KEN", "Kuwait": "KWT", "Maldives": "MDV", "Mexico": "MEX",
    "Montenegro": "MNE", "Morocco": "MAR", "Namibia": "NAM", "Pakistan": "PAK", "Peru": "PER",
    "Philippines": "PHL", "Republic of Korea": "KOR", "Romania": "ROU",
    "Russian Federation": "RUS", "Saudi Arabia": "SAU", "Sierra Leone": "SLE",
    "South Africa": "ZAF", "the former Yugoslav Republic of Macedonia": "MKD",
    "United Arab Emirates": "ARE", "United Kingdom": "GBR", "United States": "USA",
    "Venezuela": "VEN", "Viet Nam": "VNM",
}  # fmt: skip


def test_human_rights_council_2014(members: pd.DataFrame) -> None:
    """47 UN members in 2014, with the Council's seats by region (General Assembly resolution
    60/251): 13 African, 13 Asia-Pacific, 6 Eastern European, 8 Latin American and Caribbean,
    7 Western European and other states."""
    world = load_world(WORLD)
    hrc = world.memberships["human_rights_council"].members
    assert len(hrc) == len(set(hrc)) == len(HRC_2014) == 47
    assert sorted(hrc) == sorted(HRC_2014.values())
    assert set(hrc) <= set(members.index)  # UN member states in 2014
    seats = members.loc[hrc, "un_regional_group"].value_counts().to_dict()
    assert seats == {
        "African": 13,
        "Asia-Pacific": 13,
        "Eastern European": 6,
        "GRULAC": 8,
        "WEOG": 7,
    }
