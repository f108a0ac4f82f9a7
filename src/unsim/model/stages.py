"""The stages of a run, declared as data: which body votes, by which rule, after which rounds of
diplomacy, on which replicates, and what each reports. ``UNModel.simulate`` walks them in order.

A run: ``rounds.third_committee`` diplomatic rounds, the committee session (no-action motion,
amendment, the draft), ``rounds.plenary`` rounds and the plenary vote, ``rounds.security_council``
rounds, the Council's agenda vote and referral draft. A stage the scenario leaves out is reported
as not held.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from unsim.model.procedure import VoteRule, vote_rule

#: What every vote reports, per replicate (``<stage>_<name>``; the run table's columns are
#: declared in ``outcomes.run_columns``, the referral's vetoes among them).
VOTE_OUTCOMES = ("held", "yes", "no", "abstain", "absent", "adopted")


@dataclass(frozen=True)
class Stage:
    """One vote of a run."""

    name: str  #: the stage's name in scenarios (``resolution.stages``)
    body: str  #: "assembly" or "council"
    #: the ``UNModel`` method that holds it (``unsim.model.voting``; takes and updates the ``Walk``)
    method: str
    inputs: str  #: the replicates it may be held in, in words
    label: str  #: its name in words, in titles and reports
    short: str  #: its name in a few words, in the command line's tables

    def rule(self, majority: str) -> VoteRule:
        """Its voting rule under the resolution's ``majority``."""
        return vote_rule(self.name, majority)


@dataclass(frozen=True)
class Session:
    """Rounds of diplomacy (``simulation.rounds.<name>``), then the session's stages."""

    name: str
    stages: tuple[Stage, ...]
    #: the rounds run even when none of its stages is held
    always: bool = False


@dataclass
class Walk:
    """What passes from stage to stage, per replicate."""

    alive: NDArray[np.bool_]  #: (replicates,) the draft still stands (not killed nor failed)
    on_agenda: NDArray[np.bool_] | None = None  #: (replicates,) the Council may vote on it


SESSIONS: tuple[Session, ...] = (
    Session(
        "third_committee",
        (
            Stage("no_action_motion", "assembly", "_no_action_motion", "where the allies move it",
                  "No-action motion (Third Committee)", "No-action motion"),
            Stage("amendment", "assembly", "_amendment", "where the allies move it, draft alive",
                  "Amendment deleting the ICC paragraphs", "Amendment (delete ICC)"),
            Stage("third_committee", "assembly", "_committee", "where the draft is alive",
                  "Third Committee", "Third Committee"),
        ),
        always=True,
    ),
    Session(
        "plenary",
        (Stage("plenary", "assembly", "_plenary", "adopted in committee",
               "General Assembly plenary", "Plenary"),),
    ),
    Session(
        "security_council",
        (
            Stage("sc_agenda", "council", "_sc_agenda", "adopted in plenary (or always)",
                  "Security Council: agenda (procedural)", "Council agenda"),
            Stage("sc_referral", "council", "_sc_referral",
                  "on the agenda, where the sponsors table it",
                  "Security Council: ICC referral", "Council referral"),
        ),
    ),
)  # fmt: skip
STAGE_PLAN: tuple[Stage, ...] = tuple(st for session in SESSIONS for st in session.stages)
#: Each stage's name in words (``Stage.label``) and in a few words (``Stage.short``).
STAGE_LABELS: dict[str, str] = {st.name: st.label for st in STAGE_PLAN}
STAGE_SHORT: dict[str, str] = {st.name: st.short for st in STAGE_PLAN}
