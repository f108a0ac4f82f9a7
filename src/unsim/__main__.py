"""``python -m unsim``: the command line (``unsim.cli``) as a program."""

from unsim.cli import program

raise SystemExit(program())
