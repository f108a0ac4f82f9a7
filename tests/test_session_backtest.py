"""The backtest of whole sessions (``unsim backtest --session``): the joint coverage of the yes
tallies, the forecasting discipline (nothing on or after the held-out session's first vote) and a
small end-to-end run on one real session."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from unsim.scenario.session import Linkage, LinkageSd

#: The session opening in 2010 (the 65th): the DPRK and Iran drafts, voted on 21 December.
SESSION_2010 = 65


def _link(factor: float, shock: float, on_top: bool = False) -> Linkage:
    return Linkage(
        state_factor=LinkageSd(sd=factor, source="test"),
        session_shock=LinkageSd(sd=shock, source="test"),
        factor_from_noise=not on_top,
        shock_from_level=not on_top,
    )


def _se(entry: dict[str, Any]) -> float:
    """The sampling sd of claimed - product when the two drafts' hits are independent."""
    a, b, n = entry["marginal_a"], entry["marginal_b"], entry["runs"]
    return math.sqrt(a * (1 - a) * b * (1 - b) / n)


# --------------------------------------------------------------------------------------------
# The joint coverage on run tables drawn here
# --------------------------------------------------------------------------------------------
def _table(rng: np.random.Generator, n: int, rho: float) -> pd.DataFrame:
    common = rng.standard_normal(n)
    own = rng.standard_normal((2, n))
    x = math.sqrt(rho) * common + math.sqrt(1 - rho) * own
    return pd.DataFrame(
        {
            "a.plenary_held": np.ones(n, bool),
            "a.plenary_yes": np.round(100 + 10 * x[0]).astype(int),
            "b.plenary_held": np.ones(n, bool),
            "b.plenary_yes": np.round(80 + 8 * x[1]).astype(int),
        }
    )


def test_joint_coverage_of_independent_and_of_correlated_tallies() -> None:
    from unsim.session.backtest import joint_coverage

    rng = np.random.default_rng(5)
    alone = joint_coverage(_table(rng, 20_000, 0.0), ["a", "b"], {"a": 100, "b": 120})["a~b"]
    assert 0.9 <= alone["marginal_a"] <= 0.93 and 0.9 <= alone["marginal_b"] <= 0.93
    assert abs(alone["claimed"] - alone["product"]) < 4 * _se(alone)
    assert alone["observed"] is False  # 120 is far above b's interval
    assert alone["recorded"] == [100, 120]
    linked = joint_coverage(_table(rng, 20_000, 0.8), ["a", "b"], {"a": 100, "b": 80})["a~b"]
    assert linked["claimed"] > linked["product"] + 4 * _se(linked)
    assert linked["observed"] is True
    lo, hi = linked["interval_a"]
    assert lo < 100 < hi


def test_joint_coverage_counts_only_runs_holding_both_votes() -> None:
    from unsim.session.backtest import joint_coverage

    t = _table(np.random.default_rng(1), 1000, 0.0)
    t.loc[:99, "b.plenary_held"] = False
    assert joint_coverage(t, ["a", "b"])["a~b"]["runs"] == 900
    assert "observed" not in joint_coverage(t, ["a", "b"])["a~b"]


