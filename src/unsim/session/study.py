"""A session as what a study varies: sweeps, designs of points and sensitivity analyses of a
session run on the study evaluator (``unsim.studies.evaluator.Evaluator``), its points on the
engine's model slots, one per draft in each worker.

A parameter is ``NAME.KEY.PATH``, draft ``NAME``'s own key path (``dprk.behaviour.vote_noise``,
``iran.actors.target.strategies[0].intensity``), or ``linkage.KEY`` (``linkage.state_factor.sd``).
A point runs every draft as the session does (``unsim.session.run.session_drafts``: its seed
from the session's master seed, the linkage's streams from the master seed), so that a point
with no values set gives the session's runs number for number. Its record holds every draft's
outcomes and yes-vote means under ``NAME.`` (``iran.plenary_adopted``,
``iran.plenary_yes_mean``), each draft's adoption (``NAME.adopted``,
``NAME.adopted_without_vote``), ``all_adopted``, ``adopted_count`` (its mean) and the file's
joint outcomes (a share, or a number's mean).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np

from unsim.engine.blocks import ModelSlot, prepare_process, release_worker, worker_state
from unsim.engine.core import plan_blocks, plan_shards
from unsim.errors import Problem, ScenarioError, did_you_mean
from unsim.results.stats import proportion
from unsim.scenario.schema import Scenario
from unsim.scenario.session import Linkage
from unsim.session.load import LoadedSession
from unsim.studies.base import Base, canonical, prepare
from unsim.studies.points import (
    Part,
    Piece,
    change_level,
    merge_parts,
    point_record,
    point_scenario,
)
from unsim.studies.table import OUTCOME_FIELDS

#: The key of the linkage's values in a point.
LINKAGE = "linkage"


@dataclasses.dataclass
class SessionBase(Base):
    """A session ready to vary: its drafts each a study's :class:`Base`. (``scenario`` is the
    :class:`~unsim.scenario.session.Session`: its name, simulation and no sweep section.)"""

    loaded: LoadedSession | None = None
    drafts: dict[str, Base] = dataclasses.field(default_factory=dict)

    @property
    def session(self) -> LoadedSession:
        """The loaded session."""
        assert self.loaded is not None
        return self.loaded

    def split(
        self, point: Mapping[str, Any], problems: list[Problem] | None = None
    ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        """A point's values by draft (their own key paths), and the linkage's; a key that names
        neither is a ScenarioError (or, with ``problems``, added to them and left out)."""
        own: dict[str, dict[str, Any]] = {name: {} for name in self.drafts}
        link: dict[str, Any] = {}
        found: list[Problem] = []
        for path, value in point.items():
            head, _, rest = str(path).partition(".")
            if head == LINKAGE and rest:
                link[rest] = value
            elif head in own and rest:
                own[head][rest] = value
            else:
                allowed = [*(f"{d}.KEY.PATH" for d in self.drafts), "linkage.KEY"]
                hint = did_you_mean(head, [*self.drafts, LINKAGE])
                message = "a session's parameter is NAME.KEY.PATH (a draft's) or linkage.KEY"
                suggestion = f"{hint}.{rest}" if hint and rest else hint
                found.append(
                    Problem(str(path), message, value, True, ", ".join(allowed), suggestion)
                )
        if found and problems is None:
            raise ScenarioError(self.source, found)
        if problems is not None:
            problems += found
        return own, link

    def linkage(self, values: Mapping[str, Any]) -> Linkage:
        """The session's linkage with ``values`` (``state_factor.sd``...) set, validated."""
        from pydantic import ValidationError

        from unsim.scenario.problems import problems_from_validation

        link = self.session.session.linkage_values()
        if not values:
            return link
        data = link.model_dump()
        for path, value in values.items():
            node = data
            *parents, last = path.split(".")
            for key in parents:
                child = node.get(key)
                if not isinstance(child, dict):  # the validation says what is wrong
                    child = node[key] = {}
                node = child
            node[last] = value
        try:
            return Linkage.model_validate(data)
        except ValidationError as err:
            problems = problems_from_validation(Linkage, err)
            raise ScenarioError(
                self.source,
                [dataclasses.replace(p, path=f"{LINKAGE}.{p.path}") for p in problems],
            ) from None

    def point_session(self, point: Mapping[str, Any]) -> LoadedSession:
        """The session of a point: each draft with its values, the linkage with its."""
        own, link = self.split(point)
        loaded = self.session
        drafts = {
            name: point_scenario(self.drafts[name], vals) if vals else loaded.drafts[name]
            for name, vals in own.items()
        }
        session = loaded.session
        if link:
            session = session.model_copy(update={"linkage": self.linkage(link)})
        return dataclasses.replace(loaded, session=session, drafts=drafts)

    # -- what the evaluator asks -----------------------------------------------------------
    def check(self, points: Sequence[Mapping[str, Any]]) -> None:
        """Every point's keys and values: the drafts' as their own studies check them (a few
        representative points validated whole), the linkage's each."""
        problems: list[Problem] = []
        split = []
        for i, point in enumerate(points):
            found: list[Problem] = []
            split.append(self.split(point, found))
            try:
                self.linkage(split[-1][1])
            except ScenarioError as err:
                found += err.problems
            where = ", ".join(f"{k}={v!r}" for k, v in point.items())
            problems += [
                dataclasses.replace(p, path=f"point {i} ({where}): {p.path}") for p in found
            ]
            if len(problems) >= 20:
                break
        for name, draft in self.drafts.items():
            own = [vals[name] for vals, _ in split]
            if any(own) and len(problems) < 20:
                problems += _prefixed(name, draft.check, own)
        if problems:
            raise ScenarioError(self.source, problems)

    def labels(self, paths: Sequence[str]) -> dict[str, str]:
        """The paths in words, each draft's prefixed with its name."""
        out = {}
        for path in paths:
            head, _, rest = path.partition(".")
            if head in self.drafts:
                out[path] = f"{head}: {self.drafts[head].labels([rest])[rest]}"
            else:
                out[path] = path
        return out

    def ranges(self, params: Mapping[str, Sequence[float] | None]) -> dict[str, Sequence[float]]:
        """A sensitivity analysis's ranges (a draft's path without one: from its distribution)."""
        out: dict[str, Sequence[float]] = {}
        for path, bounds in params.items():
            head, _, rest = path.partition(".")
            if bounds is None and head in self.drafts:
                out[path] = self.drafts[head].ranges({rest: None})[rest]
            elif bounds is None:
                raise ValueError(f"{path}: give its range (LOW,HIGH)")
            else:
                out[path] = bounds
        return out

    def execute(
        self,
        items: list[tuple[int, dict[str, Any]]],
        runs: int,
        seed: int,
        executor: Any,
        columns: tuple[str, ...] = (),
    ) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        """The records of the points ``(index, overrides)``, as tasks finish."""
        return execute_session_points(self, items, runs, seed, executor)


