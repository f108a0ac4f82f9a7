"""The layers of the package: every import (at the top of a module, inside a function, under
``if TYPE_CHECKING``, and the module names a lazy loader holds as strings, see ``unsim.lazy``)
goes down the table below, or stays inside its own unit. A lazy import may keep a command's
start-up light; it may not hide a dependency that goes up."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: The layers, top first. A module belongs to the unit of the longest prefix naming it; it may
#: import its own unit and any unit of a lower layer, nothing else.
#:
#: - the package's facade (``unsim``, lazy names of everything) and ``python -m unsim``;
#: - the command line, then the what-if explorer it starts;
#: - the explanations and the studies (sweeps, sensitivity, discovery), each running the engine;
#: - the calibration (fits and backtests; it runs the engine for its checks);
#: - the engine (blocks of runs, executors, the attribution), which returns ``Results``;
#: - the results (tables, summary, text, figures, report), read from the engine's aggregates;
#: - the model (UNModel, its rules and kernels, the run's columns and outcomes) and the
#:   Council's recorded votes as calibration cases (they read the scenario's world);
#: - the scenario format; the strategies (plug-ins) and the Council's record and tabling
#:   chances (the scenario reads both);
#: - numbers given as distributions (``uncertainty``);
#: - the foundations, themselves in order: what reads and writes files safely over errors.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("unsim", "unsim.__main__"),
    ("unsim.cli",),
    ("unsim.explore",),
    ("unsim.session.study",),  # a session's studies: the study evaluator over a session
    ("unsim.explain", "unsim.studies", "unsim.session"),
    ("unsim.calibration",),
    ("unsim.engine",),
    ("unsim.results",),
    ("unsim.model", "unsim.council.votes"),
    ("unsim.council.cases",),
    ("unsim.scenario",),
    ("unsim.strategies", "unsim.council"),
    # the stages' declarations and the UN's voting rules, read by the schema, the strategies and
    # the model alike
    ("unsim.model.stages",),
    ("unsim.model.procedure",),
    ("unsim.model.rules",),
    ("unsim.model.fastmath",),
    ("unsim.model.jitcache",),
    ("unsim.uncertainty",),
    ("unsim.ownership", "unsim.data"),
    ("unsim.atomic", "unsim.safetables"),
    ("unsim.safeio", "unsim.fields"),
    ("unsim.errors", "unsim.limits", "unsim.lazy", "unsim.streams", "unsim._version"),
    ("unsim.worker_start",),
)

RANK = {unit: len(LAYERS) - i for i, layer in enumerate(LAYERS) for unit in layer}


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package by its dotted name: (file, whether it is a package)."""
    out = {}
    for path in sorted((SRC / "unsim").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def unit(module: str) -> str:
    """The unit of ``module``: the longest prefix of it in ``LAYERS``."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in RANK:
            return ".".join(parts[:i])
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def origins(path: Path) -> dict[str, str]:
    """Where a package's ``__init__`` takes each of its names from: the module of an import at
    its top level, or the home its lazy loader's table gives (``{"run": "unsim.engine.core"}``).
    ``from unsim import __version__`` thus depends on ``unsim._version``, not on the facade's
    lazy names, which load only when they are asked for."""
    out: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.update({a.asname or a.name: node.module for a in node.names})
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant):
                    out[str(k.value)] = str(v.value)
    return out


def imported(name: str, path: Path, package: bool, known: dict[str, tuple[Path, bool]]) -> set[str]:
    """The unsim modules ``name`` imports anywhere in its file (a name imported from a package,
    from the module the package takes it from), and those its strings name (a lazy loader's
    table of homes)."""
    here = name if package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [f"{base}.{a.name}" for a in node.names]
            if base in known and known[base][1]:  # names of a package: from where it takes them
                homes = origins(known[base][0])
                targets = [
                    t if t in known else homes.get(t.rpartition(".")[2], base) for t in targets
                ]
            else:
                targets.append(base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value:
            targets = [node.value]  # "unsim.engine.core", not the program's name "unsim"
        else:
            continue
        found |= {t for t in targets if t in known}
    return found


def violations() -> list[str]:
    """Every import that goes up the layers or sideways into another unit of the same layer."""
    every = modules()
    out = []
    for name, (path, package) in every.items():
        mine = unit(name)
        for target in sorted(imported(name, path, package, every)):
            theirs = unit(target)
            if theirs != mine and RANK[theirs] >= RANK[mine]:
                out.append(f"{name} imports {target} ({mine} may not use {theirs})")
    return out


def test_every_module_is_in_a_layer() -> None:
    every = modules()
    assert len(every) > 100
    for name in every:
        unit(name)


def test_imports_go_down_the_layers() -> None:
    assert violations() == []


def test_the_check_sees_function_level_imports_and_lazy_homes(tmp_path: Path) -> None:
    every = modules()
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n"
        "    from unsim.cli.args import MAX_SEED\n"
        "_HOMES = {'run': 'unsim.engine.core'}\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from unsim.results import tables\n"
        "from unsim import __version__, Evaluator\n",
        "utf-8",
    )
    assert imported("unsim.results.x", module, False, every) == {
        "unsim.cli.args",
        "unsim.engine.core",
        "unsim.results.tables",
        "unsim._version",  # what the package's __init__ imports it from
        "unsim.studies.evaluator",  # the home its lazy loader names
    }
    assert unit("unsim.results.plots.save") == "unsim.results"
    assert unit("unsim.council.cases") == "unsim.council.cases"
    assert unit("unsim.council.tabling") == "unsim.council"
    assert RANK["unsim.cli"] > RANK["unsim.engine"] > RANK["unsim.results"] > RANK["unsim.model"]


#: The files README's "The model" names for how a state votes at the plenary, from the agent
#: class: the agent, the plain rules, the vote's form for the kernels, the compiled vote.
VOTE_FILES = (
    "unsim.model.agents",
    "unsim.model.rules",
    "unsim.model.kernel_args",
    "unsim.model.vote_kernels",
)


def _reached_from(path: Path, cls_name: str, method: str) -> tuple[set[str], set[str]]:
    """The modules (and their functions or names, ``module.name``) that ``cls_name.method`` of
    the module at ``path`` names, following the class's own methods it calls (``cls.x``,
    ``self.x``); the model's parts it calls (``m.stances``) are objects, not modules."""
    tree = ast.parse(path.read_text("utf-8"))
    known = modules()
    imported: dict[str, str] = {}  # a name at the module's top -> the module it comes from
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("unsim"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                imported[alias.asname or alias.name] = full if full in known else node.module
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name)
    methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    todo, seen, reached, names = [method], set(), set(), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(methods[name]):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                owner = node.value.id
                if owner in ("cls", "self") and node.attr in methods:
                    todo.append(node.attr)
                elif owner in imported:
                    reached.add(imported[owner])
                    names.add(f"{imported[owner]}.{node.attr}")
            elif isinstance(node, ast.Name) and node.id in imported:
                reached.add(imported[node.id])
    return reached, names


