"""``unsim sensitivity``: global sensitivity analysis of a scenario from the command line.

    unsim sensitivity SCENARIO.yaml --method sobol --param PATH=LOW:HIGH [--param ...] --n 256
    unsim sensitivity SCENARIO.yaml --param PATH ...     # PATH given as a distribution
    unsim sensitivity SCENARIO.yaml --method morris --param PATH=LOW:HIGH ... --n 20

SALib draws the design (Saltelli's scheme for Sobol indices: N x (parameters + 2) points;
N Morris trajectories: N x (parameters + 1) points); every point runs ``--runs`` runs on the same
master seed; the indices of each outcome come with bootstrap 95 % intervals. A convergence check
warns when the sample looks too small (a first-order index above the total one beyond their
intervals, an index below zero beyond its interval, an interval wider than the index it
qualifies) and suggests a larger N.

The folder (``--out``, default ``results/<name>/sensitivity-<time>-seed<seed>``) holds what a
sweep's holds (``sweep.parquet``: one row per point; ``points/``; ``metadata.json``) and
``indices.parquet`` / ``indices.csv``, ``sensitivity.json`` (method, ranges, warnings) and
``indices.png``. ``--resume`` with the same ``--out`` skips the points already done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import warnings
from pathlib import Path
from typing import Any

from unsim.cli.args import add_parallel_arguments, integer_between
from unsim.cli.args import runs as _runs
from unsim.cli.args import seed as _seed
from unsim.errors import InputError

__all__ = ["add_sensitivity_parser", "cmd_sensitivity", "parse_range_param"]

DEFAULT_OUTCOMES = ("plenary_adopted", "icc_retained", "referral_tabled", "referral_adopted")
#: The files a resumed analysis writes again (each must be one unsim wrote).
FILES = (
    "metadata.json",
    "sweep.parquet",
    "indices.parquet",
    "indices.csv",
    "sensitivity.json",
    "indices.png",
)


#: Most levels of a Morris grid.
MAX_LEVELS = 100


def _levels(text: str) -> int:
    """Morris grid levels: an even number (with an odd one the elementary effects are
    biased), 2 to :data:`MAX_LEVELS`."""
    value = integer_between(text, 2, MAX_LEVELS)
    if value % 2:
        raise argparse.ArgumentTypeError(
            f"must be an even number (with an odd one Morris's elementary effects are biased), "
            f"got {value}"
        )
    return value


def _base_sample(text: str) -> int:
    """Sobol's base sample or Morris's trajectories: 1 to the most points of a design (the
    design's own size is checked once the parameters are known)."""
    from unsim.studies.designs import MAX_POINTS

    return integer_between(text, 1, MAX_POINTS)


def parse_range_param(text: str) -> tuple[str, tuple[float, float] | None]:
    """``"a.b[0].c=0:0.5"`` -> ``("a.b[0].c", (0.0, 0.5))``; ``"a.b[0].c"`` -> ``("a.b[0].c",
    None)``: the range of a value the scenario gives as a distribution (its central 98 %)."""
    if "=" not in text:
        path = text.strip()
        if not path or any(c in path for c in " :,"):
            raise InputError(
                f"--param {text!r}: expected dotted.path=LOW:HIGH (e.g. behaviour.x=0:1), or a "
                "path alone for a value the scenario gives as a distribution"
            )
        return path, None
    path, raw = (s.strip() for s in text.split("=", 1))
    bounds = [b.strip() for b in raw.replace(",", ":").split(":")]
    if not path or len(bounds) != 2:
        raise InputError(f"--param {text!r}: expected dotted.path=LOW:HIGH, e.g. behaviour.x=0:1")
    try:
        low, high = float(bounds[0]), float(bounds[1])
    except ValueError:
        raise InputError(
            f"--param {text!r}: LOW and HIGH must be numbers; got {bounds[0]!r} and {bounds[1]!r}"
        ) from None
    if not high > low:
        raise InputError(f"--param {text!r}: the range must have LOW < HIGH; got {low}:{high}")
    return path, (low, high)


def add_sensitivity_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add the `sensitivity` command."""
    p = subparsers.add_parser(
        "sensitivity",
        help="Sobol or Morris sensitivity indices of the outcomes over parameter ranges",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "scenario",
        type=Path,
        help="scenario YAML file, or a session file (parameters NAME.KEY.PATH of its drafts, "
        "or linkage.KEY)",
    )
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    p.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="a scenario value and its range (repeatable, at least one); PATH alone for a "
        "value the scenario gives as a distribution: its central 98 %%",
    )
    p.add_argument(
        "--n",
        type=_base_sample,
        default=64,
        help="Sobol: base sample (a power of two; points = N x (parameters + 2)); "
        "Morris: trajectories (points = N x (parameters + 1)). Default 64",
    )
    p.add_argument(
        "--levels",
        type=_levels,
        default=4,
        help=f"Morris grid levels, an even number from 2 to {MAX_LEVELS} (default 4)",
    )
    p.add_argument("--runs", type=_runs, default=500, help="runs per point (default 500)")
    p.add_argument("--seed", type=_seed, help="master seed shared by every point")
    add_parallel_arguments(p, "the points", dask=False)
    p.add_argument("--out", type=Path, help="output folder")
    p.add_argument("--resume", action="store_true", help="skip the points already in --out")
    p.add_argument(
        "--outcome",
        dest="outcomes",
        action="append",
        metavar="NAME",
        help=f"outcome to analyse (repeatable; default: {', '.join(DEFAULT_OUTCOMES)})",
    )
    p.add_argument("--no-plots", action="store_true", help="do not draw indices.png")
    p.add_argument("--quiet", "-q", action="store_true", help="print only where results went")
    p.set_defaults(handler=cmd_sensitivity)
    return p


def _bounds(base: Any, params: list[str]) -> dict[str, tuple[float, float] | tuple[int, int]]:
    """Ranges by path; whole numbers where the scenario's value at the path is one."""
    from unsim.scenario.labels import value_at
    from unsim.session.study import value_scenario

    out: dict[str, Any] = {}
    for text in params:
        path, given = parse_range_param(text)
        if path in out:
            raise InputError(f"--param {path} given twice")
        if given is None:  # the range of its distribution
            try:
                out[path] = base.ranges({path: None})[path]
            except ValueError as err:
                raise InputError(f"--param {err}") from None
            continue
        low, high = given
        scenario, own = value_scenario(base, path)
        current = value_at(scenario, own) if scenario is not None else None
        if isinstance(current, int) and not isinstance(current, bool):
            if not (low.is_integer() and high.is_integer()):
                raise InputError(
                    f"--param {text!r}: {path} is a whole number; give whole-number bounds"
                )
            out[path] = (int(low), int(high))
        else:
            out[path] = (low, high)
    return out


def _check_outcomes(outcomes: list[str], base: Any = None) -> None:
    from unsim.errors import did_you_mean
    from unsim.model.outcomes import known_outcomes
    from unsim.session.study import SessionBase, session_outcomes

    session = isinstance(base, SessionBase)
    known = session_outcomes(base) if session else [name for name, _, _ in known_outcomes()]
    for o in outcomes:
        if o not in known and (session or not o.endswith("_yes_mean")):
            hint = did_you_mean(o, known)
            raise InputError(
                f"--outcome {o!r}: unknown outcome; allowed: {', '.join(known)}, "
                "<stage>_yes_mean" + (f"; did you mean {hint!r}?" if hint else "")
            )


def _out_folder(args: argparse.Namespace, base: Any, meta: dict[str, Any]) -> tuple[Path, int]:
    """The output folder and the seed, the folder refused before anything runs: a new or empty
    one, or with ``--resume`` one of the same analysis (:mod:`unsim.studies.resume`)."""
    from unsim.results.tables import check_output_folder
    from unsim.studies.base import choose_seed
    from unsim.studies.resume import check_resume

    if args.resume:
        study = {**meta, "scenario_digest": base.digest, "design": "sensitivity"}
        check_resume(args.out, {**study, "params": meta["bounds"]}, files=FILES)
    seed = choose_seed(base, args.seed, args.out if args.resume else None)
    out = args.out
    if out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("results") / base.scenario.name / f"sensitivity-{stamp}-seed{seed}"
    if not args.resume:
        check_output_folder(out, hint="or resume the analysis saved there with --resume")
    return Path(out), seed


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """`unsim sensitivity`: Sobol or Morris indices of the outcomes over parameter ranges."""
    from unsim.session.study import SessionBase, default_outcomes, study_base
    from unsim.studies.convergence import convergence_warnings, suggest_n
    from unsim.studies.evaluator import Evaluator, Sensitivity
    from unsim.studies.sensitivity import outcomes_without_indices

    if not args.params:
        raise InputError("give at least one --param PATH=LOW:HIGH")
    if args.resume and args.out is None:
        raise InputError("--resume needs --out (the folder of the analysis to resume)")
    base = study_base(args.scenario)
    default = default_outcomes(base) if isinstance(base, SessionBase) else DEFAULT_OUTCOMES
    outcomes = list(args.outcomes or default)
    _check_outcomes(outcomes, base)
    bounds = _bounds(base, args.params)
    names = base.labels(list(bounds))
    meta = {
        "kind": "sensitivity",
        "method": args.method,
        "n": args.n,
        "bounds": {k: list(v) for k, v in bounds.items()},
        "outcomes": outcomes,
    }
    out, seed = _out_folder(args, base, meta)
    evaluator = Evaluator(
        base,
        runs=args.runs,
        seed=seed,
        workers=args.workers,
        out=out,
        resume=args.resume,
        progress=not args.quiet and sys.stderr.isatty(),
        metadata=meta,
    )
    table = _analyse(args, evaluator, Sensitivity(bounds, outcomes, args.n, args.levels))
    table.attrs["labels"] = names
    skipped = outcomes_without_indices(table)
    _warn_no_indices(skipped)
    signs = convergence_warnings(table, names)
    info = {
        **meta,
        "runs_per_point": args.runs,
        "seed": seed,
        "points": int(table.attrs.get("evaluations", 0)),
        "labels": names,
        "warnings": [w.message for w in signs],
        "no_indices": skipped,
        "suggested_n": suggest_n(args.n, args.method) if signs else None,
    }
    _save(out, table, info, plots=not args.no_plots)
    if args.quiet:
        print(out)
        return 0
    _report(args, base.scenario.name, seed, table, names, signs, info)
    print(f"\nresults: {out}")
    return 0


def _warn_no_indices(skipped: dict[str, str]) -> None:
    """Say which outcomes have no Sobol indices, and why (even with --quiet: the printed table
    and the figure leave them out)."""
    for outcome, why in skipped.items():
        print(
            f"warning: {outcome}: no Sobol indices, {why}: a Sobol index shares out the "
            "outcome's variance over the points; left out of the table and the figure (its "
            "rows in indices.parquet hold NaN)",
            file=sys.stderr,
        )


def _analyse(args: argparse.Namespace, evaluator: Any, problem: Any) -> Any:
    """The Sobol or Morris table (bad settings as :class:`InputError`)."""
    try:
        with warnings.catch_warnings():
            # an outcome constant over some of the points: SALib says so for each; the indices
            # and the convergence check below say what matters
            warnings.filterwarnings("ignore", message="Constant values encountered")
            if args.method == "sobol":
                return evaluator.sobol(problem)
            return evaluator.morris(problem)
    except ValueError as err:
        raise InputError(str(err)) from None


def _save(out: Path, table: Any, info: dict[str, Any], plots: bool) -> None:
    """``indices.parquet`` / ``.csv``, ``sensitivity.json`` and the figure, each atomically
    (over a file unsim wrote only: :mod:`unsim.ownership`)."""
    from unsim.ownership import json_text, write_output, write_parquet, write_text_output

    plain = table.copy()
    plain.attrs = {}
    write_output(out / "indices.parquet", "parquet", lambda tmp: write_parquet(plain, tmp))
    write_output(out / "indices.csv", "csv", lambda tmp: plain.to_csv(tmp, index=False))
    write_text_output(out / "sensitivity.json", "json", json_text(info))
    if plots:
        from unsim.studies.plots import save_sensitivity_figure

        save_sensitivity_figure(table, out / "indices.png")


def _report(
    args: argparse.Namespace,
    name: str,
    seed: int,
    table: Any,
    names: dict[str, str],
    signs: list[Any],
    info: dict[str, Any],
) -> None:
    """Print the indices, and the convergence warnings on stderr."""
    from unsim.studies.convergence import suggest_n

    print(
        f"{args.method} sensitivity of {name}: {info['points']} points x "
        f"{args.runs} runs, seed {seed}"
    )
    print(format_indices(table, names))
    if signs:
        print(f"\nwarning: the sample looks too small ({len(signs)} signs):", file=sys.stderr)
        for w in signs:
            print(f"  - {w.message}", file=sys.stderr)
        print(
            f"  try a larger sample: --n {suggest_n(args.n, args.method)} (with --resume and "
            "the same --out, the points already run are reused)",
            file=sys.stderr,
        )


def format_indices(table: Any, names: dict[str, str]) -> str:
    """The indices per outcome, most influential parameter first."""
    from unsim.studies.sensitivity import outcomes_without_indices

    sobol_table = "ST" in table.columns
    skipped = outcomes_without_indices(table)
    lines = []
    for outcome, part in table.groupby("outcome", sort=False):
        if outcome in skipped:  # its indices are NaN: said in a warning instead
            continue
        key = "ST" if sobol_table else "mu_star"
        part = part.sort_values(key, ascending=False)
        lines.append(f"\n{outcome}")
        width = max(len(names.get(p, p)) for p in part["parameter"])
        if sobol_table:
            lines.append(f"  {'parameter':<{width}}  {'first order':>16}  {'total':>16}")
            for r in part.itertuples(index=False):
                lines.append(
                    f"  {names.get(r.parameter, r.parameter):<{width}}  "
                    f"{r.S1:>7.3f} ± {r.S1_conf:<6.3f}  {r.ST:>7.3f} ± {r.ST_conf:<6.3f}"
                )
        else:
            lines.append(f"  {'parameter':<{width}}  {'mu*':>18}  {'sigma':>9}")
            for r in part.itertuples(index=False):
                lines.append(
                    f"  {names.get(r.parameter, r.parameter):<{width}}  "
                    f"{r.mu_star:>8.4f} ± {r.mu_star_conf:<7.4f}  {r.sigma:>9.4f}"
                )
    return "\n".join(lines)
