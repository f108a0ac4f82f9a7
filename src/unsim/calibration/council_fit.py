"""The Council's rule fitted on the record, with what a scenario needs to draw it per run: the
estimates, their standard errors and correlations, how often the patrons vote alike, the
leave-one-case-out judgement of the patrons' shared shock, and the distributions to paste into
``procedure.council`` (:func:`paste_yaml`).

Distributions (:func:`rule_distributions`), each from the fit's mode and standard error (the
Laplace approximation, :func:`unsim.council.votes.standard_errors`):

* ``norm``: a normal;
* ``patron_defence`` and ``dissent``: normals truncated to the field's bounds [0, 1000] (the
  cut takes nothing that matters unless the estimate is within some 2 sd of 0);
* ``patron_shock``: a lognormal of median the estimate and sigma its standard error over the
  estimate (the delta method on its logarithm), because its posterior is skewed: from 5 votes
  of a pair, the log posterior falls about as fast either side of the estimate on a log scale
  (:func:`shock_profile` measures it), not on the shock's own scale.

Each is drawn from its own stream, so the draws are independent: the estimates' correlations
are left out. :func:`stance_spread` says what that does to the spread of a patron's and a
dissenter's stance, the quantities the votes depend on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from unsim.council import votes as rule
from unsim.council.cases import VoteCase
from unsim.council.tabling import TablingFit
from unsim.fields import LATENT

#: The rule's variants judged leave one case out on the joint likelihood of each case's votes.
JOINT_VARIANTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "shared": (rule.FITTED, True),  #: the patrons' shock shared (the rule)
    "apart": (rule.INDEPENDENT, True),  #: no shock: the patrons' votes drawn apart
    "own": (rule.FITTED, False),  #: a shock of each patron's own (fatter tails, no correlation)
}


def rule_fit(designs: Sequence[rule.Design], band: float, noise: float) -> dict[str, Any]:
    """The rule fitted on every case: estimates, standard errors, covariance and correlation
    (in :data:`unsim.council.votes.FITTED` order), the pair of patrons' outcomes it implies,
    the stances' spread drawn apart, and the shock's profile."""
    theta = rule.fit_votes(designs, band, noise)
    se, cov = rule.standard_errors(designs, theta, band, noise)
    sd = np.sqrt(np.diag(cov))
    pair = rule.pair_probabilities(theta, band, noise)
    return {
        "params": list(rule.FITTED),
        "estimate": {p: theta[p] for p in rule.FITTED},
        "se": se,
        "covariance": cov.tolist(),
        "correlation": (cov / np.outer(sd, sd)).tolist(),
        "pair": pair.tolist(),
        "alike_implied": float(np.trace(pair)),
        "alike_apart": float(
            np.trace(rule.pair_probabilities({**theta, "patron_shock": 0.0}, band, noise))
        ),
        "stance_sd": stance_spread(se, cov),
        "shock_profile": shock_profile(designs, theta, se["patron_shock"], band, noise),
        "readings": readings(designs, band, noise),
    }


def _through(theta: dict[str, float], band: float, noise: float) -> float:
    """P(neither of two patrons votes no): a tabled draft is not vetoed by them."""
    pair = rule.pair_probabilities(theta, band, noise)
    return float(pair[np.ix_([0, 2], [0, 2])].sum())


def readings(designs: Sequence[rule.Design], band: float, noise: float) -> list[dict[str, Any]]:
    """What the patrons' numbers rest on: the rule fitted as it is, with one shock per
    situation instead of per vote, without the shock, and on the patrons of one situation
    alone (Darfur's had abstained on earlier drafts, Syria's had vetoed them; the other
    situation's patrons left out), each with how often two patrons vote alike and let a tabled
    draft through (neither votes no)."""
    variants: list[tuple[str, Sequence[rule.Design], tuple[str, ...], bool | str]] = [
        ("the rule (a shock per vote)", designs, rule.FITTED, True),
        ("one shock per situation", designs, rule.FITTED, "situation"),
        ("no shock (votes drawn apart)", designs, rule.INDEPENDENT, True),
    ]
    for situation in sorted({d.situation for d in designs if d.patron.any()}):
        alone = [d if d.situation == situation else _without_patrons(d) for d in designs]
        variants.append((f"{situation}'s patrons alone", alone, rule.FITTED, True))
    rows = []
    for name, cases, free, shared in variants:
        theta = rule.fit_votes(cases, band, noise, free, shared=shared)
        rows.append(
            {
                "reading": name,
                **{p: theta[p] for p in ("norm", "patron_defence", "patron_shock")},
                "alike": float(np.trace(rule.pair_probabilities(theta, band, noise))),
                "through": _through(theta, band, noise),
            }
        )
    return rows


def stance_spread(se: dict[str, float], cov: np.ndarray) -> dict[str, dict[str, float]]:
    """The sd of a patron's stance (``norm - patron_defence``) and a dissenter's (``norm -
    dissent``) under the fit's covariance and with the three drawn apart."""
    at = {p: i for i, p in enumerate(rule.FITTED)}
    out = {}
    for role, other in (("patron", "patron_defence"), ("dissenter", "dissent")):
        i, j = at["norm"], at[other]
        apart = se["norm"] ** 2 + se[other] ** 2
        out[role] = {"fit": float(np.sqrt(apart - 2 * cov[i][j])), "drawn": float(np.sqrt(apart))}
    return out


def shock_profile(
    designs: Sequence[rule.Design], theta: dict[str, float], se: float, band: float, noise: float
) -> list[dict[str, float]]:
    """The profile log posterior of the shock, the other parameters refitted, at the estimate
    times ``exp(k * se / estimate)`` for k = -2, -1, 1, 2: how far it falls (``drop``) against
    what a lognormal (``k^2 / 2``) and a normal of the same standard error would say."""
    shock = theta["patron_shock"]
    if not shock > 0:
        return []
    top = rule.log_posterior(designs, theta, band, noise)
    sigma = se / shock
    rows = []
    for k in (-2.0, -1.0, 1.0, 2.0):
        at = shock * float(np.exp(k * sigma))
        fixed = {"patron_shock": at}
        best = rule.fit_votes(designs, band, noise, rule.INDEPENDENT, fixed=fixed)
        drop = top - rule.log_posterior(designs, best, band, noise)
        rows.append(
            {
                "k": k,
                "shock": at,
                "drop": drop,
                "lognormal": k * k / 2,
                "normal": ((at - shock) / se) ** 2 / 2,
            }
        )
    return rows


def joint_scores(
    cases: Sequence[VoteCase], designs: Sequence[rule.Design], band: float, noise: float
) -> dict[str, Any]:
    """Leave one case out, each variant of :data:`JOINT_VARIANTS`: the log loss of the case's
    votes scored jointly (``-log P(all 15 votes)``, the patrons' together) and of the patrons'
    pair alone, per case and summed; and how often the pairs of patrons voted alike."""
    rows = []
    for d in designs:
        others = [o for o in designs if o.key != d.key]
        row: dict[str, Any] = {"case": d.key, "patrons": int(d.patron.sum())}
        for name, (free, shared) in JOINT_VARIANTS.items():
            theta = rule.fit_votes(others, band, noise, free, shared=shared)
            row[name] = -rule.case_log_likelihood(d, theta, band, noise, shared)
            rest = rule.case_log_likelihood(_without_patrons(d), theta, band, noise)
            row[f"{name}_pair"] = (
                rest - rule.case_log_likelihood(d, theta, band, noise, shared)
                if d.patron.any()
                else 0.0
            )
        rows.append(row)
    totals = {name: float(sum(r[name] for r in rows)) for name in JOINT_VARIANTS}
    pairs = [c for c in cases if len(c.patrons) >= 2]
    alike = sum(len({c.votes[p] for p in c.patrons}) == 1 for c in pairs)
    return {"cases": rows, "total": totals, "pairs": len(pairs), "alike": alike}


def _without_patrons(d: rule.Design) -> rule.Design:
    """The case without its patrons' votes (to read the pair's own part of the likelihood)."""
    keep = d.patron == 0
    return rule.Design(
        key=d.key,
        members=tuple(m for m, k in zip(d.members, keep, strict=True) if k),
        y=d.y[keep],
        patron=d.patron[keep],
        dissenter=d.dissenter[keep],
        shift=d.shift[keep],
        support=None if d.support is None else d.support[keep],
        icc=None if d.icc is None else d.icc[keep],
        referral=d.referral,
        situation=d.situation,
    )


def _r(x: float) -> float:
    return float(f"{x:.4g}")


def rule_distributions(fit: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """``procedure.council.votes``' fitted numbers as distributions (module doc)."""
    est, se = fit["estimate"], fit["se"]
    out: dict[str, dict[str, Any]] = {
        "norm": {"dist": "normal", "mean": _r(est["norm"]), "sd": _r(se["norm"])},
    }
    for p in ("patron_defence", "dissent"):
        out[p] = {
            "dist": "truncnorm",
            "mean": _r(est[p]),
            "sd": _r(se[p]),
            "low": 0.0,
            "high": LATENT,
        }
    shock = est["patron_shock"]
    if shock > 0 and np.isfinite(se["patron_shock"]):
        sigma = se["patron_shock"] / shock
        out["patron_shock"] = {"dist": "lognormal", "median": _r(shock), "sigma": _r(sigma)}
    else:
        out["patron_shock"] = {"dist": "point", "value": _r(shock)}
    for p, d in out.items():
        d["source"] = f"{source}: estimate {est[p]:.3f}, se {se[p]:.3f}"
    return out


def tabling_distribution(fit: TablingFit, source: str) -> dict[str, Any]:
    """``procedure.council.tabling.chance`` as the record's Beta posterior."""
    return {
        "dist": "beta",
        "a": _r(fit.alpha),
        "b": _r(fit.beta),
        "source": f"{source}: {fit.drafts} drafts in {fit.drafts + fit.years_without:.2f} "
        f"years sought ({', '.join(fit.windows)}), uniform prior",
    }


def paste_yaml(votes: dict[str, dict[str, Any]], chance: dict[str, Any] | None) -> str:
    """The block of ``procedure.council`` to paste into a scenario (a flow mapping for each
    number, its source on a line of its own)."""

    def flow(d: dict[str, Any], indent: int) -> str:
        """A number's distribution as a YAML flow mapping (a point as its value), its source on
        a line of its own."""
        if d.get("dist") == "point":
            return f"{d['value']}"
        items = ", ".join(f"{k}: {v}" for k, v in d.items() if k != "source")
        if "source" not in d:
            return "{" + items + "}"
        return "{" + items + ",\n" + " " * (indent + 1) + f'source: "{d["source"]}"' + "}"

    lines = ["procedure:", "  council:"]
    if chance is not None:
        lines += ["    tabling:", f"      chance: {flow(chance, len('      chance: '))}"]
    lines += ["    votes:"]
    lines += [f"      {k}: {flow(d, len(f'      {k}: '))}" for k, d in votes.items()]
    return "\n".join(lines)
