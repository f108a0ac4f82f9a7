"""The run's shock to absences at an Assembly vote (``unsim.model.absence``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from unsim.model.absence import shake, shake_plain


def _draws(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    absence = np.array([0.0, 0.02, 0.1, 0.3, 0.9, 0.97], dtype=np.float32)
    u = rng.random((len(absence), 20000), dtype=np.float32)
    multiplier = np.exp(0.5 * rng.standard_normal(20000) - 0.125).astype(np.float32)
    return u, absence, multiplier


def test_the_compiled_shake_agrees_with_the_plain_rule() -> None:
    u, absence, multiplier = _draws()
    expected = shake_plain(u, absence, multiplier)
    got = u.copy()
    shake(got, absence, multiplier)
    np.testing.assert_allclose(got, expected, atol=2e-6)


def test_the_shake_keeps_the_absences_on_average_and_spreads_them() -> None:
    u, absence, multiplier = _draws(1)
    shaken = shake_plain(u, absence, multiplier)
    away = shaken < absence[:, None]
    # each state's absence probability is kept on average (the cap only trims the highest)
    np.testing.assert_allclose(away.mean(axis=1)[:4], absence[:4], atol=0.01)
    # within a run, absence follows the run's multiplier: runs with m > 1 see more absences
    high, low = multiplier > 1.2, multiplier < 0.8
    assert away[3, high].mean() > 0.3 * 1.2 > 0.3 * 0.8 > away[3, low].mean()
    # the present states' uniforms stay uniform above their absence (the vote rule unchanged)
    present = shaken[3][~away[3]]
    assert present.min() >= absence[3]
    hist, _ = np.histogram(present, bins=10, range=(float(absence[3]), 1.0))
    assert hist.min() > 0.8 * hist.mean()
    # a state never absent stays so
    np.testing.assert_array_equal(shaken[0], u[0])


def test_no_shock_leaves_the_uniforms_alone() -> None:
    u, absence, _ = _draws(2)
    ones = np.ones(u.shape[1], dtype=np.float32)
    np.testing.assert_allclose(shake_plain(u, absence, ones), u, atol=1e-6)


def test_the_engine_spreads_the_absent_tally_with_the_calibrations_absence_sd() -> None:
    """The default scenario with the calibration's ``absence_sd`` set: the plenary's absent
    tally spreads (its sd grows) while its mean stays; the other tallies of a run without it are
    the scenario's own."""
    from unsim import load_scenario, run
    from unsim.scenario import Calibration

    from .conftest import DEFAULT_SCENARIO

    base = load_scenario(DEFAULT_SCENARIO)
    cal = base.calibration
    assert isinstance(cal, Calibration)

    def with_sd(sd: float) -> Any:
        uncertainty = {**cal.uncertainty, "absence_sd": sd}
        return base.model_copy(
            update={"calibration": cal.model_copy(update={"uncertainty": uncertainty})}
        )

    plain = run(with_sd(0.0), runs=3000, seed=4, workers=1).runs
    wide = run(with_sd(0.6), runs=3000, seed=4, workers=1).runs
    held = plain["plenary_held"].astype(bool) & wide["plenary_held"].astype(bool)
    a, b = plain.loc[held, "plenary_absent"], wide.loc[held, "plenary_absent"]
    assert b.std() > 1.5 * a.std()
    assert abs(b.mean() - a.mean()) < 0.1 * a.mean()
    # the votes themselves are drawn alike: the yes tally's mean barely moves
    assert abs(wide.loc[held, "plenary_yes"].mean() - plain.loc[held, "plenary_yes"].mean()) < 2
