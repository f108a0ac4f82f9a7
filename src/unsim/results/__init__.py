"""Results of a run and what is made from them.

- ``tables``: :class:`~unsim.results.tables.Results` (the run table, the per-state table, the
  summary, the metadata), saved and loaded as a folder;
- ``summary``: each outcome's probability with its interval, the tallies against their
  thresholds, each state's probabilities and how often it was pivotal;
- ``stats``: intervals over runs (Wilson, paired differences, quantiles of histograms);
- ``runtable``: the run table streamed to Parquet while a run goes on;
- ``output``: the safety of a results folder (a user's files are never replaced);
- ``text``: the summary and a comparison as text for the terminal;
- ``plots``: the figures; ``report``: the self-contained HTML report.
"""
