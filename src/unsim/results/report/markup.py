"""HTML building blocks of the report: escaping, percentages, tables, embedded figures."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable
from typing import Any

from matplotlib.figure import Figure


def esc(x: Any) -> str:
    """``x`` as HTML text."""
    return html.escape(str(x))


def percent(p: Any, digits: int = 1) -> str:
    """A share as a percentage with ``digits`` decimals, "n/a" for None or NaN."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return f"{100 * float(p):.{digits}f} %"


def figure_png(fig: Figure, alt: str) -> str:
    """``fig`` as an inline PNG ``<img>`` with ``alt`` text; the figure is cleared."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    fig.clear()
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def table(
    headers: Iterable[str], rows: Iterable[Iterable[Any]], numeric: Iterable[int] = ()
) -> str:
    """An HTML table of ``rows`` under ``headers``, the ``numeric`` columns right-aligned."""
    num = set(numeric)
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in num else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{esc(v)}</td>' if i in num else f"<td>{esc(v)}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------------------------
# the scenario in words
# --------------------------------------------------------------------------------------------
