"""Backtest of the Security Council side: the model's Council votes on the recorded votes, member
by member, leaving each vote out; and the tabling rule's chance on the recorded situations.

The votes (:mod:`unsim.council.cases`): the three recorded referrals (Darfur 2005, Libya 2011,
Syria May 2014) and the other recorded votes on the same situations (resolution 1591 on Darfur,
the Syria drafts of 2011-2012). For each, the Council of that day is built in the scenario's
world, the draft is a referral (or a draft) on the target's situation, tabled as it was, with no
diplomacy before it; the target's patrons and the dissenters are those the earlier votes on the
situation named. Each member's probability of yes, no and abstention is scored against its
recorded vote (accuracy of the most probable vote, Brier over the three outcomes, log loss with
probabilities below 1 % counted as 1 %), next to naive baselines.

Methods. ``unsim``: the model with the Council's rule (``procedure.council.votes``: norm,
patron's defence, dissent) fitted on the *other* votes (:func:`unsim.council.votes.leave_one_out`);
``unsim_support`` and ``unsim_icc``: the same with the member's Assembly support or the ICC
language's cost weighed too, to see whether either helps a left-out vote; ``scenario``: the
scenario's own Council behaviour applied to the case (its rule was fitted on all the votes, this
one included: in sample); ``assembly_rule``: the earlier rule, each member by its Assembly
support, Council shift, ICC cost and a patron's tie; baselines ``all_yes`` and ``patrons_no``.

Honest limits: positions and support come from the scenario's calibration (the DPRK series,
roll calls up to September 2014), a different question from a referral of another state; the
scenario's per-state overrides are left out (they rest partly on these votes); seven votes of 15
members each are a small test, and three of them are on Syria.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from unsim.calibration.council_fit import (
    joint_scores,
    paste_yaml,
    rule_distributions,
    rule_fit,
    tabling_distribution,
)
from unsim.council import votes as rule
from unsim.council.cases import VoteCase, scored, vote_cases
from unsim.council.record import load_record
from unsim.council.tabling import fit_tabling
from unsim.engine import run
from unsim.model import UNModel
from unsim.model.params import effective_behaviour
from unsim.model.stages import Item, the_stage
from unsim.scenario.council import CouncilVotes
from unsim.scenario.schema import Scenario, World

#: Rome Statute parties of 2014 on a recorded Council that joined after its vote: the date the
#: Statute entered into force for them (Japan acceded in 2007, the Philippines ratified in 2011).
ACCESSIONS = {"JPN": dt.date(2007, 10, 1), "PHL": dt.date(2011, 11, 1)}
#: The rule's variants scored leave one case out: method -> the parameters fitted.
VARIANTS: dict[str, tuple[str, ...]] = {
    "unsim": rule.FITTED,
    "unsim_support": (*rule.FITTED, "support_weight"),
    "unsim_icc": (*rule.FITTED, "icc_weight"),
}
#: Draws of each member's support and ICC cost the fits average over.
DESIGN_RUNS = 1000

#: The Council's vote on a referral draft, the one the backtest replays.
REFERRAL = the_stage(lambda st: st.item is Item.REFERRAL)


def case_scenario(scenario: Scenario, case: VoteCase, votes: Any = "scenario") -> Scenario:
    """The scenario's Council behaviour applied to ``case``: its Council, target, patrons,
    dissenters and party list; the draft alone, tabled as it was, with no diplomacy before it.
    ``votes``: the Council's rule to vote by ("scenario": the scenario's own, with the case's
    dissenters; None: by Assembly support; or a :class:`CouncilVotes`)."""
    world = scenario.world
    assert isinstance(world, World)
    permanent = list(world.security_council.permanent)
    council = world.security_council.model_copy(
        update={"elected": sorted(c for c in case.votes if c not in permanent)}
    )
    blocs = dict(world.blocs)
    late = [c for c, since in ACCESSIONS.items() if since > case.date]
    if "ICC_PARTIES" in blocs and late:
        parties = blocs["ICC_PARTIES"]
        members = [c for c in parties.members if c not in late]
        blocs["ICC_PARTIES"] = parties.model_copy(update={"members": members})
    world = world.model_copy(update={"security_council": council, "blocs": blocs})
    actors = scenario.actors.model_copy(
        update={
            "target": scenario.actors.target.model_copy(update={"strategies": []}),
            "allies": scenario.actors.allies.model_copy(
                update={"members": [], "patrons": list(case.patrons)}
            ),
            "states": {},
        }
    )
    resolution = scenario.resolution.model_copy(
        update={
            "target": case.target,
            "sponsors": [c for c in scenario.resolution.sponsors if c != case.target],
            "stages": [REFERRAL],
        }
    )
    if votes == "scenario":
        votes = scenario.procedure.council.votes
    if votes is not None:
        votes = votes.model_copy(update={"dissenters": list(case.dissenters)})
    council_rule = scenario.procedure.council.model_copy(
        update={"requires_plenary_adoption": False, "table_referral": "always", "votes": votes}
    )
    rounds = scenario.simulation.rounds.model_copy(
        update={"third_committee": 0, "plenary": 0, "security_council": 0}
    )
    return scenario.model_copy(
        update={
            "name": f"{scenario.name}_{case.key}",
            "world": world,
            "actors": actors,
            "resolution": resolution,
            "procedure": scenario.procedure.model_copy(update={"council": council_rule}),
            "simulation": scenario.simulation.model_copy(update={"rounds": rounds}),
        }
    )


def member_probabilities(s: Scenario, case: VoteCase, runs: int, seed: int) -> tuple[Any, float]:
    """(members x 3: yes, no, abstain) the model's probabilities on ``case`` run as ``s``
    (a :func:`case_scenario`), and its P(adopted)."""
    res = run(s, runs=runs, seed=seed, keep_runs=False)
    ps = res.per_state
    ps = ps[ps["stage"].astype(str) == REFERRAL].set_index("iso3").loc[case.members]
    probs = ps[["p_yes", "p_no", "p_abstain"]].to_numpy(dtype=float)
    return probs, float(res.summary["outcomes"]["referral_adopted"]["p"])


def case_design(scenario: Scenario, case: VoteCase, seed: int) -> rule.Design:
    """The case as the fit sees it, with draws of each member's Assembly support and ICC cost
    under the scenario's calibration (:data:`DESIGN_RUNS` runs)."""
    model = UNModel(case_scenario(scenario, case, votes=None), replicates=DESIGN_RUNS, seed=seed)
    rows = [model.world.index[c] for c in case.members]
    support = np.asarray(model.support[rows], dtype=float)
    icc = np.asarray(model.icc_aversion[rows], dtype=float)
    return rule.design(case, support=support, icc=icc)


