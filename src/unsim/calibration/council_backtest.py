"""Backtest of the Security Council side: the model's Council votes on past ICC referrals.

For each recorded referral vote in ``unsc_icc_votes_before_2014-11.csv`` (Darfur 2005, Libya
2011, Syria May 2014) the Council of that year is built in the scenario's world, the draft is
a referral of the target's situation, and the model's probability of each member's yes, no and
abstention is scored against its recorded vote (accuracy of the most probable vote, Brier score
over the three outcomes, log loss with probabilities below 1 % counted as 1 %), next to naive
baselines. The model's Council behaviour is the scenario's as calibrated or assumed: positions,
intercept, band and noises from the calibration, ``council_shift``, the ICC language's cost by
Rome Statute status (the party list as of the vote), the veto holders' ties to the target as its
patrons. What is *not* carried over: the scenario's per-state overrides (China's and Russia's
Council shifts and the per-state ICC costs rest partly on these very votes), its strategies,
lobbying and diplomatic rounds (none: the Council votes on the draft as tabled).

The sponsors' tabling rule is reported too: how likely the scenario's rule was to table each
draft (all three were tabled).

Honest limits: positions come from the 2014 calibration (roll calls up to September 2014, after
the 2005 and 2011 votes but before the forecast date) and the intercept from the DPRK
human-rights votes; a Council referral of another state is a different question. Three votes of
15 members each are a small test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from unsim.calibration.backtest import LOG_LOSS_FLOOR, probability_scores
from unsim.engine import run
from unsim.errors import InputError
from unsim.scenario.schema import Scenario, World

VOTES_FILE = "unsc_icc_votes_before_2014-11.csv"
OUTCOMES = ("Y", "N", "A")
FLOOR = LOG_LOSS_FLOOR  # log loss: probabilities below 1 % count as 1 %

#: Names in the data file that differ from the world's state names.
ALIASES = {
    "Russian Federation": "RUS",
    "Republic of Korea": "KOR",
    "United Kingdom": "GBR",
    "United States": "USA",
    "Tanzania": "TZA",
}


@dataclass(frozen=True)
class Case:
    """A recorded Council vote on an ICC referral and what the model needs to rebuild it."""

    key: str
    date: str
    target: str
    #: veto holders that vetoed or abstained on a Council draft on the target's situation before
    #: the referral vote (the scenario's rule for a patron)
    patrons: tuple[str, ...]
    evidence: str
    #: the 15 members when the data file does not list them all
    members: tuple[str, ...] = ()
    #: Rome Statute parties of 2014 that were not yet parties on the day of the vote
    not_yet_parties: tuple[str, ...] = ()
    votes: dict[str, str] = field(default_factory=dict)


CASES: tuple[Case, ...] = (
    Case(
        "darfur_2005",
        "2005-03-31",
        "SDN",
        ("CHN", "RUS"),
        "China and Russia abstained on resolution 1591 on Darfur two days before (12-0-3, with "
        "Algeria; UN press release SC/8346)",
        not_yet_parties=("JPN", "PHL"),  # Japan acceded in 2007, the Philippines in 2011
    ),
    Case(
        "libya_2011",
        "2011-02-26",
        "LBY",
        (),
        "resolution 1970 was the Council's first on the situation in Libya: no earlier draft",
        # the file says "all 15 members": the Council of 2011 (UN press release SC/10187/Rev.1)
        members=(
            "BIH",
            "BRA",
            "CHN",
            "COL",
            "DEU",
            "FRA",
            "GAB",
            "GBR",
            "IND",
            "LBN",
            "NGA",
            "PRT",
            "RUS",
            "USA",
            "ZAF",
        ),
        not_yet_parties=("PHL",),
    ),
    Case(
        "syria_2014",
        "2014-05-22",
        "SYR",
        ("CHN", "RUS"),
        "China and Russia vetoed three drafts on Syria (4 October 2011, 4 February 2012, "
        "19 July 2012)",
    ),
)


def _codes(names: str, world: World, where: str) -> list[str]:
    by_name = {s.name: s.iso3 for s in world.states}
    out = []
    for name in (n.strip() for n in str(names).split(";")):
        if not name or name.lower() == "nan":
            continue
        code = ALIASES.get(name) or by_name.get(name)
        if code is None:
            raise InputError(f"{where}: unknown member name {name!r}; add it to ALIASES")
        out.append(code)
    return out


def load_cases(data_dir: str | Path, world: World) -> list[Case]:
    """The cases with their recorded votes (ISO3 -> Y/N/A) read from the data file."""
    from unsim.safeio import FileReadError
    from unsim.safetables import read_csv_table

    path = Path(data_dir) / VOTES_FILE
    try:
        table = read_csv_table(path, dtype=str)
    except FileReadError as exc:
        if exc.missing:
            raise InputError(f"{path}: not found (see README, Real data)") from None
        raise InputError(f"{path}: cannot read the Council votes: {exc.reason}") from None
    if "date" not in table.columns:
        raise InputError(f"{path}: no column 'date' (see README, Real data)")
    out = []
    for case in CASES:
        rows = table[table["date"] == case.date]
        if len(rows) != 1:
            raise InputError(f"{path}: expected one vote dated {case.date}, found {len(rows)}")
        row = rows.iloc[0]
        where = f"{path}, vote of {case.date}"
        votes: dict[str, str] = {}
        for column, letter in (("yes", "Y"), ("no", "N"), ("abstain", "A")):
            names = str(row[f"{column}_members"])
            if names.strip().lower() == "all 15 members":
                votes.update(dict.fromkeys(case.members, letter))
            else:
                votes.update(dict.fromkeys(_codes(names, world, where), letter))
        counts = {k: int(float(row[c])) for k, c in (("Y", "yes"), ("N", "no"), ("A", "abstain"))}
        recorded = {k: sum(v == k for v in votes.values()) for k in OUTCOMES}
        if len(votes) != 15 or recorded != counts:
            raise InputError(
                f"{where}: the members listed ({len(votes)}: {recorded}) do not match the "
                f"tally {counts}"
            )
        out.append(Case(**{**case.__dict__, "votes": votes}))
    return out


def case_scenario(scenario: Scenario, case: Case) -> Scenario:
    """The scenario's Council behaviour applied to ``case``: its Council, target, patrons and
    party list; the referral draft alone, tabled as it was, with no diplomacy before it."""
    world = scenario.world
    assert isinstance(world, World)
    permanent = list(world.security_council.permanent)
    elected = sorted(c for c in case.votes if c not in permanent)
    council = world.security_council.model_copy(update={"elected": elected})
    blocs = dict(world.blocs)
    if "ICC_PARTIES" in blocs and case.not_yet_parties:
        parties = blocs["ICC_PARTIES"]
        members = [c for c in parties.members if c not in case.not_yet_parties]
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
    sponsors = [c for c in scenario.resolution.sponsors if c != case.target]
    resolution = scenario.resolution.model_copy(
        update={"target": case.target, "sponsors": sponsors, "stages": ["sc_referral"]}
    )
    council_rule = scenario.procedure.council.model_copy(
        update={"requires_plenary_adoption": False, "table_referral": "always"}
    )
    procedure = scenario.procedure.model_copy(update={"council": council_rule})
    rounds = scenario.simulation.rounds.model_copy(
        update={"third_committee": 0, "plenary": 0, "security_council": 0}
    )
    simulation = scenario.simulation.model_copy(update={"rounds": rounds})
    return scenario.model_copy(
        update={
            "name": f"{scenario.name}_{case.key}",
            "world": world,
            "actors": actors,
            "resolution": resolution,
            "procedure": procedure,
            "simulation": simulation,
        }
    )


def _scores(probs: pd.DataFrame, actual: pd.Series) -> dict[str, float]:
    """Accuracy, Brier (three outcomes) and log loss of ``probs`` (columns Y, N, A)."""
    index = actual.map({k: i for i, k in enumerate(OUTCOMES)}).to_numpy(dtype=int)
    return probability_scores(probs[list(OUTCOMES)].to_numpy(dtype=float), index)


def _tabling_chance(scenario: Scenario, case: Case, runs: int, seed: int) -> float:
    """How often the scenario's own tabling rule tables this case's draft."""
    s = case_scenario(scenario, case)
    rule = scenario.procedure.council
    council = s.procedure.council.model_copy(
        update={"table_referral": rule.table_referral, "table_into_veto": rule.table_into_veto}
    )
    s = s.model_copy(update={"procedure": s.procedure.model_copy(update={"council": council})})
    res = run(s, runs=runs, seed=seed, keep_runs=False)
    return float(res.summary["outcomes"]["referral_tabled"]["p"])


#: Values of ``behaviour.council_shift`` over which it is fitted (latent scale).
SHIFT_GRID: tuple[float, ...] = tuple(float(x) for x in np.arange(0.0, 12.01, 0.5))


def _member_probabilities(
    scenario: Scenario, case: Case, runs: int, seed: int
) -> tuple[pd.DataFrame, float]:
    """(members x Y/N/A) the model's vote probabilities on ``case``, and its P(adopted)."""
    res = run(case_scenario(scenario, case), runs=runs, seed=seed, keep_runs=False)
    ps = res.per_state
    ps = ps[ps["stage"] == "sc_referral"].set_index("iso3")
    members = sorted(case.votes)
    probs = pd.DataFrame(
        {
            "Y": ps.loc[members, "p_yes"].to_numpy(),
            "N": ps.loc[members, "p_no"].to_numpy(),
            "A": ps.loc[members, "p_abstain"].to_numpy(),
        },
        index=members,
    )
    return probs, float(res.summary["outcomes"]["referral_adopted"]["p"])


