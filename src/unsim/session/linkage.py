"""What links the drafts of a session in each run, drawn on common random numbers.

Run r of every draft of a session shares (a) a per-state factor f_i ~ N(0, sd_f^2), a state's
stance on country-specific resolutions as such, added to its support on every draft, and (b) one
session shock s ~ N(0, sd_s^2) added to every state's support on every draft. Both come from
named streams of the session's master seed (``session:state_factor``, ``session:shock``) for the
block the run belongs to, so every draft of the session draws the same ones whatever its own seed,
and a draft's own draws (its streams, from its own seed) are exactly those it has when run alone.

With ``shock_from_level`` the session shock is the shared part of each draft's level uncertainty
(the calibration's ``level_sd``, L): the draft's own level draw d0 is scaled to sqrt(L^2 - sd_s^2)
so that its level keeps the spread L (a shock larger than L adds the excess on top).

The vote copula (``vote_copula.rho``) links the drafts without changing any draft's own
distribution: the uniform u that casts a state's vote at an Assembly stage (``rules.cast_votes``:
one per state, replicate and stage) is, where u < w = sqrt(rho), replaced by v, a uniform shared
by every draft of the session (the same state, stage and run), and else rescaled to
(u - w) / (1 - w): the mixture copula w M + (1 - w) Pi of the draft's uniform and the shared one
(``unsim.model.copula_kernels``, one compiled pass in place). u' is again exactly uniform and
independent of everything else the draft draws, so each draft's votes are distributed exactly as
alone (up to float32 rounding), while a state's uniforms on two drafts are the same v with
probability w^2 = rho and otherwise independent: they correlate by rho. v is a counter-based
hash of the stage's key (from the session's master seed and ``session:vote_copula:STAGE``), the
run's global index and the state's session row: no draw, no memory, the same for any block
layout and worker count; a stage has its own key, so that a draft's Third Committee and plenary
uniforms stay independent, as alone.

The model takes the shift through ``Scenario.run_shift`` (``UNModel._shift_support``) and the
copula through ``vote_uniforms`` (``Procedure._assembly_vote``): a :class:`LinkedDraft` is a draft
scenario that carries its :class:`DraftLinkage`.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import PrivateAttr

from unsim.scenario.schema import Scenario, World
from unsim.streams import Streams, stream_key
from unsim.uncertainty.distributions import Distribution

F = NDArray[np.float32]

FACTOR_STREAM = "session:state_factor"
SHOCK_STREAM = "session:shock"
COPULA_STREAM = "session:vote_copula"


@dataclass(frozen=True)
class DraftLinkage:
    """The linkage as one draft of a session draws it."""

    master_seed: int  #: the session's master seed (the linkage's streams)
    #: each of the draft's states' row in the session's world (None: the same order)
    rows: NDArray[np.int64] | None
    n_session: int  #: the session world's states
    factor_sd: float
    shock_sd: float
    shock_from_level: bool = True
    copula_rho: float = 0.0  #: the vote copula's correlation (0: none)
    #: (session states, runs) the other drafts' content changes this draft's support takes a
    #: share of (``unsim.session.spillover``; None: no spillover)
    spill: F | None = None
    spill_dist: Distribution | float | None = None  #: the share, drawn per run
    block_size: int = 0  #: the session's block size (the runs of block b start at b times it)

    @property
    def rows_or_all(self) -> NDArray[np.int64]:
        """Each of the draft's states' row in the session's world."""
        return np.arange(self.n_session) if self.rows is None else self.rows

    @property
    def active(self) -> bool:
        """Whether the linkage draws a factor or a shock (a standard deviation above 0)."""
        return self.factor_sd > 0 or self.shock_sd > 0

    def spill_shift(self, block: int, replicates: int) -> F:
        """(the draft's states, replicates) what the spillover adds to support in the runs of
        ``block``: the share drawn per run times the other drafts' content changes."""
        from unsim.session.spillover import spill_draws

        assert self.spill is not None and self.spill_dist is not None
        start = block * self.block_size
        change = self.spill[self.rows_or_all, start : start + replicates]
        share = spill_draws(self.spill_dist, self.master_seed, block, replicates)
        return (change * share[None, :]).astype(np.float32)  # type: ignore[no-any-return]

    def vote_uniforms(self, first_run: int, stage: str, u: F) -> F:
        """The uniforms (states, replicates) that cast the votes at Assembly ``stage`` through
        the vote copula (module docstring), ``u`` changed in place, the runs' global indices
        from ``first_run``; ``u`` itself untouched without one."""
        from unsim.model.copula_kernels import mix

        rho = float(self.copula_rho)
        if rho <= 0.0:
            return u
        rows = self.rows_or_all.astype(np.int64)
        weight = min(math.sqrt(rho), 1.0 - 2.0**-20)
        mix(u, rows, np.uint64(copula_key(self.master_seed, stage)), np.int64(first_run), weight)
        return u

    def draws(self, block: int, replicates: int) -> tuple[F | None, F | None]:
        """(session states, replicates) standard normals of the factor, (replicates,) of the
        shock, for block ``block`` of the session (None for one whose sd is 0)."""
        streams = Streams(self.master_seed, block)
        factor = shock = None
        if self.factor_sd > 0:
            factor = _factor_draws(streams, self.n_session, replicates)
        if self.shock_sd > 0:
            shock = streams.normal(SHOCK_STREAM, replicates)
        return factor, shock

    def _shift(
        self,
        factor: F | None,
        shock: F | None,
        shape: tuple[int, int],
        target: int,
        level: F | None,
        level_draw: F | None,
    ) -> F:
        """The shift from the draws (``factor`` is used in place: it is this call's)."""
        if factor is None:
            out = np.zeros(shape, dtype=np.float32)
        else:
            out = factor if self.rows is None else factor[self.rows]
            out *= np.float32(self.factor_sd)
        if shock is not None:
            s = np.float32(self.shock_sd)
            per_run = shock * s  # (replicates,) what every state gets
            change = None
            if self.shock_from_level and level is not None and level_draw is not None:
                kept = np.sqrt(np.maximum(level * level - s * s, 0.0)).astype(np.float32)
                change = kept - level  # (states,) the level draw's loading changes by this
                others = np.delete(change, target)
                if others.size and np.all(others == others[0]):  # one level_sd: one pass
                    per_run = per_run + others[0] * level_draw
                    change = None
            out += per_run[None, :]
            if change is not None:
                assert level_draw is not None
                out += change[:, None] * level_draw[None, :]
        out[target] = 0.0  # the target's support is set, not formed
        return out


