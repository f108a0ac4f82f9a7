"""The rules of a diplomatic round, each fused into one compiled pass.

A round of diplomacy reads each state's support (its baseline plus its deviation) and its ICC
aversion (less its own clause deviation: the clause's cost) to see where the votes stand, and
moves them (the deviation, and the aversion by its pushes). Written
as NumPy expressions the same rules take a dozen passes over arrays of a few megabytes each, and
memory traffic, not arithmetic, sets the pace. These kernels (compiled by numba) do each step in a
single pass and keep every intermediate in registers: a round is one pass (``deliberate`` moves
the states and observes where they land for the next round).

Each kernel is the composition of plain rules in :mod:`unsim.model.rules`, and the tests check it
against them (``tests/test_kernels.py``): ``observe`` is ``present_tanh`` of the draft stance
followed by the expected tallies, ``swing`` and ``group_means``; ``deliberate`` is
``rules.deliberate`` with the round's pushes. The arguments are the named structures of
:mod:`unsim.model.kernel_args`.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from unsim.model.fastmath import JIT, ONE, tanh_pair
from unsim.model.kernel_args import Csr, Draft, Histories, Kinds, Observation, Prior, Round

F = NDArray[np.float32]

#: A tanh argument's *form*: the coefficients (cd, cc, gc, cbl, gbl, c0, g0) of
#:     z = cd d + (cc + gc gap) c + (cbl + gbl gap) bl + c0 + g0 gap
#: in a state's deviation d, its clause cost c (its ICC aversion less its clause deviation), its
#: baseline bl and the replicate's ``gap`` (1 - the ICC factor: 0 while the language is
#: retained). Every vote in the model has such a form (``kernel_args.argument_form``).


@numba.njit(inline="always", **JIT)
def _argument(
    d: F, a: F, cl: F, bl: F, gap: F, use_gap: bool, form: F, z: F
) -> None:  # pragma: no cover - compiled
    """One state's row of a tanh argument of the given ``form`` (``a`` its ICC aversion, ``cl``
    its clause deviation: the cost c = a - cl)."""
    cd, cc, gc, cbl, gbl, c0, g0 = form[0], form[1], form[2], form[3], form[4], form[5], form[6]
    if use_gap:
        for r in range(d.shape[0]):
            g = gap[r]
            c = a[r] - cl[r]
            z[r] = cd * d[r] + (cc + gc * g) * c + (cbl + gbl * g) * bl[r] + c0 + g0 * g
    elif cc != 0:
        for r in range(d.shape[0]):
            z[r] = cd * d[r] + cc * (a[r] - cl[r]) + cbl * bl[r] + c0
    else:  # the no-action motion's form reads no clause cost
        for r in range(d.shape[0]):
            z[r] = cd * d[r] + cbl * bl[r] + c0


@numba.njit(inline="always", **JIT)
def clause_row(h: Histories, i: int, none: F) -> F:  # pragma: no cover - compiled
    """State ``i``'s clause deviation (``none``, a row of zeros, where there is none)."""
    return h.clause[i] if h.clause.shape[0] > 0 else none


@numba.njit(inline="always", **JIT)
def argument_row(h: Histories, i: int, draft: Draft, z: F, none: F) -> None:  # pragma: no cover
    """State ``i``'s row of the tanh argument of ``draft.form`` into ``z`` (``none``: a row of
    zeros, its clause deviation where there is none)."""
    cl = clause_row(h, i, none)
    d, a, bl = h.deviation[i], h.aversion[i], h.baseline[i]
    _argument(d, a, cl, bl, draft.gap, draft.use_gap, draft.form, z)


@numba.njit(**JIT)
def argument(h: Histories, draft: Draft) -> F:  # pragma: no cover - compiled
    """(states, replicates) the tanh argument of ``draft.form`` (what the other kernels compute
    row by row; for tests)."""
    out = np.empty_like(h.deviation)
    none = np.zeros(h.deviation.shape[1], dtype=np.float32)
    for i in range(h.deviation.shape[0]):
        argument_row(h, i, draft, out[i], none)
    return out


@numba.njit(inline="always", **JIT)
def observed_at(
    r: int, t_yes: Any, t_no: Any, p: Any, lw: Any, sums: F, swing: F
) -> None:  # pragma: no cover - compiled
    """Replicate ``r`` of one state's share of ``observe`` (presence ``p``, lobbying weight
    ``lw``), from its vote probabilities in tanh form: the sums and its swing."""
    sums[0, r] += p * t_yes
    sums[1, r] += p * t_no
    sw = ONE - t_yes * t_yes
    swing[r] = sw
    sums[2, r] += lw * sw


