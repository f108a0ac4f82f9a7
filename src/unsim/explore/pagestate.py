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
    """Set the lever ``path`` to ``value``."""
    VALUES.value = {**VALUES.value, path: value}


def set_enabled(index: int, on: bool) -> None:
    """Switch the target's strategy ``index`` on or off."""
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
    that a new address re-renders it alone (and what reads the address), not the page.

    The browser reports the address it was opened with once, when its side of the page is
    set up, which can be seconds after the page pushed its own state (its first render, a lever
    moved, a number typed): that report is not a navigation, and taking it for one would put
    every lever back to the opened address (:func:`opening_report`); the page's own address is
    pushed again instead."""
    router = solara.use_router()
    seen = solara.use_ref(cast(str | None, None))
    opened = solara.use_ref(cast(str | None, None))  # the address read first
    reported = solara.use_ref(False)  # the browser has reported an address of its own
    search = without_token(router.search)

    def sync() -> None:
        """Set the page from a new address, or push the page's state to the address."""
        if seen.current is None:  # the page opened: the address sets it
            seen.current = opened.current = search
            _read(reader, search)
            return
        if search != seen.current:  # the address changed, or the browser reported its own
            first = not reported.current
            reported.current = True
            if not opening_report(first, search, opened.current, seen.current):
                seen.current = search
                _read(reader, search)
                return
            seen.current = None  # the page's own address, pushed again below
        if query != seen.current:
            seen.current = query
            router.push(f"{router.path or '/'}?{query}")

    solara.use_effect(sync, [search, query, READS.value])


def opening_report(first: bool, search: str, opened: str | None, seen: str | None) -> bool:
    """Whether an address the page did not push is the browser's late report of the address
    the page was opened with (ignored: the page's own address is pushed again), rather than a
    navigation: the browser's first report, of the opened address, after the page pushed
    another (``seen``: what it last pushed)."""
    return first and search == opened and seen != opened


def _read(reader: Reader, search: str) -> None:
    apply(*reader.read(search))
    READS.value += 1  # the page renders what it read; its own query follows


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
