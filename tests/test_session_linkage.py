"""The session linkage's estimator recovers the factor it is given (sessions simulated with
one), and the calibration command writes a file a session reads."""

from __future__ import annotations

import numpy as np
import pytest

from unsim.session.estimate import (
    DraftVotes,
    Fit,
    SessionVotes,
    estimate_linkage,
    fit_draft,
    simulate_sessions,
)

GRID = (0.0, 0.5, 1.0, 1.5, 2.0)


def _sessions(
    tau: float, shock: float, n_sessions: int, seed: int, rho: float | None = None
) -> list[SessionVotes]:
    """Sessions of three drafts on 120 states, each draft its own level and slope, a factor of
    sd ``tau`` per state and session shared by the session's drafts (or, with ``rho``, the vote
    copula of that correlation), a shock of sd ``shock``."""
    rng = np.random.default_rng(seed)
    shapes, fits = [], []
    levels = {"A": 0.8, "B": 0.2, "C": -0.3}
    for t in range(n_sessions):
        x = rng.standard_normal(120)
        x[rng.random(120) < 0.05] = np.nan  # a few states without an ideal point
        drafts = [DraftVotes(c, np.where(rng.random(120) < 0.1, np.nan, 0.0)) for c in levels]
        shapes.append(SessionVotes(t, x, drafts))
        fits.append([Fit(a, rng.normal(2.0, 0.3), 1.5) for a in levels.values()])
    return simulate_sessions(shapes, fits, tau, rng, shock_sd=shock, rescale=False, rho=rho)


def test_the_ordered_logit_recovers_its_coefficients() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(20_000)
    u = rng.random(20_000)
    z = 0.4 + 1.7 * x + np.log(u / (1 - u))
    y = np.where(z > 1.2, 1.0, np.where(z < -1.2, -1.0, 0.0))
    f = fit_draft(x, y)
    assert f.a == pytest.approx(0.4, abs=0.05)
    assert f.b == pytest.approx(1.7, abs=0.06)
    assert f.c == pytest.approx(1.2, abs=0.05)


@pytest.mark.parametrize("tau", [0.0, 1.0])
def test_the_factor_sd_is_recovered_from_sessions_simulated_with_it(tau: float) -> None:
    est = estimate_linkage(_sessions(tau, 0.0, 14, seed=5), seed=3, replicates=2, grid=GRID)
    assert est.factor_sd == pytest.approx(tau, abs=0.3)
    assert est.sessions == 14 and est.pairs == 14 * 3
    assert list(est.grid.values()) == sorted(est.grid.values())  # more factor, more correlation


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_the_vote_copulas_rho_is_recovered_from_sessions_simulated_with_it(rho: float) -> None:
    sessions = _sessions(0.0, 0.0, 14, seed=5, rho=rho)
    grid = (0.0, 0.2, 0.4, 0.6, 0.8)
    est = estimate_linkage(sessions, seed=3, replicates=2, grid=grid, form="copula")
    assert est.copula_rho == pytest.approx(rho, abs=0.12)
    assert est.factor_sd == 0.0 and est.form == "copula"
    assert list(est.grid.values()) == sorted(est.grid.values())  # more rho, more correlation


def test_the_copula_keeps_each_drafts_votes_as_its_fit_alone() -> None:
    """The same sessions with and without the copula: each draft's shares of yes, no and
    abstain agree (the copula moves no draft's own distribution), while a state's votes on two
    drafts correlate only with it."""
    shares, corr = {}, {}
    for rho in (0.0, 0.8):
        sim = _sessions(0.0, 0.0, 40, seed=11, rho=rho)
        y = np.array([[d.scores for d in s.drafts] for s in sim])  # sessions, drafts, states
        shares[rho] = [np.nanmean(y == v) / np.mean(~np.isnan(y)) for v in (1.0, 0.0, -1.0)]
        both = ~np.isnan(y[:, 0]) & ~np.isnan(y[:, 1])
        centred = [y[:, k][both] - np.nanmean(y[:, k][both]) for k in (0, 1)]
        corr[rho] = float(np.corrcoef(*centred)[0, 1])
    assert shares[0.8] == pytest.approx(shares[0.0], abs=0.01)
    assert corr[0.8] > corr[0.0] + 0.1


def test_the_factor_sd_grows_with_the_factor() -> None:
    low = estimate_linkage(_sessions(0.5, 0.0, 14, seed=8), seed=3, replicates=2, grid=GRID)
    high = estimate_linkage(_sessions(1.5, 0.0, 14, seed=8), seed=3, replicates=2, grid=GRID)
    assert high.factor_sd > low.factor_sd + 0.5


def test_the_session_shock_is_seen_in_the_drafts_levels() -> None:
    grid = (0.0, 1.0)  # the factor is not what this test is about
    none = estimate_linkage(_sessions(0.0, 0.0, 30, seed=2), seed=3, replicates=1, grid=grid)
    some = estimate_linkage(_sessions(0.0, 1.0, 30, seed=2), seed=3, replicates=1, grid=grid)
    assert none.shock_sd < 0.35
    assert 0.6 < some.shock_sd < 1.4


def test_the_record_of_adoptions_without_a_vote(data_dir) -> None:  # type: ignore[no-untyped-def]
    """The DPRK's 2012 and 2013 resolutions, adopted without a vote, are counted from its
    tallies file, Myanmar's from the public record written into the code; their recorded
    plenary votes from the roll calls."""
    import datetime as dt

    from unsim.data import load_members, load_roll_calls, load_votes
    from unsim.session.calibrate import linked_sessions, series_roll_calls, without_vote_records

    votes = load_votes(data_dir / "unga_votes_1946_2014-09.csv.gz")
    found = series_roll_calls(
        load_roll_calls(data_dir / "unga_roll_calls_1946_2014-09.csv"),
        votes,
        load_members(data_dir / "un_member_states_2014.csv"),
        dt.date(2014, 11, 18),
    )
    assert (found["date"] < dt.date(2014, 11, 18)).all()
    records = without_vote_records(found, data_dir, dt.date(2014, 11, 18))
    prk = records["PRK"]
    assert prk.without_vote == 2 and prk.adoptions == (found["iso3"] == "PRK").sum() + 2
    assert records["IRN"].without_vote == 0 and records["IRN"].adoptions >= 11
    mmr = records["MMR"]
    assert mmr.without_vote == 2 and mmr.adoptions == (found["iso3"] == "MMR").sum() + 2
    assert "A/RES/67/233" in mmr.source or "67/233" in mmr.source
    before_2013 = without_vote_records(found, data_dir, dt.date(2013, 1, 1))
    assert before_2013["PRK"].without_vote == 1 and before_2013["MMR"].without_vote == 1
    sessions = linked_sessions(found)
    assert sessions and all(found[found["session"] == s]["iso3"].nunique() >= 2 for s in sessions)


@pytest.mark.slow
def test_calibrate_session_linkage_writes_a_file_a_session_reads(data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On the two sessions before September 1994 (two ideal-point fits)."""
    import yaml

    from unsim.cli import main
    from unsim.session.load import load_linkage

    out = tmp_path / "linkage.yaml"
    argv = ["calibrate", "--session-linkage", "--before", "1994-09-01", "--out", str(out)]
    argv += ["--data", str(data_dir)]
    assert main(argv) == 0
    link = load_linkage(out)
    assert link.fit["sessions"] == [47, 48]
    factor = link.linkage.state_factor
    assert factor.sd >= 0 and "sessions 47-48" in factor.source
    assert yaml.safe_load(out.read_text())["kind"] == "session_linkage"
    assert main(argv) == 0  # its own file: replaced
