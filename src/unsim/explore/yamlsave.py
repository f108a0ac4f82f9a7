"""The edited scenario as YAML that keeps the scenario's evidence.

A what-if is saved as a copy of the scenario's own text in which only the changed values are
set (ruamel.yaml's round trip, which keeps the comments, the order of keys, the flow and block
styles and every ``source:`` of a distribution): the comments and sources of the values left
unchanged stay where they were. A strategy switched off is taken out with the comments above
it; the paths to the world, calibration and levers files are rewritten for the new file's
folder. A comment at the top lists the changes and the values they replace (the comments next
to a changed value give the evidence for the value it had).

ruamel.yaml reads with its round-trip loader, which builds only mappings, lists and scalars
(no tag can run code); the text it reads is the one unsim's bounded reader already checked.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from unsim.scenario.overrides import split_path

#: Keys whose value is a path relative to the scenario's folder.
PATH_KEYS = ("world", "calibration", "clause_calibration", "levers")
#: A name the explorer offers by default: ``<scenario>_whatif_<n>.yaml``.
_DEFAULT = re.compile(r"_whatif_(\d+)\.ya?ml$")


def _round_trip() -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap the scenario's lines
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def _plain(value: Any) -> Any:
    """A value to put in the document: a list of scalars in flow style, as scenarios write
    them; tuples as lists; mappings as they are."""
    if isinstance(value, list | tuple):
        seq = CommentedSeq([_plain(v) for v in value])
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, Mapping):
        return CommentedMap((k, _plain(v)) for k, v in value.items())
    return value


def _was(node: Any, key: Any) -> str:
    """The value at ``node[key]`` before the change, in a few words."""
    try:
        old = node[key]
    except (KeyError, IndexError, TypeError):
        return "unset"
    if isinstance(old, Mapping):
        return "{" + ", ".join(f"{k}: {v}" for k, v in old.items() if k != "source") + "}"
    if isinstance(old, list):
        return "[" + ", ".join(str(v) for v in old) + "]"
    return str(old)


def set_at(doc: Any, path: str, value: Any) -> str:
    """Set ``path`` (``a.b[0].c``) of the round-trip document to ``value``, making the
    mappings along it that are missing; returns the value it had, in words."""
    parts = split_path(path)
    node = doc
    for depth, part in enumerate(parts[:-1]):
        if isinstance(part, str) and (part not in node or node[part] is None):
            node[part] = CommentedSeq() if isinstance(parts[depth + 1], int) else CommentedMap()
        node = node[part]
    last = parts[-1]
    was = _was(node, last)
    node[last] = _plain(value)
    return was


def relative_paths(doc: Any, base_dir: Path, out: Path) -> None:
    """Rewrite the world, calibration and levers paths (relative to ``base_dir``) for a file
    saved as ``out`` (an absolute path is kept as it is)."""
    out_dir = out.resolve().parent
    for key in PATH_KEYS:
        value = doc.get(key)
        if isinstance(value, str) and not Path(value).is_absolute():
            target = (base_dir / value).resolve()
            doc[key] = Path(os.path.relpath(target, out_dir)).as_posix()


def edited_text(
    text: str,
    overrides: Mapping[str, Any],
    disabled: set[int] | frozenset[int],
    base_dir: Path,
    out: Path,
    header: list[str],
) -> str:
    """The scenario ``text`` with ``overrides`` set and the strategies ``disabled`` (by
    index, as the overrides' paths count them) taken out, its paths rewritten for ``out``, and
    a comment at the top: ``header`` then the changes with the values they replace."""
    rt = _round_trip()
    doc = rt.load(text)
    changes = []
    for path, value in overrides.items():
        was = set_at(doc, path, value)
        changes.append(f"#   {path} = {_scalar_text(value)} (was {was})")
    strategies = doc.get("actors", {}).get("target", {}).get("strategies")
    for i in sorted(disabled, reverse=True):  # after the overrides, whose indices are these
        item = strategies[i]
        kind = item.get("type", "?") if isinstance(item, Mapping) else "?"
        changes.append(f"#   strategy {i + 1} ({kind}) switched off (taken out)")
        del strategies[i]
    relative_paths(doc, base_dir, out)
    buf = io.StringIO()
    rt.dump(doc, buf)
    head = list(header)
    if changes:
        head += [
            "# Changed (the comments beside a changed value give the evidence for the value it "
            "had):",
            *sorted(changes),
        ]
    return "\n".join(head) + "\n" + buf.getvalue()


def _scalar_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def default_save_name(stem: str, save_dir: Path) -> str:
    """``<stem>_whatif_<n>.yaml`` with the first ``n`` from 1 that names no file in
    ``save_dir`` (never the scenario's own name: that has no ``_whatif_<n>``)."""
    taken = set()
    try:
        for entry in os.scandir(save_dir):
            found = _DEFAULT.search(entry.name)
            if entry.name.startswith(f"{stem}_whatif_") and found:
                taken.add(int(found[1]))
    except OSError:
        pass
    n = 1
    while n in taken or (save_dir / f"{stem}_whatif_{n}.yaml").exists():
        n += 1
    return f"{stem}_whatif_{n}.yaml"
