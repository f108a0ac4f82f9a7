"""Resolution series: the finder, the series' vote model, its uncertainty in the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from unsim.calibration.series import find_series
from unsim.calibration.seriesfit import (
    SeriesVotes,
    Spec,
    fit_absence,
    fit_series,
    state_records,
)
from unsim.calibration.seriesstate import select_offset_sd, with_offsets
from unsim.data import ROLL_CALLS_FILE, VOTES_FILE, load_roll_calls, load_votes

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG")
TRUE = {
    "intercept": 1.0,
    "trend": 0.15,
    "position_weight": 2.0,
    "record_weight": 3.0,
    "abstention_band": 2.0,
    "session_shock_sd": 0.5,
    "group_shock_sd": 0.6,
}


def simulate_series(
    n_states: int = 190,
    n_votes: int = 10,
    seed: int = 0,
    decay: float = 0.5,
    true: dict[str, float] | None = None,
    offsets: np.ndarray | None = None,
) -> tuple[SeriesVotes, pd.Series, pd.Series, pd.Series]:
    """Votes drawn from the series model with the parameters ``true`` (``TRUE`` by default; a
    ``last_vote_weight`` on the state's last present vote, and per-state ``offsets``, if given)
    and absences."""
    TRUE = true or globals()["TRUE"]
    rng = np.random.default_rng(seed)
    codes = [f"S{i:03d}" for i in range(n_states)]
    positions = pd.Series(rng.standard_normal(n_states), index=codes)
    groups = pd.Series([GROUPS[i % 5] for i in range(n_states)], index=codes)
    absence = pd.Series(rng.beta(1.0, 15.0, n_states), index=codes)
    group_idx = np.arange(n_states) % 5
    years = np.arange(n_votes, dtype=float) - (n_votes - 1)
    num, den = np.zeros(n_states), np.zeros(n_states)
    last = np.zeros(n_states)
    cols = {}
    for t in range(n_votes):
        record = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)
        level = TRUE["intercept"] + TRUE["trend"] * years[t]
        level += TRUE["session_shock_sd"] * rng.standard_normal()
        shocks = TRUE["group_shock_sd"] * rng.standard_normal(5)
        s = level + TRUE["position_weight"] * positions.to_numpy() + shocks[group_idx]
        if t > 0:
            s = s + TRUE["record_weight"] * record + TRUE.get("last_vote_weight", 0.0) * last
        if offsets is not None:
            s = s + offsets
        band = TRUE["abstention_band"]
        p_yes, p_no = special.expit(s - band), special.expit(-band - s)
        u = rng.random(n_states)
        letter = np.where(u < p_yes, "Y", np.where(u < p_yes + p_no, "N", "A"))
        away = rng.random(n_states) < absence.to_numpy()
        letter = np.where(away, "X", letter)
        code = np.select([letter == "Y", letter == "N", letter == "A"], [1.0, -1.0, 0.0], np.nan)
        seen = ~np.isnan(code)
        last[seen] = code[seen]
        num, den = decay * num, decay * den
        num[seen] += code[seen]
        den[seen] += 1.0
        cols[1000 + t] = letter
    letters = pd.DataFrame(cols, index=codes)
    dates = pd.Series(
        pd.to_datetime([f"{2000 + t}-12-15" for t in range(n_votes)]), index=list(cols)
    )
    return SeriesVotes(letters, dates), positions, groups, absence


def test_series_fit_recovers_known_parameters_within_their_standard_errors() -> None:
    votes, positions, groups, absence = simulate_series()
    fit = fit_series(votes, positions, groups, Spec(0.5, True))
    for name in (
        "trend",
        "position_weight",
        "record_weight",
        "abstention_band",
        "session_shock_sd",
        "group_shock_sd",
    ):
        se = fit.standard_errors[name]
        assert se is not None and se > 0, name
        assert abs(fit.params[name] - TRUE[name]) < 3 * se, (name, fit.params[name], se)
    # the intercept is the level at the last vote: the simulated level there
    assert abs(fit.params["intercept"] - TRUE["intercept"]) < 3 * fit.standard_errors["intercept"]
    # absences: per-state rates shrunk toward the general rate recover the simulated ones
    rates, info = fit_absence(votes.letters == "X", absence)
    assert abs(rates.mean() - absence.mean()) < 0.01
    assert np.corrcoef(rates, absence)[0, 1] > 0.5
    assert info["comparable_roll_calls"] == 10


def test_series_fit_recovers_a_last_vote_weight_within_its_standard_error() -> None:
    """Votes simulated with a separate weight on the state's last vote: the specification with
    that term recovers it and the record's weight; the state term the engine reads is their
    weighted mix, within [-1, 1], weighing their sum."""
    true = {**TRUE, "record_weight": 2.0, "last_vote_weight": 1.5}
    votes, positions, groups, _ = simulate_series(n_votes=12, seed=5, true=true)
    fit = fit_series(votes, positions, groups, Spec(0.5, True, last=True))
    for name in ("position_weight", "record_weight", "last_vote_weight", "abstention_band"):
        se = fit.standard_errors[name]
        assert se is not None and se > 0, name
        assert abs(fit.params[name] - true[name]) < 3 * se, (name, fit.params[name], se)
    record, weight = state_records(fit, votes.letters)
    assert weight == pytest.approx(fit.params["record_weight"] + fit.params["last_vote_weight"])
    assert record.between(-1.0, 1.0).all()
    plain = fit_series(votes, positions, groups, Spec(0.5, True))
    assert plain.params["last_vote_weight"] == 0.0
    assert plain.standard_errors["last_vote_weight"] is None


def test_state_offsets_are_recovered_and_chosen_out_of_sample() -> None:
    """Votes simulated with a per-state offset of sd 1.5 and no record term: the offsets
    estimated from the earlier votes follow the simulated ones, out-of-sample selection keeps
    them, and the state term the engine reads carries them. Votes simulated without offsets
    (their persistence is the record's): selection keeps none, or small ones."""
    true_offsets = 1.5 * np.random.default_rng(108).standard_normal(190)
    no_record = {**TRUE, "record_weight": 0.0}
    votes, positions, groups, _ = simulate_series(seed=8, true=no_record, offsets=true_offsets)
    spec = Spec(None, True)
    sd, table = select_offset_sd(votes, positions, groups, spec)
    assert sd >= 1.0, table
    fit = with_offsets(fit_series(votes, positions, groups, spec), votes, positions, groups, sd)
    assert fit.offsets is not None and fit.params["state_offset_sd"] == sd
    assert np.corrcoef(fit.offsets.to_numpy(), true_offsets)[0, 1] > 0.8
    record, weight = state_records(fit, votes.letters)
    assert record.between(-1.0, 1.0).all()
    np.testing.assert_allclose(record * weight, fit.offsets.reindex(record.index), atol=1e-9)
    votes, positions, groups, _ = simulate_series(seed=9)
    sd0, table0 = select_offset_sd(votes, positions, groups, Spec(0.5, True))
    assert sd0 <= 0.5, table0


def test_bound_warning_fires_on_a_series_too_short_to_identify_the_intercept() -> None:
    votes, positions, groups, _ = simulate_series(n_states=40, n_votes=2, seed=3)
    unanimous = SeriesVotes(votes.letters.where(votes.letters == "X", "Y"), votes.dates)
    fit = fit_series(unanimous, positions, groups, Spec(None, True))
    assert any("optimiser bound" in w for w in fit.warnings)
    assert fit.at_bounds


def test_finder_drops_amendments_motions_and_duplicates() -> None:
    rc = pd.DataFrame(
        {
            "rcid": [1, 2, 3, 4, 5, 6],
            "session": [60, 60, 60, 60, 60, 61],
            "date": pd.to_datetime(["2005-12-16"] * 5 + ["2006-12-19"]),
            "unres": ["R/60/1", "R/60/1", "R/60/2", "R/60/3", "R/60/4", "R/61/1"],
            "amend": [0, 0, 0, 1, 0, 0],
            "para": [0, 0, 0, 0, 0, 0],
            "short": [""] * 6,
            "descr": [
                "Situation of human rights in Myanmar",
                "Situation of human rights in Myanmar",  # same unres and date
                "HUMAN RIGHTS, MYANMAR",  # same votes as rcid 1
                "Situation of human rights in Myanmar (amendment)",
                "Motion for no action on the draft on human rights in Myanmar",
                "Situation of human rights in Myanmar",
            ],
        }
    )
    votes = pd.DataFrame(
        {
            "rcid": [1, 1, 3, 3, 6, 6],
            "ccode": [2, 20, 2, 20, 2, 20],
            "vote": [1, 3, 1, 3, 1, 1],
        }
    )
    found = find_series(rc, "MMR", votes)
    assert found.rcids == [1, 6]
    why = {d["rcid"]: d["why"] for d in found.dropped}
    assert "duplicate" in str(why[2]) and "duplicate" in str(why[3])
    assert "amendment" in str(why[4]) and "procedural" in str(why[5])


def test_finder_returns_the_known_roll_calls_of_real_series(data_dir: Path) -> None:
    rc = load_roll_calls(data_dir / ROLL_CALLS_FILE)
    votes = load_votes(data_dir / VOTES_FILE)
    prk = find_series(rc, "PRK", votes)
    assert prk.rcids == [4604, 4725, 4813, 4882, 5029, 5108, 5133]
    iran = find_series(rc, "IRN", votes, before="2014-11-18")
    assert 5916 not in iran.rcids  # the no-action motion of 2011
    assert iran.rcids[-3:] == [5134, 5240, 5303]
    syria = find_series(rc, "SYR", votes)
    assert syria.rcids == [5135, 5241, 5291]  # not the Golan resolutions
    for found in (prk, iran, syria):
        used = found.used
        assert not used.duplicated(["unres", "date"]).any()


def _run_with_calibration(calibration: str, runs: int = 400) -> pd.DataFrame:
    from unsim import load_scenario, run

    scenario = load_scenario(
        ROOT / "scenarios" / "icc_referral.yaml",
        overrides={"calibration": str(ROOT / "scenarios" / "calibration" / calibration)},
    )
    return run(scenario, runs=runs, seed=5, workers=1).runs


def test_an_iran_and_a_syria_calibration_give_different_tallies() -> None:
    iran = _run_with_calibration("iran_2014.yaml")
    syria = _run_with_calibration("syria_2014.yaml")
    assert iran["plenary_yes"].median() != syria["plenary_yes"].median()
    assert abs(iran["plenary_yes"].mean() - syria["plenary_yes"].mean()) > 2


def test_engine_intervals_cover_tallies_simulated_from_the_same_uncertainty() -> None:
    """The engine draws the calibration's level and group shocks per run: its 90 % interval of
    the plenary's yes tally holds about 90 % of tallies drawn independently from that model."""
    from unsim import load_scenario, run
    from unsim.scenario.loader import load_calibration

    cal_path = ROOT / "scenarios" / "calibration" / "dprk_2014.yaml"
    overrides = {
        "resolution.stages": ["plenary"],
        "resolution.clauses.icc_referral": False,
        "actors.target.strategies": [],
        "actors.sponsors.lobbying.budget": 0,
        "actors.allies.members": [],
        "actors.allies.patrons": [],
        "simulation.rounds.third_committee": 0,
        "simulation.rounds.plenary": 0,
        "simulation.rounds.security_council": 0,
    }
    scenario = load_scenario(ROOT / "scenarios" / "icc_referral.yaml", overrides=overrides)
    runs = run(scenario, runs=2000, seed=11, workers=1).runs
    lo, hi = np.quantile(runs["plenary_yes"], [0.05, 0.95])
    # the same model, drawn here with NumPy: level, weights, group shocks, votes, absences
    cal = load_calibration(cal_path)
    b, u = cal.behaviour, cal.uncertainty
    world = scenario.world
    codes = [s.iso3 for s in world.states if s.iso3 != "PRK"]
    group_of = {s.iso3: s.group for s in world.states}
    pos = np.array([cal.states[c].position for c in codes])
    rec = np.array([cal.states[c].record or 0.0 for c in codes])
    away = np.array([cal.states[c].absence or 0.0 for c in codes])
    names = sorted(set(group_of.values()))
    gidx = np.array([names.index(group_of[c]) for c in codes])
    rng = np.random.default_rng(2)
    inside = 0
    draws = 300
    for _ in range(draws):
        level = b["intercept"] + u["level_sd"] * rng.standard_normal()
        z1, z2 = rng.standard_normal(2)
        rho = u["weights_correlation"]
        w = b["position_weight"] + u["position_weight_sd"] * z1
        g = b["record_weight"] + u["record_weight_sd"] * (rho * z1 + np.sqrt(1 - rho**2) * z2)
        shocks = u["group_shock_sd"] * rng.standard_normal(len(names))
        s = level + w * pos + g * rec + shocks[gidx]
        p_yes = special.expit(s - b["abstention_band"])
        yes = (rng.random(len(codes)) < p_yes * (1 - away)).sum()
        inside += int(lo <= yes <= hi)
    coverage = inside / draws
    assert 0.84 <= coverage <= 0.96, (coverage, lo, hi)


@pytest.mark.slow
def test_series_timesplit_writes_every_method(data_dir: Path, tmp_path: Path) -> None:
    from unsim.calibration.idealpoint import IdealPointConfig
    from unsim.calibration.timesplit import series_timesplit
    from unsim.calibration.validation import load_real_data

    data = load_real_data(data_dir)
    config = IdealPointConfig(sessions=4)  # a short window: a quick ideal-point estimate
    result = series_timesplit("SYR", data, years=[2013], runs=300, seed=1, config=config, workers=1)
    assert result["series"] == "SYR"
    assert [y["year"] for y in result["years"]] == [2013]
    assert result["years"][0]["recorded"] == {"yes": 127, "no": 13, "abstain": 47, "absent": 6}
    for method in ("unsim", "last_vote", "cutpoints", "all_yes"):
        assert set(result["mean"][method]) == {
            "accuracy",
            "brier",
            "logloss",
            "coverage50",
            "coverage90",
        }


def test_calibration_warns_of_a_short_series_and_a_forecast_date_far_past_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small synthetic world: 40 states, 3 sessions of roll calls, a series of 3 votes."""
    from unsim.calibration.idealpoint import IdealPointConfig
    from unsim.calibration.seriescal import build_series_calibration, calibrate_series

    monkeypatch.setenv("UNSIM_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(4)
    n = 40
    members = pd.DataFrame(
        {
            "iso3": [f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(n - 1)] + ["MMR"],
            "cow": np.arange(1, n + 1) * 10,
            "name": [f"State {i}" for i in range(n - 1)] + ["Myanmar"],
            "un_regional_group": [GROUPS[i % 5] for i in range(n)],
        }
    )
    x = rng.standard_normal(n)
    rows, calls = [], []
    for j in range(30):
        session = 60 + j // 10
        date = pd.Timestamp(f"{2005 + j // 10}-12-{10 + j % 10}")
        series = j % 10 == 9
        descr = "Situation of human rights in Myanmar" if series else f"Roll call {j}"
        calls.append((1000 + j, session, date, f"R/{session}/{j}", 0, 0, "", descr))
        b = rng.normal(2.0, 0.5) if series else rng.normal(0.0, 1.5)
        s = x * b + rng.normal(0, 1, n) + (1.0 if series else 0.0)
        vote = np.where(s > 0.8, 1, np.where(s < -0.8, 3, 2))
        vote[rng.random(n) < 0.05] = 8
        for i in range(n):
            rows.append((1000 + j, session, int(vote[i]), int(members["cow"][i]), date, 1))
    roll_calls = pd.DataFrame(
        calls, columns=["rcid", "session", "date", "unres", "amend", "para", "short", "descr"]
    )
    votes = pd.DataFrame(rows, columns=["rcid", "session", "vote", "ccode", "date", "hr"])
    config = IdealPointConfig(sessions=3, dims=1)
    sc = calibrate_series(votes, roll_calls, members, "MMR", "2016-06-01", config=config)
    assert sc.votes.rcids == [1009, 1019, 1029]
    text = " ".join(sc.warnings)
    assert "more than a year past the data" in text
    assert "fewer than 5" in text
    cal = build_series_calibration(sc, "synthetic", {})
    assert cal.diagnostics["warnings"] == sc.warnings
    assert set(cal.uncertainty) >= {"level_sd", "group_shock_sd", "record_weight_sd"}
    assert cal.diagnostics["window"]["data_last_date"] == "2007-12-19"
    # a calibration file is written atomically, the same for the same data and seed, and read back
    from unsim.calibration.calibrate import write_calibration
    from unsim.scenario.loader import load_calibration

    again = calibrate_series(votes, roll_calls, members, "MMR", "2016-06-01", config=config)
    texts = []
    for k, fitted in enumerate((sc, again)):
        built = build_series_calibration(fitted, "synthetic", {"command": "test"})
        texts.append(write_calibration(built, tmp_path / f"cal{k}.yaml").read_text())
    assert texts[0] == texts[1]
    loaded = load_calibration(tmp_path / "cal0.yaml")
    assert set(loaded.behaviour) >= {"intercept", "position_weight", "abstention_band"}
    assert "icc_aversion" in loaded.diagnostics["not_identified"]
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left behind"
