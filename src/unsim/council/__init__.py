"""The Security Council side from its record: the situations in which an ICC referral was
sought and whether a draft was tabled (``tabling``), and the Council's votes member by member
(``cases``, ``votes``), read from ``record.yaml`` (``record``) and the real data file.

``scenario -> procedure.council (table_referral: record, votes) -> the model's sponsors and
Council members``; ``unsim backtest --council`` fits and scores the rules leave one case out.
"""
