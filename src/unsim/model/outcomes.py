"""What a run reports: the ICC language's fate, the events of the target's strategies, and the
registry of outcomes the run table, the summary and the command line are derived from."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from unsim.scenario.schema import Scenario

ICC_STATUS = ("retained", "softened", "dropped")
ICC_REASON = ("none", "bargain", "support_short", "amendment")
#: Events every run reports (strategies may add their own).
EVENTS = (
    "charm_offensive",
    "invitation_offered",
    "invitation_accepted",
    "invitation_withdrawn",
    "visit_held",
    "threats_made",
    "cooperation_halted",
    "deception_exposed",
    "inducements",
)


def _stage(name: str) -> Callable[[Scenario], bool]:
    def held(s: Scenario) -> bool:
        return name in s.resolution.stages

    return held


def _icc_stage(name: str) -> Callable[[Scenario], bool]:
    def held(s: Scenario) -> bool:
        return name in s.resolution.stages and bool(s.resolution.clauses.icc_referral)

    return held


def _icc(s: Scenario) -> bool:
    return bool(s.resolution.clauses.icc_referral)


def _strategy(kind: str) -> Callable[[Scenario], bool]:
    def present(s: Scenario) -> bool:
        return any(getattr(st, "type", None) == kind for st in s.actors.target.strategies)

    return present


@dataclass(frozen=True)
class Outcome:
    """One outcome of a run, reported as the share of runs where it happened (with its
    interval). It unpacks as ``(name, label, key)``."""

    name: str  #: its name in the summary and the command line
    label: str  #: what it means, in words
    key: str  #: its column of the run table (one value per run)
    stage: str  #: what produces it: a stage of ``stages.SESSIONS``, "rounds" or "strategies"
    applies: Callable[[Scenario], bool]  #: whether it can happen in a scenario
    dtype: str = "bool"  #: the run table column's type
    aggregate: str = "share"  #: how runs are aggregated: the share of runs where it is true

    def __iter__(self) -> Iterator[str]:
        return iter((self.name, self.label, self.key))


#: The registry: every outcome the summary, the command line and the comparisons report, in
#: the order they show them (the Council's vetoes follow, one per permanent member: ``vetoes``).
OUTCOMES: tuple[Outcome, ...] = (
    Outcome("no_action_moved", "no-action motion moved", "no_action_motion_held",
            "no_action_motion", _stage("no_action_motion")),
    Outcome("no_action_adopted", "no-action motion adopted", "no_action_motion_adopted",
            "no_action_motion", _stage("no_action_motion")),
    Outcome("amendment_moved", "amendment deleting the ICC paragraphs moved", "amendment_held",
            "amendment", _icc_stage("amendment")),
    Outcome("amendment_adopted", "amendment adopted", "amendment_adopted", "amendment",
            _icc_stage("amendment")),
    Outcome("icc_retained", "ICC language retained", "icc_retained", "rounds", _icc),
    Outcome("icc_dropped_bargain", "ICC language dropped in a bargain", "icc_dropped_bargain",
            "rounds", _icc),
    Outcome("icc_dropped_support_short", "ICC language dropped, support short",
            "icc_dropped_support_short", "rounds", _icc),
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
    Outcome("invitation_offered", "invitation offered", "event_invitation_offered",
            "strategies", _strategy("invitation")),
    Outcome("invitation_accepted", "invitation accepted (ICC dropped for it)",
            "event_invitation_accepted", "strategies", _strategy("invitation")),
    Outcome("invitation_withdrawn", "invitation withdrawn", "event_invitation_withdrawn",
            "strategies", _strategy("invitation")),
    Outcome("visit_held", "visit held", "event_visit_held", "strategies",
            _strategy("invitation")),
    Outcome("cooperation_halted", "cooperation halted", "event_cooperation_halted",
            "strategies", _strategy("threats")),
    Outcome("deception_exposed", "deception exposed", "event_deception_exposed", "strategies",
            _strategy("deception")),
)  # fmt: skip


def vetoes(permanent: Iterable[str]) -> tuple[Outcome, ...]:
    """One outcome per permanent member of the Council: it vetoed the referral draft."""
    return tuple(
        Outcome(f"veto_{c}", f"{c} vetoes", f"veto_{c}", "sc_referral", _stage("sc_referral"))
        for c in permanent
    )


def outcomes_for(scenario: Scenario, permanent: Iterable[str]) -> tuple[Outcome, ...]:
    """The outcomes that can happen in ``scenario`` (the others are left out of its summary):
    the registry's, then the vetoes of the ``permanent`` members."""
    every = OUTCOMES + vetoes(permanent)
    return tuple(o for o in every if o.applies(scenario))
