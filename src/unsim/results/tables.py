"""Results of a Monte Carlo run as tables (runs, per state, summary, metadata), saved and loaded
as a folder atomically."""

from __future__ import annotations

import math
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from unsim.atomic import write_folder_atomically
from unsim.errors import InputError, one_line
from unsim.ownership import JSON_KEY, json_text, record_files, write_parquet
from unsim.results.bottomline import bottom_line
from unsim.results.output import (
    check_output_folder,
    check_replaced_folder,
    is_results_folder,
    output_errors,
    place_run_table,
    probe_output_folder,
    staging_folder,
)
from unsim.results.summary import build_per_state, build_summary
from unsim.scenario.schema import Scenario

#: Names kept here for the code that imports them from this module (the output folder's safety
#: lives in ``unsim.results.output``, the summary in ``unsim.results.summary``).
__all__ = [
    "Results",
    "build_per_state",
    "build_summary",
    "check_output_folder",
    "is_results_folder",
    "output_errors",
    "probe_output_folder",
    "runs_frame",
    "staging_folder",
]


@dataclass
class Results:
    """What a run returns: the run table, the per-state table, the summary and the metadata."""

    scenario: Scenario
    seed: int
    summary: dict[str, Any]
    per_state: pd.DataFrame
    runs: pd.DataFrame | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: the run table's Parquet file, when it was written as the blocks arrived (``runs`` is then
    #: None: :meth:`run_table` reads it)
    runs_file: Path | None = None
    #: each state's stance in parts at each vote on the draft (``unsim.explain.breakdown``),
    #: saved as ``explain.parquet`` when present
    explain: pd.DataFrame | None = None

    def run_table(self, columns: list[str] | None = None) -> pd.DataFrame | None:
        """The run table (or some of its columns): in memory, else read from ``runs_file``."""
        if self.runs is not None:
            return self.runs if columns is None else self.runs[columns]
        if self.runs_file is not None and self.runs_file.exists():
            return pd.read_parquet(self.runs_file, columns=columns)
        return None

    def outcome(self, name: str) -> dict[str, float]:
        """Probability and 95 % interval of an outcome by name (see
        ``unsim.model.outcomes.known_outcomes``; only those that apply to the scenario are in
        its summary)."""
        outcomes = self.summary["outcomes"]
        if name not in outcomes:
            known = ", ".join(outcomes)
            raise KeyError(f"outcome {name!r} does not apply to this scenario; it has: {known}")
        return dict(outcomes[name])

    # -- saving -------------------------------------------------------------------------------
    def save(
        self,
        out_dir: str | Path,
        table_format: str = "parquet",
        force: bool = False,
        staging: str | Path | None = None,
        inputs: Iterable[str | Path] = (),
        also: Callable[[Path], object] | None = None,
    ) -> Path:
        """Write the results folder atomically: built in a temporary folder, then renamed.

        ``staging`` is that temporary folder when it exists already (made by
        :func:`staging_folder`, the run table streamed into it while the runs went on).

        ``out_dir`` must not exist, or be an empty folder. With ``force=True`` it may also be a
        results folder that unsim wrote earlier (every file in it unsim's, none of them one of the
        ``inputs`` of the command), which is then replaced. Anything else is refused with
        :class:`OutputError` and left untouched.

        ``also``: a function given the folder being built, called after the tables are in it,
        to add files of its own to the same atomic write: the command line draws the figures
        with it (``unsim.results.plots.save_standard_plots``), so that the folder appears with
        its figures or not at all. The results themselves draw nothing.
        """
        out = Path(out_dir)
        inputs = list(inputs)
        check_output_folder(out, force=force, inputs=inputs)
        tmp = Path(staging) if staging is not None else None
        with output_errors(out):
            write_folder_atomically(
                out,
                lambda f: self._write_with(f, table_format, also),
                tmp,
                check_replaced=lambda old: check_replaced_folder(out, look_in=old),
            )
        if self.runs_file is not None and tmp is not None and self.runs_file.parent == tmp:
            self.runs_file = out / self.runs_file.name if table_format == "parquet" else None
        return out

    def _write_with(
        self, folder: Path, table_format: str, also: Callable[[Path], object] | None
    ) -> None:
        """The folder's own files, then whatever ``also`` adds."""
        self._write(folder, table_format)
        if also is not None:
            also(folder)

    def _write(self, folder: Path, table_format: str) -> None:
        """The files of a new results folder, each with unsim's mark (CSV tables listed in the
        folder's manifest instead, :mod:`unsim.ownership`)."""

        def table(df: pd.DataFrame, name: str) -> None:
            """Write the table ``df`` as ``name``, in CSV or Parquet."""
            if table_format == "csv":
                df.to_csv(folder / f"{name}.csv", index=False)
            else:
                write_parquet(df, folder / f"{name}.parquet")

        if self.runs is not None:
            table(self.runs, "runs")
        elif self.runs_file is not None:
            place_run_table(self.runs_file, folder, table_format)
        table(self.per_state, "per_state")
        if self.explain is not None:
            table(self.explain, "explain")
        if table_format == "csv":
            record_files(folder, {p.name: None for p in folder.glob("*.csv")})
        # the bottom line, from the summary as it is now (with the attribution, if it ran)
        summary = {**self.summary, "bottom_line": bottom_line(self.summary, self.scenario)}
        (folder / "summary.json").write_text(json_text(_jsonable(summary)))
        (folder / "metadata.json").write_text(json_text(_jsonable(self.metadata)))

    @classmethod
    def load(cls, folder: str | Path) -> Results:
        """Read a results folder that :meth:`save` wrote; :class:`InputError` if it is not one
        (missing or corrupt files, a file instead of a folder)."""
        from unsim.results.saved import SavedSummary, check_shape, read_mapping  # reading only

        folder = Path(folder)
        try:
            info = folder.stat()
        except OSError as exc:
            raise InputError(
                f"{folder}: cannot read the results folder ({one_line(exc, with_type=False)})"
            ) from None
        if not stat.S_ISDIR(info.st_mode):
            raise InputError(f"{folder}: not a folder; give a results folder that unsim wrote")
        summary = read_mapping(folder / "summary.json", "a results folder")
        metadata = read_mapping(folder / "metadata.json", "a results folder")
        for doc in (summary, metadata):  # unsim's mark (the next save writes its own)
            doc.pop(JSON_KEY, None)
        check_shape(SavedSummary, summary, folder / "summary.json")
        if any(k not in metadata for k in ("scenario", "seed")):
            raise InputError(
                f"{folder / 'metadata.json'}: not as unsim writes it (expected a mapping with "
                "scenario, seed)"
            )

        per_state = _read_table(folder, "per_state", PER_STATE_COLUMNS, PER_STATE_COLUMNS[2:])
        if per_state is None:
            raise InputError(f"{folder}: per_state table missing")
        from unsim.scenario.loader import scenario_from_dict

        if not isinstance(metadata["scenario"], dict):
            raise InputError(f"{folder / 'metadata.json'}: scenario must be a mapping")
        scenario = scenario_from_dict(metadata["scenario"], source=f"{folder}/metadata.json")
        seed = metadata["seed"]
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise InputError(
                f"{folder / 'metadata.json'}: seed must be a whole number, 0 or more; "
                f"got {seed!r:.60}"
            )
        return cls(
            scenario=scenario,
            seed=seed,
            summary=summary,
            per_state=per_state,
            runs=_read_table(folder, "runs"),
            metadata=metadata,
            explain=_read_table(folder, "explain", EXPLAIN_COLUMNS, ("mean", "lo", "hi")),
        )


