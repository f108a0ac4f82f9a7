"""The clause model of a pair of votes, fitted by maximum likelihood.

On a separate vote on a clause (a paragraph, an amendment) and the vote on the whole draft the
same day, state ``i`` has on pair ``j`` a latent support for the draft's purpose ``s`` and its
own clause term ``d``:

    whole draft:  s + lambda k_j d          s ~ N(m_j, tau_j^2)  (the pair's support, spread)
    the clause:   o_j (s + d) + mu_j        d ~ N(0, sigma^2)    (each state's own)

``lambda`` is the *pass-through* (how much of its stance on the clause a state carries into its
vote on the whole: 1, the two votes are one stance; 0, the whole ignores the clause) and
``sigma`` the size of a state's own *clause deviation*; both are shared by all pairs, while
``m_j``, ``tau_j`` and ``mu_j`` (the clause's own appeal, beside the draft's) are each pair's.
``o_j`` is +1 where yes on the clause goes with yes on the whole (a paragraph kept), -1 where it
goes with no (a hostile amendment): the sign of the pair's correlation of votes. ``k_j`` is 1
where the clause stayed in the draft voted on as a whole (the side of the separate vote that goes
with the draft won it) and 0 where it did not (a paragraph deleted: the whole carries nothing of
it, as the engine's draft once the ICC paragraphs are deleted). ``s`` and ``d`` are independent.
Each vote follows the engine's rule (``unsim.model.rules``): yes with probability
``sigmoid(L - band)``, no with ``sigmoid(-band - L)``, abstain otherwise, each vote with its own
noise of scale 1 and the engine's calibrated band, so the estimates are on the engine's scale.

A cell of a pair's 3 x 3 table (the whole's vote by the clause's) has the probability of a
two-dimensional Gauss-Hermite integral over ``s`` and ``d``. The fit: the profile likelihood on
a coarse grid of (lambda, sigma), each pair's own parameters at their best for each point
(damped Newton, all pairs at once); then every parameter at once from the grid's best, with the
exact gradient. Standard errors of lambda and sigma come from the observed information with
the pairs' own parameters profiled out (their 3 x 3 blocks are separate, so the Hessian is
formed from a few gradients).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

__all__ = ["SHARED", "PairFit", "PairTables", "fit_pairs", "nodes", "tables"]

A = NDArray[np.float64]
SHARED = ("pass_through", "deviation_sd")
_K = 12  # Gauss-Hermite nodes per dimension
#: The coarse grid of (pass-through, deviation's sd) the fit starts from, and their bounds.
_GRID = tuple(itertools.product((1.0, 0.5, 0.0), (1.5, 3.0)))
BOUNDS = ((-1.0, 2.0), (0.0, 10.0))
#: Bounds of each pair's own parameters: m, tau, mu.
_LOCAL = ((-40.0, 40.0), (0.05, 60.0), (-40.0, 40.0))


def nodes(k: int = _K) -> tuple[A, A, A]:
    """(z1, z2, weights) of a k x k Gauss-Hermite rule for two standard normals."""
    x, w = np.polynomial.hermite_e.hermegauss(k)
    w = w / np.sqrt(2.0 * np.pi)
    z1, z2 = np.meshgrid(x, x, indexing="ij")
    return z1.ravel(), z2.ravel(), np.outer(w, w).ravel()


@dataclass(frozen=True)
class PairTables:
    """Each pair's 3 x 3 table of counts, (pairs, whole, clause), votes no 0, abstain 1, yes 2;
    its orientation o (+1 or -1); whether the clause stayed in the draft voted on as a whole."""

    counts: A
    orientation: A
    kept: A

    @property
    def n_pairs(self) -> int:
        """The number of pairs."""
        return int(self.counts.shape[0])

    def subset(self, rows: NDArray[np.intp]) -> PairTables:
        """The tables of the pairs at ``rows``."""
        return PairTables(self.counts[rows], self.orientation[rows], self.kept[rows])


def tables(pair: NDArray[np.integer], whole: NDArray[np.integer], clause: NDArray[np.integer],
           n_pairs: int) -> PairTables:  # fmt: skip
    """The tables of ``n_pairs`` pairs from one row per state and pair (pair index, the codes
    of its votes), with each pair's orientation (the sign of its correlation, +1 if none) and
    whether its clause was kept (the separate vote passed, more yes than no, for o = +1;
    failed for o = -1)."""
    counts = np.zeros((n_pairs, 3, 3))
    np.add.at(counts, (pair, whole, clause), 1.0)
    passed = counts[:, :, 2].sum(axis=1) > counts[:, :, 0].sum(axis=1)
    levels = np.arange(3.0)
    n = np.maximum(counts.sum(axis=(1, 2)), 1.0)
    mw = (counts.sum(axis=2) * levels).sum(axis=1) / n
    mc = (counts.sum(axis=1) * levels).sum(axis=1) / n
    cross = (counts * np.outer(levels, levels)).sum(axis=(1, 2)) / n
    orientation = np.where(cross - mw * mc < 0, -1.0, 1.0)
    kept = (passed == (orientation > 0)).astype(np.float64)
    return PairTables(counts, orientation, kept)


def vote_probabilities(latent: A, band: float) -> tuple[A, A]:
    """The probabilities of no, abstain and yes (on a new last axis) of a vote of latent
    ``latent`` by the engine's rule, and their derivatives in the latent."""
    y = 1.0 / (1.0 + np.exp(-(latent - band)))
    n = 1.0 / (1.0 + np.exp(latent + band))
    dy, dn = y * (1.0 - y), -n * (1.0 - n)
    return np.stack([n, 1.0 - y - n, y], axis=-1), np.stack([dn, -dy - dn, dy], axis=-1)


