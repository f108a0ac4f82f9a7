"""Former home of the figures, now in :mod:`unsim.results.plots` (re-exported here)."""

from unsim.results.plots import *  # noqa: F403
from unsim.results.plots import __all__  # noqa: F401
