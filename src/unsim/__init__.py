"""unsim: Monte Carlo agent-based simulation of UN votes and the diplomacy around them."""

from unsim._version import __version__

__all__ = ["__version__"]
