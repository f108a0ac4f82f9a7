"""Scenario discovery: which combinations of assumptions lead to an outcome?

Over the points of a sweep or a sensitivity analysis (each a combination of parameter values with
the probability of each outcome over its runs), a point is a *case of interest* when the outcome's
probability is at least ``threshold`` (or below it, with ``below``). PRIM (the Patient Rule
Induction Method, Friedman and Fisher 1999, as implemented by the EMA Workbench:
``ema_workbench.analysis.prim``) then peels the parameter space down to boxes (a range per
parameter) that hold many cases of interest (*coverage*: the share of all cases inside the box)
and few others (*density*: the share of the box's points that are cases).

Each box is chosen on its peeling trajectory: the box of highest coverage whose density reaches
``density`` (else the densest box). Further boxes are looked for among the cases the earlier boxes
left out.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from unsim.errors import InputError

__all__ = ["Box", "Discovery", "discover", "load_discovery", "save_discovery"]


@dataclass
class Box:
    """One box: the restricted ranges, and how well it captures the cases of interest."""

    limits: pd.DataFrame  # one row per restricted parameter: parameter, low, high (+ full range)
    coverage: float
    density: float
    mass: float
    points: int
    index: int  # its step on the peeling trajectory
    trajectory: pd.DataFrame  # the peeling trajectory: coverage, density, mass, res_dim, ...


@dataclass
class Discovery:
    """A scenario discovery's result: the boxes found for the points where ``outcome``'s
    probability is at least ``threshold`` (below it with ``below``), and how many points and
    cases of interest there were."""

    outcome: str
    threshold: float
    below: bool
    cases: int
    points: int
    boxes: list[Box] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    params: list[str] = field(default_factory=list)


def _prim() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench warns about optional parts it lacks
        from ema_workbench.analysis import prim
    return prim


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def discover(
    x: pd.DataFrame,
    y: Sequence[bool] | np.ndarray,
    *,
    density: float = 0.8,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    boxes: int = 1,
) -> list[Box]:
    """PRIM boxes of the cases ``y`` (booleans, one per row of the parameter table ``x``)."""
    prim = _prim()
    y = np.asarray(y, dtype=bool)
    if len(y) != len(x):
        raise ValueError("x and y must have as many rows")
    if not y.any():
        raise ValueError("no point is a case of interest: nothing to discover")
    x = x.reset_index(drop=True).copy()
    for col in x.columns:
        if not pd.api.types.is_numeric_dtype(x[col]) or x[col].dtype == bool:
            x[col] = x[col].astype(str).astype("category")
    kwargs: dict[str, Any] = {
        "peel_alpha": peel_alpha,
        "paste_alpha": paste_alpha,
        "mass_min": mass_min,
    }
    if "threshold" in inspect.signature(prim.Prim.__init__).parameters:  # ema_workbench < 3
        kwargs["threshold"] = density
    finder = _quiet(prim.Prim, x, y, **kwargs)
    found: list[Box] = []
    for _ in range(boxes):
        box = _quiet(finder.find_box)
        if box is None:
            break
        traj = box.peeling_trajectory.reset_index(drop=True)
        ok = traj[traj["density"] >= density]
        if len(ok):  # the highest coverage, then the highest density
            i = int(ok.sort_values(["coverage", "density"], kind="stable").index[-1])
        else:
            i = int(traj["density"].idxmax())
        _quiet(box.select, i)
        row = traj.loc[i]
        found.append(
            Box(
                limits=restricted(box.box_lims[i], box.box_lims[0], list(x.columns)),
                coverage=float(row["coverage"]),
                density=float(row["density"]),
                mass=float(row["mass"]),
                points=int(row["n"]),
                index=i,
                trajectory=traj[["coverage", "density", "mass", "res_dim"]].copy(),
            )
        )
    return found


def restricted(lims: pd.DataFrame, full: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The parameters a box restricts: their range (numbers) or values (categories) in the box
    ``lims``, against their whole range ``full``."""
    rows: list[dict[str, Any]] = []
    for col in columns:
        lo, hi = lims[col].iloc[0], lims[col].iloc[1]
        if isinstance(lo, set | frozenset):
            if set(lo) != set(full[col].iloc[0]):
                rows.append({"parameter": col, "values": sorted(map(str, lo))})
            continue
        if lo > full[col].iloc[0] or hi < full[col].iloc[1]:
            rows.append(
                {
                    "parameter": col,
                    "low": float(lo),
                    "high": float(hi),
                    "range_low": float(full[col].iloc[0]),
                    "range_high": float(full[col].iloc[1]),
                }
            )
    return pd.DataFrame(rows)


