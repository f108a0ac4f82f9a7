"""A results folder as one self-contained HTML file for readers who never ran the model.

``unsim report RESULTS_DIR`` (and ``unsim run ... --report``) writes it: the question and the
scenario in words, what is data and what is assumption, every outcome with its interval, the
tallies against their thresholds, the pivotal states, each state's probabilities and how to
reproduce the run. Figures are embedded as base64 PNG; the file loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from unsim.atomic import with_umask_mode, write_text_atomically
from unsim.engine.results import Results
from unsim.errors import OutputError
from unsim.plots import (
    FUNNEL,
    GROUP_LABELS,
    STAGE_LABELS,
    plot_funnel,
    plot_group_heatmap,
    plot_tallies,
    plot_tally_summary,
    tally_columns,
)
from unsim.scenario.labels import describe, label_for, strategy_name, words
from unsim.scenario.schema import GA_STAGES, SC_STAGES, STAGES, Scenario, World
from unsim.strategies import Strategy

#: Marks a file as written by this module (a report is replaced only if it carries it).
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
code { background: #f4f4f4; padding: 0 .25rem; border-radius: 3px; }
details summary { cursor: pointer; }
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _pct(p: Any, digits: int = 1) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return f"{100 * float(p):.{digits}f} %"


def _figure_png(fig: Figure, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    fig.clear()
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _table(
    headers: Iterable[str], rows: Iterable[Iterable[Any]], numeric: Iterable[int] = ()
) -> str:
    num = set(numeric)
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if i in num else f"<th>{_e(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if i in num else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------------------------
# the scenario in words
# --------------------------------------------------------------------------------------------
def _world(scenario: Scenario) -> World:
    world = scenario.world
    assert isinstance(world, World)
    return world


def _names(scenario: Scenario, refs: Iterable[str]) -> str:
    world = _world(scenario)
    names = {s.iso3: s.name for s in world.states}
    out = []
    for ref in refs:
        if ref in world.blocs:
            out.append(f"{world.blocs[ref].name} ({len(world.blocs[ref].members)} states)")
        else:
            out.append(names.get(ref, ref))
    return ", ".join(out) if out else "none"


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(words(str(v)) for v in value) or "none"
    if value is None:
        return "not set"
    return words(str(value)) if isinstance(value, str) else str(value)


def strategy_sentences(scenario: Scenario) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Each strategy: its name and (parameter label, value, description) rows, in words."""
    out = []
    strategies: list[Strategy] = list(scenario.actors.target.strategies)
    for i, s in enumerate(strategies):
        rows = []
        base = f"actors.target.strategies[{i}]"
        for field in type(s).model_fields:
            if field in ("type", "label", "schedule", "adaptive"):
                continue
            value = getattr(s, field)
            if isinstance(value, dict):
                value = "; ".join(
                    f"{_names(scenario, [k])}: {_value_text(v)}" for k, v in value.items()
                )
            rows.append(
                (
                    label_for(f"{base}.{field}", scenario).split(": ", 1)[-1],
                    _value_text(value),
                    describe(f"{base}.{field}", scenario) or "",
                )
            )
        end = s.schedule.end
        when = f"from round {s.schedule.start}" + (f" to round {end}" if end else " to the end")
        if s.adaptive is not None:
            if s.adaptive.expected_yes_share_above is not None:
                when += (
                    f", only while the expected yes share is above "
                    f"{s.adaptive.expected_yes_share_above:g}"
                )
            if s.adaptive.only_while_icc_retained:
                when += ", only while the ICC language is in the draft"
        rows.append(("when it acts", when, "rounds are counted over the whole campaign"))
        out.append((strategy_name(s, strategies), rows))
    return out


