"""``unsim calibrate --session-linkage``: a session's linkage from past sessions' roll calls.

The sessions: those before the cut date in which the plenary recorded two or more votes on the
country-specific human-rights series (``calibration.series.COMPARABLE``, found by
``find_series``). Each state's ideal point for a session is estimated on the ten sessions before
it (``idealcache.cached_ideal_points``, cut at the session's opening, 1 September). The estimator
is ``unsim.session.estimate``. The record of adoptions without a recorded vote: the series'
recorded plenary votes (each an adoption), and for the DPRK the adoptions without a vote that
its tallies file lists (the roll calls cannot show them), and the adoptions without a vote on the
public record that no data file lists (``PUBLIC_WITHOUT_VOTE``: Myanmar's of 2012 and 2013).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from unsim.calibration.idealcache import cached_ideal_points
from unsim.calibration.series import COMPARABLE, find_series
from unsim.scenario.session import (
    Linkage,
    LinkageCorrelation,
    LinkageFile,
    LinkageSd,
    WithoutVoteRecord,
)
from unsim.session.estimate import DraftVotes, LinkageEstimate, SessionVotes, scale
from unsim.uncertainty.distributions import Uniform

#: vote codes of the roll-call data: yes, abstain, no
SCORES = {1: 1.0, 2: 0.0, 3: -1.0}
DPRK_TALLIES = "dprk_hr_resolution_tallies_2005_2013.csv"
#: the linkage's form the command estimates and writes: the vote copula, which leaves every
#: draft's own vote distribution as alone (``unsim.session.linkage``)
LINKAGE_FORM = "copula"

#: Adoptions without a recorded vote on the public record, before 18 November 2014, that no data
#: file lists: iso3 -> (date, symbol, source) each. The roll calls hold no recorded vote on them
#: (tests/test_scenarios_2014.py checks it).
PUBLIC_WITHOUT_VOTE: dict[str, tuple[tuple[dt.date, str, str], ...]] = {
    "MMR": (
        (
            dt.date(2012, 12, 24),
            "A/RES/67/233",
            "resolution 67/233 of 24 December 2012, adopted without a vote (its text as "
            "published; Human Rights Council resolution 22/14 of 21 March 2013 recalls it)",
        ),
        (
            dt.date(2013, 12, 27),
            "A/RES/68/242",
            "resolution 68/242 of 27 December 2013, adopted without a vote (its text as published)",
        ),
    ),
}


def series_roll_calls(
    roll_calls: pd.DataFrame, votes: pd.DataFrame, members: pd.DataFrame, before: dt.date
) -> pd.DataFrame:
    """iso3, rcid, session, date of every recorded plenary vote of the comparable series."""
    rows = []
    for iso3 in COMPARABLE:
        found = find_series(roll_calls, iso3, votes, members, before=pd.Timestamp(before))
        for r in found.used.itertuples():
            rows.append((iso3, int(r.rcid), int(r.session), pd.Timestamp(r.date).date()))
    return pd.DataFrame(rows, columns=["iso3", "rcid", "session", "date"])


def linked_sessions(found: pd.DataFrame) -> list[int]:
    """The sessions with votes on two or more series."""
    per = found.groupby("session")["iso3"].nunique()
    return sorted(int(s) for s in per[per >= 2].index)


def _scores(votes: pd.DataFrame, rcids: list[int], members: pd.DataFrame) -> pd.DataFrame:
    """(states of the member table, rcids) vote scores (NaN: absent, not a member)."""
    by_cow = dict(zip(members["cow"], members["iso3"], strict=True))
    v = votes[votes["rcid"].isin(rcids)]
    table = pd.DataFrame(
        {"iso3": v["ccode"].map(by_cow), "rcid": v["rcid"], "score": v["vote"].map(SCORES)}
    ).dropna(subset=["iso3"])
    wide = table.drop_duplicates(["iso3", "rcid"]).pivot(index="iso3", columns="rcid")["score"]
    return wide.reindex(index=list(members["iso3"]), columns=rcids)


def session_votes(
    votes: pd.DataFrame,
    members: pd.DataFrame,
    found: pd.DataFrame,
    before: dt.date,
    progress: Callable[[str], None] | None = None,
) -> list[SessionVotes]:
    """Each linked session's drafts as vote scores over the 2014 member states (the target's
    own vote left out), each state's record on the series before the session, and the states'
    ideal points before the session."""
    codes = list(members["iso3"])
    scores = _scores(votes, [int(r) for r in found["rcid"]], members)
    out = []
    for session in linked_sessions(found):
        cut = min(dt.date(1945 + session, 9, 1), before)
        if progress is not None:
            progress(f"session {session}: ideal points before {cut}")
        ideal = cached_ideal_points(votes, cut, members)
        x = ideal.positions.reindex(codes).to_numpy(dtype=np.float64)
        drafts = []
        for r in found[found["session"] == session].drop_duplicates("iso3").itertuples():
            y = np.array(scores[r.rcid], dtype=np.float64)
            y[codes.index(r.iso3)] = np.nan
            earlier = found[(found["iso3"] == r.iso3) & (found["session"] < session)]["rcid"]
            past = scores[list(earlier)].mean(axis=1) if len(earlier) else pd.Series(dtype=float)
            record = np.nan_to_num(np.array(past.reindex(codes), dtype=np.float64))
            drafts.append(DraftVotes(str(r.iso3), y, record))
        out.append(SessionVotes(session, x, drafts))
    return out


def without_vote_records(
    found: pd.DataFrame, data_dir: Path, before: dt.date
) -> dict[str, WithoutVoteRecord]:
    """Each series' adoptions and those without a recorded vote (module docstring)."""
    out: dict[str, WithoutVoteRecord] = {}
    no_vote = 0
    tallies = data_dir / DPRK_TALLIES
    if tallies.exists():
        t = pd.read_csv(tallies)
        t = t[(t["body"] == "Plenary") & (pd.to_datetime(t["date"]).dt.date < before)]
        no_vote = int((t["modality"] == "without a vote").sum())
    for iso3, rows in found.groupby("iso3"):
        public = [p for p in PUBLIC_WITHOUT_VOTE.get(str(iso3), ()) if p[0] < before]
        k = no_vote if iso3 == "PRK" else len(public)
        years = f"{rows['date'].min().year}-{rows['date'].max().year}"
        source = f"{len(rows)} recorded plenary votes {years} in the roll calls"
        if iso3 == "PRK":
            source += f"; {k} adoptions without a vote in {DPRK_TALLIES}"
        elif public:
            listed = "; ".join(p[2] for p in public)
            source += f"; {k} adoptions without a vote on the public record: {listed}"
        else:
            source += "; the data list no adoption of this series without a vote"
        out[str(iso3)] = WithoutVoteRecord(without_vote=k, adoptions=len(rows) + k, source=source)
    return out


