"""The run table written as blocks arrive: Arrow record batches appended to one Parquet file.

Keeping a million runs' rows in memory, concatenating them and converting them at the end cost
about as much as the runs themselves. A :class:`RunTableWriter` turns each block's arrays into a
record batch (the same columns and types as :func:`unsim.engine.results.runs_frame`) and appends
it to a Parquet file, so memory does not grow with the runs and the file is complete when the last
block is in. ``pandas.read_parquet`` reads it back as the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

__all__ = ["RunTableWriter"]


class RunTableWriter:
    """Append blocks of runs (``{column: array}``, in block order) to a Parquet file.

    Use as a context manager, or call :meth:`close`; a writer closed by an error removes its
    unfinished file."""

    def __init__(self, path: str | Path, compression: str = "snappy") -> None:
        self.path = Path(path)
        self.compression = compression
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, chunk: Mapping[str, NDArray[Any]]) -> None:
        """Append one block (or several consecutive blocks) of runs."""
        from unsim.engine.results import runs_frame

        frame = runs_frame([dict(chunk)], None)
        n = len(frame)
        if not n:
            return
        frame["run"] = np.arange(self.rows, self.rows + n, dtype=np.int64)
        if self._writer is None:
            self._schema = pa.Schema.from_pandas(frame, preserve_index=False)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, self._schema, compression=self.compression)
        batch = pa.RecordBatch.from_pandas(frame, schema=self._schema, preserve_index=False)
        self._writer.write_batch(batch)
        self.rows += n

    def close(self) -> Path:
        """Finish the file (its footer); return its path."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return self.path

    def abort(self) -> None:
        """Close and remove an unfinished file."""
        try:
            self.close()
        finally:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunTableWriter:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()
