"""Start-up of local worker processes: they end when their parent process ends.

Kept free of heavy imports (the package's ``__init__`` is lazy), so that a worker arms this
before it imports numpy, numba and the model: a parent killed while its workers start up
leaves no worker behind either.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

#: prctl(2) option: the signal a process gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def worker_init(parent: int, die_with_parent: bool) -> None:
    """Set up a local worker: it ignores Ctrl-C (the parent stops the pool), and it ends when
    the parent process ends, even by SIGKILL (as the out-of-memory killer sends): on Linux the
    kernel kills it (``PR_SET_PDEATHSIG``, used only for a pool started by the main thread,
    since the signal follows the thread that started the worker), and everywhere a watchdog
    thread ends it within a second of the parent's exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if die_with_parent and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog below remains
            pass
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent,), name="unsim-parent-watch", daemon=True
    ).start()


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)
