"""A session's results as one self-contained HTML file (``unsim report SESSION_RESULTS`` and
``unsim SESSION.yaml --report``): the session's bottom line first (every draft adopted, the
number adopted, each draft's adoption and plenary yes votes with their intervals), the joint
outcomes, the pairs figure, then each draft's own section, drawn with the single-draft report's
building blocks (``unsim.results.report.html``)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from unsim.ownership import Paths, check_output, write_text_output
from unsim.results.report import html as single
from unsim.results.report.markup import esc, figure_png, percent, table

if TYPE_CHECKING:
    from unsim.session.run import SessionResults
    from unsim.session.views import SavedSession


def _interval(entry: dict[str, Any]) -> str:
    low, high = percent(entry.get("ci_low")), percent(entry.get("ci_high"))
    return f"{percent(entry.get('p'))} [{low}, {high}]"


def _yes(summary: dict[str, Any]) -> str:
    t = summary.get("tallies", {}).get("plenary", {}).get("yes")
    return f"{t['q50']:.0f} (5-95 %: {t['q05']:.0f}-{t['q95']:.0f})" if t else "no plenary vote"


def bottom_line_sentences(s: dict[str, Any]) -> list[str]:
    """The session's bottom line in sentences (from its ``summary.json``)."""
    n = len(s["drafts"])
    out = [f"Every one of the {n} drafts is adopted in {_interval(s['all_adopted'])} of runs."]
    counts = ", ".join(
        f"{k} in {percent(v.get('p'))}" for k, v in s["adopted_count"].items() if v.get("p")
    )
    out.append(f"Number of drafts adopted: {counts}.")
    for name, d in s["drafts"].items():
        out.append(
            f"{name} ({d['target']}): adopted in {_interval(d['adopted'])} of runs "
            f"({percent(d['adopted_without_vote'].get('p'))} without a vote); plenary yes votes "
            f"{_yes(d['summary'])}."
        )
    return out


def _bottom(s: dict[str, Any]) -> str:
    items = "".join(f"<li>{esc(x)}</li>" for x in bottom_line_sentences(s))
    return (
        f'<section id="bottom-line"><h2>The session\'s bottom line</h2><ul>{items}</ul>'
        '<p class="note">In brackets: 95 % intervals over runs (Wilson); plenary yes votes as the '
        "median and the range of 90 % of runs. The numbers are in <code>summary.json</code>."
        "</p></section>"
    )


def _joint(s: dict[str, Any]) -> str:
    rows = []
    for name, o in s["joint_outcomes"].items():
        if "p" in o:
            value, spread = percent(o["p"]), f"{percent(o['ci_low'])} to {percent(o['ci_high'])}"
        else:
            value, spread = f"{o['mean']:.2f}", f"{o['q05']:.2f} to {o['q95']:.2f} (5-95 %)"
        rows.append((name, o["expression"], value, spread))
    corr = []
    for pair, c in s["plenary_yes_correlation"].items():
        r = c.get("r")
        ok = r is not None and not math.isnan(r)
        ci = f"{c['ci_low']:+.3f} to {c['ci_high']:+.3f}" if ok else "–"
        corr.append((pair.replace("~", " and "), f"{r:+.3f}" if ok else "n/a", ci))
    link = s["linkage"]
    parts = [
        '<section id="joint-outcomes"><h2>Joint outcomes</h2>',
        f"<p>The drafts run together: run r of every draft shares a per-state factor (sd "
        f"{link['state_factor']['sd']:g}) and a session shock (sd "
        f"{link['session_shock']['sd']:g}).</p>",
    ]
    if rows:
        parts.append(table(["outcome", "expression", "value", "interval"], rows, numeric=(2, 3)))
    parts.append("<h3>Correlation of the plenary yes votes, pair by pair</h3>")
    parts.append(table(["drafts", "r", "95 % interval"], corr, numeric=(1, 2)))
    return "\n".join(parts) + "</section>"


def _pairs(saved: SavedSession) -> str:
    from unsim.session.output import pairs_figure

    shim = SimpleNamespace(
        drafts=saved.drafts,
        table=saved.table,
        summary=saved.summary,
        session=SimpleNamespace(name=saved.name),
    )
    fig = pairs_figure(cast("SessionResults", shim))
    img = figure_png(fig, "the plenary yes votes of each pair of drafts, run by run")
    return f'<section id="pairs"><h2>Pairs of drafts</h2>{img}</section>'


def _draft(name: str, saved: SavedSession) -> str:
    r = saved.drafts[name]
    title = r.scenario.resolution.title
    return "\n".join(
        [
            f'<section id="draft-{esc(name)}" class="draft"><h2>Draft {esc(name)}: '
            f"{esc(title)}</h2>",
            '<p class="note">As run within the session (its linkage included); its own results '
            f"folder is <code>drafts/{esc(name)}</code>.</p>",
            *single.draft_sections(r),
            "</section>",
        ]
    )


def render_session_report(saved: SavedSession) -> str:
    """The session's report as one HTML document (a string)."""
    s, meta = saved.summary, saved.metadata
    date = (meta.get("session") or {}).get("date")
    command = meta.get("command") or f"unsim SESSION.yaml --seed {saved.seed} --runs {saved.runs}"
    body = [
        f"<h1>Session {esc(saved.name)}</h1>",
        f'<p class="sub">{len(saved.drafts)} drafts ({esc(", ".join(saved.drafts))})'
        + (f", as of {esc(date)}" if date else "")
        + f" · {saved.runs:,} simulated histories · seed {saved.seed}"
        + (" · every draft data-only" if meta.get("data_only") else "")
        + "</p>",
        _bottom(s),
        _joint(s),
        _pairs(saved),
        *(_draft(name, saved) for name in saved.drafts),
        "<h2>How to reproduce it</h2>",
        table(["", ""], [("command", command), ("master seed", str(saved.seed))]),
    ]
    return single.page(f"Session {saved.name}", body)


def write_session_report(saved: SavedSession, out: str | Path, inputs: Paths = ()) -> Path:
    """Write the session's report to ``out`` atomically (a file unsim did not write is never
    replaced)."""
    inputs = list(inputs)
    check_output(out, "html", inputs=inputs)
    return write_text_output(out, "html", render_session_report(saved), inputs=inputs)
