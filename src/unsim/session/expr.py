"""A tiny expression language over a session's run-table columns, parsed without ``eval``.

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := unary (("+" | "-") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | NAME | "true" | "false" | "(" expr ")"

A NAME is a column: ``draft.column`` (``dprk.plenary_yes``) or a session column
(``all_adopted``, ``adopted_count``). Nothing else is read and nothing can be called: the parser
builds a tree of tuples that :func:`evaluate` walks over NumPy arrays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unsim.errors import did_you_mean

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)?)"
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\(|\)))"
)
_COMPARE = ("<", "<=", ">", ">=", "==", "!=")
_WORDS = ("and", "or", "not", "true", "false")
MAX_DEPTH = 50

Node = tuple[Any, ...]


class ExpressionError(ValueError):
    """An expression that cannot be parsed, or names an unknown column."""

    def __init__(self, message: str, suggestion: str | None = None):
        super().__init__(message)
        self.suggestion = suggestion


@dataclass(frozen=True)
class Expression:
    """A parsed expression over a session's run-table columns: its text and its tree."""

    text: str
    tree: Node

    @property
    def names(self) -> set[str]:
        """The column names the expression uses."""
        return set(_names(self.tree))


def _names(node: Node) -> Iterable[str]:
    if node[0] == "name":
        yield node[1]
    for child in node[1:]:
        if isinstance(child, tuple):
            yield from _names(child)


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(f"cannot read {text[pos : pos + 20].strip()!r} (position {pos})")
        out.append(m.group(m.lastgroup or "op"))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[str]):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def peek(self) -> str | None:
        """The next token, or None at the end."""
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        """The next token, moving past it; an error at the end."""
        tok = self.peek()
        if tok is None:
            raise ExpressionError("the expression ends too soon")
        self.i += 1
        return tok

    def expr(self) -> Node:
        """An expression: terms joined by ``or``."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} deep")
        node = self.binary(("or",), self.conj)
        self.depth -= 1
        return node

    def conj(self) -> Node:
        """Terms joined by ``and``."""
        return self.binary(("and",), self.negation)

    def binary(self, ops: tuple[str, ...], sub: Any) -> Node:
        """``sub`` terms joined left to right by any of the operators ``ops``."""
        node = sub()
        while self.peek() in ops:
            node = (self.take(), node, sub())
        return node

    def negation(self) -> Node:
        """A comparison, or ``not`` before one."""
        if self.peek() == "not":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"nested more than {MAX_DEPTH} deep")
            return ("not", self.negation())
        return self.compare()

    def compare(self) -> Node:
        """A sum, or two sums compared (no chains of comparisons)."""
        node = self.sum()
        if self.peek() in _COMPARE:
            node = (self.take(), node, self.sum())
            if self.peek() in _COMPARE:
                raise ExpressionError("chained comparisons: join them with and")
        return node

    def sum(self) -> Node:
        """Terms joined by ``+`` and ``-``."""
        return self.binary(("+", "-"), self.unary)

    def unary(self) -> Node:
        """A term, or ``-`` before one."""
        if self.peek() == "-":
            self.take()
            return ("neg", self.unary())
        return self.atom()

    def atom(self) -> Node:
        """A number, ``true``, ``false``, a column name or an expression in brackets."""
        tok = self.take()
        if tok == "(":
            node = self.expr()
            if self.peek() != ")":
                raise ExpressionError("a ( without its )")
            self.take()
            return node
        if tok[0].isdigit():
            return ("num", float(tok))
        if tok in ("true", "false"):
            return ("num", 1.0 if tok == "true" else 0.0)
        if tok in _WORDS or not (tok[0].isalpha() or tok[0] == "_"):
            raise ExpressionError(f"expected a column, a number or (, got {tok!r}")
        return ("name", tok)


def parse(text: str, columns: Iterable[str] | None = None) -> Expression:
    """The expression ``text``; with ``columns`` every name must be one of them."""
    tokens = _tokens(text)
    if not tokens:
        raise ExpressionError("an empty expression")
    p = _Parser(tokens)
    tree = p.expr()
    if p.peek() is not None:
        raise ExpressionError(f"unexpected {p.peek()!r} after a complete expression")
    out = Expression(text, tree)
    if columns is not None:
        known = list(columns)
        for name in sorted(out.names):
            if name not in known:
                raise ExpressionError(f"unknown column {name!r}", did_you_mean(name, known))
    return out


_BINARY = {
    "+": np.add,
    "-": np.subtract,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
    "and": np.logical_and,
    "or": np.logical_or,
}


def evaluate(expr: Expression, columns: Mapping[str, NDArray[Any]]) -> NDArray[Any]:
    """The expression's value in every run (booleans or numbers)."""
    return np.asarray(_eval(expr.tree, columns))


def _eval(node: Node, cols: Mapping[str, NDArray[Any]]) -> Any:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "name":
        v = cols[node[1]]
        return v.astype(np.float64) if v.dtype != np.bool_ else v
    if kind == "neg":
        return np.negative(np.asarray(_eval(node[1], cols), dtype=np.float64))
    if kind == "not":
        return np.logical_not(_eval(node[1], cols))
    left, right = _eval(node[1], cols), _eval(node[2], cols)
    if kind in ("+", "-"):
        left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    return _BINARY[kind](left, right)