#: A process keeps the factor's draws of its latest blocks, up to this many bytes: every draft
#: of a session draws the same ones, block by block, one draft after the other.
CACHE_BYTES = 64 * 2**20
_CACHE: OrderedDict[tuple[int, int, int, int, str], F] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _factor_draws(streams: Streams, n: int, replicates: int, stream: str = FACTOR_STREAM) -> F:
    """(n, replicates) the standard normals of ``stream`` (the factor's) of the block of
    ``streams``: a copy of those kept from another draft of the session,
    else drawn (and kept)."""
    key = (streams.seed, streams.block, n, replicates, stream)
    with _CACHE_LOCK:
        kept = _CACHE.get(key)
        if kept is not None:
            _CACHE.move_to_end(key)
            return kept.copy()
    drawn = streams.normal(stream, (n, replicates))
    if drawn.nbytes <= CACHE_BYTES:
        with _CACHE_LOCK:
            _CACHE[key] = drawn.copy()
            while sum(a.nbytes for a in _CACHE.values()) > CACHE_BYTES:
                _CACHE.popitem(last=False)
    return drawn


def copula_key(master_seed: int, stage: str) -> int:
    """The vote copula's 64-bit key at ``stage``: the first word of the session's seed
    sequence for the stream ``session:vote_copula:STAGE``."""
    seq = np.random.SeedSequence(
        int(master_seed), spawn_key=(stream_key(f"{COPULA_STREAM}:{stage}"),)
    )
    return int(seq.generate_state(1, np.uint64)[0])


class LinkedDraft(Scenario):
    """A draft scenario run as part of a session: the scenario itself, with its linkage (kept
    apart from the scenario's values: its dump, its files and its checks are the draft's)."""

    _linkage: DraftLinkage | None = PrivateAttr(default=None)

    @property
    def linkage(self) -> DraftLinkage | None:
        """The draft's linkage in its session (None: none)."""
        return self._linkage

    def run_shift(
        self, streams: Streams, replicates: int, target: int, level: F | None, draw: F | None
    ) -> F | None:
        """What the model adds to support in each run (``UNModel._shift_support``): None
        without linkage."""
        link = self._linkage
        if link is None or not (link.active or link.spill is not None):
            return None
        factor, shock = link.draws(streams.block, replicates)
        shape = (len(level) if level is not None else len(link.rows_or_all), replicates)
        out = link._shift(factor, shock, shape, target, level, draw)
        if link.spill is not None:
            out += link.spill_shift(streams.block, replicates)
            out[target] = 0.0  # the target's support is set, not formed
        return out

    def vote_uniforms(self, streams: Streams, stage: str, u: F) -> F:
        """The uniforms that cast the votes at Assembly ``stage`` (``Procedure._assembly_vote``):
        ``u`` itself without a vote copula."""
        link = self._linkage
        if link is None:
            return u
        return link.vote_uniforms(streams.block * int(self.simulation.block_size), stage, u)


def linked(draft: Scenario, linkage: DraftLinkage | None) -> LinkedDraft:
    """``draft`` as a :class:`LinkedDraft` with ``linkage`` (its values not validated again:
    they are the loaded draft's)."""
    values: dict[str, Any] = {name: getattr(draft, name) for name in Scenario.model_fields}
    out = LinkedDraft.model_construct(_fields_set=set(draft.model_fields_set), **values)
    out._linkage = linkage
    return out


def rows_in(world: World, session_world: World) -> NDArray[np.int64] | None:
    """Each of ``world``'s states' row in ``session_world`` (KeyError for one not there); None
    when they are the same states in the same order."""
    index = session_world.index
    rows = np.array([index[c] for c in world.codes], dtype=np.int64)
    same = len(rows) == len(session_world.codes) and bool((rows == np.arange(len(rows))).all())
    return None if same else rows
