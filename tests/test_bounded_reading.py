"""The bounded readers of JSON, CSV (plain or gzip) and Parquet: regular files only, a size
limit on disk, a limit on what a file expands to, a depth limit for JSON; errors name the file."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pandas as pd
import pytest

from unsim.safeio import MAX_JSON_DEPTH, FileReadError, read_json
from unsim.safetables import read_csv_table, read_data_bytes, read_parquet_table


def test_json_within_its_depth_and_only_from_regular_files(tmp_path: Path) -> None:
    ok = tmp_path / "ok.json"
    ok.write_text("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert read_json(ok) is not None
    for name, text, reason in (
        ("deep", "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "levels deep"),
        ("very_deep", "[" * 100_000 + "]" * 100_000, "levels deep"),
        ("bad", '{"a": }', r"not valid JSON \(Expecting value at line 1, column 7\)"),
    ):
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        with pytest.raises(FileReadError, match=reason) as info:
            read_json(path)
        assert str(path) in str(info.value)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(FileReadError, match="not a regular file"):
        read_json(fifo)  # refused at once: no writer, yet no wait
    with pytest.raises(FileReadError) as missing:
        read_json(tmp_path / "missing.json")
    assert missing.value.missing


def test_gzip_is_decompressed_within_a_limit(tmp_path: Path) -> None:
    table = pd.DataFrame({"a": range(1000), "b": ["x"] * 1000})
    plain = tmp_path / "t.csv"
    table.to_csv(plain, index=False)
    packed = tmp_path / "t.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    named_plain = tmp_path / "plain_named.csv.gz"  # the name does not decide: the content does
    named_plain.write_bytes(plain.read_bytes())
    for path in (plain, packed, named_plain):
        pd.testing.assert_frame_equal(read_csv_table(path), table)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"a,b\n" + b"0,0\n" * (2 << 20)))  # 8 MiB from 8 KiB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(FileReadError, match="decompresses to more than the limit of 1 MiB"):
        read_data_bytes(bomb, expanded=1 << 20)
    assert len(read_data_bytes(bomb, expanded=16 << 20)) == 4 + 4 * (2 << 20)
    with pytest.raises(FileReadError, match=r"file too large .* the limit is 1000 bytes"):
        read_data_bytes(plain, limit=1000)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes(range(256)) * 8, "corrupt gzip data"),
        (gzip.compress(b"a,b\n1,2\n" * 1000, mtime=0)[:-30], "corrupt gzip data"),
        (gzip.compress(bytes(range(128, 256)) * 10, mtime=0), "not a CSV table unsim can read"),
        (b"", "the file is empty"),
        (b"BZh91AY&SY" + b"\x00" * 40, "compressed with bzip2"),
        (b"PK\x03\x04" + b"\x00" * 40, "compressed with zip"),
    ],
    ids=["garbage", "cut-short", "not-text", "empty", "bzip2", "zip"],  # never the bytes
)
def test_a_corrupt_or_odd_csv_is_a_clear_error(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "votes.csv.gz"
    path.write_bytes(content)
    with pytest.raises(FileReadError, match=reason) as info:
        read_csv_table(path)
    assert str(info.value).startswith(str(path))


def test_parquet_within_a_size_and_a_memory_limit(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {"a": range(50_000), "b": [0.5] * 50_000, "c": pd.Categorical(["x", "y"] * 25_000)}
    )
    path = tmp_path / "t.parquet"
    table.to_parquet(path, index=False, row_group_size=10_000)
    got = read_parquet_table(path)
    pd.testing.assert_frame_equal(got, pd.read_parquet(path))
    pd.testing.assert_frame_equal(read_parquet_table(path, columns=["b"]), table[["b"]])
    # a compressible table: small on disk, 800 KB once read
    assert path.stat().st_size < 300_000
    with pytest.raises(FileReadError, match="once read"):
        read_parquet_table(path, memory=200_000)
    with pytest.raises(FileReadError, match="file too large"):
        read_parquet_table(path, limit=1000)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1" + os.urandom(300) + b"PAR1")
    with pytest.raises(FileReadError, match="not a Parquet table unsim can read"):
        read_parquet_table(corrupt)
    fifo = tmp_path / "fifo.parquet"
    os.mkfifo(fifo)
    with pytest.raises(FileReadError, match="not a regular file"):
        read_parquet_table(fifo)
    zero = tmp_path / "zero.parquet"
    zero.symlink_to("/dev/zero")
    with pytest.raises(FileReadError, match="not a regular file"):
        read_parquet_table(zero)
