"""Readable text summaries of results, and paired comparisons of two scenarios."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from typing import Any

import pandas as pd

from unsim.model.outcomes import known_outcomes
from unsim.model.stages import BY_NAME, STAGE_SHORT, stages_where
from unsim.results.bottomline import HEADING, bottom_line
from unsim.results.grouped import TRIVIAL, VETO_SHOWN, outcome_groups, pivotal_by_stage
from unsim.results.stats import paired_difference
from unsim.results.tables import Results
from unsim.scenario.schema import World


def _pct(x: float) -> str:
    return "  n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:5.1f}%"


#: The steps of the run command in the header's words (``unsim.cli.steps``), in their order.
STEP_WORDS = {
    "start_up": "start-up",
    "kernels": "kernels",
    "runs": "runs",
    "attribution": "attribution",
    "explanation": "explanation",
    "comparison": "comparison",
    "saving": "saving",
    "figures": "figures",
    "report": "report",
}


def format_summary(
    results: Results,
    elapsed: float | None = None,
    out: str | None = None,
    timings: Mapping[str, float] | None = None,
) -> str:
    """The run's summary as text. ``timings``: the command's steps in seconds (``STEP_WORDS``'
    keys, ``compiling`` and ``total``; ``unsim.cli.steps.summary_timings``) for the header;
    else ``elapsed``, the runs' seconds."""
    s = results.summary
    sc = results.scenario
    lines = [f"unsim · {sc.name}: {sc.resolution.title}", *_header(results, elapsed, timings)]
    if results.metadata.get("data_only"):
        lines.append(
            "data only: the calibration's forecast, every assumption the scenario states removed"
        )
    lines += ["", *bottom_line_lines(results)]
    lines += ["", "Outcome                                         P      95% interval"]
    lines += _outcome_lines(s["outcomes"], _names(results))
    lines += [
        "",
        "Tallies when held: median [5%-95%]",
        "  stage                     runs held    "
        "yes            no             abstain        absent     needed (median)",
    ]
    for stage, t in s["tallies"].items():
        held = t["held"] / s["runs"]

        def q(cat: str, t: dict[str, Any] = t) -> str:
            """The median of a vote's tally at this stage with its 5-95 % range, or blanks."""
            if cat not in t:
                return " " * 15
            c = t[cat]
            return f"{c['q50']:>4.0f} [{c['q05']:.0f}-{c['q95']:.0f}]".ljust(15)

        veto = stage in BY_NAME and BY_NAME[stage].rule.veto
        need = f"{t['median_needed_yes']} yes" + (", no veto" if veto else "")
        lines.append(
            f"  {STAGE_SHORT.get(stage, stage):<26}{_pct(held)}     "
            f"{q('yes')}{q('no')}{q('abstain')}{q('absent')}{need}"
        )
    lines += _pivotal_lines(s)
    lines += _assumption_lines(s)
    if out:
        lines += ["", f"Results written to {out}"]
    return "\n".join(lines)


