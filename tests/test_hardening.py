"""The command line and the engine under abuse: killed runs, interrupted saves, scripts without a
main guard, unexpected errors, limits of input files and of the schema."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import yaml

from unsim.atomic import MARKER, sweep_stale_temporaries
from unsim.cli import main
from unsim.errors import ClusterError
from unsim.safeio import MAX_YAML_DEPTH, FileReadError, load_yaml, read_bounded
from unsim.scenario.schema import Scenario

from .conftest import DEFAULT_SCENARIO, ROOT, SCENARIOS

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Processes still running (a zombie has exited; only its parent's reaping is left)."""
    out = []
    for p in procs:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    """SIGKILL (as the out-of-memory killer sends) a 2-worker run: no child outlives it by 5 s."""
    cmd = [sys.executable, "-m", "unsim", str(DEFAULT_SCENARIO), "--runs", "5000000"]
    cmd += ["--workers", "2", "--seed", "1", "--no-plots", "-q", "--out", str(tmp_path / "o")]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        children: list[psutil.Process] = []
        while time.monotonic() < deadline:
            children = parent.children(recursive=True)
            workers = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        assert len(workers) >= 2, "the run did not start two workers"
        time.sleep(1.0)  # let them take tasks
        children = parent.children(recursive=True)  # workers and the resource tracker
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 5
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(children)
    for p in left:
        p.kill()
    assert not left, [" ".join(p.cmdline())[-80:] for p in left]


