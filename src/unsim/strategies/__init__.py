"""Response strategies of the target state. Importing this package registers the built-in ones."""

from unsim.strategies import builtin as builtin
from unsim.strategies.base import Adaptive, Schedule, Strategy, StrategyContext

__all__ = ["Adaptive", "Schedule", "Strategy", "StrategyContext", "builtin", "registered"]


def registered() -> dict[str, type[Strategy]]:
    """Strategy types known to the scenario schema, by their ``type`` name."""
    return dict(Strategy.registry)
