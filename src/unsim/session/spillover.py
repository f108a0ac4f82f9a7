"""A draft's content moving the session's other drafts' votes (``linkage.spillover``).

A draft with ICC language changes each state's stance on it by what the language costs the
state in that run: its ICC cost as drawn (``behaviour.icc_aversion`` and the blocs' and states'
own, their lever draws where the scenario gives distributions: the draft's run table has them),
times the factor of the language's status at the end of the run (retained 1, softened 0.5,
dropped 0) and the draft's ``clause_pass_through``. The spillover carries a share s of that
change to the state's support on every other draft of the session, s drawn once per run from
the linkage's distribution on the session's stream ``session:spillover`` (no other draw moves).

The drafts with such content run first; each other draft then gets the sum of their changes,
by session row and run, through its :class:`~unsim.session.linkage.DraftLinkage` (``spill``),
which adds s times it to support at the start of each block. Without spillover (none, or a
distribution of 0) nothing is added and the drafts give what they give without it, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from unsim.model.levers import icc_owner
from unsim.model.params import build_parameters, effective_behaviour
from unsim.model.rules import ICC_FACTOR
from unsim.scenario.drawn import column_name
from unsim.scenario.schema import Scenario, World
from unsim.streams import Streams
from unsim.uncertainty.distributions import Distribution

F = NDArray[np.float32]

SPILL_STREAM = "session:spillover"


def has_content(draft: Scenario) -> bool:
    """Whether the draft carries content that spills (ICC language)."""
    return bool(draft.resolution.clauses.icc_referral)


def content_change(draft: Scenario, runs: pd.DataFrame) -> F:
    """(states of the draft's world, runs) each state's change of stance on ``draft`` from
    its ICC language in each run of its run table ``runs`` (module docstring); 0 for the
    target, whose vote is set."""
    world = draft.world
    assert isinstance(world, World)
    params = build_parameters(draft)
    n = len(runs)
    cost = np.repeat(np.asarray(params.traits.icc_aversion, np.float32)[:, None], n, axis=1)
    owner = icc_owner(draft, world)
    for path in sorted(set(owner)):
        column = column_name(path)
        if column in runs:
            cost[owner == path] = runs[column].to_numpy(np.float32)[None, :]
    codes, statuses = pd.factorize(runs["icc_status"])  # a few statuses, many runs
    factors = np.array([ICC_FACTOR[str(x)] for x in statuses] + [np.nan], dtype=np.float32)
    status = factors[codes]  # none (code -1): NaN, as the mapping gave
    share = np.float32(effective_behaviour(draft).clause_pass_through)
    cost *= -(share * status)[None, :]
    out = cost
    out[world.index[draft.resolution.target]] = 0.0
    return out


def in_session_rows(change: F, draft: Scenario, session_world: World) -> F:
    """``change`` (the draft's states, runs) on the session world's rows (0 where the draft's
    world has no such state)."""
    world = draft.world
    assert isinstance(world, World)
    out = np.zeros((len(session_world.states), change.shape[1]), dtype=np.float32)
    index = session_world.index
    for i, code in enumerate(world.codes):
        if code in index:
            out[index[code]] = change[i]
    return out


def spill_draws(dist: Distribution | float, master_seed: int, block: int, replicates: int) -> F:
    """(replicates,) the spillover's share in each run of ``block`` (its own stream)."""
    if isinstance(dist, float):
        return np.full(replicates, dist, dtype=np.float32)
    u = Streams(master_seed, block).generator(SPILL_STREAM).random(replicates)
    return np.asarray(dist.ppf(u), dtype=np.float32)


def spills(dist: Distribution | float | None) -> bool:
    """Whether the spillover can be other than 0."""
    if dist is None or isinstance(dist, float):
        return bool(dist)
    probe = dist.ppf(np.array([0.001, 0.5, 0.999]))
    return bool(np.any(probe != 0))
