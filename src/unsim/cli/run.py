"""``unsim run SCENARIO`` (or ``unsim SCENARIO``): a Monte Carlo run, its attribution table, a
comparison with a second scenario on common random numbers, the results folder and the text."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unsim.cli.args import add_parallel_arguments
from unsim.cli.args import runs as _runs
from unsim.cli.args import seed as _seed
from unsim.cli.collector import start_up_done
from unsim.cli.figures import Figures
from unsim.cli.outputs import scenario_inputs
from unsim.cli.steps import ready_kernels, step_seconds, summary_timings, warn_scenarios
from unsim.errors import ExitCode, InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from unsim.cli.steps import Steps
    from unsim.results.tables import Results
    from unsim.scenario.schema import Scenario


#: Paired runs per variant of the attribution table (two blocks of the default size: the
#: first runs of the main run are reused; measured intervals are about +-0.1 votes)
ATTRIBUTION_RUNS = 4096


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------
def add_run_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `run` command."""
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
        help="with --out: replace a results folder that unsim wrote earlier, if every file in "
        "it is unsim's (a folder holding any other file is refused and kept whole)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override any scenario value, e.g. --set simulation.rounds.plenary=5 (repeatable)",
    )
    _add_analysis_arguments(p)
    p.add_argument("--csv", action="store_true", help="write tables as CSV instead of Parquet")
    p.add_argument("--no-plots", action="store_true", help="do not draw the PNG figures")
    p.add_argument(
        "--report", action="store_true", help="also write report.html (self-contained HTML)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print only where results went")
    p.set_defaults(handler=cmd_run, says_start_up_done=True)


def _add_analysis_arguments(p: argparse.ArgumentParser) -> None:
    """What the run adds to the forecast: a comparison, the attribution, data only, explain."""
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
        "--data-only",
        action="store_true",
        help="run the calibration's forecast alone: the scenario with every stated assumption "
        "removed (the attribution table's last row; the main job prints it beside the scenario's)",
    )
    p.add_argument(
        "--no-explain",
        action="store_true",
        help="skip the table of each state's stance in parts (explain.parquet; replays the "
        "first block of runs)",
    )


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
    """`unsim run`: run a scenario's (or a session's) Monte Carlo and write its results."""
    from unsim.cli.steps import Steps
    from unsim.engine.rng import new_master_seed
    from unsim.results.tables import check_output_folder, probe_output_folder, staging_folder
    from unsim.scenario import load_scenario
    from unsim.scenario.loader import is_session_file

    if is_session_file(args.scenario):  # several drafts and what links them
        from unsim.cli.session import cmd_run_session

        start_up_done()
        return cmd_run_session(args)
    steps = Steps(quiet=args.quiet, started=getattr(args, "started", None))
    figures = Figures()
    scenario = load_scenario(args.scenario, overrides=args.overrides)
    other = load_scenario(args.compare, overrides=args.overrides) if args.compare else None
    if other is not None and args.data_only:
        raise InputError(
            "--data-only and --compare: the data-only forecast removes what --compare would "
            "compare (the scenarios' stated assumptions); the main job prints each scenario "
            "beside its data-only forecast: run each on its own"
        )
    if other is not None:
        check_pairable(scenario, other, args.scenario, args.compare)
    warn_scenarios(steps, [(args.scenario, scenario), (args.compare, other)])
    seed = args.seed if args.seed is not None else scenario.simulation.seed
    args.seed_used = seed if seed is not None else new_master_seed()
    # refuse an output folder before running, not after
    out = _results_dir(args, scenario.name)
    args.inputs = [
        *scenario_inputs(args.scenario, args.overrides),
        *scenario_inputs(args.compare, args.overrides),
    ]
    check_output_folder(out, force=args.force, inputs=args.inputs)
    probe_output_folder(out)
    import unsim.engine.core  # noqa: F401  (the libraries of the runs load in the start-up)

    steps.mark("start_up")
    start_up_done()  # the collector resumes, the start-up's objects frozen (unsim.cli.collector)
    executor = _dask_executor(args)
    # without a comparison (which pairs the two tables in memory) the run table is streamed into
    # the folder being built as the blocks arrive
    staging = staging_folder(out) if other is None else None
    try:
        with steps.watching_compiles():
            results, other_results = _simulate(
                args, scenario, other, executor, staging, steps, figures
            )
        also = None if args.no_plots else figures.writer(results, steps)  # drawn alongside: waited
    except BaseException:
        figures.cancel()  # before the folder it draws in is removed
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if executor is not None:
            executor.close()
    _finish(args, results, other_results, out, staging, steps, also)
    return ExitCode.OK


def _dask_executor(args: argparse.Namespace) -> Any:
    """The Dask executor of ``--dask`` (its module loaded only then), else None."""
    if args.dask is None:
        return None
    from unsim.engine.dask import DaskExecutor

    return DaskExecutor(args.dask, timeout=args.dask_timeout)


