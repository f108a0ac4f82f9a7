"""Locating and loading the real UN voting data.

The data is not part of the package: a user downloads it from the public sources listed in the
README ("Real data") into a folder, by default ``../shared/data`` next to the repository. The files:

- ``unga_votes_1946_2014-09.csv.gz``: one row per state and General Assembly roll call
  (Voeten, Strezhnev and Bailey, Harvard Dataverse hdl:1902.1/12379);
- ``unga_roll_calls_1946_2014-09.csv``: one row per roll call, with its description;
- ``un_member_states_2014.csv``: the 193 member states with ISO3 and Correlates of War codes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from unsim.errors import DataNotFoundError, InputError

__all__ = [
    "ABSENT",
    "ABSTAIN",
    "DATA_ENV",
    "MEMBERS_FILE",
    "NO",
    "NOT_MEMBER",
    "ROLL_CALLS_FILE",
    "VOTES_FILE",
    "VOTE_CODES",
    "YES",
    "default_data_dir",
    "dprk_plenary_roll_calls",
    "load_members",
    "load_roll_calls",
    "load_votes",
    "resolve_data_file",
]

#: Environment variable naming the data folder.
DATA_ENV = "UNSIM_DATA_DIR"
VOTES_FILE = "unga_votes_1946_2014-09.csv.gz"
ROLL_CALLS_FILE = "unga_roll_calls_1946_2014-09.csv"
MEMBERS_FILE = "un_member_states_2014.csv"

#: Vote codes of the Voeten data.
YES, ABSTAIN, NO, ABSENT, NOT_MEMBER = 1, 2, 3, 8, 9
VOTE_CODES: dict[int, str] = {
    YES: "yes",
    ABSTAIN: "abstain",
    NO: "no",
    ABSENT: "absent",
    NOT_MEMBER: "not a member",
}

ISSUE_FLAGS = ("me", "nu", "di", "hr", "co", "ec")
_REPO_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path:
    """The folder holding the real UN data.

    ``$UNSIM_DATA_DIR`` when set; otherwise ``../shared/data`` relative to the current directory if
    it exists, else relative to the repository root. Raises :class:`DataNotFoundError` naming every
    place looked at when none of them exists.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataNotFoundError(f"${DATA_ENV} names {path}, which is not a folder")
        return path
    candidates = [Path.cwd().parent / "shared" / "data", _REPO_ROOT.parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    looked = ", ".join(dict.fromkeys(str(c) for c in candidates))  # each place once
    raise DataNotFoundError(
        f"real UN data not found (looked in {looked}); download it as the README says "
        f'("Real data") and set ${DATA_ENV} to its folder'
    )


def resolve_data_file(path: str | Path | None, name: str, near: str | Path | None = None) -> Path:
    """``path`` if given, else ``name`` next to ``near`` (a file), else in the default folder."""
    if path is not None:
        return Path(path)
    if near is not None:
        sibling = Path(near).parent / name
        if sibling.exists():
            return sibling
    return default_data_dir() / name


def _read_csv(path: str | Path, required: Iterable[str], what: str, **kwargs: Any) -> pd.DataFrame:
    """A data file (CSV, plain or gzip-compressed) read within the limits of
    :mod:`unsim.safetables`, with the columns it needs."""
    from unsim.safeio import FileReadError
    from unsim.safetables import read_csv_table

    path = Path(path)
    try:
        df = read_csv_table(path, **kwargs)
    except FileReadError as exc:
        if exc.missing:
            raise DataNotFoundError(f"{path}: {what} file not found") from None
        raise InputError(f"{path}: cannot read the {what} file: {exc.reason}") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: the {what} file lacks column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, df.columns))}"
        )
    return df


def _integer_column(df: pd.DataFrame, column: str, path: Path, what: str) -> pd.Series:
    values = pd.to_numeric(df[column], errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{path}: line {row + 2}, column {column!r} of the {what} file: "
            f"{df[column].iloc[row]!r} is not an integer"
        )
    return values.astype("int64")


