"""Building the levers file from the fit, the out-of-sample decisions and the reference draft.

Each typed indicator of the episodes (:data:`.episodes.LEVERS`) becomes one entry, keyed by the
scenario parameter it informs (:data:`KEYS`): the charm offensive's ``intensity``, the
invitation's ``effect``, the threats' ``intensity``, the ICC language's cost
(``behaviour.icc_aversion``); the others have no scenario parameter yet and stay in latent units
(``target.reform``: a shift of every state's support for the draft).

- ``effect_latent``: the lever's effect on the vote level in a new episode. A lever that ships has
  its estimate as mean and ``sqrt(se^2 + tau_lever^2)`` as sd; one that does not ships centred at
  zero, its sd the spread the data leave: ``sqrt(estimate^2 + se^2 + tau_lever^2)`` when
  estimated (so that its estimate stays within one sd), else the typical size of the estimated
  levers' effects, ``sqrt(tau_lever^2 + mean(estimate^2))``.
- ``effect_yes_votes``: the same in votes at the reference draft (:mod:`.levermap`).
- the distribution in the parameter's units: normal in latent units, or a normal divided by the
  parameter's worth ``k`` in latent units, truncated to its range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from unsim.calibration.episodes import LEVERS
from unsim.calibration.levermap import PARAMETERS, Reference
from unsim.calibration.leversfile import Effect, LeverEntry, LeversFile
from unsim.calibration.metareg import MetaFit

__all__ = ["KEYS", "build_levers", "latent_effect"]

#: The levers file's key for each indicator.
KEYS: dict[str, str] = {
    "engagement": "charm_offensive.intensity",
    "rapporteur_access": "invitation.effect",
    "threats": "threats.intensity",
    "icc_language": "behaviour.icc_aversion",
    "commission_of_inquiry": "draft.commission_of_inquiry",
    "condemnation": "draft.condemnation",
    "security_council": "draft.security_council",
    "prisoner_release": "target.prisoner_release",
    "reform": "target.reform",
    "no_action_motion": "procedure.no_action_motion",
}
LATENT_UNIT = (
    "shift of the support for the draft (latent scale of the vote model), as a change of the "
    "calibration's intercept would move every state's; a scenario whose case had the event may "
    "reference it where it states such a shift: behaviour.bloc_effects.<BLOC> (the bloc's "
    "members, one draw per run) or actors.states.<ISO3>.support_shift (one state)"
)
ICC_UNIT = (
    "the ICC language's cost for every state (latent scale): minus the lever's effect on the level"
)
#: The ICC language's cost's range in a scenario (behaviour.icc_aversion).
ICC_RANGE = (-5.0, 10.0)


def latent_effect(fit: MetaFit, name: str, ships: bool) -> tuple[float, float]:
    """(mean, sd) of the lever's effect on the level in a new episode (see the module)."""
    if fit.estimated(name):
        mean, se = fit.effect(name)
        if ships:
            return mean, fit.predictive_sd(name)
        return 0.0, float(np.sqrt(mean**2 + se**2 + fit.tau_lever**2))
    sizes = [fit.effect(n)[0] ** 2 for n in fit.names if fit.estimated(n)]
    return 0.0, float(np.sqrt(fit.tau_lever**2 + (np.mean(sizes) if sizes else 0.0)))


def _r(x: float, digits: int = 4) -> float:
    out = round(float(x), digits)
    return 0.0 if out == 0 else out


