"""The Monte Carlo engine: blocks of replicates advanced together (``blocks``), planned and
dispatched to an executor (``core``, ``executors``, ``dask``), with named random streams
(``rng``, from ``unsim.streams``), the attribution of a forecast to the scenario's assumptions
(``attribution``; ``assumptions.data_only``: the scenario with all of them removed).

Its names load on first use, so that importing one of its modules (``unsim.engine.dask`` for
its address check) does not load the runner. The engine sits above the results package: it
hands the blocks' aggregates (``unsim.results.aggregates``) to it and returns
:class:`~unsim.results.tables.Results`; nothing in ``unsim.results`` imports the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unsim.lazy import lazy_names

if TYPE_CHECKING:
    from unsim.engine.assumptions import data_only
    from unsim.engine.core import plan_blocks, run
    from unsim.engine.dask import DaskExecutor
    from unsim.results.tables import Results

__all__ = ["DaskExecutor", "Results", "data_only", "plan_blocks", "run"]

_HOMES = {
    "data_only": "unsim.engine.assumptions",
    "plan_blocks": "unsim.engine.core",
    "run": "unsim.engine.core",
    "DaskExecutor": "unsim.engine.dask",
    "Results": "unsim.results.tables",
}


__getattr__ = lazy_names(__name__, _HOMES)
