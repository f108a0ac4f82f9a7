"""Reading input files within bounds: regular files only, a size limit, YAML without surprises.

Every file unsim reads on a user's behalf (scenario, world, calibration, a results or study
folder's JSON) goes through :func:`read_bounded`: a FIFO, a device (``/dev/zero``), a folder or a
file larger than the limit is refused with a message naming it, before anything is read without
bound. YAML goes through :func:`load_yaml`: a key given twice in one mapping is an error naming
both lines, nesting is limited in depth, and aliases cannot expand a small file into a huge value.
JSON goes through :func:`read_json` (the same file checks, nesting limited in depth). Tables (CSV,
gzip-compressed CSV, Parquet) are read by :mod:`unsim.safetables`.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from unsim.errors import ExitCode, UnsimError

#: Largest input file read (scenario, world, calibration, summary.json, metadata.json).
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Deepest nesting of mappings and lists in a YAML file.
MAX_YAML_DEPTH = 64
#: Most values a YAML document may stand for once its aliases are expanded.
MAX_YAML_NODES = 100_000
#: Deepest nesting of objects and arrays in a JSON file.
MAX_JSON_DEPTH = 64

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "FileReadError",
    "YamlLimitError",
    "load_json",
    "load_yaml",
    "open_regular",
    "read_bounded",
    "read_json",
]


class FileReadError(UnsimError):
    """An input file cannot be read (missing, not a regular file, too large, no permission...)."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, path: str | Path, reason: str, missing: bool = False):
        self.path = str(path)
        self.reason = reason
        self.missing = missing
        super().__init__(f"{path}: {reason}")


class YamlLimitError(yaml.YAMLError):
    """A YAML document is nested too deeply, or its aliases expand to too many values."""

    def __init__(self, message: str, mark: Any = None):
        self.problem = message
        self.problem_mark = mark
        super().__init__(message)


