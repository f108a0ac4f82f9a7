"""Scenario files: schema and loading."""

from unsim.scenario.loader import apply_overrides, load_scenario, load_world, scenario_from_dict
from unsim.scenario.schema import GA_STAGES, SC_STAGES, STAGES, Calibration, Scenario, World

__all__ = [
    "GA_STAGES",
    "SC_STAGES",
    "STAGES",
    "Calibration",
    "Scenario",
    "World",
    "apply_overrides",
    "load_scenario",
    "load_world",
    "scenario_from_dict",
]
