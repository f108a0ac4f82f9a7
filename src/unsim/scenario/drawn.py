"""Which numbers of a scenario are given as distributions (its *levers drawn per run*), each
with the path where the scenario gives it and the name of its random stream: ``lever:`` and
the path, with a strategy's entry named by its key (its label, else its type: see
``strategies.instance_keys``), as the strategies' own streams are; a distribution with a
``shared`` name draws from the stream ``lever-shared:`` and that name, with every other one
sharing it. The model draws them
(:mod:`unsim.model.levers`); the attribution, the report and ``unsim validate`` list them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unsim.scenario.schema import Scenario
from unsim.strategies import instance_keys
from unsim.uncertainty import Uncertain, uncertain_items

__all__ = ["STRATEGIES", "Lever", "column_name", "scenario_levers"]

#: The strategies' paths, in the scenario and in the streams' names.
STRATEGIES = "actors.target.strategies"


@dataclass(frozen=True)
class Lever:
    """A number of the scenario given as a distribution."""

    path: str  #: where the scenario gives it (``actors.target.strategies[0].intensity``)
    stream: str  #: its random stream (a strategy named by its key, not its position)
    value: Uncertain

    @property
    def column(self) -> str:
        """Its column in the run table (``lever:<path>``)."""
        return column_name(self.path)


def column_name(path: str) -> str:
    """The run table's column of the draws of the lever at ``path``."""
    return f"lever:{path}"


def scenario_levers(scenario: Scenario) -> tuple[Lever, ...]:
    """Every distribution of ``scenario``, in the order of the file's sections."""
    out: list[Lever] = []
    strategies = list(scenario.actors.target.strategies)
    for i, (entry, key) in enumerate(zip(strategies, instance_keys(strategies), strict=True)):
        for sub, value in uncertain_items(entry):
            path = f"{STRATEGIES}[{i}].{sub}"
            out.append(Lever(path, _stream(value, f"lever:{STRATEGIES}[{key}].{sub}"), value))
    roots: list[tuple[str, Any]] = [
        ("actors.sponsors", scenario.actors.sponsors),
        ("actors.allies", scenario.actors.allies),
        *((f"actors.states.{c}", o) for c, o in scenario.actors.states.items()),
        ("behaviour", scenario.behaviour),
        ("procedure.council", scenario.procedure.council),
    ]
    for root, node in roots:
        out += [Lever(p, _stream(v, f"lever:{p}"), v) for p, v in uncertain_items(node, root)]
    return tuple(out)


def _stream(value: Uncertain, own: str) -> str:
    """The lever's stream: its own, or the one of its ``shared`` name (one uniform per run for
    every distribution sharing it)."""
    shared = value.dist.shared
    return own if shared is None else f"lever-shared:{shared}"
