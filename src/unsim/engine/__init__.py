"""The Monte Carlo engine: blocks of replicates advanced together (``blocks``), planned and
dispatched to an executor (``core``, ``executors``, ``dask``), with named random streams
(``rng``) and the attribution of a forecast to the scenario's assumptions (``attribution``).

Its names load on first use, so that the results package (downstream: it reads the blocks'
aggregates) can import ``unsim.engine.blocks`` without loading the engine's runner, which returns
:class:`~unsim.results.tables.Results`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unsim.engine.core import plan_blocks, run
    from unsim.engine.dask import DaskExecutor
    from unsim.engine.rng import Streams
    from unsim.model.outcomes import OUTCOMES
    from unsim.results.tables import Results

__all__ = ["OUTCOMES", "DaskExecutor", "Results", "Streams", "plan_blocks", "run"]

_HOMES = {
    "plan_blocks": "unsim.engine.core",
    "run": "unsim.engine.core",
    "DaskExecutor": "unsim.engine.dask",
    "Streams": "unsim.engine.rng",
    "OUTCOMES": "unsim.model.outcomes",
    "Results": "unsim.results.tables",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'unsim.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
