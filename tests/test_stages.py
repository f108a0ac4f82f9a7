"""The stages are declared once (``unsim.model.stages``): the schema's stage names come from the
declarations, no module decides anything from a stage's name, and the Human Rights Council's
stage, added by a declaration alone, votes by its own rule among its own members."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from unsim.model import UNModel
from unsim.model.rules import ABSENT, NO, tally
from unsim.model.stages import (
    BY_NAME,
    DEFAULT_STAGES,
    STAGE_NAMES,
    STAGE_PLAN,
    reported,
    stage_named,
)
from unsim.scenario import GA_STAGES, SC_STAGES, STAGES, load_scenario
from unsim.scenario.schema import Resolution, Scenario

from .conftest import SCENARIOS

SRC = Path(__file__).resolve().parents[1] / "src" / "unsim"
HRC_PATH = SCENARIOS / "hrc_path.yaml"
#: Where a stage's name may be compared with a literal: the declarations themselves.
DECLARATIONS = {SRC / "model" / "stages.py"}
#: Comparisons with a word that is also a stage's name, where it names something else.
NOT_STAGES = {
    # a kind of roll call in the UN's vote data (a separate vote on an amendment)
    "calibration/clausepairs.py": ['"amendment": int((p["kind"] == "amendment").sum()),'],
}


def test_the_schema_allows_exactly_the_declared_stages() -> None:
    assert STAGES == STAGE_NAMES == tuple(st.name for st in STAGE_PLAN)
    enum = Resolution.model_json_schema()["properties"]["stages"]["items"]["enum"]
    assert tuple(enum) == STAGE_NAMES
    assert tuple(st.name for st in STAGE_PLAN if st.body.everyone) == GA_STAGES
    assert tuple(st.name for st in STAGE_PLAN if st.body.is_council) == SC_STAGES
    # a scenario that names no stages goes through every stage but the optional ones
    assert tuple(st.name for st in STAGE_PLAN if not st.optional) == DEFAULT_STAGES
    assert "hrc" in STAGE_NAMES and "hrc" not in DEFAULT_STAGES


def _literal_comparisons(text: str) -> list[str]:
    """The lines of ``text`` that compare something with a stage name written as a literal
    (``== "plenary"``, ``"plenary" in``, ``in ("third_committee", ...)``,
    ``.startswith("sc_")``)."""
    names = "|".join(re.escape(n) for n in STAGE_NAMES)
    quoted = rf"""["'](?:{names})["']"""
    patterns = [
        rf"(?:==|!=)\s*{quoted}",
        rf"{quoted}\s*(?:==|!=)",
        rf"{quoted}\s+(?:not\s+)?in\b",
        rf"\bin\s*[\(\[\{{][^\)\]\}}]*{quoted}",
        r"""startswith\(\s*["'](?:sc_|hrc)""",
    ]
    found = re.compile("|".join(patterns))
    return [line.strip() for line in text.splitlines() if found.search(line)]


def test_the_pattern_finds_name_tests() -> None:
    """The check below finds each way a name was tested before the declarations."""
    for line in (
        'if stage == "sc_referral":',
        'if "plenary" in present:',
        'if stage in ("third_committee", "plenary"):',
        'counts = tally(v, c if stage.startswith("sc_") else None)',
        'return VoteRule(assembly=False, procedural=stage != "sc_referral")',
    ):
        assert _literal_comparisons(line), line
    assert not _literal_comparisons('if f"{stage}_held" in runs and stage_named(stage).on_draft:')
    assert not _literal_comparisons('if "sc_referral_vetoed" in runs:')  # a column, not a stage


def test_no_module_compares_a_stage_name_with_a_literal() -> None:
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        if path in DECLARATIONS:
            continue
        name = str(path.relative_to(SRC))
        lines = _literal_comparisons(path.read_text(encoding="utf-8"))
        lines = [line for line in lines if line not in NOT_STAGES.get(name, [])]
        if lines:
            offenders[name] = lines
    assert not offenders, f"ask the stage (unsim.model.stages), not its name: {offenders}"


def test_each_stage_declares_its_body_rule_and_labels() -> None:
    for st in STAGE_PLAN:
        assert BY_NAME[st.name] is st and callable(st.handler)
        assert st.label and st.short and st.words and st.inputs
        assert st.rule.assembly != st.body.is_council
    referral = stage_named("sc_referral")
    assert referral.rule.veto and not referral.rule.procedural
    assert not stage_named("sc_agenda").rule.veto
    assert stage_named("plenary").vote_rule("two_thirds").majority == "two_thirds"
    assert stage_named("third_committee").vote_rule("two_thirds").majority == "simple"
    with pytest.raises(KeyError, match="stages: hrc, no_action_motion"):
        stage_named("human_rights")


# -- the Human Rights Council -------------------------------------------------------------------
@pytest.fixture(scope="module")
def hrc_scenario() -> Scenario:
    return load_scenario(HRC_PATH)


@pytest.fixture(scope="module")
def hrc_block(hrc_scenario: Scenario) -> tuple[UNModel, dict[str, np.ndarray]]:
    model = UNModel(hrc_scenario, replicates=400, seed=11)
    return model, model.simulate()


def test_the_hrc_path_goes_through_the_council_first(hrc_scenario: Scenario) -> None:
    assert hrc_scenario.resolution.stages[0] == STAGE_NAMES[0]
    hrc = stage_named(hrc_scenario.resolution.stages[0])
    assert hrc.body.label == "Human Rights Council" and hrc.body.size == 47
    assert hrc.label == "Human Rights Council" and hrc.on_draft and hrc.optional
    assert hrc_scenario.procedure.human_rights_council.required


def test_hrc_tally_counts_only_its_members(
    hrc_block: tuple[UNModel, dict[str, np.ndarray]],
) -> None:
    model, out = hrc_block
    members = model.members("hrc")
    assert members is not None and int(members.sum()) == 47
    codes = np.asarray(model.world.codes)
    assert set(codes[members]) == set(model.world.memberships["human_rights_council"].members)
    held = out["hrc_held"]
    assert held.all()  # the first vote: held in every run
    votes = model.votes["hrc"]
    assert (votes[~members] == ABSENT).all()  # the others are recorded absent...
    total = sum(out[f"hrc_{c}"].astype(int) for c in ("yes", "no", "abstain", "absent"))
    assert (total == 47).all()  # ...and not counted
    counts = tally(votes, members)
    for k, cat in enumerate(("yes", "no", "abstain", "absent")):
        assert (counts[k] == out[f"hrc_{cat}"]).all(), cat
    # its members vote with the Assembly's kernels: some abstain, some are absent in some runs
    assert out["hrc_abstain"].sum() > 0 and out["hrc_yes"].sum() > 0


def test_hrc_adopts_by_more_yes_than_no_with_no_veto(
    hrc_block: tuple[UNModel, dict[str, np.ndarray]],
) -> None:
    model, out = hrc_block
    rule = stage_named("hrc").rule
    assert not rule.veto and rule.assembly and rule.label == "more yes than no"
    yes, no = out["hrc_yes"].astype(int), out["hrc_no"].astype(int)
    assert (out["hrc_adopted"] == (yes > no)).all()
    assert (
        rule.adopted(np.array([10, 10, 9]), np.array([9, 10, 10])) == [True, False, False]
    ).all()
    # a permanent member of the Security Council voting no does not block it
    permanent = [model.world.index[c] for c in model.world.security_council.permanent]
    permanent_no = (model.votes["hrc"][permanent] == NO).any(axis=0)
    assert (permanent_no & out["hrc_adopted"]).any()


def _with_members(scenario: Scenario, codes: list[str], required: bool) -> Scenario:
    """``scenario`` with the Human Rights Council's members replaced and its ``required``."""
    world = scenario.world
    assert not isinstance(world, str)
    body = world.memberships["human_rights_council"].model_copy(update={"members": codes})
    world = world.model_copy(update={"memberships": {"human_rights_council": body}})
    hrc = scenario.procedure.human_rights_council.model_copy(update={"required": required})
    procedure = scenario.procedure.model_copy(update={"human_rights_council": hrc})
    return scenario.model_copy(update={"world": world, "procedure": procedure})


@pytest.mark.parametrize("required", [True, False])
def test_the_draft_goes_on_only_where_the_hrc_adopts_it_when_required(
    hrc_scenario: Scenario, required: bool
) -> None:
    # a Council of five of the target's friends, five of its critics and four states that
    # abstain or vote yes: it adopts in some runs only
    codes = ["CHN", "RUS", "CUB", "VEN", "BLR", "JPN", "FRA", "GBR", "USA", "KOR"]
    codes += ["TGO", "BHR", "MAR", "SAU"]
    out = UNModel(_with_members(hrc_scenario, codes, required), 300, seed=5).simulate()
    adopted = out["hrc_adopted"]
    assert adopted.any() and not adopted.all()
    assert (out["hrc_yes"] + out["hrc_no"] + out["hrc_abstain"] + out["hrc_absent"] == 14).all()
    if required:  # the draft dies where the HRC did not adopt it
        assert not out["third_committee_held"][~adopted].any()
        assert not out["no_action_motion_held"][~adopted].any()
    else:
        assert out["third_committee_held"][~adopted].any()


def test_holding_the_hrc_changes_no_other_stage(hrc_scenario: Scenario) -> None:
    """Its vote has its own streams: where the draft goes on either way, every other stage's
    columns are those of the scenario without it, bit for bit."""
    hrc = hrc_scenario.procedure.human_rights_council.model_copy(update={"required": False})
    with_hrc = hrc_scenario.model_copy(
        update={
            "procedure": hrc_scenario.procedure.model_copy(update={"human_rights_council": hrc})
        }
    )
    stages = [s for s in hrc_scenario.resolution.stages if not stage_named(s).optional]
    without = hrc_scenario.model_copy(
        update={"resolution": hrc_scenario.resolution.model_copy(update={"stages": stages})}
    )
    a = UNModel(with_hrc, 300, seed=3).simulate()
    b = UNModel(without, 300, seed=3).simulate()
    assert "hrc_held" in a and "hrc_held" not in b
    assert [st.name for st in reported(stages)] == list(DEFAULT_STAGES)
    assert set(a) - set(b) == {
        f"hrc_{c}" for c in ("held", "yes", "no", "abstain", "absent", "adopted")
    }
    for name, values in b.items():
        np.testing.assert_array_equal(a[name], values, err_msg=name)


def test_a_world_without_the_membership_is_refused(hrc_scenario: Scenario, tmp_path: Path) -> None:
    from unsim.errors import ScenarioError
    from unsim.scenario import scenario_from_dict

    world = (SCENARIOS / "worlds" / "un_2014.yaml").read_text(encoding="utf-8")
    cut = world.index("memberships:")
    (tmp_path / "worlds").mkdir()
    (tmp_path / "worlds" / "un_2014.yaml").write_text(world[:cut], encoding="utf-8")
    raw = {
        "schema_version": 1,
        "kind": "scenario",
        "name": "hrc_no_members",
        "world": "worlds/un_2014.yaml",
        "resolution": {
            "title": "t",
            "target": "PRK",
            "sponsors": ["JPN"],
            "stages": ["hrc", "third_committee"],
        },
    }
    with pytest.raises(ScenarioError, match="human_rights_council"):
        scenario_from_dict(raw, base_dir=tmp_path)
