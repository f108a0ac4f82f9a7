"""A user's files are never deleted or overwritten by ``--out``; results stay inside results/."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from unsim.cli import main
from unsim.errors import ScenarioError
from unsim.results.tables import is_results_folder
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "thesis"
    (folder / "data").mkdir(parents=True)
    (folder / "chapter1.tex").write_text("\\chapter{One}\n")
    (folder / "data" / "votes.csv").write_text("iso3,vote\nFRA,Y\n")
    return folder


def _run(out: Path, *extra: str) -> int:
    return main(
        [
            str(DEFAULT_SCENARIO),
            "--runs",
            "40",
            "--seed",
            "3",
            "--no-plots",
            "-q",
            "--out",
            str(out),
            *extra,
        ]
    )


@pytest.mark.parametrize("force", [False, True])
def test_out_on_a_users_folder_is_refused_and_leaves_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], force: bool
) -> None:
    folder = _user_folder(tmp_path)
    before = _fingerprint(folder)
    code = _run(folder, *(["--force"] if force else []))
    assert code == 2
    assert "nothing was written" in capsys.readouterr().err or force
    assert _fingerprint(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]  # no temporary left


def test_out_on_the_current_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _user_folder(tmp_path)
    before = _fingerprint(folder)
    monkeypatch.chdir(folder)
    assert _run(Path(".")) == 2
    assert _fingerprint(folder) == before


def test_out_on_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    assert _run(target) == 2
    assert target.read_text() == "keep me"


def test_empty_folder_is_used_and_force_replaces_only_unsims_own(tmp_path: Path) -> None:
    out = tmp_path / "res"
    out.mkdir()
    assert _run(out) == 0
    assert is_results_folder(out)
    first = _fingerprint(out)
    assert _run(out) == 2  # without --force an earlier result is kept too
    assert _fingerprint(out) == first
    assert _run(out, "--force") == 0
    assert is_results_folder(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_results_folder_is_created_with_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "res"
    old = os.umask(0o022)
    try:
        assert _run(out) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "../escape"])
def test_a_name_cannot_leave_results(name: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(DEFAULT_SCENARIO, overrides=[f"name={name}"])
    assert "name" in str(info.value)


def test_sweep_into_a_users_folder_is_refused(tmp_path: Path) -> None:
    import unsim
    from unsim.errors import OutputError

    folder = _user_folder(tmp_path)
    (folder / "points").mkdir()
    (folder / "points" / "mine.json").write_text("{}")
    before = _fingerprint(folder)
    with pytest.raises(OutputError, match="not empty"):
        unsim.sweep(
            DEFAULT_SCENARIO,
            params={"simulation.rounds.plenary": [1, 2]},
            runs=20,
            seed=1,
            workers=1,
            out=folder,
        )
    assert _fingerprint(folder) == before
