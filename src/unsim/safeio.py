"""Reading input files within bounds: regular files only, a size limit, YAML without surprises.

Every file unsim reads on a user's behalf (scenario, world, calibration, a results folder's JSON)
goes through :func:`read_bounded`: a FIFO, a device (``/dev/zero``), a folder or a file larger than
the limit is refused with a message naming it, before anything is read without bound. YAML goes
through :func:`load_yaml`: a key given twice in one mapping is an error naming both lines, nesting
is limited in depth, and aliases cannot expand a small file into a huge value.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from unsim.errors import UnsimError

#: Largest input file read (scenario, world, calibration, summary.json, metadata.json).
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Deepest nesting of mappings and lists in a YAML file.
MAX_YAML_DEPTH = 64
#: Most values a YAML document may stand for once its aliases are expanded.
MAX_YAML_NODES = 1_000_000

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "FileReadError",
    "YamlLimitError",
    "load_yaml",
    "read_bounded",
]


class FileReadError(UnsimError):
    """An input file cannot be read (missing, not a regular file, too large, no permission...)."""

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


def _size_text(n: int) -> str:
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


def read_bounded(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; :class:`FileReadError` otherwise.

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
            path, f"file too large ({_size_text(info.st_size)}; the limit is {_size_text(limit)})"
        )
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, open does not wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise FileReadError(path, _os_reason(exc), missing=exc.errno == errno.ENOENT) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileReadError(path, "not a regular file; only regular files are read")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileReadError(
                    path, f"file too large (more than the limit of {_size_text(limit)})"
                )
    except OSError as exc:
        raise FileReadError(path, _os_reason(exc)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth limit and an error on duplicate keys."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLimitError(f"nested more than {MAX_YAML_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                if not isinstance(key_node, ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=True)
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
        return super().construct_mapping(node, deep=deep)


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
    loader = BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_YAML_NODES:
            raise YamlLimitError(
                f"the document stands for more than {MAX_YAML_NODES:,} values once its "
                "aliases (*name) are expanded",
                node.start_mark,
            )
        return loader.construct_document(node)
    except RecursionError:
        raise ComposerError(None, None, "nested too deeply", None) from None
    finally:
        loader.dispose()
