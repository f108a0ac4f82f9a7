"""Named random streams (common random numbers) from one master seed.

Every random decision draws from its own stream, keyed by the master seed, the block of runs, the
decision's name and (for per-round decisions) the round. Two scenarios run with the same seed thus
use the same numbers wherever their logic agrees, and a block's numbers do not depend on how many
workers share the blocks or in what order they run.
"""

from __future__ import annotations

import secrets
import zlib

import numpy as np
from numpy.typing import NDArray


def new_master_seed() -> int:
    """A fresh master seed (recorded with the results), for runs given none."""
    return secrets.randbits(63)


def stream_key(name: str) -> int:
    """The number that names stream ``name`` in its seed's spawn key (CRC-32 of the name)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The random streams of one block of replicates."""

    def __init__(self, seed: int, block: int = 0):
        self.seed = int(seed)
        self.block = int(block)

    def generator(self, name: str, round_: int | None = None) -> np.random.Generator:
        """A generator for stream ``name`` of this block (and ``round_``, for per-round draws)."""
        key = (self.block, stream_key(name), 0 if round_ is None else round_ + 1)
        return np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key))
        )

    def uniform(
        self, name: str, shape: int | tuple[int, ...], round_: int | None = None
    ) -> NDArray[np.float32]:
        """Uniform float32 draws in [0, 1) of ``shape`` from stream ``name``."""
        return self.generator(name, round_).random(shape, dtype=np.float32)

    def normal(
        self, name: str, shape: int | tuple[int, ...], round_: int | None = None
    ) -> NDArray[np.float32]:
        """Standard normal float32 draws of ``shape`` from stream ``name``."""
        return self.generator(name, round_).standard_normal(shape, dtype=np.float32)