def cell_probabilities(local: A, lam: float, sigma: float, band: float, t: PairTables,
                       z: tuple[A, A, A]) -> A:  # fmt: skip
    """(pairs, 3, 3) each pair's probability of each cell (whole's vote, clause's vote)."""
    return _terms(local, lam, sigma, band, t, z)[3]


def _terms(
    local: A, lam: float, sigma: float, band: float, t: PairTables, z: tuple[A, A, A]
) -> tuple[A, A, A, A]:
    """Each pair's log likelihood (pairs,), its gradient in its own parameters (3, pairs: m,
    tau, mu), the gradient of the total in (lambda, sigma), and the cells' probabilities."""
    m, tau, mu = local
    z1, z2, w = z
    o, kept = t.orientation[:, None], t.kept[:, None]
    lk = lam * kept  # the pass-through where the clause stayed, else 0
    s = m[:, None] + tau[:, None] * z1[None, :]  # (pairs, nodes)
    d = sigma * z2[None, :]
    pw, dw = vote_probabilities(s + lk * d, band)  # (pairs, nodes, 3)
    pc, dc = vote_probabilities(o * (s + d) + mu[:, None], band)
    q = np.maximum(np.matmul((pw * w[None, :, None]).transpose(0, 2, 1), pc), 1e-300)
    ratio = t.counts / q  # d LL / d q
    # d LL / d (the whole's latent) and d LL / d (the clause vote's latent) at each node
    gw = (np.matmul(pc, ratio.transpose(0, 2, 1)) * dw).sum(axis=2) * w
    gc = (np.matmul(pw, ratio) * dc).sum(axis=2) * w
    both = gw + o * gc  # through s, which both latents hold
    shared = np.array([(gw * d * kept).sum(), (lk * gw * z2).sum() + (o * gc * z2).sum()])
    local_grad = np.stack([both.sum(1), (both * z1).sum(1), gc.sum(1)])
    return (t.counts * np.log(q)).sum(axis=(1, 2)), local_grad, shared, q


