"""``unsim SESSION.yaml`` (a file of ``kind: session``), its ``--compare`` and ``validate``.

The run command hands a session file here; of its flags a session takes ``--runs``, ``--seed``,
``--workers``, ``--dask``, ``--out``, ``--force``, ``--set``, ``--compare`` (another session),
``--no-plots``, ``--quiet``, ``--data-only`` (every draft data-only, the linkage kept, beside the
session as given), ``--csv`` and ``--report`` (the session's report, ``unsim.session.report``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from unsim.errors import ExitCode, InputError, ScenarioError

if TYPE_CHECKING:
    from unsim.session.load import LoadedSession
    from unsim.session.run import SessionResults


def session_inputs(path: Path, loaded: object) -> list[Path]:
    """The files a session reads: the session file and its drafts' own files."""
    files = [path, *(f for f in getattr(loaded, "files", {}).values() if f is not None)]
    return [Path(f) for f in files]


def cmd_run_session(args: argparse.Namespace) -> int:
    """Run a session (and, with ``--compare``, a second session on the same numbers; with
    ``--data-only``, the data-only session beside it)."""
    from unsim.cli.steps import Steps
    from unsim.engine.rng import new_master_seed
    from unsim.results.output import check_output_folder, probe_output_folder
    from unsim.session.load import is_session_file, load_session
    from unsim.session.run import run_session
    from unsim.session.views import data_only_session

    steps = Steps(quiet=args.quiet, started=getattr(args, "started", None))
    loaded = load_session(args.scenario, overrides=args.overrides)
    other = None
    if args.compare is not None:
        if args.data_only:
            raise InputError(
                "--data-only and --compare: the data-only session removes what --compare would "
                "compare; run each on its own"
            )
        if not is_session_file(args.compare):
            raise InputError(f"--compare {args.compare}: a session compares with a session file")
        other = load_session(args.compare, overrides=args.overrides)
    s = loaded.session
    seed = args.seed if args.seed is not None else s.simulation.seed
    seed = seed if seed is not None else new_master_seed()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else Path("results") / s.name / f"{stamp}-seed{seed}"
    inputs = session_inputs(args.scenario, loaded)
    check_output_folder(out, force=args.force, inputs=inputs)
    probe_output_folder(out)
    executor = None
    if args.dask is not None:
        from unsim.engine.dask import DaskExecutor

        executor = DaskExecutor(args.dask, timeout=args.dask_timeout)
    common = dict(runs=args.runs, seed=seed, workers=args.workers, executor=executor)
    run_loaded = data_only_session(loaded) if args.data_only else loaded
    try:
        res = run_session(run_loaded, announce=steps.say, **common)
        if args.data_only:
            steps.say("the session as given, on the same runs (for the paired difference)")
            other = loaded
        res_b = run_session(other, announce=steps.say, **common) if other else None
    finally:
        if executor is not None:
            executor.close()
    res.metadata["command"] = " ".join(["unsim", *sys.argv[1:]])
    res.metadata["data_only"] = bool(args.data_only)
    _finish_session(args, loaded, other, res, res_b, out, inputs)
    return ExitCode.OK


def _finish_session(
    args: argparse.Namespace,
    loaded: LoadedSession,
    other: LoadedSession | None,
    res: SessionResults,
    res_b: SessionResults | None,
    out: Path,
    inputs: list[Path],
) -> None:
    """Save the folder (with the paired table, the report) and print the summary."""
    from unsim.session.output import format_session, save_session
    from unsim.session.views import format_paired, paired_table

    paired = None
    if res_b is not None:
        # data only: as given (B) minus data only (A); --compare: B minus A
        paired = paired_table(loaded, res.table, res_b.table, other)
    name = "data_only" if args.data_only else "comparison"
    written = save_session(
        res,
        out,
        plots=not args.no_plots,
        force=args.force,
        inputs=inputs,
        table_format="csv" if args.csv else "parquet",
        tables={name: paired} if paired is not None else None,
    )
    if getattr(args, "report", False):
        from unsim.session.report import write_session_report
        from unsim.session.views import load_session_results

        write_session_report(load_session_results(written), written / "report.html")
    if args.quiet:
        print(written)
        return
    if args.data_only:
        print("The data-only session (every draft's stated assumptions removed, the linkage kept):")
    print(format_session(res, out=str(written)))
    if paired is not None and res_b is not None:
        print()
        if args.data_only:
            title = (
                "The session as given beside its data-only forecast (every draft's stated "
                "assumptions removed, the linkage kept), paired run by run"
            )
            print(format_paired(paired, title, "data only", "as given"))
        else:
            title = (
                "Paired comparison of sessions on common random numbers: B minus A (A = "
                f"{loaded.session.name}, B = {res_b.session.name})"
            )
            print(format_paired(paired, title, "A", "B"))


def validate_session(path: Path, overrides: list[str]) -> bool:
    """``unsim validate`` of a session file: True when valid (its line printed), else False
    (its problems printed)."""
    from unsim.session.load import load_session

    try:
        loaded = load_session(path, overrides=overrides)
    except ScenarioError as err:
        print(err.render(), file=sys.stderr)
        return False
    link = loaded.session.linkage_values()
    print(
        f"{path}: ok (session {loaded.session.name}: {len(loaded.drafts)} drafts "
        f"{', '.join(loaded.drafts)}; state factor sd {link.state_factor.sd:g}, session shock "
        f"sd {link.session_shock.sd:g})",
        flush=True,
    )
    return True


