"""The shape of the code: modules and functions a reader can hold in mind, packages in the
pipeline's order (scenario -> model -> engine -> results -> studies | calibration, cli on top).

The import rules have their own tests: no cycle (tests/test_strategies.py) and no private name
imported from another package (tests/test_executors.py)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "unsim"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_KERNEL_PARAMETERS = 8

PIPELINE = ("scenario", "model", "engine", "results", "studies", "calibration", "cli")


def _modules() -> list[Path]:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 40, f"expected unsim's modules under {SRC}"
    return files


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _length(node: ast.AST) -> int:
    return int(node.end_lineno or node.lineno) - int(node.lineno) + 1  # type: ignore[attr-defined]


def test_no_module_over_500_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in _modules()
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_over_60_lines() -> None:
    long = {
        f"{p.relative_to(SRC)}:{f.lineno} {f.name}": _length(f)
        for p in _modules()
        for f in _functions(ast.parse(p.read_text("utf-8")))
        if _length(f) > MAX_FUNCTION_LINES
    }
    assert long == {}


def _is_compiled(f: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    names = set()
    for d in f.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return bool(names & {"njit", "jit", "vectorize", "guvectorize"})


def test_no_kernel_over_8_parameters() -> None:
    kernels = [
        (p, f)
        for p in sorted((SRC / "model").rglob("*.py"))
        for f in _functions(ast.parse(p.read_text("utf-8")))
        if _is_compiled(f)
    ]
    assert kernels, "the model's compiled kernels were not found"
    wide = {
        f"{p.name}:{f.name}": len(f.args.args) + len(f.args.kwonlyargs)
        for p, f in kernels
        if len(f.args.args) + len(f.args.kwonlyargs) > MAX_KERNEL_PARAMETERS
    }
    assert wide == {}


def test_the_package_is_laid_out_as_the_pipeline() -> None:
    for name in PIPELINE:
        assert (SRC / name / "__init__.py").is_file(), f"unsim.{name} is not a package"
    flat = sorted(
        p.name
        for p in SRC.glob("*.py")
        if p.name not in {"__init__.py", "__main__.py", "_version.py"}
    )
    # the few shared foundations every stage uses, and nothing else, sit at the top
    assert set(flat) <= {
        "atomic.py",
        "lazy.py",
        "limits.py",
        "errors.py",
        "ownership.py",
        "fields.py",
        "safeio.py",
        "safetables.py",
        "data.py",
        "streams.py",
        "worker_start.py",
    }, flat
