"""The rules of a diplomatic round and of an Assembly vote, each fused into one compiled pass.

A round of diplomacy reads each state's support (kept as its deviation from the baseline) and the
draft's tanh argument (``rules.draft_base``) to see where the votes stand, and moves them; a vote
is one more pass. Written as NumPy expressions the same rules take a dozen passes over arrays of a
few megabytes each, and memory traffic, not arithmetic, sets the pace. These kernels (compiled by
numba) do each step in a single pass and keep every intermediate in registers: a round is one pass
(``deliberate`` moves the states and observes where they land for the next round).

Each kernel is the composition of plain rules in :mod:`unsim.model.rules`, and the tests check it
against them (``tests/test_kernels.py``): ``observe`` is ``present_tanh`` of the draft stance
followed by the expected tallies, ``swing`` and ``group_means``; ``deliberate`` is
``rules.deliberate`` with the round's pushes; ``votes`` is ``cast_votes`` followed by ``tally``.

Arrays are (states, replicates), C-ordered, float32; per-replicate arrays have one entry per
replicate. A vote's two probabilities in tanh form, tanh z and tanh(z + band / noise), come from
one exponential exp(2 z) (``tanh_pair``), within 2e-7 of the exact values (NumPy's own float32
tanh is within about 1e-7), written so the compiler can vectorise it.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic
from numpy.typing import NDArray

F = NDArray[np.float32]

#: Compiled once per machine and cached next to this file (or in numba's user cache); no global
#: state, so a kernel can run in several threads at once.
_JIT: dict[str, Any] = {"fastmath": True, "error_model": "numpy", "nogil": True, "cache": True}

_SATURATED = np.float32(8.7)  # float32's tanh rounds to +-1 from about 8.66
#: 2^f on [-1/2, 1/2], relative error 2.6e-7 in float32 (a Chebyshev fit of degree 5)
_E0, _E1, _E2, _E3, _E4, _E5 = (
    np.float32(c)
    for c in (
        1.0000000755142195,
        0.6931472067162205,
        0.24022107265252218,
        0.05550327202261298,
        0.009676041928710676,
        0.0013400436944601927,
    )
)
#: 2 / ln 2 in two parts, so that 2 x / ln 2 - n keeps float32's precision for |x| up to 26
_C_HI = np.float32(2.0 / np.log(2.0))
_C_LO = np.float32(2.0 / np.log(2.0) - float(_C_HI))
#: exp(2 x) is formed for |x| up to 26: beyond, both tanh of a pair are +-1 (band / noise being
#: at most ``SHARED_LIMIT`` when they share it), and exp(52) exp(34) is within float32's range
_X_MAX = np.float32(26.0)
_ONE = np.float32(1.0)
_TWO = np.float32(2.0)
_YES, _NO, _ABSTAIN, _ABSENT = (np.int8(v) for v in range(4))  # rules.Vote's codes

#: Up to this band / noise the two tanh of a vote share one exponential (``pair_args``).
SHARED_LIMIT = 17.0


@intrinsic
def _float_from_bits(typingctx: Any, bits: Any) -> Any:  # pragma: no cover - compiled
    """The float32 whose bits are those of the int32 ``bits`` (a reinterpretation)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:  # pragma: no cover - compiled
    """a b + c of float32, rounded once."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        f32 = ir.FloatType()
        fnty = ir.FunctionType(f32, [f32, f32, f32])
        return builder.call(builder.module.declare_intrinsic("llvm.fma", [f32], fnty), args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@numba.njit(inline="always", **_JIT)
def _exp2x(x: Any) -> Any:  # pragma: no cover - compiled
    """exp(2 x) of a float32 (``x`` within +-26) as 2^y, y = 2 x / ln 2: 2^n, n the nearest
    integer (written into the exponent's bits), times a polynomial for 2^(y - n)."""
    x = x if x < _X_MAX else _X_MAX
    x = x if x > -_X_MAX else -_X_MAX
    n = np.rint(x * _C_HI)
    # 2 x / ln 2 - n, rounded once: exact enough for a remainder of an argument up to 75
    f: Any = _fma(x, _C_LO, _fma(x, _C_HI, -n))  # type: ignore[call-arg]
    p = _E5 * f + _E4
    p = p * f + _E3
    p = p * f + _E2
    p = p * f + _E1
    p = p * f + _E0
    return p * _float_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))


