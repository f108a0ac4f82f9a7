"""Why a state votes as it does: its stance in parts, and what would change its vote.

``explain(results, "IDN")`` returns an :class:`Explanation`; ``unsim explain`` prints it and
draws it; the main job saves every state's breakdown as ``explain.parquet``.

Its names load on first use, so that the main job, which needs the breakdown table alone
(``unsim.explain.breakdown``), does not load what explaining one state needs (its recorded
votes, read with the calibration's helpers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unsim.lazy import lazy_names

if TYPE_CHECKING:
    from unsim.explain.breakdown import breakdown_table, replay
    from unsim.explain.explanation import Explanation, explain
    from unsim.explain.text import format_explanation

__all__ = [
    "Explanation",
    "breakdown_table",
    "explain",
    "format_explanation",
    "replay",
]

_HOMES = {
    "Explanation": "unsim.explain.explanation",
    "breakdown_table": "unsim.explain.breakdown",
    "explain": "unsim.explain.explanation",
    "format_explanation": "unsim.explain.text",
    "replay": "unsim.explain.breakdown",
}


__getattr__ = lazy_names(__name__, _HOMES)
