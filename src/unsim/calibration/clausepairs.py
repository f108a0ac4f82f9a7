"""Separate votes on a clause paired with the vote on the whole draft, from the roll calls.

A *separate vote* is a recorded vote on a paragraph of a draft (``para``) or on an amendment to
it (``amend``); its *pair* is the recorded vote on the whole resolution that followed it. Each
state present at both gives one pair of votes: how it voted on the clause, and on the whole.
Those pairs are what the clause model is estimated on (:mod:`.clausefit`).

How a separate vote finds its vote on the whole, by the era of the data:

- sessions 1 to 39: a roll call's ``unres`` is the resolution's number with a letter per roll
  call (``R/27/3016A`` to ``R/27/3016E``); the vote on the whole is a roll call of the same
  number, the same day, after the separate vote (the Assembly votes on the whole last), that is
  not itself a separate vote (or is one only in name: "RES, AS AMENDED", "AS A WHOLE");
- sessions 40 and later: ``unres`` is the resolution's symbol (``R/58/196``); the vote on the
  whole is a roll call of the same symbol in the same session that is not a separate vote nor a
  procedural motion (no action, adjournment), on the same day if there is one after the separate
  vote, else the nearest (the data dates some votes on the whole at an earlier meeting: the
  DR Congo's resolution of 2002 on 5 December, its paragraph votes on 18 December). A vote on
  the whole whose title names another draft than the separate vote's is not its pair.

Every separate vote is listed: paired, or dropped with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from unsim.calibration.series import ALIASES, PROCEDURAL
from unsim.data import ABSTAIN, NO, YES

__all__ = [
    "CODES",
    "ClausePairs",
    "country_specific",
    "find_pairs",
    "pair_votes",
]

#: Votes as ordered categories: no 0, abstain 1, yes 2.
CODES = {NO: 0, ABSTAIN: 1, YES: 2}
#: Sessions from which ``unres`` is the resolution's own symbol.
SYMBOL_ERA = 40
_WHOLE_IN_NAME = re.compile(
    r"^\s*RES\b.*AS\s+(?:VARIOUSLY\s+|ORALLY\s+)?(?:REV\S*\s*&\s*)?AMENDED"
    r"|^\s*TO ADOPT (?:THE )?WHOLE\b|DRAFT RESOL\S*\s+AS\s+A\s+WHOLE"
    r"|^\s*TO ADOPT\b[^.]*?DRAFT RESOL[^.]*?AS (?:VARIOUSLY |ORALLY )?AMENDED",
    re.IGNORECASE,
)
#: An amendment's own text ("TO ADOPT THE USSR AMENDMENT TO ..."): not a vote on the whole.
_AMENDMENT = re.compile(r"^\s*TO ADOPT (?:THE |AN? )?[\w\-. ]*AMENDMENT", re.IGNORECASE)
#: The draft's document symbol in the text of sessions 1 to 39 ("DRAFT RESOL. II (A/1180)").
_SYMBOL = re.compile(
    r"(?:DRAFT\s+RESOL\S*|DRAFT\s+CONVENTION|RES(?:OLUTION)?)\s*(?:[A-Z]{1,4}\s+|[IVX]+\s+)?"
    r"\((A/[A-Z0-9./]+)",
    re.IGNORECASE,
)
_TITLE = re.compile(r"entitled\s*[_\"“]\s*([^<\"”]{4,200})", re.IGNORECASE)
_STOP = {
    "the", "of", "and", "in", "on", "to", "a", "an", "for", "by", "with", "resolution",
    "adopted", "general", "assembly", "draft", "united", "nations",
}  # fmt: skip


@dataclass(frozen=True)
class ClausePairs:
    """The separate votes paired with their vote on the whole, and those left out."""

    pairs: pd.DataFrame
    """one row per pair: rcid (the separate vote), whole (its vote on the whole), session,
    date, kind (paragraph or amendment), title, hr (a human-rights resolution), country (a
    country-specific human-rights resolution)"""
    dropped: list[dict[str, object]] = field(default_factory=list)
    """rcid, date and why, for each separate vote not paired"""

    @property
    def counts(self) -> dict[str, int]:
        """How many separate votes there were, how many paired, and the paired by kind
        (paragraph, amendment, human rights, country-specific)."""
        p = self.pairs
        return {
            "separate_votes": len(p) + len(self.dropped),
            "paired": len(p),
            "paragraph": int((p["kind"] == "paragraph").sum()),
            "amendment": int((p["kind"] == "amendment").sum()),
            "human_rights": int(p["hr"].sum()),
            "country_specific": int(p["country"].sum()),
        }


def _flags(rc: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    amend = pd.to_numeric(rc.get("amend", 0), errors="coerce").fillna(0) != 0
    para = pd.to_numeric(rc.get("para", 0), errors="coerce").fillna(0) != 0
    return amend, para


def _titles(rc: pd.DataFrame, separate: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(the draft's title where a separate vote's text names it, "entitled ...", carried to
    the later separate votes of the same symbol and day; that, else the roll call's text)."""
    descr = rc["descr"].fillna("").astype(str)
    # the last title named: a meeting's text often names a draft adopted without a vote first
    found = descr.map(lambda t: (_TITLE.findall(t) or [None])[-1]).where(separate)
    key = rc["unres"].astype(str) + "|" + rc["date"].astype(str)
    carried = found.groupby(key).transform(lambda s: s.ffill().bfill()).where(separate)
    short = rc["short"].fillna("").astype(str) if "short" in rc else ""
    return carried, carried.fillna(descr.str[:200] + " | " + short)


