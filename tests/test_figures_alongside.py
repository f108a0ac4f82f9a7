"""The run command's figures drawn by a forked copy while it runs the attribution and the
explanation (unsim.cli.figures): the same figures, pixel for pixel, as the command draws itself;
a copy that fails leaves them to the command; an error or an interruption stops the copy and
leaves no folder behind."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import unsim.cli.figures
import unsim.engine.attribution
import unsim.results.plots
from unsim.cli import main
from unsim.cli.figures import can_fork
from unsim.results.plots import save_standard_plots
from unsim.results.plots.save import FIGURES
from unsim.results.tables import Results

from .conftest import DEFAULT_SCENARIO

pytestmark = pytest.mark.skipif(not can_fork(), reason="figures drawn alongside on Linux only")

FLAGS = ("--runs", "400", "--seed", "11", "--no-explain")


def _pixels(path: Path) -> Any:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def _run(out: Path, *flags: str) -> int:
    return main([str(DEFAULT_SCENARIO), "--out", str(out), *FLAGS, *flags])


def _stuck_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the copy that draws the figures write its pid to the file returned, then sleep for
    ten minutes instead of drawing (the command itself still draws)."""
    command = os.getpid()
    pid_file = tmp_path / "copy.pid"

    def draw(results: Any, folder: Any, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() != command:
            pid_file.write_text(str(os.getpid()))
            time.sleep(600)
        return save_standard_plots(results, folder, *args, **kwargs)

    monkeypatch.setattr(unsim.results.plots, "save_standard_plots", draw)
    return pid_file


def _drawn_by_the_command_after_the_copy(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Run the command into ``out``: it starts the copy, then draws every figure itself."""
    assert _run(out, "--no-attribution") == 0
    err = capsys.readouterr().err
    assert "unsim: drawing the figures (alongside)\n" in err
    assert "unsim: drawing the figures\n" in err  # then by the command itself
    assert all((out / name).is_file() for name in FIGURES)


def _started(pid_file: Path) -> None:
    """Wait (up to 100 s) until the stuck copy has written its pid."""
    for _ in range(2000):
        if pid_file.exists() and pid_file.read_text():
            return
        time.sleep(0.05)


def test_the_figures_drawn_alongside_are_those_the_command_draws_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    assert _run(out) == 0
    err = capsys.readouterr().err
    assert "unsim: drawing the figures (alongside)\n" in err
    assert "unsim: drawing the figures\n" not in err  # not drawn a second time
    again = tmp_path / "again"
    save_standard_plots(Results.load(out), again)  # as the command drew them before
    for name in FIGURES:
        assert (out / name).is_file(), name
        assert np.array_equal(_pixels(out / name), _pixels(again / name)), name


def test_a_copy_that_fails_leaves_the_figures_to_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    command = os.getpid()

    def draw(results: Any, folder: Any, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() != command:
            raise RuntimeError("the copy fails")
        return save_standard_plots(results, folder, *args, **kwargs)

    monkeypatch.setattr(unsim.results.plots, "save_standard_plots", draw)
    _drawn_by_the_command_after_the_copy(tmp_path / "r", capsys)


def test_an_interruption_stops_the_copy_and_leaves_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = _stuck_copy(tmp_path, monkeypatch)

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        _started(pid_file)
        raise KeyboardInterrupt

    monkeypatch.setattr(unsim.engine.attribution, "attribute", interrupted)
    runs = tmp_path / "runs"
    runs.mkdir()
    t = time.perf_counter()
    assert _run(runs / "r") != 0
    assert time.perf_counter() - t < 100  # the copy did not sleep on
    assert "interrupted: no results were written" in capsys.readouterr().err
    assert sorted(p.name for p in runs.iterdir()) == []  # neither the folder nor its staging
    copy = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(copy, 0)  # stopped and waited for: no such process any more


def test_an_interruption_while_waiting_for_the_copy_stops_it_and_leaves_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = _stuck_copy(tmp_path, monkeypatch)
    reap = unsim.cli.figures._reap
    waits: list[int] = []

    def interrupted(pid: int, timeout: float) -> int:
        waits.append(pid)
        _started(pid_file)
        raise KeyboardInterrupt  # the command waits for the stuck copy: Ctrl-C

    def reaped(pid: int) -> int:
        waits.append(pid)
        return reap(pid)  # stopping the copy

    monkeypatch.setattr(unsim.cli.figures, "_wait", interrupted)
    monkeypatch.setattr(unsim.cli.figures, "_reap", reaped)
    runs = tmp_path / "runs"
    runs.mkdir()
    assert _run(runs / "r", "--no-attribution") != 0
    assert "interrupted: no results were written" in capsys.readouterr().err
    assert sorted(p.name for p in runs.iterdir()) == []
    assert len(waits) == 2 and waits[0] == waits[1] == int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(waits[0], 0)


def test_a_copy_that_never_finishes_is_stopped_and_the_command_draws_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy stuck (say, on a lock another thread held when the command forked) cannot hang
    the command: after its timeout it is stopped and the command draws the figures itself."""
    pid_file = _stuck_copy(tmp_path, monkeypatch)
    wait = unsim.cli.figures._wait

    def short(pid: int, timeout: float) -> int | None:
        assert timeout == unsim.cli.figures.FIGURES_ALONGSIDE_TIMEOUT
        _started(pid_file)
        return wait(pid, 0.2)

    monkeypatch.setattr(unsim.cli.figures, "_wait", short)
    _drawn_by_the_command_after_the_copy(tmp_path / "r", capsys)
    copy = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(copy, 0)  # stopped and waited for
