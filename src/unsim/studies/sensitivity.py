"""Global sensitivity analysis of outcome probabilities: Sobol and Morris indices through SALib.

Which scenario values move the chance that the plenary adopts the draft, that the ICC language
survives, that the Council refers the situation? Each parameter gets a range; SALib draws the
design (Saltelli's scheme for Sobol indices, one-at-a-time trajectories for Morris screening); every
design point is one sweep point (modest runs, the same master seed for all, so the noise of the
Monte Carlo is common to the points and does not masquerade as sensitivity); SALib then computes the
indices from the outcome probabilities.

- Sobol: ``S1`` is the share of the outcome's variance due to the parameter alone, ``ST`` the share
  it has a hand in (with interactions); ``ST - S1`` measures interactions.
- Morris: ``mu_star`` is the mean absolute elementary effect (overall influence), ``sigma`` its
  spread (non-linearity or interactions). Cheaper than Sobol; good for screening many parameters.

On a scenario, :class:`Sensitivity` states the problem and ``Evaluator.sobol`` or
``Evaluator.morris`` (:mod:`unsim.studies.evaluator`) runs it. The generic :func:`sobol_analysis`
and :func:`morris_analysis` take any function of a design matrix, so the same code path can be
checked on test functions whose indices are known.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from unsim.scenario.schema import Scenario
from unsim.studies.designs import check_design_size, parse_range
from unsim.studies.table import outcome_column

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "MAIN_OUTCOMES",
    "Sensitivity",
    "design_model",
    "distribution_range",
    "morris_analysis",
    "no_indices_note",
    "outcomes_without_indices",
    "plot_sensitivity",
    "resolve_ranges",
    "sobol_analysis",
]

#: The outcomes analysed by default.
MAIN_OUTCOMES = ("plenary_adopted", "icc_retained", "referral_adopted")

Bounds = Mapping[str, Sequence[float]]
Model = Callable[[NDArray[np.float64]], Any]

#: A parameter's range from its distribution in the scenario: its 1st to 99th percentile.
DISTRIBUTION_RANGE = (0.01, 0.99)


def distribution_range(scenario: Scenario, path: str) -> tuple[float, float]:
    """The range of the parameter at ``path`` that the scenario gives as a distribution: its
    central 98 % (``DISTRIBUTION_RANGE``). A ``ValueError`` if it gives a number there."""
    from unsim.scenario.labels import value_at
    from unsim.uncertainty import Uncertain

    value = value_at(scenario, path)
    if not isinstance(value, Uncertain):
        raise ValueError(
            f"{path}: no range given, and the scenario gives it no distribution to take one "
            f"from (it is {value!r}); give a (low, high) range"
        )
    low, high = (value.dist.quantile(q) for q in DISTRIBUTION_RANGE)
    return low, high


def resolve_ranges(
    scenario: Scenario, params: Mapping[str, Sequence[float] | None]
) -> dict[str, Sequence[float]]:
    """``params`` with each range left out (None) taken from the parameter's distribution in
    the scenario (``distribution_range``): a drawn lever as a sensitivity input."""
    return {
        path: distribution_range(scenario, path) if bounds is None else bounds
        for path, bounds in params.items()
    }


def _problem(bounds: Bounds) -> dict[str, Any]:
    if not bounds:
        raise ValueError("no parameters to analyse")
    names = list(bounds)
    ranges = [parse_range(name, b) for name, b in bounds.items()]
    for name, (low, high, _) in zip(names, ranges, strict=True):
        if not high > low:
            raise ValueError(f"{name}: the range must have low < high")
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[low, high] for low, high, _ in ranges],
    }


def _outputs(y: Any, names: Sequence[str] | None) -> pd.DataFrame:
    """The model's outputs as a frame, one column per output."""
    if isinstance(y, pd.DataFrame):
        return y.reset_index(drop=True)
    arr = np.asarray(y, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    cols = list(names) if names else [f"y{i}" for i in range(arr.shape[1])]
    if len(cols) != arr.shape[1]:
        raise ValueError(f"the model returned {arr.shape[1]} outputs for {len(cols)} names")
    return pd.DataFrame(arr, columns=cols)


def _power_of_two(n: int) -> int:
    if n < 1:
        raise ValueError("n must be at least 1")
    return 1 << (n - 1).bit_length()


def sobol_analysis(
    model: Model,
    bounds: Bounds,
    n: int = 64,
    *,
    seed: int = 0,
    outputs: Sequence[str] | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """First-order and total Sobol indices of ``model`` over ``bounds`` (Saltelli sampling).

    ``model`` maps the (N, d) design matrix to its outputs: an array (N,) or (N, k), or a DataFrame
    with one column per output. ``n`` (rounded up to a power of two) is the base sample: the model
    is evaluated on ``n * (d + 2)`` points. Returns one row per (output, parameter) with ``S1``,
    ``S1_conf``, ``ST``, ``ST_conf`` (half-widths of bootstrap intervals at ``conf_level``)."""
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    problem = _problem(bounds)
    base = _power_of_two(n)
    k = problem["num_vars"]
    check_design_size(base * (k + 2), f"Sobol's design, N = {base:,} x ({k} parameters + 2),")
    x = sobol_sample.sample(problem, base, calc_second_order=False, seed=seed)
    ys = _outputs(model(x), outputs)
    rows = []
    no_indices: dict[str, str] = {}
    for name in ys.columns:
        y = ys[name].to_numpy(dtype=float)
        if not np.isfinite(y).all() or np.var(y) == 0:
            no_indices[str(name)] = _why_no_indices(y)
            res = {
                k: np.full(problem["num_vars"], math.nan)
                for k in ("S1", "S1_conf", "ST", "ST_conf")
            }
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                res = sobol_analyze.analyze(
                    problem,
                    y,
                    calc_second_order=False,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
        for i, param in enumerate(problem["names"]):
            rows.append(
                {
                    "outcome": name,
                    "parameter": param,
                    **{k: float(res[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")},
                }
            )
    table = pd.DataFrame(rows)
    table.attrs = {"method": "sobol", "evaluations": len(x), "no_indices": no_indices}
    return table


def _why_no_indices(y: NDArray[np.float64]) -> str:
    """Why an outcome has no Sobol index: it is the same at every point (no variance to share
    out), or not a number at some."""
    bad = int((~np.isfinite(y)).sum())
    if bad:
        return f"not a number at {bad} of the {len(y)} points"
    return f"the same at all {len(y)} points ({y[0]:.4g})"


def outcomes_without_indices(table: pd.DataFrame) -> dict[str, str]:
    """The outcomes of a Sobol table that have no indices, with why: a Sobol index shares out
    the outcome's variance over the points, and one that never varies has none (its rows hold
    NaN). From the analysis (``attrs["no_indices"]``) or, for a table read back from a file,
    every outcome whose total indices are all missing. A Morris table has none (an outcome
    that never varies has elementary effects of 0)."""
    found = {str(k): str(v) for k, v in dict(table.attrs.get("no_indices") or {}).items()}
    if "ST" in table.columns:
        for outcome, part in table.groupby("outcome", sort=False):
            if part["ST"].isna().all():
                found.setdefault(str(outcome), "it did not vary over the points")
    return found


def morris_analysis(
    model: Model,
    bounds: Bounds,
    trajectories: int = 10,
    *,
    levels: int = 4,
    seed: int = 0,
    outputs: Sequence[str] | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Morris elementary-effect indices of ``model`` over ``bounds``.

    The model is evaluated on ``trajectories * (d + 1)`` points. Returns one row per (output,
    parameter) with ``mu``, ``mu_star``, ``mu_star_conf`` and ``sigma``."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    problem = _problem(bounds)
    if trajectories < 1:
        raise ValueError("Morris's design needs at least 1 trajectory")
    if levels < 2 or levels % 2:
        raise ValueError(
            f"Morris's grid needs an even number of levels, 2 or more (got {levels}): with an "
            "odd number the elementary effects are biased"
        )
    k = problem["num_vars"]
    what = f"Morris's design, {trajectories:,} trajectories x ({k} parameters + 1),"
    check_design_size(trajectories * (k + 1), what)
    x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    ys = _outputs(model(x), outputs)
    keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    rows = []
    for name in ys.columns:
        y = ys[name].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            res = morris_analyze.analyze(
                problem,
                x,
                y,
                num_resamples=num_resamples,
                conf_level=conf_level,
                num_levels=levels,
                seed=seed,
            )
        for i, param in enumerate(problem["names"]):
            rows.append(
                {"outcome": name, "parameter": param, **{k: float(res[k][i]) for k in keys}}
            )
    table = pd.DataFrame(rows)
    table.attrs = {"method": "morris", "evaluations": len(x)}
    return table


# --------------------------------------------------------------------------------------------
# On a scenario
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sensitivity:
    """A sensitivity analysis of a scenario (run by ``Evaluator.sobol`` or ``Evaluator.morris``).

    params: ``{path: (low, high)}`` (whole-number bounds: the points are rounded to whole
        numbers), or ``{path: None}`` for a parameter the scenario gives as a distribution: its
        range is then the distribution's central 98 % (:func:`distribution_range`).
    outcomes: the outcomes whose probabilities are analysed (columns of a sweep table).
    n: Sobol's base sample (rounded up to a power of two: ``n * (len(params) + 2)`` points) or
        Morris's trajectories (``n * (len(params) + 1)`` points); default 32 and 10.
    levels: the levels of Morris's grid (even).
    """

    params: Mapping[str, Sequence[float] | None]
    outcomes: Sequence[str] = MAIN_OUTCOMES
    n: int | None = None
    levels: int = 4


def design_model(
    evaluate: Callable[[list[dict[str, Any]]], pd.DataFrame],
    params: Bounds,
    outcomes: Sequence[str],
) -> Model:
    """A model for SALib: design matrix -> outcome probabilities, one point per row, the points
    evaluated together by ``evaluate`` (a sweep table back). Parameters whose range has
    whole-number bounds are rounded to whole numbers."""
    names = list(params)
    integer = [parse_range(name, b)[2] for name, b in params.items()]

    def model(x: NDArray[np.float64]) -> pd.DataFrame:
        """The outcome probabilities (one row per point, one column per outcome) of the design
        matrix ``x`` (one point per row, one column per parameter)."""
        points = [
            {
                name: int(np.rint(v)) if whole else float(v)
                for name, v, whole in zip(names, row, integer, strict=True)
            }
            for row in x
        ]
        table = evaluate(points)
        return pd.DataFrame({o: table[outcome_column(table, o)].to_numpy() for o in outcomes})

    return model


# --------------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------------
def plot_sensitivity(
    table: pd.DataFrame, outcome: str | None = None, ax: Axes | None = None
) -> Axes:
    """Bars of the indices per parameter: ``S1`` and ``ST`` (Sobol) or ``mu_star`` and ``sigma``
    (Morris) for one outcome; the total index (``ST`` / ``mu_star``) per outcome for several."""
    from unsim.studies.sweep_plots import axes_or_new, param_label

    ax = axes_or_new(ax)
    skipped = outcomes_without_indices(table)
    if outcome is not None:
        table = table[table["outcome"] == outcome]
        if table.empty:
            raise ValueError(f"no indices for outcome {outcome!r}")
        if outcome in skipped:  # a note instead of empty bars
            return no_indices_note(ax, {outcome: skipped[outcome]})
    elif skipped:
        table = table[~table["outcome"].isin(list(skipped))]
        if table.empty:
            return no_indices_note(ax, skipped)
    sobol_table = "ST" in table.columns
    params = list(dict.fromkeys(table["parameter"]))
    outcomes = list(dict.fromkeys(table["outcome"]))
    if len(outcomes) == 1:
        series = (
            [("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf")]
            if sobol_table
            else [("mu*", "mu_star", "mu_star_conf"), ("sigma", "sigma", None)]
        )
        bars = [(label, table.set_index("parameter"), col, conf) for label, col, conf in series]
    else:
        main, main_conf = ("ST", "ST_conf") if sobol_table else ("mu_star", "mu_star_conf")
        bars = [
            (f"{o} ({main})", table[table["outcome"] == o].set_index("parameter"), main, main_conf)
            for o in outcomes
        ]
    width = 0.8 / len(bars)
    x = np.arange(len(params))
    for k, (label, part, column, conf) in enumerate(bars):
        values = part.loc[params, column].to_numpy(dtype=float)
        err = part.loc[params, conf].to_numpy(dtype=float) if conf else None
        ax.bar(
            x + (k - (len(bars) - 1) / 2) * width, values, width, yerr=err, capsize=2, label=label
        )
    names = table.attrs.get("labels")
    ax.set_xticks(x, [param_label(p, names) for p in params], rotation=30, ha="right")
    ax.set_ylabel("Sobol index" if sobol_table else "elementary effect")
    from unsim.studies.sweep_plots import outcome_label

    title = outcome_label(outcomes[0]) if len(outcomes) == 1 else None
    if title:
        ax.set_title(title)
    ax.axhline(0, color="grey", lw=0.8)
    ax.legend(fontsize="small")
    return ax


def no_indices_note(ax: Axes, skipped: Mapping[str, str]) -> Axes:
    """An empty panel that says which outcomes have no Sobol indices, and why."""
    from unsim.studies.sweep_plots import outcome_label

    text = "\n".join(f"{outcome_label(o)}: no Sobol indices ({why})" for o, why in skipped.items())
    ax.text(0.5, 0.5, text, ha="center", va="center", color="0.3", transform=ax.transAxes)
    ax.set_axis_off()
    return ax
