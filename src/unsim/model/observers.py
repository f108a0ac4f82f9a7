"""Watching a run: the model's event hooks, in the spirit of Mesa's DataCollector and Starsim's
analyzers.

An :class:`Observer` is handed to the model (``UNModel(..., observers=[obs])`` or
``model.subscribe(obs)``) and the model calls its methods as the run unfolds:

* ``on_round(model, round, phase)``: at the ``"start"`` of each diplomatic round (nothing
  pushed yet) and at its ``"end"`` (the states have deliberated);
* ``on_push(model, source, quantity, values)``: every push that reaches the states in a round,
  as the (states, replicates) change it makes to ``quantity`` (``"support"`` or
  ``"icc_aversion"``) before the deliberation: a strategy's (``source`` is
  ``"strategy:<its key>"``), the sponsors' lobbying (:data:`LOBBYING`), the allies'
  (:data:`COUNTER_LOBBYING`), any other ``UNModel.shift`` (:data:`OTHER`); and, once a round,
  what the deliberation itself does to support (:data:`DELIBERATION`: the pull toward the
  states' groups, less the share of their own deviation and pressure it replaces). A round's
  pushes to support add up to the change of ``model.deviation``; its pushes to the ICC
  aversion to the change of ``model.icc_aversion``;
* ``on_vote(model, stage, stances, votes)``: at each vote (held or not, the state as the vote
  saw it), with every state's stance (states, replicates) (``UNModel.stances``; in the
  Security Council each member's ``council_stance``, the other rows zero) and the votes
  (``rules.Vote`` codes, where held);
* ``on_run_end(model)``: when the run's outcomes are reported (``model.outcomes``).

Every method is a no-op here: an observer overrides those it needs. An observer reads the model
and never changes it; the arrays it is handed are not the model's (it may keep them; the
observers of one model share them). Without observers the model runs no extra step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from unsim.model import kernels

if TYPE_CHECKING:
    from unsim.model.model import UNModel

F = NDArray[np.float32]

#: The sources of the pushes the model makes itself (a strategy's is ``"strategy:<key>"``).
LOBBYING = "lobbying"
COUNTER_LOBBYING = "counter_lobbying"
DELIBERATION = "deliberation"
OTHER = "other"
#: The phases of a round ``on_round`` is called at.
PHASES = ("start", "end")


class Observer:
    """Watches a run of :class:`~unsim.model.UNModel` (see the module doc); every method a
    no-op."""

    def on_round(self, model: UNModel, round: int, phase: str) -> None:
        """A diplomatic round's ``"start"`` or ``"end"`` (``round`` counts from 1)."""

    def on_push(self, model: UNModel, source: str, quantity: str, values: F) -> None:
        """``source`` pushed ``quantity`` by ``values`` (states, replicates) this round."""

    def on_vote(self, model: UNModel, stage: str, stances: F, votes: NDArray[np.int8]) -> None:
        """The vote at ``stage``: every state's stance and vote (states, replicates)."""

    def on_run_end(self, model: UNModel) -> None:
        """The run is over: ``model.outcomes`` holds its columns."""


def push_values(model: Any, basis: Any, coefficient: Any, states: Any = None) -> F | None:
    """(states, replicates) what a push of ``basis * coefficient`` (``UNModel.shift``) adds to
    its quantity, as the round's deliberation takes it: a named basis (``kernels.BASES``, the
    first ``kernels.SWUNG`` weighted by the round's swing) weighted by ``states``, or an array
    over states (and replicates). None for a basis the model does not know (it raises when the
    round is deliberated)."""
    coef = np.asarray(coefficient, dtype=np.float32)
    if isinstance(basis, str):
        if basis not in kernels.BASES:
            return None
        k = kernels.BASES.index(basis)
        column = model.compiled.bases[:, k]
        if states is not None:
            weights = np.broadcast_to(np.asarray(states, dtype=np.float32), column.shape)
            column = column * weights
        values = column[:, None] * coef
        if k < kernels.SWUNG:
            values = values * model.swing()
    else:
        array = np.asarray(basis, dtype=np.float32)
        values = (array[:, None] if array.ndim == 1 else array) * coef
    shape = (model.n_states, model.n_replicates)
    return np.array(np.broadcast_to(values, shape), dtype=np.float32)
