"""Command line: ``python -m unsim SCENARIO.yaml`` and its subcommands.

    unsim SCENARIO.yaml [flags]        run a scenario (same as ``unsim run``)
    unsim validate FILE...             check scenario files
    unsim schema                       print the scenario JSON Schema
    unsim plot FOLDER                  redraw the figures of results, a sweep, a sensitivity
                                       analysis or a discovery
    unsim calibrate / backtest / sweep / sensitivity / discover: see ``unsim COMMAND --help``

Exit codes come from :class:`unsim.errors.ExitCode`; errors print without a traceback. One
handler in :func:`main` maps every error to its exit code; an unexpected one prints a line and
saves its traceback to a file (see :func:`save_traceback`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from unsim._version import __version__
from unsim.argtypes import add_parallel_arguments
from unsim.argtypes import runs as _runs
from unsim.argtypes import seed as _seed
from unsim.errors import ExitCode, InputError, ScenarioError, UnsimError, one_line

if TYPE_CHECKING:
    import pandas as pd

    from unsim.scenario.schema import Scenario

#: Paired runs per variant of the attribution table (two blocks of the default size: the
#: first runs of the main run are reused; measured intervals are about +-0.1 votes)
ATTRIBUTION_RUNS = 4096

COMMANDS = (
    "run",
    "validate",
    "schema",
    "plot",
    "calibrate",
    "backtest",
    "sweep",
    "report",
    "explore",
    "sensitivity",
    "discover",
    "explain",
)


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------
def _add_run(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="run a scenario's Monte Carlo and summarise it")
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument(
        "--runs", type=_runs, help="number of runs, up to 100 million (default: the scenario's)"
    )
    p.add_argument("--seed", type=_seed, help="master seed (default: the scenario's, or fresh)")
    add_parallel_arguments(p, "blocks")
    p.add_argument(
        "--out",
        type=Path,
        help="results folder (default results/<name>/<run id>); must not exist or be empty",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --out: replace a results folder that unsim wrote earlier (never other files)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override any scenario value, e.g. --set simulation.rounds.plenary=5 (repeatable)",
    )
    p.add_argument("--compare", type=Path, metavar="OTHER.yaml", help="paired comparison")
    p.add_argument(
        "--no-attribution",
        action="store_true",
        help="skip the table of what each stated assumption moves (runs the scenario once per "
        "assumption removed)",
    )
    p.add_argument(
        "--attribution-runs",
        type=_runs,
        default=ATTRIBUTION_RUNS,
        metavar="N",
        help=f"paired runs per variant of the attribution (default {ATTRIBUTION_RUNS:,}, at most "
        "the run count)",
    )
    p.add_argument(
        "--no-explain",
        action="store_true",
        help="skip the table of each state's stance in parts (explain.parquet; replays the "
        "first block of runs)",
    )
    p.add_argument("--csv", action="store_true", help="write tables as CSV instead of Parquet")
    p.add_argument("--no-plots", action="store_true", help="do not draw the PNG figures")
    p.add_argument(
        "--report", action="store_true", help="also write report.html (self-contained HTML)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print only where results went")
    p.set_defaults(handler=cmd_run)


def _progress(enabled: bool) -> bool:
    return enabled and sys.stderr.isatty()


def _results_dir(args: argparse.Namespace, name: str) -> Path:
    if args.out is not None:
        return Path(args.out)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("results") / name / f"{stamp}-seed{args.seed_used}"
    out, n = base, 1
    while out.exists():  # two runs in the same second: a new folder, never a shared one
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from unsim.engine import DaskExecutor, run
    from unsim.engine.results import check_output_folder, probe_output_folder, staging_folder
    from unsim.engine.rng import new_master_seed
    from unsim.report import compare, format_comparison, format_summary
    from unsim.scenario import load_scenario

    scenario = load_scenario(args.scenario, overrides=args.overrides)
    other = load_scenario(args.compare, overrides=args.overrides) if args.compare else None
    if other is not None:
        check_pairable(scenario, other, args.scenario, args.compare)
    seed = args.seed if args.seed is not None else scenario.simulation.seed
    args.seed_used = seed if seed is not None else new_master_seed()
    # refuse an output folder before running, not after
    out = _results_dir(args, scenario.name)
    check_output_folder(out, force=args.force)
    probe_output_folder(out)
    executor = DaskExecutor(args.dask, timeout=args.dask_timeout) if args.dask is not None else None
    # without a comparison (which pairs the two tables in memory) the run table is streamed into
    # the folder being built as the blocks arrive
    staging = staging_folder(out) if other is None else None
    try:
        t0 = time.perf_counter()
        results = run(
            scenario,
            runs=args.runs,
            seed=args.seed_used,
            workers=args.workers,
            executor=executor,
            progress=_progress(not args.quiet),
            run_table=staging / "runs.parquet" if staging is not None else None,
        )
        elapsed = time.perf_counter() - t0
        attribution_seconds = None
        if not args.no_attribution:
            from unsim.engine.attribution import attribute

            t1 = time.perf_counter()
            attribution = attribute(
                scenario,
                runs=min(args.attribution_runs, results.summary["runs"]),
                seed=args.seed_used,
                workers=args.workers,
                executor=executor,
                base=results,
            )
            if attribution:  # none without an Assembly vote on the draft
                results.summary["attribution"] = attribution
            attribution_seconds = time.perf_counter() - t1
        if not args.no_explain:
            from unsim.explain.breakdown import save_with

            save_with(results)
            if args.csv:
                results.metadata["explain"]["file"] = "explain.csv"
        other_results = None
        if other is not None:
            other_results = run(
                other,
                runs=results.summary["runs"],
                seed=args.seed_used,
                workers=args.workers,
                executor=executor,
                progress=_progress(not args.quiet),
            )
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if executor is not None:
            executor.close()
    results.metadata["command"] = " ".join(["unsim", *sys.argv[1:]])
    results.metadata["timings"]["cli_seconds"] = elapsed
    if attribution_seconds is not None:
        results.metadata["timings"]["attribution_seconds"] = attribution_seconds
    written = results.save(
        out,
        table_format="csv" if args.csv else "parquet",
        plots=not args.no_plots,
        force=args.force,
        staging=staging,
    )
    if getattr(args, "report", False):
        from unsim.results.report.html import write_report

        write_report(results, written / "report.html")
    comparison_text = None
    if other_results is not None:
        table = compare(results, other_results)
        _save_comparison(written, table, (scenario.name, other_results.scenario.name))
        comparison_text = format_comparison(table, scenario.name, other_results.scenario.name)
    if args.quiet:
        print(written)
    else:
        print(format_summary(results, elapsed, str(written)))
        if comparison_text:
            print()
            print(comparison_text)
    return ExitCode.OK


def check_pairable(a: Scenario, b: Scenario, path_a: Path, path_b: Path) -> None:
    """Refuse a ``--compare`` whose scenarios cannot be paired on common random numbers: the
    same world, target, stages and block size (blocks draw from the streams of their index)."""
    differences = []
    wa, wb = a.world, b.world
    if wa != wb:
        name_a = getattr(wa, "name", "?")
        name_b = getattr(wb, "name", "?")
        same_name = ", same name but different content" if name_a == name_b else ""
        differences.append(f"the world ({name_a!r} and {name_b!r}{same_name})")
    if a.resolution.target != b.resolution.target:
        differences.append(f"the target ({a.resolution.target} and {b.resolution.target})")
    if a.resolution.stages != b.resolution.stages:
        differences.append(
            f"the stages ({', '.join(a.resolution.stages)} and {', '.join(b.resolution.stages)})"
        )
    if a.simulation.block_size != b.simulation.block_size:
        differences.append(
            f"simulation.block_size ({a.simulation.block_size} and {b.simulation.block_size})"
        )
    if differences:
        raise InputError(
            f"--compare: {path_a} and {path_b} cannot be paired run by run: they differ in "
            + "; ".join(differences)
            + ". Compare scenarios of one world, target and stages (run each on its own instead)"
        )


def _save_comparison(folder: Path, table: pd.DataFrame, names: tuple[str, str]) -> None:
    """Add the comparison table and its figure to a written results folder (each atomically)."""
    from matplotlib.figure import Figure

    from unsim.atomic import write_atomically
    from unsim.results.plots import plot_comparison

    write_atomically(folder / "comparison.csv", lambda tmp: table.to_csv(tmp, index=False))
    fig = Figure(figsize=(9.5, 0.34 * max(len(table), 1) + 1.9), layout="constrained")
    plot_comparison(table, ax=fig.add_subplot(), names=names)
    write_atomically(
        folder / "comparison.png",
        lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png"),
    )


# --------------------------------------------------------------------------------------------
# validate, schema, plot
# --------------------------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    from unsim.scenario import load_scenario

    failed = 0
    for path in args.files:
        try:
            s = load_scenario(path, overrides=args.overrides)
        except ScenarioError as err:
            failed += 1
            print(err.render(), file=sys.stderr)
        else:
            n = len(s.world.states) if not isinstance(s.world, str) else 0
            print(f"{path}: ok ({s.name}: {n} states, {len(s.resolution.stages)} stages)")
    return ExitCode.INVALID_INPUT if failed else ExitCode.OK


def cmd_schema(args: argparse.Namespace) -> int:
    from unsim.scenario.schema import Scenario

    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "unsim scenario"
    print(json.dumps(schema, indent=2))
    return ExitCode.OK


def cmd_plot(args: argparse.Namespace) -> int:
    from unsim.engine.results import Results, output_errors
    from unsim.results.plots import save_standard_plots
    from unsim.studies.plots import folder_kind, plot_folder

    folder = Path(args.results)
    if folder_kind(folder) != "results":  # a sweep, sensitivity or discovery
        for p in plot_folder(folder):
            print(p)
        return ExitCode.OK
    results = Results.load(folder)
    with output_errors(folder):
        try:
            written = save_standard_plots(results, folder)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise InputError(
                f"{folder}: the results in it are not as unsim writes them, cannot draw them "
                f"({type(exc).__name__}: {str(exc)[:200]})"
            ) from None
    for p in written:
        print(p)
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unsim",
        description="Simulate UN votes and the diplomacy around them. "
        "`unsim SCENARIO.yaml` runs a scenario.",
    )
    parser.add_argument("--version", action="version", version=f"unsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(sub)
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
    p.set_defaults(handler=cmd_plot)
    _add_optional(sub)
    return parser


def _add_optional(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Subcommands that live in their own modules."""
    try:
        from unsim.calibration.cli import add_backtest_parser, add_calibrate_parser
    except ImportError:
        pass
    else:
        add_calibrate_parser(sub)
        add_backtest_parser(sub)
    try:
        from unsim.studies.sweep_cli import add_sweep_parser
    except ImportError:
        pass
    else:
        add_sweep_parser(sub)
    from unsim.explain.cli import add_explain_parser
    from unsim.explore.cli import add_explore_parser
    from unsim.results.report.cli import add_report_parser

    add_report_parser(sub)
    add_explore_parser(sub)
    add_explain_parser(sub)

    try:
        from unsim.studies.discover_cli import add_discover_parser
        from unsim.studies.sensitivity_cli import add_sensitivity_parser
    except ImportError:
        pass
    else:
        add_sensitivity_parser(sub)
        add_discover_parser(sub)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that unfinished output is cleaned up on the way out
    (like KeyboardInterrupt, not an Exception: no ``except Exception`` swallows it)."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def save_traceback(exc: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to a new file; return it (None if it
    cannot be written). The folder: ``$TMPDIR/unsim-tracebacks``."""
    text = "".join(traceback.format_exception(exc))
    header = f"unsim {__version__}, python {sys.version.split()[0]}\ncommand: {sys.argv!r}\n\n"
    try:
        folder = Path(tempfile.gettempdir()) / "unsim-tracebacks"
        folder.mkdir(mode=0o700, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        fd, name = tempfile.mkstemp(prefix=f"{stamp}-", suffix=".txt", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(header + text)
    except OSError:
        return None
    return Path(name)


def _run_handler(args: argparse.Namespace) -> int:
    """Run a command's handler and map every way it can end to a message and an exit code."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        with _sigterm_raises():
            return int(args.handler(args))
    except UnsimError as err:
        print(str(err), file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("interrupted: no results were written", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Terminated:
        print("terminated (SIGTERM): no results were written", file=sys.stderr)
        return ExitCode.TERMINATED
    except BrokenProcessPool as exc:
        from unsim.engine.executors import pool_error

        print(str(pool_error(exc)), file=sys.stderr)
        return ExitCode.FAILURE
    except MemoryError:
        print(
            "out of memory: try fewer runs, fewer workers or a smaller block_size", file=sys.stderr
        )
        return ExitCode.SYSTEM
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or one_line(exc, 300)}", file=sys.stderr)
        return ExitCode.SYSTEM
    except Exception as exc:  # a bug: one line here, the traceback in a file
        saved = save_traceback(exc)
        where = f"the full traceback is in {saved}" if saved else "the traceback could not be saved"
        print(f"unsim: internal error: {one_line(exc, 300)}\n{where}", file=sys.stderr)
        return ExitCode.FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "run")  # `unsim SCENARIO.yaml` means `unsim run SCENARIO.yaml`
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return ExitCode.INVALID_INPUT
    return _run_handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