def _log_likelihood(probs: pd.DataFrame, case: Case) -> float:
    chosen = [max(float(probs.loc[c, v]), FLOOR) for c, v in case.votes.items()]
    return float(np.log(chosen).sum())


def fit_council_shift(
    scenario: Scenario,
    cases: list[Case],
    runs: int,
    seed: int,
    grid: tuple[float, ...] = SHIFT_GRID,
) -> tuple[dict[str, float], dict[float, dict[str, tuple[pd.DataFrame, float]]]]:
    """``behaviour.council_shift`` by maximum likelihood (over ``grid``) on the recorded member
    votes: fitted on all cases (``"all"``) and, for each case, on the others only (its key),
    with the probabilities computed at every grid value (reused for scoring)."""
    at: dict[float, dict[str, tuple[pd.DataFrame, float]]] = {}
    for value in grid:
        behaviour = scenario.behaviour.model_copy(update={"council_shift": value})
        s = scenario.model_copy(update={"behaviour": behaviour})
        at[value] = {c.key: _member_probabilities(s, c, runs, seed) for c in cases}
    loglik = {v: {c.key: _log_likelihood(at[v][c.key][0], c) for c in cases} for v in grid}

    def best(keys: list[str]) -> float:
        return max(grid, key=lambda v: (sum(loglik[v][k] for k in keys), -v))

    fitted = {"all": best([c.key for c in cases])}
    for c in cases:
        fitted[c.key] = best([o.key for o in cases if o.key != c.key])
    return fitted, at


