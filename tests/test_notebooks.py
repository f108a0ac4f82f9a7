"""The notebooks execute (with small run counts) and compute what they claim.

Each notebook is run top to bottom in a kernel of this very interpreter; a cell appended here then
prints the notebook's ``CHECKS`` (values it computed and asserted on) as JSON for the test to read.
The notebooks in the repository are committed without outputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
KERNEL = "unsim-test-python"

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


@pytest.fixture()
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec that runs this interpreter, whatever ``python`` is on the PATH."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "unsim tests", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name, value in {
        "UNSIM_NB_RUNS": "150",
        "UNSIM_NB_WORKERS": "1",
        "UNSIM_NB_GRID": "3",
        "UNSIM_NB_STEPS": "3",
        "UNSIM_NB_TRAJECTORIES": "2",
    }.items():
        monkeypatch.setenv(name, value)
    return KERNEL


def execute(name: str, kernel: str) -> dict[str, Any]:
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{name}: outputs committed"
    nb.cells.append(
        nbformat.v4.new_code_cell("import json\nprint(json.dumps(CHECKS, default=str))")
    )
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name=kernel, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    checks: dict[str, Any] = json.loads(text)
    return checks


@pytest.mark.slow
def test_parameter_sweeps_notebook(kernel: str) -> None:
    checks = execute("parameter_sweeps.ipynb", kernel)
    assert checks["runs"] == 150
    assert checks["grid_points"] == 9
    assert 0 <= checks["icc_retained_no_campaign"] <= 1
    assert checks["yes_strongest_charm"] < checks["yes_no_campaign"]
    assert checks["bargain_highest_threshold"] <= checks["bargain_lowest_threshold"]
    assert checks["support_short_highest_threshold"] >= checks["support_short_lowest_threshold"]
    assert checks["morris_rows"] == 2 * 4


@pytest.mark.slow
def test_strategy_comparison_notebook(kernel: str) -> None:
    checks = execute("strategy_comparison.ipynb", kernel)
    assert checks["runs"] == 150
    assert checks["variants"] == 23
    assert checks["timing_rows"] == 4 * 5
    assert checks["best_gain"] >= checks["best_gain_low"]
    # the charm offensive costs the draft plenary votes, and the runs are enough to tell
    assert checks["best_gain"] > 0 and checks["charm_alone_gain_low"] > 0
