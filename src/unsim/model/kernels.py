"""The model's compiled kernels, by job: fast math (:mod:`unsim.model.fastmath`), a round
(:mod:`unsim.model.round_kernels`), a vote (:mod:`unsim.model.vote_kernels`), and the named
structures they take (:mod:`unsim.model.kernel_args`), gathered under one name.

Each kernel is the composition of plain rules in :mod:`unsim.model.rules`, and the tests check it
against them (``tests/test_kernels.py``).
"""

from __future__ import annotations

from unsim.model.fastmath import SHARED_LIMIT, pair_args, tanh_pair, tanh_pair_array
from unsim.model.kernel_args import (
    BASES,
    EMPTY_BASIS,
    NO_CLAUSE,
    NO_DRAWS,
    NO_GROUPS,
    NO_LOADINGS,
    NO_ROWS,
    SWUNG,
    Ballot,
    Csr,
    Draft,
    Histories,
    Kinds,
    Observation,
    Prior,
    Pushes,
    Round,
    csr,
    kinds,
)
from unsim.model.round_kernels import argument, deliberate, observe, pull, start, yes_share
from unsim.model.vote_kernels import cast, expected, state_counts, tally_histograms, votes

__all__ = [
    "BASES",
    "EMPTY_BASIS",
    "NO_CLAUSE",
    "NO_DRAWS",
    "NO_GROUPS",
    "NO_LOADINGS",
    "NO_ROWS",
    "SHARED_LIMIT",
    "SWUNG",
    "Ballot",
    "Csr",
    "Draft",
    "Histories",
    "Kinds",
    "Observation",
    "Prior",
    "Pushes",
    "Round",
    "argument",
    "cast",
    "csr",
    "deliberate",
    "expected",
    "kinds",
    "observe",
    "pair_args",
    "pull",
    "start",
    "state_counts",
    "tally_histograms",
    "tanh_pair",
    "tanh_pair_array",
    "votes",
    "yes_share",
]
