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


# -- sweeps and sensitivity analyses of a session ---------------------------------------------
def _point_session(tmp_path: Path, session_file: Path, intensity: float, sd: float) -> Path:
    """The session file of a point: the Iran draft with its first strategy's intensity, the
    linkage's factor sd."""
    import yaml

    draft = yaml.safe_load(Path(IRAN).read_text())
    draft["world"] = str(Path(IRAN).parent / draft["world"])
    for key in ("calibration", "clause_calibration", "levers"):
        if isinstance(draft.get(key), str):
            draft[key] = str(Path(IRAN).parent / draft[key])
    draft["actors"]["target"]["strategies"][0]["intensity"] = intensity
    (tmp_path / "iran_point.yaml").write_text(yaml.safe_dump(draft))
    data = yaml.safe_load(session_file.read_text())
    data["drafts"]["iran"] = str(tmp_path / "iran_point.yaml")
    data["linkage"]["state_factor"]["sd"] = sd
    path = tmp_path / "point_session.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_session_sweep_point_is_the_session_run_with_its_values(
    session_file: Path, tmp_path: Path
) -> None:
    from unsim.session.study import session_base
    from unsim.studies.evaluator import Evaluator, SweepDesign

    key = "iran.actors.target.strategies[0].intensity"
    design = {key: [0.0, 0.25], "linkage.state_factor.sd": [0.0, 1.0]}
    one = Evaluator(session_base(session_file), runs=RUNS, seed=7).sweep(SweepDesign(design))
    assert len(one) == 4
    row = one[(one[key] == 0.25) & (one["linkage.state_factor.sd"] == 1.0)].iloc[0]
    res = run_session(load_session(_point_session(tmp_path, session_file, 0.25, 1.0)), runs=RUNS)
    t = res.table
    assert row["all_adopted_p"] == pytest.approx(t["all_adopted"].mean())
    assert row["adopted_count_mean"] == pytest.approx(t["adopted_count"].mean())
    held = t["iran.plenary_held"].to_numpy(bool)
    assert row["iran.plenary_yes_mean"] == pytest.approx(t["iran.plenary_yes"][held].mean())
    assert row["iran.adopted_p"] == pytest.approx(t["iran.adopted"].mean())
    gap = (t["syria.plenary_yes"] - t["iran.plenary_yes"]).mean()
    assert row["yes_gap_mean"] == pytest.approx(gap)
    share = ((t["iran.plenary_yes"] >= 80) & t["syria.adopted"]).mean()
    assert row["iran_80_and_syria_p"] == pytest.approx(share)
    # the strategy moves the Iran draft's votes, not the Syria draft's
    same_sd = one[one["linkage.state_factor.sd"] == 1.0]
    assert same_sd["iran.plenary_yes_mean"].nunique() == 2
    assert same_sd["syria.plenary_yes_mean"].nunique() == 1


def test_a_session_sweep_is_the_same_on_one_and_two_workers(session_file: Path) -> None:
    from unsim.session.study import session_base
    from unsim.studies.evaluator import Evaluator, SweepDesign

    design = SweepDesign({"linkage.session_shock.sd": [0.0, 0.4]})
    base = session_base(session_file)
    one = Evaluator(base, runs=RUNS, seed=3).sweep(design)
    two = Evaluator(base, runs=RUNS, seed=3, workers=2).sweep(design)
    pd.testing.assert_frame_equal(one, two)
    # a single point's blocks spread over the workers
    single = SweepDesign({"syria.behaviour.vote_noise": [1.2]})
    a = Evaluator(base, runs=RUNS, seed=3).sweep(single)
    b = Evaluator(base, runs=RUNS, seed=3, workers=2).sweep(single)
    pd.testing.assert_frame_equal(a, b)


def test_session_sweep_and_sensitivity_on_the_command_line(
    session_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", str(session_file), "--param", "linkage.state_factor.sd=0,1"]
    assert main([*argv, "--runs", "128", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "all_adopted" in text and "iran.plenary_yes" in text and "yes_gap" in text
    assert len(pd.read_parquet(out / "sweep.parquet")) == 2
    bad = [
        "sweep",
        str(session_file),
        "--param",
        "iram.behaviour.vote_noise=1",
        "--param",
        "syria.behaviour.vote_nois=1",
        "--param",
        "linkage.state_factr.sd=1",
        "--runs",
        "16",
        "--out",
        str(tmp_path / "bad"),
    ]
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert "did you mean 'iran.behaviour.vote_noise'" in err
    assert "syria.behaviour.vote_nois: unknown key" in err and "did you mean 'vote_noise'" in err
    assert "linkage.state_factr: unknown key" in err and "'state_factor'" in err
    assert "Traceback" not in err and not (tmp_path / "bad").exists()
    sens = tmp_path / "sens"
    argv = ["sensitivity", str(session_file), "--method", "morris", "--n", "2", "--runs", "64"]
    params = [
        "--param",
        "linkage.state_factor.sd=0:1",
        "--param",
        "iran.behaviour.vote_noise=0.8:1.2",
    ]
    assert main([*argv, *params, "--out", str(sens), "--no-plots", "--quiet"]) == 0
    indices = pd.read_parquet(sens / "indices.parquet")
    assert {"all_adopted", "iran.plenary_yes", "yes_gap"} <= set(indices["outcome"])
    assert main([*argv, *params, "--outcome", "al_adopted", "--out", str(tmp_path / "s2")]) == 2
    assert "did you mean 'all_adopted'" in capsys.readouterr().err


def test_discover_over_a_session_sweep(
    session_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from unsim.session.study import session_base
    from unsim.studies.evaluator import Evaluator, SweepDesign

    out = tmp_path / "sweep"
    key = "iran.actors.target.strategies[0].intensity"
    design = SweepDesign({key: [0.0, 0.1, 0.2, 0.3], "linkage.state_factor.sd": [0.0, 1.0]})
    table = Evaluator(session_base(session_file), runs=128, seed=5, out=out).sweep(design)
    cases = int((table["iran_80_and_syria_p"] >= 0.7).sum())
    assert 0 < cases < len(table)  # the strategy moves the joint outcome across the threshold
    found = tmp_path / "found"
    argv = ["discover", str(out), "--outcome", "iran_80_and_syria", "--threshold", "0.7"]
    assert main([*argv, "--out", str(found), "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert f"in {cases} of {len(table)} points" in text and "iran: " in text
    assert (found / "boxes.csv").exists()
    assert main(["discover", str(session_file), "--outcome", "all_adopted"]) == 2
    err = capsys.readouterr().err
    assert "is a session file" in err and "unsim sweep" in err


def test_the_data_only_session_is_the_same_on_one_and_two_workers(session_file: Path) -> None:
    bare = data_only_session(load_session(session_file))
    one = run_session(bare, runs=RUNS, workers=1)
    two = run_session(bare, runs=RUNS, workers=2)
    pd.testing.assert_frame_equal(one.table, two.table)
