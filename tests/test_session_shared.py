"""A session's actors acting across its drafts (``shared_actors``, unsim.session.shared)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from unsim.errors import ScenarioError
from unsim.scenario import load_scenario
from unsim.session.load import load_session
from unsim.session.run import run_session

from .test_session import IRAN, SYRIA, _session

LISTED = ["IRN", "SYR", "PRK", "MMR", "CUB", "VEN", "BLR"]
TARGET = {"iran": "IRN", "syria": "SYR"}
CHARM = {"type": "charm_offensive", "intensity": 0.3, "icc_share": 0.0}


def _shared(tmp_path: Path, shared: Any, drafts: dict[str, Any] | None = None) -> Path:
    drafts = drafts or {"iran": IRAN, "syria": SYRIA}
    return _session(tmp_path, drafts, 0.0, 0.0, shared_actors=shared)


def _allies(path: Path) -> dict[str, list[str]]:
    loaded = load_session(path)
    return {n: list(d.actors.allies.members) for n, d in loaded.drafts.items()}


def test_without_shared_actors_each_draft_is_its_file(tmp_path: Path) -> None:
    """Absent (or empty), the drafts are their files as loaded alone, and the runs identical."""
    plain = load_session(_session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.0, 0.0))
    for name, file in (("iran", IRAN), ("syria", SYRIA)):
        assert plain.drafts[name] == load_scenario(file)
    empty = load_session(_shared(tmp_path, {}))
    assert empty.drafts == plain.drafts
    a, b = run_session(plain), run_session(empty)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_listed_states_join_every_other_draft_s_coalition(tmp_path: Path) -> None:
    own = _allies(_session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.0, 0.0))
    shared = {"allies_across_drafts": {"members": LISTED, "source": "test"}}
    merged = _allies(_shared(tmp_path, shared))
    assert "IRN" not in merged["iran"] and "IRN" in merged["syria"]
    assert "SYR" not in merged["syria"] and "SYR" in merged["iran"]
    for name in merged:
        assert merged[name][: len(own[name])] == own[name]  # the draft's own come first
        assert set(merged[name]) == set(own[name]) | (set(LISTED) - {TARGET[name]})
        assert len(set(merged[name])) == len(merged[name])
    assert "MMR" not in own["iran"] and "MMR" in merged["iran"]


def test_true_takes_the_other_drafts_targets_and_allies(tmp_path: Path) -> None:
    own = _allies(_session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.0, 0.0))
    merged = _allies(_shared(tmp_path, {"allies_across_drafts": True}))
    syria_only = set(own["syria"]) - set(own["iran"]) - {"IRN"}
    assert syria_only and syria_only <= set(merged["iran"])
    assert set(own["iran"]) - {"SYR"} <= set(merged["syria"])
    assert "IRN" not in merged["iran"] and "SYR" not in merged["syria"]


def test_merging_is_the_draft_with_those_allies_set(tmp_path: Path) -> None:
    """The merged draft runs as the same draft with its allies set by ``set:``, bit for bit."""
    shared = _shared(tmp_path, {"allies_across_drafts": {"members": ["MMR", "BLR"], "source": "t"}})
    members = _allies(shared)
    given = {
        name: {"file": file, "set": {"actors.allies.members": members[name]}}
        for name, file in (("iran", IRAN), ("syria", SYRIA))
    }
    assert "MMR" in members["iran"] and "MMR" in members["syria"]
    by_hand = _session(tmp_path, given, 0.0, 0.0)
    a, b = run_session(load_session(shared)), run_session(load_session(by_hand))
    pd.testing.assert_frame_equal(a.table, b.table)


def _problems(path: Path) -> str:
    with pytest.raises(ScenarioError) as err:
        load_session(path)
    return err.value.render()


def test_a_bad_iso3_gets_a_clear_error(tmp_path: Path) -> None:
    bad = {"allies_across_drafts": {"members": ["IRN", "VNE"], "source": "test"}}
    text = _problems(_shared(tmp_path, bad))
    assert "shared_actors.allies_across_drafts.members[1]" in text
    assert "'VNE'" in text and "did you mean" in text
    assert "1 problem" in text  # not the union's other member's complaint too


def test_a_strategy_goes_to_its_draft_only(tmp_path: Path) -> None:
    shared = {"strategies": [{"draft": "iran", "from": "syria", "strategy": CHARM}]}
    loaded = load_session(_shared(tmp_path, shared))
    plain = load_session(_session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.0, 0.0))
    iran, before = loaded.drafts["iran"].actors, plain.drafts["iran"].actors
    assert iran.target.strategies[:-1] == before.target.strategies
    assert iran.target.strategies[-1].type == "charm_offensive"
    assert len(iran.target.strategies) == len(before.target.strategies) + 1
    assert loaded.drafts["syria"] == plain.drafts["syria"]
    assert iran.allies == before.allies  # allies_across_drafts is off by default
    res = run_session(loaded, runs=256)
    alone = run_session(plain, runs=256)
    assert not res.table["iran.plenary_yes"].equals(alone.table["iran.plenary_yes"])
    pd.testing.assert_series_equal(res.table["syria.plenary_yes"], alone.table["syria.plenary_yes"])


def test_bad_strategy_entries_get_clear_errors(tmp_path: Path) -> None:
    shared = {"strategies": [{"draft": "irn", "from": "syria", "strategy": CHARM}]}
    text = _problems(_shared(tmp_path, shared))
    assert "shared_actors.strategies[0].draft" in text and "did you mean 'iran'" in text
    same = {"strategies": [{"draft": "iran", "from": "iran", "strategy": CHARM}]}
    assert "shared_actors.strategies[0].from" in _problems(_shared(tmp_path, same))
    wrong = {"strategies": [{"draft": "iran", "from": "syria", "strategy": {"type": "charm"}}]}
    text = _problems(_shared(tmp_path, wrong))
    assert "drafts.iran.actors.target.strategies" in text and "charm_offensive" in text
    yaml.safe_dump(wrong)  # plain data: nothing in it runs
