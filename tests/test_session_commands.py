"""The commands that take a session: --data-only, --csv and --report on a session run, and
``unsim report`` of a session's results folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from unsim.cli import main
from unsim.session.load import load_session
from unsim.session.run import run_session
from unsim.session.views import data_only_session, load_session_results

from .test_session import IRAN, SYRIA, _session

RUNS = 256
JOINT = {
    "iran_80_and_syria": "iran.plenary_yes >= 80 and syria.adopted",
    "yes_gap": "syria.plenary_yes - iran.plenary_yes",
}


@pytest.fixture(scope="module")
def session_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("session")
    return _session(folder, {"iran": IRAN, "syria": SYRIA}, 0.5, 0.2, joint_outcomes=JOINT)


@pytest.fixture(scope="module")
def data_only_run(session_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "data_only"
    args = [str(session_file), "--runs", str(RUNS), "--out", str(out), "--data-only"]
    assert main([*args, "--csv", "--report", "--quiet"]) == 0
    return out


def test_the_data_only_session_keeps_the_linkage_and_strips_every_draft(
    session_file: Path,
) -> None:
    from unsim.engine.assumptions import data_only

    loaded = load_session(session_file)
    bare = data_only_session(loaded)
    assert bare.session is loaded.session  # the linkage, the seeds, the joint outcomes
    for name, draft in loaded.drafts.items():
        assert bare.drafts[name] == data_only(draft)
    assert bare.drafts["iran"] != loaded.drafts["iran"]  # the Iran draft states assumptions


def test_data_only_csv_and_report_on_a_session(session_file: Path, data_only_run: Path) -> None:
    out = data_only_run
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["kind"] == "session" and meta["data_only"] is True
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == RUNS and not (out / "runs.parquet").exists()
    assert (out / "drafts" / "iran" / "runs.csv").exists()
    # the folder's run table is the data-only session's, the paired table B = as given
    loaded = load_session(session_file)
    bare = run_session(data_only_session(loaded), runs=RUNS)
    given = run_session(loaded, runs=RUNS)
    assert np.array_equal(runs["iran.plenary_yes"], bare.table["iran.plenary_yes"])
    paired = pd.read_csv(out / "data_only.csv").set_index("outcome")
    for col in ("iran.plenary_yes", "syria.adopted", "all_adopted", "adopted_count"):
        assert paired.loc[col, "p_a"] == pytest.approx(bare.table[col].mean())
        assert paired.loc[col, "p_b"] == pytest.approx(given.table[col].mean())
    gap_a = (bare.table["syria.plenary_yes"] - bare.table["iran.plenary_yes"]).mean()
    gap_b = (given.table["syria.plenary_yes"] - given.table["iran.plenary_yes"]).mean()
    assert paired.loc["yes_gap", "diff"] == pytest.approx(gap_b - gap_a)
    assert "iran_80_and_syria" in paired.index
    assert paired.loc["iran.plenary_yes", "diff"] != 0  # stripping the assumptions moves it
    html = (out / "report.html").read_text()
    assert "every draft data-only" in html


def test_the_session_report_puts_the_bottom_line_first(
    data_only_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "session.html"
    assert main(["report", str(data_only_run), "--out", str(out), "--quiet"]) == 0
    html = out.read_text()
    marks = [
        'id="bottom-line"',
        'id="joint-outcomes"',
        'id="pairs"',
        'id="draft-iran"',
        'id="draft-syria"',
    ]
    where = [html.index(m) for m in marks]
    assert where == sorted(where)
    saved = load_session_results(data_only_run)
    share = saved.table["all_adopted"].mean()
    bottom = html[: where[1]]
    assert f"Every one of the 2 drafts is adopted in {100 * share:.1f}" in bottom
    for name in ("iran", "syria"):
        assert f"{name} (" in bottom and "plenary yes votes" in bottom
    assert "iran_80_and_syria" in html[where[1] : where[2]]
    assert "data:image/png;base64" in html[where[2] : where[3]]
    # each draft's own section reuses the single-draft report's blocks
    assert html.count("Tallies against their thresholds") == 2


def test_report_of_a_session_file_says_what_to_do(
    session_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(session_file)]) == 2
    err = capsys.readouterr().err
    assert "is a session file" in err and "--report" in err and "Traceback" not in err


def test_explain_a_draft_as_run_within_the_session(
    session_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from unsim.cli.explain import _session_draft
    from unsim.explain.explanation import explain

    args = argparse.Namespace(draft="iran", seed=None, runs=RUNS, workers=1)
    results, _ = _session_draft(args, session_file)
    within = run_session(load_session(session_file), runs=RUNS).drafts["iran"]
    assert results.seed == within.seed and results.runs is not None and within.runs is not None
    pd.testing.assert_frame_equal(results.runs, within.runs)  # the session's draft, bit for bit
    parts = explain(results, "IDN", "plenary", recorded=False).parts.set_index("part")
    assert "session" in parts.index and "chance" in parts.index
    assert parts.loc["session", "hi"] > parts.loc["session", "lo"]  # drawn per run
    # the draft alone has no such part
    from unsim.engine import run
    from unsim.scenario import load_scenario

    alone = run(load_scenario(IRAN, ["simulation.block_size=256"]), RUNS, results.seed)
    assert "session" not in set(explain(alone, "IDN", "plenary", recorded=False).parts["part"])
    png = tmp_path / "e.png"
    argv = ["explain", str(session_file), "--draft", "iran", "--state", "IDN", "--no-record"]
    assert main([*argv, "--runs", str(RUNS), "--out", str(png)]) == 0
    text = capsys.readouterr().out
    assert "Draft iran as run within session test_session" in text
    assert "the session's linkage" in text and png.exists()


def test_explain_of_a_session_needs_a_draft_of_it(
    session_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["explain", str(session_file), "--state", "IDN", "--runs", "16"]
    assert main(base) == 2
    assert "--draft NAME says which draft" in capsys.readouterr().err
    assert main([*base, "--draft", "irn"]) == 2
    err = capsys.readouterr().err
    assert "'irn' is not one of its drafts" in err and "did you mean 'iran'" in err
    assert main(["explain", IRAN, "--draft", "iran", "--state", "IDN", "--runs", "16"]) == 2
    assert "is not a session file" in capsys.readouterr().err
