"""``unsim calibrate`` and ``unsim backtest``: argparse parsers and their handlers.

The main command line (:mod:`unsim.cli`) calls :func:`add_calibrate_parser` and
:func:`add_backtest_parser` and dispatches to ``args.handler(args)``; handlers return an exit code
and raise :mod:`unsim.errors` exceptions for bad input.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from unsim.cli.args import count_between, number_between
from unsim.cli.args import input_file as _input
from unsim.cli.args import iso_date as _date
from unsim.cli.args import positive as _positive
from unsim.cli.args import runs as _runs
from unsim.cli.args import seed as _seed
from unsim.cli.args import workers as _workers
from unsim.cli.clauses import add_clause_options, cmd_calibrate_clauses
from unsim.cli.levers import (
    add_backtest_levers_flags,
    add_calibrate_levers_flags,
    cmd_backtest_levers,
    cmd_calibrate_levers,
)
from unsim.cli.outputs import data_files, data_inputs, scenario_inputs
from unsim.cli.session import (
    add_backtest_session_options,
    add_session_linkage_options,
    cmd_backtest_session,
    cmd_calibrate_session,
    refuse_backtest_session_flags,
)
from unsim.errors import ExitCode, InputError
from unsim.ownership import check_output, json_text, write_text_output

__all__ = ["add_backtest_parser", "add_calibrate_parser", "cmd_backtest", "cmd_calibrate"]

SubParsers = Any  # argparse._SubParsersAction (private type)
#: Largest weight of a human-rights roll call in the ideal-point estimate (others weigh 1).
MAX_HR_WEIGHT = 1000.0
#: The years a time split may name (the roll calls start in 1946).
YEARS = (1946, 2100)


def _dims(text: str) -> int:
    value = _positive(text)
    if value > 2:
        raise argparse.ArgumentTypeError("the ideal-point model has 1 or 2 dimensions")
    return value


# --------------------------------------------------------------------------------------------
# calibrate
# --------------------------------------------------------------------------------------------
def add_calibrate_parser(subparsers: SubParsers) -> argparse.ArgumentParser:
    """Register ``calibrate``: fit positions and the vote model of a series, write a file."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "calibrate",
        help="fit state positions and the vote model of a resolution series to real roll calls",
        description="Estimate each state's position from General Assembly roll calls before a "
        "date, find the recorded plenary votes of a country's human-rights resolution series "
        "(--series ISO3) before it, fit the vote model to them and write a calibration file "
        "that scenarios reference. Prints the roll calls used and any warning.",
    )
    p.add_argument(
        "--series", default="PRK", help="ISO3 code of the country the series is about (PRK)"
    )
    p.add_argument("--match", help="text naming the country in the roll calls (default: known)")
    p.add_argument("--before", type=_date, required=True, help="cut date YYYY-MM-DD (excluded)")
    p.add_argument("--out", type=Path, required=True, help="calibration YAML to write")
    p.add_argument("--data", type=Path, help="real UN data folder (default: ../shared/data)")
    p.add_argument("--votes", type=_input, help="roll-call votes (.csv.gz; default: in --data)")
    p.add_argument("--members", type=_input, help="member states CSV (default: next to the votes)")
    p.add_argument("--roll-calls", type=_input, help="roll calls CSV (default: next to the votes)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the ideal-point start")
    p.add_argument(
        "--sessions", type=count_between(1, 200), default=10, help="sessions in the window"
    )
    p.add_argument("--dims", type=_dims, default=2, help="ideal-point dimensions (1 or 2)")
    p.add_argument(
        "--hr-weight",
        type=number_between(0, MAX_HR_WEIGHT, above=True),
        default=2.0,
        help=f"weight of human-rights votes (more than 0, at most {MAX_HR_WEIGHT:g}; default 2)",
    )
    p.add_argument("--name", help="calibration name (default: the output file's stem)")
    add_calibrate_levers_flags(p)
    add_clause_options(p)
    add_session_linkage_options(p)
    p.set_defaults(handler=_calibrate)
    return p


def _command(args: argparse.Namespace) -> str:
    """The command as a user would type it again (options in a fixed order)."""
    parts = ["python", "-m", "unsim", "calibrate", "--series", str(args.series).upper()]
    if args.match:
        parts += ["--match", args.match]
    parts += ["--before", args.before.isoformat(), "--out", str(args.out)]
    for key in ("votes", "members", "roll_calls"):
        if getattr(args, key) is not None:
            parts += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    defaults = {"seed": 0, "sessions": 10, "dims": 2, "hr_weight": 2.0}
    for key, default in defaults.items():
        value = getattr(args, key)
        if value != default:
            parts += [
                f"--{key.replace('_', '-')}",
                f"{value:g}" if isinstance(value, float) else str(value),
            ]
    if args.name:
        parts += ["--name", args.name]
    return shlex.join(parts)


