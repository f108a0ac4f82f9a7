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
    keys = ("norm", "patron_defence", "dissent")
    lines = [
        "",
        f"The Council's rule (band {result['band']:.3f}, noise {result['noise']:.3f}):",
        "",
        "| fitted on | norm | patron_defence | dissent |",
        "|---|---:|---:|---:|",
    ]
    for name, theta in fitted.items():
        label = "every vote" if name == "all" else f"all but {name}"
        lines.append(f"| {label} | " + " | ".join(f"{theta[k]:.2f}" for k in keys) + " |")
    return lines


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
        + _tabling_lines(result)
        + _member_lines(result)
    )
