"""What a block of runs reduces to (counts and histograms, the run table's arrays if kept), merged
over blocks: what the engine hands the results to summarise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: How a state may vote at an Assembly or Council vote, in the order tallies are kept.
TALLY_CATEGORIES = ("yes", "no", "abstain", "absent")


@dataclass
class BlockResult:
    """Aggregates of one block (or of several, once merged)."""

    n: int = 0
    sums: dict[str, int] = field(default_factory=dict)
    hists: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    state_counts: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    pivotal: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    runs: dict[str, NDArray[Any]] | None = None
    seconds: float = 0.0

    def merge(self, other: BlockResult) -> None:
        """Add the aggregates of ``other`` (another block) to these."""
        self.n += other.n
        self.seconds += other.seconds
        for k, v in other.sums.items():
            self.sums[k] = self.sums.get(k, 0) + v
        for target, source in (
            (self.hists, other.hists),
            (self.state_counts, other.state_counts),
            (self.pivotal, other.pivotal),
        ):
            for k, arr in source.items():
                if k in target:
                    target[k] = target[k] + arr
                else:
                    target[k] = arr.copy()
