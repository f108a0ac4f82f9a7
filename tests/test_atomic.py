"""unsim.atomic: files and folders appear whole or not at all, and nothing is left behind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from unsim.atomic import write_atomically, write_folder_atomically
from unsim.results.runtable import RunTableWriter


def test_a_failed_file_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("old")

    def broken(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_atomically(path, broken)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_a_failed_folder_write_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results"

    def broken(folder: Path) -> None:
        (folder / "summary.json").write_text("{}")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_folder_atomically(out, broken)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_write_replaces_an_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    write_folder_atomically(out, lambda folder: (folder / "a.txt").write_text("a"))
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_the_run_table_appears_only_when_complete(tmp_path: Path) -> None:
    from unsim.engine import run
    from unsim.scenario import load_scenario

    from .conftest import DEFAULT_SCENARIO

    scenario = load_scenario(DEFAULT_SCENARIO, overrides={"simulation.block_size": 50})
    target = tmp_path / "runs.parquet"
    res = run(scenario, runs=100, seed=2, run_table=target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.parquet"]
    table = pd.read_parquet(target)
    assert len(table) == 100 and table["run"].tolist() == list(range(100))
    assert res.runs is None

    target.write_text("the user's file")
    writer = RunTableWriter(target)
    kept = run(scenario, runs=50, seed=2).runs
    assert kept is not None
    writer.write(
        {
            c: kept[c].cat.codes.to_numpy() if kept[c].dtype == "category" else kept[c].to_numpy()
            for c in table.columns
            if c != "run"
        }
    )
    writer.abort()
    assert target.read_text() == "the user's file"  # an aborted table never replaces a file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.parquet"]
