"""A session's results: the text the terminal prints, the folder (written atomically), the joint
figure (pairs of plenary yes tallies) and the paired comparison of two sessions."""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from unsim.results.stats import paired_difference

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from unsim.session.run import SessionResults


def _pct(p: float) -> str:
    return "  n/a" if p is None or math.isnan(p) else f"{100 * p:5.1f}%"


def _share(entry: dict[str, float]) -> str:
    return f"{_pct(entry['p'])} [{_pct(entry['ci_low']).strip()}, {_pct(entry['ci_high']).strip()}]"


def _spill_mean(spill: dict[str, Any]) -> float:
    """The mean of the spillover's distribution as ``summary.json`` holds it."""
    from typing import Annotated

    from pydantic import Field, TypeAdapter

    from unsim.uncertainty.distributions import Distribution

    kind = Annotated[Distribution, Field(discriminator="dist")]
    return float(TypeAdapter(kind).validate_python(spill).expectation())


def format_session(res: SessionResults, out: str | None = None) -> str:
    """The session's summary in a few lines: each draft, then what they do together."""
    s = res.summary
    link = s["linkage"]
    copula = link.get("vote_copula") or {}
    spill = link.get("spillover")
    spill_text = (
        ""
        if spill is None
        else f", spillover {spill:g}"
        if isinstance(spill, (int, float))
        else f", spillover {spill['dist']} (mean {_spill_mean(spill):.2f})"
    )
    lines = [
        f"Session {res.session.name}: {len(res.drafts)} drafts, {res.runs:,} runs, seed {res.seed}",
        f"  linkage: vote copula rho {copula.get('rho', 0.0):g}, state factor sd "
        f"{link['state_factor']['sd']:g}, session shock sd {link['session_shock']['sd']:g}"
        + (" (the shared part of each draft's level)" if link["shock_from_level"] else "")
        + spill_text,
        "",
        f"  {'draft':<10}{'target':<8}{'adopted [95%]':<26}{'without a vote':<16}"
        f"{'plenary yes: median [5-95%]'}",
    ]
    for name, d in s["drafts"].items():
        tallies = d["summary"]["tallies"].get("plenary", {}).get("yes")
        yes = (
            f"{tallies['q50']:.0f} [{tallies['q05']:.0f}-{tallies['q95']:.0f}]" if tallies else "-"
        )
        lines.append(
            f"  {name:<10}{d['target']:<8}{_share(d['adopted']):<26}"
            f"{_pct(d['adopted_without_vote']['p']):<16}{yes}"
        )
    lines += ["", f"  every draft adopted: {_share(s['all_adopted'])}"]
    counts = ", ".join(f"{k}: {_pct(v['p']).strip()}" for k, v in s["adopted_count"].items())
    lines.append(f"  drafts adopted: {counts}")
    for pair, c in s["plenary_yes_correlation"].items():
        r = (
            "n/a"
            if math.isnan(c["r"])
            else f"{c['r']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]"
        )
        lines.append(f"  correlation of plenary yes, {pair.replace('~', ' and ')}: {r}")
    for name, o in s["joint_outcomes"].items():
        if "p" in o:
            lines.append(f"  {name} ({o['expression']}): {_share(o)}")
        else:
            lines.append(
                f"  {name} ({o['expression']}): mean {o['mean']:.2f} "
                f"[5-95%: {o['q05']:.2f} to {o['q95']:.2f}]"
            )
    seeds = ", ".join(f"{k} {v}" for k, v in res.draft_seeds.items())
    lines += ["", f"  drafts' seeds (unsim run DRAFT.yaml --seed SEED gives each alone): {seeds}"]
    if out:
        lines.append(f"  results: {out}")
    return "\n".join(lines)


def pairs_figure(res: SessionResults) -> Figure:
    """The plenary yes tallies of each pair of drafts, run by run (a 2-D histogram each)."""
    from matplotlib.figure import Figure

    t = res.table
    names = [n for n in res.drafts if t[f"{n}.plenary_held"].any()]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    fig = Figure(figsize=(4.2 * max(len(pairs), 1), 4.0), layout="constrained")
    if not pairs:
        fig.text(0.5, 0.5, "fewer than two drafts reach the plenary", ha="center")
        return fig
    corr = res.summary["plenary_yes_correlation"]
    for k, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(1, len(pairs), k + 1)
        held = t[f"{a}.plenary_held"].to_numpy(bool) & t[f"{b}.plenary_held"].to_numpy(bool)
        x, y = t[f"{a}.plenary_yes"].to_numpy()[held], t[f"{b}.plenary_yes"].to_numpy()[held]
        edges = (np.arange(x.min(), x.max() + 2) - 0.5, np.arange(y.min(), y.max() + 2) - 0.5)
        ax.hist2d(x, y, bins=edges, cmap="Blues", cmin=1)
        r = corr.get(f"{a}~{b}", {}).get("r", math.nan)
        ax.set_title(f"{a} and {b}: r = {r:+.2f}", fontsize=10)
        ax.set_xlabel(f"{a}: plenary yes votes")
        ax.set_ylabel(f"{b}: plenary yes votes")
    fig.suptitle(f"Session {res.session.name}: plenary yes tallies, run by run", fontsize=11)
    return fig


