"""Permission paths (EACCES) through the real command line, as an unprivileged user.

Run as root, the tests' own files can always be read and written, so a file the user may not
read, or a folder the user may not write, is only met as another user: the corpus driver
(``tests/corpus_driver.py``) runs each case as ``nobody`` (``setpriv --reuid=65534``). Skipped
with a message when the tests do not run as root or setpriv is missing.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from unsim.cli import main

from .conftest import DEFAULT_SCENARIO, ROOT, SCENARIOS

DRIVER = Path(__file__).with_name("corpus_driver.py")
NOBODY = 65534
SETPRIV = shutil.which("setpriv")
STRATEGY = "actors.target.strategies[0].intensity"


def _skip_reason() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "runs as root only (it switches to the unprivileged user nobody)"
    if SETPRIV is None:
        return "setpriv (util-linux) is not installed"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


@functools.cache
def _interpreter_refused() -> str | None:
    """Why nobody cannot start this Python, or None when it can.

    An interpreter installed under root's home (pyenv's, say) has its shared library where
    nobody may not look; the permission paths cannot then be tried as nobody at all.
    """
    assert SETPRIV is not None
    probe = subprocess.run(
        [
            SETPRIV,
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            sys.executable,
            "-c",
            "import numpy",
        ],
        cwd="/",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if probe.returncode == 0:
        return None
    return f"nobody cannot run {sys.executable}: {probe.stderr.strip()[-300:]}"


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can reach (pytest's own are private to root), removed afterwards."""
    refused = _interpreter_refused()
    if refused is not None:
        pytest.skip(refused)
    folder = Path(tempfile.mkdtemp(prefix="unsim-unprivileged-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _readable(path: Path) -> Path:
    """Everything under ``path`` readable by anyone (folders listable), owned by root."""
    for dirpath, _, filenames in os.walk(path):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            p = Path(dirpath) / name
            if not p.is_symlink():
                p.chmod(0o644)
    return path


def _as_nobody(place: Path, cases: list[list[str]]) -> list[dict[str, object]]:
    """Run the cases through the corpus driver as nobody; their results."""
    home = place / "home"  # the user's home: numba's cache of compiled kernels, the ideal points'
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    cases_file, results_file = place / "cases.json", home / "results.json"
    cases_file.write_text(json.dumps(cases))
    cases_file.chmod(0o644)
    outputs = place / "outputs"  # a folder the user may write, for results it may save
    outputs.mkdir()
    os.chown(outputs, NOBODY, NOBODY)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(home),
        "PYTHONPATH": str(ROOT / "src"),
        "MPLBACKEND": "Agg",
    }
    assert SETPRIV is not None
    command = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    proc = subprocess.run(
        [*command, sys.executable, str(DRIVER), str(cases_file), str(results_file), "60"],
        cwd=place,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results: list[dict[str, object]] = json.loads(results_file.read_text())
    return results


def _scenario(place: Path, name: str) -> Path:
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    text = text.replace("world: worlds/un_2014.yaml", f"world: {SCENARIOS / 'worlds/un_2014.yaml'}")
    text = text.replace(
        "calibration: calibration/dprk_2014.yaml",
        f"calibration: {SCENARIOS / 'calibration/dprk_2014.yaml'}",
    )
    text = text.replace("levers: levers/", f"levers: {SCENARIOS / 'levers'}/")
    text = text.replace(
        "clause_calibration: calibration/", f"clause_calibration: {SCENARIOS / 'calibration'}/"
    )
    path = place / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_permission_denied_is_a_clear_error_as_an_unprivileged_user(place: Path) -> None:
    good = _scenario(place, "good")
    locked = _scenario(place, "locked")
    world = place / "world.yaml"
    shutil.copyfile(SCENARIOS / "worlds" / "un_2014.yaml", world)
    with_locked_world = place / "locked_world.yaml"
    with_locked_world.write_text(
        good.read_text().replace(str(SCENARIOS / "worlds/un_2014.yaml"), str(world))
    )
    results = place / "results"
    argv = [str(good), "--runs", "40", "--seed", "1", "--no-plots", "-q", "--no-attribution"]
    assert main([*argv, "--out", str(results)]) == 0
    locked_results = place / "locked_results"
    shutil.copytree(results, locked_results)
    votes = place / "votes.csv"
    votes.write_text("rcid,session,vote,ccode,date\n1,1,1,2,01/01/1950\n")
    sweep = place / "sweep"
    (sweep / "points").mkdir(parents=True)
    (sweep / "metadata.json").write_text(json.dumps({"seed": 1, "params": {STRATEGY: [0, 1]}}))
    pd.DataFrame({"point": [0, 1], STRATEGY: [0.0, 1.0], "runs": [20, 20]}).to_parquet(
        sweep / "sweep.parquet"
    )
    (sweep / "points" / "a.json").write_text(json.dumps({"entries": []}))
    read_only = place / "read_only"
    read_only.mkdir()
    _readable(place)
    for path in (locked, world, locked_results / "summary.json", votes, sweep / "metadata.json"):
        path.chmod(0o600)  # root's own: nobody may not read it
    (sweep / "points" / "a.json").chmod(0o600)
    noseed = place / "noseed.yaml"
    noseed.write_text(good.read_text().replace("  seed: 20141118\n", ""))
    noseed.chmod(0o644)
    before = {p: p.read_bytes() for p in place.rglob("*") if p.is_file()}
    cases = {
        "control": ["validate", str(good)],
        "scenario": ["validate", str(locked)],
        "world": ["validate", str(with_locked_world)],
        "run into a read-only folder": [
            *["run", str(good), "--runs", "20", "--no-plots", "-q"],
            *["--out", str(read_only / "out")],
        ],
        "report": ["report", str(locked_results), "--out", str(place / "outputs" / "r.html")],
        "plot into a read-only folder": ["plot", str(results)],
        "calibrate": [
            *["calibrate", "--votes", str(votes), "--before", "2014-01-01"],
            *["--out", str(place / "outputs" / "c.yaml")],
        ],
        "discover": ["discover", str(sweep), "--outcome", "icc_retained"],
        "resume": [
            *["sweep", str(noseed), "--param", f"{STRATEGY}=0,1", "--runs", "20", "-q"],
            *["--out", str(sweep), "--resume"],
        ],
    }
    done = dict(zip(cases, _as_nobody(place, list(cases.values())), strict=True))
    assert done["control"]["code"] == 0, done["control"]
    for name, r in done.items():
        if name == "control":
            continue
        text = f"{r['stderr']}{r['stdout']}{r['escaped'] or ''}"
        assert r["code"] == 2, (name, text)
        assert "Traceback" not in text and "internal error" not in text, (name, text)
        assert "permission denied" in text.lower(), (name, text)
    after = {p: p.read_bytes() for p in place.rglob("*") if p.is_file() and p in before}
    assert after == before
    assert not [p for p in place.rglob(".unsim-*")]
