"""Float32 arithmetic for the kernels that gives the same numbers on every CPU: a vote's two
probabilities in tanh form, and tanh itself for the NumPy side of the model.

A vote's two probabilities in tanh form, tanh z and tanh(z + band / noise), come from one
exponential exp(2 z) (``tanh_pair``), within 2.2e-7 of the exact values (measured over 6,000,001
points of [-30, 30]; NumPy's own float32 tanh is within 6e-8), written so the compiler can
vectorise it.

Same results on any CPU: the kernels are compiled without the fast-math flags that let the compiler
choose how to round (``reassoc``: reorder sums; ``contract``: fuse a multiply and an add; ``arcp``,
``afn``: approximate divisions and functions). With them, which operations were fused depended on
the target (its vector width, whether it has FMA), a vectorised division became an approximate
reciprocal instruction and a Newton step (``vrcpps``, ``vrcp14ps`` or ``rcpps`` by target, their
bits differing between Intel's and AMD's processors too), and a vote could differ between two
machines. Every operation is now rounded as written; the exponential's polynomial uses fused
multiply-adds explicitly (``_fma``, rounded once on every machine). The model's NumPy code takes
its tanh from here too (``tanh``), not from NumPy, whose float32 and float64 tanh, exp and log have
separate implementations per SIMD level that differ in the last bit.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic
from numpy.typing import NDArray

from unsim.model.jitcache import clear_stale

clear_stale()  # before any kernel is loaded from numba's cache (see unsim.model.jitcache)

F = NDArray[np.float32]

#: Compiled once per machine and cached next to this file (or in numba's user cache); no global
#: state, so a kernel can run in several threads at once. Of the fast-math flags only those that
#: change no result the kernels compute: no NaN or infinity arises in them, and the sign of a
#: zero decides nothing.
JIT: dict[str, Any] = {
    "fastmath": {"nnan", "ninf", "nsz"},
    "error_model": "numpy",
    "nogil": True,
    "cache": True,
}

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
ONE = np.float32(1.0)
TWO = np.float32(2.0)

#: Up to this band / noise the two tanh of a vote share one exponential (``pair_args``).
SHARED_LIMIT = 17.0


@intrinsic
def _float_from_bits(typingctx: Any, bits: Any) -> Any:  # pragma: no cover - compiled
    """The float32 whose bits are those of the int32 ``bits`` (a reinterpretation)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        """The LLVM instruction: reinterpret the int32's bits as float32."""
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:  # pragma: no cover - compiled
    """a b + c of float32, rounded once (one instruction where the CPU has FMA; the C library's
    exact ``fmaf`` where it has not)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        """The LLVM call: the ``llvm.fma`` intrinsic on three float32."""
        f32 = ir.FloatType()
        fnty = ir.FunctionType(f32, [f32, f32, f32])
        return builder.call(builder.module.declare_intrinsic("llvm.fma", [f32], fnty), args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@numba.njit(inline="always", **JIT)
def _exp2x(x: Any) -> Any:  # pragma: no cover - compiled
    """exp(2 x) of a float32 (``x`` within +-26) as 2^y, y = 2 x / ln 2: 2^n, n the nearest
    integer (written into the exponent's bits), times a polynomial for 2^(y - n)."""
    x = x if x < _X_MAX else _X_MAX
    x = x if x > -_X_MAX else -_X_MAX
    n = np.rint(x * _C_HI)
    # 2 x / ln 2 - n, rounded once: exact enough for a remainder of an argument up to 75
    f: Any = _fma(x, _C_LO, _fma(x, _C_HI, -n))  # type: ignore[call-arg]
    p = _fma(_E5, f, _E4)  # type: ignore[call-arg]
    p = _fma(p, f, _E3)  # type: ignore[call-arg]
    p = _fma(p, f, _E2)  # type: ignore[call-arg]
    p = _fma(p, f, _E1)  # type: ignore[call-arg]
    p = _fma(p, f, _E0)  # type: ignore[call-arg]
    return p * _float_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))


@numba.njit(inline="always", **JIT)
def _tanh_from(e: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """tanh x = 1 - 2 / (exp(2 x) + 1) from ``e`` = exp(2 x); exactly +-1 where float32's tanh
    is (a state certain of its vote stays certain)."""
    t = ONE - TWO / (e + ONE)
    t = ONE if x >= _SATURATED else t
    return -ONE if x <= -_SATURATED else t


@numba.njit(**JIT)
def _tanh_pair(z: Any, bon: Any, shared: Any) -> Any:  # pragma: no cover - compiled
    if shared is None:  # band / noise too wide to share: an exponential each
        zn = z + bon
        return _tanh_from(_exp2x(z), z), _tanh_from(_exp2x(zn), zn)
    e = _exp2x(z)  # exp(2 (z + bon)) = exp(2 z) exp(2 bon)
    return _tanh_from(e, z), _tanh_from(e * shared, z + bon)


@numba.njit(inline="always", **JIT)
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
    return b, (exp_float32(2.0 * float(b)) if b <= SHARED_LIMIT else None)


def exp_float32(x: float) -> np.float32:
    """exp(x) correctly rounded to float32, the same on every machine: ``decimal``'s exp is
    correctly rounded, where the C library's and NumPy's float64 exp differ between CPUs in the
    last bit (which a rounding to float32 hides, but not for every argument)."""
    if not -87.0 < x < 88.0:  # beyond float32's normal range (not an argument the model makes)
        return np.float32(math.exp(x))
    with localcontext() as ctx:
        ctx.prec = 40
        exact = Decimal(x).exp()
    near = np.float32(float(exact))
    candidates = (np.nextafter(near, np.float32(0)), near, np.nextafter(near, np.float32(np.inf)))
    return min(candidates, key=lambda c: abs(Decimal(float(c)) - exact))


@numba.njit(**JIT)
def tanh_pair_array(x: F, pair: Any) -> tuple[F, F]:  # pragma: no cover - compiled
    """``tanh_pair`` over an array (for tests and comparisons)."""
    flat = x.ravel()
    t_yes = np.empty_like(flat)
    t_no = np.empty_like(flat)
    for k in range(flat.size):
        t_yes[k], t_no[k] = tanh_pair(flat[k], pair)
    return t_yes.reshape(x.shape), t_no.reshape(x.shape)


@numba.njit(**JIT)
def _tanh_into(x: F, out: F) -> None:  # pragma: no cover - compiled
    for k in range(x.size):
        v = x[k]
        out[k] = _tanh_from(_exp2x(v), v)


def tanh(x: NDArray[np.floating]) -> F:
    """float32 tanh of each element (a new array, ``x``'s shape), as the kernels form it: within
    2.2e-7 of the exact tanh and the same bits on every CPU (NumPy's float32 tanh: within 6e-8,
    but its bits differ between SIMD levels)."""
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    out = np.empty_like(flat)
    _tanh_into(flat, out)
    return out.reshape(np.shape(x))
