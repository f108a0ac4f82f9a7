"""What a strategy sees and changes in a round (the ``StrategyContext`` interface of
``unsim.strategies``), and where the draft stands: the model's diplomacy, as a mixin of
``UNModel``.

Pushes (``shift``) are booked on the ledger of the model's ``Observation``
(``unsim.model.observation``) and applied by the round's deliberation kernel; where the draft
stands (``expected_yes_share``, ``swing``) is observed by the kernels once a round, into it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.model import observers, rules
from unsim.model.kernel_args import Compiled
from unsim.model.levers import BlockLevers
from unsim.model.observation import ICC_FACTORS, Observation
from unsim.model.params import Behaviour, state_mask
from unsim.scenario.schema import World
from unsim.streams import Streams

F = NDArray[np.float32]
B = NDArray[np.bool_]


class Diplomacy:
    """The ``StrategyContext`` interface over the model's arrays (see ``UNModel``)."""

    world: World
    behaviour: Behaviour
    compiled: Compiled
    streams: Streams
    round: int
    n_states: int
    n_replicates: int
    icc_status: NDArray[np.int8]
    deviation: F
    draft_base: F
    baseline: F
    receptiveness_not_allied: F
    lobbied_receptiveness: F
    events: dict[str, B]
    observation: Observation
    _cache: dict[str, Any]
    _memory: dict[str, F]
    levers: BlockLevers | None
    _observers: list[observers.Observer]
    _in_round: bool

    def lever(self, path: str, point: Any) -> Any:
        """The scenario's value at ``path`` in each run of this block: its draws when it is a
        distribution (an array over runs, ``unsim.model.levers``), else ``point`` (the value as
        given)."""
        return point if self.levers is None else self.levers.value(path, point)

    @property
    def icc_aversion(self) -> F:
        """(states, replicates) what the ICC language costs each state: its ICC aversion (as
        stated and pushed since) less its own clause deviation, the whole of its clause term,
        as its vote on the amendment deleting the language sees it (computed once per round
        from ``draft_base`` and shared; the draft carries ``clause_pass_through`` of it)."""
        icc = self._cache.get("icc_aversion")
        if icc is None:
            b = self.behaviour
            icc = self._cache["icc_aversion"] = rules.icc_from_draft_base(
                self.baseline, self.draft_base, b.abstention_band, b.vote_noise
            )
        return icc  # type: ignore[no-any-return]

    @property
    def support(self) -> F:
        """(states, replicates) each state's support for the draft: baseline plus deviation
        (computed once per round and shared, so an agent's row is a view of it)."""
        support = self._cache.get("support")
        if support is None:
            support = self._cache["support"] = self.baseline + self.deviation
        return support  # type: ignore[no-any-return]

    @property
    def icc_retained(self) -> B:
        return self.icc_status == 0  # type: ignore[no-any-return]

    def icc_factor(self) -> F:
        return ICC_FACTORS[self.icc_status]  # type: ignore[no-any-return]

    def swing(self) -> F:
        """(states, replicates) this round's swing (overwritten by the next round's)."""
        return self.observation.swing()

    def undecided(self) -> F:
        if "undecided" not in self._cache:
            self._cache["undecided"] = self.swing() * self.receptiveness_not_allied
        return self._cache["undecided"]  # type: ignore[no-any-return]

    def lobbied(self) -> F:
        """(states, replicates) lobbying weight: swing x receptiveness of states in neither camp."""
        if "lobbied" not in self._cache:
            self._cache["lobbied"] = self.swing() * self.lobbied_receptiveness
        return self._cache["lobbied"]  # type: ignore[no-any-return]

    def lobby_share(self, budget: float) -> F:
        """Per-replicate coefficient that spreads ``budget`` over the ``lobbied`` weights: pushed on
        the ``"lobbied"`` basis it gives ``rules.allocate(budget, lobbied())`` (the total weight
        comes from ``observe``; the weights are never materialised)."""
        return self.observation.lobby_share(budget)

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
        if self._observers and self._in_round:
            values = observers.push_values(self, basis, coefficient, states)
            if values is not None:
                for o in self._observers:
                    o.on_push(self, source, quantity, values)  # type: ignore[arg-type]
        self.observation.book(quantity, basis, coefficient, states)

    def pressure(self, quantity: str) -> F | None:
        """Everything pushed to ``quantity`` this round, as one (states, replicates) array."""
        return self.observation.pressure(quantity)

    def expected_yes_share(self) -> F:
        return self.observation.expected_yes_share()

    def state_mask(self, refs: list[str]) -> B:
        return state_mask(self.world, refs)

    def draw(self, stream: str, per_round: bool = True) -> F:
        return self.streams.uniform(
            f"strategy:{stream}", self.n_replicates, self.round if per_round else None
        )

    def event(self, name: str, mask: B) -> None:
        cur = self.events.get(name)
        self.events[name] = mask.copy() if cur is None else (cur | mask)

    def has_event(self, name: str) -> B:
        ev = self.events.get(name)
        return np.zeros(self.n_replicates, dtype=bool) if ev is None else ev

    def memory(self, key: str, initial: float = 0.0) -> F:
        if key not in self._memory:
            self._memory[key] = np.full(self.n_replicates, initial, dtype=np.float32)
        return self._memory[key]

