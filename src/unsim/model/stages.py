"""The stages of a run, each declared once, as data: its name, the body that votes (``Body``: who
sits in it, its size, how absences count), the rule that decides (``VoteRule``), what is voted
(``Item``), its labels, the replicates it may be held in and the handler that holds it.
``UNModel.simulate`` walks them in order; the scenario's allowed stage names
(``resolution.stages``), the run table's columns, the summary's tallies, the figures and the
explanations are derived from them, and every consumer asks the stage (``stage.body.is_council``,
``stage.rule.veto``, ``stage.on_draft``...) rather than its name. This module reads no scenario
and no model, so that the schema and the model both import it.

A run: the Human Rights Council's vote where the scenario holds it (no rounds before it),
``rounds.third_committee`` diplomatic rounds, the committee session (no-action motion,
amendment, the draft), ``rounds.plenary`` rounds and the plenary vote,
``rounds.security_council`` rounds, the Council's agenda vote and referral draft. A stage the
scenario leaves out is reported as not held (an ``optional`` stage, the Human Rights Council's,
only in the run tables of scenarios that hold it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from unsim.model.procedure import VoteRule


class World(Protocol):
    """What a body reads of a world (``unsim.scenario.world.World``: the declarations sit below
    the scenario's schema, which derives its stage names from them)."""

    @property
    def name(self) -> str:
        """The world's name."""

    @property
    def codes(self) -> list[str]:
        """The ISO3 codes of its states, in the order of the state axis."""

    @property
    def security_council(self) -> Any:
        """Its Security Council: the permanent and elected members."""

    @property
    def memberships(self) -> Any:
        """The members of its other bodies that vote (such as the Human Rights Council), by name."""


#: What every vote reports, per replicate (``<stage>_<name>``; the run table's columns are
#: declared in ``outcomes.run_columns``, the referral's vetoes among them).
VOTE_OUTCOMES = ("held", "yes", "no", "abstain", "absent", "adopted")


class Item(Enum):
    """What a vote is on; it decides each voter's stance (``UNModel.stances``, the kernels'
    tanh form ``kernel_args.argument_form``, a Council member's ``council_stance``)."""

    NO_ACTION = "a motion to take no action on the draft"
    AMENDMENT = "an amendment deleting the ICC paragraphs"
    DRAFT = "the draft resolution"
    AGENDA = "putting the situation on the Council's agenda (procedural)"
    REFERRAL = "a draft referring the situation to the ICC"


@dataclass(frozen=True)
class Body:
    """The body that votes: who sits in it and how they vote."""

    key: str  #: its name in the declarations
    label: str  #: its name in words
    short: str  #: its name in a few words ("not on the Council")
    #: who sits in it: None, every member state of the world; "security_council", the world's
    #: Council of 15 (``World.security_council``); else a membership the world file names
    #: (``World.memberships[<membership>]``)
    membership: str | None
    size: int | None  #: how many members it has (None: every member state)
    #: the Security Council: each member votes by its own stance (``council_stance``), none is
    #: absent, a permanent member's no on a substantive draft is a veto. Otherwise its members
    #: vote with the Assembly's kernels on their Assembly stance.
    is_council: bool = False
    #: members may be absent (counted among the absent; the majority is of present and voting);
    #: the states outside the body are recorded absent and not counted
    absences: bool = True

    @property
    def everyone(self) -> bool:
        """Every member state of the world sits in it (the General Assembly)."""
        return self.membership is None

    def members(self, world: World) -> list[str]:
        """The ISO3 codes of its members in ``world`` (in world order)."""
        if self.membership is None:
            return list(world.codes)
        if self.membership == "security_council":
            sc = world.security_council
            seats = set(sc.permanent + sc.elected)
            return [c for c in world.codes if c in seats]
        listed = world.memberships.get(self.membership)
        if listed is None:
            raise KeyError(f"the world {world.name!r} names no membership {self.membership!r}")
        seats = set(listed.members)
        return [c for c in world.codes if c in seats]

    def mask(self, world: World) -> NDArray[np.bool_] | None:
        """(states,) whether each state of ``world`` sits in it (None: every state)."""
        if self.everyone:
            return None
        return np.isin(np.asarray(world.codes), self.members(world))


ASSEMBLY = Body("assembly", "General Assembly", "Assembly", None, None)
SECURITY_COUNCIL = Body(
    "security_council",
    "Security Council",
    "Council",
    "security_council",
    15,
    is_council=True,
    absences=False,
)
HUMAN_RIGHTS_COUNCIL = Body(
    "human_rights_council",
    "Human Rights Council",
    "Human Rights Council",
    "human_rights_council",
    47,
)

#: The General Assembly's rule (a majority of present and voting), the plenary's (the
#: resolution's majority: two thirds for an important question), the Council's procedural rule
#: (nine of fifteen) and its substantive one (nine, no permanent member voting no).
MORE_YES = VoteRule(assembly=True)
RESOLUTION_MAJORITY = VoteRule(assembly=True, important=True)
COUNCIL_PROCEDURAL = VoteRule(assembly=False, procedural=True)
COUNCIL_SUBSTANTIVE = VoteRule(assembly=False, procedural=False)

#: How a stage is held: ``handler(model, stage, walk)``, on a ``UNModel`` (the methods of its
#: ``procedure``, ``unsim.model.voting.Procedure``).
Handler = Callable[[Any, "Stage", "Walk"], None]


def _always(_: Any) -> bool:
    return True


@dataclass(frozen=True)
class Stage:
    """One vote of a run."""

    name: str  #: the stage's name in scenarios (``resolution.stages``)
    body: Body  #: who votes
    rule: VoteRule  #: how the vote is decided (``vote_rule`` takes the resolution's majority)
    item: Item  #: what is voted
    handler: Handler  #: how a run holds it
    inputs: str  #: the replicates it may be held in, in words
    label: str  #: its name in words, in titles and reports
    short: str  #: its name in a few words, in the command line's tables
    words: str  #: its name inside a sentence ("at the {words} vote")
    #: reported only where a scenario holds it (its columns, its outcome): a stage added after
    #: the run table's columns were fixed, which leaves the other scenarios' tables as they were
    optional: bool = False
    #: the behaviour parameter of a motion's bias (a lever: a scenario may draw it per run)
    bias: str | None = None
    #: on the draft: whether the draft goes on only where this vote adopts it, for a scenario
    binding: Callable[[Any], bool] = _always
    #: its own outcome in the summary (name, label) where it is ``optional``: "<name>_adopted"
    outcome: tuple[str, str] | None = None
    #: its name in a narrow column (a table's header; default ``short``)
    narrow: str = ""

    @property
    def column_name(self) -> str:
        """Its name in a narrow column (``narrow``, else ``short``)."""
        return self.narrow or self.short

    @property
    def on_draft(self) -> bool:
        """A vote on the draft resolution itself (it observes the draft; the habit applies;
        the strategies hear of it)."""
        return self.item is Item.DRAFT

    def vote_rule(self, majority: str = "simple") -> VoteRule:
        """Its rule under the resolution's ``majority`` (the plenary's; the others keep
        theirs)."""
        return self.rule.under(majority)


@dataclass(frozen=True)
class Session:
    """Rounds of diplomacy (``simulation.rounds.<rounds>``; None: none), then the session's
    stages."""

    name: str
    stages: tuple[Stage, ...]
    rounds: str | None
    #: the rounds run even when none of its stages is held
    always: bool = False


@dataclass
class Walk:
    """What passes from stage to stage, per replicate."""

    alive: NDArray[np.bool_]  #: (replicates,) the draft still stands (not killed nor failed)
    on_agenda: NDArray[np.bool_] | None = None  #: (replicates,) the Council may vote on it


# -- the handlers: each calls the model's procedure for its kind of vote (``model.voting``)
def _no_action(model: Any, stage: Stage, walk: Walk) -> None:
    model.procedure.hold_no_action(stage, walk)


def _amendment(model: Any, stage: Stage, walk: Walk) -> None:
    model.procedure.hold_amendment(stage, walk)


def _draft(model: Any, stage: Stage, walk: Walk) -> None:
    model.procedure.hold_draft(stage, walk)


def _agenda(model: Any, stage: Stage, walk: Walk) -> None:
    model.procedure.hold_agenda(stage, walk)


def _referral(model: Any, stage: Stage, walk: Walk) -> None:
    model.procedure.hold_referral(stage, walk)


def _hrc_binding(spec: Any) -> bool:
    return bool(spec.procedure.human_rights_council.required)


HRC = Stage(
    "hrc", HUMAN_RIGHTS_COUNCIL, MORE_YES, Item.DRAFT, _draft,
    "every run (the draft goes on only where it adopts, under "
    "procedure.human_rights_council.required)",
    "Human Rights Council", "Human Rights Council", "Human Rights Council",
    optional=True, binding=_hrc_binding, outcome=("hrc_adopted", "Human Rights Council adopts"),
    narrow="HRC",
)  # fmt: skip
SESSIONS: tuple[Session, ...] = (
    Session("human_rights_council", (HRC,), rounds=None),
    Session(
        "third_committee",
        (
            Stage("no_action_motion", ASSEMBLY, MORE_YES, Item.NO_ACTION, _no_action,
                  "where the allies move it", "No-action motion (Third Committee)",
                  "No-action motion", "no-action motion", bias="behaviour.no_action_bias"),
            Stage("amendment", ASSEMBLY, MORE_YES, Item.AMENDMENT, _amendment,
                  "where the allies move it, draft alive",
                  "Amendment deleting the ICC paragraphs", "Amendment (delete ICC)",
                  "amendment", bias="behaviour.amendment_bias"),
            Stage("third_committee", ASSEMBLY, MORE_YES, Item.DRAFT, _draft,
                  "where the draft is alive", "Third Committee", "Third Committee",
                  "Third Committee", narrow="Committee"),
        ),
        rounds="third_committee",
        always=True,
    ),
    Session(
        "plenary",
        (Stage("plenary", ASSEMBLY, RESOLUTION_MAJORITY, Item.DRAFT, _draft,
               "adopted in committee", "General Assembly plenary", "Plenary", "plenary"),),
        rounds="plenary",
    ),
    Session(
        "security_council",
        (
            Stage("sc_agenda", SECURITY_COUNCIL, COUNCIL_PROCEDURAL, Item.AGENDA, _agenda,
                  "adopted in plenary (or always)", "Security Council: agenda (procedural)",
                  "Council agenda", "Security Council's agenda"),
            Stage("sc_referral", SECURITY_COUNCIL, COUNCIL_SUBSTANTIVE, Item.REFERRAL,
                  _referral, "on the agenda, where the sponsors table it",
                  "Security Council: ICC referral", "Council referral",
                  "Security Council's referral"),
        ),
        rounds="security_council",
    ),
)  # fmt: skip
STAGE_PLAN: tuple[Stage, ...] = tuple(st for session in SESSIONS for st in session.stages)
#: Every stage by its name.
BY_NAME: dict[str, Stage] = {st.name: st for st in STAGE_PLAN}
#: The stage names, in the order procedure takes them (``resolution.stages`` allows these).
STAGE_NAMES: tuple[str, ...] = tuple(BY_NAME)
STAGES = STAGE_NAMES
#: The stages a scenario goes through when it names none: every stage that is not optional.
DEFAULT_STAGES: tuple[str, ...] = tuple(st.name for st in STAGE_PLAN if not st.optional)
#: Each stage's name in words (``Stage.label``) and in a few words (``Stage.short``).
STAGE_LABELS: dict[str, str] = {st.name: st.label for st in STAGE_PLAN}
STAGE_SHORT: dict[str, str] = {st.name: st.short for st in STAGE_PLAN}


def stage_named(name: str) -> Stage:
    """The stage declared as ``name`` (``KeyError`` naming the stages otherwise)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no stage {name!r}; stages: {', '.join(STAGE_NAMES)}") from None


def reported(held: Iterable[str]) -> tuple[Stage, ...]:
    """The stages a run table reports for a scenario holding the stages named ``held``: every
    stage that is not optional, and the optional ones held, in procedural order."""
    names = set(held)
    return tuple(st for st in STAGE_PLAN if not st.optional or st.name in names)


def stages_where(test: Callable[[Stage], bool], among: Iterable[str] = STAGE_NAMES) -> list[str]:
    """The names of the stages ``among`` (names, any order) that pass ``test``, in procedural
    order."""
    names = set(among)
    return [st.name for st in STAGE_PLAN if st.name in names and test(st)]


def the_stage(test: Callable[[Stage], bool]) -> str:
    """The name of the one stage that passes ``test`` (``LookupError`` if none or several)."""
    found = stages_where(test)
    if len(found) != 1:
        raise LookupError(f"{len(found)} stages pass the test, not one: {found}")
    return found[0]


def main_stage(present: Iterable[str]) -> str | None:
    """The stage a per-state view shows among the stages ``present``: the General Assembly's
    last vote on the draft (the plenary), else its last vote, else the first stage."""
    assembly = stages_where(lambda st: st.body.everyone, present)
    on_draft = stages_where(lambda st: st.on_draft, assembly)
    if on_draft or assembly:
        return (on_draft or assembly)[-1]
    names = stages_where(lambda st: True, present)
    return names[0] if names else None


def vote_rule(stage: str, majority: str = "simple") -> VoteRule:
    """The rule of the vote at ``stage``; ``majority`` is the resolution's, which applies to
    the plenary (the other votes keep their own)."""
    if majority not in ("simple", "two_thirds"):
        raise ValueError(f"majority must be 'simple' or 'two_thirds', not {majority!r}")
    return stage_named(stage).vote_rule(majority)
