"""The rules of a vote, each fused into one compiled pass: the expected tally, the votes and their
tally (``rules.cast_votes`` then ``rules.tally``), a state's habit of repeating its last vote
and the tally after it (``rules.repeat_last``), and the counts the engine aggregates.

The tests check each against the plain rules of :mod:`unsim.model.rules`
(``tests/test_kernels.py``). The arguments are the named structures of
:mod:`unsim.model.kernel_args`.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from unsim.model.fastmath import JIT, ONE, TWO, tanh_pair
from unsim.model.kernel_args import Ballot, Draft, Histories, Kinds, Observation
from unsim.model.round_kernels import argument_row, observed_at, spread_row
from unsim.model.rules import HABIT_LEVELS

F = NDArray[np.float32]
_YES, _NO, _ABSTAIN, _ABSENT = (np.int8(v) for v in range(4))  # rules.Vote's codes


@numba.njit(**JIT)
def expected(h: Histories, draft: Draft, sums: F) -> None:  # pragma: no cover - compiled
    """``sums`` (2, replicates): the sum over states of presence x t_yes and of presence x t_no
    of a vote whose tanh argument has ``draft.form`` (its expected tally in tanh form)."""
    sums[:] = 0
    z = np.empty(h.deviation.shape[1], dtype=np.float32)
    none = np.zeros(h.deviation.shape[1], dtype=np.float32)
    yes_sum, no_sum = sums[0], sums[1]
    pair = draft.pair
    for i in range(h.deviation.shape[0]):
        argument_row(h, i, draft, z, none)
        p = draft.presence[i]
        for r in range(z.shape[0]):
            t_yes, t_no = tanh_pair(z[r], pair)
            yes_sum[r] += p * t_yes
            no_sum[r] += p * t_no


@numba.njit(inline="always", **JIT)
def _vote(t_yes: Any, t_no: Any, w: Any) -> Any:  # pragma: no cover - compiled
    """A state's vote (``rules.Vote`` code) from its probabilities in tanh form and its uniform
    as ``w`` (see ``votes``): yes iff t_yes >= w, no iff t_no < w, absent iff w > 1."""
    code = _ABSTAIN
    code = _NO if t_no < w else code
    code = _YES if t_yes >= w else code
    return _ABSENT if w > ONE else code


@numba.njit(inline="always", **JIT)
def _byte_tally(n: int, r_count: int) -> NDArray[np.int32]:  # pragma: no cover - compiled
    """A tally kept as votes are cast: byte k of each entry counts the votes of code k (one
    update a vote instead of three), so at most 255 states vote."""
    if n > 255:
        raise ValueError("a tally in bytes counts at most 255 voting states")
    return np.zeros(r_count, dtype=np.int32)


@numba.njit(inline="always", **JIT)
def _unpack(packed: NDArray[np.int32], counts: NDArray[np.int32]) -> None:  # pragma: no cover
    """``counts`` (4, replicates) from a ``_byte_tally``."""
    for r in range(packed.shape[0]):
        c = packed[r]
        for k in range(4):
            counts[k, r] = (c >> np.int32(8 * k)) & np.int32(255)


@numba.njit(inline="always", **JIT)
def _vote_row(
    h: Histories, i: int, draft: Draft, ballot: Ballot, observe: bool, out: Observation, work: Any
) -> None:  # pragma: no cover - compiled
    """State ``i``'s votes, added to the packed tally; with ``observe`` its share of
    ``observe`` (its deviation summed into its kind's row ``moved``). ``work``: (z, packed,
    moved, a row of zeros)."""
    z, packed, m, none = work
    d = h.deviation[i]
    argument_row(h, i, draft, z, none)
    a = ballot.w_offset[i]
    s = ballot.w_scale[i]
    ui = ballot.u[i]
    v = ballot.votes[i]
    p, lw, sw, sums, pair = draft.presence[i], draft.lobbied[i], out.swing[i], out.sums, draft.pair
    for r in range(z.shape[0]):
        w = a - s * ui[r]
        t_yes, t_no = tanh_pair(z[r], pair)
        code = _vote(t_yes, t_no, w)
        v[r] = code
        packed[r] += np.int32(1) << (np.int32(8) * np.int32(code))
        if observe:
            observed_at(r, t_yes, t_no, p, lw, sums, sw)
            m[r] += d[r]


@numba.njit(**JIT)
def votes(
    h: Histories, draft: Draft, ballot: Ballot, observe: bool, kinds: Kinds, out: Observation
) -> None:  # pragma: no cover - compiled
    """Votes (``rules.Vote`` codes, into ``ballot.votes``) and their tally (``ballot.counts``
    (4, replicates): yes, no, abstain, absent), in one pass: ``rules.cast_votes_tanh`` of the
    tanh form of ``draft.form``, then ``rules.tally``. With ``observe`` (a vote on the draft,
    whose form is ``observe``'s), also ``observe`` of the state voted on, from the same
    probabilities, into ``out``; its group means are summed per kind of state.

    A state votes yes iff t_yes >= w, no iff t_no < w (and not yes), is absent iff w > 1, and
    abstains otherwise (t_yes, t_no = ``tanh_pair(z, pair)``, w from ``ballot``)."""
    n, r_count = h.deviation.shape
    packed = _byte_tally(n, r_count)
    z = np.empty(r_count, dtype=np.float32)
    none = np.zeros(r_count, dtype=np.float32)
    n_kinds = kinds.members.ptr.shape[0] - 1
    moved = np.zeros((n_kinds if observe else 0, r_count), dtype=np.float32)
    unobserved = np.empty(0 if observe else r_count, dtype=np.float32)  # (a row of its own)
    if observe:
        out.sums[:] = 0
        out.group_means[:] = 0
    for i in range(n):
        m = moved[kinds.kind_of[i]] if observe else unobserved
        _vote_row(h, i, draft, ballot, observe, out, (z, packed, m, none))
    for k in range(moved.shape[0]):
        spread_row(kinds.members, k, moved[k], out.group_means)
    _unpack(packed, ballot.counts)


@numba.njit(**JIT)
def repeat_last(
    votes: NDArray[np.int8],
    last: NDArray[np.int8],
    chance: F,
    u: NDArray[np.uint16],
    counts: NDArray[np.int32],
) -> None:  # pragma: no cover - compiled
    """A state's habit (``rules.repeat_last``) in place, one branch-free pass over each state's
    row: a present state with a last vote (``last`` >= 0) repeats it where its uniform integer
    ``u`` is below ``chance x HABIT_LEVELS``; then the tally of the votes into ``counts``
    (4, replicates), as ``votes`` counts them (``rules.tally``)."""
    n, r_count = votes.shape
    packed = _byte_tally(n, r_count)
    for i in range(n):
        code = last[i]
        v = votes[i]
        if code >= 0:
            cut = np.uint32(chance[i] * np.float32(HABIT_LEVELS))
            ui = u[i]
            for r in range(r_count):
                old = v[r]
                v[r] = code if (np.uint32(ui[r]) < cut) & (old != _ABSENT) else old
        for r in range(r_count):
            packed[r] += np.int32(1) << (np.int32(8) * np.int32(v[r]))
    _unpack(packed, counts)


@numba.njit(**JIT)
def cast(
    stance: F,
    half: Any,
    offset: Any,
    pair: Any,
    u: F,
    out: NDArray[np.int8],
    counts: NDArray[np.int32],
) -> None:  # pragma: no cover - compiled
    """Votes of states that are all present (the Council) from their ``stance``
    (states, replicates): ``rules.cast_votes`` with no absence, in tanh form z = stance x
    ``half`` - ``offset`` (1 / (2 noise) and band / (2 noise)), into ``out``; and their tally into
    ``counts`` (4, replicates), as ``votes`` does."""
    n, r_count = stance.shape
    packed = _byte_tally(n, r_count)
    for i in range(n):
        s, ui, v = stance[i], u[i], out[i]
        for r in range(r_count):
            t_yes, t_no = tanh_pair(s[r] * half - offset, pair)
            w = ONE - TWO * ui[r]
            code = _vote(t_yes, t_no, w)
            v[r] = code
            packed[r] += np.int32(1) << (np.int32(8) * np.int32(code))
    _unpack(packed, counts)


@numba.njit(**JIT)
def tally_histograms(
    yes: NDArray[np.int16],
    no: NDArray[np.int16],
    abstain: NDArray[np.int16],
    absent: NDArray[np.int16],
    held: NDArray[np.bool_],
    size: int,
) -> NDArray[np.int64]:  # pragma: no cover - compiled
    """(4, ``size``) how many replicates where the vote was ``held`` had each tally of yes, no,
    abstentions and absences (``np.bincount`` of each, over the held replicates)."""
    out = np.zeros((4, size), dtype=np.int64)
    for r in range(held.shape[0]):
        if held[r]:
            out[0, yes[r]] += 1
            out[1, no[r]] += 1
            out[2, abstain[r]] += 1
            out[3, absent[r]] += 1
    return out


@numba.njit(**JIT)
def state_counts(votes: NDArray[np.int8], held: NDArray[np.bool_]) -> NDArray[np.int64]:
    """(states, 4) how often each state voted yes, no, abstain, absent (``rules.Vote`` codes) in
    the replicates where the vote was ``held``, in one pass over the votes."""
    n, r_count = votes.shape
    out = np.zeros((n, 4), dtype=np.int64)
    for i in range(n):
        v = votes[i]
        n_yes = np.int32(0)
        n_no = np.int32(0)
        n_absent = np.int32(0)
        n_held = np.int32(0)
        for r in range(r_count):
            h = np.int32(1) if held[r] else np.int32(0)
            code = v[r]
            n_held += h
            n_yes += h if code == _YES else np.int32(0)
            n_no += h if code == _NO else np.int32(0)
            n_absent += h if code == _ABSENT else np.int32(0)
        out[i, 0] = n_yes
        out[i, 1] = n_no
        out[i, 2] = n_held - n_yes - n_no - n_absent
        out[i, 3] = n_absent
    return out
