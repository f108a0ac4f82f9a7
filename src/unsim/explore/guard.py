"""Who may drive the explorer: an ASGI middleware in front of the Solara app.

The explorer's server is a local web server, and any web page the user visits can send requests
to a local port. So every HTTP and WebSocket request must

- name the explorer's own address in ``Host`` (a page served from another name that was made to
  resolve to 127.0.0.1, "DNS rebinding", sends its own name there);
- come from the explorer's own origin when it says where it comes from (``Origin``), and say so
  when a browser always does (a WebSocket, a POST);
- carry the launch's secret: ``?token=...`` in the address ``unsim explore`` prints, or the
  cookie the first such request sets (HttpOnly, SameSite=Strict, so that the page's own
  follow-up requests, its assets and its WebSocket, pass and no other site's do).

Anything else gets 403 and a line of text: no page, no kernel, no widget state. This module does
not import Solara (it wraps any ASGI app).
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The query parameter that carries the token.
TOKEN_PARAMETER = "token"
#: Methods a browser may send with no ``Origin`` (a top-level navigation, a plain asset load).
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: The names of this machine by which a loopback server may be addressed.
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def bare_host(host: str) -> str:
    """``host`` without the brackets of an IPv6 address, in lower case."""
    return host.strip().strip("[]").lower()


def is_loopback(host: str) -> bool:
    """True for an address of this machine only: 127.0.0.0/8, ::1 and ``localhost``."""
    name = bare_host(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """True for 0.0.0.0 and ::, which listen on every address of the machine."""
    try:
        return ipaddress.ip_address(bare_host(host)).is_unspecified
    except ValueError:
        return False


def host_value(name: str, port: int) -> str:
    """``name:port`` as a ``Host`` header carries it (an IPv6 address in brackets)."""
    name = bare_host(name)
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"


def machine_names() -> set[str]:
    """This machine's host names and their addresses: how others reach a wildcard bind."""
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except OSError:
            continue
        names.update(str(info[4][0]) for info in infos)
    return {bare_host(n) for n in names if n}


@dataclass(frozen=True)
class Access:
    """The launch's token, port and the names by which the server may be addressed."""

    token: str
    port: int
    names: frozenset[str]

    @classmethod
    def for_bind(cls, token: str, host: str, port: int) -> Access:
        """The names for a server bound to ``host``: 127.0.0.1, localhost and ``host`` itself;
        for a wildcard bind, also this machine's names and addresses."""
        names = {bare_host(n) for n in (*LOOPBACK_NAMES, host)}
        if is_wildcard(host):
            names |= machine_names()
        return cls(token=token, port=port, names=frozenset(names))

    @property
    def cookie_name(self) -> str:
        """The name of this explorer's cookie (one per port)."""
        # cookies are not kept apart by port: two explorers on one machine need two names
        return f"unsim-explore-{self.port}"

    @property
    def hosts(self) -> frozenset[str]:
        """The Host values the server answers to: each name with the port (on 80, also without)."""
        values = {host_value(n, self.port) for n in self.names}
        if self.port == 80:
            values |= {host_value(n, self.port)[: -len(":80")] for n in self.names}
        return frozenset(values)

    @property
    def origins(self) -> frozenset[str]:
        """The Origin header values allowed: ``http://`` followed by one of :attr:`hosts`."""
        return frozenset(f"http://{h}" for h in self.hosts)

    def url(self, host: str, path: str = "/") -> str:
        """The address to open: ``http://HOST:PORT/?token=...``."""
        query = urlencode({TOKEN_PARAMETER: self.token})
        return f"http://{host_value(host, self.port)}{path}?{query}"

    def set_cookie(self) -> bytes:
        """The Set-Cookie header that keeps the token (HTTP only, same site)."""
        return f"{self.cookie_name}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()

    def token_matches(self, given: str) -> bool:
        """Whether ``given`` is the launch's token (compared in constant time)."""
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode("utf-8"))


@dataclass(frozen=True)
class Verdict:
    """Whether a request may reach the app, why not, and whether to set the token's cookie."""

    allowed: bool
    reason: str = ""
    set_cookie: bool = False


def _headers(scope: Scope) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in scope.get("headers") or []:
        out.setdefault(bytes(key).decode("latin-1").lower(), []).append(
            bytes(value).decode("latin-1")
        )
    return out


def _cookies(values: Iterable[str]) -> list[tuple[str, str]]:
    pairs = []
    for header in values:
        for part in header.split(";"):
            name, eq, value = part.strip().partition("=")
            if eq:
                pairs.append((name.strip(), value.strip().strip('"')))
    return pairs


def check(access: Access, scope: Scope) -> Verdict:
    """Whether a request (an ASGI ``http`` or ``websocket`` scope) may reach the app."""
    headers = _headers(scope)
    hosts = headers.get("host", [])
    if len(hosts) != 1 or hosts[0].strip().lower() not in access.hosts:
        return Verdict(False, "this server answers only to its own address (Host)")
    origins = headers.get("origin", [])
    method = str(scope.get("method", "GET")).upper()
    if len(origins) > 1 or (origins and origins[0].strip().lower() not in access.origins):
        return Verdict(False, "requests from another site are refused (Origin)")
    if not origins and (scope["type"] == "websocket" or method not in SAFE_METHODS):
        return Verdict(False, "a request that must say its origin did not (Origin)")
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    given = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == TOKEN_PARAMETER]
    if given:
        if len(given) == 1 and access.token_matches(given[0]):
            return Verdict(True, set_cookie=scope["type"] == "http")
        return Verdict(False, "wrong token")
    cookies = [v for k, v in _cookies(headers.get("cookie", [])) if k == access.cookie_name]
    if any(access.token_matches(v) for v in cookies):
        return Verdict(True)
    return Verdict(False, "no token")


_HINT = "open the address that `unsim explore` printed (it carries this launch's token)"


class Guard:
    """ASGI middleware: lets through only the requests :func:`check` allows; sets the token's
    cookie on the response to a request that carried the token."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan: the server's own events
            await self.app(scope, receive, send)
            return
        verdict = check(self.access, scope)
        if not verdict.allowed:
            await refuse(scope, send, verdict.reason)
            return
        if verdict.set_cookie:
            send = self._with_cookie(send)
        await self.app(scope, receive, send)

    def _with_cookie(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            """Send ``message``; a response's headers get the token cookie and a referrer policy."""
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((b"set-cookie", self.access.set_cookie()))
                # the address with the token is not sent on to other sites
                headers.append((b"referrer-policy", b"same-origin"))
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


async def refuse(scope: Scope, send: Send, reason: str) -> None:
    """403: a line of text over HTTP; a WebSocket is closed before it is accepted (the server
    answers its handshake with 403 and nothing else)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = f"403 forbidden: {reason}; {_HINT}.\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
