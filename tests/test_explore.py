"""The explorer's model side: controls generated from the schema, what-ifs on common random
numbers, the edited scenario saved as YAML that validates. (The page itself: see
test_explore_browser.py.)"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import Field

from unsim import load_scenario, run
from unsim.cli import main
from unsim.errors import OutputError, ScenarioError
from unsim.explore.controls import all_controls, build_controls
from unsim.explore.session import Session, WhatIf, edited_raw, save_target
from unsim.scenario.labels import is_code_path
from unsim.scenario.schema import Bargaining, Behaviour

from .conftest import DEFAULT_SCENARIO

RUNS = 512


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def session() -> Session:
    return Session(DEFAULT_SCENARIO, runs=RUNS, seed=3)


def test_controls_cover_the_main_levers(scenario) -> None:  # type: ignore[no-untyped-def]
    controls = {c.path: c for c in all_controls(build_controls(scenario))}
    for i in range(4):  # each strategy: on/off, intensity, schedule
        assert controls[f"actors.target.strategies[{i}]"].kind == "enabled"
        assert f"actors.target.strategies[{i}].schedule.start" in controls
        assert f"actors.target.strategies[{i}].schedule.end" in controls
    assert "actors.target.strategies[0].intensity" in controls
    bar = controls["actors.sponsors.bargaining.accept_offer_min_credibility"]
    assert (bar.kind, bar.min, bar.max, bar.value) == ("float", 0.0, 1.01, 0.7)
    assert controls["behaviour.icc_aversion"].value == 2.0  # the ICC language's cost
    assert controls["actors.allies.tie"].max == 10
    assert controls["actors.allies.patrons"].kind == "states"
    assert controls["actors.allies.patrons"].value == ["CHN", "RUS"]
    # calibrated behaviour parameters are the calibration's, not levers of the scenario
    assert "behaviour.intercept" not in controls
    for c in controls.values():
        assert c.label and not is_code_path(c.label), c.path
        if c.kind in ("float", "int"):
            assert c.min is not None and c.max is not None and c.min < c.max, c.path
            assert c.value is None or c.min <= c.value <= c.max, c.path


def test_a_new_numeric_field_appears_with_no_app_change(scenario) -> None:  # type: ignore[no-untyped-def]
    """A field added to the schema becomes a control, its bounds and help from the field."""

    class BargainingWithPatience(Bargaining):
        patience: float = Field(
            3.0, ge=0.5, le=12, description="rounds the sponsors wait before giving way"
        )

    class BehaviourWithMemory(Behaviour):
        memory_rounds: int = Field(4, ge=1, le=20, description="rounds a state remembers")

    sponsors = scenario.actors.sponsors.model_copy(
        update={
            "bargaining": BargainingWithPatience(**scenario.actors.sponsors.bargaining.model_dump())
        }
    )
    extended = scenario.model_copy(
        update={
            "actors": scenario.actors.model_copy(update={"sponsors": sponsors}),
            "behaviour": BehaviourWithMemory(**scenario.behaviour.model_dump()),
        }
    )
    before = {c.path for c in all_controls(build_controls(scenario))}
    controls = {c.path: c for c in all_controls(build_controls(extended))}
    assert set(controls) - before == {
        "actors.sponsors.bargaining.patience",
        "behaviour.memory_rounds",
    }
    patience = controls["actors.sponsors.bargaining.patience"]
    assert (patience.kind, patience.min, patience.max, patience.value) == ("float", 0.5, 12.0, 3.0)
    assert patience.help == "rounds the sponsors wait before giving way"
    assert patience.label == "sponsors' bargaining: patience"
    memory = controls["behaviour.memory_rounds"]
    assert (memory.kind, memory.min, memory.max, memory.step) == ("int", 1, 20, 1)


def test_a_what_if_is_the_librarys_run_on_the_same_seed(session: Session) -> None:
    path = "actors.target.strategies[0].intensity"
    what_if = WhatIf.of({path: 1.2}, disabled={3})
    shown = session.results(what_if)
    raw = edited_raw(session.raw, what_if)
    assert len(raw["actors"]["target"]["strategies"]) == 3  # deception switched off
    assert len(session.raw["actors"]["target"]["strategies"]) == 4  # the scenario unchanged
    expected = run(
        load_scenario(
            DEFAULT_SCENARIO,
            overrides={
                path: 1.2,
                "actors.target.strategies": raw["actors"]["target"]["strategies"],
            },
        ),
        runs=RUNS,
        seed=3,
        workers=1,
    )
    assert shown.summary["outcomes"] == expected.summary["outcomes"]
    assert session.results(what_if) is shown  # cached
    outcomes = {o.name: o for o in session.outcomes(shown)}
    o = outcomes["committee_adopted"]
    assert o.p_baseline == session.baseline.outcome("committee_adopted")["p"]
    assert o.diff == pytest.approx(o.p - o.p_baseline)
    assert o.diff_low <= o.diff <= o.diff_high
    assert outcomes["deception_exposed"].p == 0.0  # switched off: never exposed
    assert outcomes["veto_CHN"].label == "China vetoes"


def test_state_detail(session: Session) -> None:
    detail = session.state_detail(session.baseline, "FRA").set_index("stage")
    assert {"third_committee", "plenary", "sc_agenda", "sc_referral"} <= set(detail.index)
    row = detail.loc["plenary"]
    total = row["yes"] + row["no"] + row["abstain"] + row["absent"]
    assert total == pytest.approx(1.0)
    for cat in ("yes", "no", "abstain", "absent", "pivotal"):
        assert row[f"{cat}_low"] <= row[cat] <= row[f"{cat}_high"]


def test_an_invalid_what_if_is_refused_with_the_path(session: Session) -> None:
    with pytest.raises(ScenarioError) as err:
        session.results(WhatIf.of({"actors.target.strategies[0].schedule.end": 0}))
    assert "schedule.end" in str(err.value)


def test_saved_what_if_validates(session: Session, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "sub" / "what_if.yaml"
    what_if = WhatIf.of({"behaviour.icc_aversion": 0.5}, disabled={1})
    session.save_dir = tmp_path
    session.save_yaml(what_if, out)
    assert main(["validate", str(out)]) == 0
    saved = load_scenario(out)
    assert saved.behaviour.icc_aversion == 0.5
    assert [s.type for s in saved.actors.target.strategies] == [
        "charm_offensive",
        "threats",
        "deception",
    ]
    assert "behaviour.icc_aversion = 0.5" in out.read_text()
    with pytest.raises(OutputError):  # never over an existing file
        session.save_yaml(what_if, out)
    assert session.save_yaml(what_if, "sub/other.yml") == tmp_path / "sub" / "other.yml"


def test_saves_only_new_yaml_files_under_the_save_folder(tmp_path: Path) -> None:
    folder = (tmp_path / "saves").resolve()
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / "out").symlink_to(outside)  # a folder inside that leads outside
    (folder / "link.yaml").symlink_to(outside / "new.yaml")  # a link to a file not yet there
    (folder / "kept.yaml").write_text("mine")
    (folder / "dir.yaml").mkdir()
    os.mkfifo(folder / "pipe.yaml")
    assert save_target("a.yaml", folder) == folder / "a.yaml"  # relative: in the save folder
    assert save_target(folder / "x" / "b.yml", folder) == folder / "x" / "b.yml"
    assert save_target("x/../c.yaml", folder) == folder / "c.yaml"
    refused = {
        str(outside / "a.yaml"): "outside the save folder",
        "../outside/a.yaml": "outside the save folder",
        "out/a.yaml": "outside the save folder",  # after the link
        "link.yaml": "a symbolic link that leads nowhere",  # refused as it is, leads outside
        ".": "is a folder",
        "kept.yaml": "exists",
        "dir.yaml": "is a folder",
        "pipe.yaml": "not a regular file",
        "notes.txt": ".yaml or .yml",
        "a\0.yaml": "not a valid file path",
    }
    for out, why in refused.items():
        with pytest.raises(OutputError, match=re.escape(why)):
            save_target(out, folder)
    (outside / "new.yaml").touch()
    with pytest.raises(OutputError, match="a symbolic link to a regular file"):
        save_target("link.yaml", folder)
    inner = folder / "inner.yaml"
    (folder / "alias.yaml").symlink_to(inner)  # a link inside to a file not yet there
    with pytest.raises(OutputError, match="a symbolic link"):
        save_target("alias.yaml", folder)
    assert (folder / "kept.yaml").read_text() == "mine" and not inner.exists()


def test_explore_without_solara_or_with_a_bad_scenario(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_SCENARIO.read_text().replace("kind: scenario", "kind: scenaro"))
    assert main(["explore", str(bad), "--no-open"]) == 2
    assert "kind" in capsys.readouterr().err


def test_group_votes_figure(session: Session) -> None:
    from matplotlib.figure import Figure

    from unsim.results.plots import plot_group_votes

    ax = plot_group_votes(
        session.baseline.per_state,
        "plenary",
        baseline=session.baseline.per_state,
        ax=Figure().add_subplot(),
    )
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "African States" and len(labels) == 5
    assert not any(is_code_path(x) for x in [*labels, ax.get_xlabel(), ax.get_title()])
    # each group's bar adds up to its number of states (the four probabilities sum to one)
    sizes = session.baseline.per_state.query("stage == 'plenary'").groupby("group").size()
    ends = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        ends[y] = max(ends.get(y, 0.0), patch.get_x() + patch.get_width())
    assert [round(ends[i], 6) for i in range(5)] == [
        float(sizes[g]) for g in ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG")
    ]


def test_the_page_opens_with_the_bottom_line_of_what_it_shows(session: Session) -> None:
    """The explorer's bottom line is the library's (``unsim.results.bottomline``), for the
    what-if shown; the page puts it above the outcomes (test_explore_browser.py sees it)."""
    pytest.importorskip("solara", reason="the explorer needs the explore extra (Solara)")
    import html

    from unsim.explore.app import bottom_line_html
    from unsim.results.bottomline import bottom_line

    bar = "actors.sponsors.bargaining.accept_offer_min_credibility"
    what_if = session.results(WhatIf.of({bar: 0.0}))
    for results in (session.baseline, what_if):
        text = bottom_line_html(results)
        sentences = bottom_line(results.summary, results.scenario)["sentences"]
        assert re.findall(r"<li>([^<]*)</li>", text) == [html.escape(s) for s in sentences]
    assert bottom_line_html(what_if) != bottom_line_html(session.baseline)
