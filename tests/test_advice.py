"""Messages that stop a silently wrong answer: a scenario without a calibration runs with a
warning that gives the command making one; a missing calibration file says how to make it; an
unknown bloc lists the world's blocs and how to declare a new one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from unsim.errors import ScenarioError
from unsim.scenario import scenario_from_dict
from unsim.scenario.advice import scenario_warnings
from unsim.scenario.loader import read_yaml

from .conftest import DEFAULT_SCENARIO, ROOT, SCENARIOS

CALIBRATE = "unsim calibrate --series PRK --before 2014-11-18 --out"
BLOCS = "one of its blocs: AU, EU, G77, ICC_PARTIES, NAM, OIC (world 'un_2014')"


def _raw(calibration: bool = True) -> dict:
    raw = read_yaml(DEFAULT_SCENARIO)
    raw["world"] = str((SCENARIOS / "worlds" / "un_2014.yaml").resolve())
    raw["levers"] = str((SCENARIOS / raw["levers"]).resolve())  # the copy lives elsewhere
    raw["clause_calibration"] = str((SCENARIOS / raw["clause_calibration"]).resolve())
    if calibration:
        raw["calibration"] = str((SCENARIOS / "calibration" / "dprk_2014.yaml").resolve())
    else:
        del raw["calibration"]
    return raw


def _unsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "unsim", *args], capture_output=True, text=True, cwd=ROOT
    )


def _problems(**overrides: object) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(_raw(), base_dir=SCENARIOS, source="s.yaml", overrides=overrides)
    return info.value.render()


def test_a_scenario_without_calibration_validates_and_runs_with_a_warning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "uncalibrated.yaml"
    path.write_text(yaml.safe_dump(_raw(calibration=False)))
    check = _unsim("validate", str(path))
    assert check.returncode == 0, check.stderr
    assert f"{path}: ok" in check.stdout
    assert f"warning: {path}: no calibration:" in check.stderr
    assert f"`{CALIBRATE} FILE.yaml`" in check.stderr
    quick = ["--no-plots", "--no-attribution", "--no-explain", "--quiet"]
    out = tmp_path / "r"
    run = _unsim(str(path), "--runs", "100", "--out", str(out), *quick)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(out)
    # said even with --quiet: it is why the numbers may mislead
    assert run.stderr.startswith(f"warning: {path}: no calibration:")
    assert CALIBRATE in run.stderr


def test_a_calibrated_scenario_has_no_warning() -> None:
    assert scenario_warnings(scenario_from_dict(_raw(), base_dir=SCENARIOS)) == []


def test_a_missing_calibration_file_says_how_to_make_it() -> None:
    text = _problems(calibration="calibration/not_made_yet.yaml")  # from the scenario's folder
    assert "calibration: calibration file not found; got 'calibration/not_made_yet.yaml'" in text
    where = (SCENARIOS / "calibration" / "not_made_yet.yaml").resolve()
    assert f"make it with `{CALIBRATE} {where}`" in text
    assert "leave `calibration:` out" in text


def test_an_unknown_bloc_lists_the_blocs_and_how_to_declare_one() -> None:
    text = _problems(**{"resolution.sponsors": ["ASEAN", "JPN"]})
    assert "resolution.sponsors[0]: unknown state or bloc; got 'ASEAN'" in text
    assert BLOCS in text
    assert "under `blocs:`" in text and "world file" in text
    assert "did you mean" not in text  # nothing is close to ASEAN (not 'SEN')
    close = _problems(**{"resolution.sponsors": ["EUU", "JPN"]})
    assert "did you mean 'EU'?" in close
    code = _problems(**{"actors.allies.members[0]": "CUBA"})
    assert "did you mean 'CUB'?" in code  # a mistyped code still finds the state


def test_an_unknown_bloc_in_behaviour_lists_the_blocs_too() -> None:
    text = _problems(**{"behaviour.bloc_effects": {"ASEAN": 1.0}})
    assert "behaviour.bloc_effects.ASEAN: unknown bloc; got 'ASEAN'" in text
    assert "AU, EU, G77, ICC_PARTIES, NAM, OIC" in text
    assert "under `blocs:`" in text and "did you mean" not in text
