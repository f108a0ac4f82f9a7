"""The Council's rules fitted on its record (unsim.council.tabling, unsim.council.votes): known
answers on synthetic cases, and a leave-one-out fit that never sees the case it scores."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
from scipy import special

from unsim.council import votes as rule
from unsim.council.cases import VoteCase
from unsim.council.record import Window
from unsim.council.tabling import exposure, fit_tabling, from_moments, record_chance, record_fit
from unsim.scenario import load_scenario
from unsim.uncertainty import Uncertain

from .conftest import DEFAULT_SCENARIO, POINT_SCENARIO

BAND, NOISE = 2.6689, 1.0


def _window(key: str, start: str, end: str, tabled: bool, opposed: bool) -> Window:
    day = dt.date.fromisoformat(end)
    ends = {"tabled": day} if tabled else {"until": day}
    return Window(
        key=key,
        target="SYR",
        sought_from=dt.date.fromisoformat(start),
        opposed_by=["CHN"] if opposed else [],
        recommended_by="a commission of inquiry",
        evidence="synthetic window",
        sources=["none"],
        **ends,
    )


def test_exposure_counts_whole_years_before_a_draft_and_the_part_of_an_open_one() -> None:
    assert exposure(_window("a", "2010-01-01", "2012-07-01", True, True)) == (1, 2.0)
    drafts, years = exposure(_window("b", "2010-01-01", "2010-10-01", False, True))
    assert drafts == 0 and years == pytest.approx(273 / 365.25)


def test_the_tabling_fit_is_the_beta_posterior_of_drafts_and_years_without() -> None:
    windows = [
        _window("a", "2000-01-01", "2000-03-01", True, True),  # a draft in its first year
        _window("b", "2000-01-01", "2003-06-01", True, True),  # three years without, then one
        _window("c", "2000-01-01", "2002-01-01", False, True),  # two years without (2 - 1 day)
        _window("d", "2000-01-01", "2000-02-01", True, False),  # the other signal
    ]
    fit = fit_tabling(windows, opposed=True)
    years = 3 + (dt.date(2002, 1, 1) - dt.date(2000, 1, 1)).days / 365.25
    assert (fit.alpha, fit.beta) == (pytest.approx(1 + 2), pytest.approx(1 + years))
    assert fit.windows == ("a", "b", "c") and fit.drafts == 2
    assert fit.mean == pytest.approx(3 / (3 + 1 + years))
    a, b = fit.alpha, fit.beta
    assert fit.sd == pytest.approx(np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))))
    lo, hi = fit.interval(0.9)
    assert special.betainc(a, b, lo) == pytest.approx(0.05) and special.betainc(a, b, hi) == (
        pytest.approx(0.95)
    )
    other = fit_tabling(windows, opposed=False)
    assert (other.alpha, other.beta) == (2.0, 1.0)
    # with no window of a signal, the prior: Beta(1, 1)
    assert fit_tabling(windows[:1], opposed=False).mean == 0.5


def test_many_synthetic_windows_recover_the_chance() -> None:
    """Windows drawn with a known yearly chance 0.3: the fit's mean comes back within 2 sd."""
    rng = np.random.default_rng(7)
    windows = []
    for i in range(400):
        years = rng.geometric(0.3)  # the year the draft came, 1-based
        start = dt.date(1990, 1, 1)
        end = start + dt.timedelta(days=int((years - 1) * 365.25 + 100))
        windows.append(_window(f"w{i}", start.isoformat(), end.isoformat(), True, True))
    fit = fit_tabling(windows, opposed=True)
    assert abs(fit.mean - 0.3) < 2 * fit.sd and fit.sd < 0.02


def test_the_earlier_mean_and_sd_are_the_beta_of_those_moments() -> None:
    beta = from_moments(0.3, 0.1)
    assert not isinstance(beta, float)
    assert beta.expectation() == pytest.approx(0.3) and beta.deviation() == pytest.approx(0.1)
    assert from_moments(0.4, 0.0) == 0.4
    with pytest.raises(ValueError, match="too large"):
        from_moments(0.1, 0.35)


