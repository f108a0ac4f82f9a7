"""The UN's voting rules, one ``VoteRule`` per kind of vote: whether a tally adopts, how many yes
votes it needs, which votes were pivotal, and how the rule reads in a table.

The General Assembly decides by a majority of members present and voting (simple, or two thirds
for important questions; Charter art. 18); the Security Council by nine affirmative votes, on a
substantive matter with no negative vote of a permanent member (art. 27). The plain functions of
``unsim.model.rules`` state the same rules; the model, the engine's aggregation and the summary
all ask the stage's ``VoteRule`` (``Stage.rule``, declared in ``unsim.model.stages``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.model import rules
from unsim.model.rules import NO, YES

B = NDArray[np.bool_]
Ints = NDArray[np.integer[Any]]

#: Affirmative votes the Security Council needs (Charter art. 27).
COUNCIL_YES = 9


@dataclass(frozen=True)
class VoteRule:
    """How one vote is decided. ``assembly``: by a majority of the members present and voting,
    as the General Assembly decides (``majority`` "simple" or "two_thirds"; the Human Rights
    Council's simple majority too); otherwise a Security Council vote, ``procedural`` or not
    (substantive: a permanent member's no is a veto). ``important``: the majority is the
    resolution's (``under``; the plenary's, two thirds for an important question)."""

    assembly: bool
    majority: str = "simple"
    procedural: bool = True
    important: bool = False

    @property
    def veto(self) -> bool:
        """A permanent member's negative vote blocks the draft (a substantive Council vote)."""
        return not self.assembly and not self.procedural

    def under(self, majority: str) -> VoteRule:
        """The rule where the resolution asks ``majority`` ("simple" or "two_thirds"): an
        ``important`` rule takes it, the others keep their own."""
        if not self.important or majority == self.majority:
            return self
        return replace(self, majority=majority)

    @property
    def label(self) -> str:
        """The rule in words, as the summary's tallies show it."""
        if not self.assembly:
            return "9 of 15" if self.procedural else "9 of 15, no permanent no"
        if self.majority == "two_thirds":
            return "2/3 of present and voting"
        return "more yes than no"

    def adopted(self, yes: Ints, no: Ints, permanent_no: Ints | None = None) -> B:
        """(replicates,) whether each tally adopts (``permanent_no``: the permanent members'
        negative votes, for a substantive Council vote)."""
        if self.assembly:
            return rules.majority_adopted(yes, no, self.majority)
        if not self.procedural and permanent_no is None:
            raise ValueError("a substantive Council vote needs the permanent members' no votes")
        return rules.council_adopted(yes, permanent_no, self.procedural)  # type: ignore[arg-type]

    def needed_yes(self, yes: float, no: float) -> int:
        """Yes votes needed to adopt when ``yes + no`` members are present and voting (may be a
        mean over runs)."""
        return self.needed_for(yes + no)

    def needed_for(self, present_and_voting: float) -> int:
        """Yes votes needed to adopt with ``present_and_voting`` members present and voting."""
        if not self.assembly:
            return COUNCIL_YES
        if self.majority == "two_thirds":
            return max(math.ceil(2 * present_and_voting / 3), 1)  # and at least one yes
        return math.floor(present_and_voting / 2) + 1

    def needed_each(self, yes: Ints, no: Ints) -> Ints:
        """(runs,) the yes votes each run needed, from its own present and voting."""
        voting = np.asarray(yes) + np.asarray(no)
        if not self.assembly:
            return np.full_like(voting, COUNCIL_YES)
        if self.majority == "two_thirds":
            return np.maximum(-((-2 * voting) // 3), 1)  # type: ignore[no-any-return]
        return voting // 2 + 1  # type: ignore[no-any-return]

    def swings(
        self, adopted: B, yes: Ints, no: Ints, permanent_no: Ints | None = None
    ) -> tuple[B, B, B]:
        """(replicates,) where one vote switched flips the result: one yes to no; one of the
        others to yes (a no in the Assembly; any member not voting yes in a procedural Council
        vote); a permanent member's lone no to yes (a substantive Council vote)."""
        none = np.zeros(adopted.shape, dtype=bool)
        if self.assembly and self.majority == "two_thirds":
            yes_flips = adopted & (3 * (yes - 1) < 2 * (yes + no))
            return yes_flips, ~adopted & (3 * (yes + 1) >= 2 * (yes + no)), none
        if self.assembly:
            return adopted & (yes - no <= 2), ~adopted & (yes - no >= -1), none
        ninth = adopted & (yes == COUNCIL_YES)
        if self.procedural:
            return ninth, ~adopted & (yes == COUNCIL_YES - 1), none
        assert permanent_no is not None
        return ninth, none, (yes >= COUNCIL_YES) & (permanent_no == 1)

    def pivotal(self, votes: NDArray[np.int8], flips: tuple[B, B, B], permanent: B) -> B:
        """(states, replicates) whether each state's vote was pivotal, from ``swings``
        (``flips``) of the same replicates and the (states,) permanent members."""
        yes_flips, other_flips, veto_flips = flips
        others = (votes == NO) if self.assembly else (votes != YES)
        out = ((votes == YES) & yes_flips) | (others & other_flips)
        if veto_flips.any():
            out |= (votes == NO) & permanent[:, None] & veto_flips
        return out  # type: ignore[no-any-return]

