"""``unsim calibrate --clauses``: the clause pass-through and the size of a state's own clause
deviation, estimated on the separate votes on paragraphs and amendments before a cut
(:mod:`.clausepairs`, :mod:`.clausefit`), chosen and judged out of sample, as a clause
calibration file (:class:`unsim.scenario.clausefile.ClauseCalibration`).

The specifications compared, each fitted on the pairs of the sessions before the held-out ones:

- ``mirror``: pass-through 1 and no deviation (the engine before clauses had a stance; each
  pair's own parameters fitted all the same);
- ``all``: both fitted on every pair;
- ``human_rights_weighted``: both fitted with the human-rights pairs counted ``hr_weight``
  times and the country-specific ones ``country_weight`` times;
- ``human_rights``: both fitted on the human-rights pairs alone.

Each is judged on the held-out pairs (the latest sessions before the cut): the log loss of each
state's vote on the clause given its vote on the whole, the pair's own parameters fitted on the
held-out pair with the specification's pass-through and deviation held (the margins of a pair
are the pair's, the question is how a state's two votes go together), and the share of votes
on the clause the most likely vote gets right, beside the rule "a vote on the clause is the
vote on the whole" (its mirror for a hostile amendment). The chosen specification is fitted
again on every pair before the cut: those are the values the engine takes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from unsim.calibration.clausefit import PairFit, PairTables, cell_probabilities, fit_pairs
from unsim.calibration.clausefit import nodes as gauss_nodes
from unsim.calibration.clausefit import tables as pair_tables
from unsim.calibration.clausepairs import ClausePairs, find_pairs, pair_votes
from unsim.scenario.clausefile import ClauseBehaviour, ClauseCalibration

__all__ = [
    "ClauseData",
    "ClauseResult",
    "build_clause_calibration",
    "calibrate_clauses",
    "clause_data",
    "holdout_score",
]

#: The specifications compared, in the order they are shown.
SPECS = ("mirror", "all", "human_rights_weighted", "human_rights")
METHOD = (
    "each separate recorded vote on a paragraph or an amendment before the cut paired with the "
    "recorded vote on the whole resolution (clausepairs); per pair, a state's support s ~ "
    "N(m, tau^2) and its own clause term d ~ N(0, sigma^2): the whole's latent s + lambda d, the "
    "clause vote's o (s + d) + mu (o: -1 for a hostile amendment), each vote by the engine's "
    "rule (logistic noise, the calibration's band); lambda and sigma shared, by maximum "
    "likelihood (Gauss-Hermite), standard errors from the observed information with each "
    "pair's own parameters profiled out; specification chosen by held-out log loss"
)


@dataclass(frozen=True)
class ClauseData:
    """The pairs (:class:`ClausePairs`) and their tables of votes."""

    found: ClausePairs
    tables: PairTables


def clause_data(
    votes: pd.DataFrame,
    roll_calls: pd.DataFrame,
    before: dt.date,
    hr_rcids: set[int] | None = None,
    members: pd.DataFrame | None = None,
) -> ClauseData:
    """Every separate vote before ``before`` paired with its vote on the whole, and the pairs'
    3 x 3 tables of votes (states present at both)."""
    found = find_pairs(roll_calls, pd.Timestamp(before), hr_rcids, members)
    both = pair_votes(votes, found.pairs)
    has = np.zeros(len(found.pairs), dtype=bool)
    has[both["pair"].to_numpy()] = True
    why = "the votes file has no state's votes on it and its vote on the whole"
    dropped = list(found.dropped) + [
        {"rcid": int(r.rcid), "date": str(r.date), "why": why}
        for r in found.pairs[~has].itertuples()
    ]
    kept = found.pairs[has].reset_index(drop=True)
    renumber = np.cumsum(has) - 1
    t = pair_tables(
        renumber[both["pair"].to_numpy()], both["whole"].to_numpy(), both["clause"].to_numpy(),
        len(kept),
    )  # fmt: skip
    return ClauseData(ClausePairs(kept, dropped), t)


def _weights(pairs: pd.DataFrame, spec: str, hr_weight: float, country_weight: float) -> Any:
    """Each pair's weight (its counts are multiplied by it) under ``spec``; 0 leaves it out."""
    hr = pairs["hr"].to_numpy(bool)
    country = pairs["country"].to_numpy(bool)
    if spec == "human_rights":
        return hr.astype(float)
    if spec == "human_rights_weighted":
        return np.where(country, country_weight, np.where(hr, hr_weight, 1.0))
    return np.ones(len(pairs))