def spillover_prior(rho: float, statistic: float) -> Uniform | None:
    """The spillover's distribution derived from what the data identify (none without a
    shared stance): no past draft carried ICC-referral language, so its size is bounded, not
    estimated: from 0 to the copula's rho."""
    high = round(min(rho, 0.99), 2)
    if high <= 0:
        return None
    return Uniform(
        low=0.0,
        high=high,
        source="no draft before the date carried ICC-referral language, so the share of a "
        "state's change of stance on one draft (from its content) that carries to the other "
        "drafts is not estimated directly; bounded by what the data identify: 0, the content's "
        "cost the draft's own (as the drafts ran before), to the correlation of a state's "
        f"latent stances across a session's drafts (the vote copula's rho, {rho:.2f}), the "
        "share a content shock carries if it moves a state's stance on country drafts as such "
        "as a residual shock does; uniform between them (mean "
        f"{high / 2:.2f}, beside the residual correlation of the vote scores, {statistic:.3f})",
    )


def _linkage(est: LinkageEstimate, what: str, vote_noise: float) -> Linkage:
    """The linkage of an estimate: the vote copula's rho, or the factor's sd in a single
    draft's units (its logistic noise holds it), and the session shock's sd."""
    k = scale(est.factor_sd)
    shock = LinkageSd(
        sd=round(est.shock_sd / k * vote_noise, 4),
        source=f"{what}; covariance of two drafts' levels in one session (each less its "
        f"series' mean): {est.shock_variance:.4f}",
    )
    if est.form == "copula":
        copula = LinkageCorrelation(
            rho=round(min(est.copula_rho, 0.99), 4),
            source=f"{what}; residual correlation {est.statistic:.4f} across a session's drafts "
            "after each draft's ordered logit on the ideal points and the states' records on "
            "the series, matched by simulation with the drafts' vote uniforms linked by the "
            "mixture copula (shared with probability sqrt(rho)) and correlated by rho: "
            f"{est.copula_rho:.3f} (each draft's votes as its fit alone)",
        )
        none = LinkageSd(sd=0.0, source=f"{what}; none: the vote copula links the votes")
        return Linkage(
            state_factor=none,
            session_shock=shock,
            vote_copula=copula,
            spillover=spillover_prior(est.copula_rho, est.statistic),
        )
    factor = LinkageSd(
        sd=round(est.factor_sd / k * vote_noise, 4),
        source=f"{what}; residual correlation {est.statistic:.4f} across a session's drafts "
        "after each draft's ordered logit on the ideal points and the states' records on the "
        f"series, matched by simulation: sd {est.factor_sd:.3f} beside a logistic noise of "
        f"scale 1, {est.factor_sd / k:.3f} in a single draft's units (its noise holds it)",
    )
    return Linkage(state_factor=factor, session_shock=shock)


def build_linkage_file(
    est: LinkageEstimate,
    name: str,
    before: dt.date,
    records: dict[str, WithoutVoteRecord],
    sessions: list[SessionVotes],
    command: str,
    vote_noise: float = 1.0,
) -> LinkageFile:
    """The session linkage file of an estimate: the linkage, each series' adoptions without a
    vote (``records``) and how it was estimated (``fit``)."""
    span = f"sessions {sessions[0].session}-{sessions[-1].session}" if sessions else "no sessions"
    what = (
        f"`{command}`: {est.sessions} sessions ({span}) with two or more recorded votes on "
        f"country human-rights drafts, {est.drafts} drafts, {est.pairs} pairs"
    )
    copula = est.form == "copula"
    fit: dict[str, Any] = {
        "estimator": "unsim.session.estimate (indirect inference on the residual correlation; "
        "each draft's ordered logit on the ideal point and the state's record on the series)",
        "form": est.form,
        "statistic": round(est.statistic, 5),
        "simulated_statistic": {str(k): round(v, 5) for k, v in est.grid.items()},
        "shock_variance": round(est.shock_variance, 5),
        "sessions": [s.session for s in sessions],
        "drafts": est.drafts,
        "pairs": est.pairs,
        "vote_noise": vote_noise,
    }
    if copula:
        fit["vote_copula_rho"] = round(est.copula_rho, 4)
    else:
        fit["factor_sd_beside_unit_noise"] = round(est.factor_sd, 4)
        fit["scale"] = round(scale(est.factor_sd), 4)
    return LinkageFile(
        name=name,
        before=before,
        linkage=_linkage(est, what, vote_noise),
        without_vote=records,
        fit=fit,
    )
