"""Command line: ``python -m unsim SCENARIO.yaml`` and its subcommands.

    unsim SCENARIO.yaml [flags]        run a scenario (same as ``unsim run``)
    unsim validate FILE...             check scenario files
    unsim schema                       print the scenario JSON Schema
    unsim plot FOLDER                  redraw the figures of results, a sweep, a sensitivity
                                       analysis or a discovery
    unsim calibrate / backtest / sweep / sensitivity / discover: see ``unsim COMMAND --help``

Exit codes come from :class:`unsim.errors.ExitCode`; errors print without a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from unsim._version import __version__
from unsim.argtypes import positive as _positive
from unsim.argtypes import whole_number as _seed
from unsim.errors import ExitCode, ScenarioError, UnsimError

if TYPE_CHECKING:
    import pandas as pd

COMMANDS = (
    "run",
    "validate",
    "schema",
    "plot",
    "calibrate",
    "backtest",
    "sweep",
    "sensitivity",
    "discover",
)


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------
def _add_run(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="run a scenario's Monte Carlo and summarise it")
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--runs", type=_positive, help="number of runs (default: the scenario's)")
    p.add_argument("--seed", type=_seed, help="master seed (default: the scenario's, or fresh)")
    p.add_argument("--workers", type=_positive, default=1, help="local worker processes")
    p.add_argument("--dask", metavar="ADDRESS", help="run blocks on a Dask scheduler")
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
    p.add_argument("--csv", action="store_true", help="write tables as CSV instead of Parquet")
    p.add_argument("--no-plots", action="store_true", help="do not draw the PNG figures")
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
    from unsim.engine.results import check_output_folder, staging_folder
    from unsim.engine.rng import new_master_seed
    from unsim.report import compare, format_comparison, format_summary
    from unsim.scenario import load_scenario

    scenario = load_scenario(args.scenario, overrides=args.overrides)
    if args.out is not None:  # refuse before running, not after
        check_output_folder(Path(args.out), force=args.force)
    other = load_scenario(args.compare, overrides=args.overrides) if args.compare else None
    seed = args.seed if args.seed is not None else scenario.simulation.seed
    args.seed_used = seed if seed is not None else new_master_seed()
    executor = DaskExecutor(args.dask) if args.dask else None
    out = _results_dir(args, scenario.name)
    check_output_folder(out, force=args.force)
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
    written = results.save(
        out,
        table_format="csv" if args.csv else "parquet",
        plots=not args.no_plots,
        force=args.force,
        staging=staging,
    )
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


def _save_comparison(folder: Path, table: pd.DataFrame, names: tuple[str, str]) -> None:
    """Add the comparison table and its figure to a written results folder (each atomically)."""
    from matplotlib.figure import Figure

    from unsim.atomic import write_atomically
    from unsim.plots import plot_comparison

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
    from unsim.engine.results import Results
    from unsim.plots import save_standard_plots
    from unsim.studies.plots import folder_kind, plot_folder

    if folder_kind(Path(args.results)) != "results":  # a sweep, sensitivity or discovery
        for p in plot_folder(args.results):
            print(p)
        return ExitCode.OK
    results = Results.load(args.results)
    written = save_standard_plots(results, Path(args.results))
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
        from unsim.sweep_cli import add_sweep_parser
    except ImportError:
        pass
    else:
        add_sweep_parser(sub)
    try:
        from unsim.studies.discover_cli import add_discover_parser
        from unsim.studies.sensitivity_cli import add_sensitivity_parser
    except ImportError:
        pass
    else:
        add_sensitivity_parser(sub)
        add_discover_parser(sub)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "run")  # `unsim SCENARIO.yaml` means `unsim run SCENARIO.yaml`
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return ExitCode.INVALID_INPUT
    try:
        return int(args.handler(args))
    except UnsimError as err:
        print(str(err), file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("interrupted: no results were written", file=sys.stderr)
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