def _in_units(name: str, mean: float, sd: float, ref: Reference) -> dict[str, Any]:
    """The distribution in the parameter's own units, and the note on the map."""
    if name == "icc_language":
        low, high = ICC_RANGE
        return {
            "dist": "truncnorm",
            "mean": _r(-mean),
            "sd": _r(sd),
            "low": low,
            "high": high,
            "unit": ICC_UNIT,
            "map": "the cost is minus the effect (same latent scale)",
        }
    if name not in PARAMETERS or name not in ref.per_unit:
        return {"dist": "normal", "mean": _r(mean), "sd": _r(sd), "unit": LATENT_UNIT, "map": ""}
    p, m = PARAMETERS[name], ref.per_unit[name]
    k = m["k"]
    if not np.isfinite(k) or abs(k) < 1e-6:
        note = f"{p.strategy}.{p.name} moved no votes at the reference draft: not mapped"
        return {"dist": "normal", "mean": _r(mean), "sd": _r(sd), "unit": LATENT_UNIT, "map": note}
    centre = float(np.clip(mean / k, p.low, p.high))
    note = (
        f"{p.strategy}.{p.name} {m['x1']:g} moved the reference {ref.stage} yes tally by "
        f"{m['votes_x1']:+.1f} (a level shift of {m['k'] * m['x1']:+.3f}), so one unit is worth "
        f"k = {k:+.3f} latent units (at {2 * m['x1']:g}: k = {m['k_2x1']:+.3f}); "
        f"distribution: normal(mean / k, sd / |k|) truncated to [{p.low:g}, {p.high:g}]"
        + (
            "; the mean's sign is the strategy's opposite: centred at the range's end"
            if centre != mean / k
            else ""
        )
    )
    return {
        "dist": "truncnorm",
        "mean": _r(centre),
        "sd": _r(sd / abs(k)),
        "low": p.low,
        "high": p.high,
        "unit": p.unit,
        "map": note,
    }


def _entry(
    name: str,
    fit: MetaFit,
    decision: dict[str, Any],
    ref: Reference,
    holders: Sequence[str],
    before: dt.date,
) -> LeverEntry:
    mean, sd = latent_effect(fit, name, decision["ships"])
    votes_mean, votes_sd = ref.votes_distribution(mean, sd)
    units = _in_units(name, mean, sd, ref)
    estimate = ""
    if fit.estimated(name):
        m, se = fit.effect(name)
        lo, hi = fit.interval(name)
        estimate = f"estimate {m:+.3f} (se {se:.3f}, 95 % [{lo:+.3f}, {hi:+.3f}]); "
    source = (
        f"unsim calibrate --levers --before {before}: {LEVERS[name]}. {decision['why']}; "
        f"{estimate}tau_lever {fit.tau_lever:.3f}. Episodes: "
        f"{', '.join(holders) if holders else 'none'}."
        + (f" Map: {units['map']}." if units["map"] else "")
    )
    dist = {k: v for k, v in units.items() if k not in ("unit", "map")}
    return LeverEntry.flat(
        {
            **dist,
            "unit": units["unit"],
            "effect_latent": Effect(mean=_r(mean), sd=_r(sd)),
            "effect_yes_votes": Effect(mean=_r(votes_mean, 2), sd=_r(votes_sd, 2)),
            "episodes": decision["episodes"],
            "identified": decision["identified"],
            "source": source,
        }
    )


def build_levers(
    name: str,
    before: dt.date,
    episodes: Sequence[Any],
    fit: MetaFit,
    decisions: dict[str, dict[str, Any]],
    ref: Reference,
    loo: dict[str, Any],
) -> LeversFile:
    """The levers file: every indicator's entry, the episodes used and the method."""
    levers = {}
    for lever in LEVERS:
        holders = [e.id for e in episodes if e.levers.get(lever)]
        levers[KEYS[lever]] = _entry(lever, fit, decisions[lever], ref, holders, before)
    changed = sum(1 for e in episodes if e.levers)
    d = loo["log_loss"]["difference"]
    method = (
        f"random-effects meta-regression of vote-level shifts (REML, Knapp-Hartung), "
        f"{len(episodes)} episodes ({changed} with a change, {len(episodes) - changed} controls); "
        f"each shift the vote's level against the series' calibration on data before it; "
        f"tau0 {fit.tau0:.3f} (every vote), tau_lever {fit.tau_lever:.3f} (per unit of a lever). "
        f"Leave one episode out, the shipped levers applied: per-state log loss "
        f"{d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] against data only. Votes and "
        f"parameters at the reference draft {ref.path} ({ref.stage}, {ref.runs} paired runs, "
        f"seed {ref.seed})"
    )
    return LeversFile(
        name=name,
        before=before,
        method=method,
        episodes=[e.id for e in episodes],
        levers=levers,
    )