def test_the_default_scenario_reads_the_record_before_its_date() -> None:
    scenario = load_scenario(DEFAULT_SCENARIO)
    fit = record_fit(True, scenario.date)
    assert fit.windows == ("darfur", "syria", "gaza", "dprk")
    assert (fit.alpha, fit.drafts) == (3.0, 2)
    # as known before the Syria vote of May 2014, Syria's own draft is not yet in it
    early = record_fit(True, dt.date(2014, 5, 22))
    assert early.drafts == 1 and early.mean < fit.mean
    # left out of a scenario, the chance is the record's Beta as known on its date
    left_out = load_scenario(  # its levers file is fitted up to November: the point draft
        POINT_SCENARIO,
        overrides={
            "procedure.council.tabling.chance": None,
            "date": "2014-05-22",
            "clause_calibration": None,  # fitted up to November too
        },
    )
    chance = left_out.procedure.council.tabling.chance
    assert isinstance(chance, Uncertain) and chance.dist == record_chance(
        True, dt.date(2014, 5, 22)
    )
    assert (chance.dist.a, chance.dist.b) == (early.alpha, early.beta)
    assert "darfur, syria, gaza, dprk" in str(chance.dist.source)


def _case(key: str, votes: dict[str, str], patrons=(), dissenters=()) -> VoteCase:
    return VoteCase(
        key=key,
        date=dt.date(2010, 1, 1),
        target="SYR",
        situation="syria",
        referral=True,
        votes=votes,
        patrons=tuple(patrons),
        dissenters=tuple(dissenters),
    )


def _synthetic(theta: dict[str, float], n_cases: int, seed: int) -> list[rule.Design]:
    """Cases whose members vote by the rule with ``theta`` (15 members, 2 patrons, 2
    dissenters each)."""
    rng = np.random.default_rng(seed)
    members = ["CHN", "FRA", "GBR", "RUS", "USA"] + [f"E{i:02d}" for i in range(10)]
    designs = []
    for k in range(n_cases):
        case = _case(f"c{k}", dict.fromkeys(members, "Y"), ("CHN", "RUS"), ("E00", "E01"))
        d = rule.design(case)
        p = rule.probabilities(d, {**dict.fromkeys(rule.PARAMS, 0.0), **theta}, BAND, NOISE)
        designs.append(replace(d, y=np.array([rng.choice(3, p=row) for row in p])))
    return designs


def test_the_vote_rule_fit_recovers_known_parameters() -> None:
    truth = {"norm": 4.5, "patron_defence": 7.0, "dissent": 2.0}
    designs = _synthetic(truth, n_cases=300, seed=3)
    fitted = rule.fit_votes(designs, BAND, NOISE)
    for k, v in truth.items():
        assert fitted[k] == pytest.approx(v, abs=0.35), (k, fitted)
    assert fitted["support_weight"] == 0.0 and fitted["icc_weight"] == 0.0

    # it maximises the posterior: nearby values do worse
    def objective(theta: dict[str, float]) -> float:
        x = np.array([theta[k] for k in rule.FITTED])
        return -rule.log_likelihood(designs, theta, BAND, NOISE) + float(
            np.sum((x / rule.PRIOR_SD) ** 2) / 2
        )

    best = objective(fitted)
    for k in rule.FITTED:
        for step in (-0.2, 0.2):
            assert objective({**fitted, k: fitted[k] + step}) > best


def test_leave_one_out_never_sees_the_case_it_scores() -> None:
    designs = _synthetic({"norm": 4.0, "patron_defence": 6.0, "dissent": 1.0}, 5, seed=4)
    # one case unlike the others: every member abstains
    odd = replace(designs[0], key="odd", y=np.full(15, 2))
    both = [*designs, odd]
    loo = rule.leave_one_out(both, BAND, NOISE)
    assert loo["odd"] == pytest.approx(rule.fit_votes(designs, BAND, NOISE))
    assert loo["odd"]["norm"] > rule.fit_votes(both, BAND, NOISE)["norm"]
    for d in designs:
        others = [o for o in both if o.key != d.key]
        assert loo[d.key] == pytest.approx(rule.fit_votes(others, BAND, NOISE))


