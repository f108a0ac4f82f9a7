"""Watching a run (unsim.model.observers): what the hooks report is the model's own history, an
observed run is the unobserved one bit for bit, and nothing in the package replaces a model's
or an agent's methods to watch it (``unsim explain`` subscribes)."""

from __future__ import annotations

import ast
import inspect
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from unsim.model import Observer, UNModel
from unsim.model.agents import MemberState, TargetState, VetoHolder
from unsim.model.coalitions import AllyCoalition, SponsorCoalition
from unsim.model.diplomacy import DiplomacyRound
from unsim.model.observation import Observation
from unsim.model.stages import stage_named
from unsim.model.voting import Procedure
from unsim.scenario import load_scenario
from unsim.strategies import BoundStrategy, StrategyContext

from .conftest import DEFAULT_SCENARIO, ROOT

SRC = Path(__file__).resolve().parents[1] / "src" / "unsim"
RUNS = 128


class Recorder(Observer):
    """Keeps everything the model reports."""

    def __init__(self) -> None:
        self.rounds: list[tuple[int, str]] = []
        self.pushes: Counter[tuple[str, str]] = Counter()
        self.moved: dict[str, Any] = {}
        self.votes: dict[str, tuple[Any, Any, Any]] = {}
        self.ends = 0
        self.icc_start: Any = None

    def on_round(self, model: Any, round: int, phase: str) -> None:
        self.rounds.append((round, phase))
        if self.icc_start is None:
            self.icc_start = model.icc_aversion.copy()

    def on_push(self, model: Any, source: str, quantity: str, values: Any) -> None:
        assert values.shape == (model.n_states, model.n_replicates)
        assert values.dtype == np.float32
        self.pushes[source, quantity] += 1
        total = self.moved.get(quantity, 0.0)
        self.moved[quantity] = total + values.astype(np.float64)

    def on_vote(self, model: Any, stage: str, stances: Any, votes: Any) -> None:
        # the model's own stances at the vote, read now, for the Assembly's votes
        own = None if stage_named(stage).body.is_council else model.stances(stage).copy()
        self.votes[stage] = (stances, votes, own)

    def on_run_end(self, model: Any) -> None:
        assert model.outcomes  # the run's columns are reported
        self.ends += 1


@pytest.fixture(scope="module")
def scenario() -> Any:
    return load_scenario(DEFAULT_SCENARIO, overrides={"simulation.block_size": RUNS})


@pytest.fixture(scope="module")
def observed(scenario: Any) -> tuple[UNModel, Recorder, dict[str, Any]]:
    rec = Recorder()
    model = UNModel(scenario, replicates=RUNS, seed=4, observers=[rec])
    return model, rec, model.simulate()


def test_an_observed_run_is_the_unobserved_run(scenario: Any, observed: Any) -> None:
    _, _, out = observed
    plain = UNModel(scenario, replicates=RUNS, seed=4).simulate()
    assert out.keys() == plain.keys()
    for name, column in plain.items():
        np.testing.assert_array_equal(out[name], column, err_msg=name)
    # subscribed later, on a model that has run: the next block's run is the engine's too
    model = UNModel(scenario, replicates=RUNS, seed=4)
    model.simulate()
    late = Recorder()
    model.subscribe(late)
    model.reset(4, 1)
    again = model.simulate()
    other = UNModel(scenario, replicates=RUNS, seed=4, block=1).simulate()
    for name, column in other.items():
        np.testing.assert_array_equal(again[name], column, err_msg=name)
    assert late.ends == 1 and late.pushes


def test_rounds_come_in_order_and_the_run_ends_once(scenario: Any, observed: Any) -> None:
    model, rec, _ = observed
    rounds = scenario.simulation.rounds
    n = rounds.third_committee + rounds.plenary + rounds.security_council
    assert n > 0 and model.round == n
    assert rec.rounds == [(k, phase) for k in range(1, n + 1) for phase in ("start", "end")]
    assert rec.ends == 1


def test_a_rounds_pushes_add_up_to_the_models_move(observed: Any) -> None:
    """Every source named, and the pushes reported are what moved the model: the support's add
    up to the deviation (from zero), the ICC aversion's to its change."""
    model, rec, _ = observed
    keys = {f"strategy:{b.key}" for b in model.strategies}
    sources = {s for s, _ in rec.pushes}
    assert keys <= sources
    assert {"lobbying", "counter_lobbying", "deliberation"} <= sources
    assert sources <= keys | {"lobbying", "counter_lobbying", "deliberation"}
    assert rec.pushes["deliberation", "support"] == model.round  # once a round
    assert np.abs(model.deviation).max() > 1.0  # the check below has something to check
    np.testing.assert_allclose(rec.moved["support"], model.deviation, rtol=0, atol=1e-4)
    moved_icc = model.icc_aversion - rec.icc_start
    assert np.abs(moved_icc).max() > 0.1
    np.testing.assert_allclose(rec.moved["icc_aversion"], moved_icc, rtol=0, atol=1e-4)


def test_each_vote_reports_the_stances_it_used_and_its_votes(observed: Any) -> None:
    model, rec, out = observed
    assert list(rec.votes) == list(model.votes)  # every vote, in the order held
    for stage, (stances, votes, own) in rec.votes.items():
        np.testing.assert_array_equal(votes, model.votes[stage])
        if own is not None:  # the Assembly: UNModel.stances at the vote
            np.testing.assert_array_equal(stances, own)
            continue
        rows = sorted(a.index for a in model.council_agents)
        assert sorted(np.flatnonzero(np.abs(stances).max(axis=1))) == rows
        for a in model.council_agents:
            np.testing.assert_array_equal(stances[a.index], a.council_stance(stage))
        held = out[f"{stage}_held"]
        assert (votes[rows][:, held] != 3).all()  # every member votes where it is held


