"""The scenario format: strict pydantic models read from YAML.

A scenario names a *world* (member states, regional groups, blocs, the Security Council of a year;
usually a separate file that several scenarios share), an optional *calibration* (per-state
positions and fitted behaviour parameters), the *resolution* and its path through procedure, the
*actors* (target state and its strategies, sponsors, allies and patrons, per-state overrides), the
global *behaviour* parameters and the *simulation* settings.

Every model forbids unknown keys and is frozen; every file carries ``schema_version``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from unsim.fields import LATENT, MAX_ROUND, MAX_STATES, ActorRef, StateRef, Strict
from unsim.limits import MAX_RUNS
from unsim.model.stages import DEFAULT_STAGES, STAGE_NAMES, stages_where
from unsim.scenario.clausefile import ClauseCalibration
from unsim.scenario.council import fill_record_chance
from unsim.scenario.leversfile import LeversFile
from unsim.scenario.procedure import Procedure
from unsim.scenario.simulation import Simulation
from unsim.scenario.world import (
    REGIONAL_GROUPS,
    World,
)
from unsim.strategies.base import Strategy
from unsim.strategies.registry import StrategyList
from unsim.uncertainty import Levered

SCHEMA_VERSION = 1

#: Stages in the order procedure takes them: the names declared in ``unsim.model.stages``.
STAGES: tuple[str, ...] = STAGE_NAMES
#: The General Assembly's stages and the Security Council's (by the body that votes).
GA_STAGES: tuple[str, ...] = tuple(stages_where(lambda st: st.body.everyone))
SC_STAGES: tuple[str, ...] = tuple(stages_where(lambda st: st.body.is_council))
if TYPE_CHECKING:
    Stage = str
else:
    Stage = Literal[STAGE_NAMES]


# --------------------------------------------------------------------------------------------
# Calibration (written by ``python -m unsim calibrate``)
# --------------------------------------------------------------------------------------------
class CalibratedState(Strict):
    """A state as calibrated: its ideal point, chance of absence, record on the series and last
    vote."""

    position: float = Field(
        ..., ge=-LATENT, le=LATENT, description="ideal point on the human-rights dimension"
    )
    absence: float | None = Field(None, ge=0, le=1, description="probability of being absent")
    record: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="the state's record on the series: its earlier votes (yes 1, abstain 0, "
        "no -1), its last vote and its own offset, weighted as the calibration fitted them",
    )
    last_vote: Literal["Y", "N", "A"] | None = Field(
        None,
        description="the state's last vote on the series when present (Y, N or A): what it repeats "
        "by habit (behaviour.habit)",
    )


class Calibration(Strict):
    """Per-state positions and fitted behaviour parameters, with their provenance."""

    schema_version: Literal[1] = 1
    kind: Literal["calibration"] = "calibration"
    name: str
    provenance: dict[str, Any] = Field(default_factory=dict)
    behaviour: dict[str, Annotated[float, Field(ge=-1000, le=1000)]] = Field(
        default_factory=dict, description="fitted values of behaviour parameters"
    )
    uncertainty: dict[str, Annotated[float, Field(ge=-1000, le=1000)]] = Field(
        default_factory=dict,
        description="sizes the engine draws per run: level_sd (intercept and session shock), "
        "group_shock_sd (per regional group), position_weight_sd, record_weight_sd, "
        "weights_correlation, absence_sd (a vote's log multiplier of absences)",
    )
    states: dict[str, CalibratedState] = Field(..., max_length=MAX_STATES)
    target_vote: dict[
        Literal["yes", "no", "abstain", "absent"], Annotated[float, Field(ge=0, le=1)]
    ] = Field(
        default_factory=dict,
        description="the target's own vote on the draft about it, from its record on its series "
        "(shares of yes, no, abstain and absent, summing to 1); empty: the target votes no",
    )
    diagnostics: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _target_vote_sums_to_one(self) -> Calibration:
        total = sum(self.target_vote.values())
        if self.target_vote and abs(total - 1.0) > 1e-3:
            raise ValueError(
                f"target_vote: the shares {dict(self.target_vote)} sum to {total:.4f}; they must "
                "sum to 1 (yes, no, abstain and absent)"
            )
        return self


# --------------------------------------------------------------------------------------------
# Resolution and procedure
# --------------------------------------------------------------------------------------------
class Clauses(Strict):
    """What the draft contains: an encouragement to refer the situation to the ICC, targeted
    sanctions."""

    icc_referral: bool = Field(
        True,
        description="the draft encourages the Security Council to refer the situation to the ICC",
    )
    targeted_sanctions: bool = Field(
        False, description="the draft encourages sanctions on those most responsible"
    )


class Resolution(Strict):
    """The draft: its title, target, sponsors, clauses, majority and stages of procedure."""

    title: str
    target: StateRef = Field(..., description="the state whose conduct the draft addresses")
    sponsors: list[ActorRef] = Field(
        ..., min_length=1, max_length=MAX_STATES, description="main sponsors (states/blocs)"
    )
    cosponsors: list[ActorRef] = Field(default_factory=list, max_length=MAX_STATES)
    clauses: Clauses = Field(default_factory=Clauses)
    majority: Literal["simple", "two_thirds"] = Field(
        "simple", description="majority of present and voting needed in the General Assembly"
    )
    stages: list[Stage] = Field(
        default_factory=lambda: list(DEFAULT_STAGES),
        description="stages of procedure the draft goes through (taken in procedural order; "
        "left out: every stage but the Human Rights Council's)",
    )

    @field_validator("stages")
    @classmethod
    def _unique_stages(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a stage is listed twice")
        return sorted(v, key=STAGES.index)


# --------------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------------
class Target(Strict):
    """The target state: its response strategies."""

    strategies: StrategyList = Field(
        default_factory=list,
        max_length=100,
        description="response strategies, each a typed entry (any registered type)",
    )


class Lobbying(Levered):
    """Lobbying: pressure per round (the budget, over the states lobbied) and its efficacy."""

    budget: float = Field(
        1.0,
        ge=0,
        le=1000,
        description="pressure per round, summed over the states lobbied (latent scale)",
    )
    efficacy: float = Field(1.0, ge=0, le=10, description="multiplier on the budget's effect")


class Bargaining(Levered):
    """When the sponsors give way on the ICC language (drop or soften it): for a credible enough
    offer, or when the expected yes share looks short."""

    type: Literal["threshold"] = "threshold"
    action: Literal["drop", "soften"] = Field(
        "drop", description="what the sponsors do to the ICC language when they give way"
    )
    accept_offer_min_credibility: float = Field(
        0.7,
        ge=0,
        le=1.01,
        description="the sponsors drop the language for a conditional offer they judge at least "
        "this credible (their judgement = credibility + noise)",
    )
    credibility_noise: float = Field(0.15, ge=0, le=1, description="sd of their judgement")
    unmet_terms_discount: float = Field(
        0.5, ge=0, le=1, description="factor on credibility if a sponsor's demanded terms are unmet"
    )
    drop_if_expected_yes_share_below: float = Field(
        0.5, ge=0, le=1, description="the sponsors give way if the expected yes share looks short"
    )
    from_round: int = Field(
        1, ge=1, le=MAX_ROUND, description="first round in which they may give way"
    )


class Sponsors(Strict):
    """The sponsors' lobbying and bargaining."""

    lobbying: Lobbying = Field(default_factory=Lobbying)
    bargaining: Bargaining = Field(default_factory=Bargaining)


