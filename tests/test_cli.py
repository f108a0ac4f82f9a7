"""The main job from the command line: summary, results folder, flags, atomic output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from unsim.cli import main
from unsim.results.tables import Results

from .conftest import DEFAULT_SCENARIO, ROOT

RUNS = 600


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("cli") / "res"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "unsim",
            str(DEFAULT_SCENARIO),
            "--runs",
            str(RUNS),
            "--seed",
            "7",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_summary_answers_the_question(run_dir: tuple[Path, str]) -> None:
    out, text = run_dir
    for phrase in (
        "Third Committee adopts",
        "plenary adopts",
        "ICC language retained",
        "referral vetoed",
        "invitation offered",
        "visit held",
        "cooperation halted",
        "95% interval",
        "The bottom line",
        "Pivotal states at each vote",
        f"{RUNS} runs · seed 7",
        f"Results written to {out}",
    ):
        assert phrase in text, phrase


def test_results_folder_content(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    names = {p.name for p in out.iterdir()}
    assert {"runs.parquet", "per_state.parquet", "summary.json", "metadata.json"} <= names
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == RUNS
    assert list(runs["run"]) == list(range(RUNS))
    for stage in ("third_committee", "plenary"):
        held = runs[f"{stage}_held"]
        total = runs.loc[held, [f"{stage}_{c}" for c in ("yes", "no", "abstain", "absent")]].sum(
            axis=1
        )
        assert (total == 193).all()
        assert (runs.loc[~held, f"{stage}_yes"] == 0).all()
    sc = runs[runs["sc_agenda_held"]]
    assert (sc[["sc_agenda_yes", "sc_agenda_no", "sc_agenda_abstain"]].sum(axis=1) == 15).all()
    # adoption follows the rule from the tallies
    tc = runs[runs["third_committee_held"]]
    assert (
        tc["third_committee_adopted"] == (tc["third_committee_yes"] > tc["third_committee_no"])
    ).all()
    per_state = pd.read_parquet(out / "per_state.parquet")
    probs = per_state[["p_yes", "p_no", "p_abstain", "p_absent"]]
    assert ((probs >= 0) & (probs <= 1)).all().all()
    assert (probs.sum(axis=1) - 1).abs().max() < 1e-9
    assert (per_state["stage"] == "third_committee").sum() == 193
    summary = json.loads((out / "summary.json").read_text())
    for o in summary["outcomes"].values():
        assert 0 <= o["ci_low"] <= o["p"] <= o["ci_high"] <= 1
    assert summary["seed"] == 7
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 7 and meta["runs"] == RUNS
    assert meta["scenario"]["name"] == "icc_referral"
    assert meta["scenario"]["world"]["name"] == "un_2014"  # resolved, defaults filled
    assert "mesa" in meta["versions"] and "wall_seconds" in meta["timings"]


def test_results_load_back_and_replot(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    r = Results.load(out)
    assert r.seed == 7 and r.runs is not None and len(r.runs) == RUNS
    assert main(["plot", str(out)]) == 0


def test_bad_set_gives_validation_error_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    code = main(
        [
            str(DEFAULT_SCENARIO),
            "--runs",
            "10",
            "--out",
            str(out),
            "--set",
            "simulation.rouns.plenary=3",
            "--set",
            "resolution.majority=most",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "did you mean 'rounds'?" in err
    assert "resolution.majority: value not allowed; got 'most'" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_compare_with_itself_shows_zero_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    code = main(
        [
            str(DEFAULT_SCENARIO),
            "--runs",
            "300",
            "--seed",
            "3",
            "--out",
            str(out),
            "--compare",
            str(DEFAULT_SCENARIO),
            "--no-plots",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "Paired comparison on common random numbers" in text
    table = pd.read_csv(out / "comparison.csv")
    assert (table["diff"] == 0).all()
    assert (table["ci_low"] == 0).all() and (table["ci_high"] == 0).all()


def test_interrupted_run_leaves_no_results_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "interrupted"
    original = Results._write

    def write_then_interrupt(self: Results, folder: Path, fmt: str) -> None:
        original(self, folder, fmt)  # files are half written...
        raise KeyboardInterrupt  # ... when the user presses Ctrl-C

    monkeypatch.setattr(Results, "_write", write_then_interrupt)
    code = main([str(DEFAULT_SCENARIO), "--runs", "50", "--out", str(out)])
    assert code == 130
    assert "no results were written" in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder left behind either


def test_quiet_and_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q"
    assert (
        main(
            [
                str(DEFAULT_SCENARIO),
                "--runs",
                "50",
                "--out",
                str(out),
                "--quiet",
                "--no-plots",
                "--csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(out)
    assert (out / "runs.csv").exists()
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "unsim" in capsys.readouterr().out


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    block = readme.split("Run the tests:", 1)[1].split("```bash", 1)[1].split("```", 1)[0].strip()
    assert block in ci.splitlines()
