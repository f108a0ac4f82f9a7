"""A results folder as one self-contained HTML file for readers who never ran the model.

``unsim report RESULTS_DIR`` (and ``unsim run ... --report``) writes it: a world map of each
state's vote, the question and the scenario in words, what is data and what is assumption,
every outcome with its interval, the tallies against their thresholds, the pivotal states, each
state's probabilities and how to reproduce the run. Figures are embedded as base64 PNG; the
file loads nothing from the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from unsim.model import stages as declared
from unsim.model.stages import BY_NAME, STAGES
from unsim.ownership import Paths, check_output, write_text_output
from unsim.results.bottomline import HEADING, bottom_line
from unsim.results.grouped import TRIVIAL, outcome_groups, pivotal_by_stage
from unsim.results.plots import (
    FUNNEL,
    GROUP_LABELS,
    STAGE_LABELS,
    map_figure,
    plot_funnel,
    plot_group_heatmap,
    plot_tallies,
    plot_tally_summary,
    tally_columns,
)
from unsim.results.report.breakdowns import pivotal_breakdowns_html, veto_breakdowns_html
from unsim.results.report.markup import esc, figure_png, percent, table
from unsim.results.report.scenario_text import data_and_assumptions, question, world_of
from unsim.results.tables import Results

#: Marks a file as written by this module (a report is replaced only if it carries unsim's
#: generator mark, :mod:`unsim.ownership`).
GENERATOR = "unsim report"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 62rem;
       margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid
#ddd; padding-bottom: .2rem; } .sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .92rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e5e5e5; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img { max-width: 100%; height: auto; } .note { color: #555; font-size: .9rem; }
figure { margin: .6rem 0; }
code { background: #f4f4f4; padding: 0 .25rem; border-radius: 3px; }
details summary { cursor: pointer; }
"""


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
def _bottom_line(results: Results) -> str:
    """The bottom line (``unsim.results.bottomline``), first in the report."""
    sentences = bottom_line(results.summary, results.scenario)["sentences"]
    items = "".join(f"<li>{esc(s)}</li>" for s in sentences)
    return (
        f'<section id="bottom-line"><h2>{esc(HEADING)}</h2><ul>{items}</ul>'
        '<p class="note">In brackets: 95 % intervals over runs (Wilson). The numbers behind '
        "these sentences are in the tables below and in <code>summary.json</code> "
        "(<code>bottom_line</code>).</p></section>"
    )


def _outcomes(results: Results) -> str:
    s = results.summary
    names = {st.iso3: st.name for st in world_of(results.scenario).states}
    parts = [
        "<h2>Outcomes</h2>",
        f"<p>Each probability is the share of the {int(s['runs']):,} simulated histories in which "
        "the outcome happened, with its 95 % interval (Wilson, over runs). The last group holds "
        "what the runs record along the way (the target's strategies and their events).</p>",
    ]
    if any(k in s["outcomes"] for k in FUNNEL):
        fig = Figure(figsize=(8.0, 5.0), layout="constrained")
        plot_funnel(s, ax=fig.add_subplot())
        parts.append(figure_png(fig, "probability of each outcome from committee to Council"))
    for group in outcome_groups(s["outcomes"], names):
        rows = [
            (
                label,
                percent(o.get("p")),
                f"{percent(o.get('ci_low'))} to {percent(o.get('ci_high'))}",
            )
            for _name, label, o in group.rows
        ]
        parts.append(f"<h3>{esc(group.title)}</h3>")
        parts.append(table(["outcome", "probability", "95 % interval"], rows, numeric=(1, 2)))
    return "\n".join(parts)


