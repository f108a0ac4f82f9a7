"""``unsim explain SCENARIO|RESULTS --state ISO3``: why a state votes as it does."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unsim.cli.args import add_parallel_arguments
from unsim.cli.args import runs as _runs
from unsim.cli.args import seed as _seed
from unsim.errors import ExitCode, InputError

if TYPE_CHECKING:
    from unsim.results.tables import Results


def add_explain_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `explain` command."""
    p = sub.add_parser(
        "explain",
        help="why a state votes as it does: its stance in parts, what would change its vote",
        description="Run a scenario (or read a results folder) and explain one state's vote: "
        "its stance broken into its parts on the model's scale, its probability of each vote, "
        "its recorded votes, how often it was pivotal and the smallest change that would "
        "change its most likely vote. Draws the breakdown as a waterfall (PNG).",
    )
    p.add_argument(
        "scenario",
        type=Path,
        help="scenario YAML file, a session file (with --draft), or a results folder from "
        "`unsim run`",
    )
    p.add_argument(
        "--draft",
        metavar="NAME",
        help="with a session file: the draft to explain, as run within the session (its "
        "linkage included)",
    )
    p.add_argument("--state", required=True, metavar="ISO3", help="the state, e.g. IDN")
    p.add_argument(
        "--stage",
        default="plenary",
        help="the vote: plenary (default) or third_committee on the draft, amendment; "
        "sc_agenda or sc_referral in the Security Council, hrc in the Human Rights Council "
        "(their members only); the stages of unsim.model.stages",
    )
    p.add_argument("--runs", type=_runs, help="number of runs (default: the scenario's)")
    p.add_argument("--seed", type=_seed, help="master seed (default: the scenario's, or fresh)")
    add_parallel_arguments(p, "blocks", dask=False)
    p.add_argument(
        "--out",
        type=Path,
        help="the PNG to write (default: a new file in the results folder, or results/<name>/); "
        "an existing file is replaced only if it is a figure unsim drew",
    )
    p.add_argument(
        "--no-record",
        action="store_true",
        help="do not read the state's recorded votes from the real data",
    )
    p.set_defaults(handler=cmd_explain)


def _figure_path(args: argparse.Namespace, default_dir: Path, name: str) -> Path:
    """Where the figure goes: ``--out`` (a file, or a new file in an existing folder), else a
    new file in ``default_dir``."""
    out = args.out
    if out is not None and not out.is_dir():
        return Path(out)
    folder = out if out is not None else default_dir
    path, n = folder / f"{name}.png", 1
    while path.exists() or path.is_symlink():
        n += 1
        path = folder / f"{name}-{n}.png"
    return path


def cmd_explain(args: argparse.Namespace) -> int:
    """`unsim explain`: explain one state's vote in a scenario or a results folder."""
    from unsim.cli.outputs import results_inputs, scenario_inputs
    from unsim.engine import run
    from unsim.explain.explanation import explain
    from unsim.explain.figure import save_waterfall
    from unsim.explain.text import format_explanation
    from unsim.ownership import check_output
    from unsim.results.tables import Results, output_errors
    from unsim.scenario import load_scenario
    from unsim.session.load import is_session_file

    source = Path(args.scenario)
    from_folder = source.is_dir()  # a folder is read as results (an odd one says why)
    inputs = results_inputs(source) if from_folder else scenario_inputs(source)
    if args.out is not None and not args.out.is_dir():
        check_output(args.out, "png", inputs=inputs)  # before the run
    within = None
    if args.draft is not None or (not from_folder and is_session_file(source)):
        results, within = _session_draft(args, source)
        folder = Path("results") / within.session.name
    elif from_folder:
        results = Results.load(source)
        folder = source
    else:
        scenario = load_scenario(source)
        results = run(scenario, runs=args.runs, seed=args.seed, workers=args.workers)
        folder = Path("results") / scenario.name
    e = explain(results, args.state, args.stage, recorded=not args.no_record)
    path = _figure_path(args, folder, f"explain_{e.iso3}_{e.stage}_seed{results.seed}")
    with output_errors(path.parent):
        save_waterfall(e, path, inputs=inputs, replace=path == args.out)
    if within is not None:
        print(within.note)
    print(format_explanation(e))
    print(f"\nFigure: {path}")
    return ExitCode.OK


class _Within:
    """The session a draft was explained in, and the line saying so."""

    def __init__(self, session: Any, note: str) -> None:
        self.session, self.note = session, note


def _session_draft(args: argparse.Namespace, source: Path) -> tuple[Results, _Within]:
    """Draft ``--draft`` of the session file ``source``, run as the session runs it (its seed
    from the session's, the linkage included); only that draft runs (the others do not change
    its runs)."""
    from unsim.engine import run
    from unsim.engine.rng import new_master_seed
    from unsim.errors import did_you_mean
    from unsim.session.load import is_session_file, load_session
    from unsim.session.run import draft_seed, session_drafts

    if not is_session_file(source):
        raise InputError(
            f"--draft {args.draft}: {source} is not a session file (kind: session); --draft "
            "names one draft of a session"
        )
    loaded = load_session(source)
    names = list(loaded.drafts)
    if args.draft is None or args.draft not in loaded.drafts:
        given = "missing" if args.draft is None else f"{args.draft!r} is not one of its drafts"
        hint = did_you_mean(args.draft, names) if args.draft is not None else None
        raise InputError(
            f"{source} is a session: --draft NAME says which draft to explain ({given}); its "
            f"drafts: {', '.join(names)}" + (f"; did you mean {hint!r}?" if hint else "")
        )
    s = loaded.session
    seed = args.seed if args.seed is not None else s.simulation.seed
    seed = int(seed if seed is not None else new_master_seed())
    draft = session_drafts(loaded, seed)[args.draft]
    runs = int(args.runs if args.runs is not None else s.simulation.runs)
    results = run(draft, runs, draft_seed(seed, args.draft), args.workers)
    link = s.linkage_values()
    note = (
        f"Draft {args.draft} as run within session {s.name} (master seed {seed}, the draft's "
        f"seed {results.seed}): its linkage included (state factor sd "
        f"{link.state_factor.sd:g}, session shock sd {link.session_shock.sd:g}), shown as its "
        "own part of the stance.\n"
    )
    return results, _Within(s, note)
