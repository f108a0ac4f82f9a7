"""What a strategy sees and changes in a round (the ``StrategyContext`` interface of
``unsim.strategies``), and where the draft stands: the model's diplomacy, as a mixin of
``UNModel``.

Pushes (``shift``) are booked on a ledger and applied by the round's deliberation kernel; where
the draft stands (``expected_yes_share``, ``swing``) is observed by the kernels once a round.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.model import kernels, observers, rules
from unsim.model.kernel_args import Compiled
from unsim.model.levers import BlockLevers
from unsim.model.outcomes import ICC_STATUS
from unsim.model.params import Behaviour, state_mask
from unsim.model.rules import ICC_FACTOR
from unsim.scenario.schema import World
from unsim.streams import Streams

F = NDArray[np.float32]
B = NDArray[np.bool_]

_ICC_FACTORS = np.asarray([ICC_FACTOR[s] for s in ICC_STATUS], dtype=np.float32)


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
    _no_gap: F
    _sums: F
    _swing: F
    _group_means: F
    _observed: bool
    _share: F
    _lobbied_total: F
    _cache: dict[str, Any]
    _ledger: dict[tuple[str, str], Any]
    _custom: list[tuple[str, NDArray[np.int64], F, Any]]
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
        return _ICC_FACTORS[self.icc_status]  # type: ignore[no-any-return]

    def _gap(self) -> tuple[F, bool]:
        """(1 - the ICC factor per replicate, whether any is not 0): where the draft's tanh
        argument must add back the aversion of softened or dropped ICC language."""
        if not self.icc_status.any():
            return self._no_gap, False
        # the gap of status k is k / 2 (retained 0, softened 0.5, dropped 1)
        return np.multiply(self.icc_status, np.float32(0.5), dtype=np.float32), True

    def _histories(self) -> kernels.Histories:
        return kernels.Histories(self.deviation, self.draft_base, self.baseline)

    def _observation(self, group_means: F) -> kernels.Observation:
        return kernels.Observation(self._sums, group_means, self._swing)

    def _draft_view(self) -> kernels.Draft:
        """How the kernels see the draft as it stands, to observe it (the ICC gap, the draft
        vote's tanh form, presence, lobbying weights)."""
        return self.compiled.draft(*self._gap())

    def _observe(self) -> None:
        """Where the draft stands at the start of the round (``kernels.observe``, unless the
        last round's deliberation or a vote on the draft observed it already): the expected yes
        share, swing, the total lobbying weight and the group means."""
        if not self._observed:
            kernels.observe(
                self._histories(),
                self._draft_view(),
                self.compiled.members,
                self._observation(self._group_means),
            )
            self._observed = True
        # sum of presence * P(yes) = (sum of presence + presence @ t_yes) / 2, same for no
        self._share = np.empty(self.n_replicates, dtype=np.float32)
        self._lobbied_total = np.empty(self.n_replicates, dtype=np.float32)
        total = self.compiled.presence_total
        kernels.yes_share(self._sums, total, self._share, self._lobbied_total)

    def swing(self) -> F:
        """(states, replicates) this round's swing (overwritten by the next round's)."""
        self._observed_now()
        return self._swing

    def _observed_now(self) -> None:
        if "observed" not in self._cache:
            self._observe()
            self._cache["observed"] = True

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
        self._observed_now()
        return np.float32(budget) / self._lobbied_total  # type: ignore[no-any-return]

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
        if isinstance(basis, str):
            key = (quantity, basis)
            prev = self._ledger.get(key)
            self._ledger[key] = coefficient if prev is None else prev + coefficient
            if states is None or basis not in kernels.BASES:
                return
            # the basis weighted by ``states``: the push on the whole basis, less its share on
            # the states weighted otherwise than 1 (a few rows)
            weights = np.broadcast_to(np.asarray(states, dtype=np.float32), (self.n_states,))
            rows = np.flatnonzero(weights != 1)
            if rows.size:
                k = kernels.BASES.index(basis)
                values = (self.compiled.bases[rows, k] * (weights[rows] - np.float32(1)))[:, None]
                if k < kernels.SWUNG:
                    values = values * self.swing()[rows]
                self._custom.append((quantity, rows, values, coefficient))
        else:
            basis = np.asarray(basis, dtype=np.float32)
            basis = basis[:, None] if basis.ndim == 1 else basis
            rows = np.flatnonzero(basis.any(axis=1))  # the states it reaches
            self._custom.append((quantity, rows, basis[rows], coefficient))

    def _pushes(self, quantity: str) -> kernels.Pushes:
        """This round's pushes to ``quantity`` as ``(coefficients, rows, values)``: the pressure
        is ``swing * (bases[:, :2] @ coefficients[:2]) + bases[:, 2:] @ coefficients[2:]``
        plus ``values[j]`` on state ``rows[j]``, with ``bases`` the named bases
        (``kernels.BASES``: per-state weights, the first two also weighted by swing),
        ``coefficients`` (4, replicates) their sums over the round's pushes, and ``values``
        (len(rows), replicates) the pushes on custom bases, on the states they reach (empty if
        there are none). Named bases are never materialised: the deliberation kernel forms
        them."""
        n_rep = self.n_replicates
        coefficients = np.zeros((len(kernels.BASES), n_rep), dtype=np.float32)
        for (q, name), coef in self._ledger.items():
            if q != quantity:
                continue
            if name not in kernels.BASES:
                raise ValueError(
                    f"unknown basis {name!r}; allowed: {', '.join(kernels.BASES)} or an array"
                )
            coefficients[kernels.BASES.index(name)] += np.asarray(coef, dtype=np.float32)
        rows: list[NDArray[np.int64]] = []
        values: list[F] = []
        for q, on, basis_rows, coef in self._custom:
            if q == quantity and on.size:
                rows.append(on)
                term = basis_rows * np.asarray(coef, dtype=np.float32)
                values.append(np.broadcast_to(term, (on.size, n_rep)).astype(np.float32))
        if not rows:
            return kernels.Pushes(coefficients, kernels.NO_ROWS, kernels.EMPTY_BASIS)
        return kernels.Pushes(coefficients, np.concatenate(rows), np.concatenate(values))

    def pressure(self, quantity: str) -> F | None:
        """Everything pushed to ``quantity`` this round, as one (states, replicates) array."""
        coefficients, rows, values = self._pushes(quantity)
        if not (coefficients.any() or rows.size):
            return None
        k = kernels.SWUNG
        bases = self.compiled.bases
        out = self.swing() * _combination(bases[:, :k], coefficients[:k])
        out += _combination(bases[:, k:], coefficients[k:])
        if rows.size:
            np.add.at(out, rows, values)
        return out  # type: ignore[no-any-return]

    def expected_yes_share(self) -> F:
        self._observed_now()
        return self._share

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


def _combination(bases: F, coefficients: F) -> F:
    """``bases @ coefficients`` ((states, k) by (k, replicates)), the k terms added in order: the
    same bits on every CPU (a BLAS product's rounding depends on the CPU's kernels)."""
    out = bases[:, :1] * coefficients[:1]
    for j in range(1, bases.shape[1]):
        out += bases[:, j : j + 1] * coefficients[j : j + 1]
    return out  # type: ignore[no-any-return]