def _weighted(t: PairTables, rows: Any, weights: Any) -> PairTables:
    keep = rows[weights[rows] > 0]
    sub = t.subset(keep)
    return PairTables(sub.counts * weights[keep][:, None, None], sub.orientation, sub.kept)


#: The pass-through's range in the engine (a state carries none to all of its clause term).
ENGINE_RANGE = (0.0, 1.0)


def _fit(t: PairTables, spec: str, band: float) -> PairFit:
    fixed = (1.0, 0.0) if spec == "mirror" else None
    return fit_pairs(t, band, fixed=fixed, pass_through=ENGINE_RANGE)


def holdout_score(t: PairTables, lam: float, sigma: float, band: float) -> dict[str, float]:
    """How well (``lam``, ``sigma``) predicts each state's vote on the clause from its vote on
    the whole in ``t`` (module doc): log loss per vote, the share the most likely vote gets
    right, and the share the rule "clause vote = the whole's" gets right."""
    held = fit_pairs(t, band, fixed=(lam, sigma))
    q = cell_probabilities(held.local, lam, sigma, band, t, gauss_nodes())
    given = q / np.maximum(q.sum(axis=2, keepdims=True), 1e-300)  # P(clause | whole)
    n = float(t.counts.sum())
    log_loss = -float((t.counts * np.log(np.maximum(given, 1e-300))).sum()) / n
    best = given.argmax(axis=2)  # (pairs, whole)
    hits = np.take_along_axis(t.counts, best[:, :, None], axis=2).sum()
    whole = np.arange(3)
    rule = np.where(t.orientation[:, None] > 0, whole[None, :], 2 - whole[None, :])
    rule_hits = np.take_along_axis(t.counts, rule[:, :, None], axis=2).sum()
    return {
        "log_loss": round(log_loss, 4),
        "accuracy": round(float(hits) / n, 4),
        "rule_accuracy": round(float(rule_hits) / n, 4),
        "votes": int(n),
        "pairs": t.n_pairs,
    }


@dataclass(frozen=True)
class ClauseResult:
    """The comparison, the chosen specification's values, and the estimates on every pair."""

    data: ClauseData
    before: dt.date
    holdout_from: int
    band: float
    noise: float
    comparison: list[dict[str, Any]]
    chosen: str
    final: PairFit
    """the chosen specification on every pair before the cut: the engine's values"""
    estimate: PairFit
    """every pair, the pass-through in the engine's range 0..1, with standard errors"""
    unconstrained: PairFit
    """every pair, the pass-through free (bounds -1 and 2), with standard errors"""


def _row(spec: str, fit: PairFit, score: dict[str, float], hr_score: dict[str, float] | None,
         noise: float) -> dict[str, Any]:  # fmt: skip
    row: dict[str, Any] = {
        "spec": spec,
        "pass_through": round(fit.pass_through, 4),
        "deviation_sd": round(fit.deviation_sd * noise, 4),
        "fitted_on": {"pairs": fit.n_pairs, "votes": fit.n_votes},
        "holdout": score,
    }
    if hr_score is not None:
        row["holdout_human_rights"] = hr_score
    return row


