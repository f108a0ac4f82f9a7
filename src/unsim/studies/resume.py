"""``--resume`` continues a study only in a folder of the same kind and the same study.

A study's ``metadata.json`` records what it is: its kind (``sweep``, ``sensitivity``), the
digest of its scenario (content, world and calibration inlined, without the sweep section), its
design or method and the parameters it varies (for a sensitivity analysis, their ranges too).
Resuming compares these with the study asked for; anything else (a run's results folder, a
discovery, another study, a folder of the user's) is refused with :class:`OutputError` before
anything in the folder is touched. The values of a grid and the number of points or runs may
change: widening a grid, or a larger sample, reuses the points already run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from unsim.errors import OutputError
from unsim.ownership import check_output, is_own, kind_of

__all__ = ["check_resume", "study_identity"]


def study_identity(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What must match for a study to be resumed in a folder: kind, scenario, design or
    method, the parameters varied (and their ranges in a sensitivity analysis)."""
    params = meta.get("params")
    params = params if isinstance(params, Mapping) else {}
    ranges = meta.get("design") == "sensitivity"
    return {
        "kind": meta.get("kind"),
        "scenario": meta.get("scenario_digest"),
        "design": meta.get("design"),
        "method": meta.get("method"),
        "parameters": {str(k): (list(v) if ranges else None) for k, v in params.items()},
    }


_NAMES = {"sweep": "sweep", "sensitivity": "sensitivity analysis"}
_WHAT = {
    "scenario": "it was run on another scenario (or the scenario, its world or its "
    "calibration changed since)",
    "design": "its design was {saved} (now {asked})",
    "method": "its method was {saved} (now {asked})",
    "parameters": "it varied {saved} (now {asked})",
}


def _saved_meta(folder: Path, kind: str) -> dict[str, Any]:
    """The study's ``metadata.json`` in ``folder``, if unsim wrote it; else a clear error."""
    from unsim.safeio import FileReadError, read_bounded

    path = folder / "metadata.json"
    hint = f"--resume continues a {kind} saved there"
    if not is_own(path, "json"):
        what = "a discovery" if (folder / "discovery.json").exists() else "no study"
        raise OutputError(
            f"{folder}: holds {what} (no metadata.json that unsim wrote for a {kind}); {hint}. "
            "Nothing was touched: choose another --out, or leave out --resume"
        )
    try:
        meta = json.loads(read_bounded(path))
    except (FileReadError, ValueError) as exc:
        raise OutputError(f"{path}: cannot be read ({exc}); {hint}") from None
    if not isinstance(meta, dict):
        raise OutputError(f"{path}: not a study's metadata; {hint}")
    return meta


def check_resume(
    folder: Path, meta: Mapping[str, Any], files: tuple[str, ...] = ("metadata.json",)
) -> None:
    """Refuse to resume the study ``meta`` in ``folder`` unless the folder is new, empty or
    holds the same study (:func:`study_identity`), and ``files`` (those the study replaces)
    may be written (:func:`unsim.ownership.check_output`)."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        raise OutputError(f"{folder}: not a folder; --resume continues a study saved in one")
    if not any(folder.iterdir()):
        return
    kind = _NAMES.get(str(meta.get("kind")), str(meta.get("kind") or "sweep"))
    saved = _saved_meta(folder, kind)
    old, new = study_identity(saved), study_identity(meta)
    if old["kind"] != new["kind"]:
        run = saved.get("kind") is None and "seed" in saved and "versions" in saved
        held = "run's results folder" if run else _NAMES.get(str(saved.get("kind")), "")
        _refuse(folder, kind, f"it holds a {held or 'folder of another kind'}, not a {kind}")
    if old["scenario"] is None:
        raise OutputError(
            f"{folder}: its {kind} records no digest of its scenario (written by an earlier "
            f"unsim), so it cannot be checked to be the same {kind}; nothing was touched. "
            "Start it again in a new folder (leave out --resume)"
        )
    for key, text in _WHAT.items():
        if old[key] != new[key]:
            _refuse(folder, kind, text.format(saved=_shown(old[key]), asked=_shown(new[key])))
    for name in files:
        check_output(folder / name, kind_of(name) or "json")


def _shown(value: Any) -> str:
    if isinstance(value, dict):  # the parameters (with their ranges in a sensitivity analysis)
        return ", ".join(k if v is None else f"{k} in {v}" for k, v in value.items()) or "none"
    return str(value)


def _refuse(folder: Path, kind: str, why: str) -> NoReturn:
    raise OutputError(
        f"{folder}: --resume continues only the same {kind}, and {why}; nothing was touched. "
        "Choose another --out, or leave out --resume"
    )
