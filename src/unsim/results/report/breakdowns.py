"""Short sections of the HTML report: the pivotal states' stances in parts, and the permanent
members' at the referral draft (from the breakdown table saved with the results; nothing is run
again)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import pandas as pd

from unsim.model.stages import stages_where
from unsim.results.breakdown_table import STAGE_WORDS, STANCE
from unsim.scenario.schema import World

if TYPE_CHECKING:
    from unsim.results.tables import Results

#: How many of the most often pivotal states the section shows.
SHOWN = 4


def pivotal_breakdowns_html(results: Results) -> str:
    """The section as HTML, or "" when the results have no breakdown table or no state was
    pivotal at a vote on the draft."""
    from unsim.model.kernel_args import DRAFT_VOTES as DRAFT_STAGES  # loads numba: a run's only

    table = results.explain
    if table is None or table.empty:
        return ""
    pivotal = [r for r in results.summary.get("pivotal", []) if r.get("stage") in DRAFT_STAGES]
    if not pivotal:
        return ""
    stage = max(
        {str(r["stage"]) for r in pivotal}, key=DRAFT_STAGES.index
    )  # the later vote on the draft
    top = sorted((r for r in pivotal if r["stage"] == stage), key=lambda r: -float(r["p"]))
    codes = [str(r["iso3"]) for r in top[:SHOWN]]
    rows = table[(table["stage"].astype(str) == stage) & table["iso3"].isin(codes)]
    if rows.empty:
        return ""
    names = {str(r["iso3"]): str(r["name"]) for r in top}
    runs = int(rows["runs"].max())
    return "\n".join(
        [
            "<h2>Why the pivotal states vote as they do</h2>",
            f"<p>The stance of the states most often pivotal at the "
            f"{escape(STAGE_WORDS.get(stage, stage))} vote, in parts on the model's scale (the "
            f"mean over the first {runs:,} runs in which it was held; the parts add up to the "
            "stance; a state votes yes when its stance is well above the abstention band, no "
            "when well below). <code>unsim explain</code> gives one state's in full.</p>",
            _parts_table(rows, codes, names),
        ]
    )


def veto_breakdowns_html(results: Results) -> str:
    """The permanent members' stances at the referral draft in parts, or "" when the results
    have no breakdown table or the draft was never tabled in its runs."""
    table = results.explain
    world = results.scenario.world
    if table is None or table.empty or not isinstance(world, World):
        return ""
    codes = list(world.security_council.permanent)
    vetoed = stages_where(lambda st: st.rule.veto)
    rows = table[table["stage"].astype(str).isin(vetoed) & table["iso3"].isin(codes)]
    if rows.empty:
        return ""
    names = {st.iso3: st.name for st in world.states}
    runs = int(rows["runs"].max())
    return "\n".join(
        [
            "<h2>Why the permanent members vote as they do on the referral</h2>",
            "<p>The stance of each permanent member of the Council at the referral draft, in "
            "parts on the model's scale (the mean over the first "
            f"{runs:,} runs in which the draft was tabled; the parts add up to the stance). A "
            "permanent member's no is a veto. <code>unsim explain --stage sc_referral</code> "
            "gives one member's in full, with the smallest change that would turn its vote.</p>",
            _parts_table(rows, codes, names),
        ]
    )


def _parts_table(rows: pd.DataFrame, codes: list[str], names: dict[str, str]) -> str:
    """The states' parts side by side (a column a state, in the order of ``codes``), leaving
    out the parts that are nil for all of them."""
    wide = rows.pivot_table(index=["part", "label"], columns="iso3", values="mean", sort=False)
    wide = wide.reindex(columns=[c for c in codes if c in wide.columns])
    keep = wide.abs().max(axis=1) > 5e-4
    keep[wide.index.get_level_values("part") == STANCE] = True
    wide = wide[keep]
    head = "".join(f'<th class="num">{escape(names.get(c, c))}</th>' for c in wide.columns)
    body = []
    for (part, label), values in wide.iterrows():
        cells = "".join(f'<td class="num">{v:+.2f}</td>' for v in values)
        text = escape(str(label))
        body.append(f"<tr><td>{'<b>' + text + '</b>' if part == STANCE else text}</td>{cells}</tr>")
    return (
        f"<table><thead><tr><th>part</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
