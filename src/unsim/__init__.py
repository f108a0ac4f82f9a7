"""unsim: Monte Carlo agent-based simulation of UN votes and the diplomacy around them.

from unsim import load_scenario, run
results = run(load_scenario("scenarios/icc_referral.yaml"), runs=10_000, seed=1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unsim._version import __version__
from unsim.lazy import lazy_names

if TYPE_CHECKING:
    from unsim.engine import DaskExecutor, Results, data_only, run
    from unsim.explain import Explanation, explain
    from unsim.scenario import load_scenario, scenario_from_dict
    from unsim.studies.evaluator import Evaluator, Sensitivity, SweepDesign

__all__ = [
    "DaskExecutor",
    "Evaluator",
    "Explanation",
    "Results",
    "Sensitivity",
    "SweepDesign",
    "__version__",
    "data_only",
    "explain",
    "load_scenario",
    "run",
    "scenario_from_dict",
]

#: Public names and the modules they come from, imported on first use: importing the package
#: alone stays light (a local worker process imports it first thing, see unsim.worker_start).
_LAZY = {
    "DaskExecutor": "unsim.engine",
    "Results": "unsim.engine",
    "Explanation": "unsim.explain",
    "explain": "unsim.explain",
    "run": "unsim.engine",
    "data_only": "unsim.engine",
    "load_scenario": "unsim.scenario",
    "scenario_from_dict": "unsim.scenario",
    "Evaluator": "unsim.studies.evaluator",
    "Sensitivity": "unsim.studies.evaluator",
    "SweepDesign": "unsim.studies.evaluator",
}


__getattr__ = lazy_names(__name__, _LAZY)
