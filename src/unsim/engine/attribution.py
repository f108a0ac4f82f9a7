"""Which part of a forecast is data and which is assumption: an attribution of the tallies.

A scenario's forecast mixes what the calibration fitted on past roll calls (positions, the vote
model) with priors that no past vote identifies: the ICC language's cost, the target's
strategies, the sponsors' bargaining bar, lobbying, the allies' ties, per-state overrides. The
attribution runs the scenario as given and then with those assumptions removed one at a time,
cumulatively, in a fixed order, down to *data only*; every run uses the same master seed, so run
``i`` of every variant shares its random numbers (common random numbers) and the differences are
measured with little noise.

The removal order and what each step removes are defined in :mod:`unsim.engine.assumptions`
(strategies, the sponsors' bargaining bar and lobbying, the allies' counter-lobbying and ties,
per-state overrides and bloc effects, the ICC cost per state, by bloc and for every state, then
the spread of any other distribution); all of them removed is the *data only* variant.

Part ``k`` is the mean tally with assumptions ``1..k-1`` removed minus the mean with ``1..k``
removed (tallies averaged over the runs in which the stage was held), so the parts add up to
``as_given - data_only`` by construction. Its interval is a normal one on the per-run
differences of the runs held in both variants. An earlier removal takes the interactions with
later ones (the bargaining bar's part is what it adds once the strategies are gone).

Read from the other end, the variants are a path from the data alone to the scenario as given,
adding each assumption in turn (the last removed first): :mod:`unsim.results.forward` measures
that path on the Assembly's yes votes, the ICC language's retention and the Council's referral,
and the text and the report show it that way (``attribution["forward"]``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from unsim.engine.assumptions import Assumption, assumptions
from unsim.engine.core import run_table
from unsim.model.kernel_args import DRAFT_VOTES
from unsim.results.dataonly import data_only_forecast
from unsim.results.forward import forward_table
from unsim.results.stats import paired_difference
from unsim.results.tables import Results
from unsim.scenario.drawn import scenario_levers
from unsim.scenario.schema import Scenario

CATEGORIES = ("yes", "no", "abstain", "absent")
#: The range over runs of a part's per-run differences: its 5 % and 95 % quantiles.
RANGE = (0.05, 0.95)
#: The Assembly stages on the draft itself, the first held is the one attributed at top level.
DRAFT_STAGES = DRAFT_VOTES


def _means(runs: pd.DataFrame, stage: str) -> tuple[dict[str, float], np.ndarray]:
    held = runs[f"{stage}_held"].to_numpy(dtype=bool)
    n = max(int(held.sum()), 1)
    means = {c: float(runs[f"{stage}_{c}"].to_numpy()[held].sum() / n) for c in CATEGORIES}
    return means, held


def _stage_table(tables: list[pd.DataFrame], steps: list[Assumption], stage: str) -> dict[str, Any]:
    means, helds = zip(*(_means(t, stage) for t in tables), strict=True)
    parts = []
    for k, step in enumerate(steps):
        both = helds[k] & helds[k + 1]
        part: dict[str, Any] = {"name": step.name, "label": step.label}
        for c in CATEGORIES:
            part[c] = means[k][c] - means[k + 1][c]
        for c in CATEGORIES:  # intervals over the per-run differences (paired runs)
            col = f"{stage}_{c}"
            before, after = tables[k][col].to_numpy()[both], tables[k + 1][col].to_numpy()[both]
            diff = paired_difference(after, before)
            part[f"{c}_ci"] = (diff["ci_high"] - diff["ci_low"]) / 2
            per_run = before.astype(np.float64) - after
            part[f"{c}_runs"] = (
                [float(q) for q in np.quantile(per_run, RANGE)] if per_run.size else [math.nan] * 2
            )
        parts.append(part)
    return {
        "as_given": dict(means[0]),
        "data_only": dict(means[-1]),
        "held": {"as_given": float(helds[0].mean()), "data_only": float(helds[-1].mean())},
        "parts": parts,
    }


def _reusable(
    base: Results | None, scenario: Scenario, runs: int, seed: int
) -> pd.DataFrame | None:
    """The first ``runs`` rows of ``base``'s run table when they are the runs ``run(scenario,
    runs, seed)`` would give: same scenario and seed, and either the same number of runs or a
    whole number of blocks (block ``b`` draws from the streams of (seed, ``b``) alone)."""
    if base is None or not _same_runs(base, scenario, runs, seed):
        return None
    table = base.run_table()  # in memory, or streamed to a file as the blocks arrived
    if table is not None and len(table) == int(base.summary["runs"]):
        return table.iloc[:runs].reset_index(drop=True)
    return None


def _same_runs(base: Results, scenario: Scenario, runs: int, seed: int) -> bool:
    """Whether the first ``runs`` runs of ``base`` are those of ``run(scenario, runs, seed)``."""
    if base.seed != seed or base.scenario is not scenario:
        return False
    n = int(base.summary["runs"])
    return n == runs or (n > runs and runs % scenario.simulation.block_size == 0)


def planned_runs(scenario: Scenario, runs: int, seed: int, base: Results | None = None) -> int:
    """How many runs :func:`attribute` will run (the variants', less the first ones of
    ``base`` it reuses): what a progress bar of it counts."""
    if not any(s in scenario.resolution.stages for s in DRAFT_STAGES):
        return 0
    reused = (
        base is not None
        and (base.runs is not None or base.runs_file is not None)
        and _same_runs(base, scenario, runs, seed)
    )
    return runs * (len(assumptions(scenario)) + (0 if reused else 1))


def attribute(
    scenario: Scenario,
    runs: int,
    seed: int,
    workers: int = 1,
    *,
    executor: Any = None,
    base: Results | None = None,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> dict[str, Any]:
    """The attribution of the scenario's Assembly tallies to its assumptions (module doc).

    ``runs`` runs of each variant, all on master seed ``seed``. ``base``: results of the
    scenario as given on the same seed with a run table; its first ``runs`` runs are reused
    instead of running them again when they are the same runs (see ``_reusable``). Returns
    the dict stored as ``summary["attribution"]``: ``stage`` (the
    first draft stage in the scenario), ``order``, ``as_given``, ``data_only``, ``parts`` (each
    with ``name``, ``label``, the change in mean ``yes``/``no``/``abstain``/``absent`` and the
    half-width of its 95 % interval as ``yes_ci``...), ``runs``, ``seed`` and ``by_stage`` (the
    same for every draft stage held). ``progress`` wraps each variant's results as
    :func:`unsim.engine.run`'s does."""
    steps = assumptions(scenario)
    stages = [s for s in DRAFT_STAGES if s in scenario.resolution.stages]
    if not stages:
        return {}

    def table(s: Scenario) -> pd.DataFrame:
        """The run table of a scenario variant on the same runs and seed."""
        return run_table(
            s, runs=runs, seed=seed, workers=workers, executor=executor, progress=progress or False
        )

    first = _reusable(base, scenario, runs, seed)
    tables = [first if first is not None else table(scenario)]
    current = scenario
    drawn = []
    for step in steps:
        before = len(scenario_levers(current))
        current = step.remove(current)
        drawn.append(len(scenario_levers(current)) < before)  # it removes a drawn number
        tables.append(table(current))
    by_stage = {
        stage: _stage_table(tables, steps, stage)
        for stage in stages
        if any(t[f"{stage}_held"].any() for t in tables)
    }
    if not by_stage:
        return {}
    main = next(iter(by_stage))
    return {
        "stage": main,
        "order": [s.name for s in steps],
        **by_stage[main],
        "runs": runs,
        "seed": seed,
        "by_stage": by_stage,
        "forward": forward_table(tables, steps, scenario, drawn),
        "forecast": data_only_forecast(tables[0], tables[-1], scenario, current, seed),
    }
