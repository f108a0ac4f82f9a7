"""The explorer's model side, without any user interface: a scenario, its baseline run and
what-if runs on common random numbers, kept warm in the server process.

A what-if is a set of ``overrides`` (scenario path -> value, as ``unsim run --set`` takes them)
and a set of strategies switched off. Every run uses the same master seed and number of runs as
the baseline, so run i of a what-if and run i of the baseline share their random numbers and
the change between them is a paired difference.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from unsim.engine import run
from unsim.engine.assumptions import data_only as strip_assumptions
from unsim.errors import OutputError
from unsim.explain import Explanation, explain, replay
from unsim.explain.breakdown import EXPLAIN_RUNS, Replay
from unsim.explore import DEFAULT_RUNS, DEFAULT_SCENARIO
from unsim.explore.yamlsave import default_save_name, edited_text
from unsim.model.kernel_args import DRAFT_VOTES
from unsim.model.outcomes import known_outcomes, vetoes
from unsim.ownership import check_output, write_text_output
from unsim.results.stats import paired_difference, proportion
from unsim.results.tables import Results
from unsim.safeio import read_bounded
from unsim.scenario.loader import apply_overrides, read_yaml, scenario_from_dict
from unsim.scenario.schema import Scenario, World


@dataclass(frozen=True)
class WhatIf:
    """A change to the scenario: values set by path, strategies (by index) switched off."""

    overrides: tuple[tuple[str, Any], ...] = ()
    disabled: frozenset[int] = frozenset()

    @classmethod
    def of(cls, overrides: Mapping[str, Any] | None = None, disabled: Iterable[int] = ()) -> WhatIf:
        """The what-if of the values set (by path) and the strategies switched off, in one order."""
        items = tuple(sorted((overrides or {}).items()))
        return cls(tuple((k, _freeze(v)) for k, v in items), frozenset(disabled))

    def as_dict(self) -> dict[str, Any]:
        """The values set, by path."""
        return {k: _thaw(v) for k, v in self.overrides}


def _freeze(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _thaw(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def edited_raw(raw: Mapping[str, Any], what_if: WhatIf) -> dict[str, Any]:
    """The scenario mapping with the what-if applied (``raw`` itself is left as it was)."""
    out = apply_overrides(dict(raw), what_if.as_dict())
    if what_if.disabled:
        actors = dict(out.get("actors") or {})
        target = dict(actors.get("target") or {})
        strategies = list(target.get("strategies") or [])
        target["strategies"] = [s for i, s in enumerate(strategies) if i not in what_if.disabled]
        actors["target"] = target
        out["actors"] = actors
    return out


@dataclass
class Outcome:
    """An outcome's row on the page: its share of runs under the what-if (95 % interval), its
    paired difference from the reference and, if asked for, its data-only share."""

    name: str
    label: str
    p: float
    ci_low: float
    ci_high: float
    p_baseline: float
    diff: float
    diff_low: float
    diff_high: float
    #: the data-only forecast (every stated assumption removed) with its 95 % interval: NaN
    #: when not asked for or when the outcome cannot happen there
    p_data_only: float = math.nan
    data_only_low: float = math.nan
    data_only_high: float = math.nan

    @classmethod
    def paired(
        cls,
        name: str,
        label: str,
        shown: Mapping[str, Any],
        diff: Mapping[str, Any],
        data_only: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """The row of an outcome from its share as shown (``proportion``), its paired difference
        from the reference (``paired_difference``) and, if given, its data-only share."""
        only = data_only or {}
        return cls(
            name=name,
            label=label,
            p=float(shown["p"]),
            ci_low=float(shown["ci_low"]),
            ci_high=float(shown["ci_high"]),
            p_baseline=float(diff["p_a"]),
            diff=float(diff["diff"]),
            diff_low=float(diff["ci_low"]),
            diff_high=float(diff["ci_high"]),
            p_data_only=float(only.get("p", math.nan)),
            data_only_low=float(only.get("ci_low", math.nan)),
            data_only_high=float(only.get("ci_high", math.nan)),
        )


@dataclass(frozen=True)
class YesVotes:
    """A vote on the draft: its mean yes votes and their 5-95 % over the runs in which it was
    held, as shown and data only."""

    stage: str
    mean: float
    low: float
    high: float
    data_only: float
    data_only_low: float
    data_only_high: float


def _yes(runs: pd.DataFrame, stage: str) -> tuple[float, float, float]:
    """Mean, 5 % and 95 % of a vote's yes votes over the runs in which it was held."""
    held = runs[f"{stage}_held"].to_numpy(dtype=bool)
    yes = runs[f"{stage}_yes"].to_numpy(dtype=np.float64)[held]
    if not yes.size:
        return math.nan, math.nan, math.nan
    low, high = np.quantile(yes, (0.05, 0.95))
    return float(yes.mean()), float(low), float(high)


