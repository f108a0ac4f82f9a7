"""The outcome table grouped for a reader, and the pivotal states ranked where they are pivotal.

The outcomes fall into four groups: the Assembly's votes on the draft, the ICC language, the
Council, then the target's strategies and other events (what the runs record along the way, out
of the headline groups); a stage none of them lists (the Human Rights Council's) has a group of
its own, in procedural order. A state is pivotal at a vote when its vote alone decided the result;
the states are ranked per vote, and a vote's list is shown only when some state is pivotal there
in at least ``TRIVIAL`` of the runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from unsim.model.outcomes import known_outcomes
from unsim.model.stages import STAGE_PLAN, STAGE_SHORT
from unsim.scenario.schema import STAGES

__all__ = [
    "GROUPS",
    "TRIVIAL",
    "OutcomeGroup",
    "PivotalStage",
    "outcome_groups",
    "pivotal_by_stage",
]

#: The groups, in the order shown: (title, outcomes first in it, the stages of the outcome
#: registry whose outcomes fall in it).
GROUPS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "The Assembly",
        ("committee_adopted", "plenary_adopted"),
        ("no_action_motion", "third_committee", "plenary"),
    ),
    (
        "The ICC language",
        ("icc_retained", "icc_dropped_bargain", "icc_dropped_support_short"),
        ("amendment", "rounds"),
    ),
    (
        "The Security Council",
        ("sc_agenda_adopted", "referral_tabled", "referral_vetoed"),
        ("sc_agenda", "sc_referral"),
    ),
    ("The target's strategies and other events", (), ("strategies",)),
)
#: The share of runs below which a state's being pivotal is not worth a line.
TRIVIAL = 0.01


@dataclass
class OutcomeGroup:
    """A group of the outcome table: its title and its rows (name, label, the outcome's
    probability and interval as the summary holds them)."""

    title: str
    rows: list[tuple[str, str, Mapping[str, Any]]] = field(default_factory=list)


#: A permanent member's veto has a row of its own when at least this share of runs saw it (it
#: prints as 0.0 % below); rarer vetoes are left out of the groups (the terminal names them on
#: one line; every one is in summary.json).
VETO_SHOWN = 0.0005


def groups() -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """``GROUPS``, with a group of its own for each declared stage none of them lists (titled
    by its body: "The Human Rights Council"), placed before the first group of a later stage."""
    out = list(GROUPS)
    listed = {s for g in GROUPS for s in g[2]}
    order = {st.name: i for i, st in enumerate(STAGE_PLAN)}
    for st in STAGE_PLAN:
        if st.name in listed:
            continue
        later = [
            i for i, g in enumerate(out) if any(order.get(s, -1) > order[st.name] for s in g[2])
        ]
        out.insert(later[0] if later else len(out) - 1, (f"The {st.body.label}", (), (st.name,)))
    return out


def _group_of(name: str, every: list[tuple[str, tuple[str, ...], tuple[str, ...]]]) -> int:
    outcome = next((o for o in known_outcomes() if o.name == name), None)
    stage = outcome.stage if outcome is not None else "strategies"
    if name.startswith("veto_"):  # a permanent member's veto: at the vote with a veto
        stage = next((st.name for st in STAGE_PLAN if st.rule.veto), stage)
    return next((i for i, g in enumerate(every) if stage in g[2]), len(every) - 1)


def outcome_groups(
    outcomes: Mapping[str, Mapping[str, Any]], names: Mapping[str, str] | None = None
) -> list[OutcomeGroup]:
    """The summary's ``outcomes`` in their groups (empty groups left out). A permanent member's
    veto reads "vetoed by <its name>" (``names``: ISO3 code to name) and is left out when rarer
    than ``VETO_SHOWN``; in each group its leading outcomes come first, then the rest as listed."""
    names = names or {}
    every = groups()
    found = [OutcomeGroup(title) for title, _, _ in every]
    for name, o in outcomes.items():
        label = str(o.get("label", name))
        if name.startswith("veto_"):
            if float(o.get("p") or 0.0) < VETO_SHOWN:
                continue
            label = f"vetoed by {names.get(name[5:], name[5:])}"
        found[_group_of(name, every)].rows.append((name, label, o))
    for group, (_, first, _) in zip(found, every, strict=True):
        rank = {n: i for i, n in enumerate(first)}
        group.rows.sort(key=lambda r: rank.get(r[0], len(rank)))
        if group.title == "The Security Council":  # the vetoes under "referral vetoed"
            group.rows.sort(key=_council_order)
    return [g for g in found if g.rows]


def _council_order(row: tuple[str, str, Mapping[str, Any]]) -> tuple[int, float]:
    """The Council's outcomes in procedural order, the vetoes most frequent first."""
    order = ["sc_agenda_adopted", "referral_tabled", "referral_vetoed", "veto_", "referral_adopted"]
    name = row[0]
    key = "veto_" if name.startswith("veto_") else name
    rank = order.index(key) if key in order else len(order)
    return rank, -float(row[2].get("p", 0.0)) if key == "veto_" else 0.0


@dataclass
class PivotalStage:
    """The states pivotal at one vote, most often first: each (ISO3, name, share of all runs,
    share of the runs in which the vote was held)."""

    stage: str
    label: str
    held: float  #: the share of runs in which the vote was held
    states: list[tuple[str, str, float, float]]


def pivotal_by_stage(
    summary: Mapping[str, Any], trivial: float = TRIVIAL
) -> tuple[list[PivotalStage], list[PivotalStage]]:
    """The votes at which some state is pivotal in at least ``trivial`` of the runs, each with
    those states (most often first), and the votes at which states are pivotal less often than
    that (each with its states, for a line saying so)."""
    runs = int(summary.get("runs", 0)) or 1
    tallies = summary.get("tallies", {}) or {}
    by: dict[str, list[Mapping[str, Any]]] = {}
    for r in summary.get("pivotal", []) or []:
        if float(r.get("p", 0.0)) > 0:
            by.setdefault(str(r["stage"]), []).append(r)
    shown, minor = [], []
    for stage in sorted(by, key=lambda s: STAGES.index(s) if s in STAGES else len(STAGES)):
        rows = sorted(by[stage], key=lambda r: (-float(r["p"]), str(r["iso3"])))
        held = int((tallies.get(stage) or {}).get("held", runs)) or runs
        states = [
            (str(r["iso3"]), str(r["name"]), float(r["p"]), float(r["p"]) * runs / held)
            for r in rows
        ]
        entry = PivotalStage(stage, STAGE_SHORT.get(stage, stage), held / runs, states)
        if states[0][2] >= trivial:
            entry.states = [s for s in states if s[2] >= trivial]
            shown.append(entry)
        else:
            minor.append(entry)
    return shown, minor
