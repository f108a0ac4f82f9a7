"""A state's stance on a clause apart from its stance on the draft: the model's stances and
votes, the old mirror as a special case, and the pair model's estimator on known answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from unsim.calibration.clausefit import fit_pairs, tables
from unsim.model import UNModel
from unsim.model.rules import YES
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO as REFERENCE

#: the ICC language retained by no bargain; an amendment deleting it moved in every run
AMENDED: dict[str, Any] = {
    "actors.target.strategies": [],
    "actors.sponsors.bargaining.accept_offer_min_credibility": 1.01,
    "actors.sponsors.bargaining.drop_if_expected_yes_share_below": 0.0,
    "procedure.amendment.move": "always",
    "procedure.no_action_motion.move": "never",
}
CLAUSE = {"behaviour.clause_pass_through": 0.2, "behaviour.clause_deviation_sd": 2.0}


def _model(overrides: dict[str, Any], replicates: int = 400, seed: int = 3) -> UNModel:
    return UNModel(load_scenario(REFERENCE, overrides=overrides), replicates=replicates, seed=seed)


def _stances(overrides: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, float, float]:
    m = _model({**AMENDED, **overrides})
    m.step()  # a round of diplomacy: the stances at the first votes
    b = m.behaviour
    return m.stances("amendment"), m.stances("third_committee"), b.abstention_band, b.amendment_bias


def test_with_full_pass_through_and_no_deviation_the_votes_mirror_each_other() -> None:
    """Pass-through 1 and no deviation (the defaults): the amendment's stance is minus the
    draft's plus its bias, for every state and run while the language stands, so no state is
    surely for both; the model gives the same results as a scenario that does not name them."""
    amendment, draft, band, bias = _stances(
        {"behaviour.clause_pass_through": 1.0, "behaviour.clause_deviation_sd": 0.0}
    )
    np.testing.assert_allclose(amendment + draft, bias, atol=1e-4)
    assert not ((amendment > band) & (draft > band)).any()
    plain = _model(AMENDED, replicates=300).simulate()
    named = _model(
        {**AMENDED, "behaviour.clause_pass_through": 1.0, "behaviour.clause_deviation_sd": 0.0},
        replicates=300,
    ).simulate()
    for key in ("amendment_yes", "amendment_no", "third_committee_yes", "plenary_yes"):
        np.testing.assert_array_equal(plain[key], named[key])


def test_a_state_may_be_for_deleting_the_paragraphs_and_for_the_draft() -> None:
    """With a clause stance of its own (pass-through 0.2, deviation sd 2), states whose stance
    is beyond the band for deleting the paragraphs and for the draft exist; their sum is no
    longer the amendment's bias."""
    amendment, draft, band, bias = _stances(CLAUSE)
    both = (amendment > band) & (draft > band)
    assert both.any()  # never under the mirror (the test above): the sum is the bias, < 2 band
    assert np.abs(amendment + draft - bias).max() > 1.0


def test_an_amendment_fails_while_states_that_voted_for_it_vote_for_the_draft() -> None:
    """In runs where the amendment deleting the ICC paragraphs fails (the language stands at the
    committee's vote), states vote yes on the amendment and yes on the draft: many more than
    under the old mirror, which has few (each vote's own noise)."""

    def both_yes(overrides: dict[str, Any]) -> tuple[int, int]:
        m = _model({**AMENDED, **overrides}, replicates=400)
        kept: dict[str, np.ndarray] = {}
        record = m.procedure._record

        def keep(stage: str, held: Any, votes: np.ndarray, *args: Any, **kwargs: Any) -> Any:
            kept[stage] = votes.copy()  # every state's votes at the stage (states, runs)
            return record(stage, held, votes, *args, **kwargs)

        m.procedure._record = keep  # type: ignore[method-assign]
        res = m.simulate()
        failed = res["amendment_held"] & ~res["amendment_adopted"]
        yes = (kept["amendment"] == YES) & (kept["third_committee"] == YES)
        return int(failed.sum()), int(yes[:, failed].sum())

    runs, own = both_yes(CLAUSE)
    mirror_runs, mirror = both_yes({})
    assert runs > 50 and mirror_runs > 50
    assert own / runs > 3 * mirror / mirror_runs
    assert own >= 100  # state-runs voting for the failed amendment and for the draft