class Allies(Levered):
    """The target's allies and patrons: who they are, how far they lean against the draft, and their
    counter-lobbying."""

    members: list[ActorRef] = Field(
        default_factory=list, max_length=MAX_STATES, description="the target's allies"
    )
    patrons: list[StateRef] = Field(
        default_factory=list,
        max_length=MAX_STATES,
        description="powerful protectors (usually veto holders)",
    )
    tie: float = Field(2.0, ge=0, le=10, description="how far allies lean against the draft")
    patron_tie: float = Field(2.0, ge=0, le=10, description="how far patrons lean against it")
    counter_lobbying: Lobbying = Field(default_factory=lambda: Lobbying(budget=0.5))


#: Why some numbers take no distribution (``Levered.point_only``).
STRUCTURAL = (
    "it shapes the compiled deliberation and vote passes (who is present, who moves with whom "
    "and how far), which take one value for all the runs of a block"
)
FITTED = (
    "it is the vote model's own parameter, fitted by the calibration, whose uncertainty every "
    "run draws already (calibration.uncertainty)"
)
CLAUSE_DRAW = (
    "it is the size of each state's own draw in each run (the compiled start of a block "
    "takes one value)"
)


class StateOverride(Levered):
    """Per-state parameters; any left out come from the calibration and behaviour defaults."""

    point_only: ClassVar[dict[str, str]] = {"receptiveness": STRUCTURAL, "absence": STRUCTURAL}

    position: float | None = Field(
        None, ge=-LATENT, le=LATENT, description="ideal point on the human-rights dimension"
    )
    support_shift: float = Field(
        0.0, ge=-LATENT, le=LATENT, description="added to the state's support (latent scale)"
    )
    icc_aversion: float | None = Field(None, ge=-5, le=10)
    receptiveness: float | None = Field(None, ge=0, le=5)
    absence: float | None = Field(None, ge=0, le=1, description="probability of being absent")
    council_shift: float = Field(
        0.0, ge=-LATENT, le=LATENT, description="added in Security Council votes"
    )