@numba.njit(inline="always", **JIT)
def spread_row(groups: Csr, i: int, d: F, rows: F) -> None:  # pragma: no cover - compiled
    """``rows[index[j]] += weight[j] d`` over row ``i`` of ``groups`` (its groups)."""
    ptr, index, weight = groups.ptr, groups.group, groups.weight
    for j in range(ptr[i], ptr[i + 1]):
        row = rows[index[j]]
        w = weight[j]
        for r in range(d.shape[0]):
            row[r] += w * d[r]


@numba.njit(inline="always", **JIT)
def _add_rows(groups: Csr, i: int, rows: F, out: F) -> None:  # pragma: no cover - compiled
    """``out += sum over j of weight[j] rows[index[j]]`` for row ``i`` of ``groups``."""
    ptr, index, weight = groups.ptr, groups.group, groups.weight
    for j in range(ptr[i], ptr[i + 1]):
        row = rows[index[j]]
        w = weight[j]
        for r in range(out.shape[0]):
            out[r] += w * row[r]


@numba.njit(**JIT)
def pull(members: Csr, weights: Csr, x: F, n_groups: int) -> F:  # pragma: no cover - compiled
    """(states, replicates) each state's ``weights``-weighted sum of its groups' means of ``x``
    (states, replicates), ``members`` giving each state's groups with 1 / group size: the
    product ``weights @ (members.T @ x)`` summed in one order (states, then their groups), the
    same bits on every CPU (a BLAS product's order of summation depends on the CPU)."""
    means = np.zeros((n_groups, x.shape[1]), dtype=np.float32)
    for i in range(x.shape[0]):
        spread_row(members, i, x[i], means)
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        _add_rows(weights, i, means, out[i])
    return out


@numba.njit(**JIT)
def _observe_row(
    h: Histories, i: int, draft: Draft, out: Observation, z: F, none: F
) -> None:  # pragma: no cover - compiled
    """State ``i``'s share of ``observe`` but for the group means (``z`` a work row, ``none`` a
    row of zeros)."""
    argument_row(h, i, draft, z, none)
    p, lw, sums, swing = draft.presence[i], draft.lobbied[i], out.sums, out.swing[i]
    pair = draft.pair
    for r in range(z.shape[0]):
        t_yes, t_no = tanh_pair(z[r], pair)
        observed_at(r, t_yes, t_no, p, lw, sums, swing)


@numba.njit(**JIT)
def observe(h: Histories, draft: Draft, members: Csr, out: Observation) -> None:  # pragma: no cover
    """Where the draft stands (its tanh argument of ``draft.form``), in one pass.

    Writes ``out.sums`` (3, replicates): the sum over states of presence x t_yes and of presence
    x t_no (the expected tallies in tanh form, ``rules.present_tanh``) and of lobbied x swing
    (``rules.swing_tanh``); ``out.group_means`` (groups, replicates), each group's mean deviation
    (state ``i``'s groups are row ``i`` of ``members``, with weights 1 / group size); and
    ``out.swing`` (states, replicates). t_no = tanh(z + band / noise) (``draft.pair``)."""
    out.sums[:] = 0
    out.group_means[:] = 0
    z = np.empty(h.deviation.shape[1], dtype=np.float32)
    none = np.zeros(h.deviation.shape[1], dtype=np.float32)
    for i in range(h.deviation.shape[0]):
        _observe_row(h, i, draft, out, z, none)
        spread_row(members, i, h.deviation[i], out.group_means)


@numba.njit(inline="always", **JIT)
def _combine(a: Any, x: F, b: Any, y: F, out: F) -> None:  # pragma: no cover - compiled
    """``out = a x + b y``."""
    for r in range(out.shape[0]):
        out[r] = a * x[r] + b * y[r]


@numba.njit(**JIT)
def _shared_rows(kinds: Kinds, rnd: Round, group_means: F) -> Any:  # pragma: no cover
    """The parts of a round the states of a kind share, once per pattern or kind: (keep x swung
    support pushes, keep x other support pushes + pull, the ICC aversion's swung and other
    pushes)."""
    r_count = group_means.shape[1]
    patterns, keep = kinds.patterns, rnd.keep
    n_kinds, n_patterns = kinds.kind_pattern.shape[0], patterns.shape[0]
    swung = np.empty((n_patterns, r_count), dtype=np.float32)
    icc_swung = np.empty((n_patterns, r_count), dtype=np.float32)
    icc_rest = np.empty((n_patterns, r_count), dtype=np.float32)
    rest = np.empty((n_kinds, r_count), dtype=np.float32)
    s, c = rnd.support.coefficients, rnd.icc.coefficients
    for q in range(n_patterns):
        w0, w1, w2, w3 = patterns[q, 0], patterns[q, 1], patterns[q, 2], patterns[q, 3]
        _combine(keep * w0, s[0], keep * w1, s[1], swung[q])
        _combine(w0, c[0], w1, c[1], icc_swung[q])
        _combine(w2, c[2], w3, c[3], icc_rest[q])
    for k in range(n_kinds):
        q = kinds.kind_pattern[k]
        _combine(keep * patterns[q, 2], s[2], keep * patterns[q, 3], s[3], rest[k])
        _add_rows(kinds.pull, k, group_means, rest[k])
    return swung, rest, icc_swung, icc_rest


