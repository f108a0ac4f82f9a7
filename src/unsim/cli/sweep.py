"""``unsim sweep``: a parameter sweep from the command line.

    unsim sweep SCENARIO.yaml --param PATH=V1,V2,... [--param ...]        full grid
    unsim sweep SCENARIO.yaml --param PATH=LOW,HIGH [--param ...] --lhs N Latin hypercube
    unsim sweep SCENARIO.yaml                                           the scenario's sweep section

Values are read as YAML (``0.1``, ``true``, ``always``); ``START:STOP:NUM`` is NUM evenly spaced
numbers. Every point runs on the same master seed. The table (``sweep.parquet``),
``metadata.json`` and one file per finished point go to ``--out`` (default
``results/<name>/sweep-<time>-seed<seed>``); ``--resume`` with the same ``--out`` skips the points
already done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from unsim.cli.args import add_parallel_arguments
from unsim.cli.args import runs as _runs
from unsim.cli.args import seed as _seed
from unsim.errors import InputError
from unsim.safeio import load_yaml

__all__ = ["add_sweep_parser", "cmd_sweep", "parse_param"]

_LINSPACE = re.compile(r"^\s*(-?[\d.eE+-]+)\s*:\s*(-?[\d.eE+-]+)\s*:\s*(\d+)\s*$")
#: Most values of one swept parameter, and most points of a Latin hypercube.
MAX_VALUES = 1_000_000
DEFAULT_OUTCOMES = ("plenary_yes_mean", "icc_retained", "referral_tabled", "referral_adopted")


def _value(text: str) -> Any:
    try:
        return load_yaml(text) if text.strip() else None
    except yaml.YAMLError:
        return text.strip()


def _samples(text: str) -> int:
    from unsim.cli.args import integer_between

    return integer_between(text, 1, MAX_VALUES)


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"a.b[0].c=0.1,0.2"`` -> ``("a.b[0].c", [0.1, 0.2])``; ``START:STOP:NUM`` spaces evenly."""
    if "=" not in text:
        raise InputError(f"--param {text!r}: expected dotted.path=v1,v2,...")
    path, raw = (s.strip() for s in text.split("=", 1))
    if not path or not raw:
        raise InputError(f"--param {text!r}: expected dotted.path=v1,v2,...")
    m = _LINSPACE.match(raw)
    if m:
        import numpy as np

        try:
            start, stop, num = float(m.group(1)), float(m.group(2)), int(m.group(3))
        except ValueError:
            raise InputError(
                f"--param {text!r}: expected START:STOP:NUM with two numbers and a count"
            ) from None
        if not (math.isfinite(start) and math.isfinite(stop)):
            raise InputError(f"--param {text!r}: START and STOP must be finite numbers")
        if not 1 <= num <= MAX_VALUES:
            raise InputError(
                f"--param {text!r}: the number of values must be from 1 to {MAX_VALUES:,}"
            )
        return path, [round(float(v), 12) for v in np.linspace(start, stop, num)]
    if raw.startswith("["):
        values = _value(raw)
        if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
            raise InputError(f"--param {text!r}: expected a non-empty list of values")
        return path, values
    parts = raw.split(",")
    if len(parts) > MAX_VALUES:
        raise InputError(f"--param {path}: more than {MAX_VALUES:,} values")
    return path, [_value(v) for v in parts]


