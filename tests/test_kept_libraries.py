"""Hand-written maths kept where a library would cost more, each checked against the library:
the Wilson interval (closed form: importing ``scipy.stats`` would add about half a second to
every command's start-up) against ``scipy.stats.binomtest``; the calibration's finite-difference
Hessian (kept while the supported SciPy, 1.11 on, may lack ``scipy.differentiate``) against
``scipy.differentiate.hessian``; and the sweeps' Latin hypercube, SciPy's own, drawn from the
study's named stream."""

from __future__ import annotations

import numpy as np
import pytest

from unsim.results.stats import wilson_interval
from unsim.streams import stream_key
from unsim.studies.designs import lhs_points

GRID = [
    (k, n)
    for n in (1, 2, 3, 5, 10, 17, 64, 100, 999, 4096, 100_000)
    for k in sorted({0, 1, n // 7, n // 3, n // 2, n - 1, n})
]


@pytest.mark.parametrize("level", [0.95, 0.9, 0.99])
def test_the_wilson_interval_is_scipys(level: float) -> None:
    from scipy.stats import binomtest

    assert len(GRID) > 60
    for k, n in GRID:
        want = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
        lo, hi = wilson_interval(k, n, level)
        assert lo == pytest.approx(want.low, abs=1e-12), (k, n)
        assert hi == pytest.approx(want.high, abs=1e-12), (k, n)


def test_the_calibrations_hessian_is_scipys() -> None:
    differentiate = pytest.importorskip("scipy.differentiate")
    from unsim.calibration.seriesfit import _hessian

    a = np.array([[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 3.0]])

    def f(x: np.ndarray) -> np.ndarray:
        """A smooth function of three parameters (the first axis), vectorised over the rest."""
        quad = 0.5 * np.einsum("i...,ij,j...->...", x, a, x)
        return quad + np.log1p(np.exp(x[0] - x[2])) + np.sin(x[1]) * x[0]

    x0 = np.array([0.4, -0.7, 1.1])
    want = differentiate.hessian(f, x0).ddf
    got = _hessian(lambda th: float(f(th)), x0, [0, 1, 2])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # a parameter left out (fixed or at its bound) drops its row and column
    np.testing.assert_allclose(_hessian(lambda th: float(f(th)), x0, [0, 2]),
                               want[np.ix_([0, 2], [0, 2])], rtol=1e-6, atol=1e-6)  # fmt: skip


def test_the_latin_hypercube_is_scipys_on_the_studys_stream() -> None:
    from scipy.stats import qmc

    points = lhs_points({"a": (0.0, 2.0), "b": (-1.0, 1.0)}, 16, seed=7)
    stream = np.random.SeedSequence(7, spawn_key=(stream_key("sweep_lhs"),))
    unit = qmc.LatinHypercube(2, rng=np.random.default_rng(stream)).random(16)
    got = np.array([[p["a"], p["b"]] for p in points])
    np.testing.assert_allclose(got, unit * [2.0, 2.0] + [0.0, -1.0], rtol=0, atol=1e-15)
    # one point in each of the 16 strata of every range
    for column, low in zip(got.T, (0.0, -1.0), strict=True):
        assert sorted(np.floor((column - low) / 2.0 * 16).astype(int)) == list(range(16))
