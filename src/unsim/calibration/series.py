"""Finding the recorded plenary votes of a country-specific resolution series.

A *series* is the resolution the General Assembly adopts year after year on one country, such as
"Situation of human rights in the Islamic Republic of Iran". Its recorded plenary votes are found in
the roll calls by their text (``descr`` or ``short``): the words "human rights" (or another
``topic``) and the country's name (or a ``match`` text given by the user). Votes on an amendment or
a paragraph (``amend``, ``para``) and procedural motions (no-action motions, adjournments) are not
votes on the resolution and are left out. The data also holds some roll calls twice; duplicates
are dropped: the same resolution symbol (``unres``) on the same date, or the same vote of every
state on the same date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from unsim.errors import InputError, did_you_mean

__all__ = [
    "ALIASES",
    "COMPARABLE",
    "SeriesRollCalls",
    "comparable_roll_calls",
    "comparable_series_of",
    "find_series",
    "series_pattern",
]

#: How a country is named in the roll calls' descriptions, when its member-table name differs.
ALIASES: dict[str, str] = {
    "PRK": r"Democratic People",
    "IRN": r"(?:Islamic Republic of )?Iran\b",
    "MMR": r"Myanmar|Burma",
    "SYR": r"Syria",
    "BLR": r"Belarus",
    "COD": r"Democratic Republic of the Congo|Democratic Congo",
    "TKM": r"Turkmenistan",
    "UZB": r"Uzbekistan",
    "SDN": r"\bSudan\b",
    "IRQ": r"\bIraq\b",
    "CUB": r"\bCuba\b",
    "NGA": r"Nigeria",
}
#: The series whose votes, taken together, are the comparable high-profile votes (absences).
COMPARABLE = ("PRK", "IRN", "MMR", "SYR", "BLR", "COD", "TKM", "UZB", "SDN", "IRQ", "CUB")
#: Text of procedural motions that are not the vote on the resolution itself.
PROCEDURAL = r"no[- ]action|motion|adjourn"


@dataclass(frozen=True)
class SeriesRollCalls:
    """The roll calls of a series: those used, and those dropped with the reason."""

    iso3: str
    pattern: str
    topic: str
    used: pd.DataFrame
    """rcid, date, session, unres, short: a row per recorded vote on the resolution, oldest first"""
    dropped: list[dict[str, object]] = field(default_factory=list)
    """rcid, date and why, for each roll call matched by the text but left out"""

    @property
    def rcids(self) -> list[int]:
        """The roll-call ids of the votes used."""
        return [int(r) for r in self.used["rcid"]]

    def describe(self) -> str:
        """The series' roll calls in words: those used (rcid, date, resolution), then those
        dropped and why."""
        lines = [f"series {self.iso3}: {len(self.used)} recorded plenary votes"]
        for _, r in self.used.iterrows():
            lines.append(f"  rcid {int(r['rcid'])}  {pd.Timestamp(r['date']).date()}  {r['unres']}")
        for d in self.dropped:
            lines.append(f"  dropped rcid {d['rcid']}  {d['date']}: {d['why']}")
        return "\n".join(lines)


def series_pattern(iso3: str, members: pd.DataFrame | None = None, match: str | None = None) -> str:
    """The regular expression that names the country in a roll call's text."""
    if match:
        return re.escape(match)
    code = iso3.upper()
    if code in ALIASES:
        return ALIASES[code]
    if members is not None:
        names = members.set_index("iso3")["name"]
        if code in names.index:
            return re.escape(str(names[code]))
        hint = did_you_mean(code, list(names.index))
        raise InputError(
            f"--series: {iso3!r} is not the ISO3 code of a member state"
            + (f"; did you mean {hint!r}?" if hint else "")
        )
    raise InputError(f"--series: no known name for {iso3!r}; give --match TEXT")


def _text(roll_calls: pd.DataFrame) -> pd.Series:
    descr = roll_calls["descr"].fillna("").astype(str)
    if "short" not in roll_calls:
        return descr
    return descr + " | " + roll_calls["short"].fillna("").astype(str)