def add_session_linkage_options(p: argparse.ArgumentParser) -> None:
    """``calibrate --session-linkage`` (beside --before, --out, --seed and the data files)."""
    p.add_argument(
        "--session-linkage",
        action="store_true",
        help="estimate a session's linkage (the vote copula's rho and the session shock's sd) "
        "from the sessions before --before with two or more recorded country human-rights "
        "votes, and write a linkage file that a session references",
    )


def cmd_calibrate_session(args: argparse.Namespace) -> int:
    """Write a linkage file (``kind: session_linkage``)."""
    import yaml

    from unsim.cli.outputs import data_files
    from unsim.data import load_members, load_roll_calls, load_votes
    from unsim.ownership import check_output, write_text_output
    from unsim.session.calibrate import (
        LINKAGE_FORM,
        build_linkage_file,
        series_roll_calls,
        session_votes,
        without_vote_records,
    )
    from unsim.session.estimate import estimate_linkage

    paths = data_files(args)
    inputs = list(paths.values())
    check_output(args.out, "yaml", inputs=inputs)
    votes, members = load_votes(paths["votes"]), load_members(paths["members"])
    found = series_roll_calls(load_roll_calls(paths["roll_calls"]), votes, members, args.before)
    sessions = session_votes(votes, members, found, args.before, progress=print)
    if len(sessions) < 2:
        raise InputError(
            f"--session-linkage: {len(sessions)} sessions before {args.before} with two or more "
            "recorded country human-rights votes; at least 2 are needed"
        )
    print(f"estimating the linkage on {len(sessions)} sessions")
    est = estimate_linkage(sessions, seed=args.seed, form=LINKAGE_FORM)
    command = f"python -m unsim calibrate --session-linkage --before {args.before} --out {args.out}"
    records = without_vote_records(found, paths["votes"].parent, args.before)
    link = build_linkage_file(
        est, args.name or args.out.stem, args.before, records, sessions, command
    )
    header = f"# Session linkage written by {command}.\n# Do not edit by hand: rerun the command.\n"
    text = header + yaml.safe_dump(
        link.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
    )
    write_text_output(args.out, "yaml", text, inputs=inputs)
    cop = link.linkage.vote_copula
    print(
        f"wrote {args.out}: vote copula rho {0.0 if cop is None else cop.rho:g}, state factor "
        f"sd {link.linkage.state_factor.sd:g}, session shock sd "
        f"{link.linkage.session_shock.sd:g} (statistic {est.statistic:.4f}, {est.pairs} pairs)"
    )
    return ExitCode.OK


#: The last session a backtest may hold out: the next one votes after 18 November 2014.
LAST_SESSION_YEAR = 2013


def add_backtest_session_options(p: argparse.ArgumentParser) -> None:
    """``backtest --session YEARS`` (beside --runs, --seed, --data and --json)."""
    p.add_argument(
        "--session",
        metavar="YEARS",
        help="backtest whole sessions: each General Assembly session opening in YEARS (e.g. "
        "2008-2013) with two or more recorded plenary votes on country human-rights series, "
        "its drafts run together, calibrated and linked on the data before its first such vote",
    )


def session_years(text: str) -> range:
    """``YEAR`` or ``FIRST-LAST``: the years the held-out sessions open in."""
    try:
        a, b = (int(t) for t in text.split("-", 1)) if "-" in text else (int(text),) * 2
    except ValueError:
        raise InputError(f"--session: expected YEAR or FIRST-LAST, got {text!r}") from None
    if b < a:
        raise InputError(f"--session: {b} is before {a}")
    if a < 1946 or b > LAST_SESSION_YEAR:
        raise InputError(
            f"--session: years from 1946 to {LAST_SESSION_YEAR} (the session opening in 2014 "
            f"votes after 18 November 2014); got {text!r}"
        )
    return range(a, b + 1)


def refuse_backtest_session_flags(args: argparse.Namespace) -> None:
    """``--session`` takes --runs, --seed, --data and --json only."""
    given = [
        flag
        for flag, on in (
            ("SCENARIO", args.scenario is not None),
            ("--actual", args.actual is not None),
            ("--timesplit", args.timesplit),
            ("--series", args.series is not None),
            ("--seeds", args.seeds is not None),
            ("--years", args.years is not None),
            ("--match", args.match is not None),
            ("--out", args.out is not None),
        )
        if on
    ]
    if given:
        raise InputError(
            f"--session builds its own sessions and takes --runs, --seed, --data and --json "
            f"only: drop {', '.join(given)}"
        )


def cmd_backtest_session(args: argparse.Namespace) -> int:
    """``unsim backtest --session YEARS [--runs N --seed S --json FILE]``."""
    from unsim.calibration.validation import DEFAULT_WORLD, load_real_data
    from unsim.ownership import json_text, write_text_output
    from unsim.scenario import load_world
    from unsim.session.backtest import session_backtest, session_backtest_markdown

    years = session_years(args.session)
    data = load_real_data(args.data)
    result = session_backtest(
        years,
        data,
        load_world(DEFAULT_WORLD),
        runs=args.runs or 2000,
        seed=args.seed or 0,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(session_backtest_markdown(result))
    if args.json is not None:
        text = json_text(result, indent=1) + "\n"
        write_text_output(args.json, "json", text, inputs=args.inputs)
    return int(ExitCode.OK)
