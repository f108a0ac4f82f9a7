"""Other views of a session: its data-only variant, the paired difference of two runs of it
(every draft's and the joint outcomes, the file's ``joint_outcomes`` included) and a session's
results read back from its folder (for ``unsim report``).

The data-only session (``unsim SESSION.yaml --data-only``) runs every draft with every assumption
it states removed (``unsim.engine.assumptions.data_only``) on the session's linkage and seeds:
run r of each draft pairs with run r of the session as given.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from unsim.errors import InputError
from unsim.results.stats import paired_difference
from unsim.results.tables import Results
from unsim.session.load import LoadedSession


def data_only_session(loaded: LoadedSession) -> LoadedSession:
    """``loaded`` with every draft data-only (the linkage, the seeds and the rest kept)."""
    from unsim.engine.assumptions import data_only

    drafts = {name: data_only(d) for name, d in loaded.drafts.items()}
    return dataclasses.replace(loaded, drafts=drafts)


def joint_values(loaded: LoadedSession, table: pd.DataFrame) -> dict[str, NDArray[Any]]:
    """The file's ``joint_outcomes`` run by run over a joint run table."""
    from unsim.session.expr import evaluate, parse
    from unsim.session.load import session_columns

    columns = session_columns(loaded.drafts, loaded.session.world)  # type: ignore[arg-type]
    cols = {c: table[c].to_numpy() for c in table.columns if c != "run"}
    out: dict[str, NDArray[Any]] = {}
    for name, text in loaded.session.joint_outcomes.items():
        value = evaluate(parse(text, columns), cols)
        out[name] = np.broadcast_to(value, (len(table),))
    return out


def session_outcomes(loaded: LoadedSession, table: pd.DataFrame) -> dict[str, NDArray[Any]]:
    """Every outcome of a session, run by run: each draft's adoption and plenary yes votes
    (``NAME.adopted``, ``NAME.plenary_yes``), ``all_adopted``, ``adopted_count`` and the file's
    ``joint_outcomes``."""
    out: dict[str, NDArray[Any]] = {}
    for name in loaded.drafts:
        for col in ("adopted", "adopted_without_vote", "plenary_yes"):
            if f"{name}.{col}" in table:
                out[f"{name}.{col}"] = table[f"{name}.{col}"].to_numpy()
    out["all_adopted"] = table["all_adopted"].to_numpy()
    out["adopted_count"] = table["adopted_count"].to_numpy()
    out.update(joint_values(loaded, table))
    return out


def paired_table(
    loaded: LoadedSession, a: pd.DataFrame, b: pd.DataFrame, loaded_b: LoadedSession | None = None
) -> pd.DataFrame:
    """B minus A for every outcome of :func:`session_outcomes` both hold, paired run by run."""
    va = session_outcomes(loaded, a)
    vb = session_outcomes(loaded_b or loaded, b)
    rows = [
        {"outcome": k, "kind": _kind(va[k]), **paired_difference(va[k], vb[k])}
        for k in va
        if k in vb
    ]
    return pd.DataFrame(rows)


def _kind(values: NDArray[Any]) -> str:
    return "share" if values.dtype == np.bool_ else "number"


def format_paired(table: pd.DataFrame, title: str, a: str, b: str) -> str:
    """The paired table as text: shares in points, numbers as they are."""
    lines = [title, f"  {'outcome':<32}{a:>12}{b:>12}   {b} - {a} [95% interval]"]
    for r in table.itertuples():
        if r.kind == "share":
            lines.append(
                f"  {r.outcome:<32}{100 * r.p_a:>11.1f}%{100 * r.p_b:>11.1f}%   "
                f"{100 * r.diff:+.1f} pts [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]"
            )
        else:
            lines.append(
                f"  {r.outcome:<32}{r.p_a:>12.2f}{r.p_b:>12.2f}   {r.diff:+.2f} "
                f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
            )
    return "\n".join(lines)


@dataclasses.dataclass
class SavedSession:
    """A session's results read back from the folder ``save_session`` wrote."""

    folder: Path
    name: str
    seed: int
    runs: int
    summary: dict[str, Any]
    metadata: dict[str, Any]
    table: pd.DataFrame
    drafts: dict[str, Results]


def is_session_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds a session's results (its ``metadata.json`` says kind session)."""
    import json

    try:
        meta = json.loads((Path(folder) / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("kind") == "session"


def load_session_results(folder: str | Path) -> SavedSession:
    """Read a session's results folder; :class:`InputError` if it is not as unsim writes it."""
    from unsim.ownership import JSON_KEY
    from unsim.results.saved import read_mapping

    folder = Path(folder)
    summary = read_mapping(folder / "summary.json", "a session's results folder")
    meta = read_mapping(folder / "metadata.json", "a session's results folder")
    for doc in (summary, meta):
        doc.pop(JSON_KEY, None)
    session = meta.get("session")
    if not isinstance(session, dict) or not isinstance(meta.get("seed"), int):
        raise InputError(f"{folder / 'metadata.json'}: not as unsim writes a session's")
    found = [folder / f"runs.{x}" for x in ("parquet", "csv") if (folder / f"runs.{x}").exists()]
    if not found:
        raise InputError(f"{folder}: the session's run table (runs.parquet or runs.csv) is missing")
    table_file = found[0]
    try:
        if table_file.suffix == ".parquet":
            table = pd.read_parquet(table_file)
        else:
            table = pd.read_csv(table_file)
    except (OSError, ValueError) as exc:
        raise InputError(f"{table_file}: cannot read the run table ({exc})") from None
    drafts = {name: Results.load(folder / "drafts" / name) for name in session.get("drafts", {})}
    return SavedSession(
        folder,
        str(session.get("name", folder.name)),
        int(meta["seed"]),
        int(meta.get("runs", len(table))),
        summary,
        meta,
        table,
        drafts,
    )