def _tallies(results: Results) -> str:
    s = results.summary
    cats = ("yes", "no", "abstain", "absent")
    rows = []
    for stage, t in s.get("tallies", {}).items():

        def q(cat: str, t: Mapping[str, Any] = t) -> str:
            """The median of a vote's tally at this stage with its 5-95 % range, or a dash."""
            c = t.get(cat)
            if not c:
                return "–"
            return f"{c['q50']:.0f} ({c['q05']:.0f}–{c['q95']:.0f})"

        need = t.get("median_needed_yes")
        needed = (
            str(t.get("threshold", ""))
            if stage in BY_NAME and BY_NAME[stage].body.is_council  # nine, whoever is present
            else f"{t.get('threshold', '')}: about {need} yes (median)"
        )
        rows.append(
            (
                STAGE_LABELS.get(stage, stage),
                percent(int(t["held"]) / int(s["runs"])),
                *(q(c) for c in cats),
                needed,
            )
        )
    parts = [
        "<h2>Tallies against their thresholds</h2>",
        "<p>Median votes and, in brackets, the range of 90 % of runs (5th to 95th percentile), "
        "over the runs in which the vote was held.</p>",
        table(["stage", "held in", *cats, "needed to adopt"], rows, numeric=(1, 2, 3, 4, 5)),
    ]
    majority = results.scenario.resolution.majority
    runs = results.runs
    if runs is None and results.runs_file is not None:  # streamed to a file: read the tallies
        runs = results.run_table(tally_columns(results.scenario.resolution.stages))
    if runs is not None and any(f"{st}_held" in runs and runs[f"{st}_held"].any() for st in STAGES):
        fig = plot_tallies(runs, majority=majority, fig=Figure(layout="constrained"))
    else:
        fig = plot_tally_summary(s, fig=Figure(layout="constrained"))
    parts.append(figure_png(fig, "distribution of the tallies at each stage"))
    return "\n".join(parts)


def _pivotal(results: Results) -> str:
    shown, minor = pivotal_by_stage(results.summary)
    parts = [
        "<h2>Pivotal states</h2>",
        "<p>A state is pivotal in a run when changing its vote alone would have changed the "
        "result of that vote. The states are ranked at each vote where some state is pivotal in "
        f"{100 * TRIVIAL:.0f} % of the runs or more.</p>",
    ]
    if not shown and not minor:
        parts.append("<p>No state was pivotal in any run.</p>")
        return "\n".join(parts)
    for st in shown:
        held = "" if st.held >= 0.995 else f" (held in {percent(st.held)} of runs)"
        parts.append(f"<h3>{esc(STAGE_LABELS.get(st.stage, st.label))}{esc(held)}</h3>")
        rows = [(name, percent(p), percent(p_held)) for _iso3, name, p, p_held in st.states[:20]]
        parts.append(
            table(
                ["state", "pivotal in, of all runs", "of the runs where the vote was held"],
                rows,
                numeric=(1, 2),
            )
        )
    if minor:
        where = ", ".join(STAGE_LABELS.get(st.stage, st.label) for st in minor)
        most = max(minor, key=lambda st: st.states[0][2])
        parts.append(
            f"<p>{'At the other votes' if shown else 'At every vote'} ({esc(where)}) no state "
            f"is pivotal in {100 * TRIVIAL:.0f} % of the runs or more (at most "
            f"{percent(most.states[0][2], 2)}: {esc(most.states[0][1])}).</p>"
        )
    return "\n".join(parts)


def main_stage(per_state: pd.DataFrame) -> str | None:
    """The stage a per-state view shows: the plenary, or the last General Assembly stage held
    (``stages.main_stage``)."""
    return declared.main_stage(set(per_state["stage"].astype(str)) if len(per_state) else set())


def _map(results: Results) -> str:
    """Each state's vote at the main stage on a world map, as a figure with its caption."""
    stage = main_stage(results.per_state)
    if stage is None:
        return ""
    label = STAGE_LABELS.get(stage, stage)
    img = figure_png(
        map_figure(results.per_state, stage, fig=Figure()),
        f"World map of each state's vote at the {label}: blue where a yes is likely, red where a "
        "no is likely, pale where an abstention or absence is (or yes and no are alike)",
    )
    return "\n".join(
        [
            "<h2>Where the votes are</h2>",
            f'<figure id="state-map">{img}<figcaption class="note">{esc(label)}: each state '
            "coloured by its probability of voting yes minus its probability of voting no, over "
            "the runs in which the vote was held; small states are dots. Country shapes: Natural "
            "Earth (public domain). Each state's numbers are in the table at the end.</figcaption>"
            "</figure>",
        ]
    )


