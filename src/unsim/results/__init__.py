"""Results of a run and what is made from them: tables, statistics, summaries, figures."""
