"""How Council members vote on a draft: the rule of ``procedure.council.votes``, fitted on the
recorded votes member by member.

A member's stance on the draft is

    norm + support_weight * support - icc_weight * icc - patron_defence * patron
         - dissent * dissenter (+ its own stated Council shift)

and it votes as the vote model says: yes with probability ``sigmoid((stance - band) / noise)``,
no with ``sigmoid((-band - stance) / noise)``, abstains otherwise (band and noise those of the
scenario's calibration). ``support`` and ``icc`` are the member's Assembly support for the draft
and what the ICC language costs it (per run: (members, runs) draws, the vote's probability
their mean); ``patron`` and ``dissenter`` come from the member's earlier votes on the situation
(:mod:`unsim.council.cases`). The parameters are fitted by maximum a posteriori on the members'
recorded votes, each with a normal prior of sd :data:`PRIOR_SD` around 0 (weakly informative
on a scale whose abstention band is some 2.7 wide); ``patron_defence``, ``dissent`` and the
weights are kept non-negative. Leave one case out: :func:`leave_one_out`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

from unsim.council.cases import OUTCOMES, VoteCase
from unsim.council.record import PERMANENT

Array = NDArray[np.float64]

#: The rule's parameters, in order, and which must be non-negative.
PARAMS: tuple[str, ...] = ("norm", "patron_defence", "dissent", "support_weight", "icc_weight")
NON_NEGATIVE = frozenset(PARAMS[1:])
#: The parameters fitted by default (the others 0): what the record identifies (README).
FITTED: tuple[str, ...] = ("norm", "patron_defence", "dissent")
PRIOR_SD = 5.0
#: Log loss: probabilities below 1 % count as 1 % (as every backtest of unsim).
FLOOR = 0.01


@dataclass(frozen=True)
class Design:
    """One case as the rule sees it: per member (in ``members`` order) the recorded vote and
    the rule's inputs."""

    key: str
    members: tuple[str, ...]
    y: NDArray[np.intp]  #: index of the recorded vote in OUTCOMES
    patron: Array  #: 1 for a patron among the permanent members
    dissenter: Array
    shift: Array  #: the member's own stated Council shift
    support: Array | None = None  #: (members, runs) Assembly support draws
    icc: Array | None = None  #: (members, runs) ICC cost draws
    referral: bool = True


def design(
    case: VoteCase,
    support: Array | None = None,
    icc: Array | None = None,
    shift: Mapping[str, float] | None = None,
) -> Design:
    """A case's design; ``support`` and ``icc`` (members in ``case.members`` order, runs)."""
    members = tuple(case.members)
    patrons, dissenters = set(case.patrons), set(case.dissenters)
    shift = shift or {}
    return Design(
        key=case.key,
        members=members,
        y=np.array([OUTCOMES.index(case.votes[m]) for m in members], dtype=np.intp),
        patron=np.array([m in patrons and m in PERMANENT for m in members], dtype=float),
        dissenter=np.array([m in dissenters for m in members], dtype=float),
        shift=np.array([shift.get(m, 0.0) for m in members], dtype=float),
        support=support,
        icc=icc if case.referral else None,
        referral=case.referral,
    )


def stances(d: Design, theta: Mapping[str, float]) -> Array:
    """(members, runs) each member's stance under ``theta`` (runs 1 without draws)."""
    s = theta["norm"] + d.shift - theta["patron_defence"] * d.patron
    s = (s - theta["dissent"] * d.dissenter)[:, None]
    if d.support is not None and theta.get("support_weight", 0.0):
        s = s + theta["support_weight"] * d.support
    if d.icc is not None and theta.get("icc_weight", 0.0):
        s = s - theta["icc_weight"] * d.icc
    return s


def probabilities(d: Design, theta: Mapping[str, float], band: float, noise: float) -> Array:
    """(members, 3) P(yes), P(no), P(abstain) of each member (mean over the runs' draws)."""
    s = stances(d, theta)
    p_yes = special.expit((s - band) / noise).mean(axis=1)
    p_no = special.expit((-band - s) / noise).mean(axis=1)
    return np.stack([p_yes, p_no, 1.0 - p_yes - p_no], axis=1)


def log_likelihood(
    designs: Sequence[Design], theta: Mapping[str, float], band: float, noise: float
) -> float:
    total = 0.0
    for d in designs:
        p = probabilities(d, theta, band, noise)[np.arange(len(d.y)), d.y]
        total += float(np.log(np.maximum(p, 1e-300)).sum())
    return total


def fit_votes(
    designs: Sequence[Design],
    band: float,
    noise: float,
    free: Sequence[str] = FITTED,
    prior_sd: float = PRIOR_SD,
) -> dict[str, float]:
    """The parameters in ``free`` by maximum a posteriori on ``designs`` (the others 0)."""
    if not designs:
        raise ValueError("no recorded votes to fit the Council's rule on")
    unknown = [p for p in free if p not in PARAMS]
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; allowed: {', '.join(PARAMS)}")

    def theta_of(x: Array) -> dict[str, float]:
        theta = dict.fromkeys(PARAMS, 0.0)
        theta.update(zip(free, (float(v) for v in x), strict=True))
        return theta

    def objective(x: Array) -> float:
        prior = float(np.sum((x / prior_sd) ** 2) / 2)
        return -log_likelihood(designs, theta_of(x), band, noise) + prior

    start = np.array([band + 1.0 if p == "norm" else 1.0 for p in free])
    bounds = [(0.0, None) if p in NON_NEGATIVE else (None, None) for p in free]
    best = optimize.minimize(objective, start, method="L-BFGS-B", bounds=bounds)
    return theta_of(best.x)


def leave_one_out(
    designs: Sequence[Design],
    band: float,
    noise: float,
    free: Sequence[str] = FITTED,
    prior_sd: float = PRIOR_SD,
) -> dict[str, dict[str, float]]:
    """For each case (its key), the parameters fitted on the other cases alone."""
    return {
        d.key: fit_votes([o for o in designs if o.key != d.key], band, noise, free, prior_sd)
        for d in designs
    }


def scores(probs: Array, y: NDArray[np.intp]) -> dict[str, float]:
    """Accuracy of the most probable vote, Brier over the three outcomes, log loss (floored)."""
    n = len(y)
    onehot = np.eye(3)[y]
    chosen = probs[np.arange(n), y]
    return {
        "accuracy": float((probs.argmax(axis=1) == y).mean()),
        "brier": float(((probs - onehot) ** 2).sum(axis=1).mean()),
        "log_loss": float(-np.log(np.maximum(chosen, FLOOR)).mean()),
    }
