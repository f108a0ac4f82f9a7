"""What a run reports, declared once: the run table's columns (:func:`run_columns`: one value
per run, with its type and how runs are aggregated) and the outcomes (the share of runs where
something happened, read from one column: the model's ``OUTCOMES``, then those the registered
strategies declare, ``Strategy.outcomes``, then the vetoes). The model fills the columns in
this order, the run table takes their names, types and categories from here, the blocks of runs
aggregate them as declared, and the summary, the command line, the comparisons and the plots'
labels are derived from the outcomes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.model.stages import STAGE_PLAN, VOTE_OUTCOMES, Stage, reported
from unsim.scenario.schema import Scenario
from unsim.strategies.builtin import EVENTS
from unsim.strategies.outcomes import CATEGORIES, ICC_REASON, ICC_STATUS, Outcome
from unsim.strategies.registry import registered

__all__ = [
    "CATEGORIES",
    "EVENTS",
    "ICC_REASON",
    "ICC_STATUS",
    "OUTCOMES",
    "Column",
    "Outcome",
    "count_runs",
    "known_outcomes",
    "outcomes_for",
    "run_columns",
    "strategy_outcomes",
    "vetoes",
]


@dataclass(frozen=True)
class Column:
    """One column of the run table: a value per run."""

    name: str
    label: str  #: what it holds, in words
    #: "bool", "int16" (a number of votes), "category" (int8 codes of ``CATEGORIES[name]``) or
    #: "float32" (a lever's draw)
    dtype: str
    #: how blocks of runs aggregate it: "share" (the runs where it is true), "tally" (a histogram
    #: of the counts, per stage), "categories" (the runs in each category) or "value" (not
    #: aggregated: a value per run, kept in the run table)
    aggregate: str

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        """The numpy dtype of its column (a category is stored as int8)."""
        return np.dtype("int8" if self.dtype == "category" else self.dtype)

    def empty(self, runs: int) -> NDArray[Any]:
        """Its value in runs where nothing set it: false, no votes, the first category."""
        return np.zeros(runs, dtype=self.numpy_dtype)


def run_columns(
    permanent: Iterable[str],
    events: Iterable[str] = EVENTS,
    levers: Iterable[tuple[str, str]] = (),
    stages: Iterable[Stage] | None = None,
) -> tuple[Column, ...]:
    """The run table's columns, in order: each stage's vote (``stages.VOTE_OUTCOMES``; of the
    ``stages`` reported, by default those every scenario reports, ``stages.reported``), the
    vetoes of the ``permanent`` members and whether a vote with a veto was vetoed, the ICC
    language's fate, the ``events`` (``EVENTS`` and those the scenario's strategies declare)
    and the draws of the scenario's distributions (``levers``: (column, what it is), the column
    ``lever:<path>``, see ``model.levers``)."""
    cols: list[Column] = []
    stages = reported(()) if stages is None else tuple(stages)
    for st in stages:
        for what in VOTE_OUTCOMES:
            if what in ("held", "adopted"):
                cols.append(Column(f"{st.name}_{what}", f"{st.label}: {what}", "bool", "share"))
            else:
                cols.append(
                    Column(f"{st.name}_{what}", f"{st.label}: {what} votes", "int16", "tally")
                )
    for st in stages:
        if st.rule.veto:
            cols += [
                Column(f"veto_{c}", f"{c} votes no on {st.item.value}", "bool", "share")
                for c in permanent
            ]
            cols.append(Column(f"{st.name}_vetoed", f"{st.label}: vetoed", "bool", "share"))
    cols += [
        Column("icc_status", "the ICC language at the end", "category", "categories"),
        Column("icc_reason", "why the ICC language was given up", "category", "categories"),
        Column("icc_retained", "ICC language retained", "bool", "share"),
    ]
    cols += [Column(f"event_{e}", f"event: {e.replace('_', ' ')}", "bool", "share") for e in events]
    cols += [Column(name, f"drawn: {label}", "float32", "value") for name, label in levers]
    return tuple(cols)


def count_runs(
    out: Mapping[str, NDArray[Any]], columns: Iterable[Column], counts: dict[str, int]
) -> None:
    """Add to ``counts`` a block's runs where each "share" column is true (``counts[name]``)
    and those in each category of a "categories" column (``counts["name=category"]``): what
    the outcomes' shares are computed from (``Outcome.count_key``)."""
    for c in columns:
        v = out[c.name]
        if c.aggregate == "share":
            counts[c.name] = counts.get(c.name, 0) + int(np.count_nonzero(v))
        elif c.aggregate == "categories":
            per = np.bincount(v.astype(np.intp), minlength=len(CATEGORIES[c.name]))
            for cat, k in zip(CATEGORIES[c.name], per, strict=True):
                key = f"{c.name}={cat}"
                counts[key] = counts.get(key, 0) + int(k)


