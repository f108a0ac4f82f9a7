"""Running blocks on a Dask distributed cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class DaskExecutor:
    """Runs blocks on a Dask cluster: ``DaskExecutor("tcp://scheduler:8786")`` or an existing
    ``distributed.Client``. Results come back in block order, identical to the local path."""

    def __init__(self, address: str | Any = None, **client_kwargs: Any):
        from distributed import Client

        if isinstance(address, Client):
            self.client = address
            self._own = False
        else:
            self.client = Client(address, **client_kwargs)
            self._own = True

    def worker_count(self) -> int:
        """Threads across the cluster's workers (for planning tasks)."""
        threads = self.client.nthreads()
        return max(1, sum(threads.values()) if threads else 1)

    def map_blocks(self, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterator[Any]:
        futures = self.client.map(fn, tasks, pure=False)
        for fut in futures:
            yield fut.result()

    def close(self) -> None:
        if self._own:
            self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
