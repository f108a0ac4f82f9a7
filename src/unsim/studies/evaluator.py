"""One evaluator for every study of a scenario: sweeps, designs of points, Sobol and Morris
sensitivity analyses, strategy comparisons.

An :class:`Evaluator` holds what the studies of a scenario share: the scenario (read once, its
world and calibration inlined), where its points run (local worker processes, a Dask cluster or
a ``concurrent.futures.Executor``: :mod:`unsim.engine.executors`), the runs of each point, the
master seed every point runs on (common random numbers: the differences between points are due
to their values, not to sampling noise), the folder the points are saved to as they finish,
whether to resume what is saved there, and a progress bar. Its methods take the design alone::

    ev = Evaluator("scenarios/icc_referral.yaml", runs=500, seed=7, workers=2, out="study")
    table = ev.sweep(SweepDesign({"actors.target.strategies[0].intensity": [0, 0.1, 0.2]}))
    ev = Evaluator("scenarios/icc_referral.yaml", runs=300, seed=7)
    indices = ev.sobol(Sensitivity({"behaviour.icc_aversion": (0.0, 4.0)}, n=64))

Every method runs its points the same way (:func:`unsim.studies.execution.execute_points`: one
model per worker, re-parameterised from point to point), so a study's results do not depend on
the executor or its number of workers, and a resumed study gives the table of one run in one go.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from unsim.engine.executors import choose_executor
from unsim.scenario.schema import Scenario
from unsim.studies.base import Base, check_points, choose_seed, plain, prepare
from unsim.studies.designs import design_points
from unsim.studies.execution import Record
from unsim.studies.sensitivity import (
    Sensitivity,
    design_model,
    morris_analysis,
    sobol_analysis,
)
from unsim.studies.storage import point_key
from unsim.studies.strategy_compare import (
    RUN_COLUMNS,
    comparison_points,
    comparison_table,
    default_variants,
)
from unsim.studies.sweeps import (
    SweepDesign,
    collect,
    finish_folder,
    start_folder,
    sweep_metadata,
    sweep_settings,
)
from unsim.studies.table import build_table

__all__ = ["Evaluator", "Sensitivity", "SweepDesign"]

#: Runs per point when none are given: a sensitivity analysis's and a strategy comparison's.
SENSITIVITY_RUNS = 500
COMPARISON_RUNS = 2000


class Evaluator:
    """Runs a scenario's studies.

    Parameters
    ----------
    scenario: a scenario file, its raw mapping (then ``base_dir`` resolves the world file) or a
        loaded ``Scenario``.
    runs: runs per point (default: a sweep's section's, else ``simulation.runs``; 500 for a
        sensitivity analysis, 2000 for a strategy comparison).
    seed: the master seed shared by every point (default: the scenario's, else, resuming, the
        saved study's, else a fresh one; :attr:`seed` is the one chosen).
    workers / executor: local worker processes, or a ``DaskExecutor`` / Dask ``Client`` /
        ``concurrent.futures.Executor``; results do not depend on either.
    out: folder to save a sweep, points or sensitivity analysis into: ``sweep.parquet``,
        ``metadata.json`` and one file per finished task of points (a strategy comparison is
        not saved).
    resume: skip the points already saved in ``out`` (the same study only).
    progress: show a progress bar over points.
    metadata: more for ``metadata.json`` to say of the study (a command's settings).
    """

    def __init__(
        self,
        scenario: str | Path | Mapping[str, Any] | Scenario | Base,
        *,
        runs: int | None = None,
        seed: int | None = None,
        workers: int = 1,
        executor: Any = None,
        out: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
        base_dir: str | Path | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if runs is not None and int(runs) < 1:
            raise ValueError("runs must be at least 1")
        self.base = scenario if isinstance(scenario, Base) else prepare(scenario, base_dir)
        self.runs = None if runs is None else int(runs)
        self.workers = workers
        self.executor = executor
        self.out = Path(out) if out is not None else None
        self.resume = resume
        self.progress = progress
        self.metadata = dict(metadata or {})
        self.seed = choose_seed(self.base, seed, self.out if resume else None)

    @property
    def scenario(self) -> Scenario:
        """The scenario the points vary."""
        return self.base.scenario

    def runs_per_point(self, default: int | None = None) -> int:
        """The runs of each point: those given, else ``default``, else ``simulation.runs``."""
        runs = self.runs if self.runs is not None else default
        return int(runs if runs is not None else self.scenario.simulation.runs)

    # -- studies ------------------------------------------------------------------------------
    def sweep(
        self, design: SweepDesign | Mapping[str, Sequence[Any]] | None = None
    ) -> pd.DataFrame:
        """Sweep scenario values over a grid or a Latin hypercube (:class:`SweepDesign`; a
        mapping ``{path: values}`` is a grid; None: the scenario's ``sweep`` section).

        Returns a DataFrame with one row per point: ``point``, one column per parameter,
        ``runs``, then ``<outcome>_p``, ``<outcome>_ci_low``, ``<outcome>_ci_high`` for every
        outcome of a run's summary and ``<stage>_yes_mean`` for the General Assembly stages."""
        if not isinstance(design, SweepDesign):
            design = SweepDesign(design)
        params, kind, samples, runs = sweep_settings(self.base, design, self.runs)
        points = design_points(params, kind, samples, self.seed)
        about = {
            "design": kind,
            "samples": samples,
            "params": {k: [plain(v) for v in vals] for k, vals in params.items()},
        }
        return self._table(points, self.runs_per_point(runs), about)

    def points(self, design: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """The table of the points ``design`` (each a mapping ``{dotted.path: value}``), as
        :meth:`sweep`'s, for designs made elsewhere."""
        return self._table(design, self.runs_per_point(), {})

    def _table(
        self, design: Sequence[Mapping[str, Any]], runs: int, about: Mapping[str, Any]
    ) -> pd.DataFrame:
        """The table of the points (saved to :attr:`out`, resumed from it); ``about`` says what
        ``metadata.json`` records of the design."""
        t0 = time.perf_counter()
        points = [{k: plain(v) for k, v in p.items()} for p in design]
        self.base.check(points)
        keys = [point_key(self.base, p, runs, self.seed) for p in points]
        extra = {**dict(about), **self.metadata}
        meta = sweep_metadata(self.base, points, runs, self.seed, extra)
        folder = self.out
        records = start_folder(folder, keys, meta, self.resume) if folder is not None else {}
        todo = [i for i in range(len(points)) if i not in records]
        stream = self._execute([(i, dict(points[i])) for i in todo], runs)
        collect(stream, records, len(points), folder, keys, points, self.progress)
        table = build_table(points, records, self.seed, meta["labels"])
        if folder is not None:
            finish_folder(folder, table, meta, computed=len(todo), seconds=time.perf_counter() - t0)
        return table

    def sobol(self, problem: Sensitivity) -> pd.DataFrame:
        """Sobol indices of the outcomes' probabilities over the problem's ranges: ``n *
        (len(params) + 2)`` points (see :func:`unsim.studies.sensitivity.sobol_analysis` for
        the table); the design is drawn from the master seed."""
        params = self.base.ranges(problem.params)
        model = design_model(self._sensitivity_points(params), params, problem.outcomes)
        n = problem.n if problem.n is not None else 32
        table = sobol_analysis(model, params, n, seed=self.seed, outputs=list(problem.outcomes))
        return self._indices(table, params)

    def morris(self, problem: Sensitivity) -> pd.DataFrame:
        """Morris indices of the outcomes' probabilities over the problem's ranges: ``n *
        (len(params) + 1)`` points, ``n`` trajectories (see
        :func:`unsim.studies.sensitivity.morris_analysis` for the table)."""
        params = self.base.ranges(problem.params)
        model = design_model(self._sensitivity_points(params), params, problem.outcomes)
        n = problem.n if problem.n is not None else 10
        table = morris_analysis(
            model, params, n, levels=problem.levels, seed=self.seed, outputs=list(problem.outcomes)
        )
        return self._indices(table, params)

    def compare(
        self,
        variants: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        baseline: Sequence[Mapping[str, Any]] = (),
    ) -> pd.DataFrame:
        """The target's strategy variants (``{name: strategy entries}``, as in the scenario
        file; default: :func:`unsim.studies.strategy_compare.default_variants`) against the
        ``baseline`` strategies (default: none), paired run by run, ranked per metric (see
        :func:`unsim.studies.strategy_compare.comparison_table`)."""
        if not self.base.raw:  # a session's (``unsim.session.study``)
            raise ValueError("a strategy comparison is of one draft: give its scenario")
        if variants is None:
            variants = default_variants(self.base.raw, base_dir=self.base.base_dir)
        names, lists, points = comparison_points(variants, baseline)
        check_points(self.base, points)
        runs = self.runs_per_point(COMPARISON_RUNS)
        records: dict[int, dict[str, Any]] = {}
        stream = self._execute(list(enumerate(points)), runs, RUN_COLUMNS)
        collect(stream, records, len(points), None, [], points, self.progress)
        table = comparison_table(names, lists, {i: r["columns"] for i, r in records.items()})
        table.attrs = {"seed": self.seed, "runs": runs}
        return table

    # -- parts --------------------------------------------------------------------------------
    def _execute(
        self, items: list[tuple[int, dict[str, Any]]], runs: int, columns: tuple[str, ...] = ()
    ) -> Iterator[list[Record]]:
        """The records of the points ``(index, overrides)``, as tasks finish."""
        executor = choose_executor(self.workers, self.executor)
        return self.base.execute(items, runs, self.seed, executor, columns)

    def _sensitivity_points(
        self, params: Mapping[str, Sequence[float]]
    ) -> Callable[[list[dict[str, Any]]], pd.DataFrame]:
        """The table of a sensitivity analysis's points (its ranges in ``metadata.json``)."""
        about = {"design": "sensitivity", "params": {k: list(v) for k, v in params.items()}}
        runs = self.runs_per_point(SENSITIVITY_RUNS)

        def evaluate(points: list[dict[str, Any]]) -> pd.DataFrame:
            """The run table of the given sensitivity points."""
            return self._table(points, runs, about)

        return evaluate

    def _indices(self, table: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        table.attrs["runs"] = self.runs_per_point(SENSITIVITY_RUNS)
        table.attrs["labels"] = self.base.labels(list(params))  # as a sweep's: one labeller
        return table