@numba.njit(**JIT)
def _custom_pushes(h: Histories, rnd: Round) -> None:  # pragma: no cover - compiled
    """Pushes on custom bases: keep (d + values + the rest) = keep ((d + values) + the rest)."""
    r_count = h.deviation.shape[1]
    for j in range(rnd.support.rows.shape[0]):
        d = h.deviation[rnd.support.rows[j]]
        f = rnd.support.values[j]
        for r in range(r_count):
            d[r] += f[r]
    for j in range(rnd.icc.rows.shape[0]):
        a = h.aversion[rnd.icc.rows[j]]
        f = rnd.icc.values[j]
        for r in range(r_count):
            a[r] += f[r]


@numba.njit(inline="always", **JIT)
def _step(r: int, d: F, a: F, s: Any, keep: Any, rows: Any) -> Any:  # pragma: no cover
    """Replicate ``r`` of a state's (deviation, ICC aversion) after the round, from its swing
    ``s`` and its kind's rows (swung, rest, ICC swung, ICC rest: see ``deliberate``)."""
    ss, rr, si, ri = rows
    return keep * d[r] + s * ss[r] + rr[r], a[r] + s * si[r] + ri[r]


@numba.njit(**JIT)
def _move(h: Histories, kinds: Kinds, keep: Any, shared: Any, swing: F) -> None:  # pragma: no cover
    """Every state's step of the round (``_step``), without observing where it lands."""
    swung, rest, icc_swung, icc_rest = shared
    for i in range(h.deviation.shape[0]):
        d, a, sw = h.deviation[i], h.aversion[i], swing[i]
        k = kinds.kind_of[i]
        q = kinds.kind_pattern[k]
        rows = (swung[q], rest[k], icc_swung[q], icc_rest[q])
        for r in range(d.shape[0]):
            d[r], a[r] = _step(r, d, a, sw[r], keep, rows)


@numba.njit(**JIT)
def _move_and_observe(
    h: Histories, kinds: Kinds, keep: Any, shared: Any, draft: Draft, out: Observation, moved: F
) -> None:  # pragma: no cover - compiled
    """Every state's step of the round and ``observe`` of where it lands (the new deviations
    summed per kind into ``moved``)."""
    swung, rest, icc_swung, icc_rest = shared
    gap, form, pair, sums = draft.gap, draft.form, draft.pair, out.sums
    cd, cc, gc, cbl, gbl, c0, g0 = form[0], form[1], form[2], form[3], form[4], form[5], form[6]
    none = np.zeros(h.deviation.shape[1], dtype=np.float32)
    for i in range(h.deviation.shape[0]):
        d, a, sw, bl = h.deviation[i], h.aversion[i], out.swing[i], h.baseline[i]
        cl = clause_row(h, i, none)
        k = kinds.kind_of[i]
        q = kinds.kind_pattern[k]
        rows = (swung[q], rest[k], icc_swung[q], icc_rest[q])
        p, lw, m = draft.presence[i], draft.lobbied[i], moved[k]
        if draft.use_gap:
            for r in range(d.shape[0]):
                dn, an = _step(r, d, a, sw[r], keep, rows)
                d[r] = dn
                a[r] = an
                m[r] += dn
                g = gap[r]
                c = an - cl[r]
                z = cd * dn + (cc + gc * g) * c + (cbl + gbl * g) * bl[r] + c0 + g0 * g
                t_yes, t_no = tanh_pair(z, pair)
                observed_at(r, t_yes, t_no, p, lw, sums, sw)
        else:
            for r in range(d.shape[0]):
                dn, an = _step(r, d, a, sw[r], keep, rows)
                d[r] = dn
                a[r] = an
                m[r] += dn
                z = cd * dn + cc * (an - cl[r]) + cbl * bl[r] + c0
                t_yes, t_no = tanh_pair(z, pair)
                observed_at(r, t_yes, t_no, p, lw, sums, sw)


