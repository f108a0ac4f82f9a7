"""Bounds and defaults shared by the command line, the scenario format and the engine. No
imports: the command line reads them while it builds its help, which must stay light."""

#: Most runs of one scenario (``simulation.runs``, ``--runs``).
MAX_RUNS = 100_000_000
#: Largest master seed (64 bits).
MAX_SEED = 2**64 - 1
#: Seconds to wait for a Dask scheduler before giving up (``--dask-timeout``).
DASK_TIMEOUT = 5.0
#: Seconds the run command waits for its figures drawn alongside (``unsim.cli.figures``) once it
#: has nothing else to do; a copy still drawing then is stopped and the command draws them.
FIGURES_ALONGSIDE_TIMEOUT = 60.0
