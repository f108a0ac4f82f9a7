"""An :class:`~unsim.explain.explanation.Explanation` as text for the terminal."""

from __future__ import annotations

from unsim.explain.explanation import Explanation
from unsim.explain.flip import VOTES
from unsim.model.stages import Item, stage_named
from unsim.results.breakdown_table import STAGE_WORDS

#: How the amendment's stance is formed, in words (before its parts).
_AMENDMENT = (
    "(on the amendment deleting the ICC paragraphs, yes = delete: minus its stance on the\n"
    " paragraphs, the clause stance: its support for the draft and its own clause term, the\n"
    " ICC cost and its own deviation, each part below with the sign it has on deleting\n"
    " them; plus the amendment's bias)"
)


def _pct(x: float) -> str:
    return f"{100 * x:5.1f} %"


def format_explanation(e: Explanation) -> str:
    """Readable lines: the parts, the probabilities, the record, how pivotal, what flips it."""
    stage = STAGE_WORDS.get(e.stage, e.stage)
    lines = [
        f"Why {e.name} ({e.iso3}) votes as it does at the {stage} vote",
        "",
        f"Its stance on the model's scale, in parts (mean over {e.runs:,} runs, seed {e.seed}, "
        "with the 95 % interval of the mean):",
    ]
    amendment = stage_named(e.stage).item is Item.AMENDMENT
    if amendment:
        lines.insert(2, _AMENDMENT)
    for _, p in e.parts.iterrows():
        lines.append(f"  {p['label'][:52]:<52}{p['mean']:+8.3f}   [{p['lo']:+.3f}, {p['hi']:+.3f}]")
    lines.append(f"  {'':<52}{'-' * 8}")
    lines.append(
        f"  {'stance the model used for the vote':<52}{e.stance:+8.3f}   "
        f"[{e.stance_lo:+.3f}, {e.stance_hi:+.3f}]"
    )
    if amendment:
        bias = e.parts.loc[e.parts["part"] == "amendment_bias", "mean"].sum()
        lines.append(
            f"  {'its stance on the ICC paragraphs (yes = keep)':<52}{bias - e.stance:+8.3f}"
            "   (minus the parts above but the amendment's bias)"
        )
    lines += ["", "Its vote (probability over all runs, 95 % interval):"]
    for v in VOTES:
        p = e.probabilities[v]
        lines.append(f"  {v:<8}{_pct(p['p'])}   [{_pct(p['ci_low'])}, {_pct(p['ci_high'])}]")
    pv = e.pivotal
    lines.append(
        f"  pivotal {_pct(pv['p'])}   [{_pct(pv['ci_low'])}, {_pct(pv['ci_high'])}] "
        "(its vote decided the outcome)"
    )
    lines += ["", *_modal_lines(e)]
    lines += [
        "",
        "Recorded votes on the series"
        + (f" ({e.recorded.series})" if e.recorded.series else "")
        + ":",
    ]
    if e.recorded.votes:
        lines.append("  " + ", ".join(f"{d} {v}" for d, v in e.recorded.votes))
    if e.recorded.note:
        lines.append(f"  {e.recorded.note}")
    if e.recorded.record is not None:
        lines.append(
            f"  record term of the calibration: {e.recorded.record:+.3f} "
            "(its earlier votes, yes 1, abstain 0, no -1, weighted with its last vote and its own "
            "offset on the series, mixed with its record on the other country series; times the "
            "record weight it is the record part above"
            + (", negated on the amendment)" if amendment else ")")
        )
    lines += [f"Note: {n}" for n in e.notes]
    return "\n".join(lines)


def _modal_lines(e: Explanation) -> list[str]:
    """Its most likely vote, its habit, and the smallest changes that would change it: in
    votes and in the scenario's levers (``unsim.explain.units``)."""
    p = e.probabilities.get(e.modal, {}).get("p", float("nan"))
    share = f" ({100 * p:.1f} % of runs)" if p == p else ""
    lines = [f"Most likely vote by the model's vote rule: {e.modal}{share}"]
    if e.habit > 0:
        lines.append(
            f"  (when present it repeats its last vote on the series, {e.last_vote}, with "
            f"probability {e.habit:.3f}, whatever its stance; the rest by its stance)"
        )
    if e.flip is None:
        why = "absence and its habit do not" if e.habit > 0 else "absence does not"
        lines.append(f"  no change of stance changes it ({why} depend on the stance)")
        return lines
    f = e.flip
    if e.levers:
        lines.append(
            "  What would make it vote otherwise, each change alone (the rest as the scenario "
            "states it):"
        )
        lines += [f"    {c.text}: then {c.to_vote}" for c in e.levers[:4]]
    else:
        lines.append(
            f"  no lever the scenario states would change it alone; on the model's latent scale, "
            f"a shift of {f.shift:+.2f} in its stance would make it {f.to_vote}"
        )
    if e.votes is not None and e.votes.of:
        v = e.votes
        lines.append(
            f"  In votes: the smallest change that makes it {f.to_vote}, made to every other "
            f"state's stance at this vote, would change the most likely vote of {v.states} of "
            f"the other {v.of} and the mean yes tally by {v.yes:+.1f}"
        )
    return lines
