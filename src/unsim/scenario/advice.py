"""Warnings about a valid scenario whose results could be silently wrong: ``unsim validate`` and
``unsim run`` print them (and run it all the same).

A scenario without ``calibration:`` is valid (the schema's defaults stand in for every fitted
value), but then no state's position comes from its record: the forecast rests on the defaults
alone. The warning says so and gives the command that makes a calibration.
"""

from __future__ import annotations

from unsim.scenario.schema import Scenario

__all__ = ["calibrate_command", "scenario_warnings"]


def calibrate_command(scenario: Scenario) -> str:
    """The ``unsim calibrate`` command that makes a calibration for ``scenario``: its target's
    series, cut at the scenario's date (the roll calls before it)."""
    date = scenario.date.isoformat() if scenario.date is not None else "DATE"
    return f"unsim calibrate --series {scenario.resolution.target} --before {date} --out FILE.yaml"


def scenario_warnings(scenario: Scenario) -> list[str]:
    """What may make this valid scenario's results wrong without an error, in words."""
    out = []
    if scenario.calibration is None:
        out.append(
            "no calibration: no state's position or record comes from its past roll calls "
            "(all are 0 unless actors.states sets them) and the vote model's parameters are "
            "the schema's defaults, so the forecast rests on assumptions alone. Make one with "
            f"`{calibrate_command(scenario)}` (README, "
            "Calibration) and name it in the scenario: `calibration: FILE.yaml` (relative to "
            "the scenario file)"
        )
    return out
