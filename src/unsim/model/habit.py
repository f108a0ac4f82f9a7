"""A state's habit at the Assembly votes on the draft: with probability ``habit`` a present state
repeats its last vote on the series (a delegation voting on standing instructions), otherwise it
votes by the model's rule, so that given presence

    P(vote) = habit * [vote == last vote] + (1 - habit) * P_model(vote).

Absence is untouched (an absent state stays absent). Each state and run draws its uniform from
the named stream ``habit:<stage>``, so the other draws are unchanged; with no habit (0, or no
last votes in the calibration) nothing is drawn and the votes are the model's rule's.

``repeat_last`` is the plain rule; ``repeat_last_compiled`` applies it in one compiled pass and
updates the tally (the tests check the two agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np
from numpy.typing import NDArray

from unsim.model.fastmath import JIT
from unsim.model.kernel_args import DRAFT_VOTES
from unsim.model.rules import ABSENT

if TYPE_CHECKING:
    from unsim.model.model import UNModel

F = NDArray[np.float32]
I8 = NDArray[np.int8]
_ABSENT = np.int8(ABSENT)


def repeat_last(votes: I8, last: I8, chance: F, u: F) -> I8:
    """The plain rule: ``votes`` (states, replicates) with each present state that has a last
    vote repeating it where its uniform ``u`` is below its ``chance``."""
    repeats = (votes != _ABSENT) & (last[:, None] >= 0) & (u < chance[:, None])
    return np.where(repeats, last[:, None], votes).astype(np.int8)  # type: ignore[no-any-return]


@numba.njit(**JIT)
def repeat_last_compiled(
    votes: I8, last: I8, chance: F, u: F, counts: NDArray[np.int32]
) -> None:  # pragma: no cover - compiled
    """``repeat_last`` in place, and the tally ``counts`` (4, replicates) moved with it."""
    for i in range(votes.shape[0]):
        code = last[i]
        if code < 0:
            continue
        c, v, ui = chance[i], votes[i], u[i]
        for r in range(votes.shape[1]):
            old = v[r]
            if old != _ABSENT and ui[r] < c and old != code:
                counts[old, r] -= 1
                counts[code, r] += 1
                v[r] = code


def habit_uniforms(model: UNModel, stage: str) -> F | None:
    """The uniforms of the habit at ``stage`` from its own stream; None without a habit or at a
    vote that is not on the draft."""
    if model.params.habit is None or stage not in DRAFT_VOTES:
        return None
    return model.streams.uniform(f"habit:{stage}", (model.n_states, model.n_replicates))


def apply_habit(
    model: UNModel, stage: str, votes: I8, counts: NDArray[np.int32]
) -> tuple[I8, NDArray[np.int32]]:
    """The model's votes at Assembly ``stage`` and their tally with the habit applied (in
    place; unchanged without one)."""
    habit = model.params.habit
    u = habit_uniforms(model, stage)
    if habit is not None and u is not None:
        repeat_last_compiled(votes, habit.last, habit.chance, u, counts)
    return votes, counts
