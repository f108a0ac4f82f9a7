"""Python's cyclic garbage collector through the program's start-up.

Importing the libraries a run needs makes about 120,000 objects the collector tracks, which
live as long as the process, and it walks all of them at each of its full collections: three
during the start-up of the default command, a twentieth of its time, finding a few dozen
objects to free in all. The program (``python -m unsim``, the ``unsim`` script:
:func:`unsim.cli.program`) pauses the collector (:func:`pause`) for its start-up, and the
command says when its start-up is over (:func:`start_up_done`: the run command after it has
read its input and loaded its libraries, any other command before it starts its work): the
objects made so far are frozen (``gc.freeze``: left out of every later collection, as the
program does when it ends) and the collector resumes. A caller of :func:`unsim.cli.main` (a
test, a notebook) is not affected: nothing is paused unless the program paused it. Results do
not depend on the collector.
"""

from __future__ import annotations

import gc

__all__ = ["pause", "paused", "start_up_done"]

_state = {"paused": False}


def pause(already: bool = False) -> None:
    """Pause the collector for the start-up (``already``: the caller has paused it, as
    ``python -m unsim`` does before it imports the command line); nothing if it is off."""
    if already or gc.isenabled():
        gc.disable()
        _state["paused"] = True


def paused() -> bool:
    """True while the collector is paused for the start-up."""
    return _state["paused"]


def start_up_done() -> None:
    """The start-up is over: freeze its objects and resume the collector, if it was paused for
    it (nothing otherwise, and the second time)."""
    if _state["paused"]:
        _state["paused"] = False
        gc.freeze()
        gc.enable()
