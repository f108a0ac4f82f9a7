"""Reading a session file (``kind: session``) and its drafts, every problem reported at once, as
the scenario loader does: key path, value, what is allowed, did-you-mean."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from unsim.errors import Problem, ScenarioError, did_you_mean
from unsim.scenario.loader import (
    file_path,
    read_yaml,
    resolve_world,
    scenario_from_dict,
    validate_model,
)
from unsim.scenario.loader import (
    is_session_file as is_session_file,  # where the sessions' code takes it from
)
from unsim.scenario.overrides import apply_overrides
from unsim.scenario.problems import problems_from_validation
from unsim.scenario.schema import Scenario, World
from unsim.scenario.session import Linkage, LinkageFile, LinkageSd, Session
from unsim.session.shared import merge_shared, shared_problems

#: The columns a session adds to each draft's (``unsim.session.joint``).
DRAFT_EXTRA = ("adopted", "adopted_without_vote")
#: The session's own columns.
SESSION_COLUMNS = ("all_adopted", "adopted_count")


@dataclass(frozen=True)
class LoadedSession:
    """A session with its drafts loaded (in the order the file gives them)."""

    session: Session
    drafts: dict[str, Scenario]
    files: dict[str, Path | None]  #: each draft's file (None: inline)
    source: str


def load_linkage(path: str | Path) -> LinkageFile:
    """A linkage file (``kind: session_linkage``)."""
    link: LinkageFile = validate_model(LinkageFile, read_yaml(path), str(path))
    return link


def load_session(
    path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None
) -> LoadedSession:
    """Read, resolve (world, linkage, drafts) and validate a session file."""
    path = Path(path)
    data = apply_overrides(dict(read_yaml(path)), overrides)
    source, base = str(path), path.parent
    world, problems = resolve_world(data, base, source)
    _resolve_linkage(data, base, source, problems)
    session: Session | None = None
    try:
        session = Session.model_validate(data, context={"world": world})
    except ValidationError as err:
        problems += problems_from_validation(Session, err)
    drafts: dict[str, Scenario] = {}
    files: dict[str, Path | None] = {}
    if session is not None and world is not None:
        drafts, files = _load_drafts(session, base, source, problems)
        shared = session.shared_actors
        if shared is not None and not problems:
            problems += shared_problems(shared, list(drafts))
            if not problems:  # again, each with the shared actors merged in
                merge = {n: partial(merge_shared, n, shared=shared, drafts=drafts) for n in drafts}
                drafts, files = _load_drafts(session, base, source, problems, merge)
        problems += _outcome_problems(session, world)
        if not problems:
            problems += _session_problems(session, drafts, world)
    if problems:
        raise ScenarioError(source, problems)
    assert session is not None
    return LoadedSession(session, drafts, files, source)


#: Stands for a linkage whose problems are reported (the rest is checked without it).
_NO_LINK = Linkage(
    state_factor=LinkageSd(sd=0, source="-"), session_shock=LinkageSd(sd=0, source="-")
)


def _resolve_linkage(
    data: dict[str, Any], base: Path, source: str, problems: list[Problem]
) -> None:
    """The session's linkage (a file read from ``base``, or inline), put in ``data``."""
    link = data.get("linkage")
    if isinstance(link, str):
        lpath = file_path(base, link)
        if lpath is None or not lpath.exists():
            what = "not a valid file path" if lpath is None else "linkage file not found"
            hint = "make it with `unsim calibrate --session-linkage --before DATE --out FILE`"
            problems.append(Problem("linkage", what, link, True, hint=hint))
            data["linkage"] = _NO_LINK
            return
        try:
            data["linkage"] = load_linkage(lpath)
        except ScenarioError as err:
            problems += _under("linkage", err, f" (in {lpath})")
            data["linkage"] = _NO_LINK
    elif isinstance(link, dict):
        try:
            data["linkage"] = validate_model(Linkage, link, f"{source} (linkage)")
        except ScenarioError as err:
            problems += _under("linkage", err)
            data["linkage"] = _NO_LINK


def _under(key: str, err: ScenarioError, where: str = "") -> list[Problem]:
    """``err``'s problems with their key paths under ``key``."""
    return [
        Problem(
            f"{key}.{p.path}" if p.path else key,
            p.message + where,
            p.value,
            p.has_value,
            p.allowed,
            p.suggestion,
        )
        for p in err.problems
    ]


#: Changes a draft's scenario data (after its ``set:`` overrides) before it is validated.
Merge = Callable[[dict[str, Any]], dict[str, Any]]


def _load_drafts(
    session: Session,
    base: Path,
    source: str,
    problems: list[Problem],
    merge: Mapping[str, Merge] | None = None,
) -> tuple[dict[str, Scenario], dict[str, Path | None]]:
    """The session's drafts that load, in its order, and their files."""
    drafts: dict[str, Scenario] = {}
    files: dict[str, Path | None] = {}
    for name, given in session.drafts.items():
        how = None if merge is None else merge.get(name)
        draft, where = _load_draft(name, given, base, source, problems, how)
        if draft is not None:
            drafts[name], files[name] = draft, where
    return drafts, files