def _question(scenario: Scenario) -> str:
    r = scenario.resolution
    world = _world(scenario)
    target = {s.iso3: s.name for s in world.states}.get(r.target, r.target)
    clauses = [
        (type(r.clauses).model_fields[name].description or words(name))
        for name, on in r.clauses.model_dump().items()
        if on
    ]
    stages = ", ".join(STAGE_LABELS.get(s, s) for s in r.stages)
    majority = (
        "two thirds of those present and voting in the plenary"
        if r.majority == "two_thirds"
        else "a simple majority of those present and voting"
    )
    parts = [
        "<h2>The question</h2>",
        f"<p>{_e(scenario.description or '')}</p>",
        "<ul>",
        f"<li><b>Draft:</b> {_e(r.title)}</li>",
        f"<li><b>Target state:</b> {_e(target)}</li>",
        f"<li><b>Sponsors:</b> {_e(_names(scenario, r.sponsors))}</li>",
        f"<li><b>Co-sponsors:</b> {_e(_names(scenario, r.cosponsors))}</li>",
        "<li><b>Clauses:</b> "
        + (_e("; ".join(clauses)) if clauses else "no ICC or sanctions clause")
        + "</li>",
        f"<li><b>Path through procedure:</b> {_e(stages)}; adoption needs {_e(majority)}.</li>",
        f"<li><b>The target's allies:</b> {_e(_names(scenario, scenario.actors.allies.members))};"
        f" <b>patrons:</b> {_e(_names(scenario, scenario.actors.allies.patrons))}</li>",
        "</ul>",
        "<h3>The target's response strategies</h3>",
    ]
    sentences = strategy_sentences(scenario)
    if not sentences:
        parts.append("<p>None: the target does not respond.</p>")
    for name, rows in sentences:
        parts.append(f"<h4>{_e(name[:1].upper() + name[1:])}</h4>")
        parts.append(_table(["parameter", "value", "meaning"], rows))
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# data and assumptions
# --------------------------------------------------------------------------------------------
#: Scenario values that are stated priors (not estimated from data), shown when no attribution
#: table is in the summary.
_PRIOR_MODELS = ("actors.sponsors.bargaining", "actors.sponsors.lobbying", "actors.allies")


def _prior_rows(scenario: Scenario) -> list[tuple[str, str, str]]:
    rows = []
    fitted = {}
    if scenario.calibration is not None and not isinstance(scenario.calibration, str):
        fitted = scenario.calibration.behaviour
    if "icc_aversion" not in fitted:
        path = "behaviour.icc_aversion"
        rows.append(
            (
                label_for(path, scenario),
                f"{scenario.behaviour.icc_aversion:g}",
                describe(path, scenario) or "",
            )
        )
    for prefix in _PRIOR_MODELS:
        node: Any = scenario
        for part in prefix.split("."):
            node = getattr(node, part)
        for field, info in type(node).model_fields.items():
            value = getattr(node, field)
            if isinstance(value, bool) or not isinstance(value, int | float):
                if field == "counter_lobbying":
                    for sub in ("budget", "efficacy"):
                        path = f"{prefix}.counter_lobbying.{sub}"
                        rows.append(
                            (
                                label_for(path, scenario),
                                f"{getattr(value, sub):g}",
                                describe(path, scenario) or "",
                            )
                        )
                continue
            path = f"{prefix}.{field}"
            rows.append((label_for(path, scenario), f"{value:g}", info.description or ""))
    for code, override in scenario.actors.states.items():
        for field, value in override.model_dump(exclude_defaults=True).items():
            path = f"actors.states.{code}.{field}"
            rows.append((label_for(path, scenario), _value_text(value), describe(path) or ""))
    return rows


def _attribution(attr: Mapping[str, Any], scenario: Scenario) -> str:
    stage = str(attr.get("stage", ""))
    cats = ("yes", "no", "abstain", "absent")
    as_given = attr.get("as_given", {}) or {}
    data_only = attr.get("data_only", {}) or {}

    def num(x: Any) -> str:
        try:
            return f"{float(x):+.1f}"
        except (TypeError, ValueError):
            return "n/a"

    def plain(x: Any) -> str:
        try:
            return f"{float(x):.1f}"
        except (TypeError, ValueError):
            return "n/a"

    rows: list[list[str]] = [["from the data alone", *(plain(data_only.get(c)) for c in cats)]]
    for part in attr.get("parts", []):
        label = part.get("label") or label_for(str(part.get("name", "")), scenario)
        rows.append([f"+ {label}", *(num(part.get(c)) for c in cats)])
    rows.append(["the scenario as given", *(plain(as_given.get(c)) for c in cats)])
    return "\n".join(
        [
            f"<p>How the expected votes at the <b>{_e(STAGE_LABELS.get(stage, words(stage)))}"
            "</b> move from what the data alone give (calibrated positions and behaviour, no "
            "stated assumptions) to the scenario as given, adding one assumption at a time in "
            "the order below: each row is the change that assumption makes.</p>",
            _table(["", *cats], rows, numeric=range(1, 5)),
        ]
    )


