"""One history in full, for inspection from Python (``unsim.model.inspect_run``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from unsim.model import rules
from unsim.model.model import UNModel
from unsim.model.outcomes import ICC_REASON, ICC_STATUS
from unsim.model.rules import Vote
from unsim.scenario.schema import Scenario


def inspect_run(scenario: Scenario, seed: int = 0, run: int = 0) -> dict[str, Any]:
    """One history in full, for inspection: every state's vote at every stage held (Y, N, A, X;
    empty where the stage was not held, or for states outside the Council), the per-round
    trajectory of every state's support (Mesa's DataCollector), and the run's outcomes.

    It is the one-replicate model with the streams of block ``run`` (the same history as run
    ``run`` of a Monte Carlo with ``simulation.block_size: 1``)."""
    import pandas as pd

    model = UNModel(scenario, replicates=1, seed=seed, block=run, collect=True)
    out = model.simulate()
    codes = model.world.codes
    letters = np.array([rules.VOTE_LETTERS[v] for v in Vote])
    votes = pd.DataFrame(
        {
            stage: letters[v[:, 0]] if out[f"{stage}_held"][0] else ""
            for stage, v in model.votes.items()
        },
        index=codes,
    )
    for stage in votes.columns:  # a body of its own (the Council): the others do not vote
        members = model.members(stage)
        if members is not None:
            votes.loc[~members, stage] = ""
    votes.index.name = "iso3"
    assert model.datacollector is not None
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    names = {a.unique_id: a.iso3 for a in model.member_states}
    agents = agents[agents["AgentID"].isin(names)]
    trajectory = agents.assign(iso3=agents["AgentID"].map(names)).pivot(
        index="Step", columns="iso3", values="support"
    )
    trajectory.index.name = "round"
    outcomes = {k: v[0].item() for k, v in out.items()}
    outcomes["icc_status"] = ICC_STATUS[int(outcomes["icc_status"])]
    outcomes["icc_reason"] = ICC_REASON[int(outcomes["icc_reason"])]
    return {
        "votes": votes,
        "trajectory": trajectory,
        "rounds": model.datacollector.get_model_vars_dataframe(),
        "outcomes": outcomes,
    }
