"""Running tasks (blocks of runs, sweep points) on a Dask distributed cluster."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from unsim.engine.executors import in_order
from unsim.errors import ClusterError, InputError, one_line
from unsim.limits import DASK_TIMEOUT as DEFAULT_TIMEOUT

_ADDRESS = re.compile(
    r"^(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)"
    r":(?P<port>\d{1,5})/?$"
)


def check_address(address: str) -> str:
    """``address`` if it names a scheduler as ``[tcp://]HOST:PORT``; :class:`InputError` if not.

    Checked before Dask sees it: Dask reads some malformed addresses as other things (a local
    cluster, a file, a huge number of bytes to allocate)."""
    m = _ADDRESS.match(address.strip()) if len(address) <= 300 else None
    if m is None or not 1 <= int(m.group("port")) <= 65535:
        shown = address if len(address) <= 60 else address[:57] + "..."
        raise InputError(
            f"--dask {shown!r}: expected a scheduler address such as tcp://127.0.0.1:8786 "
            "(scheme tcp, tls, ws, wss or ucx; host; port 1-65535)"
        )
    return address.strip()


class DaskExecutor:
    """Runs tasks on a Dask cluster: ``DaskExecutor("tcp://scheduler:8786")`` or an existing
    ``distributed.Client`` (a :class:`unsim.engine.executors.TaskExecutor`). Results come back
    in the order of the tasks, identical to the local path; at most ``window`` tasks are on the
    cluster at a time.

    A scheduler that cannot be reached within ``timeout`` seconds raises :class:`ClusterError`."""

    inline = False

    def __init__(
        self,
        address: str | Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        window: int = 256,
        **client_kwargs: Any,
    ):
        from distributed import Client

        self.address = address
        self.window = window
        if isinstance(address, Client):
            self.client = address
            self._own = False
            return
        if isinstance(address, str):
            address = check_address(address)
        try:
            self.client = Client(address, timeout=timeout, **client_kwargs)
        except Exception as exc:  # OSError, TimeoutError, Dask's own: all mean "not reachable"
            raise ClusterError(
                f"cannot connect to the Dask scheduler at {address} within {timeout:g} s "
                f"({one_line(exc)}); is it running? (--dask-timeout sets the wait)"
            ) from None
        self._own = True

    @property
    def workers(self) -> int:
        """Threads across the cluster's workers (for cutting work into tasks)."""
        try:
            threads = self.client.nthreads()
        except Exception as exc:
            raise ClusterError(f"the Dask cluster stopped answering ({one_line(exc)})") from None
        return max(1, sum(threads.values()) if threads else 1)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn(item)`` of every item on the cluster, in the order of ``items``."""
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        def submit(item: Any) -> Any:
            """Send one item to the cluster; its future."""
            return self.client.submit(fn, item, pure=False)

        try:
            yield from in_order(submit, items, window=self.window)
        except (OSError, TimeoutError, FutureCancelledError, KilledWorker) as exc:
            raise ClusterError(f"the Dask cluster failed while running ({one_line(exc)})") from None

    def close(self) -> None:
        """Close the client if this executor made it (a caller's client is left open)."""
        if self._own:
            # closing a client whose scheduler is gone: nothing left to do
            with contextlib.suppress(Exception):
                self.client.close(timeout=DEFAULT_TIMEOUT)

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
