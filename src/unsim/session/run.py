"""Running the drafts of a session together: each on its own seed, all on the session's linkage.

Each draft runs through the engine as it would alone (``unsim.engine.core.run``), with the seed
:func:`draft_seed` derives from the session's master seed and the draft's name: its own draws are
exactly those of ``unsim run DRAFT.yaml --seed THAT_SEED``, and two drafts never share their own
streams. What links them, the per-state factor and the session shock, comes from the streams of
the session's master seed (``unsim.session.linkage``): run r of every draft draws the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from unsim.engine.rng import new_master_seed
from unsim.limits import MAX_SEED
from unsim.results.tables import Results
from unsim.scenario.schema import Scenario, World
from unsim.scenario.session import Session
from unsim.session.linkage import DraftLinkage, linked, rows_in
from unsim.session.load import LoadedSession
from unsim.streams import stream_key

#: Least share of a draft's vote noise the factor leaves (``noise_share``).
MIN_NOISE_SHARE = 0.1


def draft_seed(master: int, name: str) -> int:
    """The seed draft ``name`` of a session runs on: from the session's master seed and the
    name (``numpy.random.SeedSequence``), so that no two drafts share their own streams."""
    seq = np.random.SeedSequence(int(master), spawn_key=(stream_key(f"session:draft:{name}"),))
    return int(seq.generate_state(1, np.uint64)[0]) % (MAX_SEED + 1)


@dataclass
class SessionResults:
    """The results of a session: each draft's, and the joint run table."""

    session: Session
    seed: int
    runs: int
    draft_seeds: dict[str, int]
    drafts: dict[str, Results]
    table: pd.DataFrame  #: run, then DRAFT.COLUMN for every draft, then the session's columns
    summary: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


def draft_linkages(loaded: LoadedSession, seed: int) -> dict[str, DraftLinkage]:
    """Each draft's linkage under the session's master ``seed``."""
    world = loaded.session.world
    assert isinstance(world, World)
    link = loaded.session.linkage_values()
    out = {}
    for name, draft in loaded.drafts.items():
        assert isinstance(draft.world, World)
        out[name] = DraftLinkage(
            master_seed=int(seed),
            rows=rows_in(draft.world, world),
            n_session=len(world.states),
            factor_sd=link.state_factor.sd,
            shock_sd=link.session_shock.sd,
            shock_from_level=link.shock_from_level,
            copula_rho=0.0 if link.vote_copula is None else link.vote_copula.rho,
        )
    return out


def noise_share(draft: Scenario, factor_sd: float) -> float:
    """What a draft's vote noise is scaled by when the factor is the shared part of it: the
    logistic noise's variance (pi^2 / 3) s^2 less the factor's, at least 1 % of it left."""
    from unsim.model.params import effective_behaviour

    s = effective_behaviour(draft).vote_noise
    variance = math.pi**2 / 3 * s * s
    return math.sqrt(max(1.0 - factor_sd * factor_sd / variance, MIN_NOISE_SHARE**2))


def session_drafts(loaded: LoadedSession, seed: int) -> dict[str, Scenario]:
    """The drafts as the session runs them: the session's block size, the vote noise less the
    factor's share (``factor_from_noise``), and the linkage."""
    from unsim.model.params import effective_behaviour

    size = loaded.session.simulation.block_size
    link = loaded.session.linkage_values()
    links = draft_linkages(loaded, seed)
    out: dict[str, Scenario] = {}
    for name, draft in loaded.drafts.items():
        if size is not None and size != draft.simulation.block_size:
            sim = draft.simulation.model_copy(update={"block_size": size})
            draft = draft.model_copy(update={"simulation": sim})
        if link.factor_from_noise and link.state_factor.sd > 0:
            share = noise_share(draft, link.state_factor.sd)
            noise = effective_behaviour(draft).vote_noise * share
            behaviour = draft.behaviour.model_copy(update={"vote_noise": noise})
            draft = draft.model_copy(update={"behaviour": behaviour})
        out[name] = linked(draft, links[name])
    return out