def _simulate(
    args: argparse.Namespace,
    scenario: Scenario,
    other: Scenario | None,
    executor: Any,
    staging: Path | None,
    steps: Steps,
    figures: Figures,
) -> tuple[Results, Results | None]:
    """The run, its attribution table and breakdown table, and the paired second scenario, each
    a step of its own (announced and timed), the kernels made ready first; the figures of the
    run drawn alongside the attribution and the explanation where they can be
    (:mod:`unsim.cli.figures`)."""
    from unsim.engine import run

    common = dict(seed=args.seed_used, workers=args.workers, executor=executor)
    ready_kernels(scenario, inline=executor is None and args.workers == 1, steps=steps)
    n = int(args.runs if args.runs is not None else scenario.simulation.runs)
    with steps.step("runs", f"running {n:,} runs ({_where(args, executor)})"):
        results = run(
            scenario,
            runs=n,
            progress=steps.counter(n),
            run_table=staging / "runs.parquet" if staging is not None else None,
            data_only=args.data_only,
            **common,
        )
    results.metadata["timings"]["cli_seconds"] = steps.seconds["runs"]
    if not args.no_plots and staging is not None and other is None and executor is None:
        figures.start(results, staging, steps)
    if not (args.no_attribution or args.data_only):  # a data-only run states nothing
        _attribution(args, scenario, results, common, steps)
    if not args.no_explain:
        from unsim.explain.breakdown import save_with

        with steps.step("explanation", "explaining each state's stance (the first runs again)"):
            save_with(results)
        if args.csv:
            results.metadata["explain"]["file"] = "explain.csv"
    if other is None:
        return results, None
    with steps.step("comparison", f"running the same {n:,} runs of {args.compare}"):
        return results, run(other, runs=n, progress=steps.counter(n), **common)


def _attribution(
    args: argparse.Namespace,
    scenario: Scenario,
    results: Results,
    common: dict[str, Any],
    steps: Steps,
) -> None:
    """The attribution table (and the data-only forecast beside the scenario's) as a step."""
    from unsim.engine.attribution import attribute, planned_runs

    runs = min(args.attribution_runs, results.summary["runs"])
    total = planned_runs(scenario, runs, args.seed_used, base=results)
    if not total:  # none without an Assembly vote on the draft
        return
    text = f"attribution: {total:,} runs of the scenario without each stated assumption in turn"
    with steps.step("attribution", text):
        attribution = attribute(
            scenario, runs=runs, base=results, progress=steps.counter(total), **common
        )
    if attribution:
        # the forecast as given beside the data-only one (the attribution's last variant)
        results.summary["data_only"] = attribution.pop("forecast")
        results.summary["attribution"] = attribution
    results.metadata["timings"]["attribution_seconds"] = steps.seconds["attribution"]


def _where(args: argparse.Namespace, executor: Any) -> str:
    if executor is not None:
        return f"on the Dask scheduler at {args.dask}"
    return "1 worker" if args.workers == 1 else f"{args.workers} workers"


def _finish(
    args: argparse.Namespace,
    results: Results,
    other_results: Results | None,
    out: Path,
    staging: Path | None,
    steps: Steps,
    also: Callable[[Path], None] | None,
) -> None:
    """Save the results folder (and report, comparison) and print the summary; ``also`` draws
    the figures into it (None: drawn already, or not asked for)."""
    from unsim.results.text import compare, format_comparison, format_summary

    results.metadata["command"] = " ".join(["unsim", *sys.argv[1:]])
    results.metadata["timings"].update(step_seconds(steps))
    with steps.step("saving", f"saving the results to {out}"):
        written = results.save(
            out,
            table_format="csv" if args.csv else "parquet",
            force=args.force,
            staging=staging,
            inputs=args.inputs,
            also=also,
        )
    if getattr(args, "report", False):
        from unsim.results.report.html import write_report

        with steps.step("report", "writing report.html"):
            write_report(results, written / "report.html")
    comparison_text = None
    if other_results is not None:
        name_a, name_b = results.scenario.name, other_results.scenario.name
        table = compare(results, other_results)
        with steps.step("figures", "drawing the comparison"):
            _save_comparison(written, table, (name_a, name_b))
        comparison_text = format_comparison(table, name_a, name_b)
    if args.quiet:
        print(written)
        return
    print(format_summary(results, out=str(written), timings=summary_timings(steps)))
    if comparison_text:
        print()
        print(comparison_text)


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

    from unsim.ownership import save_png, write_output
    from unsim.results.plots import plot_comparison

    write_output(folder / "comparison.csv", "csv", lambda tmp: table.to_csv(tmp, index=False))
    fig = Figure(figsize=(9.5, 0.34 * max(len(table), 1) + 1.9), layout="constrained")
    plot_comparison(table, ax=fig.add_subplot(), names=names)
    save_png(fig, folder / "comparison.png", dpi=120, bbox_inches="tight")


# --------------------------------------------------------------------------------------------
# validate, schema, plot
# --------------------------------------------------------------------------------------------
