"""What one browser page of the explorer holds (Solara keeps a reactive variable per page), and
its address: the page's state is written into the address as it changes, without the token
(:mod:`unsim.explore.share`), and read back from it when a link is opened or the browser goes
back or forward."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

import solara

from unsim.explore.guard import TOKEN_PARAMETER
from unsim.explore.share import PageState, Reader, encode

#: The levers set (path -> value), strategies switched off, seed and runs (None: the
#: session's), the pinned variant A (its values and strategies off), the state shown, the state
#: whose own levers are open, and what the address held that the page could not use.
VALUES: solara.Reactive[dict[str, Any]] = solara.reactive(cast(dict[str, Any], {}))
DISABLED: solara.Reactive[frozenset[int]] = solara.reactive(frozenset())
SEED: solara.Reactive[int | None] = solara.reactive(cast(int | None, None))
RUNS: solara.Reactive[int | None] = solara.reactive(cast(int | None, None))
PINNED: solara.Reactive[tuple[dict[str, Any], frozenset[int]] | None] = solara.reactive(
    cast(tuple[dict[str, Any], frozenset[int]] | None, None)
)
STATE: solara.Reactive[str] = solara.reactive("")
LEVER_STATE: solara.Reactive[str] = solara.reactive("")
LINK_PROBLEMS: solara.Reactive[list[str]] = solara.reactive(cast(list[str], []))
#: How many addresses the page has read (it renders again after each).
READS: solara.Reactive[int] = solara.reactive(0)


def set_value(path: str, value: Any) -> None:
    VALUES.value = {**VALUES.value, path: value}


def set_enabled(index: int, on: bool) -> None:
    disabled = DISABLED.value
    DISABLED.value = disabled - {index} if on else disabled | {index}


def reset() -> None:
    """Back to the scenario as written (the seed, runs and a pinned variant stay)."""
    VALUES.set({})
    DISABLED.set(frozenset())


def without_token(search: str | None) -> str:
    """A query string with the server's token taken out."""
    pairs = parse_qsl((search or "").lstrip("?"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k != TOKEN_PARAMETER], safe="[]=.,:")


def apply(state: PageState, problems: list[str]) -> None:
    """Set the page to what a link says."""
    VALUES.set(dict(state.values))
    DISABLED.set(state.disabled)
    SEED.set(state.seed)
    RUNS.set(state.runs)
    PINNED.set(state.pinned)
    if state.state:
        STATE.set(state.state)
    LINK_PROBLEMS.set(problems)


@solara.component
def AddressSync(reader: Reader, query: str) -> None:
    """Keep the address and the page in step: a new address (a link opened, the browser's
    back or forward) sets the page; a change of the page (``query``, from :func:`share_query`)
    is pushed to the address. The token is never written into it. A component of its own, so
    that a new address re-renders it alone (and what reads the address), not the page."""
    router = solara.use_router()
    seen = solara.use_ref(cast(str | None, None))
    search = without_token(router.search)

    def sync() -> None:
        if seen.current is None or search != seen.current:  # the address changed
            seen.current = search
            apply(*reader.read(search))
            READS.value += 1  # the page renders what it read; its own query follows
            return
        if query != seen.current:
            seen.current = query
            router.push(f"{router.path or '/'}?{query}")

    solara.use_effect(sync, [search, query, READS.value])


def share_query(
    values: dict[str, Any],
    disabled: frozenset[int],
    seed: int,
    runs: int,
    pinned: tuple[dict[str, Any], frozenset[int]] | None,
    state: str,
) -> str:
    """The page's state as the query of a link (:func:`unsim.explore.share.encode`)."""
    return encode(values, disabled, seed, runs, pinned, state or None)
