"""The stored regression baseline: the default scenarios at fixed seeds, kept in this folder with
the environment that computed them (``environment.json``).

``python -m tests.regression.baseline`` (from the repository root) writes it anew. Do that only
in a commit that changes results on purpose, and say in that commit what changed and why;
``tests/test_regression.py`` checks every other commit against it: bit for bit where the
environment matches the recorded one (``environment_differences``), within a statistical
tolerance elsewhere (``tests/regression/tolerance.py``).

``python -m tests.regression.baseline --out DIR`` writes the same files into ``DIR`` instead
(the slow test that emulates an older CPU compares them).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ENVIRONMENT = "environment.json"

#: (scenario file, seed, runs): two blocks of the default block size and a partial third.
CASES: tuple[tuple[str, int, int], ...] = (
    ("scenarios/icc_referral.yaml", 20141118, 5000),
    ("scenarios/icc_referral_no_charm.yaml", 20141118, 5000),
    # the DPRK draft with every lever a point, as the default scenario was before its levers
    # were drawn: its stored results are that scenario's, kept unchanged
    ("scenarios/levers/reference_2014.yaml", 20141118, 5000),
)

#: What must be the same as when the baseline was recorded for results to be compared bit for
#: bit: the libraries that do the arithmetic (NumPy, numba and its LLVM), Python's minor
#: version, the processor's architecture and the SIMD features NumPy uses on it. pandas and
#: pyarrow (which only hold and store the results), the processor's model and numba's target
#: are recorded, not compared.
COMPARED = ("machine", "python", "numpy", "numba", "llvmlite", "numpy_cpu_features")


def compute(scenario_file: str, seed: int, runs: int) -> dict[str, Any]:
    """Summary, run table and per-state table of one case (one worker)."""
    from unsim import load_scenario, run

    results = run(load_scenario(ROOT / scenario_file), runs=runs, seed=seed, workers=1)
    assert results.runs is not None
    return {
        "summary": json.loads(json.dumps(results.summary, default=_plain)),
        "runs": results.runs.reset_index(drop=True),
        "per_state": results.per_state.reset_index(drop=True),
    }


def stem(scenario_file: str) -> str:
    return Path(scenario_file).stem


def load(scenario_file: str, folder: Path = HERE) -> dict[str, Any]:
    s = stem(scenario_file)
    return {
        "summary": json.loads((folder / f"{s}.summary.json").read_text()),
        "runs": pd.read_parquet(folder / f"{s}.runs.parquet"),
        "per_state": pd.read_parquet(folder / f"{s}.per_state.parquet"),
    }


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON: {type(value)}")


def numpy_cpu_features() -> list[str]:
    """The CPU features NumPy detected and uses (those ``NPY_DISABLE_CPU_FEATURES`` turned off
    are left out)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as found
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as found
    return sorted(name for name, on in found.items() if on)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict[str, Any]:
    """This machine and the versions that compute the results (see ``COMPARED``)."""
    import llvmlite
    import llvmlite.binding
    import numba
    import numpy
    import pyarrow

    return {
        "machine": platform.machine(),
        "system": platform.system(),
        "cpu": _cpu_model(),
        "numpy_cpu_features": numpy_cpu_features(),
        "numba_cpu": numba.config.CPU_NAME or llvmlite.binding.get_host_cpu_name(),
        "python": ".".join(platform.python_version_tuple()[:2]),
        "python_full": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "llvmlite": llvmlite.__version__,
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
    }


def recorded_environment(folder: Path = HERE) -> dict[str, Any]:
    """The environment the stored baseline was computed in (empty if none was recorded)."""
    path = folder / ENVIRONMENT
    return json.loads(path.read_text()) if path.exists() else {}


def environment_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What of ``COMPARED`` differs between the two environments, in words (none: the results
    must be the same bits)."""
    out = []
    for key in COMPARED:
        was, now = recorded.get(key), current.get(key)
        if was == now:
            continue
        if isinstance(was, list) and isinstance(now, list):
            gone, new = sorted(set(was) - set(now)), sorted(set(now) - set(was))
            out.append(f"{key}: without {', '.join(gone) or '-'}; with {', '.join(new) or '-'}")
        else:
            out.append(f"{key}: {now} (recorded: {was})")
    return out


def write(folder: Path) -> None:
    """Compute every case and write it, with the environment, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for scenario_file, seed, runs in CASES:
        got = compute(scenario_file, seed, runs)
        s = stem(scenario_file)
        (folder / f"{s}.summary.json").write_text(json.dumps(got["summary"], indent=1) + "\n")
        got["runs"].to_parquet(folder / f"{s}.runs.parquet", index=False)
        got["per_state"].to_parquet(folder / f"{s}.per_state.parquet", index=False)
        print(f"{s}: {runs} runs, seed {seed}")
    (folder / ENVIRONMENT).write_text(json.dumps(environment(), indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=HERE, help="folder (default: the baseline's)")
    write(ap.parse_args().out)


if __name__ == "__main__":
    main()
