"""The run table written as blocks arrive: Arrow record batches appended to one Parquet file.

Keeping a million runs' rows in memory, concatenating them and converting them at the end cost
about as much as the runs themselves. A :class:`RunTableWriter` turns each block's arrays into a
record batch (the same columns and types as :func:`unsim.results.tables.runs_frame`, built from
the arrays directly, without a DataFrame) and appends it to a Parquet file, so memory does not
grow with the runs and the file is complete when the last block is in. ``pandas.read_parquet``
reads it back as the same table.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from unsim.atomic import temporary_file, with_umask_mode
from unsim.ownership import check_output, marked_schema

__all__ = ["RunTableWriter", "tally_columns", "tally_runs"]


def tally_columns(held: Iterable[str] = ()) -> list[str]:
    """The run-table columns that the tallies figure (``unsim.results.plots.plot_tallies``)
    reads (to read no more of a large table) of a scenario holding the stages ``held``
    (``stages.reported``)."""
    from unsim.model.stages import reported

    cats = ("held", "yes", "no", "abstain", "absent", "adopted")
    stages = reported(held)
    vetoed = [f"{st.name}_vetoed" for st in stages if st.rule.veto]
    return [f"{st.name}_{c}" for st in stages for c in cats] + vetoed


def tally_runs(results: Any) -> Any:
    """The runs the tallies figure is drawn from (a ``pandas.DataFrame``): the results' run
    table, or the columns it needs read back from the file it was streamed to; None without
    either."""
    runs = results.runs
    if runs is None and getattr(results, "runs_file", None) is not None:
        runs = results.run_table(tally_columns(results.scenario.resolution.stages))
    return runs


class RunTableWriter:
    """Append blocks of runs (``{column: array}``, in block order) to a Parquet file.

    Use as a context manager, or call :meth:`close`. The batches go to a temporary file beside
    ``path`` that :meth:`close` renames to ``path`` (:mod:`unsim.atomic`); a writer closed by an
    error removes it, so ``path`` holds a whole table or nothing. The table carries unsim's
    mark (:mod:`unsim.ownership`), and replaces only a file that carries it."""

    def __init__(self, path: str | Path, compression: str = "snappy") -> None:
        self.path = Path(path)
        self.compression = compression
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._schema: pa.Schema | None = None
        self._categories: dict[str, pa.Array] = {}

    def write(self, chunk: Mapping[str, NDArray[Any]]) -> None:
        """Append one block (or several consecutive blocks) of runs."""
        n = len(next(iter(chunk.values()))) if chunk else 0
        if not n:
            return
        if self._writer is None:
            self._start(chunk)
        assert self._schema is not None and self._writer is not None
        arrays = []
        for f in self._schema:
            if f.name == "run":
                arrays.append(pa.array(np.arange(self.rows, self.rows + n, dtype=np.int64)))
            elif pa.types.is_dictionary(f.type):
                codes = pa.array(np.asarray(chunk[f.name]), type=f.type.index_type)
                arrays.append(pa.DictionaryArray.from_arrays(codes, self._categories[f.name]))
            else:
                arrays.append(pa.array(np.asarray(chunk[f.name]), type=f.type))
        self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self._schema))
        self.rows += n

    def _start(self, chunk: Mapping[str, NDArray[Any]]) -> None:
        """The schema (with pandas' metadata, so that pandas reads the table back as
        ``runs_frame`` makes it) from the first block, and the file."""
        from unsim.results.tables import runs_frame

        first = {k: np.asarray(v)[:1] for k, v in chunk.items()}
        schema = pa.Schema.from_pandas(runs_frame([first]), preserve_index=False)
        self._schema = marked_schema(schema)
        self._categories = {
            f.name: pa.array(list(self._labels(f.name)), type=f.type.value_type)
            for f in self._schema
            if pa.types.is_dictionary(f.type)
        }
        self._tmp = temporary_file(self.path)
        # dictionary encoding only where the values are categories: on the counts and flags it
        # costs a third of the writing and saves little once compressed
        self._writer = pq.ParquetWriter(
            self._tmp,
            self._schema,
            compression=self.compression,
            use_dictionary=list(self._categories),
        )

    @staticmethod
    def _labels(column: str) -> tuple[str, ...]:
        from unsim.model.outcomes import CATEGORIES

        return CATEGORIES[column]

    def close(self) -> Path:
        """Finish the file (its footer); return its path. A file at ``path`` that unsim did not
        write is not replaced (:class:`~unsim.errors.OutputError`; the table is dropped)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._tmp is not None:
            try:
                check_output(self.path, "parquet")
            except BaseException:
                self.abort()
                raise
            os.replace(self._tmp, self.path)
            with_umask_mode(self.path)
            self._tmp = None
        return self.path

    def abort(self) -> None:
        """Close and remove an unfinished file."""
        try:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        finally:
            if self._tmp is not None:
                self._tmp.unlink(missing_ok=True)
                self._tmp = None

    def __enter__(self) -> RunTableWriter:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()
