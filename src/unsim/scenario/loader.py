"""Reading scenario, world and calibration files, with every problem reported at once."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from unsim.errors import Problem, ScenarioError, did_you_mean
from unsim.fields import NEW_BLOC, known_blocs
from unsim.model.stages import stage_named
from unsim.safeio import FileReadError, load_yaml, read_bounded
from unsim.scenario.clausefile import ClauseCalibration
from unsim.scenario.leversfile import LeversFile
from unsim.scenario.overrides import apply_overrides, parse_override, split_path
from unsim.scenario.problems import problems_from_validation
from unsim.scenario.schema import Behaviour, Calibration, Scenario, World

__all__ = [
    "apply_overrides",
    "load_calibration",
    "load_clause_calibration",
    "load_levers",
    "load_scenario",
    "load_world",
    "parse_override",
    "scenario_from_dict",
    "split_path",
]


# --------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------
def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML file's top-level mapping, read within the limits of :mod:`unsim.safeio`."""
    path = Path(path)
    try:
        raw = read_bounded(path)
    except FileReadError as exc:
        if exc.missing:
            raise ScenarioError(str(path), [Problem("", "file not found")]) from None
        raise ScenarioError(
            str(path), [Problem("", f"cannot read the file: {exc.reason}")]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            str(path), [Problem("", f"not UTF-8 text (byte {exc.start}); a YAML file is text")]
        ) from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        what = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(
            str(path), [Problem("", f"not valid YAML at {where}: {what}")]
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            str(path),
            [Problem("", "expected a mapping of keys at the top level", data, True)],
        )
    return data


def is_session_file(path: str | Path) -> bool:
    """Whether ``path`` is a YAML file whose ``kind`` is ``session`` (False if unreadable: the
    scenario loader then says why). Here, not with the sessions (``unsim.session.load``), so
    that the run command of a scenario does not load the sessions' schema to tell."""
    try:
        return read_yaml(path).get("kind") == "session"
    except ScenarioError:
        return False


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
def _validate(model: type[BaseModel], raw: Any, source: str, context: Any = None) -> Any:
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as err:
        raise ScenarioError(source, problems_from_validation(model, err)) from None


