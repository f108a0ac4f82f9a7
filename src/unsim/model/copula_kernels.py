"""The session's vote copula in one compiled pass (``unsim.session.linkage``).

The mixture copula C = w M + (1 - w) Pi of a draft's vote uniform and a shared one, from the
draft's own uniform u alone: where u < w the state's vote is cast by v, a uniform shared by
every draft of the session (the same state, stage and run), else by (u - w) / (1 - w). Both
are uniform on [0, 1) and independent of whether u < w, so u' is exactly uniform (up to
float32 rounding). A state's u' on two drafts are both v with probability w^2, else
independent: they correlate by w^2 (the session's ``vote_copula.rho``; w = sqrt(rho)).

v needs no memory: a counter-based hash (splitmix64's finaliser of the stage's key plus the
counter times the golden gamma, the counter the global run index and the state's session row),
its top 24 bits a float32 in [0, 1), never 1.0 (the vote rules need u < 1). It depends on the
run's global index, not on its block, so any block layout and worker count give the same v.
``shared_plain`` and ``mix_plain`` are the rules in NumPy (the tests check they agree).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from unsim.model.fastmath import JIT

F = NDArray[np.float32]

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S40 = (np.uint64(s) for s in (30, 27, 31, 40))
ROW_BITS = 16  #: the counter's bits for the state's session row (at most 65,536 states)
_ROW_SHIFT = np.uint64(ROW_BITS)
_ONE = np.uint64(1)
_UNIT = np.float32(2.0**-24)
#: the largest float32 below 1: a mixed uniform stays in [0, 1)
BELOW_ONE = np.float32(1.0 - 2.0**-24)


@numba.njit(inline="always", **JIT)
def _shared(key: np.uint64, run: np.uint64, row: np.uint64) -> np.float32:  # pragma: no cover
    """The shared uniform of the stage's ``key`` for global run ``run`` and session ``row``."""
    z = key + (((run << _ROW_SHIFT) | row) + _ONE) * _GAMMA
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return np.float32(z >> _S40) * _UNIT


@numba.njit(**JIT)
def mix(  # pragma: no cover - compiled
    u: F, rows: NDArray[np.int64], key: np.uint64, first_run: np.int64, weight: float
) -> None:
    """The copula of mixture weight ``weight`` in place on ``u`` (the draft's states,
    replicates): state i's session row is ``rows[i]``, replicate r's global run index
    ``first_run + r``."""
    scale = 1.0 / (1.0 - weight)
    start = np.uint64(first_run)
    for i in range(u.shape[0]):
        row = np.uint64(rows[i])
        line = u[i]
        for r in range(u.shape[1]):
            x = line[r]
            if x < weight:
                line[r] = _shared(key, start + np.uint64(r), row)
            else:
                line[r] = min(np.float32((x - weight) * scale), BELOW_ONE)


def shared_plain(key: int, runs: NDArray[np.int64], rows: NDArray[np.int64]) -> F:
    """(rows, runs) the shared uniforms, in NumPy (``_shared``)."""
    with np.errstate(over="ignore"):
        counter = (runs.astype(np.uint64)[None, :] << _ROW_SHIFT) | rows.astype(np.uint64)[:, None]
        z = np.uint64(key) + (counter + _ONE) * _GAMMA
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z = z ^ (z >> _S31)
    return (z >> _S40).astype(np.float32) * _UNIT  # type: ignore[no-any-return]


def mix_plain(u: F, rows: NDArray[np.int64], key: int, first_run: int, weight: float) -> F:
    """``mix`` in NumPy (a new array)."""
    v = shared_plain(key, np.arange(first_run, first_run + u.shape[1]), rows)
    x = u.astype(np.float64)
    rest = np.minimum(((x - weight) * (1.0 / (1.0 - weight))).astype(np.float32), BELOW_ONE)
    return np.where(x < weight, v, rest).astype(np.float32)  # type: ignore[no-any-return]
