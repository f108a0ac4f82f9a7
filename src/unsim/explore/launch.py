"""Start the explorer's server process and announce its address only once it answers there.

``unsim explore`` runs the server (:mod:`unsim.explore.server`) in a child process. Importing
Solara and starting it takes seconds; an address printed before the server listens would be
refused to whoever opens it at once. So the child tells the launcher when it accepts
connections: it writes :data:`READY` to a pipe whose end it is given in the environment
(``UNSIM_EXPLORE_READY_FD``, see :data:`READY_FD`). Until then the launcher keeps what the child
writes on stderr; once it is ready, the launcher prints the address, then passes on the child's
lines. If the child exits first, or is not ready within the wait, the launcher stops it and
reports its exit code and its last lines (a traceback's frames left out). POSIX only (a pipe
passed by its descriptor).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import IO

from unsim.errors import ExitCode, UnsimError

#: The environment variable that names the descriptor the server writes :data:`READY` to.
READY_FD = "UNSIM_EXPLORE_READY_FD"
#: What the server writes once it accepts connections.
READY = b"ready\n"
#: How long the launcher waits for the server to accept connections, in seconds.
START_TIMEOUT = 120.0
#: How many of the child's last lines (a traceback's frames left out) an error shows.
SHOWN_LINES = 6


class Relay:
    """The child's stderr, read line by line in a thread: held (and the last lines kept) until
    :meth:`pass_on`, then written to our stderr as it comes."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._held: deque[str] = deque(maxlen=200)
        self._recent: deque[str] = deque(maxlen=200)
        self._passing = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            with self._lock:
                self._recent.append(line.rstrip("\n"))
                if self._passing:
                    sys.stderr.write(line)
                    sys.stderr.flush()
                else:
                    self._held.append(line)

    def pass_on(self, first: str) -> None:
        """Write ``first``, then the lines held so far, then every line as it comes."""
        with self._lock:
            sys.stderr.write(first if first.endswith("\n") else first + "\n")
            sys.stderr.writelines(self._held)
            sys.stderr.flush()
            self._held.clear()
            self._passing = True

    def last_lines(self, n: int = SHOWN_LINES) -> list[str]:
        """The child's last ``n`` lines that are not blank nor a traceback's frames (once the
        child has ended, all it wrote)."""
        self._thread.join(timeout=5)
        with self._lock:
            return without_traceback(self._recent)[-n:]

    def finish(self) -> None:
        """Wait (a little) for the child's last lines to be passed on."""
        self._thread.join(timeout=5)


def without_traceback(lines: Iterable[str]) -> list[str]:
    """``lines`` without blank ones and without a Python traceback's header and frames (its
    last line, the exception, is kept)."""
    out: list[str] = []
    frames = False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            frames = True
            continue
        frame = frames and (line[:1].isspace() or not line.strip())
        chained = line.startswith(("During handling of the above", "The above exception was"))
        if not (frame or chained or not line.strip()):
            frames = False
            out.append(line)
    return out


def _wait_ready(proc: subprocess.Popen[str], fd: int, timeout: float) -> bool | None:
    """True once the child writes :data:`READY` on ``fd``; False as soon as it exits or closes
    the pipe; None if neither happens within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([fd], [], [], min(left, 0.5))
        if readable:
            return os.read(fd, len(READY)) == READY
        if proc.poll() is not None:
            return False
    return None


def _exit_status(code: int) -> str:
    if code < 0:
        try:
            return f"was stopped by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was stopped by signal {-code}"
    return f"exited with code {code}"


def _not_ready(proc: subprocess.Popen[str], relay: Relay, timeout: float | None) -> UnsimError:
    """The error that says why the child never answered: it ended (``timeout`` None) or was
    not ready within ``timeout`` seconds; the child is stopped first if it still runs."""
    if timeout is None:
        try:
            proc.wait(timeout=10)  # it closed the pipe on its way out
        except subprocess.TimeoutExpired:
            stop(proc, signal.SIGTERM)
        what = f"{_exit_status(proc.returncode)} before it accepted connections"
    else:
        stop(proc, signal.SIGTERM)
        what = f"did not accept connections within {timeout:g} s and was stopped"
    lines = relay.last_lines()
    tail = "; its last lines:\n" + "\n".join(f"  {line}" for line in lines) if lines else ""
    return UnsimError(f"unsim explore: the server {what}{tail}")


def serve(
    command: Sequence[str], env: dict[str, str], address: str, timeout: float = START_TIMEOUT
) -> int:
    """Run the server ``command`` until it stops; print ``address`` once it accepts connections
    (an error if it exits first or is not ready within ``timeout`` seconds). On Ctrl+C (which
    the server gets too) let it shut down; stop it (SIGTERM) on anything else."""
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            list(command),
            env={**env, READY_FD: str(write_fd)},
            pass_fds=(write_fd,),
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)  # the child holds the only other copy: its exit closes the pipe
    assert proc.stderr is not None
    relay = Relay(proc.stderr)
    try:
        ready = _wait_ready(proc, read_fd, timeout)
        if not ready:
            raise _not_ready(proc, relay, timeout if ready is None else None)
        relay.pass_on(address)
        code = proc.wait()
    except KeyboardInterrupt:
        stop(proc, signal.SIGINT)
        return ExitCode.OK
    except BaseException:
        stop(proc, signal.SIGTERM)
        raise
    finally:
        os.close(read_fd)
    relay.finish()
    return 128 - code if code < 0 else code  # stopped by a signal: 128 + its number, as a shell


def stop(proc: subprocess.Popen[str], sig: int) -> None:
    """Stop the child: send it ``sig`` (not SIGINT, which Ctrl+C sent it already), wait, and
    kill it if it is still there after 10 s."""
    if proc.poll() is None and sig != signal.SIGINT:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=10)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        proc.kill()
        proc.wait()
