"""Results of the default scenarios at fixed seeds equal the stored baseline, bit for bit.

A change of results must be deliberate: regenerate with ``python -m tests.regression.baseline``
and say in the commit what changed and why.
"""

from __future__ import annotations

import pandas as pd
import pytest

from .regression import baseline


@pytest.mark.parametrize(("scenario_file", "seed", "runs"), baseline.CASES)
def test_results_equal_the_stored_baseline(scenario_file: str, seed: int, runs: int) -> None:
    stored = baseline.load(scenario_file)
    got = baseline.compute(scenario_file, seed, runs)
    assert got["summary"] == stored["summary"]
    pd.testing.assert_frame_equal(got["runs"], stored["runs"], check_exact=True)
    pd.testing.assert_frame_equal(got["per_state"], stored["per_state"], check_exact=True)
