"""Why a state votes as it does: :func:`explain` and the :class:`Explanation` it returns."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from unsim.errors import InputError, did_you_mean
from unsim.explain.breakdown import EXPLAIN_RUNS, Replay, held_runs, mean_interval, replay
from unsim.explain.flip import (
    VOTES,
    Flip,
    PartScale,
    StateRule,
    part_scale,
    smallest_shift,
    zones,
)
from unsim.explain.record import RecordedVotes, recorded_votes
from unsim.explain.tracker import VOTED_STAGES, StageRecord
from unsim.explain.units import LeverChange, VotesMoved, lever_changes, lever_units, votes_moved
from unsim.model.stages import stage_named
from unsim.results.stats import proportion
from unsim.scenario.schema import Calibration, Scenario, World

if TYPE_CHECKING:
    from unsim.results.tables import Results


@dataclass(frozen=True)
class Explanation:
    """Why ``iso3`` votes as it does at ``stage``.

    ``parts``: one row per part of its stance (``part``, ``label`` in words, ``mean`` over the
    runs in which the stage was held, ``lo``/``hi`` its 95 % interval); their means add up to
    ``stance`` (the mean of the stances the model used for the vote), on the model's latent
    scale. ``probabilities``: each vote (yes, no, abstain, absent) with its 95 % Wilson
    interval over all the runs (``p``, ``ci_low``, ``ci_high``, ``n``); ``pivotal`` likewise.
    ``modal``: its most likely vote by the model's vote rule at the replayed stances, with its
    ``habit`` of repeating its ``last_vote`` on the series (``model.habit``); ``flip``
    the smallest stance shift that changes it (None if none can: a state most likely absent),
    ``votes`` what that shift would do given to every other voter, ``scales`` the factors on
    single parts that would change it (nearest 1 first) and ``levers`` those said in the
    scenario's levers (``unsim.explain.units``); ``zones`` its most likely vote along the
    stance scale. ``recorded``: its
    votes on the calibration's series. ``runs``: the runs the parts are averaged over (the
    main job's first runs, replayed)."""

    iso3: str
    name: str
    stage: str
    parts: pd.DataFrame
    stance: float
    stance_lo: float
    stance_hi: float
    probabilities: dict[str, dict[str, float]]
    pivotal: dict[str, float]
    modal: str
    flip: Flip | None
    scales: list[PartScale]
    recorded: RecordedVotes
    runs: int
    seed: int
    notes: list[str] = field(default_factory=list)
    habit: float = 0.0
    last_vote: str | None = None
    #: the flip's shift given to every other voter: the votes it would move
    votes: VotesMoved | None = None
    #: the changes of a single lever that change its most likely vote (``unsim.explain.units``)
    levers: list[LeverChange] = field(default_factory=list)
    #: its most likely vote as its stance moves: (from, to, vote) on the stance scale
    zones: list[tuple[float, float, str]] = field(default_factory=list)

    def size_in_words(self) -> str:
        """The flip's shift compared with the state's largest-moving parts, in words."""
        if self.flip is None:
            return ""
        shift = abs(self.flip.shift)
        # not the parts that are chance draws of the run (their mean is noise)
        chance = self.parts["part"].isin(["chance", "patron_shock"])
        movable = self.parts[(self.parts["mean"].abs() > 1e-9) & ~chance]
        if movable.empty:
            return ""
        ratio = shift / movable["mean"].abs()
        best = movable.loc[(np.log(ratio)).abs().idxmin()]
        r = shift / abs(float(best["mean"]))
        if 0.8 <= r <= 1.25:
            return f"about the size of {best['label']} ({best['mean']:+.2f})"
        return f"about {r:.1f} times {best['label']} ({best['mean']:+.2f})"


def scenario_as_run(scenario: Scenario) -> Scenario:
    """The scenario as it was run, from one read back from a results folder's metadata.

    The metadata writes every behaviour value, defaults included, so read back they all count
    as set and would hide the values the calibration fits (the model takes a fitted value
    only for a field the scenario leaves unset). A fitted field whose value read back is the
    schema's default is taken as unset again, as it was in the run."""
    b = scenario.behaviour
    cal = scenario.calibration
    if not isinstance(cal, Calibration) or set(type(b).model_fields) - b.model_fields_set:
        return scenario  # not read back from metadata: as given
    fields = type(b).model_fields
    unset = {k for k in cal.behaviour if k in fields and getattr(b, k) == fields[k].default}
    if not unset:
        return scenario
    copy = b.model_copy()
    object.__setattr__(copy, "__pydantic_fields_set__", set(b.model_fields_set) - unset)
    return scenario.model_copy(update={"behaviour": copy})


