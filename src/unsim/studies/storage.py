"""A sweep's folder: ``metadata.json``, one small file per finished task of points (so that an
interrupted sweep resumes where it stopped) and ``sweep.parquet``; every file written atomically
with unsim's mark, never over a file unsim did not write (:mod:`unsim.ownership`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from unsim.errors import InputError
from unsim.ownership import json_text, write_output, write_parquet, write_text_output
from unsim.results.saved import PointRecord, SweepMeta, check_columns, check_shape, read_mapping
from unsim.safeio import FileReadError, read_json
from unsim.safetables import read_parquet_table
from unsim.studies.base import Base, canonical

__all__ = [
    "POINTS_DIR",
    "TABLE_NAME",
    "load_sweep",
    "point_key",
    "read_saved_points",
    "write_json",
    "write_table",
]

POINTS_DIR = "points"
TABLE_NAME = "sweep.parquet"


def write_json(path: Path, data: Mapping[str, Any], indent: int | None = 2) -> None:
    """Write ``data`` as JSON with unsim's mark, atomically (over a file unsim wrote only)."""
    write_text_output(path, "json", json_text(data, indent=indent))


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write a sweep table as Parquet with unsim's mark, atomically (over a file unsim wrote
    only)."""
    write_output(path, "parquet", lambda tmp: write_parquet(parquet_safe(df), tmp))


def parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Parameter columns that mix types (numbers and words) are stored as text."""
    out = df.copy()
    out.attrs = {}
    for col in out.columns:
        if out[col].dtype == object and len({type(v) for v in out[col]}) > 1:
            out[col] = out[col].astype(str)
    return out


def point_key(base: Base, point: Mapping[str, Any], runs: int, seed: int) -> str:
    """Identity of a point's result: the scenario, the values set, the runs and the seed."""
    text = canonical({"scenario": base.digest, "point": dict(point), "runs": runs, "seed": seed})
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def read_saved_points(pdir: Path) -> dict[str, dict[str, Any]]:
    """The records saved in a sweep's ``points`` folder, by point key: files of one point
    (``<key>.json``) or of a task's points (``{"entries": [{"key", "record", ...}]}``). Each
    file is read within bounds and each record checked (:class:`unsim.results.saved.PointRecord`): a
    file that is not as unsim writes it is an :class:`InputError` naming it (deleting it
    computes its points again)."""
    saved: dict[str, dict[str, Any]] = {}
    for path in sorted(pdir.glob("*.json")):
        try:
            data = read_json(path)
        except FileReadError as exc:
            raise InputError(f"{path}: {exc.reason}; {_AGAIN}") from None
        records: list[tuple[str, Any]] = []
        if isinstance(data, dict) and "record" in data:
            records.append((path.stem, data["record"]))
        entries = data.get("entries", []) if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("key"), str) and "record" in e for e in entries
        ):
            raise InputError(
                f"{path}: not a file of points as unsim writes it (a mapping with a list of "
                f"entries, each with a key and a record); {_AGAIN}"
            )
        records += [(e["key"], e["record"]) for e in entries]
        for key, record in records:
            try:
                check_shape(PointRecord, record, path)
            except InputError as err:
                raise InputError(f"{err}; {_AGAIN}") from None
            saved[key] = record
    return saved


_AGAIN = "delete the file to compute its points again"


def load_sweep(folder: str | Path) -> pd.DataFrame:
    """The table of a saved sweep (with its metadata in ``attrs``), read within bounds and
    checked (:mod:`unsim.results.saved`): :class:`InputError` naming the file if it is not as unsim
    writes it."""
    folder = Path(folder)
    meta_path = folder / "metadata.json"
    meta = read_mapping(meta_path, "a finished sweep")
    info: SweepMeta = check_shape(SweepMeta, meta, meta_path)
    path = folder / TABLE_NAME
    try:
        df = read_parquet_table(path)
    except FileReadError as exc:
        if exc.missing:
            raise InputError(f"{folder}: not a finished sweep ({TABLE_NAME} missing)") from None
        raise InputError(f"{path}: {exc.reason}") from None
    params = list(info.params)
    numeric = [c for c in df.columns if c not in params and str(c).endswith(_NUMBERS)]
    check_columns(df, path, ["point", *params, "runs"], ["point", "runs", *numeric])
    df.attrs = {"params": params, "seed": info.seed, "labels": dict(info.labels or {})}
    return df


#: The endings of a sweep table's columns of numbers (``<outcome>_p``, ``<stage>_yes_mean``...).
_NUMBERS = ("_p", "_ci_low", "_ci_high", "_mean")
