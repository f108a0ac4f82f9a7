"""A state's habit at the Assembly votes on the draft: with probability ``habit`` a present state
repeats its last vote on the series (a delegation voting on standing instructions), otherwise it
votes by the model's rule, so that given presence

    P(vote) = habit * [vote == last vote] + (1 - habit) * P_model(vote).

Absence is untouched (an absent state stays absent). Each state and run draws one uniform 16-bit
integer from the named stream ``habit`` (the same at both votes on the draft), so the other
draws are unchanged; with no habit
(0, or no last votes in the calibration) nothing is drawn and the votes are the model's rule's.

The habit is applied where the states vote (``MemberState.decide``, given these uniforms):
``rules.repeat_last`` is the plain rule, ``vote_kernels.repeat_last`` applies it in one
compiled pass and tallies the votes after it (the tests check the two agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from unsim.model.rules import HABIT_LEVELS, U16, repeat_last
from unsim.model.stages import stage_named

if TYPE_CHECKING:
    from unsim.model.model import UNModel

__all__ = ["HABIT_LEVELS", "habit_uniforms", "repeat_last"]


def habit_uniforms(model: UNModel, stage: str) -> U16 | None:
    """The uniform integers of the habit from its own stream, one per state and run (the same at
    both votes on the draft: a state on standing instructions keeps them for the session); None
    without a habit or at a vote that is not on the draft."""
    if model.params.habit is None or not stage_named(stage).on_draft:
        return None
    g = model.streams.generator("habit")
    return g.integers(0, HABIT_LEVELS, (model.n_states, model.n_replicates), dtype=np.uint16)