class Actors(Strict):
    """The actors: the target, the sponsors, the allies, and overrides for single states."""

    target: Target = Field(default_factory=Target)
    sponsors: Sponsors = Field(default_factory=Sponsors)
    allies: Allies = Field(default_factory=Allies)
    states: dict[StateRef, StateOverride] = Field(default_factory=dict, max_length=MAX_STATES)


# --------------------------------------------------------------------------------------------
# Behaviour and simulation
# --------------------------------------------------------------------------------------------
class Behaviour(Levered):
    """Global parameters of how states decide. A calibration file replaces the fitted ones."""

    point_only: ClassVar[dict[str, str]] = {
        "abstention_band": FITTED,
        "vote_noise": FITTED,
        "habit": FITTED,
        "receptiveness": STRUCTURAL,
        "absence": STRUCTURAL,
        "bloc_pull": STRUCTURAL,
        "regional_weight": STRUCTURAL,
        "bloc_weight": STRUCTURAL,
        "clause_pass_through": STRUCTURAL,
        "clause_deviation_sd": CLAUSE_DRAW,
    }

    intercept: float = Field(
        0.0, ge=-LATENT, le=LATENT, description="support of a state at position 0"
    )
    position_weight: float = Field(
        1.5, ge=-LATENT, le=LATENT, description="support per unit of position"
    )
    record_weight: float = Field(
        0.0,
        ge=-LATENT,
        le=LATENT,
        description="support per unit of the state's record on the series (calibration)",
    )
    abstention_band: float = Field(
        1.0, ge=0, le=LATENT, description="half-width of the latent band in which a state abstains"
    )
    habit: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="probability that a present state repeats its last vote on the series "
        "(calibration's last_vote) at an Assembly vote on the draft",
    )
    vote_noise: float = Field(
        1.0, gt=0, le=LATENT, description="scale of the logistic noise of each vote"
    )
    state_noise: float = Field(
        0.5,
        ge=0,
        le=LATENT,
        description="sd of a state's run-level deviation from its expected support",
    )
    icc_aversion: float = Field(0.5, ge=-5, le=10, description="default cost of the ICC language")
    icc_aversion_by_bloc: dict[str, Annotated[float, Field(ge=-5, le=10)]] = Field(
        default_factory=dict,
        max_length=MAX_STATES,
        description="the ICC language's cost for the members of a bloc (by bloc name), instead "
        "of icc_aversion; blocs apply in the order listed (a later one wins for states in "
        "both); a state's own actors.states.<ISO3>.icc_aversion wins over both",
    )
    receptiveness: float = Field(1.0, ge=0, le=5, description="default receptiveness to pressure")
    absence: float = Field(0.06, ge=0, le=1, description="default probability of being absent")
    bloc_pull: float = Field(
        0.2,
        ge=0,
        le=1,
        description="per round, share of the gap to its groups' shift a state closes",
    )
    regional_weight: float = Field(
        1.0, ge=0, le=100, description="weight of the regional group in the pull"
    )
    bloc_weight: float = Field(1.0, ge=0, le=100, description="weight of each bloc in the pull")
    no_action_bias: float = Field(
        -1.0,
        ge=-LATENT,
        le=LATENT,
        description="added to support for a no-action motion (reluctance to block debate)",
    )
    amendment_bias: float = Field(
        -0.5, ge=-LATENT, le=LATENT, description="added to support for a hostile amendment"
    )
    clause_pass_through: float = Field(
        1.0,
        ge=0,
        le=1,
        description="the share of a state's own clause term (its ICC cost, less its clause "
        "deviation) that its vote on the whole draft carries; its vote on the amendment "
        "deleting the clause carries all of it (1: the two votes mirror each other)",
    )
    clause_deviation_sd: float = Field(
        0.0,
        ge=0,
        le=LATENT,
        description="sd of a state's own deviation on the clause, beside its ICC cost, drawn "
        "per state and run (0: none)",
    )
    council_shift: float = Field(
        0.5, ge=-LATENT, le=LATENT, description="added to support in Security Council votes"
    )
    procedural_shift: float = Field(
        0.5,
        ge=-LATENT,
        le=LATENT,
        description="further added for the Council's procedural (agenda) vote",
    )
    bloc_effects: dict[str, Annotated[float, Field(ge=-LATENT, le=LATENT)]] = Field(
        default_factory=dict,
        max_length=MAX_STATES,
        description="support added for members of a bloc (by bloc name)",
    )


