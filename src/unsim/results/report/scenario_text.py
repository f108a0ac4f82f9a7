"""The report's account of a scenario in words: the question, the strategies, what is data and
what is assumption (with the attribution of the forecast to each assumption)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from unsim.results.plots import (
    STAGE_LABELS,
)
from unsim.results.report.markup import esc, percent, table
from unsim.scenario.labels import describe, label_for, strategy_name, words
from unsim.scenario.schema import Scenario, World
from unsim.strategies import Strategy
from unsim.uncertainty import Uncertain


def world_of(scenario: Scenario) -> World:
    """The scenario's resolved world (loaded scenarios always have one)."""
    world = scenario.world
    assert isinstance(world, World)
    return world


def _names(scenario: Scenario, refs: Iterable[str]) -> str:
    world = world_of(scenario)
    names = {s.iso3: s.name for s in world.states}
    out = []
    for ref in refs:
        if ref in world.blocs:
            out.append(f"{world.blocs[ref].name} ({len(world.blocs[ref].members)} states)")
        else:
            out.append(names.get(ref, ref))
    return ", ".join(out) if out else "none"


def _value_text(value: Any) -> str:
    if isinstance(value, Uncertain):
        return f"drawn per run: {value.dist.describe()} ({value.dist.spread()})"
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


def question(scenario: Scenario) -> str:
    """The report's opening section: the draft, its target, sponsors, clauses and path through
    procedure, the target's allies and its response strategies."""
    r = scenario.resolution
    world = world_of(scenario)
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
        f"<p>{esc(scenario.description or '')}</p>",
        "<ul>",
        f"<li><b>Draft:</b> {esc(r.title)}</li>",
        f"<li><b>Target state:</b> {esc(target)}</li>",
        f"<li><b>Sponsors:</b> {esc(_names(scenario, r.sponsors))}</li>",
        f"<li><b>Co-sponsors:</b> {esc(_names(scenario, r.cosponsors))}</li>",
        "<li><b>Clauses:</b> "
        + (esc("; ".join(clauses)) if clauses else "no ICC or sanctions clause")
        + "</li>",
        f"<li><b>Path through procedure:</b> {esc(stages)}; adoption needs {esc(majority)}.</li>",
        f"<li><b>The target's allies:</b> {esc(_names(scenario, scenario.actors.allies.members))};"
        f" <b>patrons:</b> {esc(_names(scenario, scenario.actors.allies.patrons))}</li>",
        "</ul>",
        "<h3>The target's response strategies</h3>",
    ]
    sentences = strategy_sentences(scenario)
    if not sentences:
        parts.append("<p>None: the target does not respond.</p>")
    for name, rows in sentences:
        parts.append(f"<h4>{esc(name[:1].upper() + name[1:])}</h4>")
        parts.append(table(["parameter", "value", "meaning"], rows))
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
                                _value_text(getattr(value, sub)),
                                describe(path, scenario) or "",
                            )
                        )
                continue
            path = f"{prefix}.{field}"
            rows.append((label_for(path, scenario), _value_text(value), info.description or ""))
    for code, override in scenario.actors.states.items():
        for field in override.model_dump(exclude_defaults=True):
            path = f"actors.states.{code}.{field}"
            value = getattr(override, field)
            rows.append((label_for(path, scenario), _value_text(value), describe(path) or ""))
    return rows


def _attribution(attr: Mapping[str, Any], scenario: Scenario) -> str:
    """The attribution read forward: from the data alone, each stated assumption added in
    turn, to the scenario as given (``unsim.results.forward``)."""
    from unsim.results.forward import ORDER_SENTENCE, PLUS_MINUS, forward_of, spread_text

    forward = forward_of(dict(attr))
    qs = forward.get("quantities") or {}
    if not qs:
        return ""
    kinds = {k: q.get("kind") for k, q in qs.items()}

    def level(k: str, values: Mapping[str, Any]) -> str:
        """Quantity ``k``'s value in ``values``: votes, or a percentage of runs."""
        v = values.get(k)
        if v is None or v != v:
            return "n/a"
        return f"{float(v):.1f}" if kinds[k] == "votes" else percent(v)

    def change(k: str, part: Mapping[str, Any]) -> str:
        """What the part changes in quantity ``k``: the mean change ± its interval's half-width."""
        c = (part.get("change") or {}).get(k) or {}
        mean, ci = c.get("mean"), c.get("ci")
        if mean is None or mean != mean:
            return "n/a"
        scale = 1.0 if kinds[k] == "votes" else 100.0
        if mean == 0 and not ci:
            return "0"
        text = f"{scale * mean:+.1f}"
        return text + (f" ±{scale * ci:.1f}" if ci is not None and ci == ci else "")

    rows: list[list[str]] = [
        ["from the data alone", *(level(k, forward["data_only"]) for k in qs)]
    ]
    for part in forward.get("parts", []):
        label = part.get("label") or label_for(str(part.get("name", "")), scenario)
        spread = spread_text(part, qs)
        rows.append(
            [f"+ {label}" + (f" ({spread})" if spread else ""), *(change(k, part) for k in qs)]
        )
    rows.append(["= the scenario as given", *(level(k, forward["as_given"]) for k in qs)])
    heads = [
        f"{q.get('label', k)}" + (" (share of runs)" if kinds[k] == "share" else "")
        for k, q in qs.items()
    ]
    runs = int(attr.get("runs", 0) or 0)
    return "\n".join(
        [
            "<p>How the forecast moves from what the data alone give (calibrated positions and "
            "behaviour, no stated assumption) to the scenario as given, adding one stated "
            f"assumption at a time ({runs:,} paired runs a variant, on the same random "
            f"numbers): each row is the change that assumption makes. {esc(ORDER_SENTENCE)}</p>",
            table(["", *heads], rows, numeric=range(1, len(qs) + 1)),
            f'<p class="note">{esc(PLUS_MINUS)}</p>',
        ]
    )


