"""The Council's record, read and checked: ``record.yaml`` beside this module.

Two tables. ``tabling``: the situations in which a Council referral to the ICC was recommended
or asked for, when that began, whether and when a referral draft was put to the Council, and
which permanent members had stood against it (:class:`Window`). ``votes``: Council votes on
those situations member by member (:class:`CouncilVote`), the three recorded referral votes
read from the real data file (``unsc_icc_votes_before_2014-11.csv``), the others listed.

Every date must fall before the record's ``cut`` (18 November 2014): the record is what the
world knew on the forecast date. A fit for a scenario dated earlier uses only what came before
that date (:meth:`Record.windows_before`, :func:`unsim.council.cases.vote_cases`).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from unsim.errors import InputError
from unsim.fields import Strict
from unsim.safeio import load_yaml

#: The permanent members of the Security Council (ISO3).
PERMANENT: tuple[str, ...] = ("CHN", "FRA", "GBR", "RUS", "USA")
RECORD_FILE = "record.yaml"

Code = str


def _codes(values: list[str]) -> list[str]:
    bad = [v for v in values if len(v) != 3 or not v.isalpha() or not v.isupper()]
    if bad:
        raise ValueError(f"expected ISO3 codes such as 'CHN', got {bad}")
    if len(set(values)) != len(values):
        raise ValueError(f"a code is listed twice: {values}")
    return values


class Window(Strict):
    """A situation in which a referral was sought: from ``sought_from`` to the draft put to the
    Council (``tabled``) or, not tabled, to ``until``."""

    key: str = Field(..., pattern=r"^[a-z0-9_]+$")
    target: Code = Field(..., pattern=r"^[A-Z]{3}$")
    sought_from: dt.date
    tabled: dt.date | None = None
    until: dt.date | None = None
    opposed_by: list[Code] = Field(..., max_length=5)
    recommended_by: str = Field(..., min_length=10)
    requested_by_states: int | None = Field(None, ge=1, le=193)
    evidence: str = Field(..., min_length=10)
    sources: list[str] = Field(..., min_length=1)

    @field_validator("opposed_by")
    @classmethod
    def _permanent(cls, values: list[str]) -> list[str]:
        _codes(values)
        bad = [v for v in values if v not in PERMANENT]
        if bad:
            raise ValueError(f"{bad}: not permanent members ({', '.join(PERMANENT)})")
        return values

    @model_validator(mode="after")
    def _one_end(self) -> Window:
        if (self.tabled is None) == (self.until is None):
            raise ValueError("give exactly one of tabled (the draft's date) and until")
        end = self.end
        if end < self.sought_from:
            raise ValueError(f"ends ({end}) before it was sought ({self.sought_from})")
        return self

    @property
    def end(self) -> dt.date:
        """When the window ended: the draft's date if tabled, else ``until``."""
        return self.tabled if self.tabled is not None else self.until  # type: ignore[return-value]

    @property
    def opposed(self) -> bool:
        """The signal: a permanent member stood against a referral (a stated patron)."""
        return bool(self.opposed_by)

    def as_of(self, date: dt.date) -> Window | None:
        """The window as known on ``date`` (None if not yet sought): a draft tabled on or after
        that day was not yet tabled."""
        if self.sought_from >= date:
            return None
        if self.end < date:
            return self
        return self.model_copy(update={"tabled": None, "until": date})


class MemberVotes(Strict):
    """The Council members' votes on one draft: in favour, against, abstaining (ISO3 codes)."""

    in_favour: list[Code] = Field(default_factory=list)
    against: list[Code] = Field(default_factory=list)
    abstaining: list[Code] = Field(default_factory=list)

    @field_validator("in_favour", "against", "abstaining")
    @classmethod
    def _iso3(cls, values: list[str]) -> list[str]:
        return _codes(values)

    @model_validator(mode="after")
    def _fifteen(self) -> MemberVotes:
        every = self.in_favour + self.against + self.abstaining
        if len(set(every)) != 15 or len(every) != 15:
            raise ValueError(f"the Council has 15 distinct members, not {len(set(every))}")
        if missing := [c for c in PERMANENT if c not in every]:
            raise ValueError(f"permanent members missing: {missing}")
        return self

    def letters(self) -> dict[str, str]:
        """ISO3 -> Y, N or A."""
        out = dict.fromkeys(self.in_favour, "Y")
        out.update(dict.fromkeys(self.against, "N"))
        out.update(dict.fromkeys(self.abstaining, "A"))
        return out


class CouncilVote(Strict):
    """One Council vote on a situation; its members' votes listed or read from the data file."""

    key: str = Field(..., pattern=r"^[a-z0-9_]+$")
    date: dt.date
    target: Code = Field(..., pattern=r"^[A-Z]{3}$")
    situation: str
    referral: bool
    context: bool = False
    draft: str = Field(..., min_length=5)
    members: MemberVotes | Literal["data_file"]
    council: list[Code] | None = Field(None, min_length=15, max_length=15)
    sources: list[str] = Field(..., min_length=1)


class Record(Strict):
    """The Council's record up to ``cut``: the windows in which a referral was sought, and the
    votes."""

    schema_version: Literal[1]
    kind: Literal["council_record"]
    cut: dt.date
    tabling: list[Window] = Field(..., min_length=1)
    votes: list[CouncilVote] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Record:
        problems = []
        for w in self.tabling:
            if w.end > self.cut:
                problems.append(f"tabling {w.key}: ends {w.end}, after the cut {self.cut}")
        situations = {w.key for w in self.tabling}
        for v in self.votes:
            if v.date >= self.cut:
                problems.append(f"votes {v.key}: dated {v.date}, not before the cut {self.cut}")
            if v.situation not in situations:
                problems.append(f"votes {v.key}: situation {v.situation!r} not in tabling")
        for name, keys in (
            ("tabling", [w.key for w in self.tabling]),
            ("votes", [v.key for v in self.votes]),
        ):
            if len(set(keys)) != len(keys):
                problems.append(f"{name}: a key is used twice")
        dates = [v.date for v in self.votes]
        if dates != sorted(dates):
            problems.append("votes: not in date order")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def windows_before(self, date: dt.date | None) -> list[Window]:
        """The windows as known on ``date`` (all of them, as recorded, when None)."""
        if date is None:
            return list(self.tabling)
        return [w for w in (x.as_of(date) for x in self.tabling) if w is not None]


def parse_record(text: str | bytes, where: str = RECORD_FILE) -> Record:
    """A record from YAML text; a clear :class:`InputError` naming each problem otherwise."""
    data = load_yaml(text)
    try:
        return Record.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"- {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        ]
        raise InputError(f"{where}: {len(lines)} problem(s)\n" + "\n".join(lines)) from None


@lru_cache(maxsize=1)
def load_record() -> Record:
    """The record shipped with unsim (``unsim/council/record.yaml``)."""
    text = resources.files("unsim.council").joinpath(RECORD_FILE).read_bytes()
    return parse_record(text)