def test_scores_known_answers() -> None:
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.25, 0.25], [0.0, 0.0, 1.0]])
    y = np.array([0, 1, 0])
    s = rule.scores(probs, y)
    assert s["accuracy"] == pytest.approx(1 / 3)
    assert s["brier"] == pytest.approx((0 + (0.25 + 0.5625 + 0.0625) + 2) / 3)
    assert s["log_loss"] == pytest.approx((0 - np.log(0.25) - np.log(0.01)) / 3)


def test_a_members_referral_stance_by_the_rule() -> None:
    """``MemberState.council_stance`` at the referral draft is the rule's stance: the norm, its
    own Council shift, less a dissenter's reluctance and a patron's defence, plus the patrons'
    shared shock."""
    from unsim.model import UNModel
    from unsim.model.agents import VetoHolder

    votes = {"norm": 4.0, "patron_defence": 6.0, "dissent": 1.5, "dissenters": ["NGA"]}
    s = load_scenario(
        DEFAULT_SCENARIO,
        overrides={
            "procedure.council.votes": {**votes, "patron_shock": 0.0},
            "actors.states.FRA.council_shift": 0.25,
        },
    )
    model = UNModel(s, replicates=8, seed=1)
    stance = {a.iso3: a.council_stance("sc_referral") for a in model.council_agents}
    assert np.all(stance["CHN"] == np.float32(4.0 - 6.0)) and np.all(stance["RUS"] == -2.0)
    assert np.all(stance["NGA"] == np.float32(2.5)) and np.all(stance["FRA"] == 4.25)
    assert np.all(stance["GBR"] == 4.0)
    # the same members' probabilities by the fit's own rule
    case = _case("x", {c: "Y" for c in stance}, ("CHN", "RUS"), ("NGA",))
    d = rule.design(case, shift={"FRA": 0.25})
    theta = {**dict.fromkeys(rule.PARAMS, 0.0), **votes}
    got = rule.stances(d, theta)[:, 0]
    assert got == pytest.approx([float(stance[c][0]) for c in d.members])
    # the agenda vote keeps the support rule
    assert not np.all(model.council_agents[0].council_stance("sc_agenda") == 4.0)
    # with the shock, both patrons move by the same draw of the run; nobody else moves
    shocked = load_scenario(
        DEFAULT_SCENARIO, overrides={"procedure.council.votes": {**votes, "patron_shock": 2.0}}
    )
    model = UNModel(shocked, replicates=64, seed=1)
    after = {a.iso3: a.council_stance("sc_referral") for a in model.council_agents}
    shock = VetoHolder.patrons_shock(model)
    assert shock.std() > 1.0 and np.all(after["CHN"] == after["RUS"])
    np.testing.assert_allclose(after["CHN"], -2.0 + shock, rtol=0, atol=1e-6)
    assert np.all(after["GBR"] == 4.0) and np.all(after["NGA"] == np.float32(2.5))


def _shocked_cases(theta: dict[str, float], n_cases: int, seed: int) -> list[rule.Design]:
    """Cases whose patrons share a shock of sd ``theta["patron_shock"]`` in each case (15
    members, 2 patrons, 2 dissenters); the others vote apart."""
    rng = np.random.default_rng(seed)
    full = {**dict.fromkeys(rule.PARAMS, 0.0), **theta}
    plain = {**full, "patron_shock": 0.0}
    designs = []
    for d in _synthetic(plain, n_cases, seed):
        s = rule.stances(d, plain)[:, 0] + full["patron_shock"] * rng.normal() * d.patron
        p_yes = special.expit((s - BAND) / NOISE)
        p_no = special.expit((-BAND - s) / NOISE)
        u = rng.random(len(s))
        designs.append(replace(d, y=np.where(u < p_yes, 0, np.where(u < p_yes + p_no, 1, 2))))
    return designs


