"""Shared fixtures: paths to the scenarios and to the real UN data."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import IO, Any

import pytest
from hypothesis import settings

# No time limit per example: speed is measured in benchmarks/, never asserted by a test (on a
# loaded machine an example that compiles or waits for a core would fail for its time alone).
settings.register_profile("unsim", deadline=None)
settings.load_profile("unsim")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DEFAULT_SCENARIO = SCENARIOS / "icc_referral.yaml"
#: The same DPRK draft with every lever a point (the values the shipped scenario was first
#: stated with): for tests of the model's mechanics at given values.
POINT_SCENARIO = SCENARIOS / "levers" / "reference_2014.yaml"


def _data_dir() -> Path:
    env = os.environ.get("UNSIM_DATA_DIR")
    return Path(env) if env else (ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real UN data (see README, "Real data"); tests that need it skip when it is absent."""
    d = _data_dir()
    if not (d / "un_member_states_2014.csv").exists():
        pytest.skip(f"real UN data not found at {d} (set UNSIM_DATA_DIR)")
    return d


@pytest.fixture(autouse=True, scope="session")
def _ideal_point_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Ideal points estimated by the tests are kept in a temporary folder, not the user's cache
    (unless ``UNSIM_CACHE_DIR`` names one), shared by the session's workers (the cache writes
    each entry atomically)."""
    if not os.environ.get("UNSIM_CACHE_DIR"):
        base = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            base = base.parent  # one folder above each worker's own
        folder = base / "idealpoints"
        folder.mkdir(exist_ok=True)
        os.environ["UNSIM_CACHE_DIR"] = str(folder)


def slow_selected(config: pytest.Config) -> bool:
    """Whether this session runs the tests marked slow (``-m slow``; the default ``-m 'not
    slow'`` leaves them out)."""
    expr = str(config.getoption("-m") or "")
    return "slow" in expr.replace("not slow", "")


def stop_server(proc: subprocess.Popen[Any], log: IO[Any]) -> None:
    """Stop a server started in a session of its own (``start_new_session=True``): its whole
    process group, politely first; then close its log."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()
