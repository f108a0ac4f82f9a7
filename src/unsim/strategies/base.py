"""The plug-in interface for the target state's response strategies.

A strategy is a pydantic model (its parameters, validated from the scenario's YAML) with an
``apply`` method that acts on a :class:`StrategyContext` once per diplomatic round in which it is
active. Subclassing :class:`Strategy` with a new ``type`` literal registers it: the scenario schema,
the JSON Schema and the model pick it up without any change to the model's core.

Every quantity in the context is an array over replicates (the last axis), so a strategy is written
once and runs unchanged for one replicate or for a block of thousands.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

FloatArray = NDArray[np.float32]
BoolArray = NDArray[np.bool_]


class Schedule(BaseModel):
    """Rounds in which a strategy may act (1-based, inclusive; counted over the whole campaign)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    start: int = Field(
        1, ge=1, le=1000, description="first diplomatic round in which the strategy acts"
    )
    end: int | None = Field(
        None, ge=1, le=1000, description="last round (inclusive); null: to the end"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        return self

    def covers(self, round_: int) -> bool:
        return round_ >= self.start and (self.end is None or round_ <= self.end)


class Adaptive(BaseModel):
    """A policy: act only in replicates where the condition holds at the start of the round."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    expected_yes_share_above: float | None = Field(
        None,
        ge=0,
        le=1,
        description="act only while the expected share of yes among present-and-voting states "
        "(on the draft as it stands) is above this value",
    )
    only_while_icc_retained: bool = Field(
        False, description="act only while the ICC-referral language is still in the draft"
    )


class StrategyContext(Protocol):
    """What a strategy sees and changes in one round. Arrays are (states, replicates)."""

    round: int
    n_states: int
    n_replicates: int
    target: int
    allies: BoolArray  # (states,)
    patrons: BoolArray  # (states,)
    support: FloatArray  # (states, replicates): general support for the draft, changed in place
    icc_aversion: FloatArray  # (states, replicates): cost of the ICC language, changed in place
    receptiveness: FloatArray  # (states, 1)
    icc_retained: BoolArray  # (replicates,)

    def swing(self) -> FloatArray:
        """(states, replicates) weight in [0, 1]: how undecided each state is on the draft."""
        ...

    def undecided(self) -> FloatArray:
        """(states, replicates): swing x receptiveness, zero for the target's allies."""
        ...

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
        ...

    def state_mask(self, refs: list[str]) -> BoolArray:
        """(states,) mask of states named by ISO3 codes or bloc names."""
        ...

    def draw(self, stream: str, per_round: bool = True) -> FloatArray:
        """(replicates,) uniforms from a named stream: the same draws for the same name, round and
        run whatever else the scenario does (common random numbers). ``per_round=False`` gives
        one draw per run, the same in every round."""
        ...

    def event(self, name: str, mask: BoolArray) -> None:
        """Record that an event happened in the replicates where ``mask`` is true."""
        ...

    def has_event(self, name: str) -> BoolArray:
        """(replicates,) whether an event has happened so far."""
        ...

    def memory(self, key: str, initial: float = 0.0) -> FloatArray:
        """(replicates,) per-replicate scratch state that persists across rounds."""
        ...


class Strategy(BaseModel):
    """Base class of response strategies. Subclass with ``type: Literal["name"]`` to register."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    registry: ClassVar[dict[str, type[Strategy]]] = {}

    type: str
    label: str | None = Field(
        None, description="name of this entry (events and random streams are keyed by it)"
    )
    schedule: Schedule = Field(default_factory=Schedule)
    adaptive: Adaptive | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("type")
        default = getattr(field, "default", None)
        if isinstance(default, str) and default:
            Strategy.registry[default] = cls

    @property
    def key(self) -> str:
        return self.label or self.type

    def active_mask(self, ctx: StrategyContext, expected_yes_share: FloatArray) -> BoolArray:
        """(replicates,) where the strategy acts in this round."""
        n = ctx.n_replicates
        if not self.schedule.covers(ctx.round):
            return np.zeros(n, dtype=bool)
        mask = np.ones(n, dtype=bool)
        if self.adaptive is not None:
            if self.adaptive.expected_yes_share_above is not None:
                mask &= expected_yes_share > self.adaptive.expected_yes_share_above
            if self.adaptive.only_while_icc_retained:
                mask &= ctx.icc_retained
        return mask

    def apply(self, ctx: StrategyContext, active: BoolArray) -> None:  # pragma: no cover
        raise NotImplementedError

    def conditional_offer(self, ctx: StrategyContext) -> BoolArray | None:
        """(replicates,) where an offer conditional on dropping the ICC language stands, or None if
        this strategy makes no such offer. The sponsors' bargaining rule weighs it."""
        return None

    def offer_credibility(self, sponsors: list[str], unmet_terms_discount: float) -> float:
        """How credible the sponsors (ISO3 codes) find this strategy's conditional offer."""
        return 1.0

    def on_icc_dropped(self, ctx: StrategyContext, mask: BoolArray) -> None:
        """React to the sponsors dropping the ICC language in the replicates of ``mask``."""

    def on_vote(self, ctx: StrategyContext, stage: str, adopted: BoolArray) -> None:
        """React to the result of a vote (default: nothing)."""

    def finish(self, ctx: StrategyContext) -> None:
        """Record end-of-run events (default: nothing)."""