# --------------------------------------------------------------------------------------------
# The command line's checks
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--session", "2014"], "votes after 18 November 2014"),
        (["--session", "2012-2010"], "2010 is before 2012"),
        (["--session", "twenty"], "expected YEAR or FIRST-LAST"),
        (["--session", "2010", "--timesplit"], "drop --timesplit"),
        (["--session", "2010", "--series", "PRK", "--years", "2010"], "drop --series, --years"),
    ],
)
def test_the_session_backtest_refuses_bad_options(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from unsim.cli import main

    assert main(["backtest", *args]) == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# The held-out sessions in the real data
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data(data_dir: Path) -> Any:
    from unsim.calibration.validation import load_real_data

    return load_real_data(data_dir)


def test_held_out_sessions_and_the_data_cut(data: Any) -> None:
    from unsim.session.backtest import data_before, held_out_sessions

    found = held_out_sessions(data, range(60, 70))
    assert set(found) <= set(range(60, 69))  # the 69th votes after 18 November 2014
    assert SESSION_2010 in found
    for s, rows in found.items():
        assert len(rows) >= 2 and rows["iso3"].is_unique and (rows["session"] == s).all()
    assert list(found[SESSION_2010]["iso3"]) == ["PRK", "IRN"]
    # the Syria series' first recorded vote (2011) has no earlier one to calibrate on
    assert "SYR" not in set(found[66]["iso3"]) and "SYR" in set(found[67]["iso3"])
    cut = dt.date(2010, 12, 21)
    before = data_before(data, cut)
    assert pd.to_datetime(before.roll_calls["date"]).max() < pd.Timestamp(cut)
    assert set(before.votes["rcid"]) <= set(before.roll_calls["rcid"])
    assert len(before.roll_calls) < len(data.roll_calls)


# --------------------------------------------------------------------------------------------
# One real session, end to end (calibrations, the linkage, the engine)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def backtest_2010(data: Any, monkeypatch_module: Any) -> dict[str, Any]:
    """``session_backtest`` of the 2010 session, with what ``forecast_session`` was given."""
    import unsim.session.backtest as sb
    from unsim.calibration.validation import DEFAULT_WORLD
    from unsim.scenario import load_world

    seen: dict[str, Any] = {"forecast_session": sb.forecast_session}
    real, real_drafts = sb.forecast_session, sb.draft_scenarios

    def spy(d: Any, *args: Any, **kwargs: Any) -> Any:
        seen["data"], seen["args"] = d, args
        seen["out"] = real(d, *args, **kwargs)
        return seen["out"]

    def spy_drafts(*args: Any, **kwargs: Any) -> Any:
        seen["scenarios"] = real_drafts(*args, **kwargs)
        return seen["scenarios"]

    monkeypatch_module.setattr(sb, "forecast_session", spy)
    monkeypatch_module.setattr(sb, "draft_scenarios", spy_drafts)
    world = load_world(DEFAULT_WORLD)
    result = sb.session_backtest([2010], data, world, runs=300, seed=4)
    return {"result": result, "seen": seen, "world": world}


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.slow
def test_a_session_end_to_end(backtest_2010: dict[str, Any]) -> None:
    from unsim.session.backtest import session_backtest_markdown

    r = backtest_2010["result"]
    (s,) = r["sessions"]
    assert s["session"] == SESSION_2010 and s["cut"] == "2010-12-21"
    assert set(s["drafts"]) == {"prk", "irn"} and set(s["pairs"]) == {"prk~irn"}
    for d in s["drafts"].values():
        for how in ("session", "alone", "alone_at_cut"):
            assert 0.5 < d[how]["accuracy"] <= 1 and 0 < d[how]["brier"] < 1
            assert d[how]["logloss"] > 0
        # the same draft, calibrated a few days apart at most: close forecasts
        assert abs(d["session"]["accuracy"] - d["alone"]["accuracy"]) < 0.1
        # the session's own drafts unlinked: the same calibration, only the linkage differs
        assert abs(d["session"]["brier"] - d["alone_at_cut"]["brier"]) < 0.02
    assert s["linkage"]["vote_copula_rho"] > 0 and max(s["linkage"]["sessions"]) < SESSION_2010
    pair = s["pairs"]["prk~irn"]
    assert pair["observed"] == (
        pair["interval_a"][0] <= pair["recorded"][0] <= pair["interval_a"][1]
        and pair["interval_b"][0] <= pair["recorded"][1] <= pair["interval_b"][1]
    )
    assert r["summary"]["pairs"] == 1 and r["summary"]["drafts"] == 2
    assert "| 65 (2010) | PRK 2010-12-21 |" in session_backtest_markdown(r)


@pytest.mark.slow
def test_the_forecast_reads_nothing_from_the_session_on(
    data: Any, backtest_2010: dict[str, Any]
) -> None:
    from unsim.session.backtest import data_before

    seen = backtest_2010["seen"]
    given, (res_cut, fit_cut) = seen["data"], seen["out"]
    world, drafts, cut, runs, seed = seen["args"]
    assert cut == dt.date(2010, 12, 21)
    # what the backtest gave the forecast: nothing dated on or after the session's first vote
    assert pd.to_datetime(given.roll_calls["date"]).max() < pd.Timestamp(cut)
    assert not set(given.votes["rcid"]) & {d.rcid for d in drafts}
    assert len(data_before(data, cut).roll_calls) == len(given.roll_calls)
    # and the forecast itself, given every roll call up to 18 November 2014, reads only those
    # before the cut: the same session, run by run
    everything = data_before(data, dt.date(2014, 11, 18))
    assert len(everything.roll_calls) > len(given.roll_calls)
    res, fit = seen["forecast_session"](everything, world, drafts, cut, runs, seed)
    pd.testing.assert_frame_equal(res.table, res_cut.table)
    assert fit == fit_cut


@pytest.mark.slow
def test_the_claimed_joint_coverage_with_the_linkage_off_and_on(
    backtest_2010: dict[str, Any],
) -> None:
    from unsim.session.backtest import joint_coverage, run_drafts

    seen = backtest_2010["seen"]
    world, drafts, _, _, seed = seen["args"]
    scenarios = seen["scenarios"]  # the drafts as the backtest calibrated them
    names = [d.name for d in drafts]
    off = run_drafts(scenarios, world, _link(0.0, 0.0), 3000, seed, "off")
    c_off = joint_coverage(off.table, names)["prk~irn"]
    assert abs(c_off["claimed"] - c_off["product"]) < 4 * _se(c_off)
    # a strong session shock and factor on top of each draft's own spread: the tallies move
    # together, and both fall inside their intervals more often than independence says
    on = run_drafts(scenarios, world, _link(1.0, 1.5, on_top=True), 3000, seed, "on")
    c_on = joint_coverage(on.table, names)["prk~irn"]
    assert c_on["claimed"] > c_on["product"] + 4 * _se(c_on)
    assert np.corrcoef(on.table["prk.plenary_yes"], on.table["irn.plenary_yes"])[0, 1] > 0.3