def _prefixed(name: str, check: Any, points: list[dict[str, Any]]) -> list[Problem]:
    """The problems of ``check(points)``, their key paths under the draft's name."""
    try:
        check(points)
    except ScenarioError as err:
        out = []
        for p in err.problems:
            where, sep, path = p.path.rpartition(": ")
            path = f"{where}{sep}{name}.{path}" if sep else f"{name}.{p.path}"
            out.append(dataclasses.replace(p, path=path))
        return out
    return []


def session_base(path: str | Path, overrides: Sequence[str] = ()) -> SessionBase:
    """A session file as a study's base."""
    from unsim.session.load import load_session

    loaded = load_session(path, overrides=list(overrides))
    drafts = {}
    for name, draft in loaded.drafts.items():
        where = loaded.files.get(name)
        drafts[name] = prepare(draft, where.parent if where is not None else Path(path).parent)
    content = {
        "session": loaded.session.model_dump(mode="json", exclude={"world"}),
        "drafts": {name: b.digest for name, b in drafts.items()},
    }
    digest = hashlib.sha256(canonical(content).encode()).hexdigest()
    return SessionBase(
        raw={},
        base_dir=Path(path).parent,
        source=str(path),
        scenario=cast(Scenario, loaded.session),
        digest=digest,
        loaded=loaded,
        drafts=drafts,
    )


