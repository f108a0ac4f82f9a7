"""The explorer's result panels: variants A and B side by side, each stage's tallies, the
downloads, and the chosen state (its probabilities, why it votes as it does, every state's
table)."""

from __future__ import annotations

import html
import math
import time
from typing import Any

import solara

from unsim.explain.figure import waterfall
from unsim.explore.exports import Export
from unsim.explore.figures import png
from unsim.explore.painters import wait_for_figures
from unsim.explore.session import Session
from unsim.explore.tables import pct, state_table_html
from unsim.explore.variants import TALLY_VOTES, compare_variants, paired_tally_change, tallies
from unsim.model.stages import Stage, stage_named, stages_where
from unsim.results.breakdown_table import STAGE_WORDS
from unsim.results.plots import GROUP_LABELS, STAGE_LABELS
from unsim.results.report.html import main_stage


def _change(diff: float, low: float, high: float, unit: str = " pts", scale: float = 100) -> str:
    if math.isnan(diff):
        return "n/a"
    if math.isnan(low) or math.isnan(high):
        return f"{scale * diff:+.1f}{unit}"
    return f"{scale * diff:+.1f}{unit} [{scale * low:+.1f}, {scale * high:+.1f}]"


def variants_html(session: Session, a: Any, b: Any) -> str:
    """The outcome table of variants A and B: each outcome under the baseline, A and B (with
    their intervals) and B - A, paired run by run, with its interval. Each row carries B's and
    the difference's exact values (``data-p``, ``data-diff``)."""
    rows = []
    for r in compare_variants(session, a, b):
        if r.name.startswith("veto_") and r.a == 0 and r.b == 0 and r.baseline == 0:
            continue
        cls = "unsim-up" if r.diff_low > 0 else "unsim-down" if r.diff_high < 0 else ""
        rows.append(
            f'<tr data-outcome="{r.name}" data-p="{r.b!r}" data-diff="{r.diff!r}">'
            f"<td>{html.escape(r.label)}</td>"
            f'<td class="num">{pct(r.baseline)}</td>'
            f'<td class="num">{pct(r.a)}<br><small>{100 * r.a_low:.1f}–{pct(r.a_high)}'
            "</small></td>"
            f'<td class="num unsim-p">{pct(r.b)}<br><small>{100 * r.b_low:.1f}–'
            f"{pct(r.b_high)}</small></td>"
            f'<td class="num {cls}">{_change(r.diff, r.diff_low, r.diff_high)}</td></tr>'
        )
    head = (
        "<tr><th>outcome</th><th>baseline</th><th>A (pinned)</th><th>B (being edited)</th>"
        "<th>B − A [95 % interval, paired run by run]</th></tr>"
    )
    return (
        f'<table class="unsim-outcomes unsim-variants"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def tallies_html(shown: list[tuple[str, Any]], pair: tuple[Any, Any] | None = None) -> str:
    """Each stage's yes, no and abstain votes: median and 5-95 % of the runs where it was
    held, for each variant shown (``(name, results)``); with ``pair`` (A, B), the change of
    its yes votes B - A, run by run, with its interval."""
    tables = [(name, tallies(results).set_index("stage")) for name, results in shown]
    stages = [s for s in tables[-1][1].index] if tables else []
    head = "<tr><th>vote</th><th></th><th>held in</th>" + "".join(
        f"<th>{v}: median (5–95 %)</th>" for v in TALLY_VOTES
    )
    head += "<th>yes, B − A [95 %]</th></tr>" if pair else "</tr>"
    rows = []
    for stage in stages:
        for i, (name, table) in enumerate(tables):
            if stage not in table.index:
                continue
            t = table.loc[stage]
            cells = "".join(
                f'<td class="num" data-vote="{v}" data-median="{int(t[f"{v}_median"])}">'
                f"{int(t[f'{v}_median'])} ({int(t[f'{v}_q05'])}–{int(t[f'{v}_q95'])})</td>"
                for v in TALLY_VOTES
            )
            label = html.escape(str(t["label"])) if i == 0 else ""
            extra = ""
            if pair:
                extra = "<td></td>"
                if i == len(tables) - 1:
                    d = paired_tally_change(pair[0], pair[1], stage)
                    change = _change(d["diff"], d["ci_low"], d["ci_high"], "", 1)
                    extra = f'<td class="num">{change}</td>'
            rows.append(
                f'<tr data-stage="{stage}" data-variant="{name}"><td>{label}</td><td>{name}</td>'
                f'<td class="num">{int(t["held"]):,} runs</td>{cells}{extra}</tr>'
            )
    return (
        f'<table class="unsim-outcomes unsim-tallies"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


@solara.component
def Downloads(groups: list[tuple[str, list[Export]]]) -> None:
    """A row of download buttons per variant: its tables (CSV, Parquet) and figures (PNG);
    each file is made when its button is pressed."""
    for title, files in groups:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(title), classes=["unsim-help"])
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            for f in files:
                solara.FileDownload(
                    f.make, filename=f.filename, label=f.label, mime_type=f.mime_type
                )


def state_rows(results: Any, stage: str) -> list[dict[str, Any]]:
    """The state table's rows at ``stage``: each state's name, regional group and probability of
    each vote and of being pivotal (in %)."""
    ps = results.per_state
    df = ps[ps["stage"].astype(str) == stage]
    return [
        {
            "iso3": r.iso3,
            "name": r.name,
            "group": GROUP_LABELS.get(str(r.group), str(r.group)),
            "yes": round(100 * float(r.p_yes), 1),
            "no": round(100 * float(r.p_no), 1),
            "abstain": round(100 * float(r.p_abstain), 1),
            "absent": round(100 * float(r.p_absent), 1),
            "pivotal": round(100 * float(r.p_pivotal), 2),
        }
        for r in df.itertuples()
    ]


@solara.component
def StateDetail(session: Session, results: Any, iso3: str) -> None:
    """A state's probability of each vote at each stage (95 % intervals) and why it votes so."""
    detail = session.state_detail(results, iso3)
    names = dict(zip(results.per_state["iso3"], results.per_state["name"], strict=False))
    solara.Markdown(f"**{names.get(iso3, iso3)}**: probability of each vote (95 % interval)")
    rows = []
    for r in detail.itertuples():
        cells = "".join(
            f'<td class="num">{pct(getattr(r, c))}<br><small>'
            f"{pct(getattr(r, c + '_low'))}–{pct(getattr(r, c + '_high'))}</small></td>"
            for c in ("yes", "no", "abstain", "absent", "pivotal")
        )
        rows.append(
            f'<tr data-stage="{r.stage}"><td>{html.escape(STAGE_LABELS.get(r.stage, r.stage))}'
            f"</td>{cells}</tr>"
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML='<table class="unsim-outcomes unsim-state"><thead><tr><th>vote</th>'
        "<th>yes</th><th>no</th><th>abstain</th><th>absent</th><th>pivotal</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>",
    )
    stage = main_stage(results.per_state)
    if stage is not None and stage_named(stage).on_draft:
        StateExplanation(session, results, iso3, stage)
    # a member of a body of its own (the Council's referral, the Human Rights Council's vote)
    for own in stages_where(_explained_member_vote, set(detail["stage"].astype(str))):
        StateExplanation(session, results, iso3, own)


def _explained_member_vote(st: Stage) -> bool:
    """A vote of a body of its own that the state panel explains for its members: one on the
    draft or the referral (not the Council's procedural agenda vote)."""
    return not st.body.everyone and (st.on_draft or st.rule.veto)


@solara.component
def StateExplanation(session: Session, results: Any, iso3: str, stage: str) -> None:
    """Why the state votes as it does (``unsim.explain``): its most likely vote, the smallest
    change of stance that changes it, and its stance in parts as a waterfall; worked out in a
    worker thread."""

    def work() -> tuple[str, bytes]:
        """The explanation's text and its waterfall figure (PNG)."""
        time.sleep(0.1)  # the figures of the change start their threads
        wait_for_figures(timeout=3.0)  # and go first: the replay below takes a while
        e = session.explanation(results, iso3, stage)
        if e.flip is None:
            flip = "no change of its stance changes it."
        else:
            flip = (
                f"a shift of {e.flip.shift:+.2f} in its stance would make it {e.flip.to_vote} "
                f"({e.size_in_words()})."
            )
        text = (
            f"**Why, at the {STAGE_WORDS.get(stage, stage)} vote**: its stance there is "
            f"{e.stance:+.2f} on the model's scale (mean over {e.runs:,} runs), so it most "
            f"likely votes {e.modal}; {flip}"
        )
        return text, png(waterfall(e))

    result = solara.use_thread(
        work, dependencies=[id(results), iso3, stage], intrusive_cancel=False
    )
    if result.value is None:
        solara.ProgressLinear(True)
        return
    text, image = result.value
    solara.Markdown(html.escape(text).replace("&#x27;", "'"))
    solara.Image(image, width="100%")


_SORT_KEYS = {
    "yes": "probability of yes",
    "no": "probability of no",
    "abstain": "probability of abstaining",
    "absent": "probability of being absent",
    "pivotal": "how often pivotal",
    "name": "name",
    "group": "regional group",
}


@solara.component
def StateTable(rows: list[dict[str, Any]], stage: str, selected: str) -> None:
    """Every state's probabilities at a stage, sortable by any column."""
    key, set_key = solara.use_state("yes")
    descending, set_descending = solara.use_state(True)
    ordered = sorted(rows, key=lambda r: (r[key], r["name"]), reverse=descending)
    with solara.Row():
        solara.Select(
            label="Sort states by",
            values=list(_SORT_KEYS.values()),
            value=_SORT_KEYS[key],
            on_value=lambda v: set_key(next(k for k, t in _SORT_KEYS.items() if t == v)),
        )
        solara.Switch(label="largest first", value=descending, on_value=set_descending)
    solara.Markdown(f"{STAGE_LABELS.get(stage, stage)}: every state's probability of each vote.")
    solara.HTML(tag="div", unsafe_innerHTML=state_table_html(ordered, selected))
