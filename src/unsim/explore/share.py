"""The explorer's state in the address: a link that reloads the same what-if.

``?set=actors.target.strategies[0].intensity=0.6&off=3&seed=7&runs=4096`` sets a lever (as
``unsim run --set`` does: the value is read as YAML, by unsim's bounded safe reader), switches a
strategy off (by its index), and fixes the seed and the number of runs; ``pin.set`` and
``pin.off`` give a pinned variant A the same way (``pin=A`` says there is one, even with no
change), and ``state`` the state shown. The server's
access token is never part of a link made here (:func:`encode` leaves it out, and
:func:`decode` ignores it): a link can be shared; whoever opens it still needs the token.

Nothing in an address can run code: values are read by the safe YAML reader within its limits,
a path must be a lever of the page (or a state's own value), and every problem is reported
with the parameter, the value, what is allowed and a did-you-mean.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from unsim.errors import ScenarioError, did_you_mean
from unsim.explore.guard import TOKEN_PARAMETER
from unsim.limits import MAX_SEED
from unsim.scenario.overrides import parse_override
from unsim.scenario.schema import StateOverride

#: The parameters a link may carry (the token is the server's, read by its guard).
PARAMETERS = ("set", "off", "seed", "runs", "pin", "pin.set", "pin.off", "state", TOKEN_PARAMETER)
#: Bounds on what an address may hold.
MAX_QUERY = 16_000
MAX_ENTRIES = 400
#: The most runs a link may ask the page for (or the session's own, if more).
MAX_LINK_RUNS = 100_000
#: A state's own values that a link may set (``actors.states.<ISO3>.<field>``).
STATE_FIELDS = tuple(StateOverride.model_fields)


@dataclass
class PageState:
    """What a link sets: lever values by path, strategies off, seed, runs, a pinned variant
    A (its values and strategies off) and the state shown."""

    values: dict[str, Any] = field(default_factory=dict)
    disabled: frozenset[int] = frozenset()
    seed: int | None = None
    runs: int | None = None
    pinned: tuple[dict[str, Any], frozenset[int]] | None = None
    state: str | None = None


def _value_text(value: Any) -> str:
    """A value as YAML that reads back to it (JSON is YAML; a float keeps all its digits)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False)


def encode(
    values: Mapping[str, Any],
    disabled: Iterable[int],
    seed: int,
    runs: int,
    pinned: tuple[Mapping[str, Any], Iterable[int]] | None = None,
    state: str | None = None,
) -> str:
    """The query string (without ``?``) of a page state; never the token."""
    items: list[tuple[str, str]] = [
        ("set", f"{k}={_value_text(v)}") for k, v in sorted(values.items())
    ]
    items += [("off", str(i)) for i in sorted(disabled)]
    items += [("seed", str(int(seed))), ("runs", str(int(runs)))]
    if pinned is not None:
        items.append(("pin", "A"))  # a variant A pinned, even one with no change
        items += [("pin.set", f"{k}={_value_text(v)}") for k, v in sorted(pinned[0].items())]
        items += [("pin.off", str(i)) for i in sorted(pinned[1])]
    if state:
        items.append(("state", state))
    return urlencode(items, safe="[]=.,:")


class LinkError(ValueError):
    """A part of a link the page cannot use (said in words: parameter, value, what is
    allowed)."""


