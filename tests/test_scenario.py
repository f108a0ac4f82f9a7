"""The scenario format: strict validation, every problem reported, overrides, JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from unsim.cli import main
from unsim.errors import ScenarioError
from unsim.scenario import load_scenario, scenario_from_dict
from unsim.scenario.loader import apply_overrides, read_yaml

from .conftest import DEFAULT_SCENARIO, SCENARIOS

#: Draft scenarios (a session file, ``session_*.yaml``, holds several: tests/test_session.py)
ALL_SCENARIOS = sorted(p for p in SCENARIOS.glob("*.yaml") if not p.name.startswith("session_"))


@pytest.mark.parametrize("path", ALL_SCENARIOS, ids=lambda p: p.name)
def test_every_scenario_file_validates(path: Path) -> None:
    s = load_scenario(path)
    assert s.schema_version == 1
    assert len(s.world.states) == 193  # type: ignore[union-attr]


def test_default_scenario_expresses_the_2014_situation() -> None:
    s = load_scenario(DEFAULT_SCENARIO)
    assert s.resolution.target == "PRK"
    assert s.resolution.sponsors == ["EU", "JPN"]
    assert s.resolution.clauses.icc_referral is True
    types = [x.type for x in s.actors.target.strategies]
    assert {"charm_offensive", "invitation", "threats", "deception"} <= set(types)
    inv = next(x for x in s.actors.target.strategies if x.type == "invitation")
    assert inv.conditional_on_dropping_icc
    assert inv.demanded_terms["USA"] == ["transparent", "prison_camp_access"]
    assert {"CHN", "RUS"} == set(s.actors.allies.patrons)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    world = (SCENARIOS / "worlds" / "un_2014.yaml").resolve()
    p.write_text(text.replace("WORLD", str(world)))
    return p


BAD = """
schema_version: 1
kind: scenario
name: bad
world: WORLD
resolution:
  title: x
  target: PRKK
  sponsors: [EU, JPM]
  majorty: simple
  stages: [plenary, thrid_committee]
actors:
  target:
    strategies:
      - type: charm
      - type: threats
        intensty: 3
  states:
    CHNA: {support_shift: 1}
