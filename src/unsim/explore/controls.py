"""The explorer's controls, generated from the scenario schema.

Every lever is found by walking the pydantic models of a loaded scenario: a number becomes a
slider whose bounds come from the field's ``ge``/``le`` constraints (a number given as a
distribution shows as its mean, with its spread, and is drawn per run until it is set), a
yes/no field a switch, a choice among literals a menu, a list of states a multiple choice.
Labels come from :mod:`unsim.scenario.labels` and help texts from the fields' descriptions, so
a field added to the schema appears in the explorer with no change here.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from unsim.scenario.labels import describe, label_for, strategy_name
from unsim.scenario.refs import ActorRef, StateRef
from unsim.scenario.schema import Scenario
from unsim.uncertainty import Uncertain

Kind = Literal["float", "int", "bool", "choice", "multichoice", "states", "enabled"]

#: The parts of a scenario the explorer offers as levers, with their section titles. Strategies
#: (one section each) come first; everything below each root is generated from the schema.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("actors.sponsors", "Sponsors: bargaining bar and lobbying"),
    ("actors.allies", "Allies and patrons"),
    ("behaviour", "How states decide (the ICC language's cost and more)"),
    ("resolution.clauses", "Clauses of the draft"),
    ("procedure", "Procedure"),
    ("simulation.rounds", "Diplomatic rounds"),
)

#: Fields that name things rather than set a lever.
_SKIP = {"type", "label", "mover", "deletes"}


@dataclass(frozen=True)
class Control:
    """One lever: where it sits in the scenario, how it reads and what it may take."""

    path: str
    label: str
    help: str
    kind: Kind
    value: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()
    optional: bool = False  # may be left unset (null)
    #: for a number the scenario gives as a distribution: the distribution and its spread in
    #: words (``value`` is then its mean); it is kept unless the lever is set to a number
    spread: str = ""
    #: its unit or scale in words (:data:`UNITS`), shown beside it
    unit: str = ""


@dataclass
class Section:
    """A titled group of the sidebar's controls."""

    title: str
    controls: list[Control] = field(default_factory=list)


#: Support (the vote model's latent scale) in votes, measured on the reference draft
#: (scenarios/levers/reference_2014.yaml, the 2014 DPRK draft) at its Third Committee vote with
#: the lever map's own functions (scripts/lever_votes.py: 4,096 paired runs, seed 1): every
#: state's support shifted by -0.5 and +0.5 moved the mean yes tally by -5.82 and +5.71; the
#: charm offensive at intensity 0.3 by -14.38, a genuine unconditional invitation of effect 1.5
#: by -8.20 and the threats at intensity 0.2 by +2.31, each against the strategy's absence
#: (tests/test_readme.py checks the figures below against the script).
VOTES = "0.5 ≈ 5.8 yes votes if every state moves by it, at the 2014 DPRK draft"
SUPPORT = f"support units (latent scale; {VOTES})"
SUPPORT_AGAINST = f"support units against the draft (latent scale; {VOTES})"
COUNCIL = "support units at the Council's votes (latent scale; no conversion to votes measured)"
PROBABILITY = "probability 0-1"
ROUND = "diplomatic round (1: the first)"

