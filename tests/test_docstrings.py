"""Every public function, method and class of the package says what it does: a docstring on
each name that does not start with an underscore (nested ones included)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "unsim"


def undocumented(source: str) -> list[tuple[int, str]]:
    """(line, name) of the public functions, methods and classes in ``source`` without one."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return [
        (node.lineno, node.name)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, kinds)
        and not node.name.startswith("_")
        and ast.get_docstring(node) is None
    ]


def test_the_check_finds_a_missing_docstring() -> None:
    source = 'def shown():\n    """Said."""\n\n\ndef bare():\n    pass\n\n\ndef _own():\n    pass\n'
    assert undocumented(source) == [(5, "bare")]


def test_every_public_function_and_class_has_a_docstring() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 100
    missing = [
        f"{path.relative_to(SRC)}:{line} {name}"
        for path in files
        for line, name in undocumented(path.read_text("utf-8"))
    ]
    assert missing == []
