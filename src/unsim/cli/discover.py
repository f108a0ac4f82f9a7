"""``unsim discover``: scenario discovery with PRIM over a sweep's or a sensitivity run's points.

    unsim discover SWEEP_DIR --outcome icc_retained --threshold 0.5 --below
    unsim discover SWEEP_DIR --outcome referral_tabled --threshold 0.9

A point is a case of interest when the outcome's probability there is at least ``--threshold``
(below it with ``--below``). PRIM (the EMA Workbench's implementation) finds boxes of parameter
ranges that hold many of those cases (coverage) and few others (density); each box is printed with
its ranges, and the peeling trajectory and the chosen box are drawn. The folder (``--out``, default
``<SWEEP_DIR>-discover-<outcome>``) is written atomically: ``boxes.csv``, ``trajectory.csv``,
``discovery.json``, ``discovery.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from unsim.cli.args import count_between, number_between
from unsim.errors import InputError

__all__ = ["add_discover_parser", "cmd_discover"]


def add_discover_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add the `discover` command."""
    p = subparsers.add_parser(
        "discover",
        help="scenario discovery (PRIM): which parameter ranges lead to an outcome",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "sweep",
        type=Path,
        help="a sweep's or a sensitivity analysis's folder (of a scenario or of a session)",
    )
    p.add_argument("--outcome", required=True, help="outcome, e.g. icc_retained, referral_tabled")
    p.add_argument(
        "--threshold",
        type=number_between(0, 1),
        default=0.5,
        help="a point is a case when P(outcome) is at least this (default 0.5)",
    )
    p.add_argument("--below", action="store_true", help="cases: P(outcome) below --threshold")
    p.add_argument(
        "--density",
        type=number_between(0, 1),
        default=0.8,
        help="density a box should reach, from 0 to 1 (default 0.8)",
    )
    p.add_argument(
        "--peel-alpha",
        type=number_between(0, 1, above=True, below=True),
        default=0.05,
        help="share peeled per step, more than 0 and less than 1 (default 0.05)",
    )
    p.add_argument(
        "--boxes", type=count_between(1, 100), default=1, help="boxes to look for (default 1)"
    )
    p.add_argument("--out", type=Path, help="output folder (must be new or empty)")
    p.add_argument("--no-plots", action="store_true", help="do not draw discovery.png")
    p.add_argument("--quiet", "-q", action="store_true", help="print only where results went")
    p.set_defaults(handler=cmd_discover)
    return p


def cmd_discover(args: argparse.Namespace) -> int:
    """`unsim discover`: find the parameter ranges of a sweep that lead to an outcome."""
    from unsim.cli.steps import Steps
    from unsim.results.tables import check_output_folder
    from unsim.studies.discovery import discover_in_folder, format_discovery, save_discovery

    folder = Path(args.sweep)
    if folder.is_file() and folder.suffix in (".yaml", ".yml"):
        from unsim.session.load import is_session_file

        what = "a session file" if is_session_file(folder) else "a scenario file"
        raise InputError(
            f"{folder} is {what}: discovery looks over a study's points; run `unsim sweep "
            f"{folder} --param ... --out DIR` (or `unsim sensitivity`), then `unsim discover DIR "
            "--outcome ...`"
        )
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (give a sweep's or a sensitivity's folder)")
    out = args.out
    if out is None:
        name = folder.resolve().name
        out = folder.resolve().parent / f"{name}-discover-{args.outcome}"
        n = 1
        while out.exists() or out.is_symlink():
            n += 1
            out = out.with_name(f"{name}-discover-{args.outcome}-{n}")
    # before the boxes are looked for
    check_output_folder(Path(out), hint="or leave out --out for a new folder beside the study")
    steps = Steps(quiet=args.quiet)
    steps.say(f"looking for boxes of {args.outcome} (PRIM) over the points of {folder}")
    try:
        found = discover_in_folder(
            folder,
            args.outcome,
            args.threshold,
            below=args.below,
            density=args.density,
            peel_alpha=args.peel_alpha,
            boxes=args.boxes,
        )
    except ValueError as err:
        raise InputError(str(err)) from None
    figure = "" if args.no_plots else " (drawing its figure)"
    steps.say(f"saving the discovery to {out}{figure}")
    save_discovery(found, Path(out), str(folder), plots=not args.no_plots)
    if args.quiet:
        print(out)
        return 0
    print(format_discovery(found))
    print(f"\nresults: {out}")
    return 0
