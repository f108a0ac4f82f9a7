"""What a strategy sees of the model, and the verbs with which it acts.

A strategy never holds the model. Each entry of ``actors.target.strategies`` is bound to the model
through its own :class:`StrategyContext`: read-only views of the model's state, and the verbs that
change it (``shift`` for support and ICC aversion, ``event`` for what happened, ``memory`` for
state of its own). Writing into a view raises :class:`ReadOnlyError`, which names the verbs: a
change written into a view would be lost, since the model adds up a round's pushes itself.

Every name a context gives out (random streams, memory, events) is keyed by its entry, so several
entries of one type act independently: each draws its own numbers and keeps its own memory and
events. When a type appears more than once, each entry's events are also reported under the
qualified name ``name[key]`` (``event_invitation_offered[invitation#2]`` in the run table) next to
the plain name, which holds where any entry recorded it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from unsim.errors import did_you_mean
from unsim.strategies.outcomes import ICC_REASON

if TYPE_CHECKING:
    from unsim.strategies.base import Strategy

FloatArray = NDArray[np.float32]
BoolArray = NDArray[np.bool_]

#: The quantities a strategy may shift.
QUANTITIES = ("support", "icc_aversion")

_VERBS = (
    "change support or ICC aversion with ctx.shift(quantity, basis, coefficient), record what "
    "happened with ctx.event(name, mask), and keep state of your own in ctx.memory(name)"
)


class ReadOnlyError(ValueError):
    """A strategy tried to write into a read-only view of the model's state."""


class ReadOnlyArray(np.ndarray):  # type: ignore[type-arg]
    """A read-only view of one of the model's arrays. Arithmetic on it gives plain arrays; a
    write into it raises :class:`ReadOnlyError` naming the verbs that change the model."""

    what: str = "this array"

    def __array_finalize__(self, obj: Any) -> None:
        self.what = getattr(obj, "what", "this array")

    def _refuse(self) -> None:
        raise ReadOnlyError(f"ctx.{self.what} is a read-only view of the model: {_VERBS}")

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self.flags.writeable:
            self._refuse()
        super().__setitem__(key, value)

    def fill(self, value: Any) -> None:
        """Refused on a read-only view of the model; fills the array otherwise."""
        if not self.flags.writeable:
            self._refuse()
        super().fill(value)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out") or ()
        if any(isinstance(o, ReadOnlyArray) and not o.flags.writeable for o in out):
            self._refuse()
        if out:  # a writeable copy (``view[mask]``) written in place
            kwargs["out"] = tuple(_plain(o) for o in out)
        return getattr(ufunc, method)(*(_plain(x) for x in inputs), **kwargs)


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, ReadOnlyArray) else x


def read_only(array: Any, what: str) -> Any:
    """A read-only view of ``array`` (writes raise :class:`ReadOnlyError`)."""
    view = np.asarray(array).view(ReadOnlyArray)
    view.flags.writeable = False
    view.what = what
    return view