def fit_rule(
    scenario: Scenario, data_dir: str | Path, seed: int = 0, free: tuple[str, ...] = rule.FITTED
) -> dict[str, float]:
    """The Council's rule fitted on every scored vote before the scenario's date: the values
    ``procedure.council.votes`` states."""
    world = scenario.world
    assert isinstance(world, World)
    cases = scored(vote_cases(data_dir, world, before=scenario.date))
    b = effective_behaviour(scenario)
    designs = [case_design(scenario, c, seed) for c in cases]
    return rule.fit_votes(designs, b.abstention_band, b.vote_noise, free)


def _votes_of(theta: dict[str, float]) -> CouncilVotes:
    return CouncilVotes(**{k: round(v, 6) for k, v in theta.items()})


def council_backtest(
    scenario: Scenario, data_dir: str | Path, runs: int = 4000, seed: int = 0
) -> dict[str, Any]:
    """Score the methods (module doc) on every scored vote before the scenario's date, each
    member against its recorded vote. Returns ``cases`` (a row per case and method), ``members``
    (per member: the left-out rule's probabilities and the recorded vote), ``summary`` (mean
    scores per method over all votes and over the referrals), ``fitted`` (the rule on all
    votes, and without each), and ``tabling`` (:func:`tabling_backtest`)."""
    world = scenario.world
    assert isinstance(world, World)
    cases = scored(vote_cases(data_dir, world, before=scenario.date))
    b = effective_behaviour(scenario)
    designs = {c.key: case_design(scenario, c, seed) for c in cases}
    loo = {
        method: rule.leave_one_out(list(designs.values()), b.abstention_band, b.vote_noise, free)
        for method, free in VARIANTS.items()
    }
    fit = rule_fit(list(designs.values()), b.abstention_band, b.vote_noise)
    fitted = {**dict.fromkeys(rule.PARAMS, 0.0), **fit["estimate"]}
    case_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    for case in cases:
        y = designs[case.key].y
        common = {
            "case": case.key,
            "date": case.date.isoformat(),
            "target": case.target,
            "referral": case.referral,
        }
        shown: dict[str, Any] = {}
        for method, s in _variants(scenario, case, loo).items():
            probs, p_adopted = member_probabilities(s, case, runs, seed)
            shown[method] = probs
            case_rows.append(
                {
                    **common,
                    "method": method,
                    **rule.scores(probs, y),
                    "p_adopted": p_adopted,
                    "yes_expected": float(probs[:, 0].sum()),
                }
            )
        for method, probs in _baselines(case).items():
            case_rows.append({**common, "method": method, **rule.scores(probs, y)})
        member_rows += _member_rows(common, case, shown["unsim"], shown["assembly_rule"])
    return {
        "runs": runs,
        "seed": seed,
        "scenario": scenario.name,
        "band": b.abstention_band,
        "noise": b.vote_noise,
        "fitted": {"all": fitted, **{k: v for k, v in loo["unsim"].items()}},
        "cases": case_rows,
        "members": member_rows,
        "summary": _summary(case_rows),
        "tabling": tabling_backtest(scenario, cases),
        "rule": fit,
        "joint": joint_scores(cases, list(designs.values()), b.abstention_band, b.vote_noise),
        "paste": _paste(scenario, fit),
    }


