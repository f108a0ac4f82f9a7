"""A user's files are never deleted or overwritten by ``--out``; results stay inside results/."""

from __future__ import annotations

import hashlib
import importlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from unsim.cli import main
from unsim.errors import OutputError, ScenarioError
from unsim.results.tables import is_results_folder
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO, SCENARIOS


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "thesis"
    (folder / "data").mkdir(parents=True)
    (folder / "chapter1.tex").write_text("\\chapter{One}\n")
    (folder / "data" / "votes.csv").write_text("iso3,vote\nFRA,Y\n")
    return folder


def _run(out: Path, *extra: str) -> int:
    return main([*_argv(out), *extra])


@pytest.mark.parametrize("force", [False, True])
def test_out_on_a_users_folder_is_refused_and_leaves_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], force: bool
) -> None:
    folder = _user_folder(tmp_path)
    before = _fingerprint(folder)
    code = _run(folder, *(["--force"] if force else []))
    assert code == 2
    assert "nothing was written" in capsys.readouterr().err or force
    assert _fingerprint(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]  # no temporary left


def test_out_on_the_current_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _user_folder(tmp_path)
    before = _fingerprint(folder)
    monkeypatch.chdir(folder)
    assert _run(Path(".")) == 2
    assert _fingerprint(folder) == before


def test_out_on_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    assert _run(target) == 2
    assert target.read_text() == "keep me"


def test_empty_folder_is_used_and_force_replaces_only_unsims_own(tmp_path: Path) -> None:
    out = tmp_path / "res"
    out.mkdir()
    assert _run(out) == 0
    assert is_results_folder(out)
    first = _fingerprint(out)
    assert _run(out) == 2  # without --force an earlier result is kept too
    assert _fingerprint(out) == first
    assert _run(out, "--force") == 0
    assert is_results_folder(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_results_folder_is_created_with_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "res"
    old = os.umask(0o022)
    try:
        assert _run(out) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "../escape"])