def _stage(name: str) -> Callable[[Scenario], bool]:
    def held(s: Scenario) -> bool:
        """Whether the scenario's draft goes through this stage."""
        return name in s.resolution.stages

    return held


def _icc_stage(name: str) -> Callable[[Scenario], bool]:
    def held(s: Scenario) -> bool:
        """Whether the scenario's draft goes through this stage and carries ICC language."""
        return name in s.resolution.stages and bool(s.resolution.clauses.icc_referral)

    return held


def _icc(s: Scenario) -> bool:
    return bool(s.resolution.clauses.icc_referral)


def _strategy(kind: str) -> Callable[[Scenario], bool]:
    def present(s: Scenario) -> bool:
        """Whether the target uses a strategy of this kind."""
        return any(getattr(st, "type", None) == kind for st in s.actors.target.strategies)

    return present


#: The model's own outcomes, in the order the summary, the command line and the comparisons show
#: them: an optional stage's own first (``Stage.outcome``: that it adopts); the strategies' follow
#: (``strategy_outcomes``), then the Council's vetoes, one per permanent member (``vetoes``).
OUTCOMES: tuple[Outcome, ...] = (
    *(
        Outcome(st.outcome[0], st.outcome[1], f"{st.name}_adopted", st.name, _stage(st.name))
        for st in STAGE_PLAN
        if st.outcome is not None
    ),
    Outcome("no_action_moved", "no-action motion moved", "no_action_motion_held",
            "no_action_motion", _stage("no_action_motion")),
    Outcome("no_action_adopted", "no-action motion adopted", "no_action_motion_adopted",
            "no_action_motion", _stage("no_action_motion")),
    Outcome("amendment_moved", "amendment deleting the ICC paragraphs moved", "amendment_held",
            "amendment", _icc_stage("amendment")),
    Outcome("amendment_adopted", "amendment adopted", "amendment_adopted", "amendment",
            _icc_stage("amendment")),
    Outcome("icc_retained", "ICC language retained", "icc_retained", "rounds", _icc),
    Outcome("icc_dropped_bargain", "ICC language dropped in a bargain", "icc_reason",
            "rounds", _icc, "bargain"),
    Outcome("icc_dropped_support_short", "ICC language dropped, support short", "icc_reason",
            "rounds", _icc, "support_short"),
    Outcome("committee_adopted", "Third Committee adopts", "third_committee_adopted",
            "third_committee", _stage("third_committee")),
    Outcome("plenary_adopted", "plenary adopts", "plenary_adopted", "plenary",
            _stage("plenary")),
    Outcome("sc_agenda_adopted", "Council puts it on its agenda", "sc_agenda_adopted",
            "sc_agenda", _stage("sc_agenda")),
    Outcome("referral_tabled", "referral draft tabled", "sc_referral_held", "sc_referral",
            _stage("sc_referral")),
    Outcome("referral_vetoed", "referral vetoed", "sc_referral_vetoed", "sc_referral",
            _stage("sc_referral")),
    Outcome("referral_adopted", "Council refers to the ICC", "sc_referral_adopted",
            "sc_referral", _stage("sc_referral")),
)  # fmt: skip


def vetoes(permanent: Iterable[str]) -> tuple[Outcome, ...]:
    """One outcome per permanent member of the Council: it vetoed the draft of the stage with a
    veto (the referral draft)."""
    return tuple(
        Outcome(f"veto_{c}", f"{c} vetoes", f"veto_{c}", st.name, _stage(st.name))
        for st in STAGE_PLAN
        if st.rule.veto
        for c in permanent
    )


def strategy_outcomes() -> tuple[Outcome, ...]:
    """The outcomes the registered strategies declare (``Strategy.outcomes``), in the order
    they were registered, each reported where its strategy is in the scenario."""
    out: list[Outcome] = []
    own = {o.name for o in OUTCOMES}
    for kind, cls in registered().items():
        for o in cls.declared_outcomes():
            if o.name in own:
                raise ValueError(
                    f"{cls.__module__}.{cls.__qualname__}: outcome {o.name!r} is one of the "
                    "model's; give it another name"
                )
            out.append(o if o.applies is not None else replace(o, applies=_strategy(kind)))
    return tuple(out)


def known_outcomes() -> tuple[Outcome, ...]:
    """Every outcome a summary may hold but the vetoes: the model's, then the strategies'."""
    return OUTCOMES + strategy_outcomes()


def outcomes_for(scenario: Scenario, permanent: Iterable[str]) -> tuple[Outcome, ...]:
    """The outcomes that can happen in ``scenario`` (the others are left out of its summary):
    the model's, the strategies', then the vetoes of the ``permanent`` members."""
    every = known_outcomes() + vetoes(permanent)
    return tuple(o for o in every if o.applies is not None and o.applies(scenario))