def _per_state(results: Results) -> str:
    ps = results.per_state
    stage = main_stage(ps)
    parts = ["<h2>Each state's vote</h2>"]
    if stage is None:
        parts.append("<p>No vote was held in any run.</p>")
        return "\n".join(parts)
    fig = Figure(figsize=(9.0, 4.2), layout="constrained")
    plot_group_heatmap(ps, ax=fig.add_subplot())
    parts.append(figure_png(fig, "probability of a yes vote by regional group and stage"))
    df = ps[ps["stage"].astype(str) == stage].sort_values(
        ["p_yes", "name"], ascending=[False, True]
    )
    rows = [
        (
            r.name,
            GROUP_LABELS.get(str(r.group), str(r.group)),
            percent(r.p_yes),
            percent(r.p_no),
            percent(r.p_abstain),
            percent(r.p_absent),
            percent(getattr(r, "p_pivotal", float("nan"))),
        )
        for r in df.itertuples()
    ]
    parts.append(
        f"<p>{esc(STAGE_LABELS.get(stage, stage))}: each state's probability of each vote over "
        f"the runs in which it was held, most likely yes first.</p>"
    )
    parts.append(
        "<details open><summary>Table of all states</summary>"
        + table(
            ["state", "regional group", "yes", "no", "abstain", "absent", "pivotal"],
            rows,
            numeric=range(2, 7),
        )
        + "</details>"
    )
    return "\n".join(parts)


def _reproduce(results: Results) -> str:
    meta = results.metadata or {}
    versions = meta.get("versions", {}) or {}
    command = meta.get("command") or (
        f"unsim run SCENARIO.yaml --seed {results.seed} --runs {results.summary['runs']}"
    )
    rows = [
        ("command", command),
        ("master seed", str(results.seed)),
        ("runs", f"{int(results.summary['runs']):,}"),
        ("git revision", str(meta.get("git_revision") or "not recorded")),
        *((f"{k} version", str(v)) for k, v in versions.items()),
    ]
    return "\n".join(
        [
            "<h2>How to reproduce it</h2>",
            "<p>The same scenario, seed and number of runs give the same results for any number "
            "of workers. The resolved scenario (world and calibration included) is in the "
            "results folder's <code>metadata.json</code>.</p>",
            table(["", ""], rows),
        ]
    )


def draft_sections(results: Results) -> list[str]:
    """The sections of one draft's results that a report of several drafts (a session's)
    shows for each: its bottom line, map, outcomes, tallies, pivotal states and states' votes."""
    return [
        _bottom_line(results),
        _map(results),
        _outcomes(results),
        _tallies(results),
        _pivotal(results),
        _per_state(results),
    ]


def render_report(results: Results) -> str:
    """The report as one HTML document (a string)."""

    sc = results.scenario
    s = results.summary
    body = [
        f"<h1>{esc(sc.resolution.title)}</h1>",
        f'<p class="sub">Scenario <b>{esc(sc.name)}</b>'
        + (f", as of {esc(sc.date)}" if sc.date else "")
        + f" · {int(s['runs']):,} simulated histories · seed {results.seed}</p>",
        _bottom_line(results),
        "<p>unsim simulates the vote and the diplomacy around it many times over; each run is "
        "one possible history. The figures below are shares of those runs: the consequences of "
        "the scenario's data and assumptions, not a prediction.</p>",
        _map(results),
        question(sc),
        data_and_assumptions(sc, s),
        _outcomes(results),
        _tallies(results),
        _pivotal(results),
        pivotal_breakdowns_html(results),
        veto_breakdowns_html(results),
        _per_state(results),
        _reproduce(results),
    ]
    return page(f"{sc.name}: {sc.resolution.title}", body)


def page(title: str, body: list[str]) -> str:
    """A whole report page: the parts of ``body`` under ``title`` (escaped here), in the
    report's style; a draft's report and a session's share it."""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta name="generator" content="{GENERATOR}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(results: Results, out: str | Path, inputs: Paths = ()) -> Path:
    """Write the report to ``out`` atomically. An existing file is replaced only if it is a
    report that unsim wrote (and not one of ``inputs``, the files the command read); anything
    else is refused with :class:`~unsim.errors.OutputError`, before the report is drawn."""
    inputs = list(inputs)
    check_output(out, "html", inputs=inputs)
    return write_text_output(out, "html", render_report(results), inputs=inputs)
