"""``unsim validate``, ``unsim schema`` and ``unsim plot``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from unsim.errors import ExitCode, InputError, ScenarioError

if TYPE_CHECKING:
    pass


def add_scenario_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `validate`, `schema` and `plot` commands."""
    p = sub.add_parser("validate", help="check scenario files and report every problem")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    p.set_defaults(handler=cmd_validate)
    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.set_defaults(handler=cmd_schema)
    p = sub.add_parser(
        "plot", help="redraw the figures of a results, sweep, sensitivity or discovery folder"
    )
    p.add_argument("results", type=Path)
    p.add_argument("--quiet", "-q", action="store_true", help="print only the figures written")
    p.set_defaults(handler=cmd_plot)


def cmd_validate(args: argparse.Namespace) -> int:
    """`unsim validate`: check scenario and session files and report every problem."""
    from unsim.cli.session import validate_session
    from unsim.scenario import load_scenario
    from unsim.scenario.advice import scenario_warnings
    from unsim.scenario.drawn import scenario_levers
    from unsim.session.load import is_session_file

    failed = 0
    for path in args.files:
        if is_session_file(path):
            failed += not validate_session(path, args.overrides)
            continue
        try:
            s = load_scenario(path, overrides=args.overrides)
        except ScenarioError as err:
            failed += 1
            print(err.render(), file=sys.stderr)
        else:
            n = len(s.world.states) if not isinstance(s.world, str) else 0
            drawn = len(scenario_levers(s))
            extra = (
                f", {drawn} distribution{'s' if drawn != 1 else ''} drawn per run" if drawn else ""
            )
            stages = len(s.resolution.stages)
            print(f"{path}: ok ({s.name}: {n} states, {stages} stages{extra})", flush=True)
            for text in scenario_warnings(s):  # valid, but the results may mislead
                print(f"warning: {path}: {text}", file=sys.stderr)
    return ExitCode.INVALID_INPUT if failed else ExitCode.OK


def cmd_schema(args: argparse.Namespace) -> int:
    """`unsim schema`: print the JSON Schema of scenario files."""
    from unsim.scenario.schema import Scenario

    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "unsim scenario"
    print(json.dumps(schema, indent=2))
    return ExitCode.OK


def cmd_plot(args: argparse.Namespace) -> int:
    """`unsim plot`: redraw the figures of a results, sweep, sensitivity or discovery folder."""
    from unsim.cli.outputs import results_inputs
    from unsim.cli.steps import Steps
    from unsim.ownership import check_output
    from unsim.results.plots import save_standard_plots
    from unsim.results.plots.save import FIGURES
    from unsim.results.tables import Results, output_errors
    from unsim.studies.plots import folder_kind, plot_folder

    folder = Path(args.results)
    study = folder_kind(folder) != "results"  # a sweep, sensitivity or discovery
    if not study and folder.is_dir():  # a figure unsim did not draw is refused before any is drawn
        for name in FIGURES:
            check_output(folder / name, "png", inputs=results_inputs(folder))
    results = None if study else Results.load(folder)
    Steps(quiet=args.quiet).say(f"drawing the figures of {folder}")
    with output_errors(folder):
        try:
            if results is None:
                written = plot_folder(folder)
            else:
                written = save_standard_plots(results, folder)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise InputError(
                f"{folder}: the results in it are not as unsim writes them, cannot draw them "
                f"({type(exc).__name__}: {str(exc)[:200]})"
            ) from None
    for p in written:
        print(p)
    return ExitCode.OK