class Session:
    """A scenario loaded once, its baseline run, and what-if runs cached by their change."""

    def __init__(
        self,
        path: str | Path = DEFAULT_SCENARIO,
        runs: int = DEFAULT_RUNS,
        seed: int | None = None,
        cache_size: int = 32,
        save_dir: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.raw = read_yaml(self.path)
        #: the scenario's text, read within bounds (saved what-ifs are copies of it)
        self.text = read_bounded(self.path).decode("utf-8")
        self.base_dir = self.path.parent
        #: "Save as" writes only under this folder (default: the scenario's)
        self.save_dir = Path(save_dir if save_dir is not None else self.base_dir).resolve()
        self.scenario = scenario_from_dict(self.raw, base_dir=self.base_dir, source=str(path))
        # what-ifs reuse the loaded world and calibration instead of reading their files again
        self._resolved = dict(self.raw, world=self.scenario.world)
        if self.scenario.calibration is not None:
            self._resolved["calibration"] = self.scenario.calibration
        if self.scenario.clause_calibration is not None:
            self._resolved["clause_calibration"] = self.scenario.clause_calibration
        self.runs = int(runs)
        sim_seed = self.scenario.simulation.seed
        self.seed = int(seed if seed is not None else sim_seed if sim_seed is not None else 0)
        self._cache: OrderedDict[tuple[WhatIf, int, int], Results] = OrderedDict()
        #: data-only results by their scenario, seed and runs (most what-ifs change only what
        #: it removes, so they share one)
        self._bare: OrderedDict[tuple[str, int, int], Results] = OrderedDict()
        self._cache_size = cache_size
        self._replays: OrderedDict[int, tuple[Results, Replay]] = OrderedDict()
        self._lock = threading.Lock()
        self.last_seconds = math.nan
        self.baseline = self.results(WhatIf())

    # -- running ----------------------------------------------------------------------------
    def scenario_for(self, what_if: WhatIf) -> Scenario:
        """The scenario with the what-if applied (the scenario itself when it changes nothing)."""
        if not what_if.overrides and not what_if.disabled:
            return self.scenario
        return scenario_from_dict(
            edited_raw(self._resolved, what_if), base_dir=self.base_dir, source=str(self.path)
        )

    def results(self, what_if: WhatIf, seed: int | None = None, runs: int | None = None) -> Results:
        """The what-if's results on ``seed`` and ``runs`` (default: the session's; cached).
        Raises :class:`unsim.errors.ScenarioError` if the change makes the scenario invalid."""
        seed = self.seed if seed is None else int(seed)
        runs = self.runs if runs is None else int(runs)
        key = (what_if, seed, runs)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            t0 = time.perf_counter()
            results = run(self.scenario_for(what_if), runs=runs, seed=seed, workers=1)
            self.last_seconds = time.perf_counter() - t0
            self._cache[key] = results
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return results

    def data_only(
        self, what_if: WhatIf, seed: int | None = None, runs: int | None = None
    ) -> Results:
        """The what-if's data-only forecast (every assumption it states removed, as ``unsim
        run --data-only``) on ``seed`` and ``runs`` (default: the session's): what the
        calibration alone says. What-ifs with the same data-only scenario share one run
        (cached by that scenario, the seed and the runs)."""
        seed = self.seed if seed is None else int(seed)
        runs = self.runs if runs is None else int(runs)
        bare = strip_assumptions(self.scenario_for(what_if))
        key = (bare.model_dump_json(), seed, runs)
        with self._lock:
            if key in self._bare:
                self._bare.move_to_end(key)
                return self._bare[key]
            results = run(bare, runs=runs, seed=seed, workers=1)
            self._bare[key] = results
            while len(self._bare) > 4:
                self._bare.popitem(last=False)
            return results

    def baseline_for(self, results: Results) -> Results:
        """The baseline (the scenario as written) on the seed and runs of ``results``: the
        reference its changes are paired with."""
        return self.results(WhatIf(), results.seed, n_runs(results))

    # -- what to show -----------------------------------------------------------------------
    @staticmethod
    def yes_votes(results: Results, bare: Results) -> list[YesVotes]:
        """Each vote on the draft held in ``results``: its yes votes, as shown and data only
        (``bare``), each with its 5-95 % over runs."""
        runs, bare_runs = results.runs, bare.runs
        assert runs is not None and bare_runs is not None
        out = []
        for stage in DRAFT_VOTES:
            if f"{stage}_held" not in runs or not runs[f"{stage}_held"].any():
                continue
            mean, low, high = _yes(runs, stage)
            b_mean, b_low, b_high = (
                _yes(bare_runs, stage) if f"{stage}_held" in bare_runs else (math.nan,) * 3
            )
            out.append(YesVotes(stage, mean, low, high, b_mean, b_low, b_high))
        return out

    def outcomes(
        self, results: Results, bare: Results | None = None, *, reference: Results | None = None
    ) -> list[Outcome]:
        """Every outcome's probability with its interval, and the paired change from
        ``reference`` (default: the baseline on the same seed and runs) with its interval
        (common random numbers); with ``bare`` (the data-only results), the data-only
        probability and its interval too."""
        world = self.scenario.world
        assert isinstance(world, World)
        registry = {o.name: o for o in known_outcomes() + vetoes(world.security_council.permanent)}
        names = {st.iso3: st.name for st in world.states}
        reference = reference if reference is not None else self.baseline_for(results)
        base_runs, runs = reference.runs, results.runs
        assert base_runs is not None and runs is not None
        out = []
        shown = results.summary["outcomes"]
        # an outcome of the reference that cannot happen in the what-if (its strategy switched
        # off) is shown too, as the run table has it: never
        every = {**reference.summary["outcomes"], **shown}
        for name, o in every.items():
            entry = registry.get(name)
            if entry is None or entry.key not in runs or entry.key not in base_runs:
                continue
            happened = entry.happened(runs)
            if name not in shown:
                o = {"label": o["label"], **proportion(int(happened.sum()), len(runs))}
            d = paired_difference(entry.happened(base_runs), happened)
            only: dict[str, float] = {}
            if bare is not None and bare.runs is not None and entry.key in bare.runs:
                done = entry.happened(bare.runs)
                only = proportion(int(done.sum()), len(done))
            label = str(o["label"])
            if name.startswith("veto_") and name[5:] in names:
                label = f"{names[name[5:]]} vetoes"
            out.append(Outcome.paired(name, label, o, d, only))
        return out

    @staticmethod
    def state_detail(results: Results, iso3: str) -> pd.DataFrame:
        """One state's probability of each vote with its 95 % interval, and how often it was
        pivotal, at every stage it voted in (rows: stages)."""
        ps = results.per_state
        rows = []
        for r in ps[ps["iso3"] == iso3].itertuples():
            held = int(r.runs_held)
            row: dict[str, Any] = {"stage": str(r.stage), "runs_held": held}
            for cat in ("yes", "no", "abstain", "absent", "pivotal"):
                p = float(getattr(r, f"p_{cat}"))
                pr = proportion(round(p * held), held)
                row[cat] = pr["p"]
                row[f"{cat}_low"] = pr["ci_low"]
                row[f"{cat}_high"] = pr["ci_high"]
            rows.append(row)
        return pd.DataFrame(rows)

    def replayed(self, results: Results) -> Replay:
        """The replay of the first runs of ``results`` (``unsim.explain``), kept for the last
        few results, so that explaining another state costs no new replay."""
        key = id(results)
        with self._lock:
            held = self._replays.get(key)
        if held is not None and held[0] is results:
            return held[1]
        rep = replay(results.scenario, results.seed, min(EXPLAIN_RUNS, n_runs(results)))
        with self._lock:
            self._replays[key] = (results, rep)
            while len(self._replays) > 4:
                self._replays.popitem(last=False)
        return rep

    def explanation(self, results: Results, iso3: str, stage: str) -> Explanation:
        """Why ``iso3`` votes as it does at ``stage`` in ``results`` (``unsim.explain``), from
        :meth:`replayed`."""
        return explain(results, iso3, stage, replayed=self.replayed(results), recorded=False)

    # -- saving -----------------------------------------------------------------------------
    def to_yaml(self, what_if: WhatIf, out: str | Path) -> str:
        """The edited scenario as YAML text: the scenario's own text with the changed values
        set and its comments and sources kept (:mod:`unsim.explore.yamlsave`), with world,
        calibration, clause calibration and levers paths made relative to the folder of ``out`` (so
        ``unsim validate out`` finds them)."""
        header = [f"# A what-if of {self.path}, saved by `unsim explore`."]
        return edited_text(
            self.text, what_if.as_dict(), what_if.disabled, self.base_dir, Path(out), header
        )

    def default_save_name(self) -> str:
        """The name "Save as" offers: ``<scenario>_whatif_<n>.yaml``, new in the save folder."""
        return default_save_name(self.path.stem, self.save_dir)

    def save_yaml(self, what_if: WhatIf, out: str | Path) -> Path:
        """Write the edited scenario to a new file ``out`` under the save folder (a relative
        ``out`` is taken in that folder); atomically, never over a file, a link, a device or FIFO
        (:func:`save_target`, :mod:`unsim.ownership`)."""
        target = save_target(out, self.save_dir)
        self.scenario_for(what_if)  # refuses an invalid what-if before anything is written
        # published by :mod:`unsim.ownership` as a new file only: a file that appeared since
        # the check is never replaced
        return write_text_output(target, "yaml", self.to_yaml(what_if, target), replace=False)


#: What "Save as" may write: a scenario.
SAVE_SUFFIXES = (".yaml", ".yml")


def save_target(out: str | Path, save_dir: Path) -> Path:
    """Where "Save as" may write ``out``, or :class:`OutputError` saying why not.

    ``out`` (relative: in ``save_dir``) must name, once ``..`` and symbolic links are resolved,
    a new ``.yaml``/``.yml`` file under ``save_dir``; an existing file is never replaced, and
    anything but a regular file is refused (:func:`unsim.ownership.check_output`, which names
    what is in the way)."""
    root = save_dir.resolve()
    try:
        given = Path(out).expanduser()
        candidate = given if given.is_absolute() else root / given
        # an existing path is refused as it is (a file, link, device...), before it is resolved
        check_output(candidate, "yaml", replace=False)
        target = candidate.resolve()
    except (OSError, RuntimeError, ValueError) as err:  # a loop of links, a NUL, no such user
        raise OutputError(f"{out!r}: not a usable file name ({err}); nothing was written") from None
    if target == root or not target.is_relative_to(root):
        raise OutputError(
            f"{out}: outside the save folder {root}; nothing was written. Save under that "
            "folder (a name without a folder saves there), or start `unsim explore` with "
            "--save-dir"
        )
    if target.suffix.lower() not in SAVE_SUFFIXES:
        raise OutputError(f"{out}: a scenario is saved as a .yaml or .yml file, not {target.name}")
    check_output(target, "yaml", replace=False)
    return target


def n_runs(results: Results) -> int:
    """How many runs ``results`` holds."""
    return int(results.summary["runs"])
