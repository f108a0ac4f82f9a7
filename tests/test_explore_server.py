"""Only its user can drive the explorer: the guard in front of the page (Host, Origin, the
launch's token and its cookie), checked on its own and on a real server started by
``unsim explore`` in a subprocess, over HTTP and WebSocket; the command's flags (loopback unless
``--allow-remote``, the port's range)."""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unsim.explore.guard import Access, Guard, check, is_loopback

from .conftest import ROOT, stop_server

SCENARIO = ROOT / "scenarios" / "icc_referral.yaml"
TOKEN = "s3cret-token_0123456789abcdefghij"


def _scope(
    kind: str = "http",
    host: str | None = "127.0.0.1:8765",
    origin: str | None = None,
    query: str = "",
    cookie: str | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    headers = [(b"host", host.encode())] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    scope: dict[str, Any] = {
        "type": kind,
        "path": "/",
        "query_string": query.encode(),
        "headers": headers,
    }
    if kind == "http":
        scope["method"] = method
    return scope


ACCESS = Access.for_bind(TOKEN, "127.0.0.1", 8765)
COOKIE = f"unsim-explore-8765={TOKEN}"
OWN = "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        (_scope(query=f"token={TOKEN}"), True),
        (_scope(host="localhost:8765", origin="http://localhost:8765", cookie=COOKIE), True),
        (_scope(cookie=f"other=1; {COOKIE}"), True),
        (_scope("websocket", origin=OWN, cookie=COOKIE), True),
        (_scope(method="POST", origin=OWN, cookie=COOKIE), True),
        (_scope(), False),  # no token
        (_scope(query="token=wrong"), False),
        (_scope(query=f"token={TOKEN}&token=x"), False),
        (_scope(query="token=wrong", cookie=COOKIE), False),  # a wrong token is never let by
        (_scope(cookie="unsim-explore-8765=wrong"), False),
        (_scope(cookie=f"unsim-explore-9999={TOKEN}"), False),  # another port's cookie name
        (_scope(host="evil.example:8765", query=f"token={TOKEN}"), False),  # DNS rebinding
        (_scope(host="127.0.0.1:8766", cookie=COOKIE), False),
        (_scope(host=None, cookie=COOKIE), False),
        (_scope(origin="http://evil.example", cookie=COOKIE), False),
        (_scope(origin="null", query=f"token={TOKEN}"), False),
        (_scope("websocket", origin="http://evil.example", cookie=COOKIE), False),
        (_scope("websocket", cookie=COOKIE), False),  # a browser's WebSocket says its origin
        (_scope(method="POST", cookie=COOKIE), False),
        (_scope("websocket", origin=OWN), False),
    ],
)
def test_the_guard_lets_by_only_its_own_origin_with_the_token(
    scope: dict[str, Any], allowed: bool
) -> None:
    assert check(ACCESS, scope).allowed is allowed