def _choice(row: dict[str, Any]) -> str:
    """A specification, the states' offsets' sd or the habit, compared or fitted when
    calibrating."""
    if "spec" in row:
        return str(row["spec"])
    if "pooled_weight" in row:
        return f"pooled regression's weight {row['pooled_weight']:g}, habit {row['habit']}"
    if "habit" in row:
        return f"habit {row['habit']}"
    return f"states' offsets, sd {row['state_offset_sd']}"


def _choice_score(row: dict[str, Any]) -> str:
    if "standard_error" in row:
        on = ", ".join(row.get("judged_on", []))
        return f"(habit se {row['standard_error']}) by likelihood on {row['n']} votes of states" + (
            f" ({on})" if on else ""
        )
    if "log_likelihood" in row:
        return f"log likelihood {row['log_likelihood']:.1f}"
    if "log_loss" in row:
        return f"log loss {row['log_loss']:.4f} on {row['votes']} vote(s)"
    return f"borrowed from {', '.join(row.get('borrowed_from', []))}"


def _calibrate(args: argparse.Namespace) -> int:
    """``calibrate --clauses``, ``--levers`` or a series' calibration."""
    if args.clauses + args.levers + args.session_linkage > 1:
        raise InputError(
            "--clauses, --levers and --session-linkage are three calibrations: give one"
        )
    if args.session_linkage:
        return cmd_calibrate_session(args)
    return cmd_calibrate_clauses(args) if args.clauses else cmd_calibrate(args)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """`unsim calibrate`: fit state positions and a series' vote model to real roll calls."""
    from unsim.calibration.calibrate import write_calibration
    from unsim.calibration.idealpoint import IdealPointConfig
    from unsim.calibration.seriescal import (
        build_series_calibration,
        calibrate_series,
        series_provenance,
    )
    from unsim.data import load_members, load_roll_calls, load_votes

    if args.levers:
        return cmd_calibrate_levers(args)
    paths = data_files(args)
    inputs = list(paths.values())
    check_output(args.out, "yaml", inputs=inputs)  # before the data is read and fitted
    votes = load_votes(paths["votes"])
    members = load_members(paths["members"])
    roll_calls = load_roll_calls(paths["roll_calls"])
    config = IdealPointConfig(sessions=args.sessions, dims=args.dims, hr_weight=args.hr_weight)
    sc = calibrate_series(
        votes, roll_calls, members, args.series, args.before, args.match, config, args.seed
    )
    provenance = series_provenance(sc, _command(args), paths, args.seed)
    name = args.name or args.out.stem
    cal = build_series_calibration(sc, name, provenance)
    header = (
        f"Calibration written by `{provenance['command']}`.\n"
        "Positions from General Assembly roll calls before the cut date, the vote model fitted\n"
        f"to the recorded plenary votes of the {sc.iso3} human-rights series before it (see\n"
        "provenance and diagnostics). Do not edit by hand: rerun the command."
    )
    print(sc.found.describe())
    used = set(sc.votes.rcids)
    left = [r for r in sc.found.rcids if r not in used]
    if left:
        print(f"  before the window (not fitted): rcid {', '.join(map(str, left))}")
    write_calibration(cal, args.out, header=header, inputs=inputs)
    d = cal.diagnostics
    print(f"specification: {d['specification']} (chosen by out-of-sample log loss)")
    for row in d["specification_comparison"]:
        print(f"  {_choice(row):<44} {_choice_score(row)}")
    for key, est in d["estimates"].items():
        se = est["standard_error"]
        print(f"  {key:<18} {est['value']!s:>8}  (se {'-' if se is None else se})")
    for warning in sc.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {args.out}: {len(cal.states)} states, {d['n_votes']} votes fitted")
    return int(ExitCode.OK)


