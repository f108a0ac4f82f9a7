"""The agent-based model: agents, decision rules and UN procedure."""

from unsim.model.agents import (
    AllyCoalition,
    MemberState,
    SponsorCoalition,
    TargetState,
    VetoHolder,
)
from unsim.model.inspection import inspect_run
from unsim.model.model import UNModel
from unsim.model.outcomes import EVENTS, ICC_REASON, ICC_STATUS
from unsim.model.rules import Vote

__all__ = [
    "EVENTS",
    "ICC_REASON",
    "ICC_STATUS",
    "AllyCoalition",
    "MemberState",
    "SponsorCoalition",
    "TargetState",
    "UNModel",
    "VetoHolder",
    "Vote",
    "inspect_run",
]
