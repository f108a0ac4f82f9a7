"""The model's compiled kernels, made ready before the runs: loaded from numba's cache, or
compiled on a first run (once per machine and version of unsim, 10 to 30 s).

``warm_up`` runs one run of a scenario in this process and discards it, so that the first block
of the real runs finds its kernels ready: the command line times and announces the kernels as a
step of their own instead of hiding them in the runs. Its random numbers come from streams of
their own seed and block, so the runs that follow are unchanged (block ``b`` draws from the
streams of (seed, ``b``) alone).

``kernels_cached`` tells whether the kernels look compiled already (an index file of numba's
cache for them, no older than its source), without reading the cache, so that a run on local
worker processes compiles once, in this process, instead of in every worker at once.
"""

from __future__ import annotations

import os
from types import ModuleType

from unsim.engine.blocks import simulate_block
from unsim.scenario.schema import Scenario

__all__ = ["kernel_modules", "kernels_cached", "warm_up"]

#: The seed of the run that readies the kernels (any seed: its results are discarded).
WARM_UP_SEED = 0


def warm_up(scenario: Scenario) -> None:
    """Load or compile the kernels the scenario's runs call, in this process: one run of it,
    discarded."""
    simulate_block(scenario, WARM_UP_SEED, 0, 1, keep_runs=False)


def kernel_modules() -> list[ModuleType]:
    """The modules that hold the model's compiled kernels."""
    from unsim.model import fastmath, habit, round_kernels, vote_kernels

    return [fastmath, round_kernels, vote_kernels, habit]


def kernels_cached() -> bool | None:
    """True when numba's cache holds the kernels for their current source, False when it does
    not (no index of any kernel, or one older than its module), None when it cannot tell.

    Only the index files' names and times are looked at (numba names them after the kernel);
    nothing is read from them."""
    try:
        found = False
        for module in kernel_modules():
            source = os.stat(str(module.__file__)).st_mtime
            for index in _index_files(module):
                if os.path.exists(index):
                    found = True
                    if os.stat(index).st_mtime < source:
                        return False
        return found
    except (AttributeError, OSError, TypeError):
        return None


def _index_files(module: ModuleType) -> list[str]:
    """The paths of the cache index of each kernel of ``module`` (numba's dispatchers)."""
    from numba.core.dispatcher import Dispatcher

    paths = []
    for value in vars(module).values():
        if isinstance(value, Dispatcher) and value.py_func.__module__ == module.__name__:
            cache = getattr(value, "_cache", None)
            index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
            if isinstance(index, str):
                paths.append(index)
    return paths
