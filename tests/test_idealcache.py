"""The ideal-point cache holds arrays only: a planted pickle never runs, a file that is not
exactly the estimate asked for is made again (atomically), and a good one is read back whole."""

from __future__ import annotations

import dataclasses
import io
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import unsim.calibration.idealcache as cache
from unsim.calibration.idealpoint import IdealPointConfig, IdealPoints

CONFIG = IdealPointConfig(sessions=2, dims=1, max_iter=200)
CUT = "2008-01-01"


def _data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Thirty states and twenty roll calls of two sessions, a few human-rights ones."""
    rng = np.random.default_rng(11)
    n = 30
    members = pd.DataFrame(
        {
            "iso3": [f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(n)],
            "cow": range(2, 62, 2),
        }
    )
    x = rng.standard_normal(n)
    rows = []
    for j in range(20):
        date = pd.Timestamp(f"{2006 + j // 10}-11-{1 + j % 10:02d}")
        s = x * rng.normal(0, 1.5) + rng.normal(0, 1, n)
        vote = np.where(s > 0.7, 1, np.where(s < -0.7, 3, 2))
        vote[rng.random(n) < 0.05] = 8
        for i in range(n):
            rows.append((500 + j, 61 + j // 10, int(vote[i]), 2 + 2 * i, date, int(j % 4 == 0)))
    votes = pd.DataFrame(rows, columns=["rcid", "session", "vote", "ccode", "date", "hr"])
    return votes, members


@pytest.fixture
def setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A cache folder of the test's own, the data, and a count of the estimates made."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    votes, members = _data()
    made: list[int] = []
    estimate = cache.estimate_ideal_points

    def counted(*args: Any, **kwargs: Any) -> IdealPoints:
        made.append(1)
        return estimate(*args, **kwargs)

    monkeypatch.setattr(cache, "estimate_ideal_points", counted)
    digest = cache.cache_digest(votes, CUT, members, CONFIG, 0)
    path = tmp_path / "cache" / f"{digest[:32]}.npz"
    return {"votes": votes, "members": members, "made": made, "path": path, "digest": digest}


def _get(s: dict[str, Any]) -> IdealPoints:
    return cache.cached_ideal_points(s["votes"], CUT, s["members"], CONFIG, seed=0)


def _same(a: IdealPoints, b: IdealPoints) -> None:
    pd.testing.assert_series_equal(a.positions, b.positions)
    pd.testing.assert_series_equal(a.absence, b.absence)
    pd.testing.assert_frame_equal(a.coordinates, b.coordinates)
    for name in ("x", "b", "tau1", "tau2"):
        np.testing.assert_array_equal(getattr(a.fit, name), getattr(b.fit, name))
    assert (a.fit.log_likelihood, a.fit.converged, a.fit.iterations) == (
        b.fit.log_likelihood,
        b.fit.converged,
        b.fit.iterations,
    )
    assert (a.before, a.sessions, a.rcids, a.config) == (b.before, b.sessions, b.rcids, b.config)
    assert a.diagnostics == b.diagnostics


def test_an_estimate_is_saved_as_arrays_and_read_back_whole(setting: dict[str, Any]) -> None:
    first = _get(setting)
    assert setting["made"] == [1]
    path: Path = setting["path"]
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as saved:  # plain arrays: no pickle needed
        assert str(saved["digest"]) == setting["digest"]
        assert all(saved[k].dtype.kind in "fiuU" for k in saved.files)
    again = _get(setting)
    assert setting["made"] == [1]  # read, not estimated again
    _same(first, again)


def test_every_input_of_the_estimate_is_in_the_digest(setting: dict[str, Any]) -> None:
    votes, members = setting["votes"], setting["members"]
    base = setting["digest"]
    changed_hr = votes.assign(hr=1 - votes["hr"])
    changed_session = votes.assign(session=votes["session"] + 1)
    others = [
        cache.cache_digest(changed_hr, CUT, members, CONFIG, 0),
        cache.cache_digest(changed_session, CUT, members, CONFIG, 0),
        cache.cache_digest(votes, CUT, members, dataclasses.replace(CONFIG, max_iter=201), 0),
        cache.cache_digest(votes, CUT, members, dataclasses.replace(CONFIG, hr_weight=3.0), 0),
        cache.cache_digest(votes, CUT, members, CONFIG, 1),
        cache.cache_digest(votes, "2007-12-31", members, CONFIG, 0),
        cache.cache_digest(
            votes, CUT, members.assign(cow=members["cow"][::-1].to_numpy()), CONFIG, 0
        ),
    ]
    assert base not in others and len(set(others)) == len(others)


class _Planted:
    """A pickle whose loading would create a file (as a planted file could run any code)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_a_planted_pickle_never_runs_and_the_cache_is_rebuilt(
    setting: dict[str, Any], tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    path: Path = setting["path"]
    path.parent.mkdir(parents=True)
    payload = pickle.dumps(_Planted(marker))
    path.write_bytes(payload)  # where the estimate is looked for
    path.with_suffix(".pkl").write_bytes(payload)  # where the old format kept it
    pickle.loads(payload)  # the payload is live: loading it does create the marker
    assert marker.exists()
    marker.unlink()

    ideal = _get(setting)

    assert not marker.exists()
    assert setting["made"] == [1]
    assert zipfile.is_zipfile(path)  # replaced by the estimate, as arrays
    _same(ideal, _get(setting))
    assert setting["made"] == [1]


def _rewrite(path: Path, change: Any) -> None:
    """Rewrite the saved arrays with ``change(arrays)`` applied."""
    with np.load(path, allow_pickle=False) as saved:
        arrays = {k: saved[k] for k in saved.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def _checksummed(change: Any) -> Any:
    """A change that also updates the checksum, so that only the other checks can catch it."""

    def both(arrays: dict[str, np.ndarray]) -> None:
        change(arrays)
        arrays["checksum"] = np.array(cache._checksum(arrays))

    return both


def _object_member(marker: Path) -> Any:
    def change(arrays: dict[str, np.ndarray]) -> None:
        planted = np.empty(1, dtype=object)
        planted[0] = _Planted(marker)
        arrays["positions"] = planted

    return change


TAMPERED = {
    "a value edited": lambda a: a.__setitem__("positions", a["positions"] + 0.5),
    "another estimate's digest": _checksummed(
        lambda a: a.__setitem__("digest", np.array("0" * 64))
    ),
    "a state left out": _checksummed(
        lambda a: [a.__setitem__(k, a[k][1:]) for k in ("states", "positions", "absence")]
    ),
    "a dimension added": _checksummed(
        lambda a: a.__setitem__("coordinates", np.hstack([a["coordinates"], a["coordinates"]]))
    ),
    "a NaN position": _checksummed(lambda a: a["positions"].__setitem__(0, np.nan)),
    "numbers as text": _checksummed(lambda a: a.__setitem__("tau1", a["tau1"].astype(str))),
    "an older format": _checksummed(lambda a: a.__setitem__("format", np.array(1))),
    "a member missing": _checksummed(lambda a: a.pop("scalars")),
    "a member added": _checksummed(lambda a: a.__setitem__("extra", np.zeros(3))),
}


@pytest.mark.parametrize("how", [*TAMPERED, "cut short", "not a zip", "an object array"])
def test_a_tampered_file_is_made_again(setting: dict[str, Any], tmp_path: Path, how: str) -> None:
    first = _get(setting)
    path: Path = setting["path"]
    marker = tmp_path / "ran"
    if how == "cut short":
        path.write_bytes(path.read_bytes()[:-200])
    elif how == "not a zip":
        path.write_bytes(b"\x93NUMPY" + b"\x00" * 100)
    elif how == "an object array":
        with np.load(path, allow_pickle=False) as saved:
            arrays = {k: saved[k] for k in saved.files}
        _object_member(marker)(arrays)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # allow_pickle is on when writing: the member is a pickle
        path.write_bytes(buffer.getvalue())
    else:
        _rewrite(path, TAMPERED[how])
    tampered = path.read_bytes()

    again = _get(setting)

    assert setting["made"] == [1, 1], how  # estimated again
    assert not marker.exists()
    _same(first, again)
    assert path.read_bytes() != tampered  # replaced by a good file
    _get(setting)
    assert setting["made"] == [1, 1]


def test_a_cache_folder_that_cannot_be_written_only_costs_time(
    setting: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker))
    _get(setting)
    _get(setting)
    assert setting["made"] == [1, 1]
    assert blocker.read_text() == "not a folder\n"


SRC = Path(__file__).resolve().parents[1] / "src" / "unsim"
#: Ways of reading that can run code or build arbitrary objects from a file's bytes.
UNSAFE = re.compile(
    r"pickle\.load\(|pickle\.Unpickler|read_pickle|yaml\.load\(|yaml\.unsafe_load|"
    r"yaml\.full_load|FullLoader|UnsafeLoader|\beval\(|\bexec\(|marshal\.loads?|shelve\.|"
    r"allow_pickle=True"
)
#: The engine sends scenarios pickled to its own worker processes: process-internal bytes.
PROCESS_INTERNAL = {"engine/blocks.py"}
#: Mesa's own installed ``__init__``, run with its parts' imports deferred (unsim.model.lightmesa):
#: the library's code, which ``import mesa`` runs anyway, never data. Only this line.
LIBRARY_CODE = {
    "model/lightmesa.py": 'exec(compile(tree, self.loader.path, "exec"), module.__dict__)',
}


def test_no_code_from_data_on_any_read_path() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = str(path.relative_to(SRC))
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if LIBRARY_CODE.get(rel) == line.strip():
                continue
            if UNSAFE.search(code) or ("np.load(" in code and "allow_pickle=False" not in code):
                found.append(f"{rel}:{number}: {line.strip()}")
            if "pickle.loads(" in code and rel not in PROCESS_INTERNAL:
                found.append(f"{rel}:{number}: {line.strip()}")
    assert found == []
    assert UNSAFE.search("x = pickle.load(fh)") and UNSAFE.search("yaml.load(text)")