def test_a_push_outside_a_round_is_not_reported(scenario: Any) -> None:
    """A push made between rounds never reaches the states (the next round starts afresh):
    observers are not told of it; one inside a round without a source is ``other``."""
    rec = Recorder()
    model = UNModel(scenario, replicates=8, seed=1, observers=[rec])
    model.shift("support", "receptive", 1.0)
    assert not rec.pushes
    model.step()
    before = Counter(rec.pushes)
    model.diplomacy.in_round = True  # as inside a round
    model.shift("support", np.ones(model.n_states, dtype=np.float32), 2.0)
    model.diplomacy.in_round = False
    assert rec.pushes - before == Counter({("other", "support"): 1})


# -- nothing watches a run by replacing its methods ---------------------------------------------
def _method_names() -> set[str]:
    """The methods of the model, the parts it holds, its agents and the strategies' bindings."""
    kinds = (UNModel, DiplomacyRound, Procedure, Observation)
    kinds += (MemberState, VetoHolder, TargetState, SponsorCoalition, AllyCoalition)
    names: set[str] = set()
    for cls in (*kinds, BoundStrategy, StrategyContext):
        for name, value in inspect.getmembers(cls):
            if not name.startswith("__") and inspect.isroutine(value):
                names.add(name)
    return names


#: How code names a model, a part it holds or an agent: ``model``, ``m``, ``self.model``,
#: ``model.procedure``, ``agent``, ``a``, ``model.sponsor_agent``, ``model.member_states[i]``...
MODEL_OR_AGENT = re.compile(
    r"(^|\.)(model|m|agent|a|diplomacy|procedure|observation|\w+_agent"
    r"|\w+_(agents|states|holders)\[.*\])$"
)


def patches(source: str, methods: set[str]) -> list[str]:
    """Where ``source`` assigns a method of the model or an agent (``model.step = ...``) or
    sets an attribute with ``setattr`` on anything but itself (``self``, names listed in a
    literal tuple that are no method) or a module's own globals."""
    out = []
    tree = ast.parse(source)
    literal: dict[int, list[str]] = {}  # a loop's variable over a literal tuple of names
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple | ast.List):
            names = [e.value for e in node.iter.elts if isinstance(e, ast.Constant)]
            if len(names) == len(node.iter.elts):
                for inner in ast.walk(node):
                    literal[id(inner)] = names
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                if not (isinstance(t, ast.Attribute) and t.attr in methods):
                    continue
                if MODEL_OR_AGENT.search(ast.unparse(t.value)):
                    out.append(f"line {t.lineno}: {ast.unparse(t)} = ...")
        if not (isinstance(node, ast.Call) and ast.unparse(node.func) == "setattr"):
            continue
        obj, name = node.args[0], node.args[1]
        if isinstance(name, ast.Constant):
            names = [name.value]
        else:
            names = literal.get(id(name), [])
            if not names and ast.unparse(obj) not in ALLOWED_SETATTR:
                out.append(f"line {node.lineno}: {ast.unparse(node)}")
        out += [f"line {node.lineno}: setattr of method {n!r}" for n in names if n in methods]
    return out


#: ``setattr`` on objects that are neither a model nor an agent: a module's own globals and its
#: reprlib settings (the package's lazy names; the error messages' shortened values)
ALLOWED_SETATTR = {"sys.modules[package]", "_REPR"}


def test_nothing_replaces_a_model_or_agent_method() -> None:
    methods = _method_names()
    assert {"step", "deliberate", "shift", "lobby", "counter_lobby", "hold_amendment"} <= methods
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        bad = patches(path.read_text("utf-8"), methods)
        if bad:
            found[str(path.relative_to(SRC))] = bad
    assert found == {}


def test_the_check_sees_the_ways_a_method_is_replaced() -> None:
    methods = _method_names()
    source = (
        "model.shift = tracked\n"
        "self._step, model.step = model.step, mine\n"
        "setattr(agent, method, call)\n"
        "setattr(model.sponsor_agent, 'lobby', call)\n"
        "for name in ('baseline', 'deliberate'):\n"
        "    setattr(self, name, None)\n"
        "for name in ('baseline', 'deviation'):\n"  # data, not methods: allowed
        "    setattr(self, name, None)\n"
        "model.round = 3\n"  # data: allowed
        "model.sponsor_agent.lobby = call\n"
        "m.member_states[3].council_stance = f\n"
        "results.columns = names\n"  # not a model: allowed
    )
    found = patches(source, methods)
    assert len(found) == 7, found
    assert not any("line 8" in f or "round" in f for f in found), found


def test_the_readmes_observer_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example of "Observing a run" runs as written and counts what the model pushed."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Observing a run", 1)[1].split("\n### ", 1)[0]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "readme_observer_example"}
    exec(compile(code, "README.md", "exec", dont_inherit=True), namespace)
    pushes = namespace["counter"].pushes  # type: ignore[attr-defined]
    assert pushes["lobbying", "support"] > 0 and pushes["deliberation", "support"] > 0
    assert any(source.startswith("strategy:") for source, _ in pushes)
