"""The episodes file: it validates, every episode is a recorded vote of its series in the data
before its cut, and a wrong file is refused with the key path and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from unsim.calibration.episodes import (
    DEFAULT_EPISODES,
    LEVERS,
    EpisodesFile,
    check_against_data,
    lever_matrix,
    load_episodes,
)
from unsim.data import (
    MEMBERS_FILE,
    ROLL_CALLS_FILE,
    VOTES_FILE,
    load_members,
    load_roll_calls,
    load_votes,
)
from unsim.errors import ScenarioError

CUT = "2014-11-18"


def test_the_shipped_episodes_validate_and_hold_changes_and_controls() -> None:
    f = load_episodes()
    assert len(f.episodes) >= 30
    changed = [e for e in f.episodes if e.changed]
    controls = [e for e in f.episodes if not e.changed]
    assert len(changed) >= 10 and len(controls) >= 10
    m = lever_matrix(f.episodes)
    assert list(m.columns) == list(LEVERS)
    assert (m.abs().sum(axis=1) > 0).sum() == len(changed)
    # every indicator rests on a fact whose sources are dated no later than the vote
    for e in changed:
        assert {fact.lever for fact in e.facts} == set(e.levers)
        for fact in e.facts:
            assert all(s.date <= e.vote.date for s in fact.sources)
            assert all(s.symbol or s.url for s in fact.sources)


def test_the_package_ships_the_episodes_file() -> None:
    assert DEFAULT_EPISODES.is_file()
    assert DEFAULT_EPISODES.parent.name == "calibration"


@pytest.mark.data
def test_every_episode_is_a_recorded_vote_of_its_series_before_the_cut(data_dir: Path) -> None:
    rc = load_roll_calls(data_dir / ROLL_CALLS_FILE)
    votes = load_votes(data_dir / VOTES_FILE)
    members = load_members(data_dir / MEMBERS_FILE)
    f = load_episodes()
    assert check_against_data(f, rc, votes, members, before=CUT) == []
    rcids = [e.vote.rcid for e in f.episodes]
    assert len(set(rcids)) == len(rcids)
    # a wrong record id, date or previous vote is found, with what the data hold
    raw = yaml.safe_load(DEFAULT_EPISODES.read_text("utf-8"))
    first = raw["episodes"][0]
    first["vote"]["date"] = "1993-12-03"
    raw["episodes"][1]["previous"]["rcid"] = 1
    raw["episodes"][2]["vote"]["rcid"] = 1
    bad = EpisodesFile.model_validate(raw)
    problems = check_against_data(bad, rc, votes, members, before=CUT)
    text = [p.render() for p in problems]
    assert any("vote.date: differs from the roll call's" in t and "1993-12-02" in t for t in text)
    assert any(".previous: is not the series' vote just before" in t for t in text)
    assert any("vote.rcid: not a recorded plenary vote" in t for t in text)
    late = check_against_data(f, rc, votes, members, before="2005-01-01")
    assert late and all("not before the cut 2005-01-01" in p.render() for p in late)


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "episodes.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_a_bad_episodes_file_is_refused_with_its_key_paths(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_EPISODES.read_text("utf-8"))
    changed = next(i for i, e in enumerate(raw["episodes"]) if e.get("levers"))
    raw["episodes"][changed]["levers"] = {"rapporteur_acess": 1}
    raw["episodes"][1]["id"] = raw["episodes"][0]["id"]
    with pytest.raises(ScenarioError) as err:
        load_episodes(_write(tmp_path, raw))
    text = str(err.value)
    assert "did you mean 'rapporteur_access'" in text
    assert f"episodes.{changed}.levers" in text or f"episodes[{changed}].levers" in text


def test_an_indicator_needs_a_fact_and_sources_before_the_vote(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_EPISODES.read_text("utf-8"))
    control = next(i for i, e in enumerate(raw["episodes"]) if not e.get("levers"))
    raw["episodes"][control]["levers"] = {"reform": 1}
    with pytest.raises(ScenarioError, match="reform have no fact with a source"):
        load_episodes(_write(tmp_path, raw))
    raw = yaml.safe_load(DEFAULT_EPISODES.read_text("utf-8"))
    changed = next(i for i, e in enumerate(raw["episodes"]) if e.get("levers"))
    vote_date = raw["episodes"][changed]["vote"]["date"]
    raw["episodes"][changed]["facts"][0]["sources"][0]["date"] = vote_date.replace(
        year=vote_date.year + 1
    )
    with pytest.raises(ScenarioError, match="dated after the vote"):
        load_episodes(_write(tmp_path, raw))
    raw = yaml.safe_load(DEFAULT_EPISODES.read_text("utf-8"))
    raw["episodes"][changed]["levers"] = {next(iter(raw["episodes"][changed]["levers"])): 3}
    with pytest.raises(ScenarioError, match=r"outside \[-2, 2\]"):
        load_episodes(_write(tmp_path, raw))


def test_a_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load_episodes(tmp_path / "none.yaml")
