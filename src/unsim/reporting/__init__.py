"""Documents for readers who do not run the model: the self-contained HTML report
(:mod:`unsim.reporting.html`: ``render_report``, ``write_report``)."""