def council_backtest(
    scenario: Scenario,
    data_dir: str | Path,
    runs: int = 4000,
    seed: int = 0,
    grid: tuple[float, ...] = SHIFT_GRID,
) -> dict[str, Any]:
    """Score the model's Council votes on every recorded referral (module doc).

    Methods: ``unsim`` (the scenario's Council behaviour as it stands), ``unsim_fitted``
    (``behaviour.council_shift`` fitted by maximum likelihood on the other cases' recorded
    votes, leave one case out), baselines ``all_yes`` and ``patrons_no``. Returns ``cases``
    (per case and method: scores, and for the model its P(adopted) and the chance that the
    scenario's tabling rule tables the draft), ``members`` (per member: probabilities of both
    model methods and the recorded vote), ``summary`` (mean scores per method) and
    ``council_shift`` (the fitted values: on all cases, and without each case)."""
    world = scenario.world
    assert isinstance(world, World)
    cases = load_cases(data_dir, world)
    names = {s.iso3: s.name for s in world.states}
    fitted, at = fit_council_shift(scenario, cases, runs, seed, grid)
    case_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    for case in cases:
        model, p_adopted = _member_probabilities(scenario, case, runs, seed)
        loo, p_adopted_loo = at[fitted[case.key]][case.key]
        actual = pd.Series([case.votes[c] for c in model.index], index=model.index)
        common = {"case": case.key, "date": case.date, "target": case.target}
        recorded = _recorded(case, actual, world)
        case_rows.append(
            {
                **common,
                "method": "unsim",
                **_scores(model, actual),
                "council_shift": float(scenario.behaviour.council_shift),
                "p_adopted": p_adopted,
                "yes_expected": float(model["Y"].sum()),
                "p_tabled_by_rule": _tabling_chance(scenario, case, runs, seed),
                **recorded,
            }
        )
        case_rows.append(
            {
                **common,
                "method": "unsim_fitted",
                **_scores(loo, actual),
                "council_shift": fitted[case.key],
                "p_adopted": p_adopted_loo,
                "yes_expected": float(loo["Y"].sum()),
                **recorded,
            }
        )
        for method, probs in _baselines(case, list(model.index)).items():
            case_rows.append({**common, "method": method, **_scores(probs, actual)})
        member_rows += _member_rows(common, case, model, loo, names)
    return _council_result(scenario, runs, seed, fitted, case_rows, member_rows)


