"""The data-only forecast (every stated assumption removed) shown beside the scenario's: in the
main job's text, the HTML report's "what is data and what is assumption" section and the
explorer's outcome table, each forecast with its interval over runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from unsim import load_scenario, run
from unsim.cli import main
from unsim.engine.assumptions import data_only
from unsim.errors import InputError
from unsim.explore.session import Session, WhatIf
from unsim.explore.tables import outcomes_html, yes_votes_html
from unsim.results.dataonly import format_data_only
from unsim.results.saved import SavedSummary, check_shape

from .conftest import DEFAULT_SCENARIO

RUNS = 400


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("res") / "res"
    args = [str(DEFAULT_SCENARIO), "--runs", str(RUNS), "--seed", "5", "--out", str(out)]
    assert main([*args, "--report", "--no-plots", "--no-explain", "-q"]) == 0
    return out


def test_the_summary_holds_each_forecast_with_its_interval_over_runs(folder: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    rows = summary["data_only"]["rows"]
    bare = run(data_only(load_scenario(DEFAULT_SCENARIO)), runs=RUNS, seed=5, workers=1).runs
    assert bare is not None
    yes = bare["third_committee_yes"].to_numpy(np.float64)[bare["third_committee_held"]]
    committee = rows["third_committee_yes"]
    assert committee["data_only_range"] == pytest.approx(list(np.quantile(yes, (0.05, 0.95))))
    low, high = committee["as_given_range"]
    assert low < committee["as_given"] < high  # the levers drawn per run spread the tally
    share = rows["referral_tabled"]
    assert share["as_given_range"][0] <= share["as_given"] <= share["as_given_range"][1]
    assert share["data_only_range"][0] <= share["data_only"] <= share["data_only_range"][1]
    text = "\n".join(format_data_only(summary["data_only"]))
    assert f"{committee['as_given']:.1f} [{low:.0f}-{high:.0f}]" in text
    # read back, the block is checked as unsim writes it
    summary["data_only"]["rows"]["referral_tabled"]["kind"] = "odds"
    with pytest.raises(InputError, match=r"data_only\.rows\.referral_tabled\.kind"):
        check_shape(SavedSummary, summary, folder / "summary.json")


def test_the_report_shows_the_data_only_forecast_beside_the_scenarios(folder: Path) -> None:
    html = (folder / "report.html").read_text()
    section = html.split("What is data and what is assumption", 1)[1]
    assert "The forecast as given and from the data alone" in section
    summary = json.loads((folder / "summary.json").read_text())
    for row in summary["data_only"]["rows"].values():
        assert row["label"] in section
    committee = summary["data_only"]["rows"]["third_committee_yes"]
    lo, hi = committee["data_only_range"]
    assert f"{committee['data_only']:.1f} ({lo:.0f}–{hi:.0f})" in section
    # and the attribution's parts with their spread over runs
    part = summary["attribution"]["parts"][0]
    assert f"{part['yes_runs'][0]:+.0f} to {part['yes_runs'][1]:+.0f}" in section


@pytest.fixture(scope="module")
def session() -> Session:
    return Session(DEFAULT_SCENARIO, runs=512, seed=3)


def test_the_explorer_shows_the_data_only_forecast(session: Session) -> None:
    bare = session.data_only(WhatIf())
    expected = run(data_only(session.scenario), runs=512, seed=3, workers=1)
    assert bare.summary["outcomes"] == expected.summary["outcomes"]
    # a change of a stated lever leaves the data-only forecast as it was: one run, shared
    what_if = WhatIf.of({"actors.target.strategies[0].intensity": 1.0})
    assert session.data_only(what_if) is bare
    shown = session.results(what_if)
    outcomes = {o.name: o for o in session.outcomes(shown, bare)}
    tabled = outcomes["referral_tabled"]
    assert tabled.p_data_only == expected.outcome("referral_tabled")["p"]
    assert tabled.data_only_low <= tabled.p_data_only <= tabled.data_only_high
    table = outcomes_html(session, shown, bare)
    assert "data only [95 % interval]" in table
    assert f'data-p-data-only="{tabled.p_data_only!r}"' in table
    votes = {v.stage: v for v in session.yes_votes(shown, bare)}
    assert set(votes) == {"third_committee", "plenary"}
    runs = expected.runs
    assert runs is not None
    yes = runs["third_committee_yes"].to_numpy(np.float64)[runs["third_committee_held"]]
    assert votes["third_committee"].data_only == pytest.approx(yes.mean())
    assert votes["third_committee"].low < votes["third_committee"].high
    text = yes_votes_html(session, shown, bare)
    assert f"{yes.mean():.1f}" in text and "data only" in text
    # without the data-only results the table is as before
    assert "data only" not in outcomes_html(session, shown)


def test_the_data_only_forecast_follows_the_seed_and_runs_shown(session: Session) -> None:
    """The dashboard's seed and runs apply to the data-only forecast too (cached by its
    scenario, seed and runs), and the outcome table pairs with a reference (variant A) while
    it shows the data-only column."""
    lever = {"actors.target.strategies[0].intensity": 1.0}
    bare = session.data_only(WhatIf.of(lever), seed=11, runs=256)
    expected = run(data_only(session.scenario), runs=256, seed=11, workers=1)
    assert bare.seed == 11 and bare.summary["runs"] == 256
    assert bare.summary["outcomes"] == expected.summary["outcomes"]
    assert session.data_only(WhatIf(), seed=11, runs=256) is bare  # shared, as on seed 3
    assert session.data_only(WhatIf()) is not bare
    assert session.data_only(WhatIf()).seed == 3
    a = session.results(WhatIf(), seed=11, runs=256)
    b = session.results(WhatIf.of(lever), seed=11, runs=256)
    assert a is session.results(WhatIf(), seed=11, runs=256)  # cached by seed and runs too
    rows = {o.name: o for o in session.outcomes(b, bare, reference=a)}
    tabled = rows["referral_tabled"]
    assert tabled.p_baseline == a.outcome("referral_tabled")["p"]
    assert tabled.p == b.outcome("referral_tabled")["p"]
    assert tabled.p_data_only == expected.outcome("referral_tabled")["p"]
    from unsim.model.outcomes import OUTCOMES

    entry = next(o for o in OUTCOMES if o.name == "referral_tabled")
    assert a.runs is not None and b.runs is not None
    ha, hb = (np.asarray(entry.happened(x.runs), dtype=float) for x in (a, b))
    assert tabled.diff == pytest.approx(float(np.mean(hb - ha)), abs=1e-12)
    assert tabled.diff != 0  # a stronger charm offensive moves the tabling