def test_the_patrons_shared_shock_is_recovered_from_synthetic_votes() -> None:
    """Known answer: votes drawn with a shared shock of sd 3 give it back, with the rest of the
    rule, and the rate at which the two patrons vote alike comes back too. Shocks of the same
    size drawn apart for each patron are told apart from a shared one by the likelihood (as
    the backtest compares them)."""
    truth = {"norm": 4.5, "patron_defence": 7.0, "dissent": 2.0, "patron_shock": 3.0}
    designs = _shocked_cases(truth, n_cases=150, seed=11)
    fitted = rule.fit_votes(designs, BAND, NOISE)
    se, cov = rule.standard_errors(designs, fitted, BAND, NOISE)
    for k, v in truth.items():
        assert abs(fitted[k] - v) < 3 * se[k], (k, fitted, se)
    assert se["patron_shock"] < 0.5 and cov.shape == (4, 4)
    # the rate of voting alike the fit implies, against the synthetic votes' own rate
    pairs = [d.y[d.patron > 0] for d in designs]  # CHN's and RUS's votes
    alike = np.mean([a == b for a, b in pairs])
    implied = np.trace(rule.pair_probabilities(fitted, BAND, NOISE))
    assert abs(implied - alike) < 3 * np.sqrt(alike * (1 - alike) / len(designs))
    assert implied > np.trace(rule.pair_probabilities({**fitted, "patron_shock": 0.0}, BAND, NOISE))
    # a shock of the same size drawn apart for each patron
    rng = np.random.default_rng(12)
    apart = []
    full = {**dict.fromkeys(rule.PARAMS, 0.0), **truth}
    for d in _synthetic({**full, "patron_shock": 0.0}, 80, seed=13):
        s = rule.stances(d, full)[:, 0] + 3.0 * rng.normal(size=15) * d.patron
        p = np.stack([special.expit((s - BAND) / NOISE), special.expit((-BAND - s) / NOISE)], 1)
        u = rng.random(15)
        apart.append(replace(d, y=np.where(u < p[:, 0], 0, np.where(u < p.sum(1), 1, 2))))
    for votes, truly_shared in ((designs, True), (apart, False)):
        shared = fitted if truly_shared else rule.fit_votes(votes, BAND, NOISE)
        own = rule.fit_votes(votes, BAND, NOISE, shared=False)
        ll_shared = rule.log_likelihood(votes, shared, BAND, NOISE)
        ll_own = rule.log_likelihood(votes, own, BAND, NOISE, shared=False)
        assert (ll_shared > ll_own) == truly_shared, (truly_shared, ll_shared, ll_own)
        assert abs(own["patron_shock"] - 3.0) < 1.0 or truly_shared


def test_the_joint_likelihood_and_the_pair_of_patrons() -> None:
    """The case's likelihood integrates the shared shock (against a Monte Carlo sum), and the
    pair's probabilities are the product of the marginals without it."""
    theta = {**dict.fromkeys(rule.PARAMS, 0.0), "norm": 4.0, "patron_defence": 6.5}
    theta["patron_shock"] = 2.5
    d = _synthetic(theta, 1, seed=5)[0]
    d = replace(d, y=np.where(d.patron > 0, 1, d.y))  # both patrons vote no
    z = np.random.default_rng(6).normal(size=400_000)
    base = theta["norm"] - theta["patron_defence"]
    p_no = special.expit((-BAND - base - 2.5 * z) / NOISE)
    others = rule.case_log_likelihood(replace(d, patron=np.zeros(15), y=d.y), theta, BAND, NOISE)
    # the others alone (no patron): the patrons' rows count as non-patrons voting no at norm
    p_norm_no = special.expit((-BAND - 4.0) / NOISE)
    expected = others - 2 * np.log(p_norm_no) + np.log(np.mean(p_no**2))
    assert rule.case_log_likelihood(d, theta, BAND, NOISE) == pytest.approx(expected, abs=0.01)
    pair = rule.pair_probabilities(theta, BAND, NOISE)
    assert pair.sum() == pytest.approx(1.0) and pair == pytest.approx(pair.T)
    assert pair[1, 1] == pytest.approx(np.mean(p_no**2), rel=0.01)
    marg = rule.probabilities(d, theta, BAND, NOISE)[d.patron > 0][0]
    assert pair.sum(axis=1) == pytest.approx(marg, abs=1e-9)
    apart = rule.pair_probabilities({**theta, "patron_shock": 0.0}, BAND, NOISE)
    m0 = apart.sum(axis=1)
    assert apart == pytest.approx(np.outer(m0, m0))