def discover_in_folder(
    folder: str | Path,
    outcome: str,
    threshold: float = 0.5,
    *,
    below: bool = False,
    density: float = 0.8,
    peel_alpha: float = 0.05,
    boxes: int = 1,
) -> Discovery:
    """Scenario discovery over the points of a saved sweep or sensitivity analysis."""
    from unsim.studies.storage import load_sweep
    from unsim.studies.table import outcome_column, param_columns

    table = load_sweep(folder)
    try:
        col = outcome_column(table, outcome)
    except KeyError as err:
        raise InputError(f"--outcome: {err.args[0]}") from None
    params = [p for p in param_columns(table) if table[p].nunique() > 1]
    if not params:
        raise InputError(f"{folder}: no parameter varies over the points")
    values = table[col].to_numpy(dtype=float)
    cases = values < threshold if below else values >= threshold
    if not cases.any() or cases.all():
        which = "no point" if not cases.any() else "every point"
        raise InputError(
            f"{which} has {outcome} {'below' if below else 'at least'} {threshold}, so there "
            "are no boxes to find (over the points it ranges from "
            f"{np.nanmin(values):.3f} to {np.nanmax(values):.3f}); choose another --threshold"
            + ("" if below else " or --below")
        )
    found = discover(table[params], cases, density=density, peel_alpha=peel_alpha, boxes=boxes)
    return Discovery(
        outcome=outcome,
        threshold=threshold,
        below=below,
        cases=int(cases.sum()),
        points=len(cases),
        boxes=found,
        labels=dict(table.attrs.get("labels") or {}),
        params=params,
    )


def format_discovery(d: Discovery) -> str:
    """A discovery's boxes as text: each box's limits, its coverage and density."""
    rel = "below" if d.below else "at least"
    lines = [
        f"scenario discovery: P({d.outcome}) {rel} {d.threshold:g} in {d.cases} of {d.points} "
        f"points"
    ]
    for k, box in enumerate(d.boxes, 1):
        lines.append(
            f"\nbox {k}: coverage {box.coverage:.2f} (share of the cases inside), density "
            f"{box.density:.2f} (share of the box's points that are cases), {box.points} points"
        )
        if box.limits.empty:
            lines.append("  (no restriction: the cases are spread over the whole space)")
        for r in box.limits.to_dict("records"):
            name = d.labels.get(r["parameter"], r["parameter"])
            if "values" in r and isinstance(r["values"], list):
                lines.append(f"  {name}: one of {', '.join(r['values'])}")
            else:
                lines.append(
                    f"  {name}: {r['low']:.4g} to {r['high']:.4g}  "
                    f"(of {r['range_low']:.4g} to {r['range_high']:.4g})"
                )
    return "\n".join(lines)


def save_discovery(d: Discovery, out: Path, source: str, plots: bool = True) -> Path:
    """Write the discovery folder atomically (built beside ``out``, then renamed; ``out`` must
    be new or empty), every file with unsim's mark (:mod:`unsim.ownership`)."""
    from unsim.atomic import write_folder_atomically
    from unsim.ownership import json_text, record_files
    from unsim.results.tables import check_output_folder, output_errors

    check_output_folder(out, hint="or leave out --out for a new folder beside the study")

    def write(folder: Path) -> None:
        """Write the boxes, trajectory, ``discovery.json`` (and the figure) in ``folder``."""
        write_boxes(d, folder)
        record_files(folder, {"boxes.csv": None, "trajectory.csv": None})
        (folder / "discovery.json").write_text(json_text(discovery_info(d, source)))
        if plots:
            from unsim.studies.plots import save_discovery_figure

            save_discovery_figure(d, folder / "discovery.png")

    with output_errors(out):
        return write_folder_atomically(out, write)


