"""``python -m unsim``: the command line (``unsim.cli``) as a program."""

import gc

gc.disable()  # for the start-up, from here: see unsim.cli.collector

from unsim.cli import program  # noqa: E402

raise SystemExit(program(collector_paused=True))