def _words(text: str) -> set[str]:
    """The stems (first five letters) of a text's words, less the common ones."""
    return {w[:5] for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in _STOP}


def country_specific(text: str, countries: str) -> bool:
    """Whether a resolution's text names the human-rights situation of a country:
    "situation of human rights in ...", "human rights in ...", "HUMAN RIGHTS, <country>";
    ``countries`` a pattern of the countries' names."""
    if re.search(r"situation\s+of\s+human\s*rights", text, flags=re.IGNORECASE):
        return True
    named = (
        r"human\s*rights\s*(?:situation\s+)?(?:in\s+|,\s*|--\s*)(?:reports?[\s,\-]+)?"
        rf"(?:the\s+)?(?:{countries})"
    )
    return bool(re.search(named, text, flags=re.IGNORECASE))


def country_names(members: pd.DataFrame | None) -> str:
    """A pattern of the member states' names (and the names the roll calls use for some)."""
    names = [re.escape(str(n)) for n in members["name"]] if members is not None else []
    return "|".join([*ALIASES.values(), *names])


def _roll_calls(roll_calls: pd.DataFrame, before: str | pd.Timestamp | None) -> pd.DataFrame:
    rc = roll_calls[roll_calls["date"].notna() & roll_calls["unres"].notna()].copy()
    if before is not None:
        rc = rc[rc["date"] < pd.Timestamp(before)]
    amend, para = _flags(rc)
    descr = rc["descr"].fillna("").astype(str)
    whole_in_name = (
        descr.str.contains(_WHOLE_IN_NAME)
        & ~descr.str.contains(_AMENDMENT)
        & (rc["session"] < SYMBOL_ERA)
    )
    rc["separate"] = (amend | para) & ~whole_in_name
    rc["kind"] = np.where(amend, "amendment", "paragraph")
    rc["procedural"] = descr.str.contains(PROCEDURAL, case=False, regex=True)
    old = rc["session"] < SYMBOL_ERA
    rc["key"] = np.where(
        old, rc["unres"].astype(str).str.replace(r"[A-Z]+$", "", regex=True), rc["unres"]
    )
    rc["named"], rc["title"] = _titles(rc, rc["separate"])
    rc["symbol"] = descr.map(lambda t: (_SYMBOL.findall(t) or [""])[0].upper()).where(old, "")
    return rc.sort_values("rcid")


def _whole_for(sep: pd.Series, same: pd.DataFrame) -> tuple[pd.Series | None, str]:
    """The vote on the whole of separate vote ``sep`` among ``same`` (its symbol's other roll
    calls), or None and why not."""
    cands = same[~same["separate"] & ~same["procedural"]]
    if int(sep["session"]) < SYMBOL_ERA:  # ``same``: the same number or document that day
        after = cands[(cands["date"] == sep["date"]) & (cands["rcid"] > sep["rcid"])]
        if after.empty:
            return None, "no recorded vote on the whole resolution after it the same day"
        return after.iloc[0], ""
    cands = cands[cands["session"] == sep["session"]]
    if cands.empty:
        return None, "no recorded vote on the whole resolution in the session"
    later = cands[(cands["date"] == sep["date"]) & (cands["rcid"] > sep["rcid"])]
    if not later.empty:
        return later.iloc[0], ""
    gap = (cands["date"] - sep["date"]).abs()
    whole = cands.loc[gap.idxmin()]
    named = sep["named"] if isinstance(sep["named"], str) else ""
    ours, theirs = _words(named), _words(str(whole["title"]))
    if ours and theirs and not ours & theirs:
        return None, f"its symbol's vote on the whole (rcid {whole['rcid']}) is on another draft"
    return whole, ""


