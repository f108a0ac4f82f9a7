"""Backtests: the actual-vote file, the scores, the baselines, and the time split on a past vote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.backtest import (
    LOG_LOSS_FLOOR,
    Forecast,
    baseline_forecasts,
    read_actual,
    sample_tallies,
    score,
)
from unsim.calibration.idealpoint import IdealPointConfig
from unsim.errors import InputError

STATES = ["AAA", "BBB", "CCC", "DDD"]


def _probs(rows: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=pd.Index(STATES, name="iso3"), columns=list("YNAX"))


# --------------------------------------------------------------------------------------------
# The actual-vote file
# --------------------------------------------------------------------------------------------
def test_per_state_file_is_read_with_tallies(tmp_path: Path) -> None:
    path = tmp_path / "actual.csv"
    path.write_text("iso3,third_committee,plenary\nAAA,Y,Y\nbbb,n,N\nCCC,A,\nDDD,X,A\n")
    actual = read_actual(path)
    assert actual.stages == ["third_committee", "plenary"]
    assert actual.votes["plenary"].to_dict() == {"AAA": "Y", "BBB": "N", "DDD": "A"}
    assert actual.tallies["third_committee"] == {"yes": 1, "no": 1, "abstain": 1, "absent": 1}


def test_tallies_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "tallies.csv"
    path.write_text(
        "stage,yes,no,abstain,absent\nthird_committee,100,20,60,13\nplenary,104,21,58,\n"
    )
    actual = read_actual(path)
    assert actual.votes == {}
    assert actual.tallies["plenary"] == {"yes": 104, "no": 21, "abstain": 58}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "iso3,plenary\nAAA,Y\nBBB,maybe\n",
            r"line 3, column 'plenary': 'maybe' is not a vote; "
            r"allowed: Y \(yes\), N \(no\), A \(abstain\), X \(absent\)",
        ),
        ("iso3,plenery\nAAA,Y\n", r"'plenery' is not a stage.*did you mean 'plenary'"),
        ("iso3,plenary\nUSAA,Y\n", r"line 2, column 'iso3': 'USAA' is not an ISO 3166-1"),
        ("iso3,plenary\nAAA,Y\nAAA,N\n", r"line 3: AAA already given on line 2"),
        ("iso3,plenary\nAAA,Y,N\n", r"line 2: 3 fields, the header has 2"),
        ("country,plenary\nAAA,Y\n", r"expected a column 'iso3'.*or a column 'stage'"),
        ("stage,yes,no,abstain\nplenary,12x,3,4\n", r"line 2, column 'yes': '12x' is not a count"),
        ("stage,yes,no\nplenary,1,2\n", r"lack column\(s\) abstain"),
        ("", r"empty"),
    ],
)
def test_malformed_actual_file_gets_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_actual(path)


def test_missing_actual_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_actual(tmp_path / "none.csv")


def test_command_line_reports_a_malformed_actual_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from unsim.cli import main

    path = tmp_path / "bad.csv"
    path.write_text("iso3,plenary\nAAA,Q\n")
    code = main(["backtest", "scenarios/icc_referral.yaml", "--actual", str(path)])
    assert code == 2
    assert "line 2, column 'plenary': 'Q' is not a vote" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Scores on synthetic probabilities
# --------------------------------------------------------------------------------------------
ACTUAL = pd.Series(["Y", "N", "A", "X"], index=STATES)
TALLIES = {"yes": 1, "no": 1, "abstain": 1, "absent": 1}


def test_a_perfect_forecast_scores_perfectly() -> None:
    f = Forecast("perfect", _probs([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]))
    s = score(f, ACTUAL)
    assert s["accuracy"] == 1.0
    assert s["brier"] == 0.0
    assert s["log_loss"] == pytest.approx(0.0)


def test_uniform_and_wrong_forecasts() -> None:
    uniform = score(Forecast("u", _probs([[0.25] * 4] * 4)), ACTUAL)
    assert uniform["brier"] == pytest.approx(0.75)
    assert uniform["log_loss"] == pytest.approx(np.log(4))
    wrong = score(
        Forecast("w", _probs([[0, 1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])), ACTUAL
    )
    assert wrong["accuracy"] == 0.0
    assert wrong["brier"] == pytest.approx(2.0)
    assert wrong["log_loss"] == pytest.approx(-np.log(LOG_LOSS_FLOOR))


def test_interval_coverage_from_sampled_tallies() -> None:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(0)))
    probs = _probs([[0.9, 0.05, 0.05, 0.0]] * 4)
    tallies = sample_tallies(probs, 4000, rng)
    assert (tallies.sum(axis=1) == 4).all()
    inside = score(Forecast("m", probs, tallies), tallies={"yes": 4, "no": 0, "abstain": 0})
    assert inside["in90"] == 3
    outside = score(Forecast("m", probs, tallies), tallies={"yes": 0, "no": 4, "abstain": 0})
    assert outside["yes_in90"] is False and outside["no_in50"] is False


def test_baselines_from_previous_votes() -> None:
    previous = [
        pd.Series({"AAA": "Y", "BBB": "A", "CCC": "N"}),
        pd.Series({"AAA": "Y", "BBB": "Y", "CCC": "A"}),
    ]
    groups = pd.Series({"AAA": "g1", "BBB": "g1", "CCC": "g2", "DDD": "g1"})
    positions = pd.Series({"AAA": 1.0, "BBB": 0.5, "CCC": -1.0, "DDD": 0.0})
    out = {f.method: f for f in baseline_forecasts(previous, STATES, groups, positions, draws=100)}
    assert list(out) == ["last_vote", "bloc_majority", "cut_points", "all_yes"]
    last = out["last_vote"].probabilities.idxmax(axis=1)
    assert last.to_dict() == {"AAA": "Y", "BBB": "Y", "CCC": "A", "DDD": "Y"}  # DDD: its group
    assert out["bloc_majority"].probabilities.loc["CCC", "A"] == 1.0
    cut = out["cut_points"].probabilities
    np.testing.assert_allclose(cut.sum(axis=1), 1.0)
    assert cut.loc["AAA", "Y"] > cut.loc["CCC", "Y"]
    assert (out["all_yes"].probabilities["Y"] == 1.0).all()


# --------------------------------------------------------------------------------------------
# The time split on a past vote (real data, the engine, a few hundred runs)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def split_2011(data_dir: Path) -> dict:
    from unsim.calibration.timesplit import series_timesplit
    from unsim.calibration.validation import load_real_data

    data = load_real_data(data_dir)
    # a shorter window than the default keeps the test fast; the README table uses 10 sessions
    config = IdealPointConfig(sessions=4)
    return series_timesplit("PRK", data, years=[2011], runs=300, seed=3, config=config, workers=1)


def test_timesplit_forecasts_a_past_vote_better_than_naive_baselines(split_2011: dict) -> None:
    (vote,) = split_2011["years"]
    assert vote["rcid"] == 5133
    assert vote["recorded"]["yes"] == 123
    model = vote["unsim"]
    for naive in ("all_yes", "cutpoints"):
        assert model["accuracy"] > vote[naive]["accuracy"]
        assert model["brier"] < vote[naive]["brier"]
        assert model["logloss"] < vote[naive]["logloss"]
    # the probabilities are better than repeating each state's last vote
    assert model["brier"] < vote["last_vote"]["brier"]
    assert model["logloss"] < vote["last_vote"]["logloss"]


def test_timesplit_table_renders_as_markdown(split_2011: dict) -> None:
    from unsim.calibration.timesplit import series_timesplit_markdown

    text = series_timesplit_markdown(split_2011)
    assert "| 2011 | unsim |" in text
    assert "| method (mean over votes) |" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timesplit", "--series", "PRK", "--seeds", "0", "1"], "--seeds goes with"),
        (["--timesplit", "--series", "all", "--seed", "3"], "--series all takes"),
        (["--timesplit", "--series", "all", "--years", "2009"], "--series all takes"),
    ],
)
def test_the_all_series_time_split_refuses_options_it_does_not_take(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from unsim.cli import main

    assert main(["backtest", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_all_series_summary_and_its_targets() -> None:
    """The summary over seeds of per-vote scores, and the targets read from it."""
    from unsim.calibration.timesplit import METRICS, SERIES_METHODS
    from unsim.calibration.timesplitall import _over_seeds, targets_met

    def scores(brier: float) -> dict:
        return {m: {k: brier if k == "brier" else 0.8 for k in METRICS} for m in SERIES_METHODS}

    per_seed = {0: scores(0.20), 1: scores(0.30)}
    summary = _over_seeds(per_seed)
    assert summary["unsim"]["brier"]["mean"] == pytest.approx(0.25)
    assert summary["unsim"]["brier"]["sd"] == pytest.approx(np.std([0.2, 0.3], ddof=1))
    assert summary["logit"]["brier"]["min"] == 0.20 and summary["logit"]["brier"]["max"] == 0.30
    met = targets_met(summary)
    # equal to the baselines: not below them; accuracy equal: at least; coverage 0.8: inside
    assert met == {"brier": False, "logloss": False, "accuracy": True, "coverage90": True}
    summary["unsim"]["brier"]["mean"] = 0.2
    assert targets_met(summary)["brier"] is True


def test_the_targets_table_gives_each_gap_with_its_standard_error() -> None:
    """The printed targets: unsim's gap to each baseline ± its standard error, ``~`` where the
    gap is within two of them, and the coverage's share with the range honest intervals give."""
    from scipy import stats

    from unsim.calibration.timesplit import METRICS, SERIES_METHODS
    from unsim.calibration.timesplitall import coverage_range, targets_met, timesplit_all_markdown

    def spread(x: float) -> dict:
        return {"mean": x, "sd": 0.0, "min": x, "max": x}

    summary = {m: {k: spread(0.8) for k in METRICS} for m in SERIES_METHODS}
    summary["unsim"]["brier"] = spread(0.2)

    def gap(diff: float, se: float) -> dict:
        return {"diff": diff, "se": se, "se_votes": None}

    paired = {b: {k: gap(-0.03, 0.01) for k in ("accuracy", "brier", "logloss")}
              for b in ("logit", "last_vote")}  # fmt: skip
    paired["last_vote"]["accuracy"] = gap(-0.004, 0.003)
    series = {"forecast_votes": 4, "years": [2001, 2004], "summary": summary,
              "targets": targets_met(summary), "paired": paired}  # fmt: skip
    overall = {"forecast_votes": 4, "summary": summary, "paired": paired}
    result = {"series": {"AAA": series}, "overall": overall, "since": 2000, "seeds": [0],
              "runs": 10, "seconds": 1.0}  # fmt: skip
    text = timesplit_all_markdown(result)
    row = next(line for line in text.splitlines() if line.startswith("| AAA | met"))
    assert "met (-0.0300 ± 0.0100 / -0.0300 ± 0.0100)" in row
    assert "met (~-0.004 ± 0.003)" in row  # accuracy 0.8 against 0.8: met, and within noise
    lo, hi = coverage_range(16)
    assert f"80% of 16; honest: {lo:.0%}-{hi:.0%}" in row
    # the range: at most 5 % of honest coverages below it and at most 5 % above
    assert stats.binom.cdf(lo * 16 - 1, 16, 0.9) <= 0.05 < stats.binom.cdf(lo * 16, 16, 0.9)
    assert hi == 1.0