def test_a_name_cannot_leave_results(name: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(DEFAULT_SCENARIO, overrides=[f"name={name}"])
    assert "name" in str(info.value)


def test_sweep_into_a_users_folder_is_refused(tmp_path: Path) -> None:
    import unsim

    folder = _user_folder(tmp_path)
    (folder / "points").mkdir()
    (folder / "points" / "mine.json").write_text("{}")
    before = _fingerprint(folder)
    with pytest.raises(OutputError, match="not empty"):
        unsim.Evaluator(DEFAULT_SCENARIO, runs=20, seed=1, workers=1, out=folder).sweep(
            {"simulation.rounds.plenary": [1, 2]}
        )
    assert _fingerprint(folder) == before


# --------------------------------------------------------------------------------------------
# The mechanism (unsim.ownership): marks, refusals, inputs
# --------------------------------------------------------------------------------------------
def _state(path: Path) -> tuple[bytes, int]:
    """A file's content and modification time: both must stay as they were."""
    return path.read_bytes(), path.stat().st_mtime_ns


def _writers() -> dict[str, Callable[[Path], Path]]:
    """A writer of each format unsim writes, each through unsim.ownership."""
    import pandas as pd
    from matplotlib.figure import Figure

    from unsim import ownership as own

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    fig = Figure()
    fig.add_subplot().plot([0, 1])
    return {
        "yaml": lambda p: own.write_text_output(p, "yaml", "a: 1\n"),
        "json": lambda p: own.write_text_output(p, "json", own.json_text({"a": 1})),
        "csv": lambda p: own.write_output(p, "csv", lambda t: frame.to_csv(t, index=False)),
        "parquet": lambda p: own.write_output(p, "parquet", lambda t: own.write_parquet(frame, t)),
        "png": lambda p: own.save_png(fig, p, dpi=30),
        "html": lambda p: own.write_text_output(
            p, "html", '<html><head><meta name="generator" content="unsim report"></head></html>'
        ),
    }


@pytest.mark.parametrize("kind", ["yaml", "json", "csv", "parquet", "png", "html"])
def test_a_file_unsim_wrote_is_replaced_and_a_users_file_never(tmp_path: Path, kind: str) -> None:
    from unsim.ownership import is_own

    write = _writers()[kind]
    ours = tmp_path / f"ours.{kind}"
    write(ours)
    assert is_own(ours, kind)
    first = ours.stat().st_ino
    write(ours)  # a re-run replaces it
    assert is_own(ours, kind) and ours.stat().st_ino != first
    mine = tmp_path / f"mine.{kind}"
    mine.write_bytes(b"a,b\n1,2\n" if kind == "csv" else b"my own file\n")
    before = _state(mine)
    with pytest.raises(OutputError, match="unsim did not write it"):
        write(mine)
    assert _state(mine) == before
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_a_csv_changed_since_unsim_wrote_it_is_the_users(tmp_path: Path) -> None:
    """A CSV carries no mark: the manifest beside it lists its content, which an edit changes."""
    from unsim.ownership import MANIFEST, is_own

    path = tmp_path / "scores.csv"
    _writers()["csv"](path)
    assert is_own(path, "csv") and (tmp_path / MANIFEST).is_file()
    import pandas as pd

    assert list(pd.read_csv(path).columns) == ["a", "b"]  # loads as any CSV
    with path.open("a") as fh:
        fh.write("3,z\n")
    assert not is_own(path, "csv")
    with pytest.raises(OutputError, match=MANIFEST):
        _writers()["csv"](path)
    assert path.read_text().endswith("3,z\n")


def _special_paths(tmp_path: Path) -> dict[str, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    (tmp_path / "to_null.yaml").symlink_to("/dev/null")
    (tmp_path / "to_fifo.yaml").symlink_to(fifo)
    (tmp_path / "to_file.yaml").symlink_to(tmp_path / "real.yaml")
    (tmp_path / "real.yaml").write_text("# written by unsim\na: 1\n")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    (tmp_path / "folder.yaml").mkdir()
    return {
        "a FIFO": fifo,
        "a symbolic link to a device": tmp_path / "to_null.yaml",
        "a symbolic link to a FIFO": tmp_path / "to_fifo.yaml",
        "a symbolic link to a regular file": tmp_path / "to_file.yaml",
        "a symbolic link that leads nowhere": tmp_path / "dangling.yaml",
        "a folder": tmp_path / "folder.yaml",
    }


def test_devices_fifos_links_and_folders_are_refused(tmp_path: Path) -> None:
    from unsim.ownership import check_output, write_text_output

    for what, path in _special_paths(tmp_path).items():
        with pytest.raises(OutputError) as info:
            write_text_output(path, "yaml", "a: 1\n")
        assert str(path) in str(info.value) and what in str(info.value), what
    assert stat.S_ISFIFO((tmp_path / "fifo.yaml").lstat().st_mode)
    assert (tmp_path / "to_null.yaml").is_symlink()
    assert (tmp_path / "real.yaml").read_text() == "# written by unsim\na: 1\n"
    assert not (tmp_path / "nowhere.yaml").exists()
    # /dev/null itself: refused by the check that runs before anything is written
    with pytest.raises(OutputError, match="is a device"):
        check_output("/dev/null", "yaml")


def test_an_input_is_never_written_over(tmp_path: Path) -> None:
    from unsim.ownership import write_text_output

    data = tmp_path / "votes.yaml"
    write_text_output(data, "yaml", "a: 1\n")  # even a file unsim wrote, when it is read
    before = _state(data)
    linked = tmp_path / "linked.yaml"
    os.link(data, linked)
    (tmp_path / "sub").mkdir()
    for out, given in (
        (data, data),
        (linked, data),
        (tmp_path / "sub" / ".." / "votes.yaml", data),
    ):
        with pytest.raises(OutputError, match="is an input of this command"):
            write_text_output(out, "yaml", "b: 2\n", inputs=[given])
    assert _state(data) == before


def test_a_file_that_appears_while_unsim_writes_is_not_replaced(tmp_path: Path) -> None:
    from unsim.ownership import write_output

    path = tmp_path / "table.json"

    def slow(tmp: str) -> None:  # the user saves a file of theirs there meanwhile
        path.write_text("the user's")
        Path(tmp).write_text('{"written_by": "unsim 1"}')

    with pytest.raises(OutputError, match="unsim did not write it"):
        write_output(path, "json", slow)
    assert path.read_text() == "the user's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.json"]


def test_a_calibration_file_is_replaced_only_if_unsim_wrote_it(tmp_path: Path) -> None:
    from unsim.calibration.calibrate import write_calibration
    from unsim.scenario.loader import load_calibration

    source = SCENARIOS / "calibration" / "dprk_2014.yaml"
    cal = load_calibration(source)
    legacy = tmp_path / "dprk.yaml"  # written before the mark: its header names the command
    legacy.write_bytes(source.read_bytes())
    write_calibration(cal, legacy, header="again")
    assert legacy.read_text().startswith("# written by unsim ")
    assert load_calibration(legacy).model_dump() == cal.model_dump()
    write_calibration(cal, legacy, header="and again")  # its own file: replaced
    mine = tmp_path / "mine.yaml"
    mine.write_text("# my calibration\n")
    before = _state(mine)
    with pytest.raises(OutputError):
        write_calibration(cal, mine)
    assert _state(mine) == before


# --------------------------------------------------------------------------------------------
# Every command: a user's file in the way is untouched, exit code 2 and a clear message
# --------------------------------------------------------------------------------------------
def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], path: Path, words: str) -> None:
    """``argv`` exits with 2 naming ``path`` and saying ``words``; ``path`` stays as it was."""
    before = _state(path) if path.is_file() else None
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(path) in err and words in err and "Traceback" not in err, err
    if before is not None:
        assert _state(path) == before