def test_sigterm_while_saving_leaves_no_partial_folder(tmp_path: Path) -> None:
    out = tmp_path / "res"
    script = textwrap.dedent(
        f"""
        import sys, time
        from unsim.results import tables as results
        write = results.Results._write
        def slow(self, folder, *args):
            write(self, folder, *args)
            time.sleep(60)  # stopped here, with the files written into the temporary folder
        results.Results._write = slow
        from unsim.cli import main
        sys.exit(main([{str(DEFAULT_SCENARIO)!r}, "--runs", "40", "--seed", "1",
                       "--no-plots", "-q", "--out", {str(out)!r}]))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=tmp_path, env=ENV, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        partial = [p for p in tmp_path.iterdir() if p.name.startswith(".unsim-tmp.")]
        if partial and (partial[0] / "summary.json").exists():
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the save never started")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _marked(folder: Path, pid: int, host: str | None = None, age: float = 0.0) -> Path:
    import socket

    folder.mkdir()
    (folder / "runs.parquet").write_bytes(b"partial")
    mark = {"pid": pid, "host": host or socket.gethostname(), "created": time.time() - age}
    (folder / MARKER).write_text(json.dumps(mark))
    return folder


def test_stale_temporaries_are_swept_and_nothing_else(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(done.stdout)
    live = os.getppid()
    stale = _marked(tmp_path / ".unsim-tmp.run1.abcd1234", dead)
    running = _marked(tmp_path / ".unsim-tmp.run2.abcd1234", live)
    foreign_old = _marked(tmp_path / ".unsim-tmp.run3.zz_9zz99", 1, host="elsewhere", age=3 * 86400)
    foreign_new = _marked(tmp_path / ".unsim-tmp.run4.zz_9zz99", 1, host="elsewhere", age=60)
    unmarked = tmp_path / ".unsim-tmp.run5.abcd1234"
    unmarked.mkdir()
    (unmarked / "data.csv").write_text("mine\n")
    no_tail = _marked(tmp_path / ".unsim-tmp.notes", dead)
    lookalike = _marked(tmp_path / ".run6.abcd1234", dead)  # an older naming: not recognised
    # a results folder set aside while being replaced, whose replacement never arrived
    old = _marked(tmp_path / ".unsim-old.earlier.abcd1234", dead)
    (old / "earlier").mkdir()
    (old / "earlier" / "summary.json").write_text("{}")

    swept = sweep_stale_temporaries(tmp_path)

    assert sorted(swept) == sorted([stale, foreign_old, old])
    for kept in (running, foreign_new, unmarked, no_tail, lookalike):
        assert kept.exists(), kept
    assert (tmp_path / "earlier" / "summary.json").read_text() == "{}"  # put back


def _two_worker_program(guarded: bool) -> str:
    """A user's program that runs the default scenario on two local workers and prints the
    error unsim gives, with or without the ``if __name__ == "__main__":`` guard."""
    body = textwrap.dedent(
        f"""
        scenario = load_scenario({str(DEFAULT_SCENARIO)!r})
        try:
            run(scenario, runs=5000, seed=1, workers=2)
        except UnsimError as err:
            print("ERROR:", err)
        """
    )
    head = "from unsim import load_scenario, run\nfrom unsim.errors import UnsimError\n"
    if guarded:
        return head + 'if __name__ == "__main__":\n' + textwrap.indent(body, "    ")
    return head + body


def _python(cwd: Path, program: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python PROGRAM`` (``-``: the program read from ``stdin``) in ``cwd``."""
    return subprocess.run(
        [sys.executable, program],
        input=stdin,
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_script_without_main_guard_gets_a_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(_two_worker_program(guarded=False))
    proc = _python(tmp_path, str(script))
    assert 'if __name__ == "__main__":' in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_a_program_read_from_standard_input_gets_a_clear_error(tmp_path: Path) -> None:
    """``python - < analysis.py``: the workers cannot import a program read from standard
    input again; the error says so, not that a worker died of its own."""
    proc = _python(tmp_path, "-", stdin=_two_worker_program(guarded=True))
    assert "ERROR:" in proc.stdout and "standard input" in proc.stdout, proc.stdout + proc.stderr
    assert "out of memory" not in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr  # no worker was started to fail


def test_interrupting_a_process_group_prints_no_worker_tracebacks(tmp_path: Path) -> None:
    """As when a notebook's kernel is interrupted and shut down: Ctrl-C reaches every process
    of the group; the workers ignore it, the parent stops its pool cleanly."""
    script = tmp_path / "guarded.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, signal, time
            from unsim.engine.executors import local_pool
            if __name__ == "__main__":
                # Ctrl-C enabled here whatever this process inherited (a test runner's worker
                # may start it with SIGINT ignored or blocked)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
                signal.signal(signal.SIGINT, signal.default_int_handler)
                pool = local_pool(2)  # the pool run(..., workers=2) uses, with live workers
                pids = [pool.submit(os.getpid).result() for _ in range(4)]
                assert os.getpid() not in pids
                try:
                    os.killpg(os.getpgid(0), signal.SIGINT)
                    time.sleep(5)
                except KeyboardInterrupt:
                    print("interrupted")
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        start_new_session=True,
    )
    assert "interrupted" in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_an_unexpected_error_prints_one_line_and_saves_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    import unsim.cli.commands

    def broken(args: object) -> int:
        raise RuntimeError("something the code did not expect")

    monkeypatch.setattr(unsim.cli.commands, "cmd_schema", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["schema"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "internal error: RuntimeError: something the code did not expect" in err
    saved = list((tmp_path / "unsim-tracebacks").iterdir())
    assert len(saved) == 1 and str(saved[0]) in err
    assert "Traceback" in saved[0].read_text() and "broken" in saved[0].read_text()


def test_an_unreachable_dask_scheduler_fails_within_its_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = time.monotonic()
    argv = [str(DEFAULT_SCENARIO), "--runs", "20", "--no-plots", "--dask", "tcp://127.0.0.1:9"]
    code = main([*argv, "--dask-timeout", "1", "--out", str(tmp_path / "o")])
    assert code == 4
    assert time.monotonic() - t0 < 15
    assert "cannot connect to the Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    from unsim.engine.dask import DaskExecutor

    with pytest.raises(ClusterError):
        DaskExecutor("tcp://127.0.0.1:9", timeout=0.5)


def test_compare_refuses_scenarios_that_cannot_be_paired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DEFAULT_SCENARIO.read_text().replace("  target: PRK", "  target: IRN")
    other = SCENARIOS / "_test_other_target.yaml"  # next to the default: same relative paths
    other.write_text(text)
    try:
        code = main([str(DEFAULT_SCENARIO), "--compare", str(other), "--out", str(tmp_path / "o")])
    finally:
        other.unlink()
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot be paired" in err and "the target (PRK and IRN)" in err
    assert not (tmp_path / "o").exists()


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(yaml.YAMLError, match=r"duplicate key 'target' \(first on line 2, again"):
        load_yaml("resolution: x\ntarget: PRK\nother: 1\ntarget: IRN\n")
    assert load_yaml("a: &a {k: 1}\nb:\n  <<: *a\n  k: 2\n") == {"a": {"k": 1}, "b": {"k": 2}}


def test_yaml_depth_and_alias_limits() -> None:
    ok = "[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH
    assert load_yaml(ok) is not None
    with pytest.raises(yaml.YAMLError, match="levels deep"):
        load_yaml("[" * 500 + "]" * 500)
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(yaml.YAMLError, match="values"):
        load_yaml("\n".join(bomb))
    with pytest.raises(yaml.YAMLError, match="refers to a value that contains it"):
        load_yaml("a: &a [*a]")


def test_only_regular_files_of_bounded_size_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, reason in (
        (fifo, "not a regular file"),
        (Path("/dev/zero"), "not a regular file"),
        (tmp_path, "is a folder"),
        (tmp_path / "missing", "file not found"),
    ):
        with pytest.raises(FileReadError, match=reason):
            read_bounded(path)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(FileReadError, match=r"file too large .* the limit is 1000 bytes"):
        read_bounded(big, limit=1000)
    assert read_bounded(big, limit=2000) == b"x" * 2000


def test_the_json_schema_states_the_bounds() -> None:
    schema = Scenario.model_json_schema()
    defs = schema["$defs"]
    aversion = defs["Behaviour"]["properties"]["icc_aversion"]
    assert (aversion["minimum"], aversion["maximum"]) == (-5, 10)
    budget = defs["Lobbying"]["properties"]["budget"]
    assert (budget["minimum"], budget["maximum"]) == (0, 1000)
    shift = defs["StateOverride"]["properties"]["support_shift"]
    assert (shift["minimum"], shift["maximum"]) == (-1000, 1000)
    runs = defs["Simulation"]["properties"]["runs"]
    assert runs["maximum"] == 100_000_000


@pytest.mark.parametrize(
    "override",
    [
        "behaviour.icc_aversion=.nan",
        "actors.sponsors.lobbying.budget=.inf",
        "actors.states.USA.support_shift=1.0e+308",
    ],
)
def test_nan_and_inf_are_refused_with_the_key_path(
    override: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(DEFAULT_SCENARIO), "--set", override]) == 2
    err = capsys.readouterr().err
    assert override.split("=")[0] in err
    assert "finite number" in err or "less than or equal" in err


def test_plot_redraws_atomically_and_reports_a_corrupt_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "res"
    argv = [str(DEFAULT_SCENARIO), "--runs", "40", "--seed", "2", "--no-plots", "-q"]
    assert main([*argv, "--out", str(out)]) == 0
    assert main(["plot", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith(".")], names  # no temporary file left
    assert {"tallies.png", "map.png"} <= set(names)
    (out / "per_state.parquet").write_bytes(b"PAR1 corrupt")
    capsys.readouterr()
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert "per_state.parquet: cannot read the table" in err and "Traceback" not in err
