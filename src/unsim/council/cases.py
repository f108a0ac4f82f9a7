"""The Council votes of the record as cases to fit and score, member by member.

A case is one Council vote on a situation: its 15 members' votes (Y, N, A), and what was known
of each member before the vote, from the earlier votes on the same situation in the record: a
permanent member that abstained on or voted against an earlier draft is a *patron* of the
target, an elected member that did so a *dissenter*. The three recorded referral votes are read
from the real data file (``unsc_icc_votes_before_2014-11.csv``, by member name); the others are
listed in the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from unsim.council.record import PERMANENT, CouncilVote, Record, load_record
from unsim.errors import InputError
from unsim.scenario.schema import World

VOTES_FILE = "unsc_icc_votes_before_2014-11.csv"
OUTCOMES = ("Y", "N", "A")

#: Names in the data file that differ from the world's state names.
ALIASES = {
    "Russian Federation": "RUS",
    "Republic of Korea": "KOR",
    "United Kingdom": "GBR",
    "United States": "USA",
    "Tanzania": "TZA",
}


@dataclass(frozen=True)
class VoteCase:
    """A recorded Council vote and what was known of its members before it."""

    key: str
    date: dt.date
    target: str
    situation: str
    referral: bool
    votes: dict[str, str]  #: ISO3 -> Y, N or A
    patrons: tuple[str, ...]  #: permanent members that dissented on the situation before
    dissenters: tuple[str, ...]  #: elected members that did
    context: bool = False  #: kept for what it says about later votes; not scored
    draft: str = ""
    sources: tuple[str, ...] = ()

    @property
    def members(self) -> list[str]:
        """The ISO3 codes of the members that voted, sorted."""
        return sorted(self.votes)


def _codes(names: str, world: World, where: str) -> list[str]:
    by_name = {s.name: s.iso3 for s in world.states}
    out = []
    for name in (n.strip() for n in str(names).split(";")):
        if not name or name.lower() == "nan":
            continue
        code = ALIASES.get(name) or by_name.get(name)
        if code is None:
            raise InputError(f"{where}: unknown member name {name!r}; add it to ALIASES")
        out.append(code)
    return out


def _from_data_file(vote: CouncilVote, table: pd.DataFrame, world: World, path: Path) -> dict:
    """The members' votes of ``vote`` from the data file's row of its date."""
    rows = table[table["date"] == vote.date.isoformat()]
    if len(rows) != 1:
        raise InputError(f"{path}: expected one vote dated {vote.date}, found {len(rows)}")
    row = rows.iloc[0]
    where = f"{path}, vote of {vote.date}"
    votes: dict[str, str] = {}
    for column, letter in (("yes", "Y"), ("no", "N"), ("abstain", "A")):
        names = str(row[f"{column}_members"])
        if names.strip().lower() == "all 15 members":
            if vote.council is None:
                raise InputError(f"{where}: 'all 15 members' needs the record's council list")
            votes.update(dict.fromkeys(vote.council, letter))
        else:
            votes.update(dict.fromkeys(_codes(names, world, where), letter))
    counts = {k: int(float(row[c])) for k, c in (("Y", "yes"), ("N", "no"), ("A", "abstain"))}
    recorded = {k: sum(v == k for v in votes.values()) for k in OUTCOMES}
    if len(votes) != 15 or recorded != counts:
        raise InputError(
            f"{where}: the members listed ({len(votes)}: {recorded}) do not match the tally "
            f"{counts}"
        )
    return votes


def vote_cases(
    data_dir: str | Path,
    world: World,
    record: Record | None = None,
    before: dt.date | None = None,
) -> list[VoteCase]:
    """Every Council vote of the record dated before ``before`` (all when None), context votes
    included (``VoteCase.context``), with each member's patron or dissenter status."""
    record = record if record is not None else load_record()
    path = Path(data_dir) / VOTES_FILE
    table: pd.DataFrame | None = None
    cases: list[VoteCase] = []
    for vote in record.votes:
        if before is not None and vote.date >= before:
            continue
        if vote.members == "data_file":
            if table is None:
                table = _read_votes(path)
            votes = _from_data_file(vote, table, world, path)
        else:
            votes = vote.members.letters()  # type: ignore[union-attr]
        earlier = [c for c in cases if c.situation == vote.situation and c.date < vote.date]
        dissented = {m for c in earlier for m, v in c.votes.items() if v != "Y"}
        cases.append(
            VoteCase(
                key=vote.key,
                date=vote.date,
                target=vote.target,
                situation=vote.situation,
                referral=vote.referral,
                votes=votes,
                patrons=tuple(sorted(m for m in votes if m in dissented and m in PERMANENT)),
                dissenters=tuple(sorted(m for m in votes if m in dissented and m not in PERMANENT)),
                context=vote.context,
                draft=vote.draft,
                sources=tuple(vote.sources),
            )
        )
    return cases


def scored(cases: list[VoteCase]) -> list[VoteCase]:
    """The cases that are fitted and scored (context votes left out)."""
    return [c for c in cases if not c.context]


def _read_votes(path: Path) -> pd.DataFrame:
    """The data file of the Council's referral votes, read within unsim's limits."""
    from unsim.safeio import FileReadError
    from unsim.safetables import read_csv_table

    try:
        return read_csv_table(path, dtype=str)
    except FileReadError as exc:
        if exc.missing:
            raise InputError(f"{path}: not found (see README, Real data)") from None
        raise InputError(f"{path}: cannot read the Council votes: {exc.reason}") from None
