"""Sessions: several drafts voted in one session, run together on common random numbers with
what links them (``unsim.session.linkage``), and their joint outcomes (``unsim.session.joint``).
"""