def find_series(
    roll_calls: pd.DataFrame,
    iso3: str,
    votes: pd.DataFrame | None = None,
    members: pd.DataFrame | None = None,
    match: str | None = None,
    topic: str = "human rights",
    before: str | pd.Timestamp | None = None,
) -> SeriesRollCalls:
    """The recorded plenary votes on the resolution series about ``iso3`` (see the module).

    ``votes`` (one row per state and roll call) lets duplicates with identical votes on the same
    date be found; ``before`` keeps the roll calls dated strictly before it.
    """
    pattern = series_pattern(iso3, members, match)
    text = _text(roll_calls)
    # the country named as the subject: "human rights in (the) X", "HUMAN RIGHTS, (REPORTS,) X",
    # "HUMAN RIGHTS--X"; not "the human rights of the X people" (another resolution)
    subject = (
        re.escape(topic).replace(r"\ ", r"\s+")
        + r"(?:\s+situation)?[\s,:\-]+(?:reports?[\s,\-]+)?(?:(?:in|on)\s+)?(?:the\s+)?"
        + f"(?:{pattern})"
    )
    hit = text.str.contains(subject, case=False, regex=True)
    candidates = roll_calls[hit & roll_calls["date"].notna()]
    if before is not None:
        candidates = candidates[candidates["date"] < pd.Timestamp(before)]
    candidates = candidates.sort_values(["date", "rcid"])
    dropped: list[dict[str, object]] = []
    keep: list[int] = []
    seen_unres: set[tuple[object, object]] = set()
    seen_votes: dict[tuple[object, bytes], int] = {}
    vectors = _vote_vectors(votes, candidates["rcid"].tolist()) if votes is not None else {}
    for _, rc in candidates.iterrows():
        rcid = int(rc["rcid"])
        date = str(pd.Timestamp(rc["date"]).date())
        unres, vec = rc.get("unres"), vectors.get(rcid)
        why = _drop_reason(rc, date, seen_unres, seen_votes, vec)
        if why is not None:
            dropped.append({"rcid": rcid, "date": date, "why": why})
            continue
        keep.append(rcid)
        if pd.notna(unres):
            seen_unres.add((unres, date))
        if vec is not None:
            seen_votes[(date, vec)] = rcid
    used = candidates[candidates["rcid"].isin(keep)]
    cols = [c for c in ("rcid", "date", "session", "unres", "short") if c in used.columns]
    return SeriesRollCalls(
        iso3=iso3.upper(),
        pattern=pattern,
        topic=topic,
        used=used[cols].reset_index(drop=True),
        dropped=dropped,
    )


def _drop_reason(
    rc: pd.Series,
    date: str,
    seen_unres: set[tuple[object, object]],
    seen_votes: dict[tuple[object, bytes], int],
    vec: bytes | None,
) -> str | None:
    """Why a roll call is not a vote on the resolution itself, or None if it is one."""
    for col in ("para", "amend"):
        if col in rc and pd.notna(rc[col]) and int(rc[col]) != 0:
            return f"a vote on {'an amendment' if col == 'amend' else 'a paragraph'}"
    if re.search(PROCEDURAL, str(rc["descr"]), flags=re.IGNORECASE):
        return "a procedural motion (no action, adjournment), not the resolution"
    unres = rc.get("unres")
    if pd.notna(unres) and (unres, date) in seen_unres:
        return f"duplicate: {unres} on {date} already used"
    if vec is not None and (date, vec) in seen_votes:
        return f"duplicate: the same votes as rcid {seen_votes[(date, vec)]} on {date}"
    return None


def _vote_vectors(votes: pd.DataFrame, rcids: list[int]) -> dict[int, bytes]:
    """Each roll call's votes, sorted by state, as bytes (equal bytes: the same vote)."""
    rows = votes[votes["rcid"].isin(rcids)].sort_values(["rcid", "ccode"])
    out: dict[int, bytes] = {}
    for rcid, g in rows.groupby("rcid"):
        out[int(rcid)] = g["ccode"].to_numpy().tobytes() + g["vote"].to_numpy().tobytes()
    return out


def comparable_roll_calls(
    roll_calls: pd.DataFrame,
    votes: pd.DataFrame | None = None,
    before: str | pd.Timestamp | None = None,
    since: str | pd.Timestamp | None = None,
) -> list[int]:
    """Roll calls of every country-specific human-rights series in :data:`COMPARABLE`."""
    return sorted(set(comparable_series_of(roll_calls, before, since)))


def comparable_series_of(
    roll_calls: pd.DataFrame,
    before: str | pd.Timestamp | None = None,
    since: str | pd.Timestamp | None = None,
) -> dict[int, str]:
    """The roll calls of :func:`comparable_roll_calls`, each with the series it belongs to."""
    out: dict[int, str] = {}
    for code in COMPARABLE:
        # duplicates by symbol and date only: comparing vote vectors costs more than it gains
        found = find_series(roll_calls, code, None, before=before)
        used = found.used
        if since is not None:
            used = used[used["date"] >= pd.Timestamp(since)]
        out.update((int(r), code) for r in used["rcid"] if int(r) not in out)
    return out