# -- running the points -----------------------------------------------------------------------
@dataclasses.dataclass
class SessionStudy:
    """What a worker keeps of a session's study: the base, the run-table columns each draft
    returns, and a model slot per draft (with the point each serves)."""

    base: SessionBase
    change: str
    columns: dict[str, tuple[str, ...]]
    slots: dict[str, ModelSlot] = dataclasses.field(default_factory=dict)
    last: dict[str, tuple[str, Scenario]] = dataclasses.field(default_factory=dict)

    def drafts(self, overrides: dict[str, Any], seed: int) -> dict[str, Scenario]:
        """Each draft as the point's session runs it; a draft whose values and linkage are
        those of the point before is the same scenario (its model just reset)."""
        from unsim.session.run import session_drafts

        own, link = self.base.split(overrides)
        keys = {name: canonical([vals, link, seed]) for name, vals in own.items()}
        if all(self.last.get(n, ("",))[0] == k for n, k in keys.items()):
            return {n: self.last[n][1] for n in keys}
        made = session_drafts(self.base.point_session(overrides), seed)
        for name, key in keys.items():
            if self.last.get(name, ("",))[0] != key:
                self.last[name] = (key, made[name])
        return {n: self.last[n][1] for n in keys}

    def release(self) -> None:
        """Free every draft's held model and forget them."""
        for slot in self.slots.values():
            slot.release()
        self.slots.clear()


def needed_columns(loaded: LoadedSession) -> dict[str, tuple[str, ...]]:
    """The run-table columns of each draft a point's session outcomes need: the last stage's
    adoption, the plenary's yes votes and those the joint outcomes name."""
    from unsim.session.joint import last_stage

    out = {}
    text = " ".join(loaded.session.joint_outcomes.values())
    for name in loaded.drafts:
        cols = {f"{last_stage(loaded, name)}_adopted", "plenary_yes", "plenary_held"}
        for col in re.findall(rf"\b{re.escape(name)}\.([A-Za-z_][A-Za-z0-9_]*)", text):
            if col not in ("adopted", "adopted_without_vote"):
                cols.add(col)
        out[name] = tuple(sorted(cols))
    return out


def evaluate_session_points(task: tuple[Any, ...]) -> list[tuple[int, dict[str, Part]]]:
    """Run each piece of a task: every draft's blocks on its model slot. Picklable entry point
    for process pools and Dask."""
    from unsim.studies.points import block_counts, outcome_keys

    token, payload, seed, runs, pieces = task
    study, _ = worker_state(token, payload)
    prepare_process()
    out = []
    from unsim.session.run import draft_seed

    for index, overrides, first, sizes in pieces:
        parts: dict[str, Part] = {}
        for name, scenario in study.drafts(overrides, seed).items():
            t0 = time.perf_counter()
            blocks = sizes or plan_blocks(runs, scenario.simulation.block_size)
            slot = study.slots.setdefault(name, ModelSlot())
            counts: dict[str, int] = {}
            chunks = []
            for k, size in enumerate(blocks):
                model = slot.get(scenario, draft_seed(seed, name), first + k, size, study.change)
                sim = model.simulate()
                block_counts(model, sim, counts)
                chunks.append({c: sim[c].copy() for c in study.columns[name]})
            parts[name] = {
                "n": sum(blocks),
                "counts": counts,
                "keys": outcome_keys(scenario),
                "columns": chunks,
                "seconds": time.perf_counter() - t0,
            }
        out.append((index, parts))
    return out