def _outcome_lines(outcomes: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    """The outcomes in their groups (``unsim.results.grouped``), a line each; the permanent
    members' vetoes rarer than ``VETO_SHOWN`` share one line under the Council's."""
    lines = []
    for group in outcome_groups(outcomes, names):
        lines.append(f" {group.title}")
        for _name, label, o in group.rows:
            lines.append(
                f"  {label[:44]:<44}{_pct(o['p'])}  [{_pct(o['ci_low'])}, {_pct(o['ci_high'])}]"
            )
    rare = [
        n.removeprefix("veto_")
        for n, o in outcomes.items()
        if n.startswith("veto_") and float(o["p"]) < VETO_SHOWN
    ]
    if rare:
        lines.append(
            f"  {'vetoes by ' + ', '.join(rare):<44}<0.05% each (in summary.json: every outcome)"
        )
    return lines


def _header(
    results: Results, elapsed: float | None, timings: Mapping[str, float] | None
) -> list[str]:
    """The runs and seed, the runs' rate and where the command's time went."""
    n = results.summary["runs"]
    head = f"{n:,} runs · seed {results.seed}"
    if timings is None:
        return [head + (f" · {elapsed:.1f} s ({n / elapsed:,.0f} runs/s)" if elapsed else "")]
    runs = timings.get("runs", 0.0)
    if runs > 0:
        head += f" · runs {runs:.1f} s ({n / runs:,.0f} runs/s)"
    parts = [f"{word} {timings[key]:.1f} s" for key, word in STEP_WORDS.items() if key in timings]
    compiled = timings.get("compiling", 0.0)
    if compiled > 0:
        parts.append(f"compiling the kernels {compiled:.1f} s")
    lines = [head, f"time {timings.get('total', sum(timings.values())):.1f} s: " + ", ".join(parts)]
    if compiled > 0:
        lines.append(
            "  numba compiled the model's kernels: the first run on this machine (or of this "
            "version of unsim); later runs load them from the cache"
        )
    return lines


def _names(results: Results) -> dict[str, str]:
    world = results.scenario.world
    return {st.iso3: st.name for st in world.states} if isinstance(world, World) else {}


def bottom_line_lines(results: Results, width: int = 100) -> list[str]:
    """The bottom line (``unsim.results.bottomline``) as wrapped lines, a sentence a point."""
    lines = [f"{HEADING} (95 % intervals over runs in brackets)"]
    for sentence in bottom_line(results.summary, results.scenario)["sentences"]:
        lines += textwrap.wrap(sentence, width, initial_indent="  - ", subsequent_indent="    ")
    return lines


def _pivotal_lines(summary: dict[str, Any]) -> list[str]:
    """The states pivotal at each vote where some state is, in at least ``TRIVIAL`` of runs."""
    if not summary.get("pivotal"):
        return []
    shown, minor = pivotal_by_stage(summary)
    lines = ["", "Pivotal states at each vote (their vote alone decided the result)"]
    for st in shown:
        held = "" if st.held >= 0.995 else f", held in {100 * st.held:.1f} % of runs"
        lines.append(f"  {st.label}{held}")
        for iso3, name, p, p_held in st.states[:8]:
            of_held = "" if st.held >= 0.995 else f" ({100 * p_held:.1f} % of those where held)"
            lines.append(f"    {iso3} {name[:28]:<28} {100 * p:5.1f} % of runs{of_held}")
    if minor:
        most = max(minor, key=lambda st: st.states[0][2])
        where = ", ".join(st.label for st in minor)
        lines.append(
            f"  {'at the other votes' if shown else 'at every vote'}, no state is pivotal in "
            f"{100 * TRIVIAL:.0f} % of runs or more ({where}; at most "
            f"{100 * most.states[0][2]:.2f} %, {most.states[0][1]} at the {most.label})"
        )
    return lines


def _assumption_lines(summary: dict[str, Any]) -> list[str]:
    """The attribution table and the data-only forecast beside the scenario's, when the summary
    has them."""
    lines: list[str] = []
    if summary.get("attribution"):
        from unsim.results.forward import format_attribution

        lines += ["", *format_attribution(summary["attribution"])]
    if summary.get("data_only"):
        from unsim.results.dataonly import format_data_only

        lines += ["", *format_data_only(summary["data_only"])]
    return lines


def compare(a: Results, b: Results) -> pd.DataFrame:
    """Each outcome's probability in both and the paired difference (b - a) with its interval.

    Both results must come from the same seed and number of runs, so that run i of one and run i
    of the other share their random numbers (common random numbers)."""
    if a.runs is None or b.runs is None:
        raise ValueError("a paired comparison needs the run tables (keep_runs=True)")
    if len(a.runs) != len(b.runs) or a.seed != b.seed:
        raise ValueError("a paired comparison needs the same seed and number of runs")
    rows = []
    for o in known_outcomes():
        if o.key not in a.runs or o.key not in b.runs:
            continue
        x, y = o.happened(a.runs), o.happened(b.runs)
        rows.append({"outcome": o.name, "label": o.label, **paired_difference(x, y)})
    for stage in stages_where(lambda st: st.on_draft):
        col = f"{stage}_yes"
        if col in a.runs and a.runs[f"{stage}_held"].any():
            rows.append(
                {
                    "outcome": f"{stage}_yes_mean",
                    "label": f"{STAGE_SHORT[stage]}: mean yes votes",
                    # the same paired interval, on counts (p_a, p_b are then mean counts)
                    **paired_difference(a.runs[col].to_numpy(), b.runs[col].to_numpy()),
                }
            )
    return pd.DataFrame(rows)


def format_comparison(table: pd.DataFrame, name_a: str, name_b: str) -> str:
    """A paired comparison table (:func:`compare`) as text, B minus A, with intervals."""
    lines = [
        f"Paired comparison on common random numbers: B minus A (A = {name_a}, B = {name_b})",
        f"  {'outcome':<44}{'A':>10}{'B':>10}   B - A [95% interval]",
    ]
    for r in table.itertuples():
        if str(r.outcome).endswith("_yes_mean"):
            lines.append(
                f"  {r.label:<44}{r.p_a:>10.1f}{r.p_b:>10.1f}   "
                f"{r.diff:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
            )
        else:
            lines.append(
                f"  {r.label:<44}{_pct(r.p_a):>10}{_pct(r.p_b):>10}   "
                f"{100 * r.diff:+.1f} pts [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]"
            )
    return "\n".join(lines)