def _date_column(
    df: pd.DataFrame, column: str, path: Path, what: str, fmt: str | None
) -> pd.Series:
    """Dates parsed with ``fmt``; an empty cell gives NaT, anything else unparseable an error."""
    parsed = pd.to_datetime(df[column], format=fmt, errors="coerce")
    bad = parsed.isna() & df[column].notna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        expected = {"%m/%d/%Y": "month/day/year", "%Y-%m-%d": "YYYY-MM-DD"}.get(fmt or "", "a date")
        raise InputError(
            f"{path}: line {row + 2}, column {column!r} of the {what} file: "
            f"{df[column].iloc[row]!r} is not a date (expected {expected})"
        )
    return parsed


def load_votes(path: str | Path) -> pd.DataFrame:
    """The roll-call votes: one row per state and roll call.

    Columns as in the file (rcid, session, vote, ccode, date, unres, issue flags me/nu/di/hr/co/ec,
    year...), with ``date`` as datetime, ``vote`` an integer in :data:`VOTE_CODES` and the issue
    flags as 0/1 integers. A few rows of the published file have no date (NaT here); code that
    cuts the data at a date leaves them out.
    """
    path = Path(path)
    what = "votes"
    df = _read_csv(path, ("rcid", "session", "vote", "ccode", "date"), what, low_memory=False)
    for col in ("rcid", "session", "vote", "ccode"):
        df[col] = _integer_column(df, col, path, what)
    bad = ~df["vote"].isin(list(VOTE_CODES))
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        allowed = ", ".join(f"{k} ({v})" for k, v in VOTE_CODES.items())
        raise InputError(
            f"{path}: line {row + 2}, column 'vote' of the votes file: "
            f"{df['vote'].iloc[row]!r} is not a vote code; allowed: {allowed}"
        )
    df["date"] = _date_column(df, "date", path, what, "%m/%d/%Y")
    for flag in ISSUE_FLAGS:
        if flag in df.columns:
            values = pd.to_numeric(df[flag], errors="coerce")
            odd = values.isna() & df[flag].notna()
            if odd.any():  # a few cells carry stray quotes (``0\"``): keep their leading digit
                lead = df.loc[odd, flag].astype(str).str.extract(r"^\s*([01])", expand=False)
                values[odd] = pd.to_numeric(lead, errors="coerce")
            df[flag] = values.fillna(0).astype("int8")
    return df


def load_members(path: str | Path) -> pd.DataFrame:
    """The member states of 2014: iso3, iso2, name, cow, un_regional_group, bloc flags..."""
    path = Path(path)
    what = "member states"
    df = _read_csv(path, ("iso3", "cow", "name", "un_regional_group"), what)
    df["cow"] = _integer_column(df, "cow", path, what)
    df["iso3"] = df["iso3"].astype(str).str.strip().str.upper()
    bad = ~df["iso3"].str.fullmatch(r"[A-Z]{3}")
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{path}: line {row + 2}, column 'iso3' of the {what} file: "
            f"{df['iso3'].iloc[row]!r} is not an ISO 3166-1 alpha-3 code"
        )
    for col in ("iso3", "cow"):
        dupes = df[col][df[col].duplicated()]
        if len(dupes):
            raise InputError(f"{path}: {col} {dupes.iloc[0]!r} appears twice in the {what} file")
    return df


def load_roll_calls(path: str | Path) -> pd.DataFrame:
    """One row per roll call: rcid, session, date (datetime), unres, amend, para, short, descr."""
    path = Path(path)
    what = "roll calls"
    df = _read_csv(path, ("rcid", "session", "date", "descr"), what)
    df["rcid"] = _integer_column(df, "rcid", path, what)
    df["date"] = _date_column(df, "date", path, what, "%Y-%m-%d")
    for col in ("amend", "para"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int8")
    return df


def dprk_plenary_roll_calls(roll_calls: pd.DataFrame) -> pd.DataFrame:
    """The recorded plenary votes on resolutions on human rights in the DPRK, oldest first.

    Found by their description ("human rights" and "Democratic People"), keeping votes on a whole
    resolution (not on an amendment or a paragraph).
    """
    descr = roll_calls["descr"].astype(str)
    hit = descr.str.contains("human rights", case=False, regex=False) & descr.str.contains(
        "Democratic People", case=False, regex=False
    )
    for col in ("amend", "para"):
        if col in roll_calls.columns:
            hit &= pd.to_numeric(roll_calls[col], errors="coerce").fillna(0) == 0
    return roll_calls[hit].sort_values(["date", "rcid"]).reset_index(drop=True)
