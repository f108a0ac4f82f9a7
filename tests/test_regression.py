"""Results of the default scenarios at fixed seeds agree with the stored baseline.

Bit for bit where this environment is the one the baseline was recorded in
(``tests/regression/environment.json``: the same processor architecture and SIMD features in use
by NumPy, the same NumPy, numba and llvmlite versions and Python minor version; see
``baseline.COMPARED``). Elsewhere the bit-for-bit test is skipped with the differences named,
and the results must agree within the statistical tolerance of ``tests/regression/tolerance.py``:
at 5 standard errors of the difference of two independent samples, every outcome's probability,
every yes/no and categorical column of the run table and how often each vote was held (as
proportions on the arcsine scale), each tally's mean over the runs where its vote was held, and
every state's probabilities of each vote and of being pivotal. The tolerance test runs
everywhere (so the tolerance path is tested where the environment matches too), with a test that
it accepts an independent sample and refuses a changed result.

A change of results must be deliberate: regenerate with ``python -m tests.regression.baseline``
and say in the commit what changed and why.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from .regression import baseline, tolerance

CASE_IDS = [baseline.stem(c[0]) for c in baseline.CASES]


@functools.cache
def _computed(scenario_file: str, seed: int, runs: int) -> dict[str, Any]:
    return baseline.compute(scenario_file, seed, runs)


def _identical(got: dict[str, Any], stored: dict[str, Any]) -> None:
    assert got["summary"] == stored["summary"]
    pd.testing.assert_frame_equal(got["runs"], stored["runs"], check_exact=True)
    pd.testing.assert_frame_equal(got["per_state"], stored["per_state"], check_exact=True)


@pytest.mark.parametrize(("scenario_file", "seed", "runs"), baseline.CASES, ids=CASE_IDS)
def test_results_equal_the_stored_baseline_bit_for_bit(
    scenario_file: str, seed: int, runs: int
) -> None:
    recorded = baseline.recorded_environment()
    assert recorded, "the baseline's environment.json is missing: regenerate the baseline"
    differences = baseline.environment_differences(recorded, baseline.environment())
    if differences:
        pytest.skip(
            "not the environment the baseline was recorded in ("
            + "; ".join(differences)
            + "): compared within tolerance instead"
        )
    _identical(_computed(scenario_file, seed, runs), baseline.load(scenario_file))


@pytest.mark.parametrize(("scenario_file", "seed", "runs"), baseline.CASES, ids=CASE_IDS)
def test_results_are_within_tolerance_of_the_stored_baseline(
    scenario_file: str, seed: int, runs: int
) -> None:
    found = tolerance.problems(_computed(scenario_file, seed, runs), baseline.load(scenario_file))
    assert not found, f"{len(found)} beyond tolerance:\n" + "\n".join(found[:20])


def test_the_tolerance_accepts_an_independent_sample() -> None:
    """Another seed (nothing in common with the baseline's runs but the model) is within the
    tolerance: it is wide enough for results that share no random number."""
    scenario_file, seed, runs = baseline.CASES[0]
    other = _computed(scenario_file, seed + 1, runs)
    stored = baseline.load(scenario_file)
    assert not other["runs"].equals(stored["runs"])
    found = tolerance.problems(other, stored)
    assert not found, "\n".join(found[:20])


def test_the_tolerance_refuses_a_changed_result() -> None:
    """A result moved by much more than its noise is named: an outcome, a tally's mean and one
    state's vote."""
    scenario_file = baseline.CASES[0][0]
    stored = baseline.load(scenario_file)
    assert not tolerance.problems(stored, stored)
    changed = copy.deepcopy(stored)
    outcome = next(iter(changed["summary"]["outcomes"].values()))
    outcome["p"] = min(1.0, outcome["p"] + 0.05) if outcome["p"] < 0.9 else outcome["p"] - 0.05
    yes = stored["runs"]["plenary_yes"].to_numpy(dtype=float)
    # twice the tolerance of the mean's difference: beyond any sampling noise
    shift = math.ceil(2 * tolerance.Z * math.sqrt(2 * yes.var(ddof=1) / len(yes)))
    changed["runs"]["plenary_yes"] += shift
    ps = changed["per_state"]
    row = ps.index[(ps["stage"] == "plenary") & (ps["iso3"] == "BRA")][0]
    ps.loc[row, ["p_yes", "p_abstain"]] = ps.loc[row, ["p_abstain", "p_yes"]].to_numpy()
    assert abs(ps.loc[row, "p_yes"] - stored["per_state"].loc[row, "p_yes"]) > 0.05
    found = tolerance.problems(changed, stored)
    assert any(f.startswith("outcome ") for f in found), found
    assert any(f.startswith("run table plenary_yes") for f in found), found
    assert any(f.startswith("plenary BRA p_yes") for f in found), found
    changed["runs"] = changed["runs"].drop(columns="plenary_yes")
    assert tolerance.problems(changed, stored)[0].startswith("run table:")


def test_environment_differences_are_named() -> None:
    here = baseline.environment()
    assert baseline.environment_differences(here, dict(here)) == []
    other = {**here, "numpy": "0.0", "numpy_cpu_features": [*here["numpy_cpu_features"], "NEW"]}
    other["pandas"] = "0.0"  # recorded, not compared
    found = baseline.environment_differences(other, here)
    assert len(found) == 2
    assert found[0] == f"numpy: {here['numpy']} (recorded: 0.0)"
    assert found[1].startswith("numpy_cpu_features: without NEW")


#: The older processor emulated: NumPy without its AVX2 and AVX-512 code paths, numba's kernels
#: compiled for a generic x86-64 (no AVX, no FMA); ignored where they do not apply.
OLDER_CPU = {
    "NPY_DISABLE_CPU_FEATURES": "AVX512_SPR AVX512_ICL X86_V4 X86_V3",
    "NUMBA_CPU_NAME": "generic",
}


@pytest.mark.slow
def test_an_older_cpu_gives_the_same_bits(tmp_path: Path) -> None:
    """Every case computed in a process that emulates an older processor (``OLDER_CPU``, its
    kernels compiled afresh in their own numba cache) is the same bits as here.

    If only this fails after an edit of ``unsim/model/fastmath.py``, the kernels in this process
    may come from a stale numba cache (numba checks a kernel's own file only, not the functions
    it inlines from others): delete ``src/unsim/model/__pycache__`` and run again."""
    import unsim

    env = {**os.environ, **OLDER_CPU, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    src = str(Path(unsim.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    out = tmp_path / "older"
    subprocess.run(
        [sys.executable, "-m", "tests.regression.baseline", "--out", str(out)],
        cwd=baseline.ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    emulated = baseline.recorded_environment(out)
    here = baseline.environment()
    if "X86_V3" in here["numpy_cpu_features"]:  # the emulation took effect
        assert "X86_V3" not in emulated["numpy_cpu_features"]
    assert emulated["numba_cpu"] == "generic"
    for scenario_file, seed, runs in baseline.CASES:
        _identical(baseline.load(scenario_file, out), _computed(scenario_file, seed, runs))
