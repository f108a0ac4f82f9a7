"""The Council backtest (:mod:`unsim.calibration.council_backtest`) as Markdown tables."""

from __future__ import annotations

from typing import Any

METHOD_LABELS = {
    "unsim": "unsim, the Council's rule fitted without the vote",
    "unsim_support": "the same, Assembly support weighed too",
    "unsim_icc": "the same, the ICC language's cost weighed too",
    "scenario": "the scenario's own rule (fitted on all the votes: in sample)",
    "assembly_rule": "the earlier rule: Assembly support, Council shift, ICC cost, tie",
    "all_yes": "every member votes yes",
    "patrons_no": "patrons vote no, the others yes",
}


def _num(x: float) -> str:
    return f"{x + 0.0:.3f}"


def _case_lines(result: dict[str, Any]) -> list[str]:
    lines = [
        "| case | method | accuracy | Brier | log loss | yes: expected | P(adopted) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["cases"]:
        extra = f"{r['yes_expected']:.1f} | {r['p_adopted']:.2f}" if "p_adopted" in r else " | "
        lines.append(
            f"| {r['case']} | {r['method']} | {r['accuracy']:.3f} | {_num(r['brier'])} | "
            f"{_num(r['log_loss'])} | {extra} |"
        )
    return lines


def _summary_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for part, title in (("referrals", "the three referrals"), ("all", "all the votes")):
        rows = result["summary"][part]
        n = rows[0]["votes"] if rows else 0
        lines += [
            "",
            f"Mean over {title} ({n}), each left out of its own fit:",
            "",
            "| method | accuracy | Brier | log loss |",
            "|---|---:|---:|---:|",
        ]
        for r in rows:
            label = METHOD_LABELS.get(r["method"], r["method"])
            lines.append(
                f"| {label} | {r['accuracy']:.3f} | {_num(r['brier'])} | {_num(r['log_loss'])} |"
            )
    return lines


def _fitted_lines(result: dict[str, Any]) -> list[str]:
    fitted = result["fitted"]
    keys = ("norm", "patron_defence", "dissent", "patron_shock")
    lines = [
        "",
        f"The Council's rule (band {result['band']:.3f}, noise {result['noise']:.3f}):",
        "",
        "| fitted on | " + " | ".join(keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for name, theta in fitted.items():
        label = "every vote" if name == "all" else f"all but {name}"
        lines.append(f"| {label} | " + " | ".join(f"{theta[k]:.2f}" for k in keys) + " |")
    return lines + _rule_lines(result["rule"])


def _rule_lines(fit: dict[str, Any]) -> list[str]:
    """The fit on every vote with its standard errors, correlations and what it implies."""
    params = fit["params"]
    lines = [
        "",
        "Fitted on every vote, with standard errors (the log posterior's curvature at its mode) "
        "and correlations:",
        "",
        "| | estimate | se | " + " | ".join(params) + " |",
        "|---|---:|---:|" + "---:|" * len(params),
    ]
    for i, p in enumerate(params):
        corr = " | ".join(f"{c:+.2f}" for c in fit["correlation"][i])
        lines.append(f"| {p} | {fit['estimate'][p]:.3f} | {fit['se'][p]:.3f} | {corr} |")
    spread = fit["stance_sd"]
    lines += [
        "",
        f"Two patrons vote alike with probability {fit['alike_implied']:.3f} "
        f"({fit['alike_apart']:.3f} without the shared shock). Drawn apart, the numbers give a "
        f"patron's stance an sd of {spread['patron']['drawn']:.3f} (the fit: "
        f"{spread['patron']['fit']:.3f}) and a dissenter's {spread['dissenter']['drawn']:.3f} "
        f"({spread['dissenter']['fit']:.3f}).",
    ]
    if fit["shock_profile"]:
        lines += [
            "",
            "The shock's profile: how far the log posterior falls (the others refitted), against "
            "a lognormal and a normal of the same standard error:",
            "",
            "| shock | fall | lognormal | normal |",
            "|---:|---:|---:|---:|",
        ]
        for r in fit["shock_profile"]:
            lines.append(
                f"| {r['shock']:.2f} | {r['drop']:.2f} | {r['lognormal']:.2f} | {r['normal']:.2f} |"
            )
    lines += [
        "",
        "What the patrons' numbers rest on (two patrons: how often they vote alike, and let a "
        "tabled draft through, neither voting no):",
        "",
        "| reading | norm | patron_defence | patron_shock | alike | through |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in fit["readings"]:
        lines.append(
            f"| {r['reading']} | {r['norm']:.2f} | {r['patron_defence']:.2f} | "
            f"{r['patron_shock']:.2f} | {r['alike']:.3f} | {r['through']:.3f} |"
        )
    return lines


def _joint_lines(result: dict[str, Any]) -> list[str]:
    joint = result["joint"]
    lines = [
        "",
        f"The patrons' votes scored together, each vote left out of its own fit (the pairs of "
        f"patrons voted alike in {joint['alike']} of {joint['pairs']}): log loss of the whole "
        "vote (of the patrons' pair)",
        "",
        "| case | shared shock (the rule) | votes drawn apart | a shock of each patron's own |",
        "|---|---:|---:|---:|",
    ]
    for r in joint["cases"]:
        cells = []
        for name in ("shared", "apart", "own"):
            pair = f" ({r[name + '_pair']:.3f})" if r["patrons"] else ""
            cells.append(f"{r[name]:.3f}{pair}")
        lines.append(f"| {r['case']} | " + " | ".join(cells) + " |")
    total = joint["total"]
    lines.append(f"| total | {total['shared']:.3f} | {total['apart']:.3f} | {total['own']:.3f} |")
    return lines


def _paste_lines(result: dict[str, Any]) -> list[str]:
    return [
        "",
        "To paste into a scenario (the fit as distributions drawn per run; README, The Security "
        "Council side):",
        "",
        "```yaml",
        result["paste"],
        "```",
    ]


def _tabling_lines(result: dict[str, Any]) -> list[str]:
    tab = result["tabling"]
    lines = [
        "",
        "Tabling: the chance per year that a sought referral is tabled, Beta posterior "
        "(uniform prior):",
        "",
        "| signal | drafts | years without | mean | sd | 90 % interval | windows |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for signal, f in tab["fit"].items():
        lo, hi = f["interval_90"]
        lines.append(
            f"| {signal.replace('_', ' ')} | {f['drafts']} | {f['years_without']:.2f} | "
            f"{f['mean']:.3f} | {f['sd']:.3f} | {lo:.2f}-{hi:.2f} | {', '.join(f['windows'])} |"
        )
    lines += [
        "",
        "| window | opposed | tabled | years | chance fitted on the others (90 %) |",
        "|---|---|---|---:|---|",
    ]
    for w in tab["leave_one_out"]:
        lines.append(
            f"| {w['window']} | {'yes' if w['opposed'] else 'no'} | "
            f"{'yes' if w['tabled'] else 'no'} | {w['years']:.2f} | {w['chance']:.2f} "
            f"({w['low']:.2f}-{w['high']:.2f}) |"
        )
    lines += ["", "| referral vote | chance by the record before it (90 %) |", "|---|---|"]
    for key, v in tab["at_vote"].items():
        lo, hi = v["interval_90"]
        lines.append(f"| {key} | {v['chance']:.2f} ({lo:.2f}-{hi:.2f}) |")
    return lines


def _member_lines(result: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "| case | member | role | recorded | unsim P(yes/no/abstain) | earlier rule |",
        "|---|---|---|---|---|---|",
    ]
    for m in result["members"]:
        lines.append(
            f"| {m['case']} | {m['iso3']} | {m['role']} | {m['recorded']} | "
            f"{m['p_yes']:.2f} / {m['p_no']:.2f} / {m['p_abstain']:.2f} | "
            f"{m['assembly_p_yes']:.2f} / {m['assembly_p_no']:.2f} / "
            f"{m['assembly_p_abstain']:.2f} |"
        )
    return lines


def council_markdown(result: dict[str, Any]) -> str:
    """The backtest as Markdown: per case and method, the means, the fitted rule, the tabling
    rule, then the per-member probabilities."""
    return "\n".join(
        _case_lines(result)
        + _summary_lines(result)
        + _fitted_lines(result)
        + _joint_lines(result)
        + _tabling_lines(result)
        + _paste_lines(result)
        + _member_lines(result)
    )
