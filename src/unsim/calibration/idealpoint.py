"""Ideal points of member states from General Assembly roll calls.

The model (an ordered-logit item-response model, as in Bailey, Strezhnev and Voeten's UN ideal
points, estimated on a window rather than dynamically). State ``i`` has a position ``x_i`` in
``dims`` dimensions; roll call ``j`` a discrimination vector ``b_j`` and two ordered cut points
``tau1_j < tau2_j``. With ``eta_ij = b_j . x_i`` and logistic noise, a state present at the vote
votes

    no       with probability  sigmoid(tau1_j - eta_ij)
    abstain  with probability  sigmoid(tau2_j - eta_ij) - sigmoid(tau1_j - eta_ij)
    yes      with probability  1 - sigmoid(tau2_j - eta_ij).

Absences carry no information about the position (they are treated as missing in that likelihood)
and are modelled separately: each state has its own absence rate, its share of absences among its
roll calls in the window, shrunk toward the window's mean by a few pseudo-votes.

Roll calls flagged as human rights (``hr``) count ``hr_weight`` times in the likelihood. Gaussian
priors on positions (sd 1), discriminations and cut points make the estimate a penalised maximum
likelihood (MAP) that exists even for lopsided roll calls; all parameters are fitted at once by
L-BFGS with the analytic gradient on the dense (states x roll calls) matrix.

The reported *position* is one number per state: in one dimension, ``x_i`` itself; in two, the
projection of ``x_i`` on the leading direction of the human-rights roll calls' discrimination
vectors. It is standardised (mean 0, sd 1 over the states in the window) and signed so that
positive means voting like the sponsors of human-rights country resolutions (the anchor: the
United States is positive).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, special

from unsim.data import ABSENT, ABSTAIN, NO, YES
from unsim.errors import InputError

__all__ = [
    "ANCHOR_ISO3",
    "IdealPointConfig",
    "IdealPoints",
    "OrderedFit",
    "estimate_ideal_points",
    "fit_ordered",
    "vote_window",
]

FloatArray = NDArray[np.float64]

#: The state whose position is positive by convention.
ANCHOR_ISO3 = "USA"
#: Correlates of War code of the anchor (used when no member table maps codes to ISO3).
ANCHOR_COW = 2

#: Category codes inside the estimator: -1 missing (absent or not a member), 0 no, 1 abstain, 2 yes.
MISSING, CAT_NO, CAT_ABSTAIN, CAT_YES = -1, 0, 1, 2
_CATEGORY = {NO: CAT_NO, ABSTAIN: CAT_ABSTAIN, YES: CAT_YES}


@dataclass(frozen=True)
class IdealPointConfig:
    """Settings of the ideal-point estimate."""

    sessions: int = 10
    """how many sessions (the last one before the cut, and those before it) form the window"""
    dims: int = 2
    hr_weight: float = 2.0
    """weight of a human-rights roll call in the likelihood (others weigh 1)"""
    prior_sd_position: float = 1.0
    prior_sd_discrimination: float = 2.5
    prior_sd_cut: float = 5.0
    absence_pseudo_votes: float = 20.0
    """strength of the shrinkage of each state's absence rate toward the window mean"""
    max_iter: int = 3000

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (for the provenance)."""
        return {
            "sessions": self.sessions,
            "dims": self.dims,
            "hr_weight": self.hr_weight,
            "prior_sd_position": self.prior_sd_position,
            "prior_sd_discrimination": self.prior_sd_discrimination,
            "prior_sd_cut": self.prior_sd_cut,
            "absence_pseudo_votes": self.absence_pseudo_votes,
        }


@dataclass(frozen=True)
class OrderedFit:
    """A fitted ordered item-response model on a (states x roll calls) matrix."""

    x: FloatArray
    """(states, dims) positions as estimated (not standardised)"""
    b: FloatArray
    """(roll calls, dims) discriminations"""
    tau1: FloatArray
    tau2: FloatArray
    log_likelihood: float
    """weighted log-likelihood of the observed votes at the estimate (priors excluded)"""
    converged: bool
    iterations: int

    def probabilities(self) -> FloatArray:
        """(3, states, roll calls) probabilities of no, abstain, yes."""
        eta = self.x @ self.b.T
        f1 = special.expit(self.tau1[None, :] - eta)
        f2 = special.expit(self.tau2[None, :] - eta)
        return np.stack([f1, f2 - f1, 1.0 - f2])


@dataclass(frozen=True)
class IdealPoints:
    """Per-state positions and absence rates estimated on a window of roll calls."""

    positions: pd.Series
    """standardised position by ISO3 code (or by Correlates of War code without a member table)"""
    absence: pd.Series
    """absence rate by the same index"""
    coordinates: pd.DataFrame
    """raw coordinates (a column per dimension), rotated so that dimension 1 is ``position``"""
    before: dt.date
    sessions: tuple[int, int]
    rcids: tuple[int, ...]
    config: IdealPointConfig
    fit: OrderedFit
    diagnostics: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# The data
# --------------------------------------------------------------------------------------------
def vote_window(votes: pd.DataFrame, before: dt.date | str, sessions: int = 10) -> pd.DataFrame:
    """The votes of roll calls dated strictly before ``before``, in the last ``sessions`` sessions.

    Rows without a date are left out (nothing shows they predate the cut).
    """
    cut = pd.Timestamp(before)
    dated = votes[votes["date"].notna() & (votes["date"] < cut)]
    if dated.empty:
        raise InputError(f"no roll call in the votes data is dated before {cut.date()}")
    last = int(dated["session"].max())
    return dated[dated["session"] > last - sessions]


@dataclass(frozen=True)
class _Matrix:
    ccodes: NDArray[np.int64]
    rcids: NDArray[np.int64]
    y: NDArray[np.int8]
    """(states, roll calls) categories, MISSING where absent or not a member"""
    absent: NDArray[np.bool_]
    member: NDArray[np.bool_]
    hr: NDArray[np.bool_]


def _matrix(window: pd.DataFrame) -> _Matrix:
    members = window[window["vote"].isin([YES, ABSTAIN, NO, ABSENT])]
    ccodes = np.sort(members["ccode"].unique())
    rcids = np.sort(members["rcid"].unique())
    i = np.searchsorted(ccodes, members["ccode"].to_numpy())
    j = np.searchsorted(rcids, members["rcid"].to_numpy())
    vote = members["vote"].to_numpy()
    y = np.full((len(ccodes), len(rcids)), MISSING, dtype=np.int8)
    member = np.zeros(y.shape, dtype=bool)
    absent = np.zeros(y.shape, dtype=bool)
    member[i, j] = True
    absent[i, j] = vote == ABSENT
    for code, cat in _CATEGORY.items():
        sel = vote == code
        y[i[sel], j[sel]] = cat
    hr_flag = members.groupby("rcid")["hr"].max() if "hr" in members else None
    hr = (
        hr_flag.reindex(rcids).fillna(0).to_numpy() > 0
        if hr_flag is not None
        else np.zeros(len(rcids), dtype=bool)
    )
    return _Matrix(ccodes, rcids, y, absent, member, hr)


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------
def _outer(x: FloatArray, b: FloatArray) -> FloatArray:
    """``x @ b.T`` for a few dimensions, without BLAS: its threads spin on such small products
    and slow everything else down on a busy machine."""
    out = np.multiply.outer(x[:, 0], b[:, 0])
    for k in range(1, x.shape[1]):
        out += np.multiply.outer(x[:, k], b[:, k])
    return out


class _Objective:
    """Negative penalised weighted log-likelihood of the ordered model and its gradient.

    Each observed cell only needs the terms of the category it holds, so the cells are kept as
    flat index vectors per category and every transcendental is computed only where needed.
    """

    def __init__(
        self,
        y: NDArray[np.int8],
        weights: FloatArray,
        dims: int,
        config: IdealPointConfig,
    ):
        self.n, self.j = y.shape
        self.d = dims
        self.cfg = config
        self.cells: dict[int, tuple[NDArray[np.intp], NDArray[np.intp], FloatArray]] = {}
        for cat in (CAT_NO, CAT_ABSTAIN, CAT_YES):
            i, j = np.nonzero(y == cat)
            self.cells[cat] = (i, j, weights[j])
        _, j_abs, w_abs = self.cells[CAT_ABSTAIN]
        self.abstain_weight = np.bincount(j_abs, weights=w_abs, minlength=self.j)

    def unpack(self, theta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """The parameter vector split into positions (n, d), discriminations (j, d), first cut
        points (j,) and the log gaps to the second (j,)."""
        n, j, d = self.n, self.j, self.d
        x = theta[: n * d].reshape(n, d)
        b = theta[n * d : n * d + j * d].reshape(j, d)
        a = theta[n * d + j * d : n * d + j * d + j]
        delta = theta[n * d + j * d + j :]
        return x, b, a, delta

    def log_likelihood(self, theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """Weighted log-likelihood and its derivatives (states x roll calls) with respect to
        ``z1 = tau1 - eta`` and ``z2 = tau2 - eta``."""
        x, b, a, delta = self.unpack(theta)
        eta = _outer(x, b)
        gap = np.exp(delta)
        tau2 = a + gap
        d1 = np.zeros((self.n, self.j))
        d2 = np.zeros((self.n, self.j))
        total = 0.0
        tiny = 1e-300  # sigmoid(-z) underflows only for |z| > 700, far outside the priors
        i, j, w = self.cells[CAT_NO]  # log sigmoid(z1)
        s1 = special.expit(a[j] - eta[i, j])
        total += float((w * np.log(np.maximum(s1, tiny))).sum())
        d1[i, j] = w * (1.0 - s1)
        i, j, w = self.cells[CAT_YES]  # log sigmoid(-z2)
        s2 = special.expit(eta[i, j] - tau2[j])
        total += float((w * np.log(np.maximum(s2, tiny))).sum())
        d2[i, j] = -w * (1.0 - s2)
        i, j, w = self.cells[CAT_ABSTAIN]  # log sigmoid(z2) + log sigmoid(-z1) + log(1 - e^-gap)
        e = eta[i, j]
        s2, s1 = special.expit(tau2[j] - e), special.expit(e - a[j])
        log_gap = np.log(-np.expm1(-gap))
        terms = np.log(np.maximum(s2, tiny)) + np.log(np.maximum(s1, tiny)) + log_gap[j]
        total += float((w * terms).sum())
        d1[i, j] = -w * (1.0 - s1)
        d2[i, j] = w * (1.0 - s2)
        return total, d1, d2

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        cfg = self.cfg
        x, b, a, delta = self.unpack(theta)
        ll, d1, d2 = self.log_likelihood(theta)
        gap = np.exp(delta)
        d_eta = -(d1 + d2)
        g_x = np.stack([(d_eta * b[:, k]).sum(axis=1) for k in range(self.d)], axis=1)
        g_b = np.stack([(d_eta * x[:, k, None]).sum(axis=0) for k in range(self.d)], axis=1)
        g_a = d1.sum(axis=0) + d2.sum(axis=0)
        g_delta = gap * (d2.sum(axis=0) + self.abstain_weight / np.expm1(gap))
        # priors
        px, pb, pa = (
            cfg.prior_sd_position**-2,
            cfg.prior_sd_discrimination**-2,
            cfg.prior_sd_cut**-2,
        )
        pd_ = 1.0  # log-gap ~ N(0, 1)
        penalty = 0.5 * (px * (x**2).sum() + pb * (b**2).sum() + pa * (a**2).sum())
        penalty += 0.5 * pd_ * (delta**2).sum()
        grad = np.concatenate(
            [
                (-g_x + px * x).ravel(),
                (-g_b + pb * b).ravel(),
                -g_a + pa * a,
                -g_delta + pd_ * delta,
            ]
        )
        return -ll + float(penalty), grad


def _initial(y: NDArray[np.int8], dims: int, rng: np.random.Generator) -> FloatArray:
    """Starting values from the leading singular vectors of the centred vote matrix."""
    n, j = y.shape
    score = np.where(y >= 0, y.astype(np.float64) - 1.0, np.nan)  # no -1, abstain 0, yes 1
    means = np.nanmean(np.where(np.isnan(score).all(axis=0), 0.0, score), axis=0)
    centred = np.nan_to_num(score - means[None, :])
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(dims, len(s))
    x = np.zeros((n, dims))
    x[:, :k] = u[:, :k] * np.sqrt(n)
    x += 0.01 * rng.standard_normal(x.shape)
    b = np.zeros((j, dims))
    b[:, :k] = vt[:k].T * s[:k] / np.sqrt(n) * 1.5
    share_no = np.nanmean(np.where(y >= 0, y == CAT_NO, np.nan), axis=0)
    share_yes = np.nanmean(np.where(y >= 0, y == CAT_YES, np.nan), axis=0)
    share_no = np.clip(np.nan_to_num(share_no, nan=0.1), 0.02, 0.96)
    share_yes = np.clip(np.nan_to_num(share_yes, nan=0.8), 0.02, 0.96)
    tau1 = special.logit(share_no)
    tau2 = np.maximum(special.logit(1.0 - share_yes), tau1 + 0.05)
    delta = np.log(tau2 - tau1)
    return np.concatenate([x.ravel(), b.ravel(), tau1, delta])


def fit_ordered(
    y: NDArray[np.int8],
    weights: FloatArray | None = None,
    dims: int = 1,
    config: IdealPointConfig | None = None,
    seed: int = 0,
) -> OrderedFit:
    """Fit the ordered item-response model to a (states x roll calls) matrix of categories.

    ``y`` holds 0 (no), 1 (abstain), 2 (yes) and -1 (missing); ``weights`` one weight per roll
    call. Deterministic for a seed (which only jitters the starting values).
    """
    cfg = config or IdealPointConfig(dims=dims)
    if y.ndim != 2 or y.shape[0] < 2 or y.shape[1] < 1:
        raise InputError(f"need votes of at least 2 states on 1 roll call, got shape {y.shape}")
    if dims not in (1, 2):
        raise InputError(f"the ideal-point model has 1 or 2 dimensions, got {dims}")
    w = np.ones(y.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    objective = _Objective(y, w, dims, cfg)
    theta0 = _initial(y, dims, rng)
    res = optimize.minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": cfg.max_iter, "maxfun": 2 * cfg.max_iter, "gtol": 1e-6},
    )
    x, b, a, delta = objective.unpack(res.x)
    ll, _, _ = objective.log_likelihood(res.x)
    return OrderedFit(
        x=x.copy(),
        b=b.copy(),
        tau1=a.copy(),
        tau2=a + np.exp(delta),
        log_likelihood=ll,
        converged=bool(res.success),
        iterations=int(res.nit),
    )


def _position_axis(fit: OrderedFit, hr: NDArray[np.bool_]) -> FloatArray:
    """Unit direction of the human-rights roll calls in the position space."""
    d = fit.x.shape[1]
    if d == 1:
        return np.ones(1)
    b = fit.b[hr] if hr.any() else fit.b
    _, vecs = np.linalg.eigh(b.T @ b)
    return vecs[:, -1]  # type: ignore[no-any-return]


def estimate_ideal_points(
    votes: pd.DataFrame,
    before: dt.date | str,
    members: pd.DataFrame | None = None,
    config: IdealPointConfig | None = None,
    seed: int = 0,
) -> IdealPoints:
    """Positions and absence rates from the roll calls of the window before ``before``.

    ``votes`` as read by :func:`unsim.data.load_votes`; ``members`` (iso3, cow) maps Correlates of
    War codes to ISO3 (states without an ISO3 code are fitted, then left out of the result).
    """
    cfg = config or IdealPointConfig()
    cut = pd.Timestamp(before).date()
    window = vote_window(votes, cut, cfg.sessions)
    m = _matrix(window)
    weights = np.where(m.hr, cfg.hr_weight, 1.0)
    fit = fit_ordered(m.y, weights, cfg.dims, cfg, seed)

    iso = _iso3_index(m.ccodes, members)
    position, coords = _oriented(fit, m, iso, members is not None, cfg.dims)
    # absence rates, shrunk toward the window's mean
    n_member = m.member.sum(axis=1)
    n_absent = m.absent.sum(axis=1)
    mean_rate = float(n_absent.sum()) / max(float(n_member.sum()), 1.0)
    k = cfg.absence_pseudo_votes
    absence = (n_absent + k * mean_rate) / (n_member + k)

    keep = iso != ""
    index = pd.Index(iso[keep] if members is not None else m.ccodes[keep], name="state")
    present = m.y >= 0
    modal = fit.probabilities().argmax(axis=0)
    diagnostics = {
        "roll_calls": len(m.rcids),
        "human_rights_roll_calls": int(m.hr.sum()),
        "states": len(m.ccodes),
        "votes": int(present.sum()),
        "absences": int(m.absent.sum()),
        "log_likelihood": round(fit.log_likelihood, 3),
        "in_window_accuracy": round(float((modal == m.y)[present].mean()), 4),
        "converged": fit.converged,
        "iterations": fit.iterations,
        "mean_absence": round(float(mean_rate), 4),
        "states_left_out": [int(c) for c in m.ccodes[~keep]],
    }
    return IdealPoints(
        positions=pd.Series(position[keep], index=index, name="position"),
        absence=pd.Series(absence[keep], index=index, name="absence"),
        coordinates=pd.DataFrame(
            coords[keep], index=index, columns=[f"dim{k + 1}" for k in range(cfg.dims)]
        ),
        before=cut,
        sessions=(int(window["session"].min()), int(window["session"].max())),
        rcids=tuple(int(r) for r in m.rcids),
        config=cfg,
        fit=fit,
        diagnostics=diagnostics,
    )


def _oriented(
    fit: OrderedFit, m: _Matrix, iso: NDArray[np.str_], by_iso3: bool, dims: int
) -> tuple[FloatArray, FloatArray]:
    """One number per state, the human-rights direction standardised and anchored (the anchor
    state positive), and the coordinates rotated to put it first."""
    axis = _position_axis(fit, m.hr)
    raw = fit.x @ axis
    mean, sd = raw.mean(), raw.std()
    position = (raw - mean) / (sd if sd > 0 else 1.0)
    anchor = np.nonzero(iso == ANCHOR_ISO3)[0] if by_iso3 else np.nonzero(m.ccodes == ANCHOR_COW)[0]
    if anchor.size and position[anchor[0]] < 0:
        position, axis = -position, -axis
    coords = fit.x.copy()
    if dims == 2:  # rotate: first column along the position axis, second orthogonal
        basis = np.column_stack([axis, [-axis[1], axis[0]]])
        coords = coords @ basis
    return position, coords


def _iso3_index(ccodes: NDArray[np.int64], members: pd.DataFrame | None) -> NDArray[np.str_]:
    if members is None:
        return np.array([str(c) for c in ccodes])
    table = dict(zip(members["cow"].astype(int), members["iso3"].astype(str), strict=True))
    return np.array([table.get(int(c), "") for c in ccodes])