@dataclass
class Spill:
    """The order the drafts run in and what each takes of the others' content (the drafts
    with content first; ``unsim.session.spillover``)."""

    order: list[str]
    dist: Any = None  #: the spillover's distribution (None: no spillover)
    world: World | None = None
    sources: dict[str, Scenario] = field(default_factory=dict)
    #: each source's content changes on the session's rows, computed once for all receivers
    changes: dict[str, Any] = field(default_factory=dict)

    def change(self, name: str, done: dict[str, Results]) -> Any:
        """The content changes of source ``name`` (session states, runs), from its run table."""
        from unsim.session.spillover import content_change, in_session_rows

        if name not in self.changes:
            runs = done[name].runs
            assert runs is not None and self.world is not None
            source = self.sources[name]
            self.changes[name] = in_session_rows(content_change(source, runs), source, self.world)
        return self.changes[name]

    def receiving(self, name: str, draft: Scenario, done: dict[str, Results]) -> Scenario:
        """``draft`` with the sum of the content changes of the drafts with content, or as it
        is without spillover (a draft with content takes none: they run first)."""
        from unsim.session.linkage import LinkedDraft, linked

        others = [k for k in self.sources if k != name and k in done]
        if self.dist is None or name in self.sources or not others:
            return draft
        assert isinstance(draft, LinkedDraft) and draft.linkage is not None and self.world
        total = None
        for k in others:
            change = self.change(k, done)
            total = change if total is None else total + change
        size = int(draft.simulation.block_size)
        link = replace(draft.linkage, spill=total, spill_dist=self.dist, block_size=size)
        return linked(draft, link)


def spilled_runs(loaded: LoadedSession, drafts: dict[str, Scenario], runs: int) -> Spill:
    """The drafts' order and the spillover's set-up (``Spill``)."""
    from unsim.session.spillover import has_content, spills

    dist = loaded.session.linkage_values().spillover
    sources = {k: d for k, d in drafts.items() if has_content(d)}
    if not spills(dist) or not sources:
        return Spill(list(drafts))
    order = list(sources) + [k for k in drafts if k not in sources]
    world = loaded.session.world
    assert isinstance(world, World)
    return Spill(order, dist, world, sources)


def run_session(
    loaded: LoadedSession,
    runs: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    *,
    executor: Any = None,
    progress: bool | Callable[[Iterable[Any], int], Iterable[Any]] = False,
    announce: Callable[[str], None] | None = None,
) -> SessionResults:
    """Run every draft of the session on its linkage; join their run tables and summarise."""
    from unsim.engine.core import run
    from unsim.session.joint import joint_summary, joint_table

    s = loaded.session
    t0 = time.perf_counter()
    runs = int(runs if runs is not None else s.simulation.runs)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    if seed is None:
        seed = s.simulation.seed if s.simulation.seed is not None else new_master_seed()
    seeds = {name: draft_seed(seed, name) for name in loaded.drafts}
    from unsim.model.params import effective_behaviour

    drafts = session_drafts(loaded, seed)
    noise = {name: effective_behaviour(d).vote_noise for name, d in drafts.items()}
    results: dict[str, Results] = {}
    spill = spilled_runs(loaded, drafts, runs)
    for name in spill.order:
        draft = spill.receiving(name, drafts[name], results)
        if announce is not None:
            announce(f"draft {name}: {runs:,} runs (seed {seeds[name]})")
        results[name] = run(
            draft, runs, seeds[name], workers, executor=executor, keep_runs=True, progress=progress
        )
    results = {name: results[name] for name in drafts}
    table = joint_table(loaded, results, seed)
    out = SessionResults(s, int(seed), runs, seeds, results, table)
    out.summary = joint_summary(loaded, out)
    out.metadata = {
        "session": s.model_dump(mode="json", exclude={"world"}),
        "seed": int(seed),
        "runs": runs,
        "draft_seeds": seeds,
        "vote_noise": noise,
        "draft_files": {k: str(v) if v else None for k, v in loaded.files.items()},
        "wall_seconds": time.perf_counter() - t0,
    }
    return out