def _council_result(
    scenario: Scenario,
    runs: int,
    seed: int,
    fitted: dict[str, float],
    case_rows: list[dict[str, Any]],
    member_rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """The Council backtest's result: its settings, rows and the mean scores per method."""
    table = pd.DataFrame(case_rows)
    summary = (
        table.groupby("method", sort=False)[["accuracy", "brier", "log_loss"]]
        .mean()
        .reset_index()
        .to_dict(orient="records")
    )
    return {
        "runs": runs,
        "seed": seed,
        "scenario": scenario.name,
        "rule": {
            "table_referral": scenario.procedure.council.table_referral,
            "table_into_veto": scenario.procedure.council.table_into_veto,
        },
        "council_shift": {"scenario": float(scenario.behaviour.council_shift), "fitted": fitted},
        "cases": [{k: _clean(v) for k, v in r.items()} for r in case_rows],
        "members": member_rows,
        "summary": summary,
    }


def _baselines(case: Case, members: list[str]) -> dict[str, pd.DataFrame]:
    """The naive Council baselines: every member votes yes; the patrons no, the others yes."""
    patrons = pd.Series([c in case.patrons for c in members], index=members)
    return {
        "all_yes": pd.DataFrame({"Y": 1.0, "N": 0.0, "A": 0.0}, index=members),
        "patrons_no": pd.DataFrame(
            {"Y": (~patrons).astype(float), "N": patrons.astype(float), "A": 0.0},
            index=members,
        ),
    }


def _recorded(case: Case, actual: pd.Series, world: World) -> dict[str, Any]:
    """What the Council recorded on a case: the outcome, the yes votes, the patrons."""
    permanent_no = any(case.votes.get(c) == "N" for c in world.security_council.permanent)
    adopted = not permanent_no and int((actual == "Y").sum()) >= 9
    return {
        "recorded": "adopted" if adopted else "not adopted",
        "yes_recorded": int((actual == "Y").sum()),
        "patrons": ",".join(case.patrons) or "none",
        "evidence": case.evidence,
    }


def _member_rows(
    common: dict[str, Any],
    case: Case,
    model: pd.DataFrame,
    loo: pd.DataFrame,
    names: dict[str, str],
) -> list[dict[str, Any]]:
    """Per member of a case: both model methods' probabilities and the recorded vote."""
    return [
        {
            **common,
            "iso3": c,
            "name": names.get(c, c),
            "recorded": case.votes[c],
            "p_yes": float(model.loc[c, "Y"]),
            "p_no": float(model.loc[c, "N"]),
            "p_abstain": float(model.loc[c, "A"]),
            "fitted_p_yes": float(loo.loc[c, "Y"]),
            "fitted_p_no": float(loo.loc[c, "N"]),
            "fitted_p_abstain": float(loo.loc[c, "A"]),
        }
        for c in model.index
    ]


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def council_markdown(result: dict[str, Any]) -> str:
    """The backtest as Markdown tables: per case and method, then the per-member votes."""
    lines = [
        "| case | method | accuracy | Brier | log loss | yes: expected (recorded) "
        "| P(adopted) (recorded) | P(tabled) by the rule |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["cases"]:
        if r["method"].startswith("unsim"):
            tabled = r.get("p_tabled_by_rule")
            extra = (
                f"{r['yes_expected']:.1f} ({r['yes_recorded']}) | "
                f"{r['p_adopted']:.2f} ({r['recorded']}) | "
                + (f"{tabled:.2f}" if tabled is not None else "")
            )
        else:
            extra = " | | "
        lines.append(
            f"| {r['case']} | {r['method']} | {r['accuracy']:.3f} | {r['brier'] + 0.0:.3f} | "
            f"{r['log_loss'] + 0.0:.3f} | {extra} |"
        )
    shift = result["council_shift"]
    loo = ", ".join(f"{k} {v:.1f}" for k, v in shift["fitted"].items() if k != "all")
    lines += [
        "",
        f"council_shift: {shift['scenario']:.1f} in the scenario; fitted on all cases "
        f"{shift['fitted']['all']:.1f}; without each case: {loo}",
        "",
        "| method | mean accuracy | mean Brier | mean log loss |",
        "|---|---:|---:|---:|",
    ]
    for r in result["summary"]:
        lines.append(
            f"| {r['method']} | {r['accuracy']:.3f} | {r['brier']:.3f} | {r['log_loss']:.3f} |"
        )
    lines += [
        "",
        "| case | member | recorded | unsim P(yes/no/abstain) | fitted P(yes/no/abstain) |",
        "|---|---|---|---|---|",
    ]
    for m in result["members"]:
        lines.append(
            f"| {m['case']} | {m['iso3']} | {m['recorded']} | {m['p_yes']:.2f} / "
            f"{m['p_no']:.2f} / {m['p_abstain']:.2f} | {m['fitted_p_yes']:.2f} / "
            f"{m['fitted_p_no']:.2f} / {m['fitted_p_abstain']:.2f} |"
        )
    return "\n".join(lines)
