"""The agent-based model: agents, decision rules and UN procedure."""

from unsim.model.model import (
    EVENTS,
    ICC_REASON,
    ICC_STATUS,
    AllyCoalition,
    MemberState,
    SponsorCoalition,
    TargetState,
    UNModel,
    VetoHolder,
    inspect_run,
)
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
