"""The what-if explorer (``unsim explore``): a local web app over a scenario, built with Solara.

:mod:`unsim.explore.controls` (controls from the schema) and :mod:`unsim.explore.session` (runs
on common random numbers) work without Solara; :mod:`unsim.explore.app` is the page and needs
the ``explore`` extra (``pip install 'unsim-diplomacy[explore]'``).
"""
