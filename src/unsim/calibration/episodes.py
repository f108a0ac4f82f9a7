"""Past episodes of the country human-rights series: what changed before a recorded vote.

An *episode* is one recorded plenary vote of a resolution series (:mod:`.series`) with what
changed since the series' previous recorded vote, as typed *lever indicators*: the target engaged
or admitted a rapporteur, released prisoners, threatened, a no-action motion was moved, the draft
added or dropped strong language, the government changed. Each indicator is a number: ``1`` the
change happened (a larger or smaller number where its size is meaningful), ``-1`` its reversal
(the draft dropped the language, a no-action motion moved at the previous vote was not moved
again), ``0`` (or absent) no such change in the sources cited. Every indicator other than 0 rests
on facts, each with its sources (a UN document symbol or press release code, or an address),
dated before the vote.

The episodes file (``episodes.yaml`` next to this module, or any file of ``kind: episodes``) is
read with the bounded YAML reader and validated strictly; :func:`check_against_data` checks each
episode against the roll calls (the series, the vote's record id, date and symbol, the previous
vote, the cut date) and :func:`lever_matrix` gives the indicators as a table for the estimation
(:mod:`.levers`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from unsim.errors import Problem, ScenarioError, did_you_mean
from unsim.fields import Strict
from unsim.scenario.loader import read_yaml
from unsim.scenario.problems import problems_from_validation

__all__ = [
    "DEFAULT_EPISODES",
    "LEVERS",
    "Episode",
    "EpisodesFile",
    "check_against_data",
    "lever_matrix",
    "load_episodes",
]

#: The episodes shipped with unsim (package data).
DEFAULT_EPISODES = Path(__file__).with_name("episodes.yaml")

#: The typed lever indicators an episode may record, and what ``1`` means for each.
LEVERS: dict[str, str] = {
    "engagement": "the target engaged: a charm offensive, talks with the sponsors or the UN's "
    "human-rights machinery beyond what it did before the previous vote",
    "rapporteur_access": "the target admitted (1) or invited (0.5) a UN human-rights mandate "
    "holder or mission it had not received in the interval before the previous vote",
    "prisoner_release": "the target released political prisoners",
    "threats": "the target threatened states or the UN's human-rights bodies over the draft",
    "no_action_motion": "a no-action motion on the draft was put to a recorded vote in the "
    "plenary at this session and not at the previous vote (-1: the reverse)",
    "icc_language": "the draft added language on the International Criminal Court (-1: dropped)",
    "commission_of_inquiry": "the draft added a commission of inquiry or a comparable "
    "accountability mechanism (-1: dropped)",
    "condemnation": "the draft's language hardened from concern to condemnation (-1: softened, "
    "e.g. welcoming the government's commitments)",
    "security_council": "the draft added a mention of the Security Council (-1: dropped)",
    "reform": "a change of government or reform committed to human rights (-1: a change away "
    "from reform)",
}
#: The largest size of an indicator (a change counts once; 2 is a change twice as large).
MAX_INTENSITY = 2.0


class Source(Strict):
    """Where a fact is recorded: a UN document symbol or press release code, or an address."""

    symbol: str | None = Field(
        None,
        max_length=80,
        description="UN document symbol or press release code (A/RES/..., GA/SHC/3909...)",
    )
    url: str | None = Field(None, max_length=300, description="address of a public record")
    title: str = Field(..., max_length=300)
    date: dt.date = Field(..., description="the source's date (before the vote it bears on)")

    @model_validator(mode="after")
    def _named(self) -> Source:
        if not (self.symbol or self.url):
            raise ValueError("a source needs a UN symbol (symbol) or an address (url)")
        return self


class Fact(Strict):
    """One recorded change behind a lever indicator."""

    lever: str = Field(..., description="the indicator this fact supports")
    text: str = Field(..., min_length=10, max_length=600)
    sources: list[Source] = Field(..., min_length=1, max_length=6)

    @field_validator("lever")
    @classmethod
    def _known(cls, v: str) -> str:
        return _known_lever(v)


class VoteRef(Strict):
    """A recorded plenary vote as the roll-call data hold it."""

    rcid: int = Field(..., ge=1, description="roll-call id in the voting data")
    date: dt.date
    symbol: str = Field(..., pattern=r"^R/\d+/\d+$", description="the data's unres, R/61/176")


class Episode(Strict):
    """A recorded vote of a series and what changed since the series' previous vote."""

    id: str = Field(..., pattern=r"^[a-z]{3}(_[a-z0-9]+)*_\d{4}$")
    series: str = Field(..., pattern=r"^[A-Z]{3}$", description="ISO3 code of the target")
    match: str | None = Field(None, max_length=80, description="text naming it in the data")
    session: int = Field(..., ge=1, le=200)
    vote: VoteRef
    previous: VoteRef = Field(..., description="the series' previous recorded plenary vote")
    levers: dict[str, float] = Field(default_factory=dict)
    facts: list[Fact] = Field(default_factory=list, max_length=20)
    other: list[str] = Field(
        default_factory=list, max_length=10, description="changes no indicator types"
    )
    note: str | None = Field(None, max_length=800, description="what a control rests on")

    @field_validator("levers")
    @classmethod
    def _levers(cls, v: dict[str, float]) -> dict[str, float]:
        for name, value in v.items():
            _known_lever(name)
            if not -MAX_INTENSITY <= value <= MAX_INTENSITY:
                raise ValueError(
                    f"levers.{name}: {value} is outside [-{MAX_INTENSITY:g}, {MAX_INTENSITY:g}]"
                )
        return {k: float(x) for k, x in v.items() if x != 0}

    @model_validator(mode="after")
    def _consistent(self) -> Episode:
        if self.previous.date >= self.vote.date:
            raise ValueError("previous.date must be before vote.date")
        supported = {f.lever for f in self.facts}
        missing = sorted(set(self.levers) - supported)
        if missing:
            raise ValueError(f"lever(s) {', '.join(missing)} have no fact with a source")
        unused = sorted(supported - set(self.levers))
        if unused:
            raise ValueError(f"fact(s) on {', '.join(unused)} but no such lever is set")
        late = [
            f"{s.symbol or s.url} ({s.date})"
            for f in self.facts
            for s in f.sources
            if s.date > self.vote.date
        ]
        if late:
            raise ValueError(f"source(s) dated after the vote ({self.vote.date}): {late}")
        return self

    @property
    def changed(self) -> bool:
        """Whether the episode gives any lever (an indicator of what changed)."""
        return bool(self.levers)


