"""Documents for readers who do not run the model: the self-contained HTML report."""

from unsim.reporting.html import render_report, write_report

__all__ = ["render_report", "write_report"]
