"""The agent-based model: agents, decision rules and UN procedure.

Its names load on first use (as :mod:`unsim.engine`'s), so that what reads the model's
declarations alone (``unsim.model.outcomes``, ``unsim.model.procedure``: the results folder, the
report, the figures) does not load Mesa and the compiled kernels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unsim.lazy import lazy_names
from unsim.model import lightmesa

if TYPE_CHECKING:
    from unsim.model.agents import MemberState, TargetState, VetoHolder
    from unsim.model.coalitions import AllyCoalition, SponsorCoalition
    from unsim.model.inspection import inspect_run
    from unsim.model.model import UNModel
    from unsim.model.observers import Observer
    from unsim.model.rules import Vote

__all__ = [
    "AllyCoalition",
    "MemberState",
    "Observer",
    "SponsorCoalition",
    "TargetState",
    "UNModel",
    "VetoHolder",
    "Vote",
    "inspect_run",
]

_HOMES = {
    "AllyCoalition": "unsim.model.coalitions",
    "MemberState": "unsim.model.agents",
    "SponsorCoalition": "unsim.model.coalitions",
    "TargetState": "unsim.model.agents",
    "VetoHolder": "unsim.model.agents",
    "inspect_run": "unsim.model.inspection",
    "UNModel": "unsim.model.model",
    "Observer": "unsim.model.observers",
    "Vote": "unsim.model.rules",
}


__getattr__ = lazy_names(__name__, _HOMES)

# Mesa's package without the parts unsim does not use (its spaces, SciPy's spatial module,
# networkx, the batch runner...), which load on first use: see unsim.model.lightmesa.
lightmesa.install()
