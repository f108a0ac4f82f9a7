"""The plug-in interface for the target state's response strategies.

A strategy is a pydantic model (its parameters, validated from the scenario's YAML) with an
``apply`` method that acts on a :class:`~unsim.strategies.context.StrategyContext` once per
diplomatic round in which it is active. Registering the class (``@register``, or the entry-point
group ``unsim.strategies`` of an installed package) makes its ``type`` valid in scenario files and
shows it in the JSON Schema and the explorer, without any change to the model's core.

Every quantity in the context is an array over replicates (the last axis), so a strategy is written
once and runs unchanged for one replicate or for a block of thousands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from unsim.fields import MAX_ROUND, Strict
from unsim.strategies.context import BoolArray, FloatArray, StrategyContext
from unsim.strategies.outcomes import Outcome
from unsim.uncertainty import Levered

__all__ = [
    "Adaptive",
    "BoolArray",
    "FloatArray",
    "Outcome",
    "Schedule",
    "Strategy",
    "instance_keys",
]


class Schedule(Strict):
    """Rounds in which a strategy may act (1-based, inclusive; counted over the whole campaign)."""

    start: int = Field(
        1, ge=1, le=MAX_ROUND, description="first diplomatic round in which the strategy acts"
    )
    end: int | None = Field(
        None, ge=1, le=MAX_ROUND, description="last round (inclusive); null: to the end"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        return self

    def covers(self, round_: int) -> bool:
        """Whether round ``round_`` lies within the schedule (``end`` None: no last round)."""
        return round_ >= self.start and (self.end is None or round_ <= self.end)


class Adaptive(Levered):
    """A policy: act only in replicates where the condition holds at the start of the round."""

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


class Strategy(Levered):
    """Base class of response strategies. A subclass sets ``type: Literal["name"] = "name"``,
    lists the ``events`` it records (and, in ``outcomes``, those the summary reports),
    implements ``apply`` (and any other hook it needs) and is
    registered with ``@register``.

    A number parameter (a ``float`` field) may be given as a distribution in a scenario: the
    engine then draws it once per run, and the strategy's hooks see it as an array over
    replicates instead of a number (write them with NumPy operations, as ``intensity * active``,
    not ``if intensity:``). A subclass lists in ``point_only`` the parameters that must stay
    numbers, with the reason."""

    #: The events the strategy records (``ctx.event``); each is a column of the run table.
    events: ClassVar[tuple[str, ...]] = ()
    #: The outcomes the summary, the comparisons, the explorer and the report show when the
    #: strategy is in a scenario, each one of its ``events`` (``Outcome(event, label)``).
    #: None: every event, labelled by its name.
    outcomes: ClassVar[tuple[Outcome, ...] | None] = None

    type: str
    label: str | None = Field(
        None,
        description="name of this entry (its random streams, memory and events are keyed by it)",
    )
    schedule: Schedule = Field(default_factory=Schedule)
    adaptive: Adaptive | None = None

    @classmethod
    def declared_outcomes(cls) -> tuple[Outcome, ...]:
        """Its ``outcomes``, or one per event when it leaves them out."""
        if cls.outcomes is not None:
            return cls.outcomes
        return tuple(Outcome(e, e.replace("_", " ")) for e in cls.events)

    @property
    def key(self) -> str:
        """The entry's name: its label, else its type (see ``instance_keys`` for repeats)."""
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
        """Act in the replicates of ``active`` (each strategy says how)."""
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


def instance_keys(strategies: Sequence[Strategy]) -> list[str]:
    """Each entry's key: its label, else its type, numbered from the second entry of a type on
    (``invitation``, ``invitation#2``): an entry keeps its random streams when another entry of
    its type is added after it. Keys must differ (the schema refuses entries whose keys clash)."""
    seen: dict[str, int] = {}
    keys = []
    for s in strategies:
        if s.label:
            keys.append(s.label)
            continue
        seen[s.type] = seen.get(s.type, 0) + 1
        keys.append(s.type if seen[s.type] == 1 else f"{s.type}#{seen[s.type]}")
    return keys