def load_world(path: str | Path) -> World:
    """Read and validate a world file (YAML); a bad one is a clear error."""
    world: World = _validate(World, read_yaml(path), str(path))
    return world


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file (YAML); a bad one is a clear error."""
    cal: Calibration = _validate(Calibration, read_yaml(path), str(path))
    return cal


def load_levers(path: str | Path) -> LeversFile:
    """A levers file (``kind: levers``), read within the limits of :mod:`unsim.safeio`."""
    levers: LeversFile = _validate(LeversFile, read_yaml(path), str(path))
    return levers


def load_clause_calibration(path: str | Path) -> ClauseCalibration:
    """A clause calibration file (``kind: clauses``)."""
    clauses: ClauseCalibration = _validate(ClauseCalibration, read_yaml(path), str(path))
    return clauses


def _resolve_file(
    data: dict[str, Any], base: Path, key: str, load: Any, problems: list[Problem]
) -> None:
    """The file a scenario names at ``key`` (read from ``base``) put in its place."""
    given = data.get(key)
    if isinstance(given, str):
        path = _file_path(base, given)
        if path is None or not path.exists():
            what = "not a valid file path" if path is None else "file not found"
            problems.append(Problem(key, what, given, True))
        else:
            data[key] = load(path)


def _file_path(base: Path, value: str) -> Path | None:
    """``value`` resolved from ``base`` (a link loop left to the read), None if no file name."""
    try:
        path = Path(value)
        return path if path.is_absolute() else Path(os.path.realpath(base / path))
    except (ValueError, OSError):
        return None


def scenario_from_dict(
    raw: Mapping[str, Any],
    base_dir: str | Path = ".",
    source: str = "<scenario>",
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
) -> Scenario:
    """Validate a scenario given as a mapping; world and calibration paths resolve from base_dir."""
    if raw.get("kind") == "session":  # several drafts (unsim.session.load)
        message = "a session of several drafts: this command takes one draft scenario"
        hint = "`unsim SESSION.yaml` and `unsim validate` take a session; or name one of its drafts"
        raise ScenarioError(source, [Problem("kind", message, "session", True, hint=hint)])
    data = apply_overrides(dict(raw), overrides)
    base = Path(base_dir)
    world, problems = _resolve_world(data, base, source)
    c = data.get("calibration")
    if isinstance(c, str) and _file_path(base, c) is None:
        problems.append(Problem("calibration", "not a valid file path", c, True))
    elif isinstance(c, str):
        cpath = _file_path(base, c)
        assert cpath is not None
        if not cpath.exists() and not cpath.is_symlink():  # a link's problem: said on reading
            problems.append(_missing_calibration(data, c, cpath))
        else:
            data["calibration"] = load_calibration(cpath)
    _resolve_file(data, base, "clause_calibration", load_clause_calibration, problems)
    levers = _resolve_levers(data, base, source, problems)
    try:
        context = {"world": world, "levers": levers}
        scenario: Scenario = Scenario.model_validate(data, context=context)
    except ValidationError as err:
        problems += problems_from_validation(Scenario, err)
    else:
        if not problems:
            problems += _semantic_problems(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def _missing_calibration(data: Mapping[str, Any], given: str, path: Path) -> Problem:
    """A calibration file that is not there, with the command that makes it."""
    resolution = data.get("resolution")
    target = resolution.get("target") if isinstance(resolution, Mapping) else None
    date = data.get("date")
    series = target if isinstance(target, str) and target.isalpha() else "ISO3"
    before = str(date) if isinstance(date, str | dt.date) else "DATE"
    return Problem(
        "calibration",
        "calibration file not found",
        given,
        True,
        hint=f"make it with `unsim calibrate --series {series.upper()} --before {before} "
        f"--out {path}` (README, Calibration), or leave `calibration:` out to run on the "
        "schema's defaults",
    )


def _resolve_levers(
    data: dict[str, Any], base: Path, source: str, problems: list[Problem]
) -> LeversFile | None:
    """The scenario's levers file (read from ``base``, or inline), put in ``data``; its problems
    go to ``problems`` (the lever references are then reported as having no file)."""
    given = data.get("levers")
    if isinstance(given, str):
        path = _file_path(base, given)
        if path is None or not path.exists():
            what = "not a valid file path" if path is None else "levers file not found"
            problems.append(Problem("levers", what, given, True))
            return None
        data["levers"] = load_levers(path)
    elif isinstance(given, dict):
        try:
            data["levers"] = _validate(LeversFile, given, f"{source} (levers)")
        except ScenarioError as err:
            for p in err.problems:
                where = f"levers.{p.path}" if p.path else "levers"
                problems.append(
                    Problem(where, p.message, p.value, p.has_value, p.allowed, p.suggestion)
                )
            data.pop("levers")
            return None
    return data.get("levers") if isinstance(data.get("levers"), LeversFile) else None


def _resolve_world(
    data: dict[str, Any], base: Path, source: str
) -> tuple[World | None, list[Problem]]:
    """The scenario's world (a file read from ``base``, or inline), put in ``data``, and the
    problems found with it (an invalid inline world is replaced by a placeholder)."""
    problems: list[Problem] = []
    world: World | None = None
    w = data.get("world")
    if isinstance(w, str) and _file_path(base, w) is None:
        problems.append(Problem("world", "not a valid file path", w, True))
    elif isinstance(w, str):
        wpath = _file_path(base, w)
        assert wpath is not None
        try:
            world = load_world(wpath)
        except ScenarioError as err:
            if err.problems and err.problems[0].message == "file not found":
                problems.append(Problem("world", "world file not found", w, True))
            else:
                raise
        else:
            data["world"] = world
    elif isinstance(w, World):
        world = w
    elif isinstance(w, dict):
        try:
            world = _validate(World, w, f"{source} (world)")
        except ScenarioError as err:
            problems += [
                Problem(
                    f"world.{p.path}" if p.path else "world",
                    p.message,
                    p.value if p.path else None,
                    p.has_value and bool(p.path),
                    p.allowed,
                    p.suggestion,
                )
                for p in err.problems
            ]
            data["world"] = "<invalid world>"  # reported above; the rest is checked without it
        else:
            data["world"] = world
    return world, problems


def _semantic_problems(s: Scenario) -> list[Problem]:
    """Checks that need the whole scenario (after each part validated)."""
    world = s.world
    assert isinstance(world, World)
    out: list[Problem] = []
    names = set(world.blocs)
    by_bloc = [("bloc_effects", b) for b in s.behaviour.bloc_effects]
    by_bloc += [("icc_aversion_by_bloc", b) for b in s.behaviour.icc_aversion_by_bloc]
    for key, bloc in by_bloc:
        if bloc not in names:
            out.append(
                Problem(
                    f"behaviour.{key}.{bloc}",
                    "unknown bloc",
                    bloc,
                    True,
                    f"a bloc of the world: {known_blocs(world)}",
                    did_you_mean(bloc, sorted(names)),
                    NEW_BLOC,
                )
            )
    out += _membership_problems(s, world)
    target = s.resolution.target
    sponsors = {c for r in s.resolution.sponsors for c in world.members_of(r)}
    if target in sponsors:
        out.append(
            Problem("resolution.sponsors", "the target cannot sponsor the draft", target, True)
        )
    allies = {c for r in s.actors.allies.members for c in world.members_of(r)}
    both = sorted(allies & sponsors)
    if both:
        out.append(
            Problem("actors.allies.members", "states both sponsor and ally", ", ".join(both), True)
        )
    if isinstance(s.calibration, Calibration):
        out += _calibration_problems(s, s.calibration, world)
    clauses = s.clause_calibration
    if isinstance(clauses, ClauseCalibration) and s.date is not None and clauses.before > s.date:
        out.append(
            Problem(
                "clause_calibration",
                f"the clause calibration {clauses.name!r} used votes up to {clauses.before}, "
                f"after the scenario's date {s.date}: a forecast may use only what was known "
                "before it",
                str(clauses.before),
                True,
            )
        )
    if isinstance(s.levers, LeversFile) and s.date is not None and s.levers.before > s.date:
        out.append(
            Problem(
                "levers",
                f"the levers file {s.levers.name!r} was fitted on episodes up to "
                f"{s.levers.before}, after the scenario's date {s.date}: a forecast may use "
                "only what was known before it",
                str(s.levers.before),
                True,
            )
        )
    return out


def _membership_problems(s: Scenario, world: World) -> list[Problem]:
    """A stage whose body has a membership of its own in the world file (the Human Rights
    Council's, ``Body.membership``) needs the world to name it, with the body's size."""
    out = []
    for k, name in enumerate(s.resolution.stages):
        body = stage_named(name).body
        if body.membership is None or body.is_council:
            continue
        listed = world.memberships.get(body.membership)
        if listed is None:
            known = ", ".join(world.memberships) or "none"
            out.append(
                Problem(
                    f"resolution.stages[{k}]",
                    f"the {body.label} votes at {name}, and the world {world.name!r} names no "
                    f"memberships.{body.membership} (its memberships: {known})",
                    name,
                    True,
                    hint=f"list its members in the world file under memberships."
                    f"{body.membership}.members, or leave {name} out of resolution.stages",
                )
            )
        elif body.size is not None and len(listed.members) != body.size:
            out.append(
                Problem(
                    f"resolution.stages[{k}]",
                    f"the world's memberships.{body.membership} lists {len(listed.members)} "
                    f"states; the {body.label} has {body.size}",
                    name,
                    True,
                )
            )
    return out


def _calibration_problems(s: Scenario, cal: Calibration, world: World) -> list[Problem]:
    """The calibration covers enough states, and its fitted behaviour values are known
    parameters within their bounds."""
    out: list[Problem] = []
    target = s.resolution.target
    missing = [c for c in world.codes if c not in cal.states and c != target]
    if len(missing) > len(world.codes) // 2:
        message = f"the calibration covers too few states ({len(missing)} missing)"
        out.append(Problem("calibration", message))
    for key in cal.behaviour:
        if key not in Behaviour.model_fields:
            out.append(
                Problem(
                    f"calibration.behaviour.{key}",
                    "unknown behaviour parameter",
                    allowed=", ".join(sorted(Behaviour.model_fields)),
                    suggestion=did_you_mean(key, Behaviour.model_fields),
                )
            )
    known = {k: v for k, v in cal.behaviour.items() if k in Behaviour.model_fields}
    try:  # the fitted values replace defaults: they must meet the same bounds
        given = {k: getattr(s.behaviour, k) for k in s.behaviour.model_fields_set}
        Behaviour.model_validate({**given, **known})
    except ValidationError as err:
        out += [
            Problem(f"calibration.behaviour.{p.path}", p.message, p.value, p.has_value)
            for p in problems_from_validation(Behaviour, err)
        ]
    return out


#: The steps a session's loader shares (``unsim.session.load``).
resolve_world = _resolve_world
file_path = _file_path
validate_model = _validate


def load_scenario(
    path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None
) -> Scenario:
    """Read, resolve (world, calibration) and validate a scenario file."""
    path = Path(path)
    raw = read_yaml(path)
    return scenario_from_dict(raw, base_dir=path.parent, source=str(path), overrides=overrides)
