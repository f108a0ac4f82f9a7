"""``unsim explore [SCENARIO]``: start the what-if explorer on a local port.

The server (:mod:`unsim.explore.server`) runs in a child process; this command checks the flags
first, makes the launch's token and, once the server accepts connections
(:mod:`unsim.explore.launch`), prints the address that carries it. Only loopback is served
unless ``--allow-remote`` says otherwise.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import secrets
import socket
import sys
from pathlib import Path

from unsim.cli.args import integer_between, positive, whole_number
from unsim.errors import ExitCode, InputError
from unsim.explore import DEFAULT_RUNS, DEFAULT_SCENARIO
from unsim.explore.guard import Access, is_loopback

#: The port the explorer serves on by default.
DEFAULT_PORT = 8765


def port(text: str) -> int:
    """A TCP port: 1 to 65535."""
    return integer_between(text, 1, 65535)


def host(text: str) -> str:
    """An address or host name to serve on (an IPv6 address with or without brackets)."""
    name = text.strip().strip("[]")
    if not name or len(name) > 253 or any(c.isspace() or c in "/?#@" for c in name):
        raise argparse.ArgumentTypeError(f"expected an address or a host name, got {text[:40]!r}")
    return name


def add_explore_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `explore` command."""
    p = sub.add_parser(
        "explore",
        help="open a what-if explorer of a scenario in the browser",
        description="Start a local web app (Solara) with the scenario's levers: each change "
        "re-runs the scenario on the same seed and shows every outcome, the tallies and each "
        "state's vote against the scenario as written. Only the address it prints (with this "
        "launch's token) opens it.",
    )
    p.add_argument(
        "scenario",
        type=Path,
        nargs="?",
        default=Path(DEFAULT_SCENARIO),
        help="scenario YAML, or a session file (a selector chooses its draft)",
    )
    p.add_argument(
        "--runs", type=positive, default=DEFAULT_RUNS, help=f"runs per change ({DEFAULT_RUNS})"
    )
    p.add_argument("--seed", type=whole_number, help="master seed (default: the scenario's)")
    p.add_argument(
        "--host",
        type=host,
        default="127.0.0.1",
        help="address to serve on (127.0.0.1); one beyond this machine needs --allow-remote",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that other machines can reach (anyone who can reach the port and "
        "knows the token can drive the explorer)",
    )
    p.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help=f"port to serve on (1-65535; {DEFAULT_PORT})",
    )
    p.add_argument(
        "--save-dir",
        type=Path,
        metavar="DIR",
        help="folder that 'Save as' writes in (default: the scenario's folder)",
    )
    p.add_argument("--no-open", action="store_true", help="do not open a browser window")
    p.set_defaults(handler=cmd_explore)


def _save_dir(args: argparse.Namespace) -> Path:
    folder = Path(args.save_dir) if args.save_dir is not None else Path(args.scenario).parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InputError(f"--save-dir: {folder} {what}; give an existing folder")
    return folder.resolve()


def _check_bind(host_name: str, port_number: int) -> None:
    """Refuse now, with a clear message, an address that cannot be served (a name that does
    not resolve, a port in use or reserved), rather than in the server's log."""
    try:
        infos = socket.getaddrinfo(
            host_name, port_number, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError) as err:
        raise InputError(f"--host: cannot serve on {host_name!r}: {err}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            s.bind(address)
        except OSError as err:
            hint = "" if err.errno == errno.EADDRNOTAVAIL else "; choose another with --port"
            raise InputError(
                f"cannot serve on {host_name} port {port_number}: {err.strerror or err}{hint}"
            ) from None


def _check_host(args: argparse.Namespace) -> None:
    if is_loopback(args.host):
        return
    if not args.allow_remote:
        raise InputError(
            f"--host {args.host}: not an address of this machine only (127.0.0.1, ::1, "
            "localhost); other machines could reach the explorer. Add --allow-remote to serve "
            "there anyway"
        )
    print(
        f"warning: serving on {args.host}, which other machines may reach: anyone who can "
        "reach this port and knows the token in the address below can drive the explorer and "
        "save files in its save folder. The connection is plain HTTP (not encrypted): the "
        "token can be read on the network on its way",
        file=sys.stderr,
    )


def cmd_explore(args: argparse.Namespace) -> int:
    """`unsim explore`: check the scenario, then serve the what-if explorer."""
    from unsim.scenario import load_scenario
    from unsim.session.load import is_session_file, load_session

    # a wrong scenario or session is reported here, not in the browser
    if is_session_file(args.scenario):
        inline = [n for n, f in load_session(args.scenario).files.items() if f is None]
        if inline:
            raise InputError(
                f"{args.scenario}: the explorer edits each draft's own file; "
                f"{', '.join(inline)} given inline: put each in a file of its own"
            )
    else:
        load_scenario(args.scenario)
    save_dir = _save_dir(args)
    if importlib.util.find_spec("solara") is None or importlib.util.find_spec("uvicorn") is None:
        print("unsim explore needs Solara: pip install 'unsim-diplomacy[explore]'", file=sys.stderr)
        return ExitCode.FAILURE
    _check_host(args)
    _check_bind(args.host, args.port)
    from unsim.explore.launch import serve
    from unsim.explore.server import display_host

    access = Access.for_bind(secrets.token_urlsafe(32), args.host, args.port)
    env = dict(os.environ)
    env.update(
        UNSIM_EXPLORE_SCENARIO=str(Path(args.scenario).resolve()),
        UNSIM_EXPLORE_RUNS=str(args.runs),
        UNSIM_EXPLORE_SAVE_DIR=str(save_dir),
        UNSIM_EXPLORE_TOKEN=access.token,
        UNSIM_EXPLORE_HOST=args.host,
        UNSIM_EXPLORE_PORT=str(args.port),
        UNSIM_EXPLORE_OPEN="0" if args.no_open else "1",
    )
    if args.seed is not None:
        env["UNSIM_EXPLORE_SEED"] = str(args.seed)
    address = (
        f"unsim explore: {access.url(display_host(args.host))}\n"
        f"  saves go under {save_dir} (Ctrl+C to stop)"
    )
    # printed once the server accepts connections on it (the page answers at once)
    return serve([sys.executable, "-m", "unsim.explore.server"], env, address)