def _subject(
    sep: pd.Series, whole: pd.Series, same: pd.DataFrame, hr_rcids: set[int], countries: str
) -> tuple[bool, bool]:
    """(a human-rights resolution, a country-specific one), from the text of the pair and of
    every roll call of its symbol that day or, from session 40, in the session (a vote on the
    whole recorded twice may carry its title only once) and their issue codes."""
    if int(sep["session"]) < SYMBOL_ERA:
        rows = pd.DataFrame([sep, whole])
    else:
        rows = same[same["session"] == sep["session"]]
    text = " | ".join(rows["title"].astype(str))
    coded = bool(set(rows["rcid"].astype(int)) & hr_rcids)
    hr = coded or bool(re.search(r"human\s*rights", text, flags=re.IGNORECASE))
    return hr, hr and country_specific(text, countries)


def find_pairs(
    roll_calls: pd.DataFrame,
    before: str | pd.Timestamp | None = None,
    hr_rcids: set[int] | None = None,
    members: pd.DataFrame | None = None,
) -> ClausePairs:
    """Every separate vote before ``before``, paired with its vote on the whole (module doc).
    ``hr_rcids``: the roll calls coded human rights (the issues file), besides the text;
    ``members``: the member states, whose names mark a country-specific resolution."""
    rc = _roll_calls(roll_calls, before)
    by_key = {k: g for k, g in rc.groupby("key", sort=False)}
    rows: list[dict[str, object]] = []
    dropped: list[dict[str, object]] = []
    countries = country_names(members)
    by_symbol = {k: g for k, g in rc[rc["symbol"] != ""].groupby("symbol", sort=False)}
    for _, sep in rc[rc["separate"]].iterrows():
        same = by_key[sep["key"]]
        if sep["symbol"]:
            same = pd.concat([same, by_symbol[sep["symbol"]]]).drop_duplicates("rcid")
        whole, why = _whole_for(sep, same)
        date = str(pd.Timestamp(sep["date"]).date())
        if whole is None:
            dropped.append({"rcid": int(sep["rcid"]), "date": date, "why": why})
            continue
        hr, country = _subject(sep, whole, same, hr_rcids or set(), countries)
        rows.append(
            {
                "rcid": int(sep["rcid"]),
                "whole": int(whole["rcid"]),
                "session": int(sep["session"]),
                "date": date,
                "unres": str(sep["unres"]),
                "kind": str(sep["kind"]),
                "title": str(sep["title"])[:120],
                "hr": hr,
                "country": country,
            }
        )
    return ClausePairs(pd.DataFrame(rows, columns=_COLUMNS), dropped)


_COLUMNS = ["rcid", "whole", "session", "date", "unres", "kind", "title", "hr", "country"]


def pair_votes(votes: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Each state's votes on each pair where it voted yes, no or abstained on both: columns
    pair (row of ``pairs``), ccode, whole and clause (``CODES``: no 0, abstain 1, yes 2)."""
    present = votes[votes["vote"].isin(list(CODES))][["rcid", "ccode", "vote"]]
    code = present["vote"].map(CODES).astype("int8")
    present = present.assign(code=code)[["rcid", "ccode", "code"]]
    link = pd.DataFrame({"pair": np.arange(len(pairs)), "rcid": pairs["rcid"].to_numpy()})
    clause = link.merge(present, on="rcid").rename(columns={"code": "clause"})
    link_w = pd.DataFrame({"pair": np.arange(len(pairs)), "rcid": pairs["whole"].to_numpy()})
    whole = link_w.merge(present, on="rcid").rename(columns={"code": "whole"})
    both = clause.drop(columns="rcid").merge(whole.drop(columns="rcid"), on=["pair", "ccode"])
    return both[["pair", "ccode", "whole", "clause"]].reset_index(drop=True)
