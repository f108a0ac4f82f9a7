"""Documents for readers who do not run the model: the self-contained HTML report
(:mod:`unsim.results.report.html`: ``render_report``, ``write_report``)."""