def _synthetic(lam: float, sigma: float, band: float, n_pairs: int, seed: int) -> Any:
    """States' votes on pairs drawn by the pair model (``clausefit``'s module doc), written
    out here: the clause vote first, the whole carrying ``lam`` of the clause term if the
    clause stayed in."""
    rng = np.random.default_rng(seed)
    states = 150
    rows = []

    def vote(latent: np.ndarray) -> np.ndarray:
        e = rng.logistic(size=latent.shape)
        return np.where(latent + e > band, 2, np.where(latent + e < -band, 0, 1))

    for j in range(n_pairs):
        m, tau, mu = rng.uniform(-1, 5), rng.uniform(1.5, 4), rng.uniform(-1.5, 1.5)
        o = -1.0 if j % 4 == 0 else 1.0  # every fourth a hostile amendment
        s = m + tau * rng.standard_normal(states)
        d = sigma * rng.standard_normal(states)
        clause = vote(o * (s + d) + mu)
        kept = ((clause == 2).sum() > (clause == 0).sum()) == (o > 0)
        whole = vote(s + lam * kept * d)
        rows.append((np.full(states, j), whole, clause))
    pair, whole, clause = (np.concatenate(c) for c in zip(*rows, strict=True))
    return tables(pair, whole, clause, n_pairs)


@pytest.mark.parametrize(("lam", "sigma"), [(0.3, 2.0), (0.7, 2.5)])
def test_the_estimator_recovers_a_known_pass_through_and_deviation(
    lam: float, sigma: float
) -> None:
    """40 pairs of 150 states drawn with a known pass-through and deviation sd: the fit finds
    each within three standard errors (the sd within a fifth of itself where that is wider:
    with each pair's own three parameters fitted it is biased down a little in small samples,
    -7 % on 120 pairs in one draw), and fits far better than the mirror."""
    band = 1.5
    t = _synthetic(lam, sigma, band, n_pairs=40, seed=5)
    fit = fit_pairs(t, band)
    se_lam, se_sig = fit.se["pass_through"], fit.se["deviation_sd"]
    assert se_lam is not None and se_sig is not None
    assert 0 < se_lam < 0.3 and 0 < se_sig < 0.5
    assert abs(fit.pass_through - lam) < max(3 * se_lam, 0.1)
    assert abs(fit.deviation_sd - sigma) < max(3 * se_sig, 0.2 * sigma)
    # the mirror fits worse than the truth by far
    mirror = fit_pairs(t, band, fixed=(1.0, 0.0))
    assert fit.log_likelihood - mirror.log_likelihood > 10


def test_separate_votes_are_paired_with_the_vote_on_the_whole(data_dir: Any) -> None:
    """On the real roll calls before the cut: every separate vote is paired or listed with the
    reason; a pair's vote on the whole is a later or same-session roll call of the same
    resolution that is not itself a separate vote; the DR Congo's paragraph votes of 2002 find
    the vote on the whole the data date earlier; the country-specific ones are marked."""
    from unsim.calibration.clausepairs import _WHOLE_IN_NAME, find_pairs
    from unsim.data import ROLL_CALLS_FILE, load_roll_calls

    rc = load_roll_calls(data_dir / ROLL_CALLS_FILE)
    found = find_pairs(rc, "2014-11-18")
    pairs, counts = found.pairs, found.counts
    separate = ((rc["amend"] == 1) | (rc["para"] == 1)) & (rc["date"] < "2014-11-18")
    assert counts["separate_votes"] == counts["paired"] + len(found.dropped)
    assert counts["separate_votes"] <= int(separate.sum())
    assert all(d["why"] for d in found.dropped)
    by = rc.set_index("rcid")
    wholes = by.loc[pairs["whole"]]
    flagged = wholes[(wholes["amend"] == 1) | (wholes["para"] == 1)]
    # a whole the data flag as a separate vote names the whole ("RES, AS AMENDED")
    assert flagged["descr"].str.contains(_WHOLE_IN_NAME).all()
    assert (by.loc[pairs["whole"], "session"].to_numpy() == pairs["session"].to_numpy()).all()
    congo = pairs[pairs["title"].str.contains("Democratic Republic of the Congo")]
    assert congo["country"].all() and congo["hr"].all()
    assert set(congo["session"]) >= {57, 58, 59}
    late = congo[congo["date"] == "2002-12-18"]
    assert len(late) and (by.loc[late["whole"], "date"] < pd.Timestamp("2002-12-18")).all()


