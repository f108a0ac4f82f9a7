"""The target's own vote on the draft about it.

Without a calibrated ``target_vote`` the target votes no at every vote on the draft (its support
is ``params.TARGET_SUPPORT``). With one (``unsim.calibration.targetvote``: its record on its own
series), each run draws the target's vote from those shares, from the named stream
``target_vote`` (one draw per run, the same at the committee and the plenary: a delegation keeps
its instructions for the session), so the other draws are unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from unsim.model.kernel_args import DRAFT_VOTES

if TYPE_CHECKING:
    from unsim.model.model import UNModel

I8 = NDArray[np.int8]


def target_votes(model: UNModel) -> I8 | None:
    """(replicates,) the target's vote in each run (``Vote`` codes), or None without shares."""
    shares = model.params.target_vote
    if shares is None:
        return None
    u = model.streams.generator("target_vote").random(model.n_replicates)
    edges = np.cumsum(shares)[:-1]
    return np.searchsorted(edges, u, side="right").astype(np.int8)  # type: ignore[no-any-return]


def apply_target_vote(
    model: UNModel, stage: str, votes: I8, counts: NDArray[np.int32]
) -> tuple[I8, NDArray[np.int32]]:
    """The votes at Assembly ``stage`` and their tally with the target's own vote (in place;
    unchanged without shares or at a vote that is not on the draft)."""
    if stage not in DRAFT_VOTES:
        return votes, counts
    drawn = target_votes(model)
    if drawn is None:
        return votes, counts
    t = model.params.roles.target
    runs = np.arange(votes.shape[1])
    np.subtract.at(counts, (votes[t].astype(np.intp), runs), 1)
    np.add.at(counts, (drawn.astype(np.intp), runs), 1)
    votes[t] = drawn
    return votes, counts
