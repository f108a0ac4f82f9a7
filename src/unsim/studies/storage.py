"""A sweep's folder: ``metadata.json``, one small file per finished task of points (so that an
interrupted sweep resumes where it stopped) and ``sweep.parquet``; every file written atomically
with unsim's mark, never over a file unsim did not write (:mod:`unsim.ownership`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from unsim.errors import InputError
from unsim.ownership import json_text, write_output, write_parquet, write_text_output
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
    (``<key>.json``) or of a task's points (``{"entries": [{"key", "record", ...}]}``);
    unreadable files are skipped (their points are computed again)."""
    saved: dict[str, dict[str, Any]] = {}
    for path in sorted(pdir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        if "record" in data:
            saved[path.stem] = data["record"]
        for entry in data.get("entries", []):
            if isinstance(entry, dict) and "key" in entry and "record" in entry:
                saved[str(entry["key"])] = entry["record"]
    return saved


def load_sweep(folder: str | Path) -> pd.DataFrame:
    """The table of a saved sweep (with its metadata in ``attrs``)."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        df = pd.read_parquet(folder / TABLE_NAME)
    except FileNotFoundError as exc:
        raise InputError(f"{folder}: not a finished sweep ({exc.filename} missing)") from None
    df.attrs = {
        "params": list(meta.get("params", {})),
        "seed": meta.get("seed"),
        "labels": dict(meta.get("labels") or {}),
    }
    return df