def test_how_a_state_votes_at_the_plenary_is_read_in_four_files() -> None:
    """``MemberState.decide``, which the model calls for every Assembly vote (the plenary's
    among them), reaches the compiled vote through the files README's model section names:
    every module it (and the agent's own methods it calls) names is one of them, and it calls
    the compiled vote ``vote_kernels.votes`` with the vote's form from ``kernel_args``, and the
    habit's compiled pass ``vote_kernels.repeat_last`` (its plain rule ``rules.repeat_last``);
    the model's votes reach the habit through ``decide`` alone (``Procedure`` names no pass of
    its own)."""
    readme = (SRC.parent / "README.md").read_text("utf-8")
    section = readme[readme.index("## The model") :]
    section = section[: section.index("\n## ", 1)]
    for module in VOTE_FILES:
        assert f"src/{module.replace('.', '/')}.py" in section or (
            f"{module.rpartition('.')[2]}.py" in section
        ), module
    reached, names = _reached_from(SRC / "unsim/model/agents.py", "MemberState", "decide")
    assert reached <= set(VOTE_FILES), sorted(reached - set(VOTE_FILES))
    assert "unsim.model.vote_kernels.votes" in names
    assert {"unsim.model.kernel_args.Ballot", "unsim.model.rules.cast_votes"} <= names
    assert {"unsim.model.vote_kernels.repeat_last", "unsim.model.rules.repeat_last"} <= names
    # the habit's module only draws its uniforms: no compiled pass of its own, nothing that
    # applies it outside ``decide``
    habit = ast.parse((SRC / "unsim/model/habit.py").read_text("utf-8"))
    assert not any(isinstance(n, ast.Attribute) and n.attr == "njit" for n in ast.walk(habit)), (
        "the habit's compiled pass belongs in vote_kernels.py"
    )
    voting = (SRC / "unsim/model/voting.py").read_text("utf-8")
    assert "repeat_last" not in voting and "MemberState.decide" in voting
    # the vote kernel itself builds on the kernels' own helpers (the form's evaluation, tanh)
    kernel = ast.parse((SRC / "unsim/model/vote_kernels.py").read_text("utf-8"))
    sources = {n.module for n in kernel.body if isinstance(n, ast.ImportFrom)}
    assert sources <= {"__future__", "typing", "numba", "numpy", "numpy.typing"} | {
        "unsim.model.fastmath",
        "unsim.model.kernel_args",
        "unsim.model.round_kernels",
        "unsim.model.rules",  # the habit's levels (``rules.HABIT_LEVELS``)
    }
