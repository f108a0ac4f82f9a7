"""How a scenario is run: the number of runs, the master seed, the diplomatic rounds before each
vote and the replicates advanced together."""

from __future__ import annotations

from pydantic import Field

from unsim.fields import Strict
from unsim.limits import MAX_RUNS, MAX_SEED


class Rounds(Strict):
    """The diplomatic rounds before each vote: Third Committee, plenary, Security Council."""

    third_committee: int = Field(8, ge=0, le=100, description="diplomatic rounds before it")
    plenary: int = Field(3, ge=0, le=100)
    security_council: int = Field(1, ge=0, le=100)


class Simulation(Strict):
    """How to run: number of runs, master seed, rounds before each vote and replicates per block."""

    runs: int = Field(10_000, ge=1, le=MAX_RUNS)
    seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="master seed; drawn and recorded if left out"
    )
    rounds: Rounds = Field(default_factory=Rounds)
    block_size: int = Field(
        2048, ge=1, le=1_000_000, description="replicates advanced together in one model"
    )