#: Each numeric field's unit, by its name (or ``<strategy or part>.<name>``, looked up first).
UNITS: dict[str, str] = {
    "charm_offensive.intensity": "support units per active round (latent scale; 0.3 ≈ 14.4 "
    "fewer yes votes at the 2014 DPRK draft); 0: no effect",
    "threats.intensity": "support units per active round (latent scale; 0.2 ≈ 2.3 more yes "
    "votes at the 2014 DPRK draft, the backfire outweighing); 0: no effect",
    "deception.intensity": f"support units per active round while unexposed (latent scale; "
    f"{VOTES}); 0: no effect",
    "inducements.amount": f"support units per active round, times receptiveness (latent scale; "
    f"{VOTES}); 0: no effect",
    "invitation.effect": "ICC cost units, once (latent scale; 1.5 ≈ 8.2 fewer yes votes at the "
    "2014 DPRK draft, for a genuine unconditional offer); 0: no effect",
    "invitation.credibility": PROBABILITY,
    "icc_share": "share 0-1 of the effect (0: all on support, 1: all on the ICC language's cost)",
    "backfire": "share 0-1 of the intensity pulling undecided states toward yes (0: none)",
    "intimidation": "share 0-1 of the intensity pushing undecided states toward no (0: none)",
    "exposure_hazard": "probability 0-1 per round",
    "exposure_penalty": f"{SUPPORT}, once on exposure; 0: no backlash",
    "expected_yes_share_above": "yes votes' share 0-1 of those present and voting",
    "drop_if_expected_yes_share_below": "yes votes' share 0-1 of those present and voting "
    "(0: never give way)",
    "start": ROUND,
    "end": ROUND,
    "from_round": ROUND,
    "lobbying.budget": f"lobbying budget, support units per round over the states lobbied "
    f"(latent scale; {VOTES}); 0: none",
    "counter_lobbying.budget": f"counter-lobbying budget, support units per round over the "
    f"states lobbied (latent scale; {VOTES}); 0: none",
    "efficacy": "multiplier on the budget (0: no effect, 1: as budgeted)",
    "accept_offer_min_credibility": "probability 0-1 (above 1: never accept)",
    "credibility_noise": "sd on the probability scale 0-1 (0: judged exactly)",
    "unmet_terms_discount": "factor 0-1 on credibility (1: no discount)",
    "tie": f"{SUPPORT_AGAINST}; 0: no tie",
    "patron_tie": f"{SUPPORT_AGAINST}; 0: no tie",
    "icc_aversion": f"the ICC language's cost in support units (latent scale; {VOTES}); "
    "below 0: the language attracts",
    "receptiveness": "multiplier on pressure (0: unmoved, 1: as applied)",
    "bloc_pull": "share 0-1 of the gap closed per round (0: no pull)",
    "regional_weight": "relative weight in the pull (0: ignored, 1: as a bloc)",
    "bloc_weight": "relative weight in the pull (0: ignored, 1: as the region)",
    "no_action_bias": f"{SUPPORT}; 0: as for the draft",
    "amendment_bias": f"{SUPPORT}; 0: as for the draft",
    "clause_pass_through": "share 0-1 (0: the clause is not in the vote on the whole draft, "
    "1: all of it)",
    "clause_deviation_sd": f"sd in {SUPPORT}; 0: none",
    "council_shift": f"{COUNCIL}; 0: no shift",
    "procedural_shift": f"{COUNCIL}; 0: no shift",
    "table_into_veto": PROBABILITY,
    "chance": PROBABILITY,
    "norm": f"{COUNCIL}; 0: neutral",
    "patron_defence": f"{COUNCIL}; 0: no defence",
    "dissent": f"{COUNCIL}; 0: no reluctance",
    "patron_shock": f"sd in {COUNCIL}; 0: drawn apart",
    "support_weight": "weight (0: ignored, 1: one for one)",
    "icc_weight": "weight (0: ignored, 1: one for one)",
    "third_committee": "diplomatic rounds (0: none)",
    "plenary": "diplomatic rounds (0: none)",
    "security_council": "diplomatic rounds (0: none)",
    "support_shift": f"{SUPPORT}; 0: no shift",
    "position": "ideal point on the calibration's human-rights scale (0: its centre)",
    "absence": PROBABILITY,
}


def unit_for(control: Control, owner: str = "") -> str:
    """A control's unit in words: from :data:`UNITS` by ``<owner>.<name>``, ``<part>.<name>``
    or the name, else from its kind and range (a field added to the schema still says what its
    ends mean)."""
    parts = control.path.split(".")
    name = parts[-1]
    part = parts[-2].split("[")[0] if len(parts) > 1 else ""
    for key in (f"{owner}.{name}", f"{part}.{name}", name):
        if key in UNITS:
            return UNITS[key]
    if control.kind == "enabled":
        return "on or off: the strategy in the scenario or taken out"
    if control.kind == "bool":
        return "on or off"
    if control.kind in ("choice", "multichoice"):
        few = ", ".join(str(c) for c in control.choices)
        return f"{'one' if control.kind == 'choice' else 'any'} of: {few}"
    if control.kind == "states":
        return "states (ISO3 codes) or blocs"
    lo, hi = control.min, control.max
    if "latent" in control.help:
        return f"{SUPPORT}; 0: none"
    whole = "whole number" if control.kind == "int" else "number"
    return f"{whole} from {lo:g} ({lo:g}: the least) to {hi:g} (the most)"


