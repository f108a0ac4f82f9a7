"""A plug-in strategy's outcomes: declared on its class (``Strategy.outcomes``), registered with
it, and reported like the model's own in the summary, the terminal's text, the paired
comparison (``--compare``), the explorer's outcome table and the HTML report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
import yaml
from pydantic import Field

from unsim import load_scenario, run
from unsim.explore.session import Session, WhatIf
from unsim.model.outcomes import OUTCOMES, known_outcomes, outcomes_for, strategy_outcomes
from unsim.model.stages import STAGE_PLAN
from unsim.results.report.html import render_report
from unsim.results.text import compare, format_summary
from unsim.strategies import Outcome, Strategy, StrategyContext, register, unregister
from unsim.strategies.builtin import Deception, Invitation, Threats

from .conftest import DEFAULT_SCENARIO

RUNS = 512
PERMANENT = ("CHN", "FRA", "GBR", "RUS", "USA")


class Boycott(Strategy):
    """The target calls on its partners to boycott the vote: in each active round, where a draw
    falls below ``share``, the call is made (recorded, and nothing else)."""

    type: Literal["boycott_call"] = "boycott_call"
    events = ("boycott_called", "boycott_prepared")
    outcomes = (Outcome("boycott_called", "boycott called by the target"),)
    share: float = Field(0.2, ge=0, le=1, description="chance of a call in an active round")

    def apply(self, ctx: StrategyContext, active: Any) -> None:
        ctx.event("boycott_prepared", active)
        ctx.event("boycott_called", active & (ctx.draw("call") < self.share))


class Walkout(Strategy):
    """A strategy that lists its events and leaves its outcomes out: each event is one."""

    type: Literal["walkout_call"] = "walkout_call"
    events = ("walked_out",)

    def apply(self, ctx: StrategyContext, active: Any) -> None:
        ctx.event("walked_out", active)


@pytest.fixture
def boycott() -> Iterator[type[Boycott]]:
    register(Boycott)
    yield Boycott
    unregister("boycott_call")


def _entries(share: float) -> list[dict[str, Any]]:
    own = [s.model_dump() for s in load_scenario(DEFAULT_SCENARIO).actors.target.strategies]
    return [*own, {"type": "boycott_call", "share": share, "schedule": {"end": 4}}]


def _run(share: float) -> Any:
    overrides = {"actors.target.strategies": _entries(share)}
    scenario = load_scenario(DEFAULT_SCENARIO, overrides=overrides)
    return run(scenario, runs=RUNS, seed=5, workers=1)


def test_the_builtin_strategies_declare_the_outcomes_of_their_events() -> None:
    names = [o.name for o in OUTCOMES]
    assert "invitation_offered" not in names  # the model's own registry names no strategy
    builtin = [o.name for cls in (Invitation, Threats, Deception) for o in cls.declared_outcomes()]
    assert builtin == [
        "invitation_offered",
        "invitation_accepted",
        "invitation_withdrawn",
        "visit_held",
        "cooperation_halted",
        "deception_exposed",
    ]
    known = [o.name for o in known_outcomes()]
    assert known[: len(names) + len(builtin)] == names + builtin
    scenario = load_scenario(DEFAULT_SCENARIO)
    got = [o.name for o in outcomes_for(scenario, PERMANENT)]
    # (the outcomes of an optional stage the scenario does not hold, the Human Rights Council's,
    # are not reported)
    optional = {st.name for st in STAGE_PLAN if st.optional}
    held = [o.name for o in OUTCOMES if o.stage not in optional]
    assert len(held) < len(names)
    assert got == held + builtin + [f"veto_{c}" for c in PERMANENT]


def test_a_plugin_strategys_outcome_reaches_summary_text_comparison_and_report(
    boycott: type[Boycott],
) -> None:
    assert [o.name for o in strategy_outcomes()][-1] == "boycott_called"
    low, high = _run(0.2), _run(0.6)
    assert low.runs is not None and high.runs is not None
    share = float(np.mean(low.runs["event_boycott_called"]))
    assert 0 < share < 1
    got = low.summary["outcomes"]["boycott_called"]
    assert got["p"] == pytest.approx(share)
    assert got["label"] == "boycott called by the target"
    assert got["ci_low"] < got["p"] < got["ci_high"]
    # an event it does not declare as an outcome stays a column of the run table alone
    assert "event_boycott_prepared" in low.runs
    assert "boycott_prepared" not in low.summary["outcomes"]
    assert "boycott called by the target" in format_summary(low)
    table = compare(low, high).set_index("outcome")
    row = table.loc["boycott_called"]
    assert row["diff"] == pytest.approx(float(np.mean(high.runs["event_boycott_called"])) - share)
    assert row["diff"] > 0
    assert "boycott called by the target" in render_report(low)


def test_the_explorers_outcome_table_shows_a_plugin_outcome(
    boycott: type[Boycott], tmp_path: Path
) -> None:
    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text("utf-8"))
    for key in ("world", "calibration", "levers", "clause_calibration"):
        raw[key] = str(DEFAULT_SCENARIO.parent / raw[key])
    raw["actors"]["target"]["strategies"] = _entries(0.5)
    path = tmp_path / "with_boycott.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), "utf-8")
    session = Session(path, runs=256, seed=5)
    call = "actors.target.strategies[4].share"
    rows = {o.name: o for o in session.outcomes(session.results(WhatIf.of({call: 0.9})))}
    row = rows["boycott_called"]
    assert row.label == "boycott called by the target"
    assert row.p_baseline == session.baseline.outcome("boycott_called")["p"] > 0
    assert row.p > row.p_baseline and row.diff == pytest.approx(row.p - row.p_baseline)


def test_without_outcomes_each_event_is_one_and_wrong_declarations_are_refused(
    boycott: type[Boycott],
) -> None:
    assert [o.name for o in Walkout.declared_outcomes()] == ["walked_out"]
    assert Walkout.declared_outcomes()[0].key == "event_walked_out"

    class Misnamed(Strategy):
        type: Literal["misnamed_call"] = "misnamed_call"
        events = ("called",)
        outcomes = (Outcome("callled", "called"),)

    with pytest.raises(TypeError, match="'event_callled', not one of its events"):
        register(Misnamed)

    class Twin(Strategy):
        type: Literal["twin_call"] = "twin_call"
        events = ("boycott_called",)
        outcomes = (Outcome("boycott_called", "called again"),)

    with pytest.raises(ValueError, match="'boycott_called' is declared already"):
        register(Twin)

    class Clash(Strategy):
        type: Literal["clash_call"] = "clash_call"
        events = ("plenary_adopted",)

    register(Clash)
    try:
        with pytest.raises(ValueError, match="'plenary_adopted' is one of the model's"):
            strategy_outcomes()
    finally:
        unregister("clash_call")
