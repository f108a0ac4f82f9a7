"""Why a state votes as it does: its stance in parts, and what would change its vote.

``explain(results, "IDN")`` returns an :class:`Explanation`; ``unsim explain`` prints it and
draws it; the main job saves every state's breakdown as ``explain.parquet``.
"""

from unsim.explain.breakdown import breakdown_table, compute_table, replay
from unsim.explain.explanation import Explanation, explain
from unsim.explain.text import format_explanation

__all__ = [
    "Explanation",
    "breakdown_table",
    "compute_table",
    "explain",
    "format_explanation",
    "replay",
]
