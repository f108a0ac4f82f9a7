"""Strategies as plug-ins: registration, read-only context, several entries of one type, and an
import graph without cycles."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from pydantic import Field

from unsim import load_scenario, run
from unsim.cli import main
from unsim.engine.attribution import assumptions
from unsim.errors import ScenarioError
from unsim.explore.controls import all_controls, build_controls
from unsim.model import UNModel
from unsim.strategies import (
    ReadOnlyArray,
    ReadOnlyError,
    Strategy,
    StrategyContext,
    load_entry_points,
    register,
    registered,
    unregister,
)

from .conftest import DEFAULT_SCENARIO, ROOT


class Walkout(Strategy):
    """The target's delegation walks out: undecided states' support falls by ``intensity``."""

    type: Literal["walkout"] = "walkout"
    events = ("walkout",)
    intensity: float = Field(0.4, ge=0, le=5, description="fall in support per active round")

    def apply(self, ctx: StrategyContext, active: Any) -> None:
        ctx.shift("support", "undecided", -self.intensity * active)
        ctx.event("walkout", active)


class Unregistered(Strategy):
    type: Literal["unregistered_kind"] = "unregistered_kind"


@pytest.fixture
def walkout() -> Iterator[type[Walkout]]:
    register(Walkout)
    yield Walkout
    unregister("walkout")


def _with(*entries: dict[str, Any], keep: bool = False, **overrides: Any) -> Any:
    """The default scenario with these strategy entries (after its own if ``keep``)."""
    own = []
    if keep:
        own = [s.model_dump() for s in load_scenario(DEFAULT_SCENARIO).actors.target.strategies]
    return load_scenario(
        DEFAULT_SCENARIO,
        overrides={"actors.target.strategies": [*own, *entries], **overrides},
    )


# -- registration ----------------------------------------------------------------------------------
def test_a_registered_type_is_valid_listed_in_the_schema_and_in_the_explorer(
    walkout: type[Walkout], capsys: pytest.CaptureFixture[str]
) -> None:
    assert registered()["walkout"] is Walkout
    scenario = _with({"type": "walkout", "intensity": 0.7}, keep=True)
    entry = scenario.actors.target.strategies[4]
    assert isinstance(entry, Walkout) and entry.intensity == 0.7
    # bounds of its parameters are checked like any other value's
    with pytest.raises(ScenarioError, match=r"strategies\[0\]\.intensity"):
        _with({"type": "walkout", "intensity": 9})
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert (
        "walkout"
        in schema["$defs"]["Target"]["properties"]["strategies"]["items"]["discriminator"][
            "mapping"
        ]
    )
    assert schema["$defs"]["Walkout"]["properties"]["intensity"]["maximum"] == 5
    controls = {c.path: c for c in all_controls(build_controls(scenario))}
    control = controls["actors.target.strategies[4].intensity"]
    assert (control.kind, control.max, control.value) == ("float", 5.0, 0.7)
    assert control.help == "fall in support per active round"


def test_an_unregistered_type_is_refused_in_the_usual_style(walkout: type[Walkout]) -> None:
    with pytest.raises(ScenarioError) as err:
        _with({"type": "walkot"})
    (problem,) = err.value.problems
    assert problem.path == "actors.target.strategies[0].type"
    assert problem.message == "unknown strategy type" and problem.value == "walkot"
    assert problem.allowed is not None and "walkout" in problem.allowed.split(", ")
    assert problem.suggestion == "walkout"
    unregister("walkout")
    with pytest.raises(ScenarioError, match="unknown strategy type") as err:
        _with({"type": "walkout"})
    assert "walkout" not in (err.value.problems[0].allowed or "")
    # a class that defines the type but was never registered: the message says what to do
    with pytest.raises(ScenarioError, match=r"Unregistered defines it but is not registered"):
        _with({"type": "unregistered_kind"})


def test_register_refuses_what_is_not_a_strategy_type() -> None:
    with pytest.raises(TypeError, match="not a subclass"):
        register(dict)  # type: ignore[type-var]

    class NoLiteral(Strategy):
        type: str = "no_literal"

    with pytest.raises(TypeError, match="Literal"):
        register(NoLiteral)

    class Invitation(Strategy):  # the name of a built-in type, from another class
        type: Literal["invitation"] = "invitation"

    with pytest.raises(ValueError, match="registered already"):
        register(Invitation)
    assert registered()["invitation"].__module__ == "unsim.strategies.builtin"
    # the same class defined again (a notebook cell run twice) replaces the earlier one
    first = register(_defined_again())
    second = register(_defined_again())
    try:
        assert first is not second and registered()["again"] is second
    finally:
        unregister("again")


def _defined_again() -> type[Strategy]:
    class Again(Strategy):
        type: Literal["again"] = "again"

    return Again


def _dist(folder: Path, name: str, entry_points: str) -> None:
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_an_entry_point_plugin_is_loaded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "unsim_test_plugin.py").write_text(
        textwrap.dedent(
            '''
            from typing import Literal

            from unsim.strategies import Strategy


            class Boycott(Strategy):
                """Allies boycott the vote."""

                type: Literal["boycott"] = "boycott"

                def apply(self, ctx, active):
                    ctx.shift("support", "allies", -1.0 * active)
            '''
        )
    )
    _dist(
        tmp_path,
        "unsim_test_plugin",
        "[unsim.strategies]\nboycott = unsim_test_plugin:Boycott\n"
        "broken = unsim_no_such_module:Nothing\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.warns(RuntimeWarning, match="'broken'.*was not loaded"):
            load_entry_points(again=True)
        assert "boycott" in registered()
        assert _with({"type": "boycott"}).actors.target.strategies[0].type == "boycott"
        # loaded once: a package installed afterwards is seen only when asked to look again
        later = tmp_path / "later"
        later.mkdir()
        (later / "unsim_test_plugin_2.py").write_text(
            (tmp_path / "unsim_test_plugin.py").read_text().replace("boycott", "sit_in")
        )
        _dist(later, "unsim_test_plugin_2", "[unsim.strategies]\nsit_in = unsim_test_plugin_2\n")
        monkeypatch.syspath_prepend(str(later))
        assert "sit_in" not in registered()
    finally:
        unregister("boycott")
        unregister("sit_in")


# -- the context: read-only views and verbs --------------------------------------------------------
@pytest.fixture(scope="module")
def model() -> UNModel:
    m = UNModel(load_scenario(DEFAULT_SCENARIO), replicates=8, seed=5)
    m.step()
    return m


def test_the_views_refuse_writes_and_name_the_verbs(model: UNModel) -> None:
    ctx = model.strategies[0].context(model)
    support = model.support.copy()
    attempts = [
        lambda: ctx.support.__setitem__((0, 0), 1.0),
        lambda: ctx.support.__iadd__(1.0),
        lambda: np.add(ctx.icc_aversion, 1.0, out=ctx.icc_aversion),
        lambda: ctx.icc_aversion.fill(0.0),
        lambda: ctx.allies.__setitem__(0, True),
        lambda: ctx.receptiveness[:].__setitem__(slice(None), 0.0),
        lambda: ctx.swing().__setitem__(0, 0.0),
        lambda: ctx.undecided().__imul__(2.0),
        lambda: ctx.icc_retained.__setitem__(0, False),
        lambda: ctx.has_event("threats_made", any_entry=True).__setitem__(0, True),
    ]
    for attempt in attempts:
        with pytest.raises(ReadOnlyError, match=r"read-only view.*ctx\.shift\(quantity"):
            attempt()
    with pytest.raises(ReadOnlyError, match=r"ctx\.support cannot be set.*ctx\.shift"):
        ctx.support = support  # type: ignore[misc]
    np.testing.assert_array_equal(model.support, support)
    # what is computed from a view is a plain array, and a copy may be changed
    doubled = ctx.support * 2
    assert type(doubled) is np.ndarray and doubled.flags.writeable
    copy = ctx.support.copy()
    copy[0, 0] = 1.0
    assert isinstance(ctx.support, ReadOnlyArray) and float(ctx.support.sum()) == float(
        support.sum()
    )
    # memory is the entry's own and writable
    ctx.memory("scratch")[:] = 3.0
    assert (ctx.memory("scratch") == 3.0).all()


def test_a_strategy_writing_into_a_view_fails_clearly(walkout: type[Walkout]) -> None:
    @register
    class Meddler(Strategy):
        type: Literal["meddler"] = "meddler"

        def apply(self, ctx: StrategyContext, active: Any) -> None:
            ctx.support[:, active] += 1.0

    try:
        with pytest.raises(ReadOnlyError, match=r"ctx\.support is a read-only view"):
            run(_with({"type": "meddler"}), runs=4, seed=1, workers=1)
    finally:
        unregister("meddler")


def test_undeclared_events_and_unknown_quantities_are_errors() -> None:
    @register
    class Sloppy(Strategy):
        type: Literal["sloppy"] = "sloppy"
        events = ("sloppy_move",)
        mistake: Literal["event", "quantity"] = "event"

        def apply(self, ctx: StrategyContext, active: Any) -> None:
            if self.mistake == "event":
                ctx.event("sloppy_mvoe", active)
            else:
                ctx.shift("suport", "undecided", 0.1 * active)  # type: ignore[arg-type]

    try:
        with pytest.raises(ValueError, match=r"'sloppy_mvoe' is not declared.*'sloppy_move'"):
            run(_with({"type": "sloppy"}), runs=4, seed=1, workers=1)
        with pytest.raises(ValueError, match=r"cannot shift 'suport'.*did you mean 'support'"):
            run(_with({"type": "sloppy", "mistake": "quantity"}), runs=4, seed=1, workers=1)
    finally:
        unregister("sloppy")


def test_a_plugin_moves_the_tallies_and_reports_its_event(walkout: type[Walkout]) -> None:
    base = run(_with(keep=True), runs=400, seed=2, workers=1)
    with_it = run(_with({"type": "walkout"}, keep=True), runs=400, seed=2, workers=1)
    assert with_it.runs["event_walkout"].all() and "event_walkout" not in base.runs
    drop = base.runs["third_committee_yes"] - with_it.runs["third_committee_yes"]
    assert drop.mean() > 5 * drop.std() / np.sqrt(len(drop))


# -- several entries of one type -------------------------------------------------------------------
def _invitation(credibility: float, start: int, **more: Any) -> dict[str, Any]:
    return {
        "type": "invitation",
        "credibility": credibility,
        "conditional_on_dropping_icc": False,
        "effect": 1.5,
        "schedule": {"start": start},
        **more,
    }


def test_two_invitations_both_act_with_their_own_draws_and_events() -> None:
    first, second = _invitation(0.25, 1), _invitation(0.75, 4)
    runs = run(_with(first, second), runs=2000, seed=4, workers=1).runs
    assert runs["event_invitation_offered[invitation]"].all()
    assert runs["event_invitation_offered[invitation#2]"].all()
    held_1 = runs["event_visit_held[invitation]"]
    held_2 = runs["event_visit_held[invitation#2]"]
    # each offer is genuine with its own credibility, drawn independently (4 standard errors)
    assert abs(held_1.mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 2000)
    assert abs(held_2.mean() - 0.75) < 4 * np.sqrt(0.25 * 0.75 / 2000)
    assert abs((held_1 & held_2).mean() - 0.25 * 0.75) < 0.04
    assert (runs["event_visit_held"] == (held_1 | held_2)).all()
    # and each pushes its effect: the second offer raises the ICC language's cost further
    alone = run(_with(first), runs=2000, seed=4, workers=1).runs
    assert "event_visit_held[invitation]" not in alone  # one entry: the plain names only
    gain = runs["amendment_yes"].astype(float) - alone["amendment_yes"]
    assert gain.mean() > 5 * gain.std() / np.sqrt(len(gain))


def test_entries_of_one_type_with_the_same_label_are_refused() -> None:
    with pytest.raises(ScenarioError) as err:
        _with(_invitation(0.2, 1, label="offer"), _invitation(0.8, 2, label="offer"))
    (problem,) = err.value.problems
    assert problem.path == "actors.target.strategies"
    assert "entries [0] and [1] are both named 'offer'" in problem.message
    assert "own label" in problem.message
    # labelled apart they are two entries, their events keyed by the labels
    scenario = _with(_invitation(0.2, 1, label="early"), _invitation(0.8, 2, label="late"))
    out = UNModel(scenario, replicates=16, seed=1).simulate()
    assert {"event_visit_held[early]", "event_visit_held[late]"} <= set(out)


def test_attribution_removes_one_entry_of_a_repeated_type_at_a_time() -> None:
    scenario = _with(_invitation(0.25, 1), _invitation(0.75, 4))
    steps = [a for a in assumptions(scenario) if a.name.startswith("strategies")]
    assert [a.label for a in steps] == ["invitation 1", "invitation 2"]
    after_first = steps[0].remove(scenario)
    assert [s.credibility for s in after_first.actors.target.strategies] == [0.75]  # type: ignore[attr-defined]
    assert steps[1].remove(after_first).actors.target.strategies == []


# -- no import cycle -------------------------------------------------------------------------------
def _module_imports() -> dict[str, set[str]]:
    """Module -> the unsim modules it imports when it is imported (module level, outside
    ``if TYPE_CHECKING``), including the packages whose ``__init__`` that runs."""
    src = ROOT / "src"
    modules = {}
    for path in (src / "unsim").rglob("*.py"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if package else parts)] = (path, package)
    graph: dict[str, set[str]] = {}
    for name, (path, package) in modules.items():
        here = name if package else name.rpartition(".")[0]
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        deps: set[str] = set()
        for node in _top_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            for target in targets:
                if target not in modules:
                    continue
                parts = target.split(".")
                deps |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        graph[name] = {d for d in deps if d in modules and d != name and d not in ancestors}
    return graph


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    out: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                todo += node.body
            todo += node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                todo += handler.body
    return out


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, if there is one."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep, [*path, dep])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    graph = _module_imports()
    assert "unsim.strategies.registry" in graph["unsim.scenario.schema"]
    assert not any(d.startswith("unsim.scenario") for d in graph["unsim.strategies.builtin"])
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])
    # the check finds a cycle where there is one
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize(
    "module",
    ["unsim.strategies", "unsim.strategies.builtin", "unsim.scenario.refs", "unsim.fields"],
)
def test_each_strategy_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    with warnings.catch_warnings():
        done = subprocess.run(
            [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