def write_boxes(d: Discovery, folder: Path) -> None:
    """``boxes.csv`` (each box's limits) and ``trajectory.csv`` (each box's peeling steps)."""
    limits = []
    trajectories = []
    for k, box in enumerate(d.boxes, 1):
        if not box.limits.empty:
            limits.append(box.limits.assign(box=k))
        trajectories.append(box.trajectory.assign(box=k, step=range(len(box.trajectory))))
    lim = pd.concat(limits, ignore_index=True) if limits else pd.DataFrame()
    if "values" in lim:
        lim["values"] = lim["values"].map(lambda v: ";".join(v) if isinstance(v, list) else None)
    lim.to_csv(folder / "boxes.csv", index=False)
    pd.concat(trajectories, ignore_index=True).to_csv(folder / "trajectory.csv", index=False)


def discovery_info(d: Discovery, source: str) -> dict[str, Any]:
    """What ``discovery.json`` says: the question, the boxes found, the method and versions."""
    from unsim.engine.core import versions

    return {
        "kind": "discovery",
        "source": source,
        "outcome": d.outcome,
        "threshold": d.threshold,
        "below": d.below,
        "cases": d.cases,
        "points": d.points,
        "params": d.params,
        "labels": d.labels,
        "boxes": [
            {
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "points": b.points,
                "step": b.index,
            }
            for b in d.boxes
        ],
        "method": "PRIM (ema_workbench.analysis.prim)",
        "versions": versions(),
    }


def load_discovery(folder: str | Path) -> Discovery:
    """A saved discovery (its boxes and trajectories), read within bounds and checked
    (:mod:`unsim.results.saved`)."""
    from unsim.results.saved import DiscoveryInfo, check_shape, read_mapping

    folder = Path(folder)
    path = folder / "discovery.json"
    info: DiscoveryInfo = check_shape(DiscoveryInfo, read_mapping(path, "a discovery folder"), path)
    traj = _read_csv(folder / "trajectory.csv", ("box", *TRAJECTORY), ("box", *TRAJECTORY))
    if traj is None:
        raise InputError(f"{folder}: not a discovery folder (trajectory.csv missing)")
    lim = _read_csv(folder / "boxes.csv", ("box", "parameter"), ("box",), empty=True)
    if lim is None:
        lim = pd.DataFrame(columns=["box", "parameter"])
    boxes = []
    for k, b in enumerate(info.boxes, 1):
        limits = lim[lim["box"] == k].drop(columns="box").reset_index(drop=True)
        if "values" in limits:
            limits["values"] = limits["values"].map(
                lambda v: str(v).split(";") if isinstance(v, str) else math.nan
            )
        t = traj[traj["box"] == k][list(TRAJECTORY)]
        boxes.append(
            Box(
                limits=limits,
                coverage=b.coverage,
                density=b.density,
                mass=b.mass,
                points=b.points,
                index=b.step,
                trajectory=t.reset_index(drop=True),
            )
        )
    return Discovery(
        outcome=info.outcome,
        threshold=info.threshold,
        below=info.below,
        cases=info.cases,
        points=info.points,
        boxes=boxes,
        labels=dict(info.labels),
        params=list(info.params),
    )


#: The columns of a peeling trajectory (``trajectory.csv``, besides ``box``).
TRAJECTORY = ("coverage", "density", "mass", "res_dim")


def _read_csv(
    path: Path, columns: Sequence[str], numeric: Sequence[str], empty: bool = False
) -> pd.DataFrame | None:
    """A discovery folder's CSV table, within bounds and checked; None if missing, or if empty
    and ``empty`` is allowed (a discovery with no restricted parameter writes an empty
    ``boxes.csv``)."""
    from unsim.results.saved import check_columns
    from unsim.safeio import FileReadError
    from unsim.safetables import EmptyTableError, read_csv_table

    try:
        table = read_csv_table(path)
    except FileReadError as exc:
        if exc.missing or (empty and isinstance(exc, EmptyTableError)):
            return None
        raise InputError(f"{path}: {exc.reason}") from None
    check_columns(table, path, columns, numeric)
    return table
