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