def test_the_signal_names_permanent_members_only() -> None:
    from unsim.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        load_scenario(DEFAULT_SCENARIO, overrides={"procedure.council.tabling.opposed_by": ["DEU"]})
    text = err.value.render()
    assert "procedure.council.tabling.opposed_by" in text and "not permanent members" in text
    assert "CHN" in text


@pytest.mark.parametrize("shock", [3.87, 0.0])
def test_the_patrons_vote_alike_in_the_runs_as_the_fit_implies(shock: float) -> None:
    """In the model's runs China's and Russia's votes on the referral fall in the nine pairs of
    outcomes as often as the rule implies (``votes.pair_probabilities``): together with the
    shared shock, apart without it."""
    from unsim.model import UNModel, rules
    from unsim.model.params import effective_behaviour

    theta = {"norm": 4.76, "patron_defence": 7.22, "dissent": 2.03, "patron_shock": shock}
    s = load_scenario(
        DEFAULT_SCENARIO,
        overrides={
            "procedure.council.votes": theta,
            "procedure.council.table_referral": "always",
            "procedure.council.requires_plenary_adoption": False,
            "procedure.council.referral_requires_icc_language": False,
        },
    )
    runs = 20_000
    model = UNModel(s, replicates=runs, seed=3)
    model.simulate()
    votes = model.votes["sc_referral"]
    code = {int(rules.YES): 0, int(rules.NO): 1, int(rules.ABSTAIN): 2}
    chn, rus = (np.vectorize(code.get)(votes[model.world.index[c]]) for c in ("CHN", "RUS"))
    seen = np.zeros((3, 3))
    np.add.at(seen, (chn, rus), 1.0 / runs)
    b = effective_behaviour(s)
    implied = rule.pair_probabilities(
        {**dict.fromkeys(rule.PARAMS, 0.0), **theta}, b.abstention_band, b.vote_noise
    )
    assert np.abs(seen - implied).max() < 4 * np.sqrt(0.25 / runs)
    alike = np.trace(implied)
    assert abs(np.trace(seen) - alike) < 4 * np.sqrt(alike * (1 - alike) / runs)
    assert (alike > 0.7) if shock else (alike < 0.55)


def test_one_shock_per_situation() -> None:
    """With one vote per situation the per-situation likelihood is the per-vote one; with two
    votes of one situation their patrons' votes are integrated over one shock together."""
    theta = {**dict.fromkeys(rule.PARAMS, 0.0), "norm": 4.0, "patron_defence": 6.0}
    theta["patron_shock"] = 3.0
    a, b = _synthetic(theta, 2, seed=8)
    a, b = replace(a, situation="x"), replace(b, situation="y")
    per_vote = rule.log_likelihood([a, b], theta, BAND, NOISE)
    assert rule.log_likelihood([a, b], theta, BAND, NOISE, "situation") == pytest.approx(per_vote)
    same = replace(b, situation="x")
    together = rule.log_likelihood([a, same], theta, BAND, NOISE, "situation")
    z, w = rule.shock_grid()

    def patrons(d: rule.Design) -> np.ndarray:
        s = rule.stances(d, theta)[d.patron > 0][:, :1] + 3.0 * z[None, :]
        p_yes = special.expit((s - BAND) / NOISE)
        p_no = special.expit((-BAND - s) / NOISE)
        p = np.stack([p_yes, p_no, 1 - p_yes - p_no], axis=-1)
        return np.take_along_axis(p, d.y[d.patron > 0][:, None, None], axis=2)[..., 0].prod(0)

    apart = sum(
        rule.case_log_likelihood(
            replace(d, patron=np.zeros(15), y=np.where(d.patron > 0, 0, d.y)), theta, BAND, NOISE
        )
        - 2 * np.log(special.expit((4.0 - BAND) / NOISE))
        for d in (a, same)
    )
    assert together == pytest.approx(apart + np.log(np.sum(w * patrons(a) * patrons(same))))
