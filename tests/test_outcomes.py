"""The outcome registry: every outcome the summary reports comes from it, and an outcome that
cannot happen in a scenario (no ICC language, no invitation, a stage left out) is left out."""

from __future__ import annotations

from unsim.engine import OUTCOMES, run
from unsim.model.outcomes import outcomes_for
from unsim.results.text import format_summary
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO

PERMANENT = ("CHN", "FRA", "GBR", "RUS", "USA")


def test_the_registry_unpacks_as_name_label_and_run_table_column():
    names = [name for name, _label, _key in OUTCOMES]
    assert len(names) == len(set(names)) == 19
    assert all(o.dtype == "bool" and o.aggregate == "share" for o in OUTCOMES)


def test_the_default_scenario_reports_every_outcome():
    s = load_scenario(DEFAULT_SCENARIO)
    got = [o.name for o in outcomes_for(s, PERMANENT)]
    assert got == [o.name for o in OUTCOMES] + [f"veto_{c}" for c in PERMANENT]


def test_outcomes_that_cannot_happen_are_left_out_of_the_summary():
    s = load_scenario(
        DEFAULT_SCENARIO,
        overrides={
            "resolution.clauses.icc_referral": False,
            "procedure.council.referral_requires_icc_language": False,
            "actors.target.strategies": [{"type": "charm_offensive", "intensity": 0.3}],
            "resolution.stages": ["third_committee", "plenary"],
        },
    )
    names = {o.name for o in outcomes_for(s, PERMANENT)}
    assert names == {"committee_adopted", "plenary_adopted"}
    res = run(s, runs=512, seed=3, keep_runs=False)
    assert set(res.summary["outcomes"]) == names
    text = format_summary(res)
    assert "ICC language retained" not in text and "invitation offered" not in text
    assert "plenary adopts" in text