def _inner(x: A, lam: float, sigma: float, band: float, t: PairTables,
           z: tuple[A, A, A]) -> tuple[A, A]:  # fmt: skip
    """Each pair's own parameters at their best for (``lam``, ``sigma``): damped Newton, all
    pairs at once, each with its own step (tau on the log scale); (m, tau, mu) (3, pairs) and
    the pairs' log likelihoods. ``x``: where to start."""
    h = 1e-4
    low = np.array([_LOCAL[0][0], np.log(_LOCAL[1][0]), _LOCAL[2][0]])[:, None]
    high = np.array([_LOCAL[0][1], np.log(_LOCAL[1][1]), _LOCAL[2][1]])[:, None]

    def at(y: A) -> tuple[A, A]:  # log likelihood and gradient in (m, log tau, mu)
        """The log likelihood and its gradient in (m, log tau, mu), at ``y``."""
        ll, grad, _, _ = _terms(_natural(y), lam, sigma, band, t, z)
        return ll, grad * np.stack([np.ones_like(y[1]), np.exp(y[1]), np.ones_like(y[1])])

    y = np.stack([x[0], np.log(x[1]), x[2]])
    ll, grad = at(y)
    for _ in range(30):
        hess = np.empty((t.n_pairs, 3, 3))
        for a in range(3):
            e = np.zeros_like(y)
            e[a] = h
            hess[:, :, a] = ((at(y + e)[1] - at(y - e)[1]) / (2 * h)).T
        vals, vecs = np.linalg.eigh(-0.5 * (hess + hess.transpose(0, 2, 1)))
        inv = vecs / np.maximum(np.abs(vals), 1e-3)[:, None, :]
        step = np.einsum("jab,jcb,cj->aj", inv, vecs, grad)
        step *= np.minimum(1.0, 2.0 / np.maximum(np.abs(step).max(axis=0), 1e-12))
        for _ in range(30):  # halve the step of each pair whose likelihood fell
            trial = np.clip(y + step, low, high)
            ll_new, grad_new = at(trial)
            worse = ll_new < ll - 1e-12
            if not worse.any():
                break
            step[:, worse] *= 0.5
        gain = float((ll_new - ll).sum())
        y, ll, grad = trial, ll_new, grad_new
        if gain < 1e-5:  # the finite-difference Hessian limits the precision beyond
            break
    return _natural(y), ll


def _natural(y: A) -> A:
    return np.stack([y[0], np.exp(y[1]), y[2]])


def _local_start(t: PairTables, tau: float = 3.0) -> A:
    n = t.counts.sum(axis=(1, 2))
    share_yes = (t.counts[:, 2, :].sum(1) + 0.5) / (n + 1.5)
    share_no = (t.counts[:, 0, :].sum(1) + 0.5) / (n + 1.5)
    m = np.log(share_yes / share_no) * (1.0 + tau / 3.0)  # the whole's balance of yes and no
    return np.stack([m, np.full(t.n_pairs, tau), np.zeros(t.n_pairs)])


def _best_inner(lam: float, sigma: float, band: float, t: PairTables, z: tuple[A, A, A],
                starts: list[A]) -> tuple[A, A]:  # fmt: skip
    """``_inner`` from each of ``starts``, each pair keeping its best (a pair's likelihood can
    have several maxima: a narrow spread of support, or a wide one)."""
    best_x, best_ll = None, None
    for x0 in starts:
        x, ll = _inner(x0, lam, sigma, band, t, z)
        if best_x is None or best_ll is None:
            best_x, best_ll = x, ll
            continue
        better = ll > best_ll
        best_x[:, better], best_ll[better] = x[:, better], ll[better]
    assert best_x is not None and best_ll is not None
    return best_x, best_ll


def _objective(theta: A, t: PairTables, band: float, z: tuple[A, A, A],
               fixed: tuple[float, float] | None) -> tuple[float, A]:  # fmt: skip
    """Minus the log likelihood and its gradient in ``theta``: (lambda, sigma) unless
    ``fixed``, then m, tau and mu of every pair."""
    k = 0 if fixed is not None else 2
    lam, sigma = fixed if fixed is not None else (float(theta[0]), float(theta[1]))
    ll, local, shared, _ = _terms(theta[k:].reshape(3, -1), lam, sigma, band, t, z)
    grad = np.concatenate([shared[:k], local.ravel()])
    return -float(ll.sum()), -grad


@dataclass(frozen=True)
class PairFit:
    """The fit: the pass-through and the deviation's sd with their standard errors, the band
    they are on, each pair's own parameters (m, tau, mu), the log likelihood."""

    pass_through: float
    deviation_sd: float
    band: float
    se: dict[str, float | None]
    log_likelihood: float
    n_pairs: int
    n_votes: int
    local: A = field(repr=False)

    @property
    def estimates(self) -> dict[str, float]:
        """The pass-through and the deviation's sd, by name."""
        return {"pass_through": self.pass_through, "deviation_sd": self.deviation_sd}


