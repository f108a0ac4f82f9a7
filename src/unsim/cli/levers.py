"""``unsim calibrate --levers`` and ``unsim backtest --levers``: the levers' effects estimated from
past episodes (:mod:`unsim.calibration.levers`), written as a ``kind: levers`` file, and their
leave-one-episode-out test."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from unsim.cli.args import input_file as _input
from unsim.cli.args import iso_date as _date
from unsim.cli.args import positive as _positive
from unsim.cli.args import runs as _runs
from unsim.errors import ExitCode, InputError
from unsim.ownership import check_output, json_text, write_text_output

__all__ = [
    "add_backtest_levers_flags",
    "add_calibrate_levers_flags",
    "cmd_backtest_levers",
    "cmd_calibrate_levers",
]

#: The reference draft at which the levers are mapped to votes and parameters: the 2014 DPRK
#: draft with the point values it was first stated with (the shipped scenarios draw levers from
#: the file this builds; measuring on them would make the file depend on itself).
DEFAULT_REFERENCE = Path("scenarios") / "levers" / "reference_2014.yaml"
DEFAULT_CUT = dt.date(2014, 11, 18)


def add_calibrate_levers_flags(p: argparse.ArgumentParser) -> None:
    """Add the flags of `unsim calibrate --levers`."""
    g = p.add_argument_group("levers (with --levers)")
    g.add_argument(
        "--levers",
        action="store_true",
        help="estimate the levers' effects from past episodes and write a levers file (--out)",
    )
    _episode_flags(g)
    g.add_argument(
        "--reference",
        type=_input,
        help=f"reference draft for votes and parameters (default: {DEFAULT_REFERENCE})",
    )
    g.add_argument(
        "--runs", type=_runs, default=4096, help="engine runs per reference measurement (4096)"
    )
    g.add_argument("--json", type=Path, metavar="FILE", help="also write the full report as JSON")


def add_backtest_levers_flags(p: argparse.ArgumentParser) -> None:
    """Add the flags of `unsim backtest --levers`."""
    g = p.add_argument_group("levers (with --levers)")
    g.add_argument(
        "--levers",
        action="store_true",
        help="leave each past episode out: forecast it with the levers estimated without it, "
        "next to data only",
    )
    g.add_argument("--before", type=_date, help="with --levers: cut date (2014-11-18)")
    _episode_flags(g)


def _episode_flags(g: Any) -> None:
    g.add_argument("--episodes", type=_input, help="episodes file (default: unsim's own)")
    g.add_argument(
        "--episode-workers",
        type=_positive,
        default=2,
        help="episodes calibrated at a time (2)",
    )


def _prepare(args: argparse.Namespace, before: dt.date) -> tuple[Any, list[Any]]:
    from unsim.calibration.episodes import DEFAULT_EPISODES, check_against_data, load_episodes
    from unsim.calibration.levers import compute_episodes
    from unsim.calibration.validation import load_real_data
    from unsim.errors import ScenarioError

    file = load_episodes(args.episodes)
    data = load_real_data(args.data)
    problems = check_against_data(file, data.roll_calls, data.votes, data.members, before=None)
    if problems:
        raise ScenarioError(str(args.episodes or DEFAULT_EPISODES), problems)
    items = compute_episodes(
        file,
        data,
        before=before,
        workers=args.episode_workers,
        progress=lambda m: print(m, file=sys.stderr),
    )
    if len(items) < 3:
        raise InputError(f"{len(items)} episode(s) before {before}: too few to estimate levers")
    return file, items


def _command(args: argparse.Namespace) -> str:
    parts = ["python", "-m", "unsim", "calibrate", "--levers", "--before", str(args.before)]
    parts += ["--out", str(args.out)]
    for key in ("episodes", "reference", "data"):
        if getattr(args, key, None) is not None:
            parts += [f"--{key}", str(getattr(args, key))]
    if args.runs != 4096:
        parts += ["--runs", str(args.runs)]
    return shlex.join(parts)


def _inputs(args: argparse.Namespace, reference: Path | None = None) -> list[Path]:
    """The files the command reads: the episodes, the data and the reference draft's."""
    from unsim.calibration.episodes import DEFAULT_EPISODES
    from unsim.cli.outputs import data_inputs, scenario_inputs

    episodes = Path(args.episodes) if args.episodes is not None else Path(DEFAULT_EPISODES)
    return [episodes, *data_inputs(args.data), *scenario_inputs(reference)]


def _check_json(args: argparse.Namespace, inputs: list[Path], out: Path | None = None) -> None:
    """``--json FILE``: refused at once where unsim may not write it (:mod:`unsim.ownership`)."""
    path = getattr(args, "json", None)
    if path is None:
        return
    if out is not None and Path(path).absolute() == Path(out).absolute():
        raise InputError(f"--out and --json name the same file ({out}): give two")
    check_output(path, "json", inputs=inputs)


