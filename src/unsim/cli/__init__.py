"""The command line, on top of the rest: ``python -m unsim SCENARIO.yaml`` and its subcommands.

``main`` (in :mod:`unsim.cli.dispatch`) builds the parser from the subcommands' modules (``run``,
``commands``: validate, schema, plot; ``calibrate``: calibrate, backtest; ``sweep``,
``sensitivity``, ``discover``, ``explain``, ``explore``, ``report``) and maps every error to its
exit code. ``args`` holds the argument types and flags the subcommands share.
"""

import time

#: When the command line was imported: a command's header counts its start-up from here.
STARTED = time.perf_counter()

from unsim.cli.dispatch import build_parser, main, program  # noqa: E402

__all__ = ["STARTED", "build_parser", "main", "program"]
