"""Where the draft stands as the states see it in a round, and the round's pushes: one object
the model holds (``UNModel.observation``).

The compiled kernels observe the draft (``kernels.observe``, and ``kernels.deliberate`` or a vote
on the draft in passing) into the working arrays kept here: the sums of the expected tallies and
of the lobbying weights, each state's swing, each group's mean deviation. From them come the
expected yes share (``expected_yes_share``) and the total lobbying weight (``lobby_share``), once
a round. The round's pushes (``UNModel.shift``) are booked on the ledger kept here, and handed
to the deliberation kernel as ``kernels.Pushes`` (``pushes``) or formed as one array for the
observers (``pressure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from unsim.model import kernels
from unsim.model.outcomes import ICC_STATUS
from unsim.model.rules import ICC_FACTOR

if TYPE_CHECKING:
    from unsim.model.model import UNModel

F = NDArray[np.float32]

ICC_FACTORS = np.asarray([ICC_FACTOR[s] for s in ICC_STATUS], dtype=np.float32)


class Observation:
    """The observation of the draft and the ledger of a round's pushes, over ``model``'s
    arrays (states, replicates)."""

    def __init__(self, model: UNModel) -> None:
        self.model = model

    def allocate(self, n_states: int, n_groups: int, n_replicates: int) -> None:
        """Working arrays for a block: ``kernels.start`` observes into them next."""
        n, r = n_states, n_replicates
        self.swing_now = np.empty((n, r), dtype=np.float32)
        self.group_means = np.empty((n_groups, r), dtype=np.float32)
        self.next_group_means = np.empty_like(self.group_means)
        self.sums = np.empty((3, r), dtype=np.float32)
        self.no_gap = np.zeros(r, dtype=np.float32)
        # whether ``swing_now``, ``group_means`` and ``sums`` hold ``observe`` of the current
        # state (a round's deliberation may observe the state it leaves, for the next round)
        self.observed = True
        self.observe_next = False
        self.fresh = False  # whether this round's share and total were formed
        self.share: F = self.no_gap
        self.lobbied_total: F = self.no_gap
        self.ledger: dict[tuple[str, str], Any] = {}
        # pushes on custom bases: (quantity, the states reached, the basis there, coefficient)
        self.custom: list[tuple[str, NDArray[np.int64], F, Any]] = []

    def release(self) -> None:
        """Drop the working arrays (a block is done with them)."""
        self.swing_now = self.group_means = self.next_group_means = self.sums = None  # type: ignore[assignment]

    # -- how the kernels see the state --------------------------------------------------------
    def histories(self) -> kernels.Histories:
        """The model's state (in domain units) as the kernels take it."""
        m = self.model
        clause = kernels.NO_CLAUSE if m.clause_deviation is None else m.clause_deviation
        return kernels.Histories(m.deviation, m.aversion, m.baseline, clause)

    def out(self, group_means: F | None = None) -> kernels.Observation:
        """Where ``observe`` writes (the group means into ``group_means``, by default the
        current ones)."""
        means = self.group_means if group_means is None else group_means
        return kernels.Observation(self.sums, means, self.swing_now)

    def gap(self) -> tuple[F, bool]:
        """(1 - the ICC factor per replicate, whether any is not 0): where the draft's tanh
        argument must add back the aversion of softened or dropped ICC language."""
        status = self.model.icc_status
        if not status.any():
            return self.no_gap, False
        # the gap of status k is k / 2 (retained 0, softened 0.5, dropped 1)
        return np.multiply(status, np.float32(0.5), dtype=np.float32), True

    def draft(self) -> kernels.Draft:
        """How the kernels see the draft as it stands, to observe it (the ICC gap, the draft
        vote's tanh form, presence, lobbying weights)."""
        return self.model.compiled.draft(*self.gap())

    # -- observing ----------------------------------------------------------------------------
    def observe(self) -> None:
        """``kernels.observe`` of the state as it is now (the group means into the current
        ones)."""
        kernels.observe(self.histories(), self.draft(), self.model.compiled.members, self.out())

    def refresh(self) -> None:
        """Where the draft stands at the start of the round (``kernels.observe``, unless the
        last round's deliberation or a vote on the draft observed it already): the expected yes
        share, swing, the total lobbying weight and the group means."""
        if not self.observed:
            self.observe()
            self.observed = True
        # sum of presence * P(yes) = (sum of presence + presence @ t_yes) / 2, same for no
        r = self.sums.shape[1]
        self.share = np.empty(r, dtype=np.float32)
        self.lobbied_total = np.empty(r, dtype=np.float32)
        total = self.model.compiled.presence_total
        kernels.yes_share(self.sums, total, self.share, self.lobbied_total)

    def now(self) -> None:
        """Observe the draft if this round has not yet."""
        if not self.fresh:
            self.refresh()
            self.fresh = True

    def swing(self) -> F:
        """(states, replicates) this round's swing (overwritten by the next round's)."""
        self.now()
        return self.swing_now

    def expected_yes_share(self) -> F:
        """(replicates,) the expected share of yes among yes and no votes on the draft."""
        self.now()
        return self.share

    def lobby_share(self, budget: float) -> F:
        """Per-replicate coefficient that spreads ``budget`` over the lobbying weights (their
        total comes from ``observe``)."""
        self.now()
        return np.float32(budget) / self.lobbied_total  # type: ignore[no-any-return]

    def deliberated(self) -> None:
        """After the round's deliberation: with ``observe_next`` the kernel observed the state
        it leaves (its group means into ``next_group_means``); the swing of the round that ends
        is gone otherwise."""
        self.observed = self.observe_next
        if self.observe_next:
            self.group_means, self.next_group_means = self.next_group_means, self.group_means

    # -- the ledger of the round's pushes ------------------------------------------------------
    def new_round(self) -> None:
        """Clear the ledger of the pushes, for a new round."""
        self.ledger.clear()
        self.custom.clear()

    def book(self, quantity: str, basis: Any, coefficient: Any, states: Any = None) -> None:
        """Book a push of ``basis * coefficient`` to ``quantity`` (``UNModel.shift``)."""
        if isinstance(basis, str):
            key = (quantity, basis)
            prev = self.ledger.get(key)
            self.ledger[key] = coefficient if prev is None else prev + coefficient
            if states is None or basis not in kernels.BASES:
                return
            # the basis weighted by ``states``: the push on the whole basis, less its share on
            # the states weighted otherwise than 1 (a few rows)
            n = self.model.n_states
            weights = np.broadcast_to(np.asarray(states, dtype=np.float32), (n,))
            rows = np.flatnonzero(weights != 1)
            if rows.size:
                k = kernels.BASES.index(basis)
                bases = self.model.compiled.bases
                values = (bases[rows, k] * (weights[rows] - np.float32(1)))[:, None]
                if k < kernels.SWUNG:
                    values = values * self.swing()[rows]
                self.custom.append((quantity, rows, values, coefficient))
        else:
            basis = np.asarray(basis, dtype=np.float32)
            basis = basis[:, None] if basis.ndim == 1 else basis
            rows = np.flatnonzero(basis.any(axis=1))  # the states it reaches
            self.custom.append((quantity, rows, basis[rows], coefficient))

    def pushes(self, quantity: str) -> kernels.Pushes:
        """This round's pushes to ``quantity`` as ``(coefficients, rows, values)``: the pressure
        is ``swing * (bases[:, :2] @ coefficients[:2]) + bases[:, 2:] @ coefficients[2:]``
        plus ``values[j]`` on state ``rows[j]``, with ``bases`` the named bases
        (``kernels.BASES``: per-state weights, the first two also weighted by swing),
        ``coefficients`` (4, replicates) their sums over the round's pushes, and ``values``
        (len(rows), replicates) the pushes on custom bases, on the states they reach (empty if
        there are none). Named bases are never materialised: the deliberation kernel forms
        them."""
        n_rep = self.sums.shape[1]
        coefficients = np.zeros((len(kernels.BASES), n_rep), dtype=np.float32)
        for (q, name), coef in self.ledger.items():
            if q != quantity:
                continue
            if name not in kernels.BASES:
                raise ValueError(
                    f"unknown basis {name!r}; allowed: {', '.join(kernels.BASES)} or an array"
                )
            coefficients[kernels.BASES.index(name)] += np.asarray(coef, dtype=np.float32)
        rows: list[NDArray[np.int64]] = []
        values: list[F] = []
        for q, on, basis_rows, coef in self.custom:
            if q == quantity and on.size:
                rows.append(on)
                term = basis_rows * np.asarray(coef, dtype=np.float32)
                values.append(np.broadcast_to(term, (on.size, n_rep)).astype(np.float32))
        if not rows:
            return kernels.Pushes(coefficients, kernels.NO_ROWS, kernels.EMPTY_BASIS)
        return kernels.Pushes(coefficients, np.concatenate(rows), np.concatenate(values))

    def pressure(self, quantity: str) -> F | None:
        """Everything pushed to ``quantity`` this round, as one (states, replicates) array."""
        coefficients, rows, values = self.pushes(quantity)
        if not (coefficients.any() or rows.size):
            return None
        k = kernels.SWUNG
        bases = self.model.compiled.bases
        out = self.swing() * _combination(bases[:, :k], coefficients[:k])
        out += _combination(bases[:, k:], coefficients[k:])
        if rows.size:
            np.add.at(out, rows, values)
        return out  # type: ignore[no-any-return]


def _combination(bases: F, coefficients: F) -> F:
    """``bases @ coefficients`` ((states, k) by (k, replicates)), the k terms added in order: the
    same bits on every CPU (a BLAS product's rounding depends on the CPU's kernels)."""
    out = bases[:, :1] * coefficients[:1]
    for j in range(1, bases.shape[1]):
        out += bases[:, j : j + 1] * coefficients[j : j + 1]
    return out  # type: ignore[no-any-return]
