"""Reading tables within bounds: CSV (plain or gzip-compressed) and Parquet.

The same checks as :func:`unsim.safeio.read_bounded` (a regular file, opened without blocking,
of at most a given size on disk), and a second limit on what the file expands to while it is
read: the bytes a gzip stream decompresses to (counted as they come, so a small file that would
expand to gigabytes is refused after the limit, not at the end), and the memory a Parquet file's
row groups take once decoded (their sizes checked in the file's metadata before anything is
decoded, and again as each row group is read). Every failure is a
:class:`~unsim.safeio.FileReadError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from unsim.safeio import FileReadError, open_regular, read_bounded, size_text

__all__ = [
    "MAX_DATA_BYTES",
    "MAX_EXPANDED_BYTES",
    "EmptyTableError",
    "read_csv_table",
    "read_data_bytes",
    "read_parquet_table",
]

#: Largest data file read from disk (a CSV, a gzip-compressed CSV, a Parquet table).
MAX_DATA_BYTES = 256 * 1024 * 1024
#: Most bytes a gzip-compressed file may decompress to, and most memory a Parquet table may take
#: once read (the real roll-call votes decompress to 72 MB).
MAX_EXPANDED_BYTES = 256 * 1024 * 1024


class EmptyTableError(FileReadError):
    """A CSV file with nothing in it, not even a header line."""


#: Magic numbers of compressions other than gzip: such a file is refused with its name.
_OTHER_COMPRESSIONS = {
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"\x28\xb5\x2f\xfd": "zstd",
}
_CHUNK = 1 << 20


def _gunzip(path: str | Path, raw: bytes, limit: int) -> bytes:
    """The decompressed bytes of a gzip stream, refused once they pass ``limit``: counted first
    without being kept (so that refusing a file that expands without bound takes no memory),
    then decompressed."""
    for keep in (False, True):
        chunks: list[bytes] = []
        total = 0
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb") as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise FileReadError(
                            path,
                            f"decompresses to more than the limit of {size_text(limit)} (a gzip "
                            "file that expands without bound?)",
                        )
                    if keep:
                        chunks.append(chunk)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            raise FileReadError(path, f"corrupt gzip data ({reason})") from None
    return b"".join(chunks)


def read_data_bytes(
    path: str | Path, limit: int = MAX_DATA_BYTES, expanded: int = MAX_EXPANDED_BYTES
) -> bytes:
    """A data file's bytes: a regular file of at most ``limit`` bytes, decompressed (at most
    ``expanded`` bytes) when it is gzip-compressed, whatever its name; another compression is
    refused with its name."""
    raw = read_bounded(path, limit)
    if raw[:2] == b"\x1f\x8b":
        return _gunzip(path, raw, expanded)
    for magic, name in _OTHER_COMPRESSIONS.items():
        if raw.startswith(magic):
            raise FileReadError(
                path, f"compressed with {name}; only plain or gzip-compressed CSV files are read"
            )
    return raw


def read_csv_table(
    path: str | Path,
    limit: int = MAX_DATA_BYTES,
    expanded: int = MAX_EXPANDED_BYTES,
    **kwargs: Any,
) -> pd.DataFrame:
    """A CSV table (plain or gzip-compressed) read within the limits of :func:`read_data_bytes`;
    ``kwargs`` go to :func:`pandas.read_csv`. A file that is not CSV text is a
    :class:`FileReadError` too."""
    data = read_data_bytes(path, limit, expanded)
    try:
        return pd.read_csv(io.BytesIO(data), **kwargs)  # type: ignore[no-any-return]
    except pd.errors.EmptyDataError:
        raise EmptyTableError(path, "the file is empty (no header line)") from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise FileReadError(path, f"not a CSV table unsim can read ({text})") from None


def read_parquet_table(
    path: str | Path,
    limit: int = MAX_DATA_BYTES,
    memory: int = MAX_EXPANDED_BYTES,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A Parquet table: a regular file of at most ``limit`` bytes whose row groups take at most
    ``memory`` bytes once read (by the sizes its metadata states, then as read)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fd = open_regular(path, limit)
    try:
        with os.fdopen(fd, "rb", closefd=False) as fh:
            pf = pq.ParquetFile(fh)
            meta = pf.metadata
            stated = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            if stated > memory:
                raise FileReadError(
                    path,
                    f"the table takes {size_text(stated)} once read (the limit is "
                    f"{size_text(memory)})",
                )
            cols = list(columns) if columns is not None else None
            parts = []
            used = 0
            for i in range(meta.num_row_groups):
                part = pf.read_row_group(i, columns=cols)
                used += part.nbytes
                if used > memory:
                    raise FileReadError(
                        path, f"the table takes more than {size_text(memory)} once read (the limit)"
                    )
                parts.append(part)
            schema = pf.schema_arrow
            if cols is not None:
                schema = pa.schema([schema.field(c) for c in cols], metadata=schema.metadata)
            table = pa.concat_tables(parts) if parts else schema.empty_table()
            return table.to_pandas()  # type: ignore[no-any-return]
    except FileReadError:
        raise
    except (pa.ArrowException, OSError, ValueError, KeyError, TypeError) as exc:
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise FileReadError(path, f"not a Parquet table unsim can read ({text})") from None
    finally:
        os.close(fd)