def _scales(
    rec: StageRecord, parts: pd.DataFrame, i: int, held: NDArray[np.bool_], replayed: Replay
) -> list[PartScale]:
    """For each part, the factor that would change the state's most likely vote (closest to
    its actual size first)."""
    stances = rec.stance[i, held]
    rule = _state_rule(rec, i, replayed)
    scales = []
    for name, label in zip(parts["part"], parts["label"], strict=True):
        found = part_scale(stances, np.asarray(rec.parts[name])[i, held], rule)
        if found is not None:
            scales.append(PartScale(name, label, found[0], found[1], found[2]))
    scales.sort(key=lambda s: abs(s.threshold - 1.0))
    return scales


def _state_rule(rec: StageRecord, i: int, replayed: Replay) -> StateRule:
    """State ``i``'s vote rule at the stage: the model's, and its habit (``model.habit``) at
    the Assembly's votes on the draft (in the Council, every member votes by its stance)."""
    h = replayed.habit if rec.members is None and rec.by_habit else None
    last = -1 if h is None else int(h.last[i])
    habit = float(h.chance[i]) if h is not None and last >= 0 else 0.0
    return StateRule(float(rec.absence[i]), replayed.band, replayed.noise, habit, last)


def _stage_record(
    results: Results, code: str, stage: str, runs: int | None, replayed: Replay | None
) -> tuple[str, StageRecord, Replay]:
    """The stage asked for, its record in the replayed runs (replayed here if not given), and
    the replay; :class:`InputError` for a stage the scenario does not hold or never reached,
    or a state that does not vote there (the Council's votes are its members')."""
    scenario, world = results.scenario, results.scenario.world
    assert isinstance(world, World)
    stage = _resolve_stage([s for s in VOTED_STAGES if s in scenario.resolution.stages], stage)
    if replayed is None:
        total = int(results.summary.get("runs", EXPLAIN_RUNS))
        replayed = replay(scenario_as_run(scenario), results.seed, min(runs or EXPLAIN_RUNS, total))
    rec = replayed.stages.get(stage)
    if rec is None:
        raise InputError(f"--stage: {stage!r} was never reached in the replayed runs")
    if rec.members is not None and not rec.members[world.index[code]]:
        members = ", ".join(c for c, m in zip(world.codes, rec.members, strict=True) if m)
        raise InputError(
            f"--state: {code} does not sit on the {stage_named(stage).body.label}, whose members "
            f"alone vote at {stage}; got {code!r}; allowed: {members}"
        )
    return stage, rec, replayed


def _notes(rec: StageRecord, held: Any, world: World, code: str, stage: str) -> list[str]:
    notes = []
    if int(held.sum()) < rec.held.size:
        notes.append(f"the stage was held in {int(held.sum()):,} of the {rec.held.size:,} runs")
    if stage_named(stage).rule.veto and code in world.security_council.permanent:
        notes.append("a no from a permanent member is a veto")
    return notes


def _resolve_state(world: World, iso3: str) -> str:
    code = str(iso3).strip().upper()
    if code in world.index:
        return code
    by_name = {s.name.lower(): s.iso3 for s in world.states}
    if str(iso3).strip().lower() in by_name:
        return by_name[str(iso3).strip().lower()]
    hint = did_you_mean(code, world.codes) or did_you_mean(
        str(iso3), [s.name for s in world.states]
    )
    if hint in {s.name for s in world.states}:
        hint = next(s.iso3 for s in world.states if s.name == hint)
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    raise InputError(
        f"--state: unknown ISO3 code; got {iso3!r}; allowed: any of the world's "
        f"{len(world.codes)} member states (ISO3 codes such as {', '.join(world.codes[:3])})"
        f"{suggestion}"
    )


def _resolve_stage(stages: Sequence[str], stage: str) -> str:
    if stage in stages:
        return stage
    hint = did_you_mean(stage, stages)
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    allowed = ", ".join(stages) if stages else "none (the scenario holds no vote to explain)"
    raise InputError(
        f"--stage: no breakdown for this stage; got {stage!r}; allowed: {allowed}{suggestion}"
    )