def _no_work(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """Make ``module.function`` fail: a refusal must come before it is called."""
    module, name = target.rsplit(".", 1)

    def ran(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{target} ran before the output was checked")

    monkeypatch.setattr(importlib.import_module(module), name, ran)


def test_calibrate_refuses_before_reading_any_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("states: {}\n")
    votes = tmp_path / "votes.csv.gz"
    votes.write_bytes(b"not read")
    base = ["calibrate", "--before", "2014-11-18", "--votes", str(votes), "--out"]
    missing = tmp_path / "missing.csv.gz"  # not read either: the output is checked first
    _refused(capsys, [*base[:-2], str(missing), "--out", str(mine)], mine, "unsim did not")
    _refused(capsys, [*base, str(votes)], votes, "is an input of this command")
    special = _special_paths(tmp_path / "special")
    for what in ("a FIFO", "a symbolic link to a device", "a folder"):
        _refused(capsys, [*base, str(special[what])], special[what], what)
    _refused(capsys, [*base, "/dev/null"], Path("/dev/null"), "is a device")


def test_backtest_refuses_its_input_and_replaces_its_own_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    actual = tmp_path / "v.csv"
    actual.write_text("stage,yes,no,abstain,absent\nplenary,111,19,55,8\n")
    scores = tmp_path / "scores.csv"
    argv = ["backtest", str(DEFAULT_SCENARIO), "--runs", "60", "--seed", "1", "--actual"]
    assert main([*argv, str(actual), "--out", str(scores)]) == 0
    first = scores.read_text()
    assert main([*argv, str(actual), "--out", str(scores)]) == 0  # its own: replaced
    assert scores.read_text() == first and "unsim" not in first.splitlines()[0]
    capsys.readouterr()
    _no_work(monkeypatch, "unsim.calibration.validation.score_scenario")
    _refused(capsys, [*argv, str(actual), "--out", str(actual)], actual, "is an input")
    scenario_copy = tmp_path / "scenario.csv"  # even under another name (a hard link)
    os.link(DEFAULT_SCENARIO, scenario_copy)
    _refused(capsys, [*argv, str(actual), "--out", str(scenario_copy)], scenario_copy, "input")
    mine = tmp_path / "mine.csv"
    mine.write_text("my,table\n")
    _refused(capsys, [*argv, str(actual), "--out", str(mine)], mine, "unsim did not write it")


def test_backtest_timesplit_and_council_refuse_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_work(monkeypatch, "unsim.calibration.timesplit.series_timesplit")
    _no_work(monkeypatch, "unsim.calibration.timesplitall.timesplit_all")
    _no_work(monkeypatch, "unsim.calibration.validation.load_real_data")
    _no_work(monkeypatch, "unsim.calibration.council_backtest.council_backtest")
    mine = tmp_path / "mine.json"
    mine.write_text('{"mine": true}')
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for argv in (["--timesplit"], ["--council", str(DEFAULT_SCENARIO)]):
        _refused(capsys, ["backtest", *argv, "--json", str(mine)], mine, "unsim did not")
        _refused(capsys, ["backtest", *argv, "--out", str(fifo)], fifo, "a FIFO")
    assert main(["backtest", "--timesplit", "--out", str(mine), "--json", str(mine)]) == 2
    assert "the same file" in capsys.readouterr().err


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder with its figures and report (copied before a test changes it)."""
    out = tmp_path_factory.mktemp("saved") / "res"
    argv = [str(DEFAULT_SCENARIO), "--runs", "60", "--seed", "2", "--report", "-q"]
    assert main([*argv, "--no-attribution", "--out", str(out)]) == 0
    return out


def _copy(saved: Path, tmp_path: Path) -> Path:
    import shutil

    out = tmp_path / "res"
    shutil.copytree(saved, out)
    return out


def test_report_and_plot_replace_only_their_own_files(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = _copy(saved, tmp_path)
    assert main(["report", str(res)]) == 0 and main(["plot", str(res)]) == 0  # their own
    capsys.readouterr()
    _refused(
        capsys,
        ["report", str(res), "--out", str(res / "summary.json")],
        res / "summary.json",
        "is an input",
    )
    (res / "report.html").write_text("<p>my notes on the run</p>")
    _refused(capsys, ["report", str(res)], res / "report.html", "unsim did not write it")
    (res / "funnel.png").write_bytes(b"\x89PNG my own drawing")
    figures = {name: _state(res / name) for name in ("tallies.png", "state_support.png", "map.png")}
    _refused(capsys, ["plot", str(res)], res / "funnel.png", "unsim did not write it")
    assert {name: _state(res / name) for name in figures} == figures  # none redrawn
    assert is_results_folder(res)


def test_explain_out_replaces_its_own_figure_only(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    figure = tmp_path / "idn.png"
    argv = ["explain", str(saved), "--state", "IDN", "--no-record", "--out"]
    assert main([*argv, str(figure)]) == 0
    assert main([*argv, str(figure)]) == 0  # its own figure: replaced
    capsys.readouterr()
    _no_work(monkeypatch, "unsim.engine.run")
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"\x89PNG mine")
    scenario = [str(DEFAULT_SCENARIO), "--state", "IDN", "--runs", "50", "--out"]
    _refused(capsys, ["explain", *scenario, str(mine)], mine, "unsim did not write it")
    meta = saved / "metadata.json"
    _refused(capsys, [*argv, str(meta)], meta, "is an input of this command")


def test_compare_files_are_unsims_and_force_replaces_the_folder(tmp_path: Path) -> None:
    from unsim.ownership import foreign_files

    out = tmp_path / "res"
    other = SCENARIOS / "icc_referral_no_charm.yaml"
    assert _run(out, "--compare", str(other), "--no-attribution", "--csv") == 0
    assert (out / "comparison.csv").is_file() and foreign_files(out) == []
    assert _run(out, "--compare", str(other), "--no-attribution", "--csv", "--force") == 0


def test_force_keeps_a_folder_holding_a_users_file_or_an_input(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = _copy(saved, tmp_path)
    (res / "notes.txt").write_text("what I think of this run")
    before = _fingerprint(res)
    _refused(capsys, [*_argv(res), "--force"], res, "notes.txt")
    assert _fingerprint(res) == before
    (res / "notes.txt").unlink()
    scenario = res / "what_if.yaml"  # an input inside the folder, even one unsim wrote
    scenario.write_text(
        "# written by unsim\n"
        + DEFAULT_SCENARIO.read_text()
        .replace("world: worlds/", f"world: {SCENARIOS}/worlds/")
        .replace("calibration: calibration/", f"calibration: {SCENARIOS}/calibration/")
        .replace("levers: levers/", f"levers: {SCENARIOS}/levers/")
    )
    before = _fingerprint(res)
    assert main([str(scenario), *_argv(res)[1:], "--force"]) == 2
    assert "an input of this command" in capsys.readouterr().err
    assert _fingerprint(res) == before


def test_a_file_added_during_a_forced_run_keeps_the_old_folder(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder is checked again once set aside, just before the new one takes its place."""
    import unsim.results.tables as tables
    from unsim.results.tables import Results

    res = _copy(saved, tmp_path)
    results = Results.load(res)
    monkeypatch.setattr(tables, "check_output_folder", lambda *a, **k: None)  # the first check
    (res / "added.txt").write_text("saved while the run ran")
    before = _fingerprint(res)
    with pytest.raises(OutputError, match=r"added\.txt"):
        results.save(res, force=True)
    assert _fingerprint(res) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def _argv(out: Path) -> list[str]:
    return [
        str(DEFAULT_SCENARIO),
        "--runs",
        "40",
        "--seed",
        "3",
        "--no-plots",
        "-q",
        "--out",
        str(out),
    ]


# --------------------------------------------------------------------------------------------
# Studies: --resume only into the same study; discover, plot
# --------------------------------------------------------------------------------------------
CHARM = "actors.target.strategies[0].intensity"
CREDIBILITY = "actors.sponsors.bargaining.accept_offer_min_credibility"


def _sweep(out: Path, *extra: str, scenario: Path = DEFAULT_SCENARIO) -> list[str]:
    return [
        "sweep", str(scenario), "--param", f"{CREDIBILITY}=0:1:6", "--param", f"{CHARM}=0,0.3",
        "--runs", "20", "--seed", "1", "-q", "--out", str(out), *extra,
    ]  # fmt: skip


def _tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): _state(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def studies(saved: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A sweep, a sensitivity analysis and a run's folder to resume into (copied by tests)."""
    root = tmp_path_factory.mktemp("studies")
    assert main(_sweep(root / "sweep")) == 0
    sens = [
        "sensitivity", str(DEFAULT_SCENARIO), "--method", "morris", "--param", f"{CHARM}=0:0.4",
        "--n", "2", "--runs", "20", "--seed", "1", "-q", "--no-plots", "--out",
    ]  # fmt: skip
    assert main([*sens, str(root / "sensitivity")]) == 0
    return {"sweep": root / "sweep", "sensitivity": root / "sensitivity", "run": saved}


def test_sweep_resumes_only_the_same_sweep(
    studies: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    for kind, words in (("run", "a run's results folder"), ("sensitivity", "sensitivity")):
        folder = tmp_path / kind
        shutil.copytree(studies[kind], folder)
        before = _tree(folder)
        _refused(capsys, _sweep(folder, "--resume"), folder, words)
        assert _tree(folder) == before
    folder = tmp_path / "sweep"
    shutil.copytree(studies["sweep"], folder)
    before = _tree(folder)
    other = tmp_path / "other.yaml"  # the same scenario, one value changed: another study
    other.write_text(
        DEFAULT_SCENARIO.read_text()
        .replace("world: worlds/", f"world: {SCENARIOS}/worlds/")
        .replace("calibration: calibration/", f"calibration: {SCENARIOS}/calibration/")
        .replace("levers: levers/", f"levers: {SCENARIOS}/levers/")
        .replace("high: 30.0", "high: 28.0", 1)
    )
    _refused(capsys, _sweep(folder, "--resume", scenario=other), folder, "another scenario")
    params = [*_sweep(folder, "--resume")]
    params[params.index(f"{CHARM}=0,0.3")] = "behaviour.icc_aversion=0,1"
    _refused(capsys, params, folder, "it varied")
    assert _tree(folder) == before
    (folder / "sweep.parquet").write_bytes(b"PAR1 the user's table")
    _refused(capsys, _sweep(folder, "--resume"), folder / "sweep.parquet", "unsim did not")
    user = tmp_path / "user"
    user.mkdir()
    (user / "thesis.tex").write_text("\\chapter{One}\n")
    _refused(capsys, _sweep(user, "--resume"), user, "no metadata.json that unsim wrote")
    assert sorted(p.name for p in user.iterdir()) == ["thesis.tex"]
    (folder / "sweep.parquet").unlink()
    assert main(_sweep(folder, "--resume")) == 0  # the same sweep: resumed
    assert (folder / "sweep.parquet").is_file()


def test_sensitivity_resumes_only_the_same_analysis(
    studies: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    folder = tmp_path / "sweep"
    shutil.copytree(studies["sweep"], folder)
    before = _tree(folder)
    argv = [
        "sensitivity", str(DEFAULT_SCENARIO), "--method", "morris", "--param", f"{CHARM}=0:0.4",
        "--n", "2", "--runs", "20", "--seed", "1", "-q", "--no-plots", "--resume", "--out",
    ]  # fmt: skip
    _refused(capsys, [*argv, str(folder)], folder, "holds a sweep, not a sensitivity analysis")
    assert _tree(folder) == before
    sens = tmp_path / "sensitivity"
    shutil.copytree(studies["sensitivity"], sens)
    (sens / "indices.csv").write_text("edited,by,hand\n")
    _refused(capsys, [*argv, str(sens)], sens / "indices.csv", "unsim did not write it")
    wider = [a.replace("=0:0.4", "=0:0.5") for a in argv]
    _refused(capsys, [*wider, str(sens)], sens, "it varied")


def test_discover_and_plot_of_studies_keep_a_users_files(
    studies: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    folder = tmp_path / "sweep"
    shutil.copytree(studies["sweep"], folder)
    user = _user_folder(tmp_path)
    before = _fingerprint(user)
    argv = ["discover", str(folder), "--outcome", "icc_retained", "--below"]
    assert main([*argv, "-q"]) == 0  # a new folder beside the sweep
    assert main(["plot", str(folder)]) == 0  # its own figures, redrawn
    capsys.readouterr()
    _no_work(monkeypatch, "unsim.studies.discovery.discover_in_folder")
    _refused(capsys, [*argv, "--out", str(user)], user, "not empty")
    assert _fingerprint(user) == before
    (folder / "sweep_icc_retained.png").write_bytes(b"\x89PNG the user's drawing")
    _refused(capsys, ["plot", str(folder)], folder / "sweep_icc_retained.png", "unsim did not")


def test_the_explorers_save_writes_only_new_regular_files(tmp_path: Path) -> None:
    from unsim.explore.session import Session, WhatIf

    session = Session(DEFAULT_SCENARIO, runs=64, save_dir=tmp_path)
    what_if = WhatIf.of({"behaviour.icc_aversion": 0.5})
    out = session.save_yaml(what_if, tmp_path / "what_if.yaml")
    assert out.read_text().startswith("# written by unsim")
    for what, path in _special_paths(tmp_path / "special").items():
        with pytest.raises(OutputError, match=what):
            session.save_yaml(what_if, path)
    with pytest.raises(OutputError, match=r"is an input of this command|exists"):
        session.save_yaml(what_if, DEFAULT_SCENARIO)