class EpisodesFile(Strict):
    """A file of episodes: recorded votes of the series, each with what changed before it (ids
    and votes unique)."""

    schema_version: Literal[1] = 1
    kind: Literal["episodes"] = "episodes"
    name: str = Field(..., max_length=80)
    description: str = Field("", max_length=4000)
    episodes: list[Episode] = Field(..., min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _unique(self) -> EpisodesFile:
        for key, what in ((lambda e: e.id, "id"), (lambda e: e.vote.rcid, "vote.rcid")):
            seen: set[Any] = set()
            for e in self.episodes:
                if key(e) in seen:
                    raise ValueError(f"{what} {key(e)!r} is given twice")
                seen.add(key(e))
        return self


def _known_lever(name: str) -> str:
    if name not in LEVERS:
        hint = did_you_mean(name, list(LEVERS))
        raise ValueError(
            f"unknown lever {name!r}; allowed: {', '.join(LEVERS)}"
            + (f"; did you mean {hint!r}?" if hint else "")
        )
    return name


def load_episodes(path: str | Path | None = None) -> EpisodesFile:
    """Read and validate an episodes file (default: the one shipped with unsim)."""
    where = Path(path) if path is not None else DEFAULT_EPISODES
    raw = read_yaml(where)
    try:
        return EpisodesFile.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError(str(where), problems_from_validation(EpisodesFile, err)) from None


def lever_matrix(episodes: list[Episode], levers: list[str] | None = None) -> pd.DataFrame:
    """(episodes x levers) indicators, 0 where an episode records no change of that kind."""
    names = levers if levers is not None else list(LEVERS)
    rows = {e.id: [e.levers.get(n, 0.0) for n in names] for e in episodes}
    return pd.DataFrame.from_dict(rows, orient="index", columns=names, dtype=float)


def check_against_data(
    file: EpisodesFile,
    roll_calls: pd.DataFrame,
    votes: pd.DataFrame | None = None,
    members: pd.DataFrame | None = None,
    before: dt.date | str | None = "2014-11-18",
) -> list[Problem]:
    """Every problem found checking the episodes against the roll calls: each vote is a recorded
    vote of its series (by :func:`.series.find_series`) with that record id, date and symbol, its
    ``previous`` is the series' vote just before it, and (unless ``before`` is None) the vote is
    before the cut."""
    from unsim.calibration.series import find_series

    cut = pd.Timestamp(before) if before is not None else None
    problems: list[Problem] = []
    cache: dict[tuple[str, str | None], pd.DataFrame] = {}
    for k, e in enumerate(file.episodes):
        where = f"episodes[{k}] ({e.id})"
        key = (e.series, e.match)
        if key not in cache:
            found = find_series(roll_calls, e.series, votes, members, match=e.match)
            cache[key] = found.used.reset_index(drop=True)
        used = cache[key]
        problems += _vote_problems(where, e, used)
        if cut is not None and pd.Timestamp(e.vote.date) >= cut:
            problems.append(
                Problem(f"{where}.vote.date", f"not before the cut {cut.date()}", e.vote.date, True)
            )
    return problems


def _vote_problems(where: str, e: Episode, used: pd.DataFrame) -> list[Problem]:
    rows = used.index[used["rcid"] == e.vote.rcid].tolist()
    if not rows:
        hint = did_you_mean(str(e.vote.rcid), [str(r) for r in used["rcid"]])
        return [
            Problem(
                f"{where}.vote.rcid",
                f"not a recorded plenary vote of the {e.series} series",
                e.vote.rcid,
                True,
                allowed=", ".join(str(r) for r in used["rcid"]) or "(the series has none)",
                suggestion=hint,
            )
        ]
    i = rows[0]
    row = used.loc[i]
    recorded = {
        "vote.date": (e.vote.date, pd.Timestamp(row["date"]).date()),
        "vote.symbol": (e.vote.symbol, str(row.get("unres"))),
        "session": (e.session, int(row["session"])),
    }
    out = [
        Problem(f"{where}.{key}", "differs from the roll call's", given, True, allowed=str(held))
        for key, (given, held) in recorded.items()
        if given != held
    ]
    if i == 0:
        out.append(Problem(f"{where}.previous", "the vote is the series' first: no previous"))
        return out
    prev = used.loc[i - 1]
    if int(prev["rcid"]) != e.previous.rcid or pd.Timestamp(prev["date"]).date() != (
        e.previous.date
    ):
        out.append(
            Problem(
                f"{where}.previous",
                "is not the series' vote just before this one",
                f"{e.previous.rcid} on {e.previous.date}",
                True,
                allowed=f"rcid {int(prev['rcid'])} on {pd.Timestamp(prev['date']).date()}",
            )
        )
    return out