def test_the_amendments_parts_add_up_to_its_stance_with_a_clause_stance() -> None:
    """``unsim explain``'s parts at the amendment and at the votes on the draft, with a
    pass-through of 0.2 and a clause deviation: they add up to the stance the model used; the
    clause deviation is a part of its own, with the opposite sign on the amendment (yes =
    delete) and a fifth of its size on the draft."""
    from unsim.explain.tracker import Tracker

    s = load_scenario(REFERENCE, overrides={**AMENDED, **CLAUSE})
    tracker = Tracker(s, seed=5, block=0, size=128)
    tracker.simulate()
    for stage in ("amendment", "third_committee", "plenary"):
        rec = tracker.stages[stage]
        total = np.sum([np.asarray(v, dtype=np.float64) for v in rec.parts.values()], axis=0)
        np.testing.assert_allclose(total, rec.stance, rtol=0, atol=5e-5)
    own = tracker.model.clause_deviation
    amendment = tracker.stages["amendment"].parts["clause_deviation"]
    np.testing.assert_allclose(amendment, -own, atol=1e-6)
    assert np.abs(amendment).max() > 1.0
    draft = tracker.stages["third_committee"].parts["clause_deviation"]
    retained = tracker.model.icc_factor() == 1
    np.testing.assert_allclose(draft[:, retained], 0.2 * own[:, retained], atol=1e-5)


def _clause_file(folder: Any, before: str = "2014-11-18") -> Any:
    path = folder / "clauses.yaml"
    path.write_text(
        f"kind: clauses\nname: t\nbefore: {before}\nbehaviour:\n"
        "  clause_pass_through: 0.3\n  clause_deviation_sd: 1.25\n",
        encoding="utf-8",
    )
    return path


def test_a_clause_calibration_fills_what_the_scenario_does_not_set(tmp_path: Any) -> None:
    """The shipped scenario takes the shipped clause calibration (the mirror, chosen out of
    sample); another file's values fill the behaviour unless the scenario sets its own; a file
    fitted on votes after the scenario's date is refused, naming the key."""
    from unsim.errors import ScenarioError
    from unsim.model.params import effective_behaviour

    shipped = effective_behaviour(load_scenario(REFERENCE))
    assert (shipped.clause_pass_through, shipped.clause_deviation_sd) == (1.0, 0.0)
    path = str(_clause_file(tmp_path))
    b = effective_behaviour(load_scenario(REFERENCE, overrides={"clause_calibration": path}))
    assert (b.clause_pass_through, b.clause_deviation_sd) == (0.3, 1.25)
    own = {"clause_calibration": path, "behaviour.clause_pass_through": 0.7}
    b = effective_behaviour(load_scenario(REFERENCE, overrides=own))
    assert (b.clause_pass_through, b.clause_deviation_sd) == (0.7, 1.25)
    (tmp_path / "late").mkdir()
    late = str(_clause_file(tmp_path / "late", before="2015-01-01"))
    with pytest.raises(ScenarioError, match="clause_calibration"):
        load_scenario(REFERENCE, overrides={"clause_calibration": late})