@numba.njit(inline="always", **_JIT)
def _tanh_from(e: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """tanh x = 1 - 2 / (exp(2 x) + 1) from ``e`` = exp(2 x); exactly +-1 where float32's tanh
    is (a state certain of its vote stays certain)."""
    t = _ONE - _TWO / (e + _ONE)
    t = _ONE if x >= _SATURATED else t
    return -_ONE if x <= -_SATURATED else t


@numba.njit(**_JIT)
def _tanh_pair(z: Any, bon: Any, shared: Any) -> Any:  # pragma: no cover - compiled
    if shared is None:  # band / noise too wide to share: an exponential each
        zn = z + bon
        return _tanh_from(_exp2x(z), z), _tanh_from(_exp2x(zn), zn)
    e = _exp2x(z)  # exp(2 (z + bon)) = exp(2 z) exp(2 bon)
    return _tanh_from(e, z), _tanh_from(e * shared, z + bon)


@numba.njit(inline="always", **_JIT)
def tanh_pair(z: Any, pair: Any) -> Any:  # pragma: no cover - compiled
    """(tanh z, tanh(z + bon)) of float32 ``z``, with ``pair`` = ``pair_args(bon)``: the vote
    probabilities of a state in tanh form (``rules.present_tanh``)."""
    return _tanh_pair(z, pair[0], pair[1])


def pair_args(bon: float) -> tuple[np.float32, np.float32 | None]:
    """What the kernels take to form a vote's two tanh, tanh(z) and tanh(z + bon) (``bon`` =
    band / noise): ``(bon, exp(2 bon))``, so that both come from one exponential, exp(2 z); or
    ``(bon, None)`` beyond ``SHARED_LIMIT``, where exp(2 z) would have to leave float32's range
    for the product to be exact, and each takes its own."""
    b = np.float32(bon)
    return b, (np.float32(np.exp(2.0 * float(b))) if b <= SHARED_LIMIT else None)


@numba.njit(**_JIT)
def tanh_pair_array(x: F, pair: Any) -> tuple[F, F]:  # pragma: no cover - compiled
    """``tanh_pair`` over an array (for tests and comparisons)."""
    flat = x.ravel()
    t_yes = np.empty_like(flat)
    t_no = np.empty_like(flat)
    for k in range(flat.size):
        t_yes[k], t_no[k] = tanh_pair(flat[k], pair)
    return t_yes.reshape(x.shape), t_no.reshape(x.shape)


#: A tanh argument's *form*: the coefficients (cd, cb, gb, cbl, gbl, c0, g0) of
#:     z = cd d + (cb + gb gap) b + (cbl + gbl gap) bl + c0 + g0 gap
#: in a state's deviation d, its draft base b, its baseline bl and the replicate's ``gap`` (1 - the
#: ICC factor: 0 while the language is retained). Every vote in the model has such a form
#: (``UNModel._argument_form``).


@numba.njit(inline="always", **_JIT)
def _argument(
    d: F, b: F, bl: F, gap: F, use_gap: bool, form: F, z: F
) -> None:  # pragma: no cover - compiled
    """One state's row of a tanh argument of the given ``form``."""
    cd, cb, gb, cbl, gbl, c0, g0 = form[0], form[1], form[2], form[3], form[4], form[5], form[6]
    if use_gap:
        for r in range(d.shape[0]):
            g = gap[r]
            z[r] = cd * d[r] + (cb + gb * g) * b[r] + (cbl + gbl * g) * bl[r] + c0 + g0 * g
    elif cbl != 0 and cb != 0:
        for r in range(d.shape[0]):
            z[r] = cd * d[r] + cb * b[r] + cbl * bl[r] + c0
    elif cbl != 0:  # the no-action motion's form reads the baseline but not the draft base
        for r in range(d.shape[0]):
            z[r] = cd * d[r] + cbl * bl[r] + c0
    else:
        for r in range(d.shape[0]):
            z[r] = cd * d[r] + cb * b[r] + c0


@numba.njit(**_JIT)
def argument(
    deviation: F, base: F, baseline: F, gap: F, use_gap: bool, form: F
) -> F:  # pragma: no cover - compiled
    """(states, replicates) the tanh argument of ``form`` (what the other kernels compute row by
    row; for tests)."""
    out = np.empty_like(deviation)
    for i in range(deviation.shape[0]):
        _argument(deviation[i], base[i], baseline[i], gap, use_gap, form, out[i])
    return out


@numba.njit(**_JIT)
def observe(
    deviation: F,
    base: F,
    baseline: F,
    gap: F,
    use_gap: bool,
    form: F,
    pair: Any,
    presence: F,
    lobbied: F,
    member_ptr: NDArray[np.int64],
    member_group: NDArray[np.int64],
    member_weight: F,
    sums: F,
    group_means: F,
    swing: F,
) -> None:  # pragma: no cover - compiled
    """Where the draft stands (its tanh argument of ``form``), in one pass.

    Writes ``sums`` (3, replicates): the sum over states of presence x t_yes and of presence x
    t_no (the expected tallies in tanh form, ``rules.present_tanh``) and of ``lobbied`` x swing
    (``rules.swing_tanh``); ``group_means`` (groups, replicates), each group's mean deviation
    (state ``i`` belongs to groups ``member_group[member_ptr[i]:member_ptr[i + 1]]`` with weights
    1 / group size); and ``swing`` (states, replicates).

    ``pair`` is ``pair_args(band / noise)``: t_no = tanh(z + band / noise)."""
    sums[:] = 0
    group_means[:] = 0
    z = np.empty(deviation.shape[1], dtype=np.float32)
    for i in range(deviation.shape[0]):
        d = deviation[i]
        _observe_row(d, base[i], baseline[i], gap, use_gap, form, pair, presence[i], lobbied[i],
                     sums, swing[i], z)  # fmt: skip
        _spread_row(member_ptr, member_group, member_weight, i, d, group_means)


@numba.njit(**_JIT)
def _observe_row(
    d: F,
    b: F,
    bl: F,
    gap: F,
    use_gap: bool,
    form: F,
    pair: Any,
    p: Any,
    lw: Any,
    sums: F,
    swing: F,
    z: F,
) -> None:  # pragma: no cover - compiled
    """One state's share of ``observe`` but for the group means (``z`` a work row)."""
    _argument(d, b, bl, gap, use_gap, form, z)
    for r in range(z.shape[0]):
        t_yes, t_no = tanh_pair(z[r], pair)
        _observed_at(r, t_yes, t_no, p, lw, sums, swing)


@numba.njit(**_JIT)
def expected(
    deviation: F,
    base: F,
    baseline: F,
    gap: F,
    use_gap: bool,
    form: F,
    pair: Any,
    presence: F,
    sums: F,
) -> None:  # pragma: no cover - compiled
    """``sums`` (2, replicates): the sum over states of presence x t_yes and of presence x t_no
    of a vote whose tanh argument has ``form`` (its expected tally in tanh form)."""
    sums[:] = 0
    z = np.empty(deviation.shape[1], dtype=np.float32)
    yes_sum, no_sum = sums[0], sums[1]
    for i in range(deviation.shape[0]):
        _argument(deviation[i], base[i], baseline[i], gap, use_gap, form, z)
        p = presence[i]
        for r in range(z.shape[0]):
            t_yes, t_no = tanh_pair(z[r], pair)
            yes_sum[r] += p * t_yes
            no_sum[r] += p * t_no


#: The named bases of a push (``UNModel.shift``), in the order of the columns of the model's
#: bases and of ``kinds``' patterns: the first two are also weighted by swing.
BASES = ("undecided", "lobbied", "receptive", "allies")
SWUNG = 2


@numba.njit(inline="always", **_JIT)
def _add_rows(
    ptr: NDArray[np.int64], index: NDArray[np.int64], weight: F, i: int, rows: F, out: F
) -> None:  # pragma: no cover - compiled
    """``out += sum over j of weight[j] rows[index[j]]`` for state ``i``'s compressed row."""
    for j in range(ptr[i], ptr[i + 1]):
        row = rows[index[j]]
        w = weight[j]
        for r in range(out.shape[0]):
            out[r] += w * row[r]


@numba.njit(inline="always", **_JIT)
def _spread_row(
    ptr: NDArray[np.int64], index: NDArray[np.int64], weight: F, i: int, d: F, rows: F
) -> None:  # pragma: no cover - compiled
    """``rows[index[j]] += weight[j] d`` over state ``i``'s compressed row (its groups)."""
    for j in range(ptr[i], ptr[i + 1]):
        row = rows[index[j]]
        w = weight[j]
        for r in range(d.shape[0]):
            row[r] += w * d[r]


@numba.njit(inline="always", **_JIT)
def _observed_at(
    r: int, t_yes: Any, t_no: Any, p: Any, lw: Any, sums: F, swing: F
) -> None:  # pragma: no cover - compiled
    """Replicate ``r`` of one state's share of ``observe`` (presence ``p``, lobbying weight
    ``lw``), from its vote probabilities in tanh form: the sums and its swing."""
    sums[0, r] += p * t_yes
    sums[1, r] += p * t_no
    sw = _ONE - t_yes * t_yes
    swing[r] = sw
    sums[2, r] += lw * sw


@numba.njit(inline="always", **_JIT)
def _combine(a: Any, x: F, b: Any, y: F, out: F) -> None:  # pragma: no cover - compiled
    """``out = a x + b y``."""
    for r in range(out.shape[0]):
        out[r] = a * x[r] + b * y[r]


@numba.njit(inline="always", **_JIT)
def _step(
    r: int, d: F, b: F, s: Any, keep: Any, swung: F, rest: F, icc_swung: F, icc_rest: F
) -> Any:  # pragma: no cover - compiled
    """Replicate ``r`` of a state's (deviation, draft base) after the round, from its swing
    ``s`` and its kind's rows (see ``deliberate``)."""
    return keep * d[r] + s * swung[r] + rest[r], b[r] + s * icc_swung[r] + icc_rest[r]


@numba.njit(**_JIT)
def deliberate(
    deviation: F,
    base: F,
    swing: F,
    keep: Any,
    kind_of: NDArray[np.int64],
    kind_pattern: NDArray[np.int64],
    patterns: F,
    pull_ptr: NDArray[np.int64],
    pull_group: NDArray[np.int64],
    pull_weight: F,
    member_ptr: NDArray[np.int64],
    member_group: NDArray[np.int64],
    member_weight: F,
    group_means: F,
    support_c: F,
    support_rows: NDArray[np.int64],
    support_full: F,
    icc_c: F,
    icc_rows: NDArray[np.int64],
    icc_full: F,
    icc_scale: Any,
    observe_next: bool,
    baseline: F,
    gap: F,
    use_gap: bool,
    form: F,
    pair: Any,
    presence: F,
    lobbied: F,
    sums: F,
    next_group_means: F,
) -> None:  # pragma: no cover - compiled
    """A round's pushes and deliberation, in place, in one pass; with ``observe_next``, also
    ``observe`` of the state it leaves (into ``sums``, ``next_group_means`` and ``swing``).

    Support (``rules.deliberate`` on the deviation, with groups fixed for the round):

        new d = keep (d + pressure) + pull-weighted group means (``group_means``, from ``observe``)

    with pressure = swing x (``bases[:, :2]`` @ ``support_c[:2]``) + ``bases[:, 2:]`` @
    ``support_c[2:]``, plus ``support_full[j]`` on state ``support_rows[j]`` (pushes on custom
    bases, on the states they reach): ``bases`` (states, 4) are the model's named bases in the
    order of ``BASES`` (here by kind: ``patterns``), the coefficients (4, replicates) their
    per-replicate coefficients (0 where nothing is pushed). The ICC aversion rises by its own
    pressure, formed alike from ``icc_c``, ``icc_rows`` and ``icc_full``; the draft's tanh
    argument ``base`` falls by it x ``icc_scale`` (= -1 / (2 noise)). ``swing``: each state's at
    the start of the round (from ``observe``).

    States come in *kinds* (``kinds``): state ``i`` is of kind ``kind_of[i]``, whose named-basis
    weights are row ``kind_pattern[k]`` of ``patterns`` and whose groups are row ``k`` of the
    compressed pull and member weights. The parts of a round the states of a kind share (their
    pushes, less the swing, and their pull) are formed once per kind: a few dozen rows instead of
    one per state. The states then differ by their own deviation, draft base and swing alone:

        new d = keep d + swing x (keep x swung pushes) + (keep x other pushes + pull)

    and the group means of the new deviations are summed per kind, then spread over the groups.

    Each state's row is one loop of independent replicates, which the compiler vectorises."""
    n, r_count = deviation.shape
    n_kinds = kind_pattern.shape[0]
    n_patterns = patterns.shape[0]
    swung = np.empty((n_patterns, r_count), dtype=np.float32)
    icc_swung = np.empty((n_patterns, r_count), dtype=np.float32)
    icc_rest = np.empty((n_patterns, r_count), dtype=np.float32)
    rest = np.empty((n_kinds, r_count), dtype=np.float32)
    s0, s1, s2, s3 = support_c[0], support_c[1], support_c[2], support_c[3]
    c0_, c1_, c2_, c3_ = icc_c[0], icc_c[1], icc_c[2], icc_c[3]
    for q in range(n_patterns):
        w0, w1, w2, w3 = patterns[q, 0], patterns[q, 1], patterns[q, 2], patterns[q, 3]
        _combine(keep * w0, s0, keep * w1, s1, swung[q])
        _combine(icc_scale * w0, c0_, icc_scale * w1, c1_, icc_swung[q])
        _combine(icc_scale * w2, c2_, icc_scale * w3, c3_, icc_rest[q])
    for k in range(n_kinds):
        q = kind_pattern[k]
        _combine(keep * patterns[q, 2], s2, keep * patterns[q, 3], s3, rest[k])
        _add_rows(pull_ptr, pull_group, pull_weight, k, group_means, rest[k])
    # pushes on custom bases: keep (d + full + the rest) = keep ((d + full) + the rest)
    for j in range(support_rows.shape[0]):
        d = deviation[support_rows[j]]
        f = support_full[j]
        for r in range(r_count):
            d[r] += f[r]
    for j in range(icc_rows.shape[0]):
        b = base[icc_rows[j]]
        f = icc_full[j]
        for r in range(r_count):
            b[r] += icc_scale * f[r]
    general = use_gap or form[3] != 0
    moved = np.zeros((n_kinds if observe_next else 0, r_count), dtype=np.float32)
    if observe_next:
        sums[:] = 0
        next_group_means[:] = 0
    cd, cb, gb, cbl, gbl, c0, g0 = form[0], form[1], form[2], form[3], form[4], form[5], form[6]
    for i in range(n):
        d = deviation[i]
        b = base[i]
        sw = swing[i]
        k = kind_of[i]
        q = kind_pattern[k]
        ss, rr, si, ri = swung[q], rest[k], icc_swung[q], icc_rest[q]
        if not observe_next:
            for r in range(r_count):
                d[r], b[r] = _step(r, d, b, sw[r], keep, ss, rr, si, ri)
            continue
        p = presence[i]
        lw = lobbied[i]
        m = moved[k]
        if general:
            bl = baseline[i]
            for r in range(r_count):
                dn, bn = _step(r, d, b, sw[r], keep, ss, rr, si, ri)
                d[r] = dn
                b[r] = bn
                m[r] += dn
                g = gap[r]
                z = cd * dn + (cb + gb * g) * bn + (cbl + gbl * g) * bl[r] + c0 + g0 * g
                t_yes, t_no = tanh_pair(z, pair)
                _observed_at(r, t_yes, t_no, p, lw, sums, sw)
        else:
            for r in range(r_count):
                dn, bn = _step(r, d, b, sw[r], keep, ss, rr, si, ri)
                d[r] = dn
                b[r] = bn
                m[r] += dn
                z = cd * dn + cb * bn + c0
                t_yes, t_no = tanh_pair(z, pair)
                _observed_at(r, t_yes, t_no, p, lw, sums, sw)
    for k in range(moved.shape[0]):
        _spread_row(member_ptr, member_group, member_weight, k, moved[k], next_group_means)


@numba.njit(inline="always", **_JIT)
def _vote(t_yes: Any, t_no: Any, w: Any) -> Any:  # pragma: no cover - compiled
    """A state's vote (``rules.Vote`` code) from its probabilities in tanh form and its uniform
    as ``w`` (see ``votes``): yes iff t_yes >= w, no iff t_no < w, absent iff w > 1."""
    code = _ABSTAIN
    code = _NO if t_no < w else code
    code = _YES if t_yes >= w else code
    return _ABSENT if w > _ONE else code


@numba.njit(inline="always", **_JIT)
def _byte_tally(n: int, r_count: int) -> NDArray[np.int32]:  # pragma: no cover - compiled
    """A tally kept as votes are cast: byte k of each entry counts the votes of code k (one
    update a vote instead of three), so at most 255 states vote."""
    if n > 255:
        raise ValueError("a tally in bytes counts at most 255 voting states")
    return np.zeros(r_count, dtype=np.int32)


@numba.njit(inline="always", **_JIT)
def _unpack(packed: NDArray[np.int32], counts: NDArray[np.int32]) -> None:  # pragma: no cover
    """``counts`` (4, replicates) from a ``_byte_tally``."""
    for r in range(packed.shape[0]):
        c = packed[r]
        for k in range(4):
            counts[k, r] = (c >> np.int32(8 * k)) & np.int32(255)


@numba.njit(**_JIT)
def votes(
    deviation: F,
    base: F,
    baseline: F,
    gap: F,
    use_gap: bool,
    form: F,
    pair: Any,
    w_offset: F,
    w_scale: F,
    u: F,
    out: NDArray[np.int8],
    counts: NDArray[np.int32],
    observe: bool,
    presence: F,
    lobbied: F,
    kind_of: NDArray[np.int64],
    member_ptr: NDArray[np.int64],
    member_group: NDArray[np.int64],
    member_weight: F,
    sums: F,
    group_means: F,
    swing: F,
) -> None:  # pragma: no cover - compiled
    """Votes (``rules.Vote`` codes, into ``out``) and their tally, in one pass:
    ``rules.cast_votes_tanh`` of the tanh form of ``form``, then ``rules.tally``. With
    ``observe`` (a vote on the draft, whose form is ``observe``'s), also ``observe`` of the state
    voted on, from the same probabilities; its group means are summed per kind of state
    (``kind_of``, and the member weights of each kind as compressed rows: see ``kinds``).

    With h = presence / 2, a state's uniform u becomes w = (1 - h - u) / h = ``w_offset`` -
    ``w_scale`` u; it votes yes iff t_yes >= w, no iff t_no < w (and not yes), is absent iff w > 1,
    and abstains otherwise (t_yes, t_no = ``tanh_pair(z, pair)``). ``counts`` (4, replicates): yes,
    no, abstain, absent."""
    n, r_count = deviation.shape
    packed = _byte_tally(n, r_count)
    z = np.empty(r_count, dtype=np.float32)
    n_kinds = member_ptr.shape[0] - 1
    moved = np.zeros((n_kinds if observe else 0, r_count), dtype=np.float32)
    unobserved = np.empty(0 if observe else r_count, dtype=np.float32)  # (a row of its own)
    if observe:
        sums[:] = 0
        group_means[:] = 0
    for i in range(n):
        d = deviation[i]
        _argument(d, base[i], baseline[i], gap, use_gap, form, z)
        a = w_offset[i]
        s = w_scale[i]
        ui = u[i]
        v = out[i]
        p, lw, sw = presence[i], lobbied[i], swing[i]
        m = moved[kind_of[i]] if observe else unobserved
        for r in range(r_count):
            w = a - s * ui[r]
            t_yes, t_no = tanh_pair(z[r], pair)
            code = _vote(t_yes, t_no, w)
            v[r] = code
            packed[r] += np.int32(1) << (np.int32(8) * np.int32(code))
            if observe:
                _observed_at(r, t_yes, t_no, p, lw, sums, sw)
                m[r] += d[r]
    for k in range(moved.shape[0]):
        _spread_row(member_ptr, member_group, member_weight, k, moved[k], group_means)
    _unpack(packed, counts)


@numba.njit(**_JIT)
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
            w = _ONE - _TWO * ui[r]
            code = _vote(t_yes, t_no, w)
            v[r] = code
            packed[r] += np.int32(1) << (np.int32(8) * np.int32(code))
    _unpack(packed, counts)


#: Without contraction into fused multiply-adds: ``yes_share`` and ``start`` round each operation
#: as the plain NumPy expressions of the model and ``rules`` do, so they give the very same
#: numbers.
_EXACT: dict[str, Any] = {**_JIT, "fastmath": {"nnan", "ninf", "nsz", "arcp", "afn"}}


@numba.njit(**_EXACT)
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


@numba.njit(**_EXACT)
def start(
    expected: F,
    sd: Any,
    noise: F,
    loadings: F,
    draws: F,
    group_of: NDArray[np.int64],
    use_draws: bool,
    icc_base: F,
    band: Any,
    half: Any,
    baseline: F,
    base: F,
    deviation: F,
    gap: F,
    use_gap: bool,
    form: F,
    pair: Any,
    presence: F,
    lobbied: F,
    sums: F,
    group_means: F,
    swing: F,
) -> None:  # pragma: no cover - compiled
    """A block's starting state, in one pass: ``baseline`` = ``expected`` + ``sd`` x ``noise``
    (``expected`` and ``icc_base`` per state), plus with ``use_draws`` the run's draws of what the
    calibration leaves uncertain: ``loadings[i] . (draws[0], draws[1], draws[2], draws[3 +
    group_of[i]])`` (the level and the two weights, and the state's group shock; ``loadings``
    (states, 4), ``draws`` (3 + groups, replicates)); the draft's tanh argument ``base`` =
    ``rules.draft_base`` (with ``half`` = 1 / (2 noise)) and a zero ``deviation``; and
    ``observe`` of it (the group means of a zero deviation are zero)."""
    n, r_count = noise.shape
    sums[:] = 0
    group_means[:] = 0
    z = np.empty(r_count, dtype=np.float32)
    for i in range(n):
        e = expected[i]
        icc = icc_base[i]
        nz, bl, b, d = noise[i], baseline[i], base[i], deviation[i]
        if use_draws:
            l0, l1, l2, l3 = loadings[i, 0], loadings[i, 1], loadings[i, 2], loadings[i, 3]
            d0, d1, d2, dg = draws[0], draws[1], draws[2], draws[3 + group_of[i]]
            for r in range(r_count):
                x = e + sd * nz[r] + (l0 * d0[r] + l1 * d1[r] + l2 * d2[r] + l3 * dg[r])
                bl[r] = x
                b[r] = ((x - band) - icc) * half
                d[r] = 0
        else:
            for r in range(r_count):
                x = e + sd * nz[r]
                bl[r] = x
                b[r] = ((x - band) - icc) * half
                d[r] = 0
        _observe_row(d, b, bl, gap, use_gap, form, pair, presence[i], lobbied[i], sums,
                     swing[i], z)  # fmt: skip


#: No draws (``start`` without calibration uncertainty).
NO_LOADINGS = np.zeros((0, 4), dtype=np.float32)
NO_DRAWS = np.zeros((0, 0), dtype=np.float32)
NO_GROUPS = np.zeros(0, dtype=np.int64)


def csr(weights: F) -> tuple[NDArray[np.int64], NDArray[np.int64], F]:
    """(states, groups) weights as compressed rows: (pointers, group indices, weights)."""
    rows, cols = np.nonzero(weights)
    ptr = np.zeros(weights.shape[0] + 1, dtype=np.int64)
    np.add.at(ptr, rows + 1, 1)
    return (
        np.cumsum(ptr).astype(np.int64),
        cols.astype(np.int64),
        weights[rows, cols].astype(np.float32),
    )


EMPTY_BASIS = np.zeros((0, 0), dtype=np.float32)
NO_ROWS = np.zeros(0, dtype=np.int64)


def kinds(bases: F, pull: F, members: F) -> tuple[NDArray[Any], ...]:
    """The *kinds* of states ``deliberate`` takes: states with the same named-basis weights (a
    row of ``bases``, (states, 4): their *pattern*) and the same groups (rows of the (states,
    groups) ``pull`` and ``members`` weights) move alike but for their own deviation and swing.

    Returns ``(kind_of, kind_pattern, patterns, *pull, *members)``: each state's kind, each
    kind's pattern, the patterns' weights, and the pull and member weights of each kind as
    compressed rows (``csr``)."""
    pattern_index: dict[bytes, int] = {}
    kind_index: dict[tuple[bytes, bytes, bytes], int] = {}
    kind_of = np.empty(bases.shape[0], dtype=np.int64)
    first: list[int] = []
    kind_pattern: list[int] = []
    for i in range(bases.shape[0]):
        pattern = bases[i].tobytes()
        q = pattern_index.setdefault(pattern, len(pattern_index))
        key = (pattern, pull[i].tobytes(), members[i].tobytes())
        if key not in kind_index:
            kind_index[key] = len(first)
            first.append(i)
            kind_pattern.append(q)
        kind_of[i] = kind_index[key]
    patterns = np.zeros((len(pattern_index), bases.shape[1]), dtype=np.float32)
    for i in first:
        patterns[pattern_index[bases[i].tobytes()]] = bases[i]
    return (
        kind_of,
        np.asarray(kind_pattern, dtype=np.int64),
        patterns,
        *csr(np.ascontiguousarray(pull[first], dtype=np.float32)),
        *csr(np.ascontiguousarray(members[first], dtype=np.float32)),
    )


@numba.njit(**_JIT)
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


@numba.njit(**_JIT)
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
