"""Response strategies of the target state: the plug-in interface, its registry and the built-in
strategies (registered when this package is imported)."""

from unsim.strategies import builtin as builtin
from unsim.strategies.base import Adaptive, Schedule, Strategy, instance_keys
from unsim.strategies.context import (
    BoundStrategy,
    ReadOnlyArray,
    ReadOnlyError,
    StrategyContext,
    bind,
)
from unsim.strategies.outcomes import Outcome
from unsim.strategies.registry import (
    ENTRY_POINT_GROUP,
    StrategyEntry,
    load_entry_points,
    register,
    registered,
    unregister,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adaptive",
    "BoundStrategy",
    "Outcome",
    "ReadOnlyArray",
    "ReadOnlyError",
    "Schedule",
    "Strategy",
    "StrategyContext",
    "StrategyEntry",
    "bind",
    "builtin",
    "instance_keys",
    "load_entry_points",
    "register",
    "registered",
    "unregister",
]