def calibrate_clauses(
    data: ClauseData,
    before: dt.date,
    band: float,
    noise: float = 1.0,
    holdout_sessions: int = 10,
    hr_weight: float = 3.0,
    country_weight: float = 5.0,
) -> ClauseResult:
    """Compare the specifications (module doc) out of sample on the pairs of the latest
    ``holdout_sessions`` sessions, choose the one of least held-out log loss, fit it on every
    pair. ``band`` and ``noise``: the engine's abstention band and vote noise (the fit is on
    the scale of the noise)."""
    pairs, t = data.found.pairs, data.tables
    b = band / noise
    sessions = pairs["session"].to_numpy()
    holdout_from = int(np.unique(sessions)[-holdout_sessions])
    train = np.flatnonzero(sessions < holdout_from)
    test = np.flatnonzero(sessions >= holdout_from)
    test_hr = test[pairs["hr"].to_numpy(bool)[test]]
    rows = []
    for spec in SPECS:
        w = _weights(pairs, spec, hr_weight, country_weight)
        fit = _fit(_weighted(t, train, w), spec, b)
        lam, sig = fit.pass_through, fit.deviation_sd
        score = holdout_score(t.subset(test), lam, sig, b)
        hr_score = holdout_score(t.subset(test_hr), lam, sig, b) if len(test_hr) else None
        rows.append(_row(spec, fit, score, hr_score, noise))
    chosen = min(rows, key=lambda r: r["holdout"]["log_loss"])["spec"]
    w = _weights(pairs, chosen, hr_weight, country_weight)
    every = np.arange(t.n_pairs)
    final = _fit(_weighted(t, every, w), chosen, b)
    estimate = final if chosen == "all" else _fit(t, "all", b)
    free = fit_pairs(t, b)
    return ClauseResult(
        data, before, holdout_from, band, noise, rows, chosen, final, estimate, free
    )


def _se(value: float | None, scale: float = 1.0) -> float | None:
    return None if value is None else round(value * scale, 4)


def _estimate(f: PairFit, noise: float, note: str) -> dict[str, Any]:
    return {
        "pass_through": round(f.pass_through, 4),
        "pass_through_se": _se(f.se.get("pass_through")),
        "deviation_sd": round(f.deviation_sd * noise, 4),
        "deviation_sd_se": _se(f.se.get("deviation_sd"), noise),
        "log_likelihood": round(f.log_likelihood, 2),
        "fitted_on": {"pairs": f.n_pairs, "votes": f.n_votes},
        "note": note,
    }


def _votes_section(r: ClauseResult) -> dict[str, Any]:
    """The roll calls used (rcid of the separate vote and of its vote on the whole), those
    of human-rights and country-specific resolutions, and those left out by reason."""
    pairs = r.data.found.pairs
    dropped: dict[str, list[int]] = {}
    for d in r.data.found.dropped:
        dropped.setdefault(str(d["why"]), []).append(int(str(d["rcid"])))
    return {
        "counts": r.data.found.counts,
        "held_out_from_session": r.holdout_from,
        "pairs": [[int(a), int(b)] for a, b in zip(pairs["rcid"], pairs["whole"], strict=True)],
        "human_rights": [int(x) for x in pairs.loc[pairs["hr"], "rcid"]],
        "country_specific": [int(x) for x in pairs.loc[pairs["country"], "rcid"]],
        "dropped": dropped,
    }


def build_clause_calibration(
    r: ClauseResult, name: str, provenance: dict[str, Any]
) -> ClauseCalibration:
    """The clause calibration file of ``r``: the engine's values (the pass-through cut to 0..1)
    and what they rest on."""
    f = r.final
    behaviour = ClauseBehaviour(
        clause_pass_through=round(float(np.clip(f.pass_through, 0.0, 1.0)), 4),
        clause_deviation_sd=round(f.deviation_sd * r.noise, 4),
    )
    estimates = {
        "specification": r.chosen,
        "every_pair": _estimate(r.estimate, r.noise, "the pass-through in the engine's range 0..1"),
        "every_pair_unconstrained": _estimate(
            r.unconstrained, r.noise, "the pass-through free (bounds -1 and 2)"
        ),
        "mirror_log_likelihood": round(r.final.log_likelihood, 2) if r.chosen == "mirror" else None,
        "band": round(r.band, 4),
        "vote_noise": r.noise,
    }
    return ClauseCalibration(
        name=name,
        before=r.before,
        method=METHOD,
        behaviour=behaviour,
        estimates=estimates,
        validation={"comparison": r.comparison, "chosen": r.chosen},
        votes=_votes_section(r),
        provenance=provenance,
    )


def clause_provenance(command: str, paths: dict[str, Path], before: dt.date) -> dict[str, Any]:
    """Where a clause calibration came from: command, inputs and their SHA-256, the cut date,
    unsim's version."""
    from unsim import __version__
    from unsim.calibration.calibrate import file_sha256

    return {
        "command": command,
        "inputs": {k: Path(v).name for k, v in paths.items()},
        "inputs_sha256": {k: file_sha256(v) for k, v in paths.items()},
        "before": str(before),
        "software": f"unsim {__version__}",
    }
