"""A state's habit at the Assembly votes on the draft: with probability ``habit`` a present state
repeats its last vote on the series (a delegation voting on standing instructions), otherwise it
votes by the model's rule, so that given presence

    P(vote) = habit * [vote == last vote] + (1 - habit) * P_model(vote).

Absence is untouched (an absent state stays absent). Each state and run draws one uniform 16-bit
integer from the named stream ``habit`` (the same at both votes on the draft), so the other
draws are unchanged; with no habit
(0, or no last votes in the calibration) nothing is drawn and the votes are the model's rule's.

``repeat_last`` is the plain rule (with the other plain rules, in ``unsim.model.rules``);
``repeat_last_compiled`` applies it in one compiled pass (the tests check the two agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np
from numpy.typing import NDArray

from unsim.model.fastmath import JIT
from unsim.model.rules import ABSENT, HABIT_LEVELS, U16, repeat_last, tally
from unsim.model.stages import stage_named

if TYPE_CHECKING:
    from unsim.model.model import UNModel

F = NDArray[np.float32]
I8 = NDArray[np.int8]
_ABSENT = np.int8(ABSENT)
__all__ = ["HABIT_LEVELS", "apply_habit", "habit_uniforms", "repeat_last", "repeat_last_compiled"]


@numba.njit(**JIT)
def repeat_last_compiled(votes: I8, last: I8, chance: F, u: U16) -> None:  # pragma: no cover
    """``repeat_last`` in place, one branch-free pass over each state's row."""
    for i in range(votes.shape[0]):
        code = last[i]
        if code < 0:
            continue
        cut = np.uint32(chance[i] * np.float32(HABIT_LEVELS))
        v, ui = votes[i], u[i]
        for r in range(votes.shape[1]):
            old = v[r]
            v[r] = code if (np.uint32(ui[r]) < cut) & (old != _ABSENT) else old


def habit_uniforms(model: UNModel, stage: str) -> U16 | None:
    """The uniform integers of the habit from its own stream, one per state and run (the same at
    both votes on the draft: a state on standing instructions keeps them for the session); None
    without a habit or at a vote that is not on the draft."""
    if model.params.habit is None or not stage_named(stage).on_draft:
        return None
    g = model.streams.generator("habit")
    return g.integers(0, HABIT_LEVELS, (model.n_states, model.n_replicates), dtype=np.uint16)


def apply_habit(
    model: UNModel, stage: str, votes: I8, counts: NDArray[np.int32]
) -> tuple[I8, NDArray[np.int32]]:
    """The model's votes at Assembly ``stage`` and their tally with the habit applied (in
    place; unchanged without one)."""
    habit = model.params.habit
    u = habit_uniforms(model, stage)
    if habit is not None and u is not None:
        repeat_last_compiled(votes, habit.last, habit.chance, u)
        counts[:] = tally(votes)
    return votes, counts