@numba.njit(**JIT)
def deliberate(
    h: Histories,
    kinds: Kinds,
    rnd: Round,
    group_means: F,
    observe_next: bool,
    draft: Draft,
    out: Observation,
) -> None:  # pragma: no cover - compiled
    """A round's pushes and deliberation, in place, in one pass; with ``observe_next``, also
    ``observe`` of the state it leaves (into ``out``; ``out.swing`` is also each state's swing at
    the start of the round, read before it is overwritten).

    Support (``rules.deliberate`` on the deviation, with groups fixed for the round):

        new d = keep (d + pressure) + pull-weighted group means (``group_means``, from ``observe``)

    with pressure = swing x (``bases[:, :2]`` @ ``c[:2]``) + ``bases[:, 2:]`` @ ``c[2:]``, plus
    the custom pushes (``rnd.support``): ``bases`` (states, 4) are the model's named bases in
    ``BASES`` order (here by kind: ``kinds.patterns``), ``c`` their per-replicate coefficients.
    The ICC aversion ``h.aversion`` rises by its own pressure (``rnd.icc``).

    The parts of a round the states of a kind share (their pushes, less the swing, and their
    pull) are formed once per kind: a few dozen rows instead of one per state. The states then
    differ by their own deviation, ICC aversion and swing alone:

        new d = keep d + swing x (keep x swung pushes) + (keep x other pushes + pull)

    and the group means of the new deviations are summed per kind, then spread over the groups.

    Each state's row is one loop of independent replicates, which the compiler vectorises."""
    shared = _shared_rows(kinds, rnd, group_means)
    _custom_pushes(h, rnd)
    if not observe_next:
        _move(h, kinds, rnd.keep, shared, out.swing)
        return
    moved = np.zeros((kinds.kind_pattern.shape[0], h.deviation.shape[1]), dtype=np.float32)
    out.sums[:] = 0
    out.group_means[:] = 0
    _move_and_observe(h, kinds, rnd.keep, shared, draft, out, moved)
    for k in range(moved.shape[0]):
        spread_row(kinds.members, k, moved[k], out.group_means)


@numba.njit(**JIT)
def yes_share(sums: F, total: Any, share: F, lobbied_total: F) -> None:  # pragma: no cover
    """From ``observe``'s sums: the expected share of yes among yes and no votes, with P(yes)
    summed over states as (total presence + sum of presence x t_yes) / 2 (and no alike), and the
    total lobbying weight (both at least 1e-9), rounded step by step as NumPy would."""
    half = np.float32(0.5)
    tiny = np.float32(1e-9)
    for r in range(share.shape[0]):
        yes = half * (total + sums[0, r])
        no = half * (total - sums[1, r])
        both = yes + no
        share[r] = yes / (both if both > tiny else tiny)
        lw = sums[2, r]
        lobbied_total[r] = lw if lw > tiny else tiny


@numba.njit(**JIT)
def start(
    prior: Prior,
    noise: F,
    draws: F,
    use_draws: bool,
    h: Histories,
    draft: Draft,
    out: Observation,
) -> None:  # pragma: no cover - compiled
    """A block's starting state, in one pass: ``h.baseline`` = ``prior.expected`` + ``prior.sd``
    x ``noise``, plus with ``use_draws`` the run's draws of what the calibration leaves
    uncertain: ``loadings[i] . (draws[0], draws[1], draws[2], draws[3 + group_of[i]])`` (the
    level and the two weights, and the state's group shock; ``draws`` (3 + groups,
    replicates)); the ICC aversion ``h.aversion`` = ``prior.icc`` and a zero ``h.deviation``;
    and ``observe`` of it (with the states' own clause deviations ``h.clause``, if any; the
    group means of a zero deviation are zero)."""
    n, r_count = noise.shape
    out.sums[:] = 0
    out.group_means[:] = 0
    z = np.empty(r_count, dtype=np.float32)
    sd, loadings = prior.sd, prior.loadings
    none = np.zeros(r_count, dtype=np.float32)
    for i in range(n):
        e = prior.expected[i]
        icc = prior.icc[i]
        nz, bl, a, d = noise[i], h.baseline[i], h.aversion[i], h.deviation[i]
        if use_draws:
            l0, l1, l2, l3 = loadings[i, 0], loadings[i, 1], loadings[i, 2], loadings[i, 3]
            d0, d1, d2, dg = draws[0], draws[1], draws[2], draws[3 + prior.group_of[i]]
            for r in range(r_count):
                bl[r] = e + sd * nz[r] + (l0 * d0[r] + l1 * d1[r] + l2 * d2[r] + l3 * dg[r])
                a[r] = icc
                d[r] = 0
        else:
            for r in range(r_count):
                bl[r] = e + sd * nz[r]
                a[r] = icc
                d[r] = 0
        _observe_row(h, i, draft, out, z, none)
