"""A session's joint outcomes: the drafts' run tables side by side, and what they say together.

The joint run table has a ``run`` number, every draft's columns prefixed with its name
(``dprk.plenary_yes``), two columns a session adds to each draft (``adopted_without_vote``: no
one requested a recorded vote; ``adopted``: adopted at its last Assembly stage or without a vote)
and the session's own (``all_adopted``, ``adopted_count``). The summary gives each draft's
adoption, every draft adopted, the number adopted, the correlation of the drafts' plenary yes
tallies (with a Fisher z interval over runs) and the session's ``joint_outcomes`` (shares with
Wilson intervals over runs, or means with their 5-95 % range).
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from unsim.results.stats import proportion
from unsim.results.tables import Results
from unsim.scenario.session import WithoutVoteRecord
from unsim.session.expr import evaluate, parse
from unsim.session.load import LoadedSession, session_columns
from unsim.streams import Streams

if TYPE_CHECKING:
    from unsim.session.run import SessionResults


def without_vote_record(loaded: LoadedSession, name: str) -> WithoutVoteRecord | None:
    """Draft ``name``'s record of adoptions without a vote: the session's, else the linkage
    file's for the draft's target, else None (every adoption is by a recorded vote)."""
    s = loaded.session
    if name in s.without_vote:
        return s.without_vote[name]
    link = s.linkage
    records = getattr(link, "without_vote", {})
    return records.get(loaded.drafts[name].resolution.target)  # type: ignore[no-any-return]


def draw_without_vote(
    record: WithoutVoteRecord | None, seed: int, name: str, runs: int
) -> NDArray[np.bool_]:
    """(runs,) whether nobody requests a recorded vote on the draft: each run draws its chance
    from the record's Beta(1 + without, 1 + adoptions - without), then the event, from the
    session's stream ``session:without_vote:NAME``."""
    if record is None or (record.without_vote == 0 and record.adoptions == 0):
        return np.zeros(runs, dtype=bool)
    g = Streams(seed).generator(f"session:without_vote:{name}")
    k, n = record.without_vote, max(record.adoptions, record.without_vote)
    chance = g.beta(1.0 + k, 1.0 + n - k, size=runs)
    return g.random(runs) < chance  # type: ignore[no-any-return]


def last_stage(loaded: LoadedSession, name: str) -> str:
    """The draft's last Assembly stage (where it is adopted or not)."""
    from unsim.model.stages import stages_where

    stages = loaded.drafts[name].resolution.stages
    on_draft = stages_where(lambda st: st.body.everyone and st.on_draft, stages)
    return on_draft[-1] if on_draft else "third_committee"


def joint_table(loaded: LoadedSession, results: dict[str, Results], seed: int) -> pd.DataFrame:
    """The session's run table (module docstring)."""
    frames: list[pd.DataFrame] = []
    adopted_all: NDArray[np.bool_] | None = None
    count: NDArray[np.int64] | None = None
    for name, res in results.items():
        runs = res.runs
        assert runs is not None
        no_vote = draw_without_vote(without_vote_record(loaded, name), seed, name, len(runs))
        adopted = runs[f"{last_stage(loaded, name)}_adopted"].to_numpy(dtype=bool) | no_vote
        own = runs.drop(columns="run").add_prefix(f"{name}.")
        own[f"{name}.adopted_without_vote"] = no_vote
        own[f"{name}.adopted"] = adopted
        frames.append(own)
        adopted_all = adopted.copy() if adopted_all is None else adopted_all & adopted
        count = adopted.astype(np.int64) if count is None else count + adopted
    assert adopted_all is not None and count is not None
    n = len(frames[0])
    head = pd.DataFrame({"run": np.arange(n, dtype=np.int64)})
    tail = pd.DataFrame({"all_adopted": adopted_all, "adopted_count": count})
    return pd.concat([head, *frames, tail], axis=1)


def correlation(x: NDArray[Any], y: NDArray[Any], level: float = 0.95) -> dict[str, float]:
    """Pearson's correlation over runs with its Fisher z interval (NaN where either is
    constant)."""
    n = len(x)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if n < 4 or x.std() == 0 or y.std() == 0:
        return {"r": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": n}
    r = float(np.corrcoef(x, y)[0, 1])
    from scipy.special import ndtri

    z = math.atanh(max(min(r, 0.999999), -0.999999))
    half = float(ndtri(0.5 + level / 2)) / math.sqrt(n - 3)
    return {"r": r, "ci_low": math.tanh(z - half), "ci_high": math.tanh(z + half), "n": n}


def joint_summary(loaded: LoadedSession, res: SessionResults) -> dict[str, Any]:
    """The session's ``summary.json``: each draft's adoption and summary, how many drafts are
    adopted, the plenary yes votes' correlation between drafts, the session's own outcomes
    and its linkage."""
    t, n = res.table, len(res.table)
    drafts: dict[str, Any] = {}
    for name, r in res.drafts.items():
        drafts[name] = {
            "target": loaded.drafts[name].resolution.target,
            "seed": res.draft_seeds[name],
            "adopted": proportion(int(t[f"{name}.adopted"].sum()), n),
            "adopted_without_vote": proportion(int(t[f"{name}.adopted_without_vote"].sum()), n),
            "summary": r.summary,
        }
    counts = np.bincount(t["adopted_count"].to_numpy(), minlength=len(drafts) + 1)
    pairs = {}
    for a, b in combinations(res.drafts, 2):
        held = t[f"{a}.plenary_held"].to_numpy(bool) & t[f"{b}.plenary_held"].to_numpy(bool)
        x, y = t[f"{a}.plenary_yes"].to_numpy()[held], t[f"{b}.plenary_yes"].to_numpy()[held]
        pairs[f"{a}~{b}"] = correlation(x, y)
    return {
        "runs": n,
        "seed": res.seed,
        "drafts": drafts,
        "all_adopted": proportion(int(t["all_adopted"].sum()), n),
        "adopted_count": {str(k): proportion(int(c), n) for k, c in enumerate(counts)},
        "plenary_yes_correlation": pairs,
        "joint_outcomes": user_outcomes(loaded, t),
        "linkage": loaded.session.linkage_values().model_dump(mode="json"),
    }


def user_outcomes(loaded: LoadedSession, table: pd.DataFrame) -> dict[str, Any]:
    """The session's ``joint_outcomes`` over the joint run table."""
    world = loaded.session.world
    columns = session_columns(loaded.drafts, world)  # type: ignore[arg-type]
    cols = {c: table[c].to_numpy() for c in table.columns if c != "run"}
    out: dict[str, Any] = {}
    for name, text in loaded.session.joint_outcomes.items():
        value = evaluate(parse(text, columns), cols)
        if value.dtype == np.bool_:
            out[name] = {"expression": text, **proportion(int(value.sum()), len(table))}
        else:
            v = np.broadcast_to(value.astype(np.float64), (len(table),))
            q05, q95 = np.quantile(v, [0.05, 0.95])
            out[name] = {"expression": text, "mean": float(v.mean()), "q05": q05, "q95": q95}
    return out