def size_text(n: int) -> str:
    """A size in bytes for a message: in MiB from 1 MiB up, else in bytes."""
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _os_reason(exc: OSError) -> str:
    reasons = {
        errno.ENOENT: "file not found",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.ELOOP: "too many levels of symbolic links (a link loop?)",
        errno.ENAMETOOLONG: "the path or a name in it is too long",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EISDIR: "is a folder, not a file",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


def open_regular(path: str | Path, limit: int = MAX_FILE_BYTES) -> int:
    """A read-only descriptor of a regular file of at most ``limit`` bytes (the caller closes
    it); :class:`FileReadError` otherwise.

    FIFOs, sockets and devices are refused without being opened for a blocking read (a FIFO
    with no writer would wait forever; ``/dev/zero`` never ends)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:
        if isinstance(exc, ValueError):  # a NUL byte in the path
            raise FileReadError(path, "not a valid file path") from None
        raise FileReadError(path, _os_reason(exc), missing=exc.errno == errno.ENOENT) from None
    if stat.S_ISDIR(info.st_mode):
        raise FileReadError(path, "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FileReadError(
            path, "not a regular file (a device, FIFO or socket); only regular files are read"
        )
    if info.st_size > limit:
        raise FileReadError(
            path, f"file too large ({size_text(info.st_size)}; the limit is {size_text(limit)})"
        )
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, open does not wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise FileReadError(path, _os_reason(exc), missing=exc.errno == errno.ENOENT) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        raise FileReadError(
            path, "changed while being opened (no longer a regular file of the size allowed)"
        )
    return fd


def read_bounded(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; :class:`FileReadError` otherwise
    (see :func:`open_regular`)."""
    fd = open_regular(path, limit)
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileReadError(
                    path, f"file too large (more than the limit of {size_text(limit)})"
                )
    except OSError as exc:
        raise FileReadError(path, _os_reason(exc)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def _json_depth(value: Any) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (without recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def load_json(raw: bytes | str) -> Any:
    """Parse JSON text nested at most :data:`MAX_JSON_DEPTH` levels deep; :class:`ValueError`
    (with a short reason) otherwise."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ValueError(f"not valid JSON ({exc.msg} at {where})") from None
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def read_json(path: str | Path, limit: int = MAX_FILE_BYTES) -> Any:
    """The JSON value of a regular file of at most ``limit`` bytes, nested at most
    :data:`MAX_JSON_DEPTH` levels deep; :class:`FileReadError` otherwise (``missing`` set when
    the file does not exist)."""
    raw = read_bounded(path, limit)
    try:
        return load_json(raw)
    except ValueError as exc:
        raise FileReadError(path, str(exc)) from None


class _NoDuplicates(SafeConstructor):
    """The safe constructor, refusing a key given twice in one mapping (naming both lines)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing a key that appears twice in it (both lines named)."""
        if isinstance(node, MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                    key_node, ScalarNode
                ):
                    continue
                key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
                try:
                    first = seen.get(key)
                except TypeError:
                    continue
                if first is not None:
                    raise ConstructorError(
                        None,
                        None,
                        f"duplicate key {_short_key(key)} (first on line {first.line + 1}, "
                        f"again on line {key_node.start_mark.line + 1}); each key may appear "
                        "once in a mapping",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-untyped-call,no-any-return]


class BoundedLoader(Reader, Scanner, Parser, Composer, _NoDuplicates, Resolver):
    """PyYAML's pure-Python safe loader with a depth limit and an error on duplicate keys."""

    def __init__(self, stream: Any):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _NoDuplicates.__init__(self)
        Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        """Compose a node, refusing nesting deeper than ``MAX_YAML_DEPTH``."""
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLimitError(_TOO_DEEP, mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


try:
    from yaml import cyaml as _cyaml
except ImportError:  # PyYAML without libyaml: the pure-Python loader above does it all
    _cyaml = None  # type: ignore[assignment]
CParser: Any = getattr(_cyaml, "CParser", None)

if CParser is not None:

    class CBoundedLoader(CParser, _NoDuplicates, Resolver):
        """libyaml's parser (four times faster) with the same constructor; its input is
        checked beforehand by :func:`_check_events` (depth, aliases)."""

        def __init__(self, stream: Any):
            CParser.__init__(self, stream)
            _NoDuplicates.__init__(self)
            Resolver.__init__(self)


def _check_events(text: str | bytes) -> None:
    """Depth and expanded size from libyaml's event stream, before anything is built."""
    depth = 0
    anchors: dict[str, int] = {}
    open_anchors: set[str] = set()
    stack: list[list[Any]] = []  # [size so far, anchor] of each open collection
    total = 0

    def add(size: int, mark: Any) -> None:
        """Count ``size`` nodes into the open collection (or the document); refuse past
        ``MAX_YAML_NODES``."""
        nonlocal total
        if stack:
            stack[-1][0] += size
            grown = stack[-1][0]
        else:
            total += size
            grown = total
        if grown > MAX_YAML_NODES:
            raise YamlLimitError(_TOO_MANY, mark)

    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise YamlLimitError(
                    f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark
                )
            stack.append([1, event.anchor])
            if event.anchor:
                open_anchors.add(event.anchor)
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
            size, anchor = stack.pop()
            if anchor:
                anchors[anchor] = size
                open_anchors.discard(anchor)
            add(size, event.start_mark)
        elif isinstance(event, ScalarEvent):
            if event.anchor:
                anchors[event.anchor] = 1
            add(1, event.start_mark)
        elif isinstance(event, AliasEvent):
            if event.anchor in open_anchors:
                raise YamlLimitError(_RECURSIVE, event.start_mark)
            add(anchors.get(event.anchor or "", 1), event.start_mark)


_TOO_DEEP = f"nested more than {MAX_YAML_DEPTH} levels deep"
_RECURSIVE = "an alias (*name) refers to a value that contains it"
_TOO_MANY = (
    f"the document stands for more than {MAX_YAML_NODES:,} values (once its aliases, *name, "
    "are expanded)"
)


def _short_key(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def _expanded_size(root: Node) -> int:
    """How many values the node graph stands for with its aliases expanded (shared nodes count
    once per use), computed without expanding it; stops counting past :data:`MAX_YAML_NODES`."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1
            children: list[Node] = []
            if isinstance(node, SequenceNode):
                children = list(node.value)
            elif isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            for child in children:
                total += sizes.get(id(child), 1)
                if total > MAX_YAML_NODES:
                    break
            sizes[key] = min(total, MAX_YAML_NODES + 1)
            continue
        if key in on_path:
            raise YamlLimitError(
                "an alias (*name) refers to a value that contains it", node.start_mark
            )
        if key in sizes:
            continue  # counted already (an alias to a value seen before)
        on_path.add(key)
        stack.append((node, True))
        if isinstance(node, SequenceNode):
            stack.extend((child, False) for child in node.value)
        elif isinstance(node, MappingNode):
            stack.extend((child, False) for pair in node.value for child in pair)
    return sizes.get(id(root), 1)


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML document within the limits; errors are :class:`yaml.YAMLError`."""
    try:
        if CParser is not None:
            _check_events(text)
            c_loader = CBoundedLoader(text)
            try:
                return c_loader.get_single_data()
            finally:
                c_loader.dispose()
        loader = BoundedLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if _expanded_size(node) > MAX_YAML_NODES:
                raise YamlLimitError(_TOO_MANY, node.start_mark)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except RecursionError:
        raise ComposerError(None, None, "nested too deeply", None) from None
    except ValueError as exc:  # a value the constructor cannot convert (an integer of 5000 digits)
        text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ConstructorError(None, None, f"a value cannot be read ({text})", None) from None
