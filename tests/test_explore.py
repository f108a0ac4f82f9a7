"""The explorer's model side: controls generated from the schema, what-ifs on common random
numbers, the edited scenario saved as YAML that validates. (The page itself: see
test_explore_browser.py.)"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from unsim import load_scenario, run
from unsim.cli import main
from unsim.errors import OutputError, ScenarioError
from unsim.explore.controls import all_controls, build_controls
from unsim.explore.session import Session, WhatIf, edited_raw, save_target
from unsim.scenario.labels import is_code_path
from unsim.scenario.schema import Bargaining, Behaviour

from .conftest import DEFAULT_SCENARIO, POINT_SCENARIO, ROOT

RUNS = 512


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def session() -> Session:
    return Session(DEFAULT_SCENARIO, runs=RUNS, seed=3)


@pytest.fixture(scope="module")
def point_session() -> Session:
    """The DPRK draft with its levers as points (scenarios/levers/reference_2014.yaml): for
    the mechanics at known values."""
    return Session(POINT_SCENARIO, runs=RUNS, seed=3)


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


@pytest.mark.parametrize(
    "path",
    [
        *sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml") if "session_" not in p.name),
        str(POINT_SCENARIO),
    ],
)
def test_every_control_says_its_unit(path: str) -> None:
    """Each control (a state's own among them) says its unit or scale in words; a number on
    the model's latent scale says so and gives its scale in votes or what 0 means."""
    from unsim.explore.statelevers import state_controls

    scenario = load_scenario(path)
    controls = all_controls(build_controls(scenario)) + state_controls(scenario, "CHN")
    for c in controls:
        unit = c.unit.strip()
        assert unit, c.path
        assert unit.lower().strip("() ") != "latent scale", c.path
        if "latent" in unit:
            assert "yes votes" in unit or "0:" in unit, (c.path, unit)
        if c.kind in ("float", "int") and c.min == 0 and c.max == 1:
            assert "0-1" in unit or "0:" in unit, (c.path, unit)
    by_path = {c.path: c.unit for c in controls}
    assert (
        "yes votes' share" in by_path["actors.sponsors.bargaining.drop_if_expected_yes_share_below"]
    )
    assert by_path["behaviour.icc_aversion"].startswith("the ICC language's cost in support units")
    assert "lobbying budget" in by_path["actors.sponsors.lobbying.budget"]


def test_a_new_field_says_what_its_range_means(scenario) -> None:  # type: ignore[no-untyped-def]
    from unsim.explore.controls import Control, unit_for

    count = Control("behaviour.memory_rounds", "memory", "rounds", "int", 4, 1, 20, 1)
    assert unit_for(count) == "whole number from 1 (1: the least) to 20 (the most)"
    latent = Control("behaviour.lean", "lean", "a lean (latent scale)", "float", 0.0, -2, 2, 0.01)
    assert "yes votes" in unit_for(latent)


def test_a_typed_number_sets_the_lever_as_its_slider(scenario) -> None:  # type: ignore[no-untyped-def]
    """A number typed in a lever's box: the slider's step and bounds; refused with a reason
    outside them, or when it is no number."""
    from unsim.explore.controls import slider_value, typed_value

    controls = {c.path: c for c in all_controls(build_controls(scenario))}
    bar = controls["actors.sponsors.bargaining.accept_offer_min_credibility"]
    assert bar.step == 0.01
    assert typed_value(bar, " 0.5 ") == (0.5, "")
    assert typed_value(bar, "0,25") == (0.25, "")
    assert typed_value(bar, "0.503") == (0.5, "")  # the slider's step
    assert typed_value(bar, "0.506") == (0.51, "")
    assert typed_value(bar, "1.01") == (1.01, "")  # the top of its range
    for text in ("1.2", "-0.1", "inf", "nan"):
        value, why = typed_value(bar, text)
        assert value is None and "type a number from 0 to 1.01" in why, text
    value, why = typed_value(bar, "about half")
    assert value is None and "is not a number" in why
    # a number between two steps (a distribution's mean) is placed on the nearest by the slider
    chance = controls["procedure.council.tabling.chance"]
    assert chance.spread and chance.step == 0.01
    placed = slider_value(chance, chance.value)
    assert abs(placed - chance.value) <= chance.step / 2 and round(placed / chance.step, 9) % 1 == 0
    assert slider_value(chance, placed) == placed
    start = controls["actors.target.strategies[0].schedule.start"]
    assert typed_value(start, "3") == (3, "")
    value, why = typed_value(start, "2.5")
    assert value is None and "whole number" in why
    assert typed_value(start, str(start.max + 1))[0] is None


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


# --------------------------------------------------------------------------------------------
# seeds, variants side by side, tallies
# --------------------------------------------------------------------------------------------
def test_another_seed_is_the_librarys_run_on_that_seed(session: Session) -> None:
    path = "behaviour.icc_aversion"
    shown = session.results(WhatIf.of({path: 1.0}), seed=11)
    expected = run(load_scenario(DEFAULT_SCENARIO, overrides={path: 1.0}), runs=RUNS, seed=11)
    assert shown.seed == 11
    assert shown.summary["outcomes"] == expected.summary["outcomes"]
    base = session.baseline_for(shown)
    assert base.seed == 11 and base is session.results(WhatIf(), seed=11)
    assert base.summary["outcomes"] != session.baseline.summary["outcomes"]  # seed 3's
    # the change is paired with the baseline of its own seed
    o = {x.name: x for x in session.outcomes(shown)}["committee_adopted"]
    assert o.p_baseline == base.outcome("committee_adopted")["p"]


def test_variants_a_and_b_are_paired_run_by_run(session: Session) -> None:
    import numpy as np

    from unsim.explore.variants import compare_variants
    from unsim.model.outcomes import known_outcomes

    a = session.results(WhatIf.of({"actors.target.strategies[0].intensity": 1.2}))
    b = session.results(
        WhatIf.of({"actors.target.strategies[0].intensity": 1.2, "behaviour.icc_aversion": 4.0})
    )
    rows = {r.name: r for r in compare_variants(session, a, b)}
    registry = {o.name: o for o in known_outcomes()}
    checked = 0
    for name in ("icc_retained", "committee_adopted", "plenary_adopted"):
        r = rows[name]
        ha, hb = (np.asarray(registry[name].happened(x.runs), dtype=float) for x in (a, b))
        assert r.a == a.outcome(name)["p"] and r.b == b.outcome(name)["p"]
        assert r.baseline == session.baseline.outcome(name)["p"]
        assert r.diff == pytest.approx(float((hb - ha).mean()))
        assert r.diff_low <= r.diff <= r.diff_high
        # paired: no wider than the interval of two independent proportions
        independent = 1.96 * (r.a * (1 - r.a) / RUNS + r.b * (1 - r.b) / RUNS) ** 0.5
        assert (r.diff_high - r.diff_low) / 2 <= independent + 1e-12
        checked += 1
    assert checked == 3
    assert rows["icc_retained"].diff < 0  # a costlier ICC language is dropped more often
    other_seed = session.results(WhatIf(), seed=12)
    with pytest.raises(ValueError, match="share a seed"):
        compare_variants(session, a, other_seed)


def test_tallies_median_and_range_of_each_stage(session: Session) -> None:
    import numpy as np

    from unsim.explore.variants import tallies

    table = tallies(session.baseline).set_index("stage")
    runs = session.baseline.runs
    assert runs is not None
    held_stages = [s for s in table.index if runs[f"{s}_held"].any()]
    assert list(table.index) == held_stages and "plenary" in held_stages
    for stage in held_stages:
        held = runs[f"{stage}_held"].to_numpy(dtype=bool)
        assert table.loc[stage, "held"] == held.sum()
        for vote in ("yes", "no", "abstain"):
            counts = np.sort(runs.loc[held, f"{stage}_{vote}"].to_numpy())
            n = len(counts)
            assert table.loc[stage, f"{vote}_median"] == counts[(n - 1) // 2]
            lo, hi = table.loc[stage, f"{vote}_q05"], table.loc[stage, f"{vote}_q95"]
            assert lo <= table.loc[stage, f"{vote}_median"] <= hi
            assert (counts < lo).mean() <= 0.05 and (counts > hi).mean() <= 0.05


# --------------------------------------------------------------------------------------------
# downloads
# --------------------------------------------------------------------------------------------
def test_downloads_are_the_tables_and_figures_named_after_the_what_if(session: Session) -> None:
    import io

    import pandas as pd

    from unsim.explore.exports import changes_hash, export_name, exports

    what_if = WhatIf.of({"behaviour.icc_aversion": 1.5}, disabled={3})
    results = session.results(what_if, seed=5)
    files = {e.filename: e for e in exports("icc_referral", what_if, results, session.baseline)}
    digest = changes_hash(what_if)
    assert re.fullmatch(r"[0-9a-f]{8}", digest)
    assert digest == changes_hash(WhatIf.of({"behaviour.icc_aversion": 1.5}, disabled={3}))
    assert digest != changes_hash(WhatIf.of({"behaviour.icc_aversion": 1.5}))
    assert digest != changes_hash(WhatIf.of({"behaviour.icc_aversion": 1.25}, disabled={3}))
    stem = f"icc_referral_seed5_whatif-{digest}"
    assert set(files) == {
        f"{stem}_{what}.{suffix}"
        for what, suffix in [
            ("runs", "csv"),
            ("runs", "parquet"),
            ("states", "csv"),
            ("states", "parquet"),
            ("tallies", "png"),
            ("groups", "png"),
            ("map", "png"),
        ]
    }
    runs = pd.read_parquet(io.BytesIO(files[f"{stem}_runs.parquet"].make()))
    pd.testing.assert_frame_equal(runs, results.runs)
    states = pd.read_csv(io.BytesIO(files[f"{stem}_states.csv"].make()))
    assert list(states.columns) == list(results.per_state.columns)
    assert len(states) == len(results.per_state)
    assert states["p_yes"].to_numpy() == pytest.approx(results.per_state["p_yes"].to_numpy())
    png = files[f"{stem}_map.png"].make()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert export_name("icc_referral", 3, WhatIf(), "runs", "csv") == (
        "icc_referral_seed3_baseline_runs.csv"
    )
    assert export_name("a/b c", 3, WhatIf(), "runs", "csv").startswith("a-b-c_seed3")


# --------------------------------------------------------------------------------------------
# the state in the address
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reader(session: Session):  # type: ignore[no-untyped-def]
    from unsim.explore.share import Reader

    paths = [c.path for c in all_controls(build_controls(session.scenario))]
    return Reader(paths, session.scenario.world.codes, 4, session.runs)  # type: ignore[union-attr]


def test_a_link_reloads_the_same_what_if(reader) -> None:  # type: ignore[no-untyped-def]
    from unsim.explore.share import encode

    values = {
        "actors.target.strategies[0].intensity": 0.6,
        "actors.allies.patrons": ["CHN"],
        "actors.states.CHN.council_shift": 0.25,
        "procedure.amendment.move": "never",
        "actors.sponsors.bargaining.accept_offer_min_credibility": 0.1 + 0.2,  # all its digits
    }
    pinned = ({"behaviour.icc_aversion": 1.5}, frozenset({1}))
    query = encode(values, {3}, seed=7, runs=2048, pinned=pinned, state="CHN")
    assert "token" not in query
    assert "set=actors.target.strategies[0].intensity=0.6" in query
    state, problems = reader.read(f"token=secret&{query}")
    assert problems == []
    assert state.values == values
    assert (state.disabled, state.seed, state.runs, state.state) == (frozenset({3}), 7, 2048, "CHN")
    assert state.pinned == pinned
    assert encode(state.values, state.disabled, 7, 2048, state.pinned, "CHN") == query
    # a variant A with no change is pinned too; none pinned, none read
    assert reader.read(encode({}, (), 1, 2, ({}, ())))[0].pinned == ({}, frozenset())
    assert reader.read(encode({}, (), 1, 2))[0].pinned is None


def test_a_bad_link_says_what_is_wrong(reader) -> None:  # type: ignore[no-untyped-def]
    state, problems = reader.read(
        "set=behaviour.icc_aversio=1&seed=-1&runs=10000000&off=9&state=CHM&colour=red"
        "&set=actors.states.XYZ.support_shift=1&set=actors.states.CHN.support_shfit=1"
        "&set=behaviour.icc_aversion=!!python/object:os.system%20x&set=behaviour.icc_aversion=2"
    )
    text = "\n".join(problems)
    assert "did you mean 'behaviour.icc_aversion'" in text
    assert "seed: expected a whole number from 0" in text
    assert "runs: expected a whole number from 1 to 100,000; got 10,000,000" in text
    assert "off: expected a whole number from 0 to 3; got 9" in text
    assert "state: 'CHM' is not a state of the world (an ISO3 code); did you mean" in text
    assert "'colour': not a parameter" in text
    assert "'XYZ' is not a state of the world" in text
    assert "did you mean 'support_shift'" in text
    assert "python/object" in text  # refused by the safe reader, named
    assert len(problems) == 9
    assert state.values == {"behaviour.icc_aversion": 2}  # the good part is kept
    _, problems = reader.read("set=" + "x" * 20_000)
    assert "characters long" in problems[0]


def test_the_browsers_late_report_of_the_opened_address_puts_no_lever_back(reader) -> None:  # type: ignore[no-untyped-def]
    """The browser reports the address the page was opened with once, when its side is set up,
    possibly after the page pushed its own state and a lever was set (typed in its box): the
    lever stays, and the page's address is pushed again; the browser's back button, later,
    still sets the page to the address it goes back to."""
    import solara
    from solara.routing import Router, router_context

    from unsim.explore import pagestate
    from unsim.explore.pagestate import READS, VALUES, AddressSync

    lever = "actors.sponsors.bargaining.accept_offer_min_credibility"
    query = solara.reactive("seed=7")
    pushed: list[str] = []  # what the page pushed to the address
    browser: list[Any] = []  # the address as the browser sets it (a report, back, forward)

    @solara.component
    def Page() -> None:
        path, set_path = solara.use_state("/?token=secret")
        browser[:] = [set_path]

        def push(to: str) -> None:
            pushed.append(to)
            set_path(to)

        router_context.provide(Router(path, routes=[], set_path=push))
        AddressSync(reader, query.value)

    try:
        _, rc = solara.render(Page(), handle_error=False)
        assert pushed == ["/?seed=7"] and VALUES.value == {}  # opened, then its own address
        VALUES.set({lever: 0.3})  # a number typed in the lever's box
        query.set(f"set={lever}=0.3&seed=7")
        assert pushed[-1] == f"/?set={lever}=0.3&seed=7"
        browser[0]("/?token=secret")  # the browser's late report of the address it opened
        assert VALUES.value == {lever: 0.3}  # the lever stays
        assert pushed[-1] == f"/?set={lever}=0.3&seed=7" and len(pushed) == 3  # pushed again
        browser[0]("/?seed=7")  # the browser's back button: the address before the lever
        assert VALUES.value == {}
        rc.close()
    finally:
        VALUES.set({})
        READS.set(0)
        pagestate.SEED.set(None)
        pagestate.RUNS.set(None)


# --------------------------------------------------------------------------------------------
# "Save as YAML": a new name, the scenario's evidence kept, the same what-if reloaded
# --------------------------------------------------------------------------------------------
EVIDENCE = "# EVIDENCE-OF-THE-BUDGET: a comment that must survive"
SOURCE = "a prior from the 2013 lobbying reports"


@pytest.fixture(scope="module")
def sourced(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """The DPRK draft with point values, with a distribution that carries a ``source:`` and a
    comment of evidence above the lobbying budget, in a folder of its own (its files found
    from there)."""
    folder = tmp_path_factory.mktemp("sourced")
    text = POINT_SCENARIO.read_text()
    scenarios = POINT_SCENARIO.parent.parent
    text = text.replace("world: ../worlds/", f"world: {scenarios}/worlds/")
    text = text.replace("calibration: ../calibration/", f"calibration: {scenarios}/calibration/")
    text = text.replace(
        "    lobbying: {budget: 15.0, efficacy: 1.0}",
        f"    {EVIDENCE}\n    lobbying: {{budget: {{dist: truncnorm, mean: 15, sd: 3, low: 5,"
        f' high: 25, source: "{SOURCE}"}}, efficacy: 1.0}}',
    )
    path = folder / "sourced.yaml"
    path.write_text(text)
    return Session(path, runs=RUNS, seed=3)


def test_save_keeps_the_evidence_and_reloads_the_same_what_if(sourced: Session) -> None:
    what_if = WhatIf.of(
        {
            "behaviour.icc_aversion": 0.75,
            "actors.states.CHN.council_shift": 0.5,  # a state's own value, added to its entry
            "actors.states.BRA.support_shift": -1.0,  # a state the scenario does not name
            "actors.target.strategies[2].intensity": 0.35,  # of a strategy after one taken out
        },
        disabled={1},
    )
    assert sourced.default_save_name() == "sourced_whatif_1.yaml"
    written = sourced.save_yaml(what_if, sourced.default_save_name())
    assert written == sourced.save_dir / "sourced_whatif_1.yaml"
    assert sourced.default_save_name() == "sourced_whatif_2.yaml"  # never an existing name
    text = written.read_text()
    original = sourced.text
    # every comment of the scenario is kept, but those of the strategy taken out
    taken_out = original[original.index("      # Offered on condition") :]
    taken_out = taken_out[: taken_out.index("      # The DPRK threatened")]
    kept = [
        line.strip()
        for line in original.splitlines()
        if line.strip().startswith("#") and line not in taken_out
    ]
    assert kept and all(line in text for line in kept)
    assert EVIDENCE in text and f'source: "{SOURCE}"' in text
    assert "conditional_on_dropping_icc" not in text
    assert "#   behaviour.icc_aversion = 0.75 (was 2.0)" in text
    assert "#   strategy 2 (invitation) switched off (taken out)" in text
    assert main(["validate", str(written)]) == 0
    saved = Session(written, runs=RUNS, seed=3)
    reloaded = saved.baseline
    shown = sourced.results(what_if)
    assert reloaded.summary["outcomes"] == shown.summary["outcomes"]
    assert reloaded.per_state.equals(shown.per_state)
    # an unchanged scenario saves as its own text, but the header and the paths
    plain = sourced.to_yaml(WhatIf(), sourced.path)
    assert plain.split("\n", 1)[1] == original


def test_only_abstains_through_the_shifts_the_search_finds(session: Session) -> None:
    from unsim.explore.statelevers import modal_votes, only_abstains, state_controls

    controls = {c.path: c for c in state_controls(session.scenario, "CHN")}
    assert controls["actors.states.CHN.icc_aversion"].value == 3.0  # the scenario's own
    assert controls["actors.states.CHN.council_shift"].max >= 20
    before = modal_votes(session.baseline, "CHN")
    assert before["plenary"] == "no" and before["sc_referral"] == "no"
    found = only_abstains(session, WhatIf(), "CHN")
    assert set(found.values) == {
        "actors.states.CHN.support_shift",
        "actors.states.CHN.council_shift",
    }
    assert found.values["actors.states.CHN.support_shift"] > 0  # towards the middle
    after = session.results(WhatIf.of(found.values))
    modal = modal_votes(after, "CHN")
    assert modal == found.modal
    for stage in ("third_committee", "plenary", "sc_referral"):
        assert modal[stage] == "abstain", (stage, modal)
    # the agenda vote too, or the page is told that no one Council shift serves both
    assert modal["sc_agenda"] == "abstain" or "Security Council: agenda" in " ".join(found.notes)
    # a state that already abstains needs no change
    assert modal_votes(session.baseline, "IND")["plenary"] == "abstain"
    assert only_abstains(session, WhatIf(), "IND").values == {}


# --------------------------------------------------------------------------------------------
# the page's figures: drawn once, then only what moves
# --------------------------------------------------------------------------------------------
def test_a_repainted_figure_is_the_figure_drawn_in_full(point_session: Session) -> None:
    """Each figure of the page, painted over its kept picture after another what-if (only
    what moves drawn again), has the same pixels as the same figure drawn in full, and differs
    from the first what-if's."""
    import io

    import numpy as np
    from PIL import Image

    from unsim.explore import painters

    n = len(point_session.scenario.world.states)  # type: ignore[union-attr]
    first = point_session.baseline
    second = point_session.results(WhatIf.of({"behaviour.icc_aversion": 5.0}))
    draws = {
        "tallies": lambda r: painters.tallies_png(r.runs, "simple", n),
        "groups": lambda r: painters.groups_png(r.per_state, "plenary", first.per_state),
        "map": lambda r: painters.map_png(r.per_state, "plenary"),
        "council map": lambda r: painters.map_png(r.per_state, "sc_agenda"),
    }

    def pixels(data: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    for name, draw in draws.items():
        painters._PAINTERS.clear()
        painters._MADE.clear()
        before = pixels(draw(first))
        painter = next(iter(painters._PAINTERS.values()))
        kept = painter._background
        repainted = pixels(draw(second))  # over the picture kept from the first
        assert painter._background is kept, name  # the still picture was not drawn again
        for artist in painter.moving:  # now the whole figure, every artist drawn
            artist.set_animated(False)
        painter.canvas.draw()
        full = pixels(painters.png_bytes(painter.canvas))
        assert repainted.shape == full.shape == before.shape, name
        assert np.array_equal(repainted, full), name
        assert not np.array_equal(repainted, before), name
    painters._PAINTERS.clear()


def test_figures_painted_ahead_are_not_painted_again(session: Session) -> None:
    """A figure painted ahead of the page (as soon as the numbers are computed) is what the
    page's own call returns, without painting it again; a call while it is being painted waits
    for it; a failed painting is not kept."""
    import threading

    from unsim.explore import painters
    from unsim.explore.figures import prefetch

    results = session.results(WhatIf.of({"behaviour.icc_aversion": 3.0}))
    painters._MADE.clear()
    prefetch(results, session.baseline)
    n = len(session.scenario.world.states)  # type: ignore[union-attr]
    for _ in range(2400):  # the three figures of the main vote, painted ahead (2 min at most)
        with painters._MADE_LOCK:
            futures = [f for f, _ in painters._MADE.values()]
        if len(futures) == 3 and all(f.done() for f in futures):
            break
        threading.Event().wait(0.05)
    calls = []
    real = painters.painted

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[0])
        return real(*args, **kwargs)

    painters.painted = counted  # type: ignore[assignment]
    try:
        shown = painters.tallies_png(results.runs, "simple", n)
        assert painters.map_png(results.per_state, "plenary")[:8] == b"\x89PNG\r\n\x1a\n"
        painters.groups_png(results.per_state, "plenary", session.baseline.per_state)
        assert calls == []  # all three were painted ahead
        painters.map_png(results.per_state, "sc_agenda")  # a stage not painted ahead
        assert [c[0] for c in calls] == ["map"]
    finally:
        painters.painted = real  # type: ignore[assignment]
    assert shown == painters.tallies_png(results.runs, "simple", n)

    started, release, made = threading.Event(), threading.Event(), []

    def slow() -> bytes:
        started.set()
        release.wait(30)
        made.append(1)
        return b"picture"

    got: list[bytes] = []
    first = threading.Thread(target=lambda: got.append(painters.once(("t", 1), (), slow)))
    first.start()
    started.wait(30)
    second = threading.Thread(target=lambda: got.append(painters.once(("t", 1), (), slow)))
    second.start()
    release.set()
    first.join(30)
    second.join(30)
    assert got == [b"picture", b"picture"] and made == [1]

    def broken() -> bytes:
        raise RuntimeError("no canvas")

    with pytest.raises(RuntimeError):
        painters.once(("t", 2), (), broken)
    assert painters.once(("t", 2), (), lambda: b"again") == b"again"
    painters._MADE.clear()
