"""The explorer's tables as HTML (no Solara here): every outcome of a what-if beside the
baseline's and the data-only forecast's, the yes votes of each vote on the draft, and every
state's probabilities at a stage."""

from __future__ import annotations

import html
from typing import Any

from unsim.explore.session import Session
from unsim.results.plots import STAGE_LABELS

__all__ = ["outcomes_html", "pct", "state_table_html", "yes_votes_html"]


def pct(x: float) -> str:
    """A share as a percentage with one decimal ("n/a" for NaN)."""
    return "n/a" if x != x else f"{100 * x:.1f} %"


def _interval(low: float, high: float) -> str:
    return "n/a" if low != low else f"{100 * low:.1f}–{pct(high)}"


def outcomes_html(session: Session, results: Any, bare: Any = None) -> str:
    """The outcome table: probability, interval, baseline, the paired change and (with
    ``bare``, the what-if's data-only results) the data-only forecast with its interval. Each
    row carries its exact probability in ``data-p`` (read by the browser test), and its
    data-only one in ``data-p-data-only``."""
    rows = []
    for o in session.outcomes(results, bare):
        if o.name.startswith("veto_") and o.p == 0 and o.p_baseline == 0:
            continue
        cls = "unsim-up" if o.diff_low > 0 else "unsim-down" if o.diff_high < 0 else ""
        change = (
            f"{100 * o.diff:+.1f} pts [{100 * o.diff_low:+.1f}, {100 * o.diff_high:+.1f}]"
            if o.diff == o.diff and o.diff_low == o.diff_low
            else f"{100 * o.diff:+.1f} pts"
        )
        only = ""
        if bare is not None:
            only = (
                f'<td class="num unsim-data-only">{pct(o.p_data_only)}<br><small>'
                f"{_interval(o.data_only_low, o.data_only_high)}</small></td>"
            )
        rows.append(
            f'<tr data-outcome="{o.name}" data-p="{o.p!r}" '
            f'data-p-data-only="{o.p_data_only!r}">'
            f"<td>{html.escape(o.label)}</td>"
            f'<td class="num unsim-p">{pct(o.p)}</td>'
            f'<td class="num">{_interval(o.ci_low, o.ci_high)}</td>'
            f'<td class="num">{pct(o.p_baseline)}</td>'
            f'<td class="num {cls}">{change}</td>{only}</tr>'
        )
    head = (
        "<tr><th>outcome</th><th>probability</th><th>95 % interval</th><th>baseline</th>"
        "<th>change from baseline [95 % interval, paired]</th>"
        + ("<th>data only [95 % interval]</th>" if bare is not None else "")
        + "</tr>"
    )
    return (
        f'<table class="unsim-outcomes"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
    )


def yes_votes_html(session: Session, results: Any, bare: Any) -> str:
    """The yes votes of each vote on the draft, as shown and from the data alone, each with its
    5-95 % over runs; with a line saying what data only is."""
    rows = []
    for v in session.yes_votes(results, bare):
        only = (
            "n/a"
            if v.data_only != v.data_only
            else f"{v.data_only:.1f} ({v.data_only_low:.0f}–{v.data_only_high:.0f})"
        )
        rows.append(
            f'<tr data-yes="{v.stage}"><td>{html.escape(STAGE_LABELS.get(v.stage, v.stage))}'
            f'</td><td class="num">{v.mean:.1f} ({v.low:.0f}–{v.high:.0f})</td>'
            f'<td class="num unsim-data-only">{only}</td></tr>'
        )
    if not rows:
        return ""
    return (
        '<table class="unsim-outcomes unsim-yes"><thead><tr><th>yes votes: mean (5–95 % over '
        "runs)</th><th>this scenario</th><th>data only</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        '<p class="unsim-help">Data only: the calibration alone, every stated assumption of '
        "the scenario removed (<code>unsim run --data-only</code>), on the same runs.</p>"
    )


def state_table_html(rows: list[dict[str, Any]], selected: str) -> str:
    """The state table as HTML: a row per state (``selected`` marked), its probability of each
    vote and of being pivotal (in %)."""
    head = "".join(
        f"<th>{h}</th>"
        for h in ("state", "regional group", "yes", "no", "abstain", "absent", "pivotal")
    )
    body = []
    for r in rows:
        mark = ' style="background:#fff3c4"' if r["iso3"] == selected else ""
        nums = "".join(
            f'<td class="num">{r[c]:.1f} %</td>' for c in ("yes", "no", "abstain", "absent")
        )
        body.append(
            f'<tr data-iso3="{r["iso3"]}"{mark}><td>{html.escape(r["name"])}</td>'
            f"<td>{html.escape(r['group'])}</td>{nums}"
            f'<td class="num">{r["pivotal"]:.2f} %</td></tr>'
        )
    return (
        '<div style="max-height: 28rem; overflow-y: auto"><table class="unsim-outcomes">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