simulation: {runs: -5}
"""


def test_bad_scenario_reports_every_problem_with_path_value_allowed_and_suggestion(
    tmp_path: Path,
) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, BAD))
    err = info.value
    text = err.render()
    assert text.startswith(f"{tmp_path / 's.yaml'}: 8 problems")
    by_path = {p.path: p for p in err.problems}
    assert by_path["resolution.target"].suggestion == "PRK"
    assert by_path["resolution.target"].value == "PRKK"
    assert by_path["resolution.sponsors[1]"].suggestion == "JPN"
    assert by_path["resolution.majorty"].suggestion == "majority"
    assert "majority" in (by_path["resolution.majorty"].allowed or "")
    assert by_path["resolution.stages[1]"].suggestion == "third_committee"
    assert by_path["actors.target.strategies[0].type"].suggestion == "charm_offensive"
    assert "invitation" in (by_path["actors.target.strategies[0].type"].allowed or "")
    assert by_path["actors.target.strategies[1].intensty"].suggestion == "intensity"
    assert by_path["actors.states.CHNA"].suggestion == "CHN"
    assert by_path["simulation.runs"].value == -5
    assert "did you mean 'PRK'?" in text


def test_cli_validate_prints_problems_without_traceback_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(_write(tmp_path, BAD))])
    out = capsys.readouterr()
    assert code == 2
    assert "8 problems" in out.err
    assert "Traceback" not in out.err + out.out
    assert main(["validate", str(DEFAULT_SCENARIO)]) == 0


def test_yaml_syntax_error_is_reported_with_line(tmp_path: Path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("name: [unclosed\nworld: x\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    assert "not valid YAML at line" in info.value.render()


def test_missing_world_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    raw = read_yaml(DEFAULT_SCENARIO)
    raw["world"] = "nowhere/world.yaml"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw, base_dir=tmp_path, source="s.yaml")
    assert any(p.path == "world" and "not found" in p.message for p in info.value.problems)


def test_overrides_set_values_and_bad_paths_are_validated() -> None:
    s = load_scenario(
        DEFAULT_SCENARIO,
        overrides=["simulation.rounds.plenary=5", "actors.target.strategies[0].intensity=0.3"],
    )
    assert s.simulation.rounds.plenary == 5
    assert s.actors.target.strategies[0].intensity == 0.3  # type: ignore[union-attr]
    with pytest.raises(ScenarioError) as info:
        load_scenario(DEFAULT_SCENARIO, overrides=["simulation.rouns.plenary=5"])
    assert info.value.problems[0].suggestion == "rounds"
    with pytest.raises(ScenarioError):
        load_scenario(DEFAULT_SCENARIO, overrides=["simulation.runs=many"])


def test_another_target_needs_no_code_change(tmp_path: Path) -> None:
    """A comparable case: Iran as target, other sponsors, allies and a user-defined bloc."""
    raw = read_yaml(DEFAULT_SCENARIO)
    raw.update(name="iran_case", calibration=None)
    raw["resolution"] = {
        "title": "Situation of human rights in the Islamic Republic of Iran",
        "target": "IRN",
        "sponsors": ["CAN"],
        "cosponsors": ["EU", "USA"],
        "clauses": {"icc_referral": False},
        "stages": ["no_action_motion", "third_committee", "plenary"],
    }
    raw["procedure"] = {"no_action_motion": {"move": "always", "mover": "IRN"}}
    raw["actors"] = {
        "target": {"strategies": [{"type": "inducements", "recipients": ["like_minded"]}]},
        "allies": {"members": ["SYR", "CUB", "VEN"], "patrons": ["RUS"]},
    }
    world = read_yaml(SCENARIOS / "worlds" / "un_2014.yaml")
    world["blocs"]["like_minded"] = {"name": "user bloc", "members": ["BLR", "PRK", "MMR"]}
    raw["world"] = world
    s = scenario_from_dict(raw, base_dir=SCENARIOS)
    assert s.resolution.target == "IRN"
    from unsim.engine import run

    r = run(s, runs=200, seed=1)
    assert r.summary["tallies"]["no_action_motion"]["held"] == 200


def test_json_schema_lists_strategies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    text = json.dumps(schema)
    for name in ("charm_offensive", "invitation", "threats", "deception", "inducements"):
        assert name in text
    assert schema["additionalProperties"] is False


@settings(max_examples=10, deadline=None)
@given(
    plenary=st.integers(min_value=0, max_value=20),
    runs=st.integers(min_value=1, max_value=10**6),
)
def test_yaml_round_trip_of_resolved_scenario(plenary: int, runs: int) -> None:
    s = load_scenario(
        DEFAULT_SCENARIO,
        overrides={"simulation.rounds.plenary": plenary, "simulation.runs": runs},
    )
    dumped = yaml.safe_load(yaml.safe_dump(s.model_dump(mode="json")))
    again = scenario_from_dict(dumped)
    assert again == s


def test_apply_overrides_does_not_touch_the_input() -> None:
    raw = {"a": {"b": 1}}
    out = apply_overrides(raw, {"a.b": 2, "a.d.e": 3})
    assert raw == {"a": {"b": 1}}
    assert out == {"a": {"b": 2, "d": {"e": 3}}}


# -- a corpus of broken scenarios, each with the message it must give ------------------------------
def _default_raw() -> dict:
    raw = read_yaml(DEFAULT_SCENARIO)
    raw["world"] = str((SCENARIOS / "worlds" / "un_2014.yaml").resolve())
    raw["calibration"] = str((SCENARIOS / "calibration" / "dprk_2014.yaml").resolve())
    raw["levers"] = str((SCENARIOS / "levers" / "levers_2014.yaml").resolve())
    raw["clause_calibration"] = str((SCENARIOS / raw["clause_calibration"]).resolve())
    return raw


def _world_with(bloc_members: list[str]) -> dict:
    world = read_yaml(SCENARIOS / "worlds" / "un_2014.yaml")
    world["blocs"]["EU"]["members"] = bloc_members
    return world


CORPUS = [
    ("unknown key", {"resolution.titel": "x"}, "resolution.titel: unknown key", "'title'"),
    (
        "wrong type",
        {"simulation.rounds.plenary": "three"},
        "simulation.rounds.plenary: input should be a valid integer",
        "got 'three'",
    ),
    (
        "unknown ISO3 code",
        {"actors.allies.members[0]": "CUBA"},
        "actors.allies.members[0]: unknown state or bloc; got 'CUBA'",
        "did you mean 'CUB'?",
    ),
    (
        "a sponsor that is not a member",
        {"resolution.sponsors": ["EU", "TWN"]},
        "resolution.sponsors[1]: unknown state or bloc; got 'TWN'",
        "allowed: an ISO3 code of the world's 193 states, or one of its blocs: AU, EU,",
    ),
    (
        "a strategy of unknown type",
        {"actors.target.strategies[1].type": "invitations"},
        "actors.target.strategies[1].type: unknown strategy type; got 'invitations'",
        "did you mean 'invitation'?",
    ),
    (
        "out-of-range probability",
        {"actors.target.strategies[1].credibility": 1.5},
        "actors.target.strategies[1].credibility: input should be less than or equal to 1",
        "got 1.5",
    ),
    (
        "out-of-range absence",
        {"actors.states.FRA": {"absence": -0.1}},
        "actors.states.FRA.absence: input should be greater than or equal to 0",
        "got -0.1",
    ),
    (
        "a bloc member outside the world",
        {"world": _world_with(["FRA", "DEU", "XXK"])},
        "world: unknown ISO3 codes (not among the world's states): blocs.EU.members: XXK",
        "",
    ),
    (
        "a schedule that ends before it starts",
        {"actors.target.strategies[0].schedule": {"start": 5, "end": 2}},
        "actors.target.strategies[0].schedule: end (2) must not be before start (5)",
        "",
    ),
    (
        "the target among the sponsors",
        {"resolution.sponsors": ["EU", "PRK"]},
        "resolution.sponsors: the target cannot sponsor the draft; got 'PRK'",
        "",
    ),
]


@pytest.mark.parametrize(
    ("case", "overrides", "message", "detail"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_broken_scenario_corpus(case: str, overrides: dict, message: str, detail: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(_default_raw(), base_dir=SCENARIOS, source="s.yaml", overrides=overrides)
    text = info.value.render()
    assert message in text, text
    assert detail in text, text


# -- whatever the input, an error report and never a traceback ---------------------------------
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_structures = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_yaml_text_gives_an_error_report(tmp_path_factory, text: str) -> None:
    p = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError):
        load_scenario(p)


@settings(max_examples=150, deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from(
            ["name", "world", "resolution", "actors", "simulation", "behaviour", "procedure", "x"]
        ),
        _structures,
        max_size=6,
    )
)
def test_arbitrary_structures_give_an_error_report(data: dict) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"schema_version": 1, **data}, base_dir=SCENARIOS)
    assert info.value.problems


@settings(max_examples=40, deadline=None)
@given(
    path=st.sampled_from(
        [
            "resolution",
            "actors.target",
            "actors.target.strategies[0]",
            "simulation",
            "procedure.council",
            "actors.sponsors.bargaining",
            "behaviour",
            "world",
        ]
    ),
    value=_structures,
)
def test_arbitrary_values_at_real_keys_never_crash(path: str, value: object) -> None:
    try:
        scenario_from_dict(_default_raw(), base_dir=SCENARIOS, overrides={path: value})
    except ScenarioError as err:
        assert err.problems


def test_a_path_that_cannot_name_a_file_is_a_problem_not_a_crash():
    """Found by the structure fuzzing: a NUL byte in a file path."""
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict({"schema_version": 1, "world": "\x00"}, base_dir=SCENARIOS)
    assert any(p.path == "world" and "valid file path" in p.message for p in err.value.problems)


def test_overrides_leave_the_original_mapping_unchanged():
    """Overrides copy only what lies on their paths: the mapping they start from is untouched
    (a sweep builds every point from the same one)."""
    import copy

    from unsim.scenario.loader import apply_overrides

    raw = {
        "actors": {"target": {"strategies": [{"type": "threats", "intensity": 0.2}]}},
        "world": {"states": [{"iso3": "AAA"}]},
    }
    before = copy.deepcopy(raw)
    out = apply_overrides(
        raw,
        {"actors.target.strategies[0].intensity": 0.5, "behaviour.icc_aversion": 1.0},
    )
    assert raw == before
    assert out["actors"]["target"]["strategies"][0]["intensity"] == 0.5
    assert out["behaviour"] == {"icc_aversion": 1.0}
    assert out["world"] is raw["world"]  # untouched parts are shared, not copied