def save_session(
    res: SessionResults,
    out: Path,
    *,
    plots: bool = True,
    force: bool = False,
    inputs: Iterable[str | Path] = (),
    table_format: str = "parquet",
    tables: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the session's folder atomically: metadata.json, summary.json, runs.parquet (the
    joint run table; ``runs.csv`` with ``table_format="csv"``), pairs.png, each draft's results
    folder under ``drafts/`` and any further ``tables`` (by name, in the same format)."""
    from unsim.atomic import write_folder_atomically
    from unsim.engine.core import provenance
    from unsim.ownership import json_text, output_errors, record_files, save_png, write_parquet
    from unsim.results.output import check_output_folder, check_replaced_folder

    if plots:
        from unsim.results.plots import save_standard_plots  # matplotlib: only to draw

    inputs = list(inputs)
    check_output_folder(out, force=force, inputs=inputs)
    meta = {"kind": "session", **res.metadata, **provenance()}

    def write(folder: Path) -> None:
        """Write the metadata, summary, tables, drafts' results (and the figure) in ``folder``."""
        (folder / "metadata.json").write_text(json_text(meta), encoding="utf-8")
        (folder / "summary.json").write_text(json_text(_plain(res.summary)), encoding="utf-8")
        for name, df in {"runs": res.table, **(tables or {})}.items():
            if table_format == "csv":
                df.to_csv(folder / f"{name}.csv", index=False)
            else:
                write_parquet(df, folder / f"{name}.parquet")
        if table_format == "csv":
            record_files(folder, {p.name: None for p in folder.glob("*.csv")})
        for name, r in res.drafts.items():
            draw = partial(save_standard_plots, r) if plots else None
            r.save(folder / "drafts" / name, table_format=table_format, also=draw)
        if plots:
            save_png(pairs_figure(res), folder / "pairs.png", dpi=110)

    with output_errors(out):
        write_folder_atomically(
            out, write, check_replaced=lambda old: check_replaced_folder(out, look_in=old)
        )
    return out


def _plain(obj: Any) -> Any:
    """Numbers as JSON numbers (NaN as None)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return None if math.isnan(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def compare_sessions(a: SessionResults, b: SessionResults) -> pd.DataFrame:
    """Each draft both sessions hold (by name), paired run by run (the same draft seed, the same
    linkage streams), and the session's own outcomes: B minus A with its paired interval."""
    if a.seed != b.seed or a.runs != b.runs:
        raise ValueError("a paired comparison needs the same seed and number of runs")
    rows = []
    ta, tb = a.table, b.table
    columns = ["all_adopted", "adopted_count"]
    for name in a.drafts:
        if name in b.drafts:
            columns += [f"{name}.adopted", f"{name}.plenary_yes"]
    for col in columns:
        x, y = ta[col].to_numpy(), tb[col].to_numpy()
        rows.append({"outcome": col, **paired_difference(x, y)})
    return pd.DataFrame(rows)


def format_session_comparison(table: pd.DataFrame, name_a: str, name_b: str) -> str:
    """The paired comparison of two sessions (:func:`compare_sessions`'s table) as text."""
    lines = [
        f"Paired comparison of sessions on common random numbers: B minus A (A = {name_a}, "
        f"B = {name_b})",
        f"  {'outcome':<30}{'A':>10}{'B':>10}   B - A [95% interval]",
    ]
    for r in table.itertuples():
        share = not (str(r.outcome).endswith("_yes") or r.outcome == "adopted_count")
        if share:
            lines.append(
                f"  {r.outcome:<30}{_pct(r.p_a):>10}{_pct(r.p_b):>10}   {100 * r.diff:+.1f} pts "
                f"[{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]"
            )
        else:
            lines.append(
                f"  {r.outcome:<30}{r.p_a:>10.2f}{r.p_b:>10.2f}   {r.diff:+.2f} "
                f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
            )
    return "\n".join(lines)
