"""The time split's world restricted to the members at a vote (``validation.restrict_world``)."""

from __future__ import annotations

from unsim.calibration.validation import DEFAULT_WORLD, restrict_world
from unsim.scenario import World, load_world


def test_a_restricted_world_keeps_only_its_members_in_every_body() -> None:
    world = load_world(DEFAULT_WORLD)
    council = world.memberships["human_rights_council"].members
    assert "MNE" in council  # a member of the Council in 2014, of the UN from 2006 only
    keep = [c for c in world.codes if c != "MNE"]
    raw = restrict_world(world, keep)
    restricted = World.model_validate(raw)
    assert "MNE" not in restricted.codes
    kept = restricted.memberships["human_rights_council"].members
    assert kept == [c for c in council if c != "MNE"]
    for bloc in restricted.blocs.values():
        assert "MNE" not in bloc.members
