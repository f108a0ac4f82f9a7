"""The scenario a study varies: read once, its world and calibration inlined, its points
checked before anything runs, and the master seed they share."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from unsim.engine.rng import new_master_seed
from unsim.errors import Problem, ScenarioError
from unsim.scenario.loader import read_yaml, scenario_from_dict, split_path
from unsim.scenario.overrides import NotSettable, set_values
from unsim.scenario.schema import Scenario
from unsim.studies.designs import is_number

__all__ = ["Base", "canonical", "check_points", "choose_seed", "plain", "prepare"]


@dataclass
class Base:
    """A scenario as a raw mapping (world and calibration inlined), ready to vary."""

    raw: dict[str, Any]
    base_dir: Path
    source: str
    scenario: Scenario
    digest: str = field(default="")

    def point(self, overrides: Mapping[str, Any]) -> Scenario:
        """The scenario with ``overrides`` (paths to values) applied, validated."""
        raw = self.raw
        # the world and calibration validated once, unless the point changes them
        touched = {split_path(str(path))[0] for path in overrides if split_path(str(path))}
        if not touched & {"world", "calibration"}:
            raw = dict(raw)
            raw["world"] = self.scenario.world
            if self.scenario.calibration is not None:
                raw["calibration"] = self.scenario.calibration
            if self.scenario.clause_calibration is not None:
                raw["clause_calibration"] = self.scenario.clause_calibration
        return scenario_from_dict(
            raw, base_dir=self.base_dir, source=self.source, overrides=overrides
        )

    # what a study asks of what it varies (a session's, ``unsim.session.study``, the same)
    def check(self, points: Sequence[Mapping[str, Any]]) -> None:
        """Every point checked before anything runs (:func:`check_points`)."""
        check_points(self, points)

    def labels(self, paths: Sequence[str]) -> dict[str, str]:
        """The paths in words (``unsim.studies.labels``)."""
        from unsim.studies.labels import labels

        return labels(paths, self.scenario)

    def ranges(
        self, params: Mapping[str, Sequence[float] | None]
    ) -> dict[str, Sequence[float]]:
        """A sensitivity analysis's ranges, those left out from the scenario's distributions."""
        from unsim.studies.sensitivity import resolve_ranges

        return resolve_ranges(self.scenario, params)

    def execute(
        self,
        items: list[tuple[int, dict[str, Any]]],
        runs: int,
        seed: int,
        executor: Any,
        columns: tuple[str, ...] = (),
    ) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        """The records of the points ``(index, overrides)``, as tasks finish."""
        from unsim.studies.execution import execute_points

        return execute_points(self, items, runs, seed, executor, columns)


def inline_files(raw: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Read the world, calibration, clause calibration and levers files into the mapping:
    points validate fast and can be shipped to workers that do not share this file system."""
    out = dict(raw)
    for key in ("world", "calibration", "clause_calibration", "levers"):
        value = out.get(key)
        if isinstance(value, str):
            path = Path(value) if Path(value).is_absolute() else base_dir / value
            with contextlib.suppress(ScenarioError):  # else left as a path: validation reports it
                out[key] = read_yaml(path)
    return out


def prepare(
    scenario: str | Path | Mapping[str, Any] | Scenario, base_dir: str | Path | None
) -> Base:
    """The raw mapping behind a scenario file, mapping or loaded scenario."""
    if isinstance(scenario, str | Path):
        path = Path(scenario)
        raw = read_yaml(path)
        folder = Path(base_dir) if base_dir is not None else path.parent
        source = str(path)
    elif isinstance(scenario, Scenario):
        # the values the scenario was given (a calibration fills the behaviour it leaves out)
        raw = scenario.model_dump(mode="json", exclude_unset=True)
        folder = Path(base_dir) if base_dir is not None else Path(".")
        source = f"<scenario {scenario.name}>"
    elif isinstance(scenario, Mapping):
        raw = dict(scenario)
        folder = Path(base_dir) if base_dir is not None else Path(".")
        source = "<scenario>"
    else:
        raise TypeError("scenario must be a path, a mapping or a Scenario")
    raw = inline_files(raw, folder)
    validated = scenario_from_dict(raw, base_dir=folder, source=source)
    # what the points' results depend on: not the sweep section (resume after widening a grid)
    content = {k: v for k, v in raw.items() if k != "sweep"}
    digest = hashlib.sha256(canonical(content).encode()).hexdigest()
    return Base(raw=raw, base_dir=folder, source=source, scenario=validated, digest=digest)


def canonical(obj: Any) -> str:
    """``obj`` as compact JSON with sorted keys: the same text for equal values."""
    return json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))


def plain(value: Any) -> Any:
    """Numpy scalars to Python ones (for YAML-like overrides and JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def representatives(points: Sequence[Mapping[str, Any]], limit: int = 64) -> set[int]:
    """Points to validate whole (their scenario as a file would be): all of a small design;
    else the first, and for each parameter a point at its lowest and at its highest value (or
    at each of its first ``limit`` distinct values when they are not numbers)."""
    if len(points) <= limit:
        return set(range(len(points)))
    chosen = {0}
    for name in points[0]:
        values: list[Any] = [p.get(name) for p in points]
        if all(is_number(v) for v in values):
            chosen.add(int(np.argmin(values)))
            chosen.add(int(np.argmax(values)))
        else:
            seen: dict[str, int] = {}
            for i, v in enumerate(values):
                seen.setdefault(repr(v), i)
                if len(seen) >= limit:
                    break
            chosen.update(seen.values())
    return chosen


def check_points(base: Base, points: Sequence[Mapping[str, Any]]) -> None:
    """Check every point first, so that a bad value fails the sweep before any run.

    Each value is checked against its field (``unsim.scenario.overrides.set_values``); the
    scenarios of a few representative points (all of them in a small design) are validated
    whole, as a file would be."""
    problems: list[Problem] = []
    whole = representatives(points)
    for i, point in enumerate(points):
        try:
            if i in whole:
                base.point(point)
            else:
                try:
                    set_values(base.scenario, point)
                except NotSettable:
                    base.point(point)
        except ScenarioError as err:
            where = ", ".join(f"{k}={v!r}" for k, v in point.items())
            problems += [
                Problem(
                    f"point {i} ({where}): {p.path}",
                    p.message,
                    p.value,
                    p.has_value,
                    p.allowed,
                    p.suggestion,
                )
                for p in err.problems
            ]
            if len(problems) >= 20:
                break
    if problems:
        raise ScenarioError(base.source, problems)


def choose_seed(base: Base, seed: int | None, resume_from: Path | None) -> int:
    """The seed given, else the scenario's, else (resuming) the one in the folder's
    ``metadata.json`` (read within bounds; a file there that is not as unsim writes it is an
    error naming it), else a new one."""
    if seed is not None:
        return int(seed)
    if base.scenario.simulation.seed is not None:
        return int(base.scenario.simulation.seed)
    path = resume_from / "metadata.json" if resume_from is not None else None
    if path is not None and (path.exists() or path.is_symlink()):
        from unsim.results.saved import SweepMeta, check_shape, read_mapping

        saved = check_shape(SweepMeta, read_mapping(path, "a study folder"), path)
        if saved.seed is not None:
            return int(saved.seed)
    return new_master_seed()