def _call(guard: Guard, scope: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    sent: list[dict[str, Any]] = []
    reached = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"the page"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    guard.app = app
    asyncio.run(guard(scope, receive, send))
    return sent, bool(reached)


def test_the_token_sets_a_strict_cookie_and_a_refusal_reaches_nothing() -> None:
    guard = Guard(lambda *a: None, ACCESS)  # type: ignore[arg-type, return-value]
    sent, reached = _call(guard, _scope(query=f"token={TOKEN}"))
    assert reached and sent[0]["status"] == 200
    cookies = [v.decode() for k, v in sent[0]["headers"] if k == b"set-cookie"]
    assert cookies == [f"unsim-explore-8765={TOKEN}; Path=/; HttpOnly; SameSite=Strict"]
    sent, reached = _call(guard, _scope(cookie=COOKIE))
    assert reached and not [k for k, _ in sent[0]["headers"] if k == b"set-cookie"]
    sent, reached = _call(guard, _scope(query="token=nope"))
    assert not reached
    assert sent[0]["status"] == 403 and b"the page" not in sent[1]["body"]
    sent, reached = _call(guard, _scope("websocket", origin="http://evil.example", cookie=COOKIE))
    assert not reached and sent == [{"type": "websocket.close", "code": 1008}]


def test_the_names_a_server_answers_to() -> None:
    local = Access.for_bind(TOKEN, "::1", 9000)
    assert local.hosts >= {"127.0.0.1:9000", "localhost:9000", "[::1]:9000"}
    assert local.url("::1") == f"http://[::1]:9000/?token={TOKEN}"
    assert not any("0.0.0.0" in h for h in local.hosts)
    assert [is_loopback(h) for h in ("127.0.0.2", "::1", "[::1]", "LOCALHOST")] == [True] * 4
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.org"))
    wide = Access.for_bind(TOKEN, "0.0.0.0", 9000)
    assert f"{socket.gethostname().lower()}:9000" in wide.hosts  # how others reach it


# --------------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------------
def _unsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unsim", "explore", str(SCENARIO), *args, "--no-open"],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port", "70000"), "argument --port: must be at most 65,535"),
        (("--port", "0"), "argument --port: must be at least 1"),
        (("--port", "http"), "argument --port: expected a whole number"),
        (("--host", "0.0.0.0"), "--allow-remote"),
        (("--host", "192.0.2.7"), "--allow-remote"),
        (("--save-dir", "/nonexistent/unsim"), "--save-dir"),
    ],
)
def test_bad_flags_are_clean_errors(args: tuple[str, ...], message: str) -> None:
    done = _unsim(*args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and "token=" not in done.stderr


def test_a_remote_bind_warns_and_a_taken_port_is_a_clean_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _unsim("--host", "0.0.0.0", "--allow-remote", "--port", str(port))
    assert done.returncode == 2, done.stderr
    assert "warning: serving on 0.0.0.0" in done.stderr
    assert "knows the token" in done.stderr
    assert f"port {port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr


# --------------------------------------------------------------------------------------------
# a real server
# --------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """``unsim explore`` on a free port: (port, token), once it answers."""
    pytest.importorskip("solara", reason="the explorer needs the explore extra (Solara)")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("explore") / "server.log"
    log = open(log_path, "w")  # noqa: SIM115
    command = ["explore", str(SCENARIO), "--port", str(port), "--runs", "64", "--no-open"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "unsim", *command],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        start_new_session=True,
    )
    try:
        token = _wait_for(proc, log_path, port)
        yield port, token
    finally:
        stop_server(proc, log)


def _wait_for(proc: subprocess.Popen[bytes], log_path: Path, port: int) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(rf"http://127\.0\.0\.1:{port}/\?token=([\w-]+)", log_path.read_text())
        if found:
            try:
                _get(port, "/readyz")  # any answer: the server listens
                return found[1]
            except OSError:
                pass
        time.sleep(0.5)
    raise AssertionError(f"the explorer did not start:\n{log_path.read_text()}")


