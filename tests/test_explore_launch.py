"""``unsim explore`` prints the address only once its server accepts connections: the launcher
waits for the server's word (a pipe), passes on its output after the address, and reports a
server that exits first, or never answers, with its exit code and last lines (no traceback).
The real server's address answering at once: test_explore_server.py."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from unsim.errors import UnsimError
from unsim.explore.launch import READY_FD, serve, without_traceback

from .conftest import ROOT

CRASH = """
import sys
print("loading the page", file=sys.stderr)
def bind():
    raise OSError("[Errno 98] Address already in use")
bind()
"""

READY_THEN_EXIT = f"""
import os, sys
print("starting", file=sys.stderr, flush=True)
fd = int(os.environ["{READY_FD}"])
os.write(fd, b"ready\\n")
os.close(fd)
print("served a page", file=sys.stderr, flush=True)
sys.exit(5)
"""


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_the_address_comes_once_the_server_says_it_is_ready(capsys) -> None:  # type: ignore[no-untyped-def]
    code = serve(_python(READY_THEN_EXIT), dict(os.environ), "unsim explore: http://here/")
    err = capsys.readouterr().err
    assert code == 5  # the server's own exit code
    assert "starting" in err
    assert err.index("unsim explore: http://here/") < err.index("served a page")


@pytest.mark.parametrize(
    ("program", "said"),
    [
        (CRASH, "exited with code 1 before it accepted connections"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "stopped by signal SIGKILL"),
        ("import os, sys; os.close(int(os.environ[sys.argv[1]]))", "exited with code 0"),
    ],
)
def test_a_server_that_ends_before_it_answers_is_a_clean_error(capsys, program, said) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsimError) as err:
        serve([*_python(program), READY_FD], dict(os.environ), "unsim explore: http://here/")
    message = str(err.value)
    assert said in message
    assert "http://here/" not in capsys.readouterr().err  # no address printed
    assert "Traceback" not in message and 'File "' not in message
    if program == CRASH:
        assert message.endswith(
            "its last lines:\n  loading the page\n  OSError: [Errno 98] Address already in use"
        )


def test_a_server_that_never_answers_is_stopped_after_the_wait(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    program = (
        "import os, sys, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "print('still importing', file=sys.stderr, flush=True)\n"
        "time.sleep(600)\n"
    )
    with pytest.raises(UnsimError) as err:
        serve(_python(program), dict(os.environ), "unsim explore: http://here/", timeout=2)
    message = str(err.value)
    assert "did not accept connections within 2 s and was stopped" in message
    assert message.endswith("its last lines:\n  still importing")
    with pytest.raises(ProcessLookupError):  # stopped and reaped
        os.kill(int(pid_file.read_text()), 0)


def test_the_command_reports_a_server_that_fails(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """Through ``unsim explore``: the error, the server's exit code, no traceback, no token."""
    pytest.importorskip("solara", reason="the explorer needs the explore extra (Solara)")
    from unsim.cli.dispatch import main

    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        "echo 'Traceback (most recent call last):' >&2\n"
        "echo '  File \"server.py\", line 1, in <module>' >&2\n"
        "echo 'RuntimeError: no event loop' >&2\n"
        "exit 3\n"
    )
    fake.chmod(0o700)
    monkeypatch.setattr(sys, "executable", str(fake))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scenario = ROOT / "scenarios" / "icc_referral.yaml"
    assert main(["explore", str(scenario), "--port", str(port), "--no-open"]) == 1
    err = capsys.readouterr().err
    assert "the server exited with code 3 before it accepted connections" in err
    assert "  RuntimeError: no event loop" in err
    assert "Traceback" not in err and "token=" not in err


def test_a_traceback_leaves_only_its_exception() -> None:
    lines = [
        "warming up",
        "Traceback (most recent call last):",
        '  File "a.py", line 1, in <module>',
        "    f()",
        "KeyError: 'x'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "a.py", line 3, in <module>',
        "OSError: port taken",
        "done",
    ]
    kept = ["warming up", "KeyError: 'x'", "OSError: port taken", "done"]
    assert without_traceback(lines) == kept
