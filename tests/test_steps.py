"""What a command says while it works, and what it loads: the steps announced on stderr (one
line each when stderr is not a terminal, nothing with --quiet), a progress bar that counts runs,
the numba compilation announced and timed apart, the header's time split into its steps, and
the libraries a command path leaves unloaded."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from unsim.cli.figures import can_fork
from unsim.cli.steps import COMPILING, Steps, summary_timings
from unsim.engine import run
from unsim.engine.core import counted_runs
from unsim.results.aggregates import BlockResult
from unsim.results.tables import Results
from unsim.results.text import STEP_WORDS, format_summary
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO, ROOT

RUNS = 600


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _unsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The command line in a new process, its stderr a pipe (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "unsim", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def full_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("steps") / "res"
    proc = _unsim(
        str(DEFAULT_SCENARIO), "--runs", str(RUNS), "--seed", "5", "--report", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc


# -- the steps on stderr ------------------------------------------------------------------------
def test_each_step_is_one_line_on_stderr_when_it_is_not_a_terminal(
    full_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, proc = full_run
    lines = proc.stderr.splitlines()
    expected = [
        f"unsim: running {RUNS} runs (1 worker)",
        *(["unsim: drawing the figures (alongside)"] if can_fork() else []),
        "unsim: attribution: ",
        "unsim: explaining each state's stance",
        f"unsim: saving the results to {out}",
        *([] if can_fork() else ["unsim: drawing the figures"]),
        "unsim: writing report.html",
    ]
    starts = [next(i for i, line in enumerate(lines) if line.startswith(e)) for e in expected]
    assert starts == sorted(starts), lines  # announced in the order they run
    assert len(lines) == len(expected), lines  # one line a step, nothing else (no bar)
    assert "\r" not in proc.stderr


def test_quiet_prints_nothing_on_stderr(tmp_path: Path) -> None:
    out = tmp_path / "q"
    proc = _unsim(
        str(DEFAULT_SCENARIO), "--runs", "300", "--quiet", "--no-plots", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.strip() == str(out)


def test_the_header_splits_the_time_into_the_steps(
    full_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, proc = full_run
    head = proc.stdout.splitlines()[1:3]
    assert re.fullmatch(rf"{RUNS} runs · seed 5 · runs \d+\.\d s \([\d,]+ runs/s\)", head[0]), head
    assert head[1].startswith("time ")
    words = re.findall(r"([a-z][a-z -]*?) \d+\.\d s", head[1].partition(": ")[2])
    assert words[:3] == ["start-up", "kernels", "runs"]
    for word in ("attribution", "explanation", "saving", "figures", "report"):
        assert word in words, head
    timings = json.loads((out / "metadata.json").read_text())["timings"]
    for key in ("start_up", "kernels", "runs", "attribution", "explanation"):
        assert timings[f"{key}_seconds"] >= 0
    assert timings["compile_seconds"] >= 0


def test_the_header_reports_a_compilation_apart() -> None:
    scenario = load_scenario(DEFAULT_SCENARIO)
    results = run(scenario, runs=50, seed=1, keep_runs=False)
    timings = {"start_up": 1.0, "kernels": 0.2, "runs": 0.5, "compiling": 20.0, "total": 21.7}
    text = format_summary(results, timings=timings)
    assert (
        "time 21.7 s: start-up 1.0 s, kernels 0.2 s, runs 0.5 s, compiling the kernels 20.0 s"
        in text
    )
    assert "the first run on this machine" in text
    assert "50 runs · seed 1 · runs 0.5 s (100 runs/s)" in text
    quiet = format_summary(results, timings={**timings, "compiling": 0.0})
    assert "compiling" not in quiet and "first run" not in quiet


def test_steps_time_their_own_work_and_say_each_once() -> None:
    stream = io.StringIO()
    steps = Steps(stream=stream, started=0.0)
    with steps.step("saving", "saving"), steps.step("figures", "drawing"):
        pass
    steps.warn("a warning")
    assert stream.getvalue().splitlines() == [
        "unsim: saving",
        "unsim: drawing",
        "warning: a warning",
    ]
    assert set(steps.seconds) == {"saving", "figures"}
    quiet = io.StringIO()
    silent = Steps(quiet=True, stream=quiet)
    with silent.step("runs", "running"):
        pass
    silent.warn("still said")
    assert quiet.getvalue() == "warning: still said\n"  # warnings are said even with --quiet


def test_a_compilation_is_announced_when_it_starts_and_timed_apart() -> None:
    stream = io.StringIO()
    steps = Steps(stream=stream)

    @numba.njit  # not cached: compiled on its first call
    def plus_one(x: int) -> int:
        return x + 1

    @numba.njit
    def plus_two(x: int) -> int:
        return x + 2

    with steps.watching_compiles(), steps.step("runs", "running"):
        assert plus_one(1) == 2
        assert plus_two(1) == 3
    said = stream.getvalue().splitlines()
    assert said == ["unsim: running", f"unsim: {COMPILING}"]  # once, however many kernels
    assert steps.compiled > 0
    timings = summary_timings(steps)
    assert timings["compiling"] == steps.compiled
    assert plus_one(2) == 3  # compiled already: no event, nothing said
    assert stream.getvalue().splitlines() == said


# -- the progress bar counts runs --------------------------------------------------------------
def test_the_bar_counts_runs_not_tasks() -> None:
    sizes = [2048, 2048, 452]  # blocks of different sizes
    results = [BlockResult(n=n) for n in sizes]
    stream = Terminal()
    steps = Steps(stream=stream)
    progress = steps.counter(sum(sizes))
    with steps.step("runs", "running"):
        assert [r.n for r in progress(iter(results), len(results))] == sizes
    bar = stream.getvalue()
    assert "/4.55k" in bar and "run/s" in bar  # runs (scaled), not 3 tasks
    plain = Steps(stream=io.StringIO())  # not a terminal: no bar
    list(plain.counter(10)(iter([BlockResult(n=10)]), 1))
    assert plain.stream.getvalue() == ""  # type: ignore[attr-defined]


def test_the_engine_progress_bar_counts_runs(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario(DEFAULT_SCENARIO)
    run(scenario, runs=2500, seed=1, keep_runs=False, progress=True)  # 2,048 + 452
    err = capsys.readouterr().err
    assert "/2.50k" in err and "run/s" in err  # 2,500 runs, not 2 blocks
    done = list(counted_runs([BlockResult(n=3), BlockResult(n=4)], 7))
    assert [r.n for r in done] == [3, 4]


def test_the_runs_the_command_saves_are_the_engine_runs(tmp_path: Path) -> None:
    """Readying the kernels before the runs (one run, discarded) changes no result."""
    from unsim.cli import main

    out = tmp_path / "r"
    flags = ["--no-plots", "--no-attribution", "--no-explain", "--quiet"]
    assert (
        main([str(DEFAULT_SCENARIO), "--runs", "700", "--seed", "9", "--out", str(out), *flags])
        == 0
    )
    saved = Results.load(out)
    direct = run(load_scenario(DEFAULT_SCENARIO), runs=700, seed=9)
    assert saved.summary["outcomes"] == json.loads(json.dumps(direct.summary["outcomes"]))
    assert saved.runs is not None and direct.runs is not None
    assert saved.runs.equals(direct.runs)


# -- what each command loads -------------------------------------------------------------------
_HEAVY = (
    *("scipy.stats", "scipy.optimize", "matplotlib", "dask", "distributed", "SALib"),
    *("ema_workbench", "solara", "unsim.explore.app", "unsim.explore.session"),
    *("unsim.studies.sweeps", "unsim.calibration", "mesa", "numba", "scipy.spatial"),
    *("networkx", "tqdm", "mesa.space", "mesa.batchrunner", "mesa.datacollection"),
    *("mesa.experimental", "mesa.discrete_space", "mesa.visualization"),
    *("unsim.session.load", "unsim.scenario.session"),  # a scenario is told from a session light
)
_LOADED = f"""
import sys
from unsim.cli import main
code = main(sys.argv[1:])
print(" ".join(m for m in {_HEAVY!r} if m in sys.modules))
raise SystemExit(code)
"""


def _loaded(*args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _LOADED, *args], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split("\n")[-2].split())


_MESA_OWN = """
import sys
from unsim.model import lightmesa
lightmesa.install()
import mesa.agent, mesa.model
print(" ".join(m for m in sys.modules if m.split(".")[0] in ("mesa", "scipy", "networkx", "tqdm")))
"""


def test_the_quick_run_loads_only_what_it_needs(tmp_path: Path) -> None:
    flags = ["--no-plots", "--no-attribution", "--no-explain", "--runs", "200", "--quiet"]
    loaded = _loaded(str(DEFAULT_SCENARIO), "--out", str(tmp_path / "r"), *flags)
    # What Mesa's Agent and Model load themselves (nothing more on Mesa 3.3; Mesa 3.5's model
    # loads mesa.experimental and SciPy's spatial module); nothing else of Mesa's (its spaces,
    # batch runner, data collector...: unsim.model.lightmesa), nor of the rest.
    proc = subprocess.run([sys.executable, "-c", _MESA_OWN], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    mesa_own = set(proc.stdout.split())
    assert loaded == {"mesa", "numba"} | (mesa_own & set(_HEAVY)), loaded
    assert "mesa.space" not in mesa_own and "mesa.batchrunner" not in mesa_own


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unsim.cli import main

    out = tmp_path_factory.mktemp("small") / "r"
    flags = ["--runs", "200", "--no-attribution", "--quiet"]
    assert main([str(DEFAULT_SCENARIO), "--out", str(out), *flags]) == 0
    return out


def test_redrawing_loads_neither_the_model_nor_numba(small_folder: Path) -> None:
    loaded = _loaded("plot", str(small_folder))
    assert loaded == {"matplotlib"}, loaded
    loaded = _loaded("report", str(small_folder))  # its figures, and the parts' labels
    assert not loaded & {"scipy.stats", "dask", "distributed", "SALib", "solara"}, loaded


def test_plot_and_report_say_what_they_do(small_folder: Path) -> None:
    out = small_folder
    plot = _unsim("plot", str(out))
    assert plot.returncode == 0 and plot.stderr == f"unsim: drawing the figures of {out}\n"
    assert _unsim("plot", str(out), "--quiet").stderr == ""
    report = _unsim("report", str(out), "--out", str(out.parent / "r.html"))
    assert report.returncode == 0
    assert report.stderr.startswith(f"unsim: writing the report of {out}")


def test_the_step_words_name_every_step_the_command_times() -> None:
    import inspect

    from unsim.cli import run as run_module

    source = inspect.getsource(run_module)
    used = set(re.findall(r'steps\.step\(\s*"(\w+)"', source)) | {"start_up", "kernels"}
    assert used <= set(STEP_WORDS), used - set(STEP_WORDS)


def test_the_benchmark_reads_the_steps_the_header_prints() -> None:
    """benchmarks/cli.py reports where the time goes from the header: the two agree."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_cli", ROOT / "benchmarks" / "cli.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = run(load_scenario(DEFAULT_SCENARIO), runs=50, seed=1, keep_runs=False)
    timings = {"start_up": 1.25, "kernels": 0.5, "runs": 0.75, "figures": 2.0, "total": 4.5}
    found = bench.steps_of(format_summary(results, timings=timings))
    assert found == {
        "start-up": 1.2,
        "kernels": 0.5,
        "runs": 0.8,
        "figures": 2.0,
        "total": 4.5,
    }


@pytest.mark.slow
def test_a_first_run_compiles_the_kernels_with_a_message(tmp_path: Path) -> None:
    """A numba cache of its own: the kernels are compiled (tens of seconds), said once when it
    starts, and reported apart in the header; the next run loads them and says nothing of it."""
    import os

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    flags = ["--runs", "300", "--no-plots", "--no-attribution", "--no-explain"]

    def command(name: str) -> subprocess.CompletedProcess[str]:
        out = str(tmp_path / name)
        return subprocess.run(
            [sys.executable, "-m", "unsim", str(DEFAULT_SCENARIO), "--out", out, *flags],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        )

    first = command("first")
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines()[0] == f"unsim: {COMPILING}"
    assert first.stderr.count("compiling") == 1
    assert re.search(r"compiling the kernels \d+\.\d s", first.stdout)
    again = command("again")
    assert again.returncode == 0, again.stderr
    assert "compiling" not in again.stderr and "compiling" not in again.stdout