#: Largest run table read back by :meth:`Results.load`, on disk and once read (the other tables
#: within the limits of :mod:`unsim.safetables`).
MAX_TABLE_BYTES = 4 << 30
#: The columns of the per-state table that the figures and the report read.
PER_STATE_COLUMNS = ("stage", "iso3", "p_yes", "p_no", "p_abstain", "p_absent")
#: The columns of the stances in parts (``explain.parquet``).
EXPLAIN_COLUMNS = ("iso3", "stage", "part", "label", "mean", "lo", "hi", "runs")


def _read_table(
    folder: Path, name: str, columns: Sequence[str] = (), numeric: Sequence[str] = ()
) -> pd.DataFrame | None:
    """A results folder's table ``name`` (Parquet, else CSV), None if it has none; read within
    bounds (:mod:`unsim.safetables`), with the ``columns`` given (``numeric`` holding
    numbers)."""
    from unsim.results.saved import check_columns
    from unsim.safeio import FileReadError
    from unsim.safetables import (
        MAX_DATA_BYTES,
        MAX_EXPANDED_BYTES,
        read_csv_table,
        read_parquet_table,
    )

    big = name == "runs"
    limit = MAX_TABLE_BYTES if big else MAX_DATA_BYTES
    memory = MAX_TABLE_BYTES if big else MAX_EXPANDED_BYTES
    for ext in ("parquet", "csv"):
        p = folder / f"{name}.{ext}"
        try:
            if ext == "parquet":
                table = read_parquet_table(p, limit=limit, memory=memory)
            else:
                table = read_csv_table(p, limit=limit, expanded=memory)
        except FileReadError as exc:
            if exc.missing:
                continue
            raise InputError(f"{p}: cannot read the table ({exc.reason})") from None
        check_columns(table, p, columns, numeric)
        return table
    return None


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj


def runs_frame(
    chunks: list[dict[str, np.ndarray]], scenario: Scenario | None = None
) -> pd.DataFrame:
    """The run table from per-block arrays (in block order): a ``run`` number, then the columns
    the model fills (``model.outcomes.run_columns``), categorical ones with their labels."""
    from unsim.model.outcomes import CATEGORIES

    cols = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    df = pd.DataFrame(cols)
    df.insert(0, "run", np.arange(len(df), dtype=np.int64))
    for name, labels in CATEGORIES.items():
        df[name] = pd.Categorical.from_codes(df[name].astype(int), list(labels))
    return df
