"""The explorer's server process: Solara's Starlette app behind :class:`~unsim.explore.guard.Guard`,
served by uvicorn. ``unsim explore`` starts it as ``python -m unsim.explore.server`` after checking
its flags, and passes it the launch's settings in the environment (the token there, not on the
command line, where other users of the machine could read it):

``UNSIM_EXPLORE_TOKEN`` (removed from the environment once read), ``UNSIM_EXPLORE_HOST``,
``UNSIM_EXPLORE_PORT``, ``UNSIM_EXPLORE_OPEN`` ("1": open a browser at the tokened address, once
the server accepts connections), ``UNSIM_EXPLORE_READY_FD`` (the pipe to tell the launcher that
it does: :mod:`unsim.explore.launch`), and the page's own ``UNSIM_EXPLORE_SCENARIO``, ``_RUNS``,
``_SEED``, ``_SAVE_DIR`` (see :mod:`unsim.explore.app`).
"""

from __future__ import annotations

import html
import os
import signal
import sys
import tempfile
import threading
import time
import webbrowser
from pathlib import Path
from types import FrameType
from typing import Any

from unsim.explore.guard import Access, Guard, is_wildcard, machine_names
from unsim.explore.launch import READY, READY_FD, START_TIMEOUT

#: The Solara page the server shows.
APP = "unsim.explore.app"


def display_host(host: str) -> str:
    """The name to put in the address to open: the bound host, or this machine's name for a
    wildcard bind."""
    if is_wildcard(host):
        names = sorted(n for n in machine_names() if ":" not in n and n[:1].isalpha())
        return names[0] if names else "127.0.0.1"
    return host


def solara_app() -> Any:
    """Solara's Starlette app for :data:`APP`, in production mode, with no call home (the
    explorer runs on closed networks too)."""
    os.environ["SOLARA_APP"] = APP
    from solara.server import settings

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    from solara.server.starlette import app

    return app


def open_redirect(url: str, folder: Path) -> Path:
    """A private file (0600, in a private folder) that sends the browser on to ``url``: the
    browser is opened on this file, so the token is not on a command line that other users of
    the machine can read."""
    path = folder / "open.html"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    target = html.escape(url, quote=True)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(
            f'<!doctype html><meta http-equiv="refresh" content="0;url={target}">'
            f'<p><a href="{target}">unsim explore</a></p>\n'
        )
    return path


def _when_started(server: Any, ready_fd: int | None, url: str | None, folder: Path) -> None:
    """Once the server accepts connections: say so to the launcher (:data:`READY` on the pipe
    ``ready_fd``), then open the browser at ``url`` (if one is given)."""
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if time.monotonic() > deadline or getattr(server, "should_exit", False):
                return
            time.sleep(0.05)
        if ready_fd is not None:
            os.write(ready_fd, READY)
    except OSError:  # the launcher is gone: nobody to tell, no browser to open
        return
    finally:
        if ready_fd is not None:
            os.close(ready_fd)
    if url is not None:
        webbrowser.open(open_redirect(url, folder).as_uri())


def serve(access: Access, host: str, open_browser: bool, ready_fd: int | None = None) -> int:
    """Serve the guarded app on ``host``:``access.port`` until stopped (SIGINT, SIGTERM); write
    :data:`READY` to ``ready_fd`` once it accepts connections."""
    import uvicorn

    config = uvicorn.Config(
        Guard(solara_app(), access),
        host=host,
        port=access.port,
        proxy_headers=False,  # no proxy in front: X-Forwarded-* are not to be believed
        server_header=False,
        access_log=False,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    with tempfile.TemporaryDirectory(prefix="unsim-explore-") as folder:
        url = access.url(display_host(host)) if open_browser else None
        threading.Thread(
            target=_when_started, args=(server, ready_fd, url, Path(folder)), daemon=True
        ).start()
        server.run()
    return 0 if server.started else 1


def _ready_fd(text: str) -> int | None:
    try:
        fd = int(text)
        os.fstat(fd)
    except (ValueError, OSError):
        return None
    return fd


def main() -> int:
    """Serve the explorer as `unsim explore` starts it (token, host and port in the environment);
    returns the exit code."""
    env = os.environ
    token = env.pop("UNSIM_EXPLORE_TOKEN", "")
    if not token:
        print("unsim.explore.server: start it with `unsim explore`", file=sys.stderr)
        return 2
    host = env.get("UNSIM_EXPLORE_HOST", "127.0.0.1")
    access = Access.for_bind(token, host, int(env.get("UNSIM_EXPLORE_PORT", "8765")))
    # uvicorn shuts down on SIGINT and SIGTERM, then raises the signal again: end quietly, and
    # through Python's exits (the browser's redirect file is removed on the way)
    signal.signal(signal.SIGTERM, _exit)
    try:
        ready_fd = _ready_fd(env.pop(READY_FD, ""))
        return serve(access, host, env.get("UNSIM_EXPLORE_OPEN") == "1", ready_fd)
    except KeyboardInterrupt:
        return 128 + signal.SIGINT


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    raise SystemExit(main())
