"""The what-if explorer (``unsim explore``): a local web app over a scenario, built with Solara.

:mod:`unsim.explore.controls` (controls from the schema) and :mod:`unsim.explore.session` (runs
on common random numbers) work without Solara; :mod:`unsim.explore.app` is the page and needs
the ``explore`` extra (``pip install 'unsim-diplomacy[explore]'``).
"""

#: The scenario the explorer opens without one, and its runs per change (two blocks of the
#: default size: one model, reset for the second). Here, so that the command line can name them
#: without importing the engine.
DEFAULT_SCENARIO = "scenarios/icc_referral.yaml"
DEFAULT_RUNS = 4096