class SweepSpec(Strict):
    """A parameter sweep declared in the scenario file (``python -m unsim sweep`` runs it)."""

    params: dict[str, list[float | int | str | bool]] = Field(
        ...,
        min_length=1,
        description="dotted path of a scenario value -> the values to sweep (grid), or "
        "[low, high] (Latin hypercube)",
    )
    design: Literal["grid", "lhs"] = Field(
        "grid", description="full grid over the values, or a Latin hypercube over the ranges"
    )
    samples: int | None = Field(
        None, ge=1, le=1_000_000, description="number of points of a Latin hypercube"
    )
    runs: int | None = Field(
        None, ge=1, le=MAX_RUNS, description="runs per point (default: simulation.runs)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        for path, values in self.params.items():
            if not values:
                raise ValueError(f"params.{path}: no values to sweep")
        if self.design == "lhs":
            if self.samples is None:
                raise ValueError("a Latin hypercube (design: lhs) needs samples")
            bad = [
                path
                for path, values in self.params.items()
                if len(values) != 2
                or any(isinstance(v, bool) or not isinstance(v, int | float) for v in values)
            ]
            if bad:
                raise ValueError(
                    "a Latin hypercube needs a [low, high] range for every parameter: "
                    + ", ".join(bad)
                )
        return self


class Scenario(Strict):
    """A question to put to the model: a world, a draft, the actors and how to simulate."""

    schema_version: Literal[1] = 1
    kind: Literal["scenario"] = "scenario"
    name: str = Field(
        ...,
        pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$",
        max_length=100,
        description="used for the results folder (letters, digits, _ - .; not starting with .)",
    )
    description: str | None = None
    date: dt.date | None = Field(None, description="the date the scenario stands at")
    world: str | World = Field(..., description="path of a world file (relative to this file)")
    calibration: str | Calibration | None = Field(
        None, description="path of a calibration file (relative to this file)"
    )
    levers: str | LeversFile | None = Field(
        None,
        description="path of a levers file (relative to this file): distributions of levers, "
        "fitted on past episodes, that a number may name as {lever: NAME}",
    )
    clause_calibration: str | ClauseCalibration | None = Field(
        None,
        description="path of a clause calibration file (relative to this file; unsim calibrate "
        "--clauses): the clause pass-through and deviation fitted on separate votes, used "
        "where behaviour does not set them",
    )
    resolution: Resolution
    procedure: Procedure = Field(default_factory=Procedure)
    actors: Actors = Field(default_factory=Actors)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    simulation: Simulation = Field(default_factory=Simulation)
    sweep: SweepSpec | None = Field(
        None, description="a parameter sweep over this scenario (python -m unsim sweep)"
    )

    @model_validator(mode="after")
    def _record_chance(self) -> Scenario:
        """The tabling chance left out under ``table_referral: record``: the record's, as known
        on the scenario's date."""
        fill_record_chance(self.procedure.council, self.date)
        return self


__all__ = [
    "GA_STAGES",
    "REGIONAL_GROUPS",
    "SCHEMA_VERSION",
    "SC_STAGES",
    "STAGES",
    "Scenario",
    "Strategy",
    "SweepSpec",
    "World",
]
