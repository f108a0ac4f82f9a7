"""``unsim report RESULTS_DIR [--out FILE]``: the HTML report of a results folder."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from unsim.errors import ExitCode, InputError


def add_report_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `report` command."""
    p = sub.add_parser(
        "report",
        help="write one self-contained HTML report of a results folder",
        description="Write one self-contained HTML file (figures embedded, nothing loaded from "
        "the network) that explains a results folder to a reader who never ran the model.",
    )
    p.add_argument(
        "results",
        type=Path,
        help="a results folder written by `unsim run` (of a draft or of a session)",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="the HTML file to write (default: RESULTS/report.html); an existing file is "
        "replaced only if it is a report unsim wrote",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print only the report written")
    p.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """`unsim report`: write one self-contained HTML report of a results folder."""
    from unsim.cli.outputs import results_inputs
    from unsim.cli.steps import Steps
    from unsim.ownership import check_output
    from unsim.results.report.html import write_report
    from unsim.results.tables import Results
    from unsim.session.load import is_session_file
    from unsim.session.views import is_session_folder

    if Path(args.results).is_file() and is_session_file(args.results):
        raise InputError(
            f"{args.results} is a session file: a report is of its results; run it with "
            f"`unsim {args.results} --report` (the report is written in its results folder), or "
            "give `unsim report` the results folder of a session run"
        )
    if is_session_folder(args.results):
        return _report_session(args)
    out = args.out if args.out is not None else Path(args.results) / "report.html"
    inputs = results_inputs(args.results)
    check_output(out, "html", inputs=inputs)  # before the results are read
    results = Results.load(args.results)
    Steps(quiet=args.quiet).say(f"writing the report of {args.results} (drawing its figures)")
    print(_written(args.results, "results", lambda: write_report(results, out, inputs=inputs)))
    return ExitCode.OK


def _report_session(args: argparse.Namespace) -> int:
    """The report of a session's results folder (``unsim.session.report``)."""
    from unsim.cli.steps import Steps
    from unsim.ownership import check_output
    from unsim.session.report import write_session_report
    from unsim.session.views import load_session_results

    folder = Path(args.results)
    out = args.out if args.out is not None else folder / "report.html"
    inputs = [folder / "summary.json", folder / "metadata.json", folder / "runs.parquet"]
    check_output(out, "html", inputs=inputs)
    saved = load_session_results(folder)
    Steps(quiet=args.quiet).say(f"writing the report of the session in {folder}")
    print(_written(folder, "session's results", lambda: write_session_report(saved, out, inputs)))
    return ExitCode.OK


def _written(folder: Any, what: str, write: Callable[[], Path]) -> Path:
    """The report ``write`` wrote; results not as unsim writes them are a clear input error."""
    try:
        return write()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise InputError(
            f"{folder}: the {what} in it are not as unsim writes them, cannot report "
            f"them ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
