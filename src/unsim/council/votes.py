"""How Council members vote on a draft: the rule of ``procedure.council.votes``, fitted on the
recorded votes member by member.

A member's stance on the draft is

    norm + support_weight * support - icc_weight * icc - patron_defence * patron
         - dissent * dissenter (+ its own stated Council shift) + patron_shock * z * patron

and it votes as the vote model says: yes with probability ``sigmoid((stance - band) / noise)``,
no with ``sigmoid((-band - stance) / noise)``, abstains otherwise (band and noise those of the
scenario's calibration). ``support`` and ``icc`` are the member's Assembly support for the draft
and what the ICC language costs it (per run: (members, runs) draws, the vote's probability
their mean); ``patron`` and ``dissenter`` come from the member's earlier votes on the situation
(:mod:`unsim.council.cases`). ``z`` is one standard normal shock per vote, shared by the
target's patrons (China and Russia voted alike in four of the five recorded votes where both
were patrons): given it they vote apart, over it their votes go together. A case's likelihood
integrates it out (:func:`shock_grid`), so the patrons' votes are scored jointly.

The parameters are fitted by maximum a posteriori on the members' recorded votes, each with a
normal prior of sd :data:`PRIOR_SD` around 0 (weakly informative on a scale whose abstention
band is some 2.7 wide); ``patron_defence``, ``dissent``, ``patron_shock`` and the weights are
kept non-negative. Their standard errors come from the curvature of the log posterior at its
mode (:func:`standard_errors`). Leave one case out: :func:`leave_one_out`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

from unsim.council.cases import OUTCOMES, VoteCase
from unsim.council.record import PERMANENT

Array = NDArray[np.float64]

#: The rule's parameters, in order, and which must be non-negative.
PARAMS: tuple[str, ...] = (
    "norm",
    "patron_defence",
    "dissent",
    "patron_shock",
    "support_weight",
    "icc_weight",
)
NON_NEGATIVE = frozenset(PARAMS[1:])
#: The parameters fitted by default (the others 0): what the record identifies (README).
FITTED: tuple[str, ...] = ("norm", "patron_defence", "dissent", "patron_shock")
#: The rule before the patrons' shared shock (their votes drawn apart).
INDEPENDENT: tuple[str, ...] = ("norm", "patron_defence", "dissent")
PRIOR_SD = 5.0
#: Log loss: probabilities below 1 % count as 1 % (as every backtest of unsim).
FLOOR = 0.01
#: The shock's grid: NODES equally spaced standard normal values on [-Z_MAX, Z_MAX].
NODES, Z_MAX = 401, 8.0


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
    situation: str = ""  #: the situation voted on (the record's window)


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
        situation=case.situation,
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


def _grid() -> tuple[Array, Array]:
    z = np.linspace(-Z_MAX, Z_MAX, NODES)
    w = np.exp(-0.5 * z**2)
    return z, w / w.sum()


_GRID = _grid()


def shock_grid() -> tuple[Array, Array]:
    """The standard normal shock's nodes and weights (summing to 1): the trapezoid rule on
    :data:`NODES` equally spaced points of [-8, 8]. For an integrand as smooth as the vote's
    logistic curves it converges geometrically: with a shock of sd ``s`` (latent units) the
    nodes are ``0.04 s`` apart, and the error falls as ``exp(-2 pi^2 / (0.04 s))`` (some 3e-9
    at s = 25, 5e-5 at s = 50, where the prior's weight is below 1e-20); beyond 8 sd the
    normal's weight is below 1e-15."""
    return _GRID


def _outcome_probabilities(s: Array, band: float, noise: float) -> Array:
    """(..., 3) P(yes), P(no), P(abstain) at stances ``s``."""
    p_yes = special.expit((s - band) / noise)
    p_no = special.expit((-band - s) / noise)
    return np.stack([p_yes, p_no, 1.0 - p_yes - p_no], axis=-1)


def _shock_points(runs: int) -> tuple[Array, Array]:
    """The shock's values for stances drawn over ``runs`` runs, (runs, nodes), and the nodes'
    weights: without draws (one run), the nodes of :func:`shock_grid`; with them, one value a
    run, the normal's quantile at ``(r + 1/2) / runs`` (stratified, so the runs' mean covers
    the shock and the draws together, as the model's runs do)."""
    if runs == 1:
        z, w = shock_grid()
        return z[None, :], w
    return special.ndtri((np.arange(runs) + 0.5) / runs)[:, None], np.ones(1)


def _patrons_shocked(d: Design, s: Array, theta: Mapping[str, float]) -> tuple[Array, Array]:
    """(patrons, runs, nodes) the patrons' stances (rows of ``s``, members by runs) with their
    shared shock at each of its values (:func:`_shock_points`), and the values' weights."""
    z, w = _shock_points(s.shape[1])
    return s[d.patron > 0][:, :, None] + theta.get("patron_shock", 0.0) * z[None, :, :], w


def probabilities(d: Design, theta: Mapping[str, float], band: float, noise: float) -> Array:
    """(members, 3) P(yes), P(no), P(abstain) of each member (mean over the runs' draws and,
    for a patron, over the shared shock)."""
    s = stances(d, theta)
    p = _outcome_probabilities(s, band, noise).mean(axis=1)
    if theta.get("patron_shock", 0.0) and d.patron.any():
        shocked, w = _patrons_shocked(d, s, theta)
        p_shocked = _outcome_probabilities(shocked, band, noise)
        p[d.patron > 0] = np.einsum("prkc,k->pc", p_shocked, w) / s.shape[1]
    return p  # type: ignore[no-any-return]


def _apart(p: Array, y: NDArray[np.intp]) -> float:
    """Sum of the log probabilities of the votes ``y`` of members voting apart (p: members,
    runs, 3; the runs' mean)."""
    chosen = p.mean(axis=1)[np.arange(len(y)), y]
    return float(np.log(np.maximum(chosen, 1e-300)).sum())


def _patrons_votes(
    d: Design, s: Array, theta: Mapping[str, float], band: float, noise: float
) -> tuple[Array, Array]:
    """(patrons, runs, nodes) each patron's probability of its recorded vote at each value of
    the shared shock, and the values' weights."""
    shocked, w = _patrons_shocked(d, s, theta)
    p = _outcome_probabilities(shocked, band, noise)
    pat = d.patron > 0
    return np.take_along_axis(p, d.y[pat][:, None, None, None], axis=3)[..., 0], w


def case_log_likelihood(
    d: Design, theta: Mapping[str, float], band: float, noise: float, shared: bool = True
) -> float:
    """log P(the case's recorded votes): the members apart, the patrons together over their
    shared shock (``shared=False``: each patron's own shock of the same sd, for comparison)."""
    s = stances(d, theta)
    pat = d.patron > 0
    if not (theta.get("patron_shock", 0.0) and pat.any()):
        return _apart(_outcome_probabilities(s, band, noise), d.y)
    total = _apart(_outcome_probabilities(s[~pat], band, noise), d.y[~pat])
    own, w = _patrons_votes(d, s, theta, band, noise)
    if shared:
        joint = float((own.prod(axis=0) @ w).mean())
        return total + float(np.log(max(joint, 1e-300)))
    return total + float(np.log(np.maximum((own @ w).mean(axis=1), 1e-300)).sum())


def _by_situation(
    designs: Sequence[Design], theta: Mapping[str, float], band: float, noise: float
) -> float:
    """The log likelihood with one shock per situation, shared by its patrons at every vote on
    it (a comparison: the rule draws one per vote). Cases without design draws only."""
    total = 0.0
    together: dict[str, Array] = {}
    weights = shock_grid()[1]
    for d in designs:
        s = stances(d, theta)
        if s.shape[1] != 1:
            raise ValueError("one shock per situation is fitted on cases without design draws")
        pat = d.patron > 0
        total += _apart(_outcome_probabilities(s[~pat], band, noise), d.y[~pat])
        if pat.any():
            own, _ = _patrons_votes(d, s, theta, band, noise)
            product = own.prod(axis=0)[0]
            together[d.situation] = together.get(d.situation, 1.0) * product
    return total + sum(float(np.log(max(float(g @ weights), 1e-300))) for g in together.values())


def log_likelihood(
    designs: Sequence[Design],
    theta: Mapping[str, float],
    band: float,
    noise: float,
    shared: bool | str = True,
) -> float:
    """The designs' log likelihood under ``theta``: the patrons' shock shared at each vote
    (True), each patron's own (False), or one a situation, shared at every vote on it
    (``"situation"``)."""
    if shared == "situation":
        return _by_situation(designs, theta, band, noise)
    return sum(case_log_likelihood(d, theta, band, noise, bool(shared)) for d in designs)


def pair_probabilities(theta: Mapping[str, float], band: float, noise: float) -> Array:
    """(3, 3) P(first patron votes i, second votes j) of two patrons with no shift of their own,
    under the rule ``theta`` (outcomes in :data:`OUTCOMES` order): how often they vote alike
    is its trace."""
    base = theta["norm"] - theta["patron_defence"]
    z, w = shock_grid()
    p = _outcome_probabilities(base + theta.get("patron_shock", 0.0) * z, band, noise)
    return np.einsum("k,ki,kj->ij", w, p, p)  # type: ignore[no-any-return]


def _theta_of(
    free: Sequence[str], x: Array, fixed: Mapping[str, float] | None = None
) -> dict[str, float]:
    theta = {**dict.fromkeys(PARAMS, 0.0), **(fixed or {})}
    theta.update(zip(free, (float(v) for v in x), strict=True))
    return theta


def _objective(
    designs: Sequence[Design],
    band: float,
    noise: float,
    free: Sequence[str],
    prior_sd: float,
    shared: bool | str = True,
    fixed: Mapping[str, float] | None = None,
) -> Callable[[Array], float]:
    """The negative log posterior of the parameters ``free`` (as an array, in that order),
    those in ``fixed`` held at their values (and their prior's term)."""
    held = float(sum((v / prior_sd) ** 2 / 2 for v in (fixed or {}).values()))

    def objective(x: Array) -> float:
        """The negative log posterior at the free parameters ``x``."""
        prior = float(np.sum((np.asarray(x) / prior_sd) ** 2) / 2) + held
        theta = _theta_of(free, x, fixed)
        return -log_likelihood(designs, theta, band, noise, shared) + prior

    return objective


def _check(designs: Sequence[Design], free: Sequence[str]) -> None:
    if not designs:
        raise ValueError("no recorded votes to fit the Council's rule on")
    unknown = [p for p in free if p not in PARAMS]
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; allowed: {', '.join(PARAMS)}")


def fit_votes(
    designs: Sequence[Design],
    band: float,
    noise: float,
    free: Sequence[str] = FITTED,
    prior_sd: float = PRIOR_SD,
    shared: bool | str = True,
    fixed: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The parameters in ``free`` by maximum a posteriori on ``designs`` (those in ``fixed`` at
    their values, the others 0). The patrons' shock makes the posterior less regular, so the
    search starts twice from the mode found without it, with the shock at 1 and at 4, and
    keeps the better end (``shared``: as :func:`log_likelihood`)."""
    _check(designs, free)
    objective = _objective(designs, band, noise, free, prior_sd, shared, fixed)
    bounds = [(0.0, None) if p in NON_NEGATIVE else (None, None) for p in free]
    starts = [np.array([band + 1.0 if p == "norm" else 1.0 for p in free])]
    if "patron_shock" in free:
        plain = fit_votes(designs, band, noise, [p for p in free if p != "patron_shock"], prior_sd)
        starts = [
            np.array([sd if p == "patron_shock" else plain[p] for p in free]) for sd in (1.0, 4.0)
        ]
    ends = [optimize.minimize(objective, x0, method="L-BFGS-B", bounds=bounds) for x0 in starts]
    best = min(ends, key=lambda r: float(r.fun))
    return _theta_of(free, best.x, fixed)


def log_posterior(
    designs: Sequence[Design],
    theta: Mapping[str, float],
    band: float,
    noise: float,
    free: Sequence[str] = FITTED,
    prior_sd: float = PRIOR_SD,
) -> float:
    """The log posterior (up to its constant) of ``theta``, the parameters in ``free`` drawn
    from the prior."""
    x = np.array([theta[p] for p in free])
    return -_objective(designs, band, noise, free, prior_sd)(x)


def standard_errors(
    designs: Sequence[Design],
    theta: Mapping[str, float],
    band: float,
    noise: float,
    free: Sequence[str] = FITTED,
    prior_sd: float = PRIOR_SD,
    step: float = 1e-3,
) -> tuple[dict[str, float], Array]:
    """The standard errors of the fitted ``free`` parameters and their covariance matrix (in
    ``free`` order): the inverse of the negative log posterior's Hessian at the mode
    ``theta``, by central differences of ``step`` (the Laplace approximation). A parameter at
    its bound (0) has no curvature there: its error is NaN and it is left out of the others'."""
    _check(designs, free)
    inner = [p for p in free if not (p in NON_NEGATIVE and theta[p] <= step)]
    objective = _objective(designs, band, noise, inner, prior_sd)
    x = np.array([theta[p] for p in inner])
    k = len(inner)
    hessian = np.zeros((k, k))
    eye = np.eye(k) * step
    for i in range(k):
        for j in range(i, k):
            f = [objective(x + a * eye[i] + b * eye[j]) for a, b in ((1, 1), (1, -1), (-1, 1))]
            f.append(objective(x - eye[i] - eye[j]))
            hessian[i, j] = hessian[j, i] = (f[0] - f[1] - f[2] + f[3]) / (4 * step**2)
    inner_cov = np.linalg.inv(hessian)
    cov = np.full((len(free), len(free)), np.nan)
    at = [free.index(p) for p in inner]
    cov[np.ix_(at, at)] = inner_cov
    return {p: float(np.sqrt(cov[i, i])) for i, p in enumerate(free)}, cov


def leave_one_out(
    designs: Sequence[Design],
    band: float,
    noise: float,
    free: Sequence[str] = FITTED,
    prior_sd: float = PRIOR_SD,
    shared: bool = True,
) -> dict[str, dict[str, float]]:
    """For each case (its key), the parameters fitted on the other cases alone."""
    return {
        d.key: fit_votes(
            [o for o in designs if o.key != d.key], band, noise, free, prior_sd, shared
        )
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
