"""``unsim calibrate --clauses``: the clause pass-through and deviation from the separate votes on
paragraphs and amendments before a cut (:mod:`unsim.calibration.clausecal`), as a clause
calibration file a scenario names with ``clause_calibration: PATH``."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

import yaml

from unsim.errors import ExitCode, InputError
from unsim.ownership import check_output, write_text_output

__all__ = ["add_clause_options", "cmd_calibrate_clauses"]


def add_clause_options(p: argparse.ArgumentParser) -> None:
    """The options of ``calibrate --clauses`` (beside --before, --out and the data files)."""
    p.add_argument(
        "--clauses",
        action="store_true",
        help="fit the clause pass-through and deviation to the separate votes on paragraphs "
        "and amendments before --before (not a series; --series and the ideal points unused)",
    )
    p.add_argument(
        "--band-from",
        type=Path,
        help="with --clauses: the calibration file whose abstention band and vote noise the fit "
        "is on (default: the behaviour's defaults)",
    )
    p.add_argument(
        "--holdout-sessions",
        type=int,
        default=10,
        help="with --clauses: the latest sessions with separate votes held out to choose the "
        "specification (10)",
    )


def _command(args: argparse.Namespace) -> str:
    parts = ["python", "-m", "unsim", "calibrate", "--clauses"]
    parts += ["--before", args.before.isoformat(), "--out", str(args.out)]
    if args.band_from is not None:
        parts += ["--band-from", str(args.band_from)]
    if args.holdout_sessions != 10:
        parts += ["--holdout-sessions", str(args.holdout_sessions)]
    for key in ("votes", "members", "roll_calls"):
        if getattr(args, key) is not None:
            parts += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    if args.name:
        parts += ["--name", args.name]
    return shlex.join(parts)


def _scale(path: Path | None) -> tuple[float, float]:
    """(abstention band, vote noise) of the calibration at ``path``, or the defaults."""
    from unsim.scenario.loader import load_calibration
    from unsim.scenario.schema import Behaviour

    if path is None:
        b = Behaviour()
        return b.abstention_band, b.vote_noise
    fitted: dict[str, Any] = load_calibration(path).behaviour
    default = Behaviour()
    band = float(fitted.get("abstention_band", default.abstention_band))
    return band, float(fitted.get("vote_noise", default.vote_noise))


def cmd_calibrate_clauses(args: argparse.Namespace) -> int:
    """`unsim calibrate --clauses`: fit the clauses' effects from votes on paragraphs."""
    from unsim.calibration.clausecal import (
        build_clause_calibration,
        calibrate_clauses,
        clause_data,
        clause_provenance,
    )
    from unsim.cli.outputs import data_files
    from unsim.data import load_members, load_roll_calls, load_votes

    if not 1 <= args.holdout_sessions <= 30:
        raise InputError(f"--holdout-sessions must be 1 to 30, got {args.holdout_sessions}")
    paths = data_files(args)
    inputs = list(paths.values()) + ([args.band_from] if args.band_from else [])
    check_output(args.out, "yaml", inputs=inputs)  # before the data is read and fitted
    band, noise = _scale(args.band_from)
    votes = load_votes(paths["votes"])
    hr = set(votes.loc[votes["hr"] == 1, "rcid"].astype(int)) if "hr" in votes else set()
    data = clause_data(votes, load_roll_calls(paths["roll_calls"]), args.before, hr,
                       load_members(paths["members"]))  # fmt: skip
    print(f"separate votes before {args.before}: {data.found.counts}")
    result = calibrate_clauses(data, args.before, band, noise, args.holdout_sessions)
    provenance = clause_provenance(_command(args), paths, args.before)
    cal = build_clause_calibration(result, args.name or args.out.stem, provenance)
    _print(cal.validation["comparison"], result.holdout_from)
    header = (
        f"# Clause calibration written by `{provenance['command']}`.\n"
        "# Do not edit by hand: rerun the command.\n"
    )
    text = header + yaml.safe_dump(
        cal.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100,
        default_flow_style=None,
    )
    write_text_output(args.out, "yaml", text, inputs=inputs)
    b, e = cal.behaviour, cal.estimates
    print(
        f"chosen: {result.chosen}: pass-through {b.clause_pass_through}, deviation sd "
        f"{b.clause_deviation_sd}"
    )
    for key in ("every_pair", "every_pair_unconstrained"):
        x = e[key]
        print(
            f"  {key}: pass-through {x['pass_through']} (se {x['pass_through_se']}), deviation "
            f"sd {x['deviation_sd']} (se {x['deviation_sd_se']}), log likelihood "
            f"{x['log_likelihood']}"
        )
    print(f"wrote {args.out}")
    return int(ExitCode.OK)


def _print(rows: list[dict[str, Any]], holdout_from: int) -> None:
    print(f"held out: sessions {holdout_from} and later")
    for r in rows:
        h = r["holdout"]
        print(
            f"  {r['spec']:<22} pass-through {r['pass_through']:+.3f} sd {r['deviation_sd']:.3f}"
            f"  held-out log loss {h['log_loss']:.4f}, accuracy {h['accuracy']:.3f} "
            f"(rule: clause = whole {h['rule_accuracy']:.3f}) on {h['votes']} votes"
        )