def cmd_calibrate_levers(args: argparse.Namespace) -> int:
    """`unsim calibrate --levers`: estimate the levers' effects from past episodes."""
    from unsim.calibration.levermap import measure_reference
    from unsim.calibration.levers import evaluate
    from unsim.calibration.leversbuild import build_levers
    from unsim.calibration.leversfile import check_writable, write_levers

    reference = Path(args.reference or DEFAULT_REFERENCE)
    inputs = _inputs(args, reference)
    check_writable(args.out, inputs)
    _check_json(args, inputs, args.out)
    if not reference.is_file():
        raise InputError(f"--reference: {reference} not found; name the reference draft")
    _, items = _prepare(args, args.before)
    result = evaluate(items)
    print("measuring the reference draft with the engine", file=sys.stderr)
    ref = measure_reference(reference, runs=args.runs, seed=1)
    name = args.name or Path(args.out).stem
    levers = build_levers(
        name,
        args.before,
        [i.episode for i in items],
        result["fit"],
        result["decisions"],
        ref,
        result["summary"],
    )
    write_levers(levers, args.out, _command(args), inputs=inputs)
    print(_report(items, result))
    print(f"wrote {args.out}: {len(levers.levers)} levers from {len(items)} episodes")
    if getattr(args, "json", None) is not None:
        _write_json(args.json, items, result, ref, inputs)
    return int(ExitCode.OK)


def cmd_backtest_levers(args: argparse.Namespace) -> int:
    """`unsim backtest --levers`: forecast each past episode with levers estimated without it."""
    from unsim.calibration.levers import evaluate

    if args.scenario is not None or args.actual is not None or args.timesplit:
        raise InputError(
            "--levers forecasts the episodes: give no SCENARIO, --actual or --timesplit"
        )
    if args.out is not None:
        raise InputError("--levers writes its report with --json FILE, not --out")
    inputs = _inputs(args)
    _check_json(args, inputs)
    before = args.before or DEFAULT_CUT
    _, items = _prepare(args, before)
    result = evaluate(items)
    print(_report(items, result, per_episode=True))
    if args.json is not None:
        _write_json(args.json, items, result, None, inputs)
    return int(ExitCode.OK)


def _fmt(d: dict[str, Any]) -> str:
    if not d["n"]:
        return "-"
    if d["n"] < 2:
        return f"{d['mean']:+.4f} (1 episode)"
    return f"{d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] ({d['n']})"


def _report(items: list[Any], result: dict[str, Any], per_episode: bool = False) -> str:
    from unsim.calibration.episodes import LEVERS

    fit, summary = result["fit"], result["summary"]
    lines = [
        f"{len(items)} episodes ({summary['changed']} with a change); tau0 {fit.tau0:.3f}, "
        f"tau_lever {fit.tau_lever:.3f}; controls' mean shift "
        f"{result['control_bias']['mean']:+.3f} (se {result['control_bias']['se']:.3f})",
        "",
        "| lever | episodes | effect (latent) | 95 % interval | leave-one-out log loss change "
        "(its episodes) | ships |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in LEVERS:
        d = result["decisions"][name]
        effect = interval = "-"
        if fit.estimated(name):
            m, se = fit.effect(name)
            lo, hi = fit.interval(name)
            effect, interval = f"{m:+.3f} (se {se:.3f})", f"[{lo:+.3f}, {hi:+.3f}]"
        loo = result["summary_all"]["per_lever"][name]["log_loss"]
        lines.append(
            f"| {name} | {d['episodes']} | {effect} | {interval} | {_fmt(loo)} | "
            f"{'yes' if d['ships'] else 'no: centred at 0'} |"
        )
    lines += [
        "",
        "Leave one episode out, with the shipped levers minus data only (below 0: better):",
    ]
    for key, label in (("summary", "every other episode"), ("summary_past", "past episodes only")):
        s = result[key]
        for score in ("log_loss", "tally_log_loss"):
            lines.append(
                f"  {label:<20} {score:<15} all {_fmt(s[score]['difference'])}; "
                f"with a change {_fmt(s[score]['difference_changed'])}"
            )
    if per_episode:
        lines += [
            "",
            "| episode | levers | shift (se) | log loss: data only | with levers |",
            "|---|---|---:|---:|---:|",
        ]
        for item, row in zip(items, result["rows"], strict=True):
            lv = ", ".join(f"{k} {v:+g}" for k, v in row["levers"].items()) or "control"
            lines.append(
                f"| {row['id']} | {lv} | {item.shift.shift:+.3f} "
                f"({item.shift.variance**0.5:.3f}) | {row['data_only']['log_loss']:.4f} | "
                f"{row['with_levers']['log_loss']:.4f} |"
            )
    return "\n".join(lines)


def _write_json(
    path: Path, items: list[Any], result: dict[str, Any], ref: Any, inputs: list[Path]
) -> None:
    from unsim.calibration.levers import fit_table

    fit = result["fit"]
    out = {
        "episodes": [
            {
                **i.shift.as_dict(),
                "series": i.episode.series,
                "date": str(i.episode.vote.date),
                "levers": i.episode.levers,
                "specification": i.forecast.specification,
            }
            for i in items
        ],
        "fit": {
            "tau0": fit.tau0,
            "tau_lever": fit.tau_lever,
            "dof": fit.dof,
            "levers": fit_table(fit),
            "notes": fit.notes,
        },
        "decisions": result["decisions"],
        "control_bias": result["control_bias"],
        "leave_one_out": {
            "shipped": result["summary"],
            "every_lever": result["summary_all"],
            "past_only": result["summary_past"],
            "rows": result["rows"],
        },
    }
    if ref is not None:
        out["reference"] = {
            "path": ref.path,
            "stage": ref.stage,
            "runs": ref.runs,
            "yes": ref.yes,
            "deltas": ref.deltas,
            "yes_change": ref.curve,
            "per_unit": ref.per_unit,
        }
    text = json_text(json.loads(json.dumps(out, default=float)), indent=1) + "\n"
    write_text_output(path, "json", text, inputs=inputs)
