"""Each input a security review found unbounded, a traceback or a wrong exit 0, through the real
command line: a clean error (exit code 2, the file or flag named, what is wrong), in seconds,
with nothing written."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zlib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from unsim.cli import main
from unsim.studies.designs import MAX_POINTS, grid_points, lhs_points
from unsim.studies.sensitivity import morris_analysis, sobol_analysis

from .conftest import DEFAULT_SCENARIO, SCENARIOS

CHARM = "actors.target.strategies[0].intensity"
WORLD = SCENARIOS / "worlds" / "un_2014.yaml"
CALIBRATION = SCENARIOS / "calibration" / "dprk_2014.yaml"


def _scenario(folder: Path, name: str, change: Any = None) -> Path:
    """The default scenario with absolute world and calibration paths, changed by ``change``."""
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    text = text.replace("world: worlds/un_2014.yaml", f"world: {WORLD}")
    text = text.replace("calibration: calibration/dprk_2014.yaml", f"calibration: {CALIBRATION}")
    text = text.replace("levers: levers/", f"levers: {SCENARIOS / 'levers'}/")
    text = text.replace(
        "clause_calibration: calibration/", f"clause_calibration: {SCENARIOS / 'calibration'}/"
    )
    if change is not None:
        text = change(text)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    """Run the command line: exit code 2 (argparse's errors exit 2 too), no traceback, every
    needle in the message."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage error
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep of three points."""
    out = tmp_path_factory.mktemp("sweep") / "sw"
    argv = ["sweep", str(DEFAULT_SCENARIO), "--param", f"{CHARM}=0:0.4:3", "--runs", "20"]
    assert main([*argv, "--seed", "1", "-q", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def results_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "res"
    argv = [str(DEFAULT_SCENARIO), "--runs", "40", "--seed", "1", "--no-plots", "-q"]
    assert main([*argv, "--no-attribution", "--out", str(out)]) == 0
    return out


def _copy(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    return copy


# -- a loop of symbolic links as the world or the calibration ---------------------------------
@pytest.mark.parametrize("key", ["world", "calibration"])
@pytest.mark.parametrize("relative", [True, False])
def test_a_link_loop_as_world_or_calibration_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, relative: bool
) -> None:
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    target = "loop_a" if relative else str(tmp_path / "loop_a")
    old = f"{key}: {WORLD if key == 'world' else CALIBRATION}"
    path = _scenario(tmp_path, "s", lambda t: t.replace(old, f"{key}: {target}"))
    _fails(["validate", str(path)], capsys, "loop_a", "a link loop")
    out = tmp_path / "out"
    _fails([str(path), "--runs", "10", "--out", str(out)], capsys, "loop_a", "a link loop")
    assert not out.exists()


# -- report and plot on a summary.json that unsim did not write --------------------------------
def _numbers_as_text(s: dict[str, Any]) -> None:
    for o in s["outcomes"].values():
        o["p"] = str(o["p"])


SUMMARIES = {
    "a list": (lambda s: [1, 2], "expected a mapping of keys"),
    "numbers as text": (_numbers_as_text, "p: input should be a valid number; got '"),
    "a key missing": (lambda s: s["outcomes"]["icc_retained"].pop("p"), "icc_retained.p: missing"),
    "no runs": (lambda s: s.pop("runs"), "runs: missing"),
    "runs as a word": (lambda s: s.update(runs="many"), "runs: input should be a valid integer"),
    "tallies as a list": (
        lambda s: s["tallies"].update(plenary=[1, 2]),
        "tallies.plenary: input should be a valid dictionary",
    ),
    "pivotal as text": (lambda s: s.update(pivotal="x"), "pivotal: input should be a valid list"),
    "a share of 5": (
        lambda s: s["outcomes"]["plenary_adopted"].update(ci_high=5.0),
        "plenary_adopted.ci_high: input should be less than or equal to 1",
    ),
}


@pytest.mark.parametrize("how", list(SUMMARIES))
def test_report_and_plot_refuse_an_odd_summary(
    results_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    folder = _copy(results_folder, tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    change, needle = SUMMARIES[how]
    changed = change(summary)
    summary = changed if isinstance(changed, list) else summary
    (folder / "summary.json").write_text(json.dumps(summary))
    before = sorted(p.name for p in folder.iterdir())
    _fails(["report", str(folder)], capsys, "summary.json: not as unsim writes it", needle)
    _fails(["plot", str(folder)], capsys, "summary.json: not as unsim writes it", needle)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_report_refuses_a_per_state_table_without_its_columns(
    results_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(results_folder, tmp_path)
    pd.DataFrame({"stage": ["plenary"], "iso3": ["USA"]}).to_parquet(folder / "per_state.parquet")
    _fails(["report", str(folder)], capsys, "per_state.parquet: not as unsim writes it", "p_yes")


# -- flags out of range -----------------------------------------------------------------------
@pytest.mark.parametrize("levels", ["1", "3", "0", "1000"])
def test_sensitivity_refuses_morris_levels_it_cannot_use(
    capsys: pytest.CaptureFixture[str], levels: str
) -> None:
    argv = ["sensitivity", str(DEFAULT_SCENARIO), "--method", "morris", "--param", f"{CHARM}=0:1"]
    _fails([*argv, "--levels", levels], capsys, "--levels")


@pytest.mark.parametrize("alpha", ["0", "1", "-0.1", "nan", "inf"])
def test_discover_refuses_a_peel_alpha_out_of_its_range(
    sweep_folder: Path, capsys: pytest.CaptureFixture[str], alpha: str
) -> None:
    argv = ["discover", str(sweep_folder), "--outcome", "icc_retained", f"--peel-alpha={alpha}"]
    _fails(argv, capsys, "--peel-alpha", "more than 0 and less than 1")


@pytest.mark.parametrize("weight", ["inf", "-inf", "nan", "0", "-1", "1e9", "two"])
def test_calibrate_refuses_a_weight_that_is_not_a_finite_number_in_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], weight: str
) -> None:
    out = tmp_path / "c.yaml"
    argv = ["calibrate", "--before", "2014-01-01", "--out", str(out), f"--hr-weight={weight}"]
    _fails(argv, capsys, "--hr-weight", "more than 0 and at most 1000")
    assert not out.exists()


def test_sweep_refuses_an_unknown_outcome_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sweep", str(DEFAULT_SCENARIO), "--param", f"{CHARM}=0,1", "--runs", "10"]
    out = tmp_path / "o"
    for quiet in ([], ["-q"]):
        err = _fails(
            [*argv, *quiet, "--outcome", "icc_retaned", "--out", str(out)],
            capsys,
            "--outcome 'icc_retaned': unknown outcome; allowed:",
            "did you mean 'icc_retained'?",
        )
        assert "referral_adopted" in err and "plenary_yes_mean" in err
    assert not out.exists()
    assert main([*argv, "-q", "--outcome", "sc_referral_adopted", "--out", str(out)]) == 0


# -- designs larger than the limit ------------------------------------------------------------
def test_a_grid_of_a_billion_points_is_refused_before_it_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sweep", str(DEFAULT_SCENARIO), "--runs", "10", "--out", str(tmp_path / "o")]
    for path in (CHARM, "behaviour.icc_aversion", "behaviour.intercept"):
        argv += ["--param", f"{path}=0:1:1000"]
    _fails(argv, capsys, "1,000,000,000 points", f"at most {MAX_POINTS:,} points")
    assert not (tmp_path / "o").exists()


def test_every_design_states_its_limit() -> None:
    with pytest.raises(
        ValueError, match="the grid of 1000 x 1000 x 2 values makes 2,000,000 points"
    ):
        grid_points({"a": range(1000), "b": range(1000), "c": [0, 1]})
    with pytest.raises(ValueError, match=f"at most {MAX_POINTS:,} points"):
        lhs_points({"a": (0, 1)}, MAX_POINTS + 1)
    assert len(grid_points({"a": range(1000), "b": range(1000)})) == MAX_POINTS

    def never(x: Any) -> Any:
        raise AssertionError("the model ran")

    with pytest.raises(ValueError, match=r"Sobol's design, N = 524,288 x \(1 parameters \+ 2\)"):
        sobol_analysis(never, {"a": (0.0, 1.0)}, n=400_000)
    with pytest.raises(ValueError, match="Morris's design, 600,000 trajectories"):
        morris_analysis(never, {"a": (0.0, 1.0)}, trajectories=600_000)
    with pytest.raises(ValueError, match="even number of levels"):
        morris_analysis(never, {"a": (0.0, 1.0)}, trajectories=4, levels=3)


def test_sensitivity_refuses_a_design_over_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sensitivity", str(DEFAULT_SCENARIO), "--param", f"{CHARM}=0:1", "--n", "1000000"]
    _fails([*argv, "--out", str(tmp_path / "o")], capsys, f"at most {MAX_POINTS:,} points")
    assert not (tmp_path / "o").exists()


# -- a study folder that unsim did not write ---------------------------------------------------
def _special(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    else:
        path.write_text(kind)


def _without_seed(tmp_path: Path) -> Path:
    return _scenario(tmp_path, "noseed", lambda t: t.replace("  seed: 20141118\n", ""))


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("fifo", "not a regular file"),
        ("zero", "not a regular file"),
        ("garbage{", "not valid JSON"),
        ("[1, 2]", "expected a mapping of keys"),
        ('{"params": 5, "seed": "x"}', "params: expected the parameters' names"),
        ('{"labels": [1]}', "labels: input should be a valid dictionary"),
    ],
)
def test_an_odd_sweep_metadata_is_named_by_every_command(
    sweep_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    needle: str,
) -> None:
    folder = _copy(sweep_folder, tmp_path)
    _special(folder / "metadata.json", kind)
    where = str(folder / "metadata.json")
    _fails(["discover", str(folder), "--outcome", "icc_retained"], capsys, where, needle)
    _fails(["plot", str(folder)], capsys, where, needle)
    if kind in ("fifo", "zero", "garbage{", "[1, 2]"):  # the seed is read from it on resuming
        argv = ["sweep", str(_without_seed(tmp_path)), "--param", f"{CHARM}=0:0.4:3"]
        _fails([*argv, "--runs", "20", "--out", str(folder), "--resume"], capsys, where, needle)
    assert not list(tmp_path.glob("*discover*"))


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"PAR1 garbage PAR1", "not a Parquet table unsim can read"),
        (b"", "not a Parquet table unsim can read"),
        ("fifo", "not a regular file"),
        ("zero", "not a regular file"),
    ],
)
def test_a_corrupt_sweep_table_is_named(
    sweep_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: Any,
    needle: str,
) -> None:
    folder = _copy(sweep_folder, tmp_path)
    table = folder / "sweep.parquet"
    if isinstance(content, bytes):
        table.write_bytes(content)
    else:
        _special(table, content)
    _fails(["discover", str(folder), "--outcome", "icc_retained"], capsys, str(table), needle)
    _fails(["plot", str(folder)], capsys, str(table), needle)


def test_a_sweep_table_without_its_columns_is_named(
    sweep_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(sweep_folder, tmp_path)
    table = pd.read_parquet(folder / "sweep.parquet")
    table.drop(columns=[CHARM]).to_parquet(folder / "sweep.parquet")
    _fails(["plot", str(folder)], capsys, "sweep.parquet: not as unsim writes it", CHARM)
    table.assign(icc_retained_p="high").to_parquet(folder / "sweep.parquet")
    _fails(["plot", str(folder)], capsys, "column 'icc_retained_p'", "not numbers")


def _tamper_points(folder: Path, change: Any) -> Path:
    path = sorted((folder / "points").glob("*.json"))[0]
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))
    return path


TAMPERED_POINTS = {
    "a record of 5": lambda d: {"entries": [{**d["entries"][0], "record": 5}]},
    "entries as 5": lambda d: {"entries": 5},
    "a list": lambda d: [1],
    "an entry without its key": lambda d: {"entries": [{"record": d["entries"][0]["record"]}]},
    "outcomes as text": lambda d: {
        "entries": [{**d["entries"][0], "record": {**d["entries"][0]["record"], "outcomes": "x"}}]
    },
    "a count as text": lambda d: {
        "entries": [{**d["entries"][0], "record": {**d["entries"][0]["record"], "n": "20"}}]
    },
    "a probability of 2": lambda d: {
        "entries": [
            {
                **d["entries"][0],
                "record": {
                    **d["entries"][0]["record"],
                    "outcomes": {"icc_retained": {"p": 2.0, "ci_low": 0.0, "ci_high": 1.0}},
                },
            }
        ]
    },
}


@pytest.mark.parametrize("how", list(TAMPERED_POINTS))
def test_tampered_points_are_named_on_resuming(
    sweep_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    folder = _copy(sweep_folder, tmp_path)
    path = _tamper_points(folder, TAMPERED_POINTS[how])
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    argv = ["sweep", str(DEFAULT_SCENARIO), "--param", f"{CHARM}=0:0.4:3", "--runs", "20"]
    _fails(
        [*argv, "--seed", "1", "-q", "--out", str(folder), "--resume"],
        capsys,
        str(path),
        "delete the file to compute its points again",
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_points_resume_from_untampered_files(
    sweep_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: the same folder, untouched, resumes with nothing to compute."""
    folder = _copy(sweep_folder, tmp_path)
    argv = ["sweep", str(DEFAULT_SCENARIO), "--param", f"{CHARM}=0:0.4:3", "--runs", "20"]
    assert main([*argv, "--seed", "1", "-q", "--out", str(folder), "--resume"]) == 0
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["computed"] == 0 and meta["resumed"] == 3


# -- data files --------------------------------------------------------------------------------
def _bomb(size: int) -> bytes:
    """A small gzip file that decompresses to ``size`` bytes of a CSV (made a MiB at a time)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"0,0\n" * (1 << 18)
    parts = [packer.compress(b"a,b\n")]
    parts += [packer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join([*parts, packer.flush()])


_CSV = b"rcid,session\n" + "".join(f"{i},{i * 7919 % 1000}\n" for i in range(20_000)).encode()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes(range(256)) * 16, "corrupt gzip data"),
        (gzip.compress(_CSV, mtime=0)[: len(_CSV) // 20], "corrupt gzip data"),
        (_bomb(300 << 20), "decompresses to more than the limit of 256 MiB"),
    ],
    ids=["header-only", "cut-short", "bomb"],  # never the bytes: each worker must name them alike
)
def test_a_corrupt_or_expanding_votes_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, needle: str
) -> None:
    votes = tmp_path / "votes.csv.gz"
    votes.write_bytes(content)
    out = tmp_path / "c.yaml"
    argv = ["calibrate", "--votes", str(votes), "--before", "2014-01-01", "--out", str(out)]
    _fails(argv, capsys, f"{votes}: cannot read the votes file", needle)
    assert not out.exists()


# -- ISO3 codes are read in upper case ---------------------------------------------------------
def test_a_state_given_twice_in_two_cases_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _scenario(
        tmp_path,
        "twice",
        lambda t: t.replace(
            "    KOR:\n",
            "    jpn: {support_shift: -3.0}\n    KOR:\n",
        ),
    )
    message = "actors.states: 'JPN' and 'jpn' name the same state"
    _fails(["validate", str(path)], capsys, message)
    good = _scenario(tmp_path, "good")
    override = ["--set", "actors.states.jpn.support_shift=-3"]
    _fails(["validate", str(good), *override], capsys, message)
    assert main(["validate", str(good), "--set", "actors.states.usa.support_shift=-3"]) == 0
    capsys.readouterr()
    # a calibration file too: its states, keyed by ISO3 codes
    text = CALIBRATION.read_text(encoding="utf-8")
    cal = tmp_path / "cal.yaml"
    cal.write_text(text.replace("\n  JPN:\n", "\n  jpn:\n    position: 0.0\n  JPN:\n", 1))
    with_cal = _scenario(tmp_path, "with_cal", lambda t: t.replace(str(CALIBRATION), str(cal)))
    _fails(["validate", str(with_cal)], capsys, str(cal), "'jpn' and 'JPN' name the same state")