def uncertain_levers(scenario: Scenario) -> str:
    """The numbers the scenario gives as distributions: each with its spread and evidence."""
    from unsim.scenario.drawn import scenario_levers

    levers = scenario_levers(scenario)
    if not levers:
        return ""
    rows = [
        (
            label_for(lever.path, scenario),
            f"{lever.value.dist.describe()}: {lever.value.dist.spread()}",
            (lever.value.dist.source or "not given")
            + (f" (levers file entry {lever.value.lever})" if lever.value.lever else ""),
        )
        for lever in levers
    ]
    return "\n".join(
        [
            "<h3>Uncertain levers</h3>",
            "<p>These values are given as distributions: each run draws its own value, so the "
            "intervals above include their uncertainty (each draw is a column of the run "
            "table).</p>",
            table(["lever", "distribution", "evidence"], rows),
        ]
    )


def _with_range(r: Mapping[str, Any], side: str) -> str:
    """A forecast's value with its interval over runs (the 5-95 % of a vote's yes votes, the
    95 % interval of a share), as the main job prints it."""
    value = float(r[side])
    span = r.get(f"{side}_range")
    if r.get("kind") == "votes":
        text = f"{value:.1f}"
        if span and not any(math.isnan(float(x)) for x in span):
            text += f" ({float(span[0]):.0f}–{float(span[1]):.0f})"
        return text
    text = f"{100 * value:.1f} %"
    if span and not any(math.isnan(float(x)) for x in span):
        text += f" ({100 * float(span[0]):.1f}–{100 * float(span[1]):.1f})"
    return text


def data_only_table(summary: Mapping[str, Any]) -> str:
    """The forecast as given beside the data-only one (``summary["data_only"]``), each with its
    interval over runs, and the paired difference."""
    forecast = summary.get("data_only") or {}
    rows = []
    for r in (forecast.get("rows") or {}).values():
        scale = 1.0 if r.get("kind") == "votes" else 100.0
        try:
            given, bare = _with_range(r, "as_given"), _with_range(r, "data_only")
            diff = scale * float(r["diff"])
            ci = f"[{scale * float(r['ci_low']):+.1f}, {scale * float(r['ci_high']):+.1f}]"
        except (KeyError, TypeError, ValueError):
            continue
        unit = "" if scale == 1.0 else " pts"
        rows.append([str(r.get("label", "")), given, bare, f"{diff:+.1f}{unit}", ci])
    if not rows:
        return ""
    return "\n".join(
        [
            "<h3>The forecast as given and from the data alone</h3>",
            f"<p>The scenario's forecast beside the calibration's alone (every stated assumption "
            f"removed), paired on {int(forecast.get('runs', 0)):,} runs. Yes votes are means "
            "over the runs in which the vote was held, with their 5–95 % range over runs; an "
            "outcome is the share of runs in which it happened, with its 95 % interval. The "
            "difference is as given minus data only, with its 95 % interval over the paired "
            "runs.</p>",
            table(["", "as given", "data only", "difference", "95 % interval"], rows, range(1, 5)),
        ]
    )


def data_and_assumptions(scenario: Scenario, summary: Mapping[str, Any]) -> str:
    """The report's section that tells the scenario's data from its stated assumptions."""
    world = world_of(scenario)
    parts = ["<h2>What is data and what is assumption</h2>", "<h3>Data</h3>", "<ul>"]
    parts.append(
        f"<li><b>World:</b> {esc(world.name)} as of {esc(world.date)}: {len(world.states)} member "
        f"states, {len(world.blocs)} blocs, the Security Council of that date.</li>"
    )
    cal = scenario.calibration
    if cal is not None and not isinstance(cal, str):
        prov = cal.provenance
        fitted = ", ".join(words(k) for k in cal.behaviour) or "none"
        parts.append(
            f"<li><b>Calibration</b> {esc(cal.name)}: each state's position from General "
            f"Assembly roll calls before {esc(prov.get('before', 'the cut date'))}; fitted "
            f"behaviour parameters: {esc(fitted)}. "
            f"Method: {esc(prov.get('method', 'not recorded'))}.</li>"
        )
    else:
        parts.append(
            "<li><b>No calibration:</b> positions and behaviour are the scenario's own values.</li>"
        )
    parts.append("</ul><h3>Assumptions</h3>")
    attribution = summary.get("attribution")
    if attribution:
        parts.append(_attribution(attribution, scenario))
    parts.append(data_only_table(summary))
    if not attribution:
        parts.append(
            "<p>These values are stated priors of the scenario, not estimated from past votes "
            "(together with the strategies' parameters above). Change or sweep them to see how "
            "much the answer depends on them.</p>"
        )
        parts.append(table(["assumption", "value", "meaning"], _prior_rows(scenario)))
    parts.append(uncertain_levers(scenario))
    return "\n".join(parts)
