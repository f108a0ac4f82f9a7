"""The Monte Carlo engine."""

from unsim.engine.core import plan_blocks, run
from unsim.engine.dask import DaskExecutor
from unsim.engine.results import OUTCOMES, Results
from unsim.engine.rng import Streams

__all__ = ["OUTCOMES", "DaskExecutor", "Results", "Streams", "plan_blocks", "run"]
