"""The summary of a Monte Carlo run: each outcome's probability with its interval, the tallies'
quantiles against the majority they need, and each state's probabilities and how often it was
pivotal."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from unsim.model.outcomes import outcomes_for
from unsim.model.rules import Vote
from unsim.model.stages import reported, stage_named, vote_rule
from unsim.results.aggregates import TALLY_CATEGORIES, BlockResult
from unsim.results.stats import hist_quantiles, proportion
from unsim.scenario.schema import Scenario, World

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def threshold_text(stage: str, majority: str) -> str:
    """The voting rule of ``stage`` in words (``VoteRule.label``)."""
    return vote_rule(stage, majority).label


def pivotal_ranking(counts: np.ndarray, codes: list[str]) -> np.ndarray:
    """States' indices from the most often pivotal down, states as often pivotal by ISO3 code:
    the same order on every machine (a plain ``argsort`` orders ties differently from one SIMD
    level of the CPU to another)."""
    return np.lexsort((np.asarray(codes), -np.asarray(counts, dtype=np.int64)))


def build_summary(agg: BlockResult, scenario: Scenario) -> dict[str, Any]:
    """The summary of the merged aggregates: the runs, each outcome's share with its interval,
    each vote's tallies, and the states most often pivotal."""
    n = agg.n
    world = scenario.world
    assert isinstance(world, World)
    # the outcomes that can happen in this scenario (``model.outcomes.outcomes_for``)
    outcomes = {
        o.name: {"label": o.label, **proportion(agg.sums.get(o.count_key, 0), n)}
        for o in outcomes_for(scenario, world.security_council.permanent)
    }
    tallies: dict[str, Any] = {}
    for st in reported(scenario.resolution.stages):
        stage = st.name
        held = agg.sums.get(f"{stage}_held", 0)
        if not held:
            continue
        entry: dict[str, Any] = {
            "held": held,
            "threshold": threshold_text(stage, scenario.resolution.majority),
        }
        for cat in TALLY_CATEGORIES:
            if not st.body.absences and cat == "absent":
                continue
            hist = agg.hists[f"{stage}_{cat}"]
            entry[cat] = dict(
                zip(
                    [f"q{int(q * 100):02d}" for q in QUANTILES],
                    hist_quantiles(hist, QUANTILES),
                    strict=True,
                )
            )
            weighted = float((hist * np.arange(len(hist))).sum())
            entry[cat]["mean"] = weighted / max(float(hist.sum()), 1.0)
        # the median over runs of the yes votes each run needed (``VoteRule.needed_each``, as
        # the tallies' figure marks it): the rule is monotone in the members present and
        # voting, so it is the rule at their median (nine in the Council)
        voting = agg.hists.get(f"{stage}_voting")
        median_pv = hist_quantiles(voting, (0.5,))[0] if voting is not None else 0.0
        rule = vote_rule(stage, scenario.resolution.majority)
        entry["median_needed_yes"] = rule.needed_for(median_pv)
        tallies[stage] = entry
    pivotal = []
    for stage, counts in agg.pivotal.items():
        for i in pivotal_ranking(counts, world.codes)[:10]:
            if counts[i] > 0:
                pivotal.append(
                    {
                        "stage": stage,
                        "iso3": world.codes[i],
                        "name": world.states[i].name,
                        **proportion(int(counts[i]), n),
                    }
                )
    return {"runs": n, "outcomes": outcomes, "tallies": tallies, "pivotal": pivotal}


def build_per_state(agg: BlockResult, scenario: Scenario) -> pd.DataFrame:
    """One row per state and stage held (Council members only at the Council's votes): its
    vote probabilities and how often it was pivotal."""
    world = scenario.world
    assert isinstance(world, World)
    frames = []
    for stage, counts in agg.state_counts.items():
        held = agg.sums.get(f"{stage}_held", 0)
        if not held:
            continue
        p = counts / held
        df = pd.DataFrame(
            {
                "stage": stage,
                "iso3": world.codes,
                "name": [s.name for s in world.states],
                "group": [s.group for s in world.states],
                "p_yes": p[:, Vote.YES],
                "p_no": p[:, Vote.NO],
                "p_abstain": p[:, Vote.ABSTAIN],
                "p_absent": p[:, Vote.ABSENT],
                "p_pivotal": agg.pivotal[stage] / held,
                "runs_held": held,
            }
        )
        body = stage_named(stage).body
        if not body.everyone:  # a body of its own: its members alone
            df = df[df.iso3.isin(body.members(world))]
        frames.append(df)
    if not frames:
        return pd.DataFrame(
            columns=["stage", "iso3", "name", "group", "p_yes", "p_no", "p_abstain", "p_absent"]
        )
    out = pd.concat(frames, ignore_index=True)
    stages = [st.name for st in reported(scenario.resolution.stages)]
    out["stage"] = pd.Categorical(out["stage"], categories=stages, ordered=True)
    return out