class StrategyContext:
    """What one strategy entry sees and may change. Arrays are over states and replicates
    (``(states, replicates)``), over states (``(states,)``) or over replicates (``(replicates,)``);
    a strategy is written once and runs unchanged for one replicate or for thousands.

    Read-only views: ``support``, ``icc_aversion`` (states, replicates), ``receptiveness``
    (states, 1), ``allies``, ``patrons`` (states,), ``icc_retained``, ``icc_bargained``
    (replicates,), and the methods ``swing()``, ``undecided()``, ``expected_yes_share()``. Verbs:
    ``shift``, ``event``, ``memory`` (writable scratch state), ``draw``; ``state_mask`` and
    ``has_event`` read.
    """

    __slots__ = ("_events", "_host", "key", "owner", "shared", "source")
    _events: tuple[str, ...]
    _host: Any
    #: the entry's key (its label, else its type; see ``instance_keys``)
    key: str
    #: the strategy's class name, for messages
    owner: str
    #: whether another entry has the same type (the entry's events are then also qualified)
    shared: bool
    #: the entry's pushes as the model's observers see them (``unsim.model.observers``)
    source: str

    def __init__(
        self, host: Any, key: str, shared: bool = False, events: Sequence[str] = (), owner: str = ""
    ) -> None:
        object.__setattr__(self, "_host", host)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "shared", shared)
        object.__setattr__(self, "_events", tuple(events))
        object.__setattr__(self, "owner", owner or key)
        object.__setattr__(self, "source", f"strategy:{key}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise ReadOnlyError(f"ctx.{name} cannot be set: {_VERBS}")

    # -- what the strategy sees (read-only) -------------------------------------------------------
    @property
    def round(self) -> int:
        """The diplomatic round (1-based, counted over the whole campaign)."""
        return int(self._host.round)

    @property
    def n_states(self) -> int:
        """The number of member states in the world."""
        return int(self._host.n_states)

    @property
    def n_replicates(self) -> int:
        """The number of replicates (runs) in the block."""
        return int(self._host.n_replicates)

    @property
    def target(self) -> int:
        """The target state's row."""
        return int(self._host.target)

    @property
    def allies(self) -> BoolArray:
        """(states,) the target's allies."""
        return read_only(self._host.allies, "allies")  # type: ignore[no-any-return]

    @property
    def patrons(self) -> BoolArray:
        """(states,) the target's patrons."""
        return read_only(self._host.patrons, "patrons")  # type: ignore[no-any-return]

    @property
    def support(self) -> FloatArray:
        """(states, replicates) each state's general support for the draft."""
        return read_only(self._host.support, "support")  # type: ignore[no-any-return]

    @property
    def icc_aversion(self) -> FloatArray:
        """(states, replicates) what the ICC-referral language costs each state."""
        return read_only(self._host.icc_aversion, "icc_aversion")  # type: ignore[no-any-return]

    @property
    def receptiveness(self) -> FloatArray:
        """(states, 1) how far each state moves under pressure."""
        return read_only(self._host.receptiveness, "receptiveness")  # type: ignore[no-any-return]

    @property
    def icc_retained(self) -> BoolArray:
        """(replicates,) whether the ICC language is still in the draft."""
        return read_only(self._host.icc_retained, "icc_retained")  # type: ignore[no-any-return]

    @property
    def icc_bargained(self) -> BoolArray:
        """(replicates,) where the sponsors gave the ICC language up for a conditional offer
        (the run's ``icc_reason`` is ``bargain``), not for lack of support or by amendment."""
        bargained = self._host.icc_reason == ICC_REASON.index("bargain")
        return read_only(bargained, "icc_bargained")  # type: ignore[no-any-return]

    def swing(self) -> FloatArray:
        """(states, replicates) weight in [0, 1]: how undecided each state is on the draft."""
        return read_only(self._host.swing(), "swing()")  # type: ignore[no-any-return]

    def undecided(self) -> FloatArray:
        """(states, replicates): swing x receptiveness, zero for the target's allies."""
        return read_only(self._host.undecided(), "undecided()")  # type: ignore[no-any-return]

    def expected_yes_share(self) -> FloatArray:
        """(replicates,) expected share of yes among present-and-voting states on the draft."""
        share = self._host.expected_yes_share()
        return read_only(share, "expected_yes_share()")  # type: ignore[no-any-return]

    def state_mask(self, refs: list[str]) -> BoolArray:
        """(states,) mask of states named by ISO3 codes or bloc names (a new array)."""
        return self._host.state_mask(refs)  # type: ignore[no-any-return]

    # -- the verbs -------------------------------------------------------------------------------
    def shift(
        self,
        quantity: Literal["support", "icc_aversion"],
        basis: str | NDArray[Any],
        coefficient: FloatArray | BoolArray | float,
        states: FloatArray | BoolArray | None = None,
    ) -> None:
        """Push a change of ``basis * coefficient`` to ``quantity`` for this round.

        ``basis``: ``"undecided"``, ``"receptive"``, ``"allies"`` or an array over states (and
        replicates); ``coefficient``: per replicate (e.g. an intensity times the active mask);
        ``states``: (states,) weights or a mask that restrict a named basis to some states
        (cheaper than the same basis formed as an array)."""
        if quantity not in QUANTITIES:
            hint = did_you_mean(str(quantity), QUANTITIES)
            raise ValueError(
                f"{self.owner}: cannot shift {quantity!r}; allowed: {', '.join(QUANTITIES)}"
                + (f"; did you mean {hint!r}?" if hint else "")
            )
        self._host.shift(quantity, basis, coefficient, states, self.source)

    def draw(self, stream: str, per_round: bool = True) -> FloatArray:
        """(replicates,) uniforms from a named stream of this entry: the same draws for the same
        entry, name, round and run whatever else the scenario does (common random numbers).
        ``per_round=False`` gives one draw per run, the same in every round."""
        return self._host.draw(f"{self.key}:{stream}", per_round)  # type: ignore[no-any-return]

    def memory(self, name: str, initial: float = 0.0) -> FloatArray:
        """(replicates,) this entry's scratch state under ``name``, kept across rounds (writable:
        change it in place)."""
        return self._host.memory(f"{self.key}:{name}", initial)  # type: ignore[no-any-return]

    def event(self, name: str, mask: BoolArray) -> None:
        """Record that event ``name`` (one of the strategy's ``events``) happened in the
        replicates where ``mask`` is true."""
        self._check_event(name)
        mask = np.asarray(mask, dtype=bool)
        own = self._host.memory(f"{self.key}:event:{name}", 0.0)
        own[mask] = 1.0
        self._host.event(name, mask)
        if self.shared:
            self._host.event(f"{name}[{self.key}]", mask)

    def has_event(self, name: str, any_entry: bool = False) -> BoolArray:
        """(replicates,) whether this entry recorded event ``name`` so far (``any_entry``:
        whether any strategy did)."""
        if any_entry:
            return read_only(self._host.has_event(name), f"has_event({name!r})")  # type: ignore[no-any-return]
        self._check_event(name)
        return self._host.memory(f"{self.key}:event:{name}", 0.0) > 0  # type: ignore[no-any-return]

    def declare_events(self) -> None:
        """Make every event the strategy declares an outcome of the run, happened or not (each
        block of runs then reports the same outcomes)."""
        none = np.zeros(self.n_replicates, dtype=bool)
        for name in self._events:
            self._host.event(name, none)
            if self.shared:
                self._host.event(f"{name}[{self.key}]", none)

    def _check_event(self, name: str) -> None:
        if name not in self._events:
            hint = did_you_mean(name, self._events)
            declared = ", ".join(self._events) or "none"
            raise ValueError(
                f"{self.owner}: event {name!r} is not declared (the strategy's events: "
                f"{declared}); list it in the class's `events`"
                + (f"; did you mean {hint!r}?" if hint else "")
            )


class BoundStrategy:
    """A strategy entry bound to its key among the scenario's entries. The model calls its hooks
    with itself as ``host``; each hook hands the strategy the entry's own context."""

    __slots__ = ("_context", "key", "shared", "strategy")

    def __init__(self, strategy: Strategy, key: str, shared: bool) -> None:
        self.strategy = strategy
        self.key = key
        self.shared = shared
        self._context: StrategyContext | None = None

    def __repr__(self) -> str:
        return f"BoundStrategy({self.key!r}, {self.strategy!r})"

    def context(self, host: Any) -> StrategyContext:
        """The entry's context on ``host`` (made once per model, then reused)."""
        ctx = self._context
        if ctx is None or ctx._host is not host:
            kind = type(self.strategy)
            ctx = StrategyContext(host, self.key, self.shared, kind.events, f"{kind.__name__}")
            self._context = ctx
        return ctx

    def active_mask(self, host: Any, expected_yes_share: FloatArray) -> BoolArray:
        """(replicates,) where the strategy acts this round, given a read-only (replicates,)
        expected yes share."""
        share = read_only(expected_yes_share, "expected_yes_share()")
        return self.strategy.active_mask(self.context(host), share)

    def apply(self, host: Any, active: BoolArray) -> None:
        """Let the strategy act in the replicates of ``active``."""
        self.strategy.apply(self.context(host), active)

    def conditional_offer(self, host: Any) -> BoolArray | None:
        """(replicates,) where the strategy's offer conditional on dropping the ICC language
        stands, or None."""
        return self.strategy.conditional_offer(self.context(host))

    def offer_credibility(self, sponsors: list[str], unmet_terms_discount: float) -> float:
        """How credible the sponsors (ISO3 codes) find the strategy's conditional offer."""
        return self.strategy.offer_credibility(sponsors, unmet_terms_discount)

    def on_icc_dropped(self, host: Any, mask: BoolArray) -> None:
        """Tell the strategy the sponsors dropped the ICC language in the replicates of ``mask``."""
        self.strategy.on_icc_dropped(self.context(host), mask)

    def on_vote(self, host: Any, stage: str, adopted: BoolArray) -> None:
        """Tell the strategy the result of the vote at ``stage``."""
        self.strategy.on_vote(self.context(host), stage, adopted)

    def finish(self, host: Any) -> None:
        """Let the strategy record its end-of-run events, then declare its events to the model."""
        ctx = self.context(host)
        self.strategy.finish(ctx)
        ctx.declare_events()


def bind(strategies: Sequence[Strategy]) -> list[BoundStrategy]:
    """The scenario's strategy entries, each bound to its key (see ``instance_keys``)."""
    from unsim.strategies.base import instance_keys

    keys = instance_keys(strategies)
    kinds = [s.type for s in strategies]
    return [
        BoundStrategy(s, key, kinds.count(s.type) > 1)
        for s, key in zip(strategies, keys, strict=True)
    ]