def _data_and_assumptions(scenario: Scenario, summary: Mapping[str, Any]) -> str:
    world = _world(scenario)
    parts = ["<h2>What is data and what is assumption</h2>", "<h3>Data</h3>", "<ul>"]
    parts.append(
        f"<li><b>World:</b> {_e(world.name)} as of {_e(world.date)}: {len(world.states)} member "
        f"states, {len(world.blocs)} blocs, the Security Council of that date.</li>"
    )
    cal = scenario.calibration
    if cal is not None and not isinstance(cal, str):
        prov = cal.provenance
        fitted = ", ".join(words(k) for k in cal.behaviour) or "none"
        parts.append(
            f"<li><b>Calibration</b> {_e(cal.name)}: each state's position from General "
            f"Assembly roll calls before {_e(prov.get('before', 'the cut date'))}; fitted "
            f"behaviour parameters: {_e(fitted)}. Method: {_e(prov.get('method', 'not recorded'))}"
            ".</li>"
        )
    else:
        parts.append(
            "<li><b>No calibration:</b> positions and behaviour are the scenario's own values.</li>"
        )
    parts.append("</ul><h3>Assumptions</h3>")
    attribution = summary.get("attribution")
    if attribution:
        parts.append(_attribution(attribution, scenario))
    else:
        parts.append(
            "<p>These values are stated priors of the scenario, not estimated from past votes "
            "(together with the strategies' parameters above). Change or sweep them to see how "
            "much the answer depends on them.</p>"
        )
        parts.append(_table(["assumption", "value", "meaning"], _prior_rows(scenario)))
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
def _outcomes(results: Results) -> str:
    s = results.summary
    names = {st.iso3: st.name for st in _world(results.scenario).states}
    rows = []
    for name, o in s["outcomes"].items():
        label = o.get("label", words(name))
        if name.startswith("veto_") and name[5:] in names:
            label = f"{names[name[5:]]} vetoes"
        rows.append(
            (
                label,
                _pct(o.get("p")),
                f"{_pct(o.get('ci_low'))} to {_pct(o.get('ci_high'))}",
            )
        )
    parts = [
        "<h2>Outcomes</h2>",
        f"<p>Each probability is the share of the {int(s['runs']):,} simulated histories in which "
        "the outcome happened, with its 95 % interval (Wilson, over runs).</p>",
    ]
    if any(k in s["outcomes"] for k in FUNNEL):
        fig = Figure(figsize=(8.0, 5.0), layout="constrained")
        plot_funnel(s, ax=fig.add_subplot())
        parts.append(_figure_png(fig, "probability of each outcome from committee to Council"))
    parts.append(_table(["outcome", "probability", "95 % interval"], rows, numeric=(1, 2)))
    return "\n".join(parts)


def _tallies(results: Results) -> str:
    s = results.summary
    cats = ("yes", "no", "abstain", "absent")
    rows = []
    for stage, t in s.get("tallies", {}).items():

        def q(cat: str, t: Mapping[str, Any] = t) -> str:
            c = t.get(cat)
            if not c:
                return "–"
            return f"{c['q50']:.0f} ({c['q05']:.0f}–{c['q95']:.0f})"

        need = t.get("median_needed_yes")
        needed = (
            str(t.get("threshold", ""))
            if stage in SC_STAGES
            else f"{t.get('threshold', '')}: about {need} yes (median)"
        )
        rows.append(
            (
                STAGE_LABELS.get(stage, stage),
                _pct(int(t["held"]) / int(s["runs"])),
                *(q(c) for c in cats),
                needed,
            )
        )
    parts = [
        "<h2>Tallies against their thresholds</h2>",
        "<p>Median votes and, in brackets, the range of 90 % of runs (5th to 95th percentile), "
        "over the runs in which the vote was held.</p>",
        _table(["stage", "held in", *cats, "needed to adopt"], rows, numeric=(1, 2, 3, 4, 5)),
    ]
    majority = results.scenario.resolution.majority
    runs = results.runs
    if runs is None and results.runs_file is not None:  # streamed to a file: read the tallies
        runs = results.run_table(tally_columns())
    if runs is not None and any(f"{st}_held" in runs and runs[f"{st}_held"].any() for st in STAGES):
        fig = plot_tallies(runs, majority=majority, fig=Figure(layout="constrained"))
    else:
        fig = plot_tally_summary(s, fig=Figure(layout="constrained"))
    parts.append(_figure_png(fig, "distribution of the tallies at each stage"))
    return "\n".join(parts)