def _get(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_the_printed_address_answers_at_once() -> None:
    """The address is printed only once the server accepts connections on it: fetched the
    moment it appears, it gives the page (no connection refused)."""
    pytest.importorskip("solara", reason="the explorer needs the explore extra (Solara)")
    port = _free_port()
    command = ["explore", str(SCENARIO), "--port", str(port), "--runs", "64", "--no-open"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "unsim", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        start_new_session=True,
    )
    assert proc.stderr is not None
    try:
        seen = []
        for raw in proc.stderr:  # the first address it prints
            seen.append(raw.decode(errors="replace"))
            found = re.search(rf"http://127\.0\.0\.1:{port}/\?token=([\w-]+)", seen[-1])
            if found:
                break
        assert found, "".join(seen)
        status, _, body = _get(port, f"/?token={found[1]}")  # at once: no retry
        assert status == 200 and b"<html" in body.lower()
    finally:
        stop_server(proc, proc.stderr)


def test_http_requests_without_the_token_or_from_elsewhere_get_403(
    server: tuple[int, str],
) -> None:
    port, token = server
    own = f"http://127.0.0.1:{port}"
    cookie = f"unsim-explore-{port}={token}"
    refused = [
        ("/", {}),
        ("/?token=wrong", {}),
        ("/readyz", {}),
        ("/resourcez", {}),
        ("/static/main.js", {}),
        (f"/?token={token}", {"Host": f"rebound.example:{port}"}),
        (f"/?token={token}", {"Origin": "http://evil.example"}),
        ("/", {"Cookie": cookie, "Origin": "http://evil.example"}),
        ("/", {"Cookie": f"unsim-explore-{port}=wrong"}),
    ]
    for path, headers in refused:
        status, _, body = _get(port, path, headers)
        assert status == 403, (path, headers)
        assert body.startswith(b"403 forbidden") and b"<" not in body, body
        assert token.encode() not in body
    status, _, _ = _get(port, "/_solara/api/close/x", {"Cookie": cookie}, method="POST")
    assert status == 403  # a POST with no Origin
    # the right token: the page, and the cookie that lets its own requests by
    status, headers, body = _get(port, f"/?token={token}", {"Origin": own})
    assert status == 200 and b"<html" in body.lower()
    assert headers["set-cookie"] == f"{cookie}; Path=/; HttpOnly; SameSite=Strict"
    status, _, body = _get(port, "/", {"Cookie": cookie, "Host": f"localhost:{port}"})
    assert status == 200 and b"<html" in body.lower()


def _raw_handshake(port: int, headers: dict[str, str]) -> bytes:
    """A WebSocket opening handshake by hand (to send any Host); every byte the server sends
    until it closes the connection or a second passes."""
    lines = [
        f"GET /jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()} HTTP/1.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        s.settimeout(1.0)
        received = b""
        try:
            while chunk := s.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def test_websockets_without_the_token_or_from_elsewhere_get_403_and_nothing(
    server: tuple[int, str],
) -> None:
    ws_client = pytest.importorskip("websockets.sync.client")
    from websockets.exceptions import InvalidStatus

    port, token = server
    own = f"http://127.0.0.1:{port}"
    cookie = f"unsim-explore-{port}={token}"

    def url(query: str = "") -> str:
        return (
            f"ws://127.0.0.1:{port}/jupyter/api/kernels/{uuid.uuid4()}/channels"
            f"?session_id={uuid.uuid4()}{query}"
        )

    refused: list[tuple[str, str | None, dict[str, str]]] = [
        (url(), own, {}),  # no token
        (url("&token=wrong"), own, {}),
        (url(), own, {"Cookie": f"unsim-explore-{port}=wrong"}),
        (url(), "http://evil.example", {"Cookie": cookie}),  # forged Origin
        (url(f"&token={token}"), "http://evil.example", {}),
    ]
    for address, origin, headers in refused:
        with (
            pytest.raises(InvalidStatus) as err,
            ws_client.connect(
                address, origin=origin, additional_headers=headers, proxy=None, open_timeout=30
            ),
        ):
            pass
        assert err.value.response.status_code == 403
        assert not err.value.response.body
    # a wrong Host (DNS rebinding): the whole answer is the refusal's head, then the close
    got = _raw_handshake(port, {"Host": f"rebound.example:{port}", "Origin": own, "Cookie": cookie})
    head, _, rest = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403") and rest == b""
    got = _raw_handshake(port, {"Host": f"127.0.0.1:{port}", "Origin": own, "Cookie": cookie})
    assert got.startswith(b"HTTP/1.1 101")  # the same handshake with the right Host
    with ws_client.connect(
        url(), origin=own, additional_headers={"Cookie": cookie}, proxy=None, open_timeout=30
    ) as ws:
        assert ws.response.status_code == 101


RECORDER = """
import os, stat, sys
from urllib.parse import urlparse
path = urlparse(sys.argv[1]).path
mode = stat.S_IMODE(os.stat(path).st_mode)
folder = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
with open(sys.argv[2], "w") as out:
    out.write(f"{sys.argv[1]}\\n{mode:o} {folder:o}\\n{open(path).read()}")
"""


def test_the_browser_is_opened_on_a_private_file_not_on_the_token(tmp_path: Path) -> None:
    """The token is not on the browser's command line (other users of the machine can read
    command lines): the browser opens a file only the user can read, which sends it on."""
    pytest.importorskip("solara", reason="the explorer needs the explore extra (Solara)")
    (tmp_path / "recorder.py").write_text(RECORDER)
    seen = tmp_path / "seen.txt"
    port = _free_port()
    log_path = tmp_path / "server.log"
    browser = f"{sys.executable} {tmp_path / 'recorder.py'} %s {seen}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "unsim", "explore", str(SCENARIO), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, BROWSER=browser, PYTHONUNBUFFERED="1"),
            start_new_session=True,
        )
        try:
            token = _wait_for(proc, log_path, port)
            deadline = time.monotonic() + 60
            while not seen.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            uri, modes, page = seen.read_text().split("\n", 2)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    assert uri.startswith("file:///") and token not in uri
    assert modes == "600 700"
    assert f'content="0;url=http://127.0.0.1:{port}/?token={token}"' in page
    assert not Path(uri[len("file://") :]).exists()  # removed when the server stopped
