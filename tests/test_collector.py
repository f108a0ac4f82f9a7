"""The program's cyclic garbage collector paused for its start-up (unsim.cli.collector): on again,
with the start-up's objects frozen, before the run command loads its kernels and runs; on again
whatever way a command ends; a caller of main is not affected."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

from unsim.cli import main

from .conftest import DEFAULT_SCENARIO, ROOT

_PROGRAM = """
import gc, sys
gc.disable()  # as python -m unsim does
import importlib
module, name = sys.argv[1].split(":")  # what is watched: the collector when it is called
module = importlib.import_module(module)
seen = []
watched = getattr(module, name)
def spy(*args, **kwargs):
    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
    return watched(*args, **kwargs)
setattr(module, name, spy)
from unsim.cli import program
sys.argv = ["unsim", *sys.argv[2:]]
code = program(collector_paused=True)
print(seen, gc.isenabled(), code)
"""


KERNELS = "unsim.cli.run:ready_kernels"


def _program(watched: str, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PROGRAM), watched, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return proc.stdout.splitlines()


def test_the_run_command_resumes_the_collector_when_its_start_up_is_over(tmp_path: Path) -> None:
    flags = ["--runs", "200", "--no-plots", "--no-attribution", "--no-explain", "--quiet"]
    out = _program(KERNELS, str(DEFAULT_SCENARIO), "--out", str(tmp_path / "r"), *flags)
    # on, the start-up's objects frozen, when the kernels are loaded; on at the end
    assert out[-1] == "[(True, True)] True 0", out


def test_a_command_that_fails_in_its_start_up_leaves_the_collector_on(tmp_path: Path) -> None:
    out = _program(KERNELS, str(tmp_path / "no_such.yaml"), "--out", str(tmp_path / "r"))
    seen, enabled, code = out[-1].rsplit(" ", 2)
    assert (seen, enabled) == ("[]", "True") and code != "0", out


def test_other_commands_run_with_the_collector_on() -> None:
    out = _program("unsim.cli.commands:cmd_validate", "validate", str(DEFAULT_SCENARIO))
    assert out[-1] == "[(True, True)] True 0", out  # on (what came before frozen) when it starts


def test_a_caller_of_main_is_not_affected(tmp_path: Path) -> None:
    flags = ["--runs", "100", "--no-plots", "--no-attribution", "--no-explain", "--quiet"]
    frozen = gc.get_freeze_count()
    assert main([str(DEFAULT_SCENARIO), "--out", str(tmp_path / "r"), *flags]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
