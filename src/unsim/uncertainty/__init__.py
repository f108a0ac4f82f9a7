"""Uncertain levers: the distributions a scenario may give instead of a number, and the models
whose numbers may be given so (:class:`Levered`), holding :class:`Uncertain` values."""

from unsim.uncertainty.distributions import DISTRIBUTIONS, Distribution
from unsim.uncertainty.levered import Levered, LeverRef, uncertain_items
from unsim.uncertainty.values import Uncertain

__all__ = ["DISTRIBUTIONS", "Distribution", "LeverRef", "Levered", "Uncertain", "uncertain_items"]
