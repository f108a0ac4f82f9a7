"""A session's actors acting across its drafts (``shared_actors``): each is merged into a draft's
scenario before the draft is validated, so a draft runs exactly as a scenario file saying the same
would.

``allies_across_drafts`` extends each draft's ally coalition (``actors.allies.members``) with the
other drafts' targets and allies (``true``) or the states listed: each then leans against the
draft, counter-lobbies with the coalition and, where the draft's procedure moves one, moves the
no-action motion with it. A draft's own target, sponsors and co-sponsors are left out of its
coalition. ``strategies`` appends a strategy entry to one draft's target strategies, run (as the
session says) by another draft's target: the draft's strategies are its target's side of the
deliberation, so the entry acts there as one of the target's own.
"""

from __future__ import annotations

import copy
from typing import Any

from unsim.errors import Problem, did_you_mean
from unsim.scenario.schema import Scenario, World
from unsim.scenario.session import SharedActors, SharedAllies


def shared_states(shared: SharedActors, drafts: dict[str, Scenario]) -> list[str]:
    """The states that join the ally coalition of every draft where they are not the target, in
    order: the listed ones, or (``true``) each draft's target and allies."""
    given = shared.allies_across_drafts
    if isinstance(given, SharedAllies):
        return list(dict.fromkeys(given.members))
    if not given:
        return []
    out: list[str] = []
    for d in drafts.values():
        assert isinstance(d.world, World)
        out.append(d.resolution.target)
        out += [c for r in d.actors.allies.members for c in d.world.members_of(r)]
    return list(dict.fromkeys(out))


def merge_shared(
    name: str, data: dict[str, Any], shared: SharedActors, drafts: dict[str, Scenario]
) -> dict[str, Any]:
    """Draft ``name``'s scenario data (after its ``set:`` overrides) with the session's shared
    actors merged in; ``drafts`` are the drafts loaded without them."""
    data = copy.deepcopy(data)
    own = drafts[name]
    world = own.world
    assert isinstance(world, World)
    camp = [*own.resolution.sponsors, *own.resolution.cosponsors, *own.actors.allies.members]
    out = {own.resolution.target} | {c for r in camp for c in world.members_of(r)}
    add = [c for c in shared_states(shared, drafts) if c not in out]
    actors = data.setdefault("actors", {})
    if add:
        allies = actors.setdefault("allies", {})
        allies["members"] = [*(allies.get("members") or []), *add]
    entries = [dict(e.strategy) for e in shared.strategies if e.draft == name]
    if entries:
        target = actors.setdefault("target", {})
        target["strategies"] = [*(target.get("strategies") or []), *entries]
    return data


def shared_problems(shared: SharedActors, drafts: list[str]) -> list[Problem]:
    """The strategies' draft names: each a draft of the session, ``from`` another one."""
    out: list[Problem] = []
    for i, e in enumerate(shared.strategies):
        key = f"shared_actors.strategies[{i}]"
        for field, value in (("draft", e.draft), ("from", e.from_)):
            if value not in drafts:
                out.append(
                    Problem(
                        f"{key}.{field}",
                        "not a draft of the session",
                        value,
                        True,
                        ", ".join(drafts),
                        did_you_mean(value, drafts),
                    )
                )
        if e.draft == e.from_:
            message = "a draft's own target strategies go in its scenario (actors.target)"
            out.append(Problem(f"{key}.from", message, e.from_, True))
    return out
