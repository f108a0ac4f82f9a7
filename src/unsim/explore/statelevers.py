"""A state's own levers in the explorer, and "what if it only abstains?".

Any state's own values (``actors.states.<ISO3>``: its support shift, Council shift, ICC
aversion, position, receptiveness and absence) are levers, generated from the schema like the
others. unsim's model has no forced vote: a state votes by its stance. "Only abstains" is
therefore said through its shifts: the support shift that makes abstaining its most likely vote
at the General Assembly's votes on the draft, and the Council shift that does at the Council's
(where it sits on it), found by :mod:`unsim.explain`'s smallest-change search
(:func:`unsim.explain.flip.vote_interval`) on its replayed stances, then checked on the full
runs: a shift's effect on the stance is not one for one (the groups' pull takes some of a
support shift back over the rounds), so the search is repeated on the new stances until the
runs agree, or says where they do not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from unsim.explain.explanation import state_stances
from unsim.explain.flip import vote_interval
from unsim.explore.controls import Control, model_controls
from unsim.explore.session import Session, WhatIf
from unsim.model.stages import stages_where
from unsim.results.plots import STAGE_LABELS
from unsim.results.tables import Results
from unsim.scenario.schema import Scenario, StateOverride, World

#: The state's levers that say "only abstains", and the votes each one moves.
ASSEMBLY = ("support_shift", tuple(stages_where(lambda st: st.on_draft)))
COUNCIL = ("council_shift", tuple(stages_where(lambda st: st.body.is_council)))
#: How far into the range of shifts where abstaining is most likely the value is set, at each
#: try: first a tenth of its width in from the smallest change (the smallest change itself sits
#: on the edge, where the full runs can fall either side), then further in, then its middle.
INSIDE = (0.1, 0.25, 0.5, 0.5)
#: Re-runs allowed to bring the full runs into agreement.
TRIES = len(INSIDE)


#: The sliders' ranges of a state's shifts and position: a state's expected support runs
#: within about +-20 on the latent scale (the schema's own bounds, +-1000, are for safety).
RANGES = {"support_shift": 20.0, "council_shift": 20.0, "position": 5.0}


def state_controls(scenario: Scenario, iso3: str) -> list[Control]:
    """The levers of one state's own values (``actors.states.<ISO3>.*``), at the scenario's
    values (the schema's defaults where the scenario gives none)."""
    own = scenario.actors.states.get(iso3) or StateOverride()
    out = []
    for c in model_controls(own, f"actors.states.{iso3}", scenario):
        reach = RANGES.get(c.path.rsplit(".", 1)[1])
        if reach is not None:
            at = abs(float(c.value)) if isinstance(c.value, int | float) else 0.0
            reach = max(reach, at)
            c = replace(c, min=-reach, max=reach, step=0.01)
        out.append(c)
    return out


def modal_votes(results: Results, iso3: str) -> dict[str, str]:
    """The state's most likely vote at each stage it voted in (over the full runs)."""
    ps = results.per_state
    rows = ps[ps["iso3"] == iso3]
    votes = ("yes", "no", "abstain", "absent")
    out = {}
    for r in rows.itertuples():
        p = [float(getattr(r, f"p_{v}")) for v in votes]
        out[str(r.stage)] = votes[max(range(4), key=lambda k: p[k])]
    return out


@dataclass
class OnlyAbstains:
    """The values that make abstaining the state's most likely vote, and what was found."""

    iso3: str
    values: dict[str, float] = field(default_factory=dict)  #: lever path -> value
    notes: list[str] = field(default_factory=list)  #: in words, for the page
    modal: dict[str, str] = field(default_factory=dict)  #: its most likely vote at each stage


def _target_shift(intervals: list[tuple[float, float]], inside: float) -> float | None:
    """The shift of stance nearest zero inside every interval, at least ``inside`` of the
    width of their common part from its edges; None if they have none."""
    low = max(i[0] for i in intervals)
    high = min(i[1] for i in intervals)
    if low > high:
        return None
    margin = inside * (high - low)
    return min(max(0.0, low + margin), high - margin)


def _stage_intervals(
    results: Results, iso3: str, stages: tuple[str, ...], replayed: Any
) -> dict[str, tuple[float, float] | None]:
    """At each of ``stages`` the state votes in (the Council's: if it sits on it), the
    interval of stance shifts at which it most likely abstains (None: none)."""
    out: dict[str, tuple[float, float] | None] = {}
    world = results.scenario.world
    assert isinstance(world, World)
    for stage in stages:
        if stage not in replayed.stages:
            continue
        rec = replayed.stages[stage]
        if rec.members is not None and not rec.members[world.index[iso3]]:
            continue
        stances, rule = state_stances(results, iso3, stage, replayed)
        out[stage] = vote_interval(stances, rule, "abstain")
    return out


def _search(
    session: Session,
    run: Callable[[dict[str, Any]], Results],
    values: dict[str, Any],
    iso3: str,
    lever: tuple[str, tuple[str, ...]],
) -> tuple[float | None, str]:
    """Set one lever so that the state abstains at its stages; (value, a note)."""
    name, stages = lever
    path = f"actors.states.{iso3}.{name}"
    results = run(values)
    start = float(values.get(path, _scenario_value(session.scenario, iso3, name)))
    value = start
    for inside in INSIDE:
        replayed = session.replayed(results)
        intervals = _stage_intervals(results, iso3, stages, replayed)
        held = {s: i for s, i in intervals.items() if i is not None}
        if not intervals:
            return None, ""
        if len(held) < len(intervals):
            never = [s for s, i in intervals.items() if i is None]
            return None, f"no {name} makes abstaining its most likely vote at {_words(never)}"
        shift = _target_shift(list(held.values()), inside)
        if shift is None:
            return None, f"no one {name} makes abstaining most likely at {_words(held)} at once"
        if shift == 0.0 and all(modal_votes(results, iso3).get(s) == "abstain" for s in held):
            return value, ""
        value = round(value + shift, 4)
        values = {**values, path: value}
        results = run(values)
        if all(modal_votes(results, iso3).get(s) == "abstain" for s in held):
            return value, ""
    modal = modal_votes(results, iso3)
    wrong = [s for s in stages if s in modal and modal[s] != "abstain"]
    if wrong:
        return None, (
            f"no {name} found that makes abstaining its most likely vote at {_words(wrong)} "
            f"in the full runs ({TRIES} tries; at {value:+.2f} it votes "
            f"{', '.join(modal[s] for s in wrong)} there)"
        )
    return value, ""


def _one_lever(
    session: Session,
    run: Callable[[dict[str, Any]], Results],
    values: dict[str, Any],
    iso3: str,
    lever: tuple[str, tuple[str, ...]],
) -> tuple[float | None, str]:
    """:func:`_search` at every stage of the lever, or, if no value serves them all, at its
    last (the vote on the draft itself: the plenary, the Council's referral) alone."""
    value, note = _search(session, run, values, iso3, lever)
    name, stages = lever
    if value is not None or len(stages) < 2:
        return value, note
    value, _ = _search(session, run, values, iso3, (name, stages[-1:]))
    if value is None:
        return None, note
    return value, f"{note}; set for the {_words(stages[-1:])} alone"


def _words(stages: Iterable[str]) -> str:
    return ", ".join(STAGE_LABELS.get(s, s) for s in stages)


def _scenario_value(scenario: Scenario, iso3: str, name: str) -> float:
    own = scenario.actors.states.get(iso3)
    value = getattr(own, name, 0.0) if own is not None else 0.0
    return float(getattr(value, "mean", value) or 0.0)


def only_abstains(
    session: Session, what_if: WhatIf, iso3: str, seed: int | None = None, runs: int | None = None
) -> OnlyAbstains:
    """The support shift and Council shift of ``iso3`` that make abstaining its most likely
    vote at every vote on the draft it takes part in, on top of ``what_if`` (module doc)."""
    found = OnlyAbstains(iso3)
    base = dict(what_if.as_dict())

    def run(values: Mapping[str, Any]) -> Results:
        """The results with ``values`` set (the same strategies off, seed and runs)."""
        return session.results(WhatIf.of(values, what_if.disabled), seed, runs)

    values = dict(base)
    for lever in (ASSEMBLY, COUNCIL):
        value, note = _one_lever(session, run, values, iso3, lever)
        if note:
            found.notes.append(note)
        if value is not None and value != values.get(
            f"actors.states.{iso3}.{lever[0]}", _scenario_value(session.scenario, iso3, lever[0])
        ):
            path = f"actors.states.{iso3}.{lever[0]}"
            values[path] = value
            found.values[path] = value
    found.modal = modal_votes(run(values), iso3)
    return found