def _integer(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise LinkError(
            f"{name}: expected a whole number from {low:,} to {high:,}; got {text[:40]!r}"
        ) from None
    if not low <= value <= high:
        raise LinkError(f"{name}: expected a whole number from {low:,} to {high:,}; got {value:,}")
    return value


class Reader:
    """Reads a link's query against the page's levers (``paths``), the world's states
    (``codes``), its strategies (``n_strategies``) and the session's runs."""

    def __init__(
        self, paths: Iterable[str], codes: Iterable[str], n_strategies: int, session_runs: int
    ) -> None:
        self.paths = set(paths)
        self.codes = set(codes)
        self.n_strategies = n_strategies
        self.max_runs = max(MAX_LINK_RUNS, int(session_runs))

    def lever(self, name: str, text: str) -> tuple[str, Any]:
        """``path=value`` of a ``set``: a lever of the page or a state's own value."""
        if "=" not in text:
            raise LinkError(f"{name}: expected path=value, got {text[:80]!r}")
        try:
            path, value = parse_override(text)
        except ScenarioError as err:
            raise LinkError(f"{name}: {err}") from None
        if path in self.paths:
            return path, value
        parts = path.split(".")
        if len(parts) == 4 and parts[:2] == ["actors", "states"]:
            code, key = parts[2], parts[3]
            if code not in self.codes:
                hint = did_you_mean(code, sorted(self.codes))
                raise LinkError(
                    f"{name}: {path}: {code!r} is not a state of the world (an ISO3 code)"
                    + (f"; did you mean {hint!r}?" if hint else "")
                )
            if key in STATE_FIELDS:
                return path, value
            hint = did_you_mean(key, STATE_FIELDS)
            raise LinkError(
                f"{name}: {path}: a state's own values are {', '.join(STATE_FIELDS)}; got "
                f"{key!r}" + (f"; did you mean {hint!r}?" if hint else "")
            )
        hint = did_you_mean(path, sorted(self.paths))
        raise LinkError(
            f"{name}: {path!r} is not a lever of this scenario"
            + (f"; did you mean {hint!r}?" if hint else "")
            + " (the levers are the explorer's sidebar; a state's own: actors.states.ISO3.field)"
        )

    def strategy(self, name: str, text: str) -> int:
        """The index of a strategy in ``text`` (the link's ``name``), one of the scenario's."""
        if self.n_strategies == 0:
            raise LinkError(f"{name}: the scenario has no strategy to switch off; got {text!r}")
        return _integer(name, text, 0, self.n_strategies - 1)

    def read(self, query: str | None) -> tuple[PageState, list[str]]:
        """The page state a query sets, and the problems of the parts left out."""
        state, problems = PageState(), []
        query = (query or "").lstrip("?")
        if len(query) > MAX_QUERY:
            return state, [f"the address is {len(query):,} characters long; at most {MAX_QUERY:,}"]
        pairs = parse_qsl(query, keep_blank_values=True)
        if len(pairs) > MAX_ENTRIES:
            return state, [f"the address has {len(pairs):,} parameters; at most {MAX_ENTRIES}"]
        pin_values: dict[str, Any] = {}
        off: set[int] = set()
        pin_off: set[int] = set()
        pinned = False
        for name, text in pairs:
            try:
                if name in ("set", "pin.set"):
                    path, value = self.lever(name, text)
                    (pin_values if name == "pin.set" else state.values)[path] = value
                    pinned |= name == "pin.set"
                elif name in ("off", "pin.off"):
                    (pin_off if name == "pin.off" else off).add(self.strategy(name, text))
                    pinned |= name == "pin.off"
                elif name == "pin":
                    pinned = True
                elif name == "seed":
                    state.seed = _integer(name, text, 0, MAX_SEED)
                elif name == "runs":
                    state.runs = _integer(name, text, 1, self.max_runs)
                elif name == "state":
                    state.state = self.state_code(text)
                elif name != TOKEN_PARAMETER:
                    hint = did_you_mean(name, PARAMETERS[:-1])
                    raise LinkError(
                        f"{name!r}: not a parameter of the explorer's address; allowed: "
                        f"{', '.join(PARAMETERS[:-1])}"
                        + (f"; did you mean {hint!r}?" if hint else "")
                    )
            except LinkError as err:
                problems.append(str(err))
        state.disabled = frozenset(off)
        if pinned:
            state.pinned = (pin_values, frozenset(pin_off))
        return state, problems

    def state_code(self, text: str) -> str:
        """The ISO3 code in ``text``, if a state of the world has it (else an error)."""
        code = text.strip().upper()
        if code not in self.codes:
            hint = did_you_mean(code, sorted(self.codes))
            raise LinkError(
                f"state: {text[:20]!r} is not a state of the world (an ISO3 code)"
                + (f"; did you mean {hint!r}?" if hint else "")
            )
        return code
