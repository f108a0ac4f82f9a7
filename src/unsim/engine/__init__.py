"""The Monte Carlo engine."""

from unsim.engine.core import plan_blocks, run
from unsim.engine.dask import DaskExecutor
from unsim.engine.results import Results
from unsim.engine.rng import Streams
from unsim.model.outcomes import OUTCOMES

__all__ = ["OUTCOMES", "DaskExecutor", "Results", "Streams", "plan_blocks", "run"]