def with_unit(control: Control, owner: str = "") -> Control:
    """The control with its unit in words (:func:`unit_for`)."""
    return replace(control, unit=unit_for(control, owner))


def _bounds(info: FieldInfo) -> tuple[float | None, float | None, float | None, float | None]:
    ge = le = gt = lt = None
    for m in info.metadata:
        ge = getattr(m, "ge", ge)
        le = getattr(m, "le", le)
        gt = getattr(m, "gt", gt)
        lt = getattr(m, "lt", lt)
    return ge, le, gt, lt


def _nice_step(span: float, is_int: bool) -> float:
    if is_int:
        return 1
    raw = span / 100 if span > 0 else 0.01
    return float(10 ** math.floor(math.log10(raw)))


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return annotation, optional
    return annotation, False


def _is_state_ref(tp: Any) -> bool:
    return tp is StateRef or tp is ActorRef


def numeric_control(
    path: str,
    info: FieldInfo,
    value: Any,
    scenario: Any,
    is_int: bool,
    optional: bool,
    max_round: int | None = None,
) -> Control:
    """A slider: bounds from the schema, else a range around the current value."""
    ge, le, gt, lt = _bounds(info)
    current = float(value) if value is not None else float(ge if ge is not None else 1)
    span = max(10.0 if is_int else 1.0, 2 * abs(current))
    lo = ge if ge is not None else gt if gt is not None else current - span
    hi = le if le is not None else lt if lt is not None else current + span
    if max_round is not None and path.rsplit(".", 2)[-2] == "schedule":
        hi = max(max_round, int(current))
    lo, hi = float(lo), float(hi)
    if hi - lo > 10 * span:  # safety bounds far wider than the value's scale: a usable range
        lo, hi = max(lo, current - span), min(hi, current + span)
    step = _nice_step(hi - lo, is_int)
    if gt is not None and not is_int:
        lo = float(gt) + step
    if lt is not None and not is_int:
        hi = float(lt) - step
    return Control(
        path=path,
        label=label_for(path, scenario),
        help=info.description or describe(path, scenario) or "",
        kind="int" if is_int else "float",
        value=(int(value) if is_int else float(value)) if value is not None else None,
        min=int(lo) if is_int else lo,
        max=int(hi) if is_int else hi,
        step=step,
        optional=optional,
    )


def spread_text(value: Uncertain) -> str:
    """A distribution in words, with its spread and its evidence: "truncnorm(mean 0.25, sd
    0.15, low 0, high 5): mean 0.27, sd 0.14, 90 % in [0.05, 0.52]; source: ..."."""
    dist = value.dist
    text = f"{dist.describe()}: {dist.spread()}"
    if value.lever:
        text += f"; levers file entry {value.lever!r}"
    return text + (f"; source: {dist.source}" if dist.source else "")


def _field_control(
    path: str, info: FieldInfo, value: Any, scenario: Any, max_round: int | None
) -> Control | None:
    annotation, optional = _strip_optional(info.annotation)
    origin = typing.get_origin(annotation)
    label = label_for(path, scenario)
    help_text = info.description or ""
    if annotation is bool:
        return Control(path, label, help_text, "bool", bool(value))
    if annotation in (int, float):
        control = numeric_control(
            path, info, value, scenario, annotation is int, optional, max_round
        )
        return (
            replace(control, spread=spread_text(value)) if isinstance(value, Uncertain) else control
        )
    if origin is Literal:
        choices = typing.get_args(annotation)
        if len(choices) < 2:
            return None
        return Control(path, label, help_text, "choice", value, choices=choices)
    if origin is list:
        (item,) = typing.get_args(annotation) or (None,)
        if _is_state_ref(item):
            return Control(path, label, help_text, "states", list(value or []))
        if typing.get_origin(item) is Literal:
            return Control(
                path, label, help_text, "multichoice", list(value), choices=typing.get_args(item)
            )
    return None


