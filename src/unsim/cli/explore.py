"""``unsim explore [SCENARIO]``: start the what-if explorer on a local port."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from unsim.cli.args import positive, whole_number
from unsim.errors import ExitCode
from unsim.explore import DEFAULT_RUNS, DEFAULT_SCENARIO


def add_explore_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "explore",
        help="open a what-if explorer of a scenario in the browser",
        description="Start a local web app (Solara) with the scenario's levers: each change "
        "re-runs the scenario on the same seed and shows every outcome, the tallies and each "
        "state's vote against the scenario as written.",
    )
    p.add_argument(
        "scenario", type=Path, nargs="?", default=Path(DEFAULT_SCENARIO), help="scenario YAML"
    )
    p.add_argument(
        "--runs", type=positive, default=DEFAULT_RUNS, help=f"runs per change ({DEFAULT_RUNS})"
    )
    p.add_argument("--seed", type=whole_number, help="master seed (default: the scenario's)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    p.add_argument("--port", type=positive, default=8765, help="port to serve on (8765)")
    p.add_argument("--no-open", action="store_true", help="do not open a browser window")
    p.set_defaults(handler=cmd_explore)


def cmd_explore(args: argparse.Namespace) -> int:
    from unsim.scenario import load_scenario

    load_scenario(args.scenario)  # a wrong scenario is reported here, not in the browser
    if importlib.util.find_spec("solara") is None:
        print("unsim explore needs Solara: pip install 'unsim-diplomacy[explore]'", file=sys.stderr)
        return ExitCode.FAILURE
    env = dict(os.environ)
    env["UNSIM_EXPLORE_SCENARIO"] = str(Path(args.scenario).resolve())
    env["UNSIM_EXPLORE_RUNS"] = str(args.runs)
    if args.seed is not None:
        env["UNSIM_EXPLORE_SEED"] = str(args.seed)
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "unsim.explore.app",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-check-version",  # no call home: the explorer runs on closed networks too
    ]
    if args.no_open:
        command.append("--no-open")
    print(f"unsim explore: http://{args.host}:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    try:
        return subprocess.run(command, env=env, check=False).returncode
    except KeyboardInterrupt:
        return ExitCode.OK
