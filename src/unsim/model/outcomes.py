"""What a run reports: the ICC language's fate, the events of the target's strategies, and the
registry of outcomes the run table, the summary and the command line are derived from."""

from __future__ import annotations

ICC_STATUS = ("retained", "softened", "dropped")
ICC_REASON = ("none", "bargain", "support_short", "amendment")
#: Events every run reports (strategies may add their own).
EVENTS = (
    "charm_offensive",
    "invitation_offered",
    "invitation_accepted",
    "invitation_withdrawn",
    "visit_held",
    "threats_made",
    "cooperation_halted",
    "deception_exposed",
    "inducements",
)