def fit_pairs(
    t: PairTables,
    band: float,
    fixed: tuple[float, float] | None = None,
    pass_through: tuple[float, float] = BOUNDS[0],
) -> PairFit:
    """The maximum-likelihood pass-through and deviation's sd on the engine's ``band`` (module
    doc); ``fixed``: both held at these values (a restricted model, such as the engine's old
    mirror: 1 and 0), the pairs' own parameters fitted; ``pass_through``: its bounds (the
    engine's are 0 and 1)."""
    shared_bounds = (pass_through, BOUNDS[1])
    z = nodes()
    x = _local_start(t)
    best: tuple[float, tuple[float, float], A] | None = None
    for k, (lam, sigma) in enumerate((fixed,) if fixed is not None else _GRID):
        # at the first point from a narrow, a middle and a wide spread; then from the last
        fresh = [_local_start(t, tau) for tau in (1.0, 4.0, 16.0)] if k == 0 else []
        x, ll = _best_inner(lam, sigma, band, t, z, [x, *fresh])
        if best is None or -ll.sum() < best[0]:
            best = (-float(ll.sum()), (lam, sigma), x.copy())
    assert best is not None
    value, shared, x = best
    k = 0 if fixed is not None else 2
    bounds = list(shared_bounds[:k]) + [b for b in _LOCAL for _ in range(t.n_pairs)]
    theta0 = np.concatenate([np.asarray(shared)[:k], x.ravel()])
    res = minimize(_objective, theta0, args=(t, band, z, fixed), jac=True, method="L-BFGS-B",
                   bounds=bounds, options={"maxiter": 5000})  # fmt: skip
    theta = res.x if res.fun < value else theta0
    lam, sigma = fixed if fixed is not None else (float(theta[0]), float(theta[1]))
    local = theta[k:].reshape(3, -1)
    ll = _terms(local, lam, sigma, band, t, z)[0]
    return PairFit(
        pass_through=lam,
        deviation_sd=sigma,
        band=band,
        se=_standard_errors(theta, t, band, z, shared_bounds) if fixed is None else {},
        log_likelihood=float(ll.sum()),
        n_pairs=t.n_pairs,
        n_votes=int(t.counts.sum()),
        local=local,
    )


def _standard_errors(
    theta: A, t: PairTables, band: float, z: tuple[A, A, A],
    bounds: tuple[tuple[float, float], ...] = BOUNDS,
) -> dict[str, float | None]:  # fmt: skip
    """Standard errors of (lambda, sigma) from the observed information, the pairs' own
    parameters profiled out: H_gg - H_gl H_ll^-1 H_lg, with H_ll block-diagonal (each pair's
    3 x 3 block), all formed from central differences of the gradient. None at a bound."""
    n, step = t.n_pairs, 1e-4

    def column(e: A) -> A:
        """One column of the Hessian: the central difference of the gradient along ``e``."""
        return (_objective(theta + e, t, band, z, None)[1]
                - _objective(theta - e, t, band, z, None)[1]) / (2 * step)  # fmt: skip

    hg = np.array([column(np.eye(theta.size)[k] * step) for k in range(2)])  # (2, all)
    blocks = np.zeros((n, 3, 3))
    for a in range(3):  # one kind of local parameter of every pair at once
        e = np.zeros_like(theta)
        e[2 + a * n : 2 + (a + 1) * n] = step
        diff = column(e)
        for b in range(3):
            blocks[:, b, a] = diff[2 + b * n : 2 + (b + 1) * n]
    h_gl = hg[:, 2:].reshape(2, 3, n).transpose(2, 0, 1)  # (pairs, 2, 3)
    schur = hg[:, :2] - np.einsum("jga,jab,jhb->gh", h_gl, np.linalg.pinv(blocks), h_gl)
    cov = np.linalg.pinv(schur)
    out: dict[str, float | None] = {}
    for i, name in enumerate(SHARED):
        at_bound = any(abs(theta[i] - b) < 1e-6 for b in bounds[i])
        out[name] = float(np.sqrt(cov[i, i])) if cov[i, i] > 0 and not at_bound else None
    return out
