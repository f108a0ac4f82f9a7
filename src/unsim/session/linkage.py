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

The model takes the shift through ``Scenario.run_shift`` (``UNModel._shift_support``): a
:class:`LinkedDraft` is a draft scenario that carries its :class:`DraftLinkage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import PrivateAttr

from unsim.scenario.schema import Scenario, World
from unsim.streams import Streams

F = NDArray[np.float32]

FACTOR_STREAM = "session:state_factor"
SHOCK_STREAM = "session:shock"


@dataclass(frozen=True)
class DraftLinkage:
    """The linkage as one draft of a session draws it."""

    master_seed: int  #: the session's master seed (the linkage's streams)
    rows: NDArray[np.int64]  #: each of the draft's states' row in the session's world
    n_session: int  #: the session world's states
    factor_sd: float
    shock_sd: float
    shock_from_level: bool = True

    @property
    def active(self) -> bool:
        return self.factor_sd > 0 or self.shock_sd > 0

    def draws(self, block: int, replicates: int) -> tuple[F, F]:
        """(session states, replicates) standard normals of the factor, (replicates,) of the
        shock, for block ``block`` of the session."""
        streams = Streams(self.master_seed, block)
        factor = streams.normal(FACTOR_STREAM, (self.n_session, replicates))
        shock = streams.normal(SHOCK_STREAM, replicates)
        return factor, shock

    def _shift(self, factor: F, shock: F, target: int, level: F | None, level_draw: F | None) -> F:
        out = factor[self.rows] * np.float32(self.factor_sd)
        s = np.float32(self.shock_sd)
        out += (shock * s)[None, :]
        if self.shock_from_level and level is not None and level_draw is not None and s > 0:
            kept = np.sqrt(np.maximum(level * level - s * s, 0.0)).astype(np.float32)
            out += (kept - level)[:, None] * level_draw[None, :]
        out[target] = 0.0  # the target's support is set, not formed
        return out.astype(np.float32, copy=False)


class LinkedDraft(Scenario):
    """A draft scenario run as part of a session: the scenario itself, with its linkage (kept
    apart from the scenario's values: its dump, its files and its checks are the draft's)."""

    _linkage: DraftLinkage | None = PrivateAttr(default=None)

    @property
    def linkage(self) -> DraftLinkage | None:
        return self._linkage

    def run_shift(
        self, streams: Streams, replicates: int, target: int, level: F | None, draw: F | None
    ) -> F | None:
        """What the model adds to support in each run (``UNModel._shift_support``): None
        without linkage."""
        link = self._linkage
        if link is None or not link.active:
            return None
        factor, shock = link.draws(streams.block, replicates)
        return link._shift(factor, shock, target, level, draw)


def linked(draft: Scenario, linkage: DraftLinkage | None) -> LinkedDraft:
    """``draft`` as a :class:`LinkedDraft` with ``linkage`` (its values not validated again:
    they are the loaded draft's)."""
    values: dict[str, Any] = {name: getattr(draft, name) for name in Scenario.model_fields}
    out = LinkedDraft.model_construct(_fields_set=set(draft.model_fields_set), **values)
    out._linkage = linkage
    return out


def rows_in(world: World, session_world: World) -> NDArray[np.int64]:
    """Each of ``world``'s states' row in ``session_world`` (KeyError for one not there)."""
    index = session_world.index
    return np.array([index[c] for c in world.codes], dtype=np.int64)
