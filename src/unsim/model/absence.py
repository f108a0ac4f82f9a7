"""A run's shock to absences at an Assembly vote: the calibration's ``absence_sd``.

How many states stay away varies from vote to vote beyond what independent absences give (a
vote late in December, a vote on a crowded day). With ``uncertainty.absence_sd`` > 0 each run
draws, at each Assembly vote, one multiplier ``m = exp(sd z - sd^2 / 2)`` (mean 1; ``z`` from the
named stream ``absence:<stage>``) of every state's absence probability, so that a state with
absence ``a`` is absent with probability ``min(a m, ABSENCE_CAP)`` in that run: the per-state
probabilities are kept on average, the tally of absences spreads.

It acts on the vote's uniforms before the decision rule (a state is absent where its uniform is
below its absence; ``kernels.votes``): a uniform below the run's threshold ``t = a m`` is
rescaled onto ``[0, a)`` (absent), one above it onto ``[a, 1)`` (present, its vote by the same
rule as before), so the decision rule is unchanged and the other draws too. ``shake_plain`` is
the rule in NumPy; ``shake`` applies it in one compiled pass (the tests check they agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np
from numpy.typing import NDArray

from unsim.model.fastmath import JIT

if TYPE_CHECKING:
    from unsim.model.model import UNModel

F = NDArray[np.float32]

#: The highest absence probability a shock gives a state.
ABSENCE_CAP = 0.98


def shake_plain(u: F, absence: F, multiplier: F) -> F:
    """The uniforms ``u`` (states, replicates) of a vote with each state's absence ``absence``
    multiplied by the run's ``multiplier`` (replicates,)."""
    a = absence[:, None].astype(np.float64)
    t = np.minimum(a * multiplier[None, :], np.maximum(a, ABSENCE_CAP))
    x = u.astype(np.float64)
    low = x * np.divide(a, t, out=np.zeros_like(t), where=t > 0)
    high = a + (x - t) * (1.0 - a) / np.maximum(1.0 - t, 1e-12)
    out = np.where(x < t, low, high)
    kept = (a > 0) & (a < 1)  # never or always absent: no shock changes that
    return np.where(kept, out, x).astype(np.float32)  # type: ignore[no-any-return]


@numba.njit(**JIT)
def shake(u: F, absence: F, multiplier: F) -> None:  # pragma: no cover - compiled
    """``shake_plain`` in place, one pass over each state's row."""
    cap = np.float32(ABSENCE_CAP)
    for i in range(u.shape[0]):
        a = absence[i]
        if a <= 0 or a >= 1:  # never or always absent: no shock changes that
            continue
        top = max(a, cap)
        row = u[i]
        for r in range(u.shape[1]):
            t = min(a * multiplier[r], top)
            x = row[r]
            if x < t:
                row[r] = x * (a / t)
            else:
                row[r] = a + (x - t) * ((np.float32(1.0) - a) / max(np.float32(1.0) - t, 1e-12))


def shaken(model: UNModel, stage: str, u: F) -> F:
    """The uniforms of the Assembly vote at ``stage`` with the run's absence shock (``u``
    itself, unchanged, without one)."""
    sd = model.params.absence_sd
    if sd <= 0:
        return u
    z = model.streams.normal(f"absence:{stage}", model.n_replicates)
    multiplier = np.exp(np.float32(sd) * z - np.float32(0.5 * sd * sd)).astype(np.float32)
    absence = (np.float32(1.0) - model.compiled.presence).astype(np.float32)
    shake(u, absence, multiplier)
    return u