def execute_session_points(
    base: SessionBase,
    items: Sequence[tuple[int, dict[str, Any]]],
    runs: int,
    seed: int,
    executor: Any,
    per_task: int = 16,
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """The records of the session's points, in the order of the tasks (as
    ``unsim.studies.execution.execute_points``)."""
    import pickle
    import uuid

    loaded = base.session
    paths = sorted({p for _, o in items for p in o})
    draft_paths = [p.partition(".")[2] for p in paths if not p.startswith(f"{LINKAGE}.")]
    change = change_level(draft_paths)
    if change == "state" and len(draft_paths) < len(paths):
        change = "parameters"  # the linkage moves each draft's vote noise
    study = SessionStudy(base, change, needed_columns(loaded))
    token, payload = uuid.uuid4().hex, pickle.dumps(study)
    size = next(iter(loaded.drafts.values())).simulation.block_size
    size = loaded.session.simulation.block_size or size
    if not executor.inline and len(items) == 1:
        index, overrides = items[0]
        shards = plan_shards(plan_blocks(runs, size), executor.workers)
        pieces: list[list[Piece]] = [[(index, overrides, first, part)] for first, part in shards]
    else:
        per = max(1, min(per_task, len(items) // (16 * max(executor.workers, 1))))
        whole: list[Piece] = [(i, o, 0, None) for i, o in items]
        pieces = [whole[k : k + per] for k in range(0, len(whole), per)]
    tasks = [(token, payload, seed, runs, piece) for piece in pieces]
    held: dict[int, dict[str, Part]] = {}
    try:
        for done in executor.map(evaluate_session_points, tasks):
            records = []
            for index, parts in done:
                before = held.pop(index, {})
                merged = {n: merge_parts(before.get(n), p) for n, p in parts.items()}
                if next(iter(merged.values()))["n"] < runs:
                    held[index] = merged
                else:
                    records.append((index, session_record(base, merged, seed)))
            yield records
    finally:
        if executor.inline:
            release_worker()


def session_record(base: SessionBase, parts: dict[str, Part], seed: int) -> dict[str, Any]:
    """A point's record: every draft's outcomes and means under its name, and the session's."""
    import pandas as pd

    from unsim.session.joint import joint_table
    from unsim.session.views import joint_values

    loaded = base.session
    outcomes: dict[str, Any] = {}
    means: dict[str, float] = {}
    frames = {}
    seconds = 0.0
    for name, part in parts.items():
        rec = point_record(part)
        outcomes.update({f"{name}.{k}": v for k, v in rec["outcomes"].items()})
        means.update({f"{name}.{k}": v for k, v in rec["means"].items()})
        cols = rec.get("columns") or {}
        frames[name] = SimpleNamespace(runs=pd.DataFrame({"run": np.arange(rec["n"]), **cols}))
        seconds += rec["seconds"]
    table = joint_table(loaded, cast(Any, frames), seed)
    n = len(table)

    def share(values: Any) -> dict[str, float]:
        """The share of runs where ``values`` is true, as ``p``, ``ci_low`` and ``ci_high``."""
        stats = proportion(int(np.asarray(values).sum()), n)
        return {f: float(stats[f]) for f in OUTCOME_FIELDS}

    for name in parts:
        for col in ("adopted", "adopted_without_vote"):
            outcomes[f"{name}.{col}"] = share(table[f"{name}.{col}"])
    outcomes["all_adopted"] = share(table["all_adopted"])
    means["adopted_count_mean"] = float(table["adopted_count"].mean())
    for key, values in joint_values(loaded, table).items():
        if values.dtype == np.bool_:
            outcomes[key] = share(values)
        else:
            means[f"{key}_mean"] = float(np.mean(values))
    return {"n": n, "outcomes": outcomes, "means": means, "seconds": seconds}


def session_outcomes(base: SessionBase) -> list[str]:
    """The outcomes a session's sweep tabulates (by the names ``outcome_column`` takes)."""
    from unsim.studies.table import sweep_outcomes

    loaded = base.session
    from unsim.model.outcomes import outcomes_for

    names: list[str] = []
    for name, draft in loaded.drafts.items():
        names += [f"{name}.adopted", f"{name}.adopted_without_vote"]
        world = loaded.session.world
        own = {o.name for o in outcomes_for(draft, world.security_council.permanent)}  # type: ignore[union-attr]
        names += [
            f"{name}.{o}" for o in sweep_outcomes(draft) if o in own or o.endswith("_yes_mean")
        ]
        names.append(f"{name}.plenary_yes")  # its mean over the runs that hold the vote
    names += ["all_adopted", "adopted_count"]
    names += list(loaded.session.joint_outcomes)
    return names


def default_outcomes(base: SessionBase) -> list[str]:
    """What a session's sweep prints unless told: every draft adopted, the number adopted, each
    draft's adoption and plenary yes votes, and the file's joint outcomes."""
    drafts = list(base.session.drafts)
    return [
        "all_adopted",
        "adopted_count",
        *(f"{d}.adopted" for d in drafts),
        *(f"{d}.plenary_yes" for d in drafts),
        *base.session.session.joint_outcomes,
    ]


def study_base(path: str | Path) -> Base:
    """What ``unsim sweep`` / ``sensitivity`` / ``discover`` vary: a session file's
    :class:`SessionBase`, else the scenario's :class:`~unsim.studies.base.Base`."""
    from unsim.session.load import is_session_file

    return session_base(path) if is_session_file(path) else prepare(path, None)


def value_scenario(base: Base, path: str) -> tuple[Any, str]:
    """The scenario a parameter is a value of, and its path there (a session's draft's own
    path; None for the linkage's)."""
    if not isinstance(base, SessionBase):
        return base.scenario, path
    head, _, rest = path.partition(".")
    if head in base.drafts:
        return base.drafts[head].scenario, rest
    return None, rest