def _write_record(folder: Any, lam: float, sigma: float, band: float, sessions: int) -> Any:
    """A roll-call record of ``sessions`` sessions, each with two separate votes on a paragraph
    and the vote on the whole after them the same day, 150 states voting by the pair model;
    the files in the data's formats. Returns the votes file's path."""
    rng = np.random.default_rng(21)
    states = 150
    codes = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}Z" for i in range(states)]
    pd.DataFrame(
        {"iso3": codes, "cow": np.arange(states) + 2, "name": [f"State {c}" for c in codes],
         "un_regional_group": "WEOG"}
    ).to_csv(folder / "un_member_states_2014.csv", index=False)  # fmt: skip
    calls, votes, rcid = [], [], 1
    letters = {0: 3, 1: 2, 2: 1}  # no, abstain, yes as the data code them
    ccode = np.arange(states) + 2
    for session in range(1, sessions + 1):
        date = pd.Timestamp(f"{1950 + session}-12-01")
        s = rng.uniform(0, 4) + rng.uniform(1.5, 3.5) * rng.standard_normal(states)
        for part in range(2):  # two drafts a session, each a paragraph vote and the whole's
            d = sigma * rng.standard_normal(states)
            clause = s + d + rng.uniform(-1, 1) + rng.logistic(size=states)
            whole = s + lam * d + rng.logistic(size=states)
            for rc, latent, flag in ((rcid, clause, 1), (rcid + 1, whole, 0)):
                vote = np.where(latent > band, 2, np.where(latent < -band, 0, 1))
                text = f"TO ADOPT PARA {part}" if flag else "TO ADOPT THE DRAFT RESOLUTION"
                unres = f"R/{session}/{part}{'BA'[flag]}"
                calls.append((rc, session, date.date(), unres, 0, flag, text))
                votes.append(
                    pd.DataFrame(
                        {"rcid": rc, "session": session, "ccode": ccode, "hr": 1,
                         "vote": [letters[int(v)] for v in vote],
                         "date": date.strftime("%m/%d/%Y")}
                    )
                )  # fmt: skip
            rcid += 2
    columns = ["rcid", "session", "date", "unres", "amend", "para", "descr"]
    pd.DataFrame(calls, columns=columns).to_csv(
        folder / "unga_roll_calls_1946_2014-09.csv", index=False
    )
    path = folder / "unga_votes_1946_2014-09.csv.gz"
    pd.concat(votes).to_csv(path, index=False)
    return path


def test_calibrate_clauses_writes_a_file_the_scenarios_read(tmp_path: Any) -> None:
    """``unsim calibrate --clauses`` on a record drawn with a clause stance of its own: every
    separate vote paired, the specifications compared on the held-out sessions (the mirror
    loses there), the estimate near the truth, a file a scenario reads; bad input is refused
    with a clean error before any data is read."""
    from unsim.cli import main
    from unsim.scenario.loader import load_clause_calibration

    votes = _write_record(tmp_path, lam=0.2, sigma=2.5, band=1.0, sessions=12)
    out = tmp_path / "clauses.yaml"
    args = ["calibrate", "--clauses", "--before", "2014-11-18", "--votes", str(votes),
            "--out", str(out), "--holdout-sessions", "3"]  # fmt: skip
    assert main([*args[:-1], "0"]) == 2 and not out.exists()
    assert main(args) == 0
    cal = load_clause_calibration(out)
    assert cal.votes["counts"]["paired"] == cal.votes["counts"]["separate_votes"] == 24
    specs = [row["spec"] for row in cal.validation["comparison"]]
    assert specs == ["mirror", "all", "human_rights_weighted", "human_rights"]
    assert cal.validation["chosen"] != "mirror"
    est = cal.estimates["every_pair"]
    assert abs(est["deviation_sd"] - 2.5) < max(3 * est["deviation_sd_se"], 0.5)
    assert abs(est["pass_through"] - 0.2) < 0.35
    assert cal.behaviour.clause_deviation_sd > 1.0