def _paste(scenario: Scenario, fit: dict[str, Any]) -> str:
    """The fitted rule and the scenario's tabling chance as distributions to paste."""
    when = scenario.date.isoformat() if scenario.date is not None else "the cut"
    source = f"fitted on the Council's record before {when} (unsim backtest --council)"
    council = scenario.procedure.council
    chance = None
    if council.table_referral == "record":
        windows = load_record().windows_before(scenario.date)
        tab = fit_tabling(windows, opposed=bool(council.tabling.opposed_by))
        chance = tabling_distribution(tab, source)
    return paste_yaml(rule_distributions(fit, source), chance)


def _variants(
    scenario: Scenario, case: VoteCase, loo: dict[str, dict[str, dict[str, float]]]
) -> dict[str, Scenario]:
    """The model methods' scenarios on ``case``: each left-out rule, the scenario's own
    behaviour, the Assembly rule."""
    out = {m: case_scenario(scenario, case, _votes_of(loo[m][case.key])) for m in VARIANTS}
    out["scenario"] = case_scenario(scenario, case)
    out["assembly_rule"] = case_scenario(scenario, case, votes=None)
    return out


def _baselines(case: VoteCase) -> dict[str, Any]:
    """Every member votes yes; the patrons (stated by the earlier votes) no, the others yes."""
    members = case.members
    patron = np.array([c in case.patrons for c in members])
    all_yes = np.tile([1.0, 0.0, 0.0], (len(members), 1))
    patrons_no = np.where(patron[:, None], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0])
    return {"all_yes": all_yes, "patrons_no": patrons_no}


def _member_rows(
    common: dict[str, Any], case: VoteCase, loo: Any, assembly: Any
) -> list[dict[str, Any]]:
    rows = []
    for i, c in enumerate(case.members):
        role = "patron" if c in case.patrons else "dissenter" if c in case.dissenters else ""
        rows.append(
            {
                **common,
                "iso3": c,
                "role": role,
                "recorded": case.votes[c],
                **{f"p_{k}": float(loo[i, j]) for j, k in enumerate(("yes", "no", "abstain"))},
                **{
                    f"assembly_p_{k}": float(assembly[i, j])
                    for j, k in enumerate(("yes", "no", "abstain"))
                },
            }
        )
    return rows


def _summary(case_rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Mean scores per method over all the votes and over the referrals alone."""
    table = pd.DataFrame(case_rows)
    out = {}
    for name, part in (("all", table), ("referrals", table[table["referral"]])):
        means = part.groupby("method", sort=False)[["accuracy", "brier", "log_loss"]].mean()
        out[name] = [
            {"method": m, "votes": int((part["method"] == m).sum()), **row}
            for m, row in means.to_dict(orient="index").items()
        ]
    return out


def tabling_backtest(scenario: Scenario, cases: list[VoteCase]) -> dict[str, Any]:
    """The tabling rule on the record: the fit on every window before the scenario's date for
    each signal, each window's chance fitted on the others, and the chance each recorded
    referral had by the record before its own date."""
    record = load_record()
    windows = record.windows_before(scenario.date)
    fits = {
        ("opposed" if o else "not_opposed"): fit_tabling(windows, o).summary()
        for o in (True, False)
    }
    others = []
    for w in windows:
        fit = fit_tabling([o for o in windows if o.key != w.key], w.opposed)
        lo, hi = fit.interval()
        others.append(
            {
                "window": w.key,
                "opposed": w.opposed,
                "tabled": w.tabled is not None,
                "years": (w.end - w.sought_from).days / 365.25,
                "chance": fit.mean,
                "low": lo,
                "high": hi,
            }
        )
    by_target = {w.target: w for w in record.tabling}
    at_vote = {}
    for case in (c for c in cases if c.referral):
        w = by_target[case.target]
        fit = fit_tabling(record.windows_before(case.date), w.opposed)
        at_vote[case.key] = {"chance": fit.mean, "interval_90": list(fit.interval())}
    return {"fit": fits, "leave_one_out": others, "at_vote": at_vote}
