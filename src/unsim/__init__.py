"""unsim: Monte Carlo agent-based simulation of UN votes and the diplomacy around them.

from unsim import load_scenario, run
results = run(load_scenario("scenarios/icc_referral.yaml"), runs=10_000, seed=1)
"""

from unsim._version import __version__
from unsim.engine import DaskExecutor, Results, run
from unsim.scenario import load_scenario, scenario_from_dict

__all__ = ["DaskExecutor", "Results", "__version__", "load_scenario", "run", "scenario_from_dict"]


def __getattr__(name: str) -> object:
    if name == "sweep":  # imported on first use: it pulls in SALib
        from unsim.sweeps import sweep

        return sweep
    raise AttributeError(name)
