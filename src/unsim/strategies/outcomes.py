"""What a run can report as an outcome: the share of runs where one column of the run table is
true or holds one category. The model declares its own (``unsim.model.outcomes``); a strategy
declares those of its events in its class's ``outcomes``, and the summary, the comparisons, the
explorer and the report show them as they show the model's. Here, below the strategies, so that
a plug-in names them without importing the model."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: What becomes of the ICC language by the end of a run, and why it was given up.
ICC_STATUS = ("retained", "softened", "dropped")
ICC_REASON = ("none", "bargain", "support_short", "amendment")
#: The categories of the run table's categorical columns (stored as their codes).
CATEGORIES: dict[str, tuple[str, ...]] = {"icc_status": ICC_STATUS, "icc_reason": ICC_REASON}


@dataclass(frozen=True)
class Outcome:
    """One outcome of a run, reported as the share of runs where it happened (with its
    interval). It unpacks as ``(name, label, key)``.

    A strategy declares one of its events as ``Outcome("boycott_started", "boycott started")``:
    its column is then ``event_boycott_started`` and it is reported whenever the strategy is
    among the scenario's."""

    name: str  #: its name in the summary and the command line
    label: str  #: what it means, in words
    #: its column of the run table (``model.outcomes.run_columns``); "" for ``event_<name>``
    key: str = ""
    #: what produces it: a stage of ``model.stages.SESSIONS``, "rounds" or "strategies"
    stage: str = "strategies"
    #: whether it can happen in a scenario; None for a strategy's: when the strategy is in it
    applies: Callable[[Any], bool] | None = None
    #: for a categorical column, the category it is; else it is the column being true
    value: str | None = None

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", f"event_{self.name}")

    def __iter__(self) -> Iterator[str]:
        return iter((self.name, self.label, self.key))

    @property
    def count_key(self) -> str:
        """Its count among a block's counts (``model.outcomes.count_runs``)."""
        return self.key if self.value is None else f"{self.key}={self.value}"

    def happened(self, runs: Mapping[str, Any]) -> NDArray[np.bool_]:
        """(runs,) whether it happened in each run of a run table (a DataFrame, with categories
        as labels, or a block's arrays, with them as codes)."""
        values = np.asarray(runs[self.key])
        if self.value is None:
            return values.astype(bool)
        if values.dtype.kind in "iu":
            return values == CATEGORIES[self.key].index(self.value)  # type: ignore[no-any-return]
        return values == self.value  # type: ignore[no-any-return]
