"""A diplomatic round, as an object the model holds (``UNModel.diplomacy``): the target
responds, the sponsors and the allies lobby, the sponsors weigh the ICC language, and every
member state deliberates (``MemberState.deliberate``: it takes the round's pressure and moves
toward its groups' shift).

Pushes (``shift``, the verb of the ``StrategyContext`` interface of ``unsim.strategies``, which
the model offers its strategies) are booked on the ledger of the model's ``Observation``
(``unsim.model.observation``) and applied by the round's deliberation kernel; where the draft
stands (``expected_yes_share``, ``swing``) is observed by the kernels once a round, into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from unsim.model import kernels, observers
from unsim.model.agents import MemberState
from unsim.model.observers import DELIBERATION

if TYPE_CHECKING:
    from unsim.model.model import UNModel

F = NDArray[np.float32]


class DiplomacyRound:
    """The diplomatic rounds of ``model``'s runs (see the module doc)."""

    def __init__(self, model: UNModel) -> None:
        self.model = model
        self.in_round = False  # whether a push reaches the states (in a round's actions)
        self.pull_weights: kernels.Csr | None = None  # the groups' pull by state (``deliberated``)

    def run(self, rounds: int) -> None:
        """``rounds`` rounds in a row."""
        obs = self.model.observation
        for k in range(rounds):
            # each round's deliberation also observes the state it leaves for the next round
            # (one pass less); the last round's is followed by a vote, which reads it afresh
            obs.observe_next = k < rounds - 1
            self.model.step()
        obs.observe_next = False

    def step(self) -> None:
        """One round of diplomacy: the target responds, sponsors and allies lobby, the sponsors
        weigh the ICC language, every state deliberates.

        Everyone acts on where the draft stood at the start of the round (the sponsors' judgement
        included), so the sponsors' choice on the ICC language takes effect from the next round
        whether it is made before the deliberation or after."""
        m = self.model
        m.round += 1
        m.new_view()
        m.observation.new_round()
        for o in m.observers:
            o.on_round(m, m.round, "start")
        self.in_round = True  # the pushes from now on reach the states (observers see them)
        m.target_agent.respond()
        m.sponsor_agent.lobby()
        m.ally_agent.counter_lobby()
        m.sponsor_agent.bargain()
        self.deliberate()
        self.in_round = False
        m.new_view()
        for o in m.observers:
            o.on_round(m, m.round, "end")

    def deliberate(self) -> None:
        """The member states take this round's pressure and move toward their groups' shift
        (``MemberState.deliberate``, every state and replicate at once). The observers see what
        the deliberation does besides the pushes."""
        m = self.model
        m.observation.now()
        if m.observers:  # what the deliberation does, besides the pushes (observers)
            before = m.deviation.copy()
            pressure = m.observation.pressure("support")
        MemberState.deliberate(m.member_states)
        m.forget("icc_aversion", "support")
        if m.observers:
            moved = m.deviation - before
            if pressure is not None:
                moved -= pressure
            for o in m.observers:
                o.on_push(m, DELIBERATION, "support", moved)

    def deliberated(self, deviation: F, pressure: F | None = None) -> F:
        """What a round's deliberation makes of a deviation (states, replicates) under
        ``pressure``: ``keep x (deviation + pressure)`` plus each state's bloc-pull-weighted
        mean of its groups' means of ``deviation`` (``rules.deliberate``, the rule
        ``kernels.deliberate`` applies to ``deviation``), in the same order on every CPU. It is
        linear: an observer may carry each source's share of the deviation by it."""
        m = self.model
        if self.pull_weights is None:
            weights = m.params.groups.weights.astype(np.float32)
            self.pull_weights = kernels.csr(np.float32(m.behaviour.bloc_pull) * weights)
        groups = m.membership.shape[1]
        pulled = kernels.pull(m.compiled.members, self.pull_weights, deviation, groups)
        moved = deviation if pressure is None else deviation + pressure
        moved = moved * m.compiled.keep
        moved += pulled
        return moved  # type: ignore[no-any-return]

    def shift(
        self,
        quantity: str,
        basis: Any,
        coefficient: Any,
        states: Any = None,
        source: str = observers.OTHER,
    ) -> None:
        """Push ``basis * coefficient`` to ``quantity`` for this round (booked on the ledger,
        applied by the round's deliberation); ``source`` names who pushed, for the observers
        (``unsim.model.observers``), who see each push made in a round."""
        m = self.model
        if m.observers and self.in_round:
            values = observers.push_values(m, basis, coefficient, states)
            if values is not None:
                for o in m.observers:
                    o.on_push(m, source, quantity, values)  # type: ignore[arg-type]
        m.observation.book(quantity, basis, coefficient, states)