def _probabilities(results: Results, iso3: str, stage: str) -> tuple[dict[str, Any], Any]:
    ps = results.per_state
    row = ps[(ps["iso3"] == iso3) & (ps["stage"].astype(str) == stage)]
    if row.empty:
        nan = {"p": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0}
        return {v: dict(nan) for v in VOTES}, dict(nan)
    r = row.iloc[0]
    n = int(r["runs_held"]) if "runs_held" in row else int(results.summary["runs"])
    probs = {v: proportion(round(float(r[f"p_{v}"]) * n), n) for v in VOTES}
    pivotal = proportion(round(float(r.get("p_pivotal", 0.0)) * n), n)
    return probs, pivotal


def _parts_of(rep: Replay, rec: StageRecord, i: int, held: Any) -> pd.DataFrame:
    """State ``i``'s parts over the held runs: part, label, mean, lo, hi."""
    rows = []
    for name, values in rec.parts.items():
        v = np.asarray(values)[i, held]
        if name in ("target", "other") and not v.any():
            continue
        mean, lo, hi = mean_interval(v[None, :])
        rows.append((name, rep.labels.get(name, name), mean[0], lo[0], hi[0]))
    return pd.DataFrame(rows, columns=["part", "label", "mean", "lo", "hi"])


def explain(
    results: Results,
    iso3: str,
    stage: str = "plenary",
    *,
    runs: int | None = None,
    replayed: Replay | None = None,
    recorded: bool = True,
) -> Explanation:
    """Why state ``iso3`` votes as it does at ``stage`` in ``results`` (see
    :class:`Explanation`).

    The parts come from replaying the first ``runs`` runs of the results' scenario on its seed
    (default: one block, at most the results' runs; pass ``replayed``, a
    :func:`~unsim.explain.breakdown.replay` of them, to reuse one across states). With
    ``recorded`` the state's votes on the calibration's series are read from the real data.
    Raises :class:`~unsim.errors.InputError` for an unknown state or stage."""
    scenario = results.scenario
    world = scenario.world
    assert isinstance(world, World)
    code = _resolve_state(world, iso3)
    stage, rec, replayed = _stage_record(results, code, stage, runs, replayed)
    i = world.index[code]
    held = held_runs(rec)
    parts = _parts_of(replayed, rec, i, held)
    stances = rec.stance[i, held]
    s_mean, s_lo, s_hi = (float(x[0]) for x in mean_interval(stances[None, :]))
    rule = _state_rule(rec, i, replayed)
    scales = _scales(rec, parts, i, held, replayed)
    probs, pivotal = _probabilities(results, code, stage)
    notes = _notes(rec, held, world, code, stage)
    flip = smallest_shift(stances, rule)
    means = dict(zip(parts["part"], parts["mean"], strict=True))
    units = lever_units(replayed.scenario, code, means, replayed.labels)
    return Explanation(
        iso3=code,
        name=world.states[i].name,
        stage=stage,
        parts=parts,
        stance=s_mean,
        stance_lo=s_lo,
        stance_hi=s_hi,
        probabilities=probs,
        pivotal=pivotal,
        modal=VOTES[int(rule.modal(stances[None, :])[0])],
        habit=rule.habit,
        last_vote=VOTES[rule.last] if rule.last >= 0 else None,
        flip=flip,
        scales=scales,
        recorded=recorded_votes(scenario, code, load_data=recorded),
        runs=int(held.sum()),
        seed=replayed.seed,
        notes=notes,
        votes=None if flip is None else _votes_moved(rec, held, i, replayed, flip.shift),
        levers=lever_changes(scales, units),
        zones=zones(stances, rule),
    )


def _votes_moved(
    rec: StageRecord, held: NDArray[np.bool_], i: int, replayed: Replay, shift: float
) -> VotesMoved:
    """The flip's ``shift`` given to every other state voting at the stage."""
    voters = range(rec.stance.shape[0])
    rules = [
        _state_rule(rec, j, replayed) if rec.members is None or rec.members[j] else None
        for j in voters
    ]
    return votes_moved(rec.stance[:, held], rules, i, shift)


def state_stances(
    results: Results, iso3: str, stage: str, replayed: Replay
) -> tuple[NDArray[np.float32], StateRule]:
    """State ``iso3``'s stances at ``stage`` over the replayed runs in which it was held, and
    its vote rule there (for the searches of :mod:`unsim.explain.flip`).
    :class:`~unsim.errors.InputError` as :func:`explain`."""
    world = results.scenario.world
    assert isinstance(world, World)
    code = _resolve_state(world, iso3)
    stage, rec, replayed = _stage_record(results, code, stage, None, replayed)
    i = world.index[code]
    return rec.stance[i, held_runs(rec)], _state_rule(rec, i, replayed)
