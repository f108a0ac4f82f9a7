"""The Monte Carlo engine: blocks of replicates advanced together (``blocks``), planned and
dispatched to an executor (``core``, ``executors``, ``dask``), with named random streams
(``rng``), the attribution of a forecast to the scenario's assumptions (``attribution``;
``assumptions.data_only``: the scenario with all of them removed).

Its names load on first use, so that the results package (downstream: it reads the blocks'
aggregates) can import ``unsim.engine.blocks`` without loading the engine's runner, which returns
:class:`~unsim.results.tables.Results`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unsim.lazy import lazy_names

if TYPE_CHECKING:
    from unsim.engine.assumptions import data_only
    from unsim.engine.core import plan_blocks, run
    from unsim.engine.dask import DaskExecutor
    from unsim.engine.rng import Streams
    from unsim.model.outcomes import OUTCOMES
    from unsim.results.tables import Results

__all__ = ["OUTCOMES", "DaskExecutor", "Results", "Streams", "data_only", "plan_blocks", "run"]

_HOMES = {
    "data_only": "unsim.engine.assumptions",
    "plan_blocks": "unsim.engine.core",
    "run": "unsim.engine.core",
    "DaskExecutor": "unsim.engine.dask",
    "Streams": "unsim.engine.rng",
    "OUTCOMES": "unsim.model.outcomes",
    "Results": "unsim.results.tables",
}


__getattr__ = lazy_names(__name__, _HOMES)