def _pivotal(results: Results) -> str:
    piv = sorted(results.summary.get("pivotal", []), key=lambda r: -float(r["p"]))
    parts = [
        "<h2>Pivotal states</h2>",
        "<p>A state is pivotal in a run when changing its vote alone would have changed the "
        "result of that vote.</p>",
    ]
    if not piv:
        parts.append("<p>No state was pivotal in any run.</p>")
        return "\n".join(parts)
    rows = [
        (
            r["name"],
            STAGE_LABELS.get(r["stage"], r["stage"]),
            _pct(r["p"]),
            f"{_pct(r['ci_low'])} to {_pct(r['ci_high'])}",
        )
        for r in piv[:20]
    ]
    parts.append(_table(["state", "vote", "pivotal in", "95 % interval"], rows, numeric=(2, 3)))
    return "\n".join(parts)


def main_stage(per_state: pd.DataFrame) -> str | None:
    """The stage a per-state view shows: the plenary, or the last General Assembly stage held."""
    present = set(per_state["stage"].astype(str)) if len(per_state) else set()
    if "plenary" in present:
        return "plenary"
    ga = [s for s in GA_STAGES if s in present]
    if ga:
        return ga[-1]
    return min(present, key=STAGES.index) if present else None


def _per_state(results: Results) -> str:
    ps = results.per_state
    stage = main_stage(ps)
    parts = ["<h2>Each state's vote</h2>"]
    if stage is None:
        parts.append("<p>No vote was held in any run.</p>")
        return "\n".join(parts)
    fig = Figure(figsize=(9.0, 4.2), layout="constrained")
    plot_group_heatmap(ps, ax=fig.add_subplot())
    parts.append(_figure_png(fig, "probability of a yes vote by regional group and stage"))
    df = ps[ps["stage"].astype(str) == stage].sort_values(
        ["p_yes", "name"], ascending=[False, True]
    )
    rows = [
        (
            r.name,
            GROUP_LABELS.get(str(r.group), str(r.group)),
            _pct(r.p_yes),
            _pct(r.p_no),
            _pct(r.p_abstain),
            _pct(r.p_absent),
            _pct(getattr(r, "p_pivotal", float("nan"))),
        )
        for r in df.itertuples()
    ]
    parts.append(
        f"<p>{_e(STAGE_LABELS.get(stage, stage))}: each state's probability of each vote over "
        f"the runs in which it was held, most likely yes first.</p>"
    )
    parts.append(
        "<details open><summary>Table of all states</summary>"
        + _table(
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
            _table(["", ""], rows),
        ]
    )


def render_report(results: Results) -> str:
    """The report as one HTML document (a string)."""
    from unsim.explain.report import pivotal_breakdowns_html

    sc = results.scenario
    s = results.summary
    body = [
        f"<h1>{_e(sc.resolution.title)}</h1>",
        f'<p class="sub">Scenario <b>{_e(sc.name)}</b>'
        + (f", as of {_e(sc.date)}" if sc.date else "")
        + f" · {int(s['runs']):,} simulated histories · seed {results.seed}</p>",
        "<p>unsim simulates the vote and the diplomacy around it many times over; each run is "
        "one possible history. The figures below are shares of those runs: the consequences of "
        "the scenario's data and assumptions, not a prediction.</p>",
        _question(sc),
        _data_and_assumptions(sc, s),
        _outcomes(results),
        _tallies(results),
        _pivotal(results),
        pivotal_breakdowns_html(results),
        _per_state(results),
        _reproduce(results),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta name="generator" content="{GENERATOR}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(sc.name)}: {_e(sc.resolution.title)}</title>"
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _is_report(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False
    return f'content="{GENERATOR}"' in head


def write_report(results: Results, out: str | Path) -> Path:
    """Write the report to ``out`` atomically. An existing file is replaced only if it is a
    report that unsim wrote; anything else is refused with :class:`OutputError`."""
    out = Path(out)
    if out.exists() and (out.is_dir() or not _is_report(out)):
        raise OutputError(
            f"{out}: exists and is not a report that unsim wrote; nothing was written. "
            "Choose another file with --out"
        )
    return with_umask_mode(write_text_atomically(out, render_report(results)))