def add_sweep_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``sweep`` command to the main command line's subparsers."""
    p = subparsers.add_parser(
        "sweep",
        help="sweep scenario values over a grid or a Latin hypercube",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "scenario",
        type=Path,
        help="scenario YAML file, or a session file (parameters NAME.KEY.PATH of its drafts, "
        "or linkage.KEY)",
    )
    p.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="a scenario value and the values to sweep (with --lhs: PATH=LOW,HIGH); repeatable",
    )
    p.add_argument("--lhs", type=_samples, metavar="N", help="Latin hypercube of N points")
    p.add_argument("--runs", type=_runs, help="runs per point (default: the scenario's)")
    p.add_argument("--seed", type=_seed, help="master seed shared by every point")
    add_parallel_arguments(p, "the points")
    p.add_argument("--out", type=Path, help="output folder")
    p.add_argument("--resume", action="store_true", help="skip the points already in --out")
    p.add_argument(
        "--outcome",
        dest="outcomes",
        action="append",
        metavar="NAME",
        help=f"outcome to print (repeatable; default: {', '.join(DEFAULT_OUTCOMES)})",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print only where results went")
    p.set_defaults(handler=cmd_sweep)
    return p


def _format(table: Any, outcomes: list[str]) -> str:
    from unsim.studies.sweep_plots import short_name
    from unsim.studies.table import outcome_column, param_columns

    params = param_columns(table)
    shown = table[params].copy()
    shown.columns = [short_name(c) for c in params]
    for outcome in outcomes:
        col = outcome_column(table, outcome)
        if col.endswith("_p"):
            stem = col[:-2]
            shown[outcome] = [
                f"{p:.3f} [{lo:.3f}, {hi:.3f}]"
                for p, lo, hi in zip(
                    table[col], table[f"{stem}_ci_low"], table[f"{stem}_ci_high"], strict=True
                )
            ]
        else:
            shown[outcome] = table[col].round(2)
    return shown.to_string(index=False)


def _params(args: argparse.Namespace) -> dict[str, list[Any]]:
    """The ``--param`` values by path; a grid of more points than a design may have is
    refused as the values are read (before any point is made)."""
    from unsim.studies.designs import check_design_size

    params: dict[str, list[Any]] = {}
    points = 1
    for text in args.params:
        path, values = parse_param(text)
        if path in params:
            raise InputError(f"--param {path} given twice")
        params[path] = values
        points *= len(values)
        if not args.lhs:
            counts = " x ".join(str(len(v)) for v in params.values())
            try:
                check_design_size(points, f"--param {path}: the grid of {counts} values")
            except ValueError as err:
                raise InputError(str(err)) from None
    return params


def shown_outcomes(given: list[str] | None, scenario: Any, base: Any = None) -> list[str]:
    """The outcomes to print: those given (an ``--outcome`` the sweep's table will not have is
    refused, naming those it will), else the defaults that apply to the scenario (or session:
    ``base`` a ``SessionBase``)."""
    from unsim.errors import did_you_mean
    from unsim.session.study import SessionBase, default_outcomes, session_outcomes
    from unsim.studies.table import sweep_outcomes

    session = isinstance(base, SessionBase)
    known = session_outcomes(base) if session else sweep_outcomes(scenario)
    if not given:
        if session:
            return default_outcomes(base)
        return [name for name in DEFAULT_OUTCOMES if name in known]
    for name in given:
        if name not in known:
            hint = did_you_mean(name, known)
            raise InputError(
                f"--outcome {name!r}: unknown outcome; allowed: {', '.join(known)}"
                + (f"; did you mean {hint!r}?" if hint else "")
            )
    return list(given)


def cmd_sweep(args: argparse.Namespace) -> int:
    """`unsim sweep`: run a scenario over a grid or a Latin hypercube of values; write the table."""
    from unsim.engine import DaskExecutor
    from unsim.session.study import study_base
    from unsim.studies.base import choose_seed
    from unsim.studies.evaluator import Evaluator, SweepDesign

    params = _params(args)
    if args.resume and args.out is None:
        raise InputError("--resume needs --out (the folder of the sweep to resume)")
    base = study_base(args.scenario)
    if not params and getattr(base.scenario, "sweep", None) is None:
        raise InputError(
            f"{args.scenario}: no --param given and the scenario declares no sweep section"
        )
    outcomes = shown_outcomes(args.outcomes, base.scenario, base)
    seed = choose_seed(base, args.seed, args.out if args.resume else None)
    out = args.out
    if out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("results") / base.scenario.name / f"sweep-{stamp}-seed{seed}"
    executor = DaskExecutor(args.dask, timeout=args.dask_timeout) if args.dask is not None else None
    try:
        evaluator = Evaluator(
            base,
            runs=args.runs,
            seed=seed,
            workers=args.workers,
            executor=executor,
            out=out,
            resume=args.resume,
            progress=not args.quiet and sys.stderr.isatty(),
        )
        design = SweepDesign(params or None, "lhs" if args.lhs else None, args.lhs)
        table = evaluator.sweep(design)
    except ValueError as err:
        raise InputError(str(err)) from None
    finally:
        if executor is not None:
            executor.close()
    if args.quiet:
        print(out)
        return 0
    runs = int(table["runs"].iloc[0]) if len(table) else 0
    print(f"sweep of {base.scenario.name}: {len(table)} points x {runs} runs, seed {seed}")
    print(_format(table, outcomes))
    print(f"\nresults: {out}")
    return 0