def model_controls(
    node: BaseModel,
    prefix: str,
    scenario: Any,
    skip: set[str] | None = None,
    max_round: int | None = None,
) -> list[Control]:
    """Controls for every lever of a pydantic model instance (recursing into nested models)."""
    out: list[Control] = []
    skip = skip or set()
    for name, info in type(node).model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        if name in _SKIP or path in skip:
            continue
        value = getattr(node, name)
        if isinstance(value, BaseModel):
            out += model_controls(value, path, scenario, skip, max_round)
            continue
        control = _field_control(path, info, value, scenario, max_round)
        if control is not None:
            out.append(with_unit(control, str(getattr(node, "type", ""))))
    return out


def _node(scenario: BaseModel, path: str) -> Any:
    node: Any = scenario
    for part in path.split("."):
        node = getattr(node, part)
    return node


def build_controls(scenario: Scenario) -> list[Section]:
    """The explorer's sections of controls for a loaded scenario.

    Each strategy of the target is a section (a switch to take it out of the scenario, then every
    parameter of its type); then the parts of ``SECTIONS``. Behaviour parameters that the
    scenario's calibration fits are left out (the calibration sets them, not the scenario)."""
    fitted: set[str] = set()
    cal = scenario.calibration
    if isinstance(cal, BaseModel):
        fitted = {f"behaviour.{k}" for k in getattr(cal, "behaviour", {})}
    rounds = scenario.simulation.rounds
    max_round = rounds.third_committee + rounds.plenary + rounds.security_council
    sections: list[Section] = []
    strategies = list(scenario.actors.target.strategies)
    for i, strategy in enumerate(strategies):
        prefix = f"actors.target.strategies[{i}]"
        name = strategy_name(strategy, strategies)
        section = Section(f"Strategy: {name}")
        section.controls.append(
            Control(
                prefix,
                f"{name}: on",
                (type(strategy).__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
                "enabled",
                True,
                unit=unit_for(Control(prefix, "", "", "enabled", True)),
            )
        )
        section.controls += model_controls(strategy, prefix, scenario, max_round=max_round)
        sections.append(section)
    for root, title in SECTIONS:
        node = _node(scenario, root)
        controls = model_controls(node, root, scenario, skip=fitted, max_round=max_round)
        if root == "behaviour":  # the ICC language's cost first: the lever most asked about
            controls.sort(key=lambda c: c.path != "behaviour.icc_aversion")
        if controls:
            sections.append(Section(title, controls))
    return sections


def slider_value(control: Control, x: float) -> float:
    """Where the slider puts ``x`` (Vuetify's rounding): the nearest step counted from the
    range's start, within the range, to the step's decimals; then as the slider's callback
    rounds it (6 decimals)."""
    lo, hi = float(control.min or 0.0), float(control.max or 1.0)
    step = float(control.step or 0.01)
    offset = lo % step
    snapped = min(math.floor((x - offset) / step + 0.5) * step + offset, hi)
    decimals = max(0, -math.floor(math.log10(step)))
    return round(round(snapped, decimals), 6)


def typed_value(control: Control, text: str) -> tuple[float | int | None, str]:
    """The value a number typed in a lever's box sets, as its slider would set it, or ``None``
    and why it is refused (not a number, outside the slider's range, not whole for a count)."""
    lo, hi = control.min, control.max
    allowed = f"from {lo:g} to {hi:g}"
    try:
        x = float(text.strip().replace(",", "."))
    except ValueError:
        return None, f"'{text.strip()[:20]}' is not a number: type one {allowed}"
    if not math.isfinite(x) or lo is None or hi is None or not lo <= x <= hi:
        return None, f"{text.strip()[:20]} is outside the range: type a number {allowed}"
    if control.kind == "int":
        if x != int(x):
            return None, f"{x:g} is not a whole number: type one {allowed}"
        return int(x), ""
    return slider_value(control, x), ""


def all_controls(sections: list[Section]) -> list[Control]:
    """Every control of the sections, in order."""
    return [c for s in sections for c in s.controls]