def _load_draft(
    name: str,
    given: Any,
    base: Path,
    source: str,
    problems: list[Problem],
    merge: Merge | None = None,
) -> tuple[Scenario | None, Path | None]:
    """A draft of the session, its problems added to ``problems`` under ``drafts.NAME``: a
    file, ``{file: PATH, set: {KEY: VALUE}}`` (a file with some of its values changed, as
    ``--set`` does), or a scenario mapping."""
    key = f"drafts.{name}"
    try:
        overrides = None
        if isinstance(given, dict) and set(given) <= {"file", "set"} and "file" in given:
            overrides = given.get("set") or {}
            if not isinstance(overrides, dict):
                problems.append(Problem(f"{key}.set", "expected a mapping", overrides, True))
                return None, None
            given = given["file"]
        if isinstance(given, str):
            dpath = file_path(base, given)
            if dpath is None or not dpath.exists():
                what = "not a valid file path" if dpath is None else "draft scenario not found"
                problems.append(Problem(key, what, given, True))
                return None, None
            raw = read_yaml(dpath)
            kind = raw.get("kind", "scenario")
            if kind != "scenario":
                problems.append(
                    Problem(key, "a draft must be a scenario file", kind, True, "kind: scenario")
                )
                return None, None
            if merge is not None:
                raw, overrides = merge(apply_overrides(dict(raw), overrides)), None
            return scenario_from_dict(raw, dpath.parent, str(dpath), overrides=overrides), dpath
        if isinstance(given, dict):
            given = given if merge is None else merge(given)
            return scenario_from_dict(given, base, f"{source} ({key})"), None
    except ScenarioError as err:
        problems += _under(key, err, "" if isinstance(given, dict) else f" (in {err.source})")
        return None, None
    problems.append(
        Problem(key, "expected the path of a draft scenario or a scenario mapping", given, True)
    )
    return None, None


def _session_problems(s: Session, drafts: dict[str, Scenario], world: World) -> list[Problem]:
    """Checks that need the session and its drafts loaded."""
    out: list[Problem] = []
    for name, d in drafts.items():
        assert isinstance(d.world, World)
        missing = [c for c in d.world.codes if c not in world.index]
        if missing:
            out.append(
                Problem(
                    f"drafts.{name}",
                    "the draft's world has states the session's world does not",
                    ", ".join(missing[:5]),
                    True,
                )
            )
        if s.date is not None and d.date is not None and d.date > s.date:
            message = f"the draft stands at {d.date}, after the session's date {s.date}"
            out.append(Problem(f"drafts.{name}", message, str(d.date), True))
    link = s.linkage
    if isinstance(link, LinkageFile) and s.date is not None and link.before > s.date:
        message = (
            f"the linkage file was fitted on votes up to {link.before}, after the session's date "
            f"{s.date}: a forecast may use only what was known before it"
        )
        out.append(Problem("linkage", message, str(link.before), True))
    for name in s.without_vote:
        if name not in drafts:
            out.append(
                Problem(
                    f"without_vote.{name}",
                    "not a draft of the session",
                    name,
                    True,
                    ", ".join(drafts),
                    did_you_mean(name, list(drafts)),
                )
            )
    if s.simulation.block_size is None:
        sizes = {d.simulation.block_size for d in drafts.values()}
        if len(sizes) > 1:
            out.append(
                Problem(
                    "simulation.block_size",
                    "the drafts' block sizes differ (run r of every draft must be in the same "
                    "block): set the session's",
                    ", ".join(str(x) for x in sorted(sizes)),
                    True,
                )
            )
    return out


def session_columns(drafts: Iterable[str], world: World) -> list[str]:
    """Every column a joint outcome may name: each draft's run-table columns prefixed with its
    name, and the session's own."""
    from unsim.model.outcomes import EVENTS, run_columns

    own = [c.name for c in run_columns(world.security_council.permanent, EVENTS)]
    own += list(DRAFT_EXTRA)
    return [f"{d}.{c}" for d in drafts for c in own] + list(SESSION_COLUMNS)


def _outcome_problems(s: Session, world: World) -> list[Problem]:
    from unsim.session.expr import ExpressionError, parse

    out: list[Problem] = []
    columns = session_columns(s.drafts, world)
    for name, text in s.joint_outcomes.items():
        try:
            parse(text, columns)
        except ExpressionError as err:
            out.append(
                Problem(
                    f"joint_outcomes.{name}",
                    str(err),
                    text,
                    True,
                    "columns DRAFT.COLUMN (e.g. dprk.plenary_yes), all_adopted, adopted_count; "
                    "and, or, not, < <= > >= == !=, + -, numbers, ( )",
                    err.suggestion,
                )
            )
    return out