# --------------------------------------------------------------------------------------------
# backtest
# --------------------------------------------------------------------------------------------
def add_backtest_parser(subparsers: SubParsers) -> argparse.ArgumentParser:
    """Register ``backtest``: score a scenario's forecast against a recorded vote, or run the
    time-split validation (``--timesplit``)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "backtest",
        help="score a forecast against a recorded vote, with naive baselines",
        description="Run SCENARIO and score its forecast of each stage in --actual (per-state "
        "accuracy, Brier score, log loss, 50 % and 90 % interval coverage of the tallies) "
        "next to naive baselines. With --timesplit, forecast each recorded plenary vote of a "
        "resolution series (--series ISO3, default PRK) from data before it and print the table.",
    )
    p.add_argument("scenario", type=Path, nargs="?", help="scenario YAML file")
    p.add_argument("--actual", type=_input, help="recorded votes CSV (see the README)")
    p.add_argument(
        "--runs", type=_runs, help="runs (default: the scenario's; 2000 for --timesplit)"
    )
    p.add_argument("--seed", type=_seed, help="master seed (default: the scenario's, or 0)")
    p.add_argument("--data", type=Path, help="real UN data folder (default: ../shared/data)")
    p.add_argument("--timesplit", action="store_true", help="run the time-split validation")
    p.add_argument(
        "--years",
        help="years of the time split (e.g. 2009-2011; default 2006-2011, or with --series "
        "every vote since 2000 that has an earlier one)",
    )
    p.add_argument(
        "--series",
        help="with --timesplit: ISO3 of the series (default PRK), or 'all': every country "
        "human-rights series with a vote to forecast",
    )
    p.add_argument(
        "--seeds",
        type=_seed,
        nargs="+",
        metavar="SEED",
        help="with --timesplit --series all: the master seeds to average over (default 0 1 2 3 4)",
    )
    p.add_argument("--match", help="with --series: text naming the country in the roll calls")
    p.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="with --timesplit, --council or --session: also write the scores as JSON",
    )
    p.add_argument("--workers", type=_workers, default=2, help="processes for ideal points")
    p.add_argument("--out", type=Path, help="also write the scores as CSV")
    p.add_argument(
        "--council",
        action="store_true",
        help="score the model's Security Council votes on the recorded ICC referrals (Darfur "
        "2005, Libya 2011, Syria 2014) with SCENARIO's Council behaviour (default: "
        "scenarios/icc_referral.yaml)",
    )
    add_backtest_levers_flags(p)
    add_backtest_session_options(p)
    p.set_defaults(handler=cmd_backtest)
    return p


def _years(text: str) -> range:
    try:
        if "-" in text:
            a, b = (int(t) for t in text.split("-", 1))
        else:
            a = b = int(text)
    except ValueError:
        raise InputError(f"--years: expected YEAR or FIRST-LAST, got {text!r}") from None
    if b < a:
        raise InputError(f"--years: {b} is before {a}")
    if a < YEARS[0] or b > YEARS[1]:
        raise InputError(f"--years: years from {YEARS[0]} to {YEARS[1]}; got {text!r}")
    return range(a, b + 1)


def cmd_backtest(args: argparse.Namespace) -> int:
    """`unsim backtest`: score a forecast against a recorded vote, with naive baselines."""
    from unsim.calibration.backtest import read_actual
    from unsim.calibration.validation import load_real_data, score_scenario

    if args.council:
        return _council_backtest(args)
    if args.levers:
        return cmd_backtest_levers(args)
    if args.session is not None:
        refuse_backtest_session_flags(args)
        args.inputs = _check_outputs(args)
        return cmd_backtest_session(args)
    args.years_given = args.years is not None
    if (args.series is not None or args.json is not None) and not args.timesplit:
        raise InputError("--series and --json go with --timesplit")
    every = (args.series or "").lower() == "all"
    if args.seeds is not None and not every:
        raise InputError("--seeds goes with --timesplit --series all (else give --seed)")
    if every and (args.years_given or args.match or args.seed is not None or args.out):
        raise InputError("--series all takes --seeds, --runs, --workers and --json only")
    args.inputs = _check_outputs(args)
    data = load_real_data(args.data) if (args.timesplit or args.data) else None
    if args.timesplit:
        return _series_timesplit(args, data)
    from unsim.scenario import load_scenario

    if args.scenario is None or args.actual is None:
        raise InputError("backtest needs SCENARIO and --actual FILE (or --timesplit)")
    actual = read_actual(args.actual)
    scenario = load_scenario(args.scenario)
    table, notes = score_scenario(scenario, actual, args.runs, args.seed, data)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(_scores_markdown(table))
    if args.out is not None:
        write_text_output(args.out, "csv", table.to_csv(index=False), inputs=args.inputs)
    return int(ExitCode.OK)


def _check_outputs(args: argparse.Namespace) -> list[Path]:
    """Refuse ``--out`` (CSV) and ``--json`` before anything runs when unsim may not write
    them (:func:`unsim.ownership.check_output`); return the files the command reads."""
    inputs = [*scenario_inputs(args.scenario), *data_inputs(args.data)]
    if args.actual is not None:
        inputs.append(Path(args.actual))
    both = args.out is not None and args.json is not None
    if both and Path(args.out).absolute() == Path(args.json).absolute():
        raise InputError(f"--out and --json name the same file ({args.out}): give two")
    if args.out is not None:
        check_output(args.out, "csv", inputs=inputs)
    if args.json is not None:
        check_output(args.json, "json", inputs=inputs)
    return inputs


def _series_timesplit(args: argparse.Namespace, data: Any) -> int:
    from unsim.calibration.timesplit import (
        SERIES_METHODS,
        series_timesplit,
        series_timesplit_markdown,
    )

    if args.scenario is not None or args.actual is not None:
        raise InputError("--timesplit builds its own scenarios: give no SCENARIO or --actual")
    if (args.series or "").lower() == "all":
        return _timesplit_all(args, data)
    years = _years(args.years) if args.years_given else None
    result = series_timesplit(
        args.series or "PRK",
        data,
        years=years,
        runs=args.runs or 2000,
        seed=args.seed or 0,
        match=args.match,
        workers=args.workers,
        progress=lambda m: print(m, file=sys.stderr),
    )
    print(series_timesplit_markdown(result))
    if args.out is not None:
        rows = [
            {"year": y["year"], "date": y["date"], "rcid": y["rcid"], "method": m, **y[m]}
            for y in result["years"]
            for m in SERIES_METHODS
        ]
        import pandas as pd

        table = pd.DataFrame(rows).drop(columns="median")
        write_text_output(args.out, "csv", table.to_csv(index=False), inputs=args.inputs)
    if args.json is not None:
        text = json_text(result, indent=1) + "\n"
        write_text_output(args.json, "json", text, inputs=args.inputs)
    return int(ExitCode.OK)


def _timesplit_all(args: argparse.Namespace, data: Any) -> int:
    """``backtest --timesplit --series all [--seeds ...]``: every series, several seeds."""
    from unsim.calibration.timesplitall import timesplit_all, timesplit_all_markdown

    result = timesplit_all(
        data,
        seeds=args.seeds or (0, 1, 2, 3, 4),
        runs=args.runs or 2000,
        workers=args.workers,
        progress=lambda m: print(m, file=sys.stderr),
    )
    print(timesplit_all_markdown(result))
    if args.json is not None:
        write_text_output(args.json, "json", json_text(result, indent=1) + "\n", inputs=args.inputs)
    return int(ExitCode.OK)


def _scores_markdown(table: Any) -> str:
    cols = [
        c
        for c in (
            "stage",
            "method",
            "n_states",
            "accuracy",
            "brier",
            "log_loss",
            "yes_median",
            "yes_actual",
            "in50",
            "in90",
        )
        if c in table.columns
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(
                f"{v:.3f}" if isinstance(v, float) and c not in ("yes_median",) else str(v)
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _council_backtest(args: argparse.Namespace) -> int:
    """``unsim backtest --council [SCENARIO] [--runs N] [--seed N] [--data DIR] [--json FILE]``:
    print the Markdown tables, write the JSON and the CSV if asked (atomically, replacing only
    files that unsim wrote)."""
    import pandas as pd

    from unsim.calibration.council_backtest import council_backtest
    from unsim.calibration.council_report import council_markdown
    from unsim.data import default_data_dir
    from unsim.scenario import load_scenario

    if args.actual is not None or args.timesplit:
        raise InputError(
            "--council scores the recorded Council votes: give no --actual/--timesplit"
        )
    path = args.scenario
    if path is None:
        path = Path("scenarios") / "icc_referral.yaml"
        if not path.exists():
            raise InputError(f"--council: no SCENARIO given and {path} not found; name one")
    args.scenario = path
    inputs = _check_outputs(args)
    scenario = load_scenario(path)
    data = Path(args.data) if args.data is not None else default_data_dir()
    result = council_backtest(
        scenario, data, runs=args.runs or 4000, seed=args.seed if args.seed is not None else 0
    )
    print(council_markdown(result))
    if args.json is not None:
        write_text_output(args.json, "json", json_text(result), inputs=inputs)
    if args.out is not None:
        table = pd.DataFrame(result["cases"])
        write_text_output(args.out, "csv", table.to_csv(index=False), inputs=inputs)
    return int(ExitCode.OK)
