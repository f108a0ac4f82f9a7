"""Scoring forecasts against recorded votes, with naive baselines.

A forecast of a vote is, for each state, probabilities of yes (Y), no (N), abstain (A) and absent
(X), plus a distribution of the tallies. Scores:

- **accuracy**: share of states whose most probable outcome is the recorded one;
- **Brier score**: mean over states of the squared distance between the four probabilities and
  the recorded outcome (0 perfect, 2 worst);
- **log loss**: mean of ``-log p(recorded outcome)``, with probabilities below
  :data:`LOG_LOSS_FLOOR` counted as that floor (so one confident miss costs at most
  ``log(1 / LOG_LOSS_FLOOR)`` instead of infinity; the same floor for every method);
- **interval coverage**: whether each recorded tally (yes, no, abstain, absent) falls inside the
  central 50 % and 90 % predictive intervals of the forecast's tallies.

Baselines, built from the recorded votes on the same item *before* the vote forecast:

- ``last_vote``: each state repeats its vote on the previous resolution (a state without one takes
  its regional group's majority);
- ``bloc_majority``: each state votes as the majority of its regional group did on the previous one;
- ``cut_points``: an ordered logit on the state's ideal-point position alone, its slope and two cut
  points fitted on all the previous recorded votes, with the state's absence rate;
- ``all_yes``: every state votes yes.

The actual-vote file (``--actual``) is a CSV in one of two forms.

Per-state votes: a column ``iso3`` and one column per stage (``third_committee``, ``plenary``...)
holding ``Y`` (yes), ``N`` (no), ``A`` (abstain), ``X`` (absent), or nothing (not a member, or not
known)::

    iso3,third_committee,plenary
    AFG,A,A
    ALB,Y,Y

Tallies alone, for stages where the per-state votes are unknown: columns ``stage``, ``yes``, ``no``,
``abstain`` and optionally ``absent``, one row per stage::

    stage,yes,no,abstain,absent
    third_committee,100,20,60,13
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, special

from unsim.errors import InputError, did_you_mean
from unsim.scenario.schema import STAGES

__all__ = [
    "BASELINES",
    "LETTERS",
    "LOG_LOSS_FLOOR",
    "ActualVote",
    "Forecast",
    "baseline_forecasts",
    "forecast_from_results",
    "per_state_scores",
    "read_actual",
    "score",
    "scores_table",
    "tally_counts",
]

#: Vote letters, in the order of the probability columns.
LETTERS = ("Y", "N", "A", "X")
TALLY_NAMES = {"Y": "yes", "N": "no", "A": "abstain", "X": "absent"}
LETTER_HELP = "Y (yes), N (no), A (abstain), X (absent), or empty (not a member / not known)"
LOG_LOSS_FLOOR = 0.01
#: The largest actual-vote file read (a row per member state and a column per stage fit in a
#: few kilobytes).
ACTUAL_FILE_BYTES = 1024 * 1024
INTERVALS = {"50": (0.25, 0.75), "90": (0.05, 0.95)}
BASELINES = ("last_vote", "bloc_majority", "cut_points", "all_yes")
_ISO3 = re.compile(r"^[A-Z]{3}$")


# --------------------------------------------------------------------------------------------
# The actual-vote file
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActualVote:
    """Recorded votes: per-state letters for some stages, tallies for every stage given."""

    source: str
    votes: dict[str, pd.Series] = field(default_factory=dict)
    """stage -> letters (Y/N/A/X) by ISO3 code"""
    tallies: dict[str, dict[str, int]] = field(default_factory=dict)
    """stage -> {yes, no, abstain[, absent]}"""

    @property
    def stages(self) -> list[str]:
        """The stages with a recorded tally, in procedural order."""
        return [s for s in STAGES if s in self.tallies]


def tally_counts(letters: pd.Series) -> dict[str, int]:
    """{yes, no, abstain, absent} counts of a series of vote letters."""
    counts = letters.value_counts()
    return {TALLY_NAMES[k]: int(counts.get(k, 0)) for k in LETTERS}


def _stage_column(name: str, where: str) -> str:
    if name in STAGES:
        return name
    hint = did_you_mean(name, STAGES)
    msg = f"{where}: {name!r} is not a stage; allowed: {', '.join(STAGES)}"
    raise InputError(msg + (f"; did you mean {hint!r}?" if hint else ""))


def read_actual(path: str | Path) -> ActualVote:
    """Read an actual-vote file (see the module docstring for its two forms)."""
    from unsim.safeio import read_bounded

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: actual-vote file not found")
    # a row per member state at most: 1 MiB is ample (and a larger file is refused unread)
    raw = read_bounded(path, limit=ACTUAL_FILE_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read the actual-vote file: {exc}") from None
    rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: the actual-vote file is empty")
    header = [h.strip().lower() for h in rows[0]]
    if "iso3" in header:
        return _read_per_state(path, header, text)
    if "stage" in header:
        return _read_tallies(path, header, text)
    raise InputError(
        f"{path}, line 1: expected a column 'iso3' (per-state votes: iso3 and one column per "
        "stage holding Y, N, A or X) or a column 'stage' (tallies: stage, yes, no, abstain, "
        f"absent); got columns {', '.join(h or '(empty)' for h in header)}"
    )


def _numbered_rows(text: str) -> list[tuple[int, list[str]]]:
    """Data rows with their line numbers (blank lines skipped)."""
    out = []
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if n > 1 and any(c.strip() for c in row):
            out.append((n, [c.strip() for c in row]))
    return out


def _check_header(path: Path, header: list[str], key: str) -> None:
    seen: set[str] = set()
    for col in header:
        if not col:
            raise InputError(f"{path}, line 1: a column has no name")
        if col in seen:
            raise InputError(f"{path}, line 1: column {col!r} appears twice")
        seen.add(col)


def _read_per_state(path: Path, header: list[str], text: str) -> ActualVote:
    _check_header(path, header, "iso3")
    stages = [_stage_column(c, f"{path}, line 1, column {c!r}") for c in header if c != "iso3"]
    if not stages:
        raise InputError(f"{path}, line 1: no stage column next to 'iso3'; add e.g. 'plenary'")
    key = header.index("iso3")
    data: dict[str, dict[str, str]] = {s: {} for s in stages}
    seen: dict[str, int] = {}
    for line, row in _numbered_rows(text):
        if len(row) != len(header):
            raise InputError(
                f"{path}, line {line}: {len(row)} fields, the header has {len(header)}"
            )
        code = row[key].upper()
        if not _ISO3.match(code):
            raise InputError(
                f"{path}, line {line}, column 'iso3': {row[key]!r} is not an ISO 3166-1 "
                "alpha-3 code (three letters, e.g. PRK)"
            )
        if code in seen:
            raise InputError(f"{path}, line {line}: {code} already given on line {seen[code]}")
        seen[code] = line
        for col, value in zip(header, row, strict=True):
            if col == "iso3" or not value:
                continue
            letter = value.upper()
            if letter not in LETTERS:
                raise InputError(
                    f"{path}, line {line}, column {col!r}: {value!r} is not a vote; "
                    f"allowed: {LETTER_HELP}"
                )
            data[col][code] = letter
    votes = {s: pd.Series(v, name=s, dtype=object).sort_index() for s, v in data.items() if v}
    if not votes:
        raise InputError(f"{path}: no votes recorded (every stage column is empty)")
    return ActualVote(str(path), votes, {s: tally_counts(v) for s, v in votes.items()})


def _read_tallies(path: Path, header: list[str], text: str) -> ActualVote:
    _check_header(path, header, "stage")
    allowed = ("stage", "yes", "no", "abstain", "absent")
    for col in header:
        if col not in allowed:
            hint = did_you_mean(col, allowed)
            raise InputError(
                f"{path}, line 1: unknown column {col!r}; allowed: {', '.join(allowed)}"
                + (f"; did you mean {hint!r}?" if hint else "")
            )
    missing = [c for c in ("yes", "no", "abstain") if c not in header]
    if missing:
        raise InputError(f"{path}, line 1: the tallies lack column(s) {', '.join(missing)}")
    tallies: dict[str, dict[str, int]] = {}
    for line, row in _numbered_rows(text):
        if len(row) != len(header):
            raise InputError(
                f"{path}, line {line}: {len(row)} fields, the header has {len(header)}"
            )
        rec = dict(zip(header, row, strict=True))
        stage = _stage_column(rec["stage"], f"{path}, line {line}, column 'stage'")
        if stage in tallies:
            raise InputError(f"{path}, line {line}: stage {stage!r} given twice")
        counts: dict[str, int] = {}
        for col in ("yes", "no", "abstain", "absent"):
            value = rec.get(col, "")
            if col == "absent" and not value:
                continue
            if not value.isdigit():
                raise InputError(
                    f"{path}, line {line}, column {col!r}: {value!r} is not a count "
                    "(a whole number, 0 or more)"
                )
            counts[col] = int(value)
        tallies[stage] = counts
    if not tallies:
        raise InputError(f"{path}: no tallies (the file has a header only)")
    return ActualVote(str(path), {}, tallies)


# --------------------------------------------------------------------------------------------
# Forecasts and their scores
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Forecast:
    """A forecast of one vote: per-state probabilities and sampled tallies."""

    method: str
    probabilities: pd.DataFrame
    """index ISO3, columns Y, N, A, X (rows sum to 1)"""
    tallies: pd.DataFrame | None = None
    """one row per simulated vote, columns yes, no, abstain, absent"""


def forecast_from_results(results: Any, stage: str, method: str = "model") -> Forecast:
    """The engine's forecast of ``stage`` (runs in which the stage was held)."""
    ps = results.per_state
    ps = ps[ps["stage"] == stage]
    if ps.empty:
        raise InputError(f"the scenario's runs never held the stage {stage!r}")
    probs = pd.DataFrame(
        {
            "Y": ps["p_yes"].to_numpy(dtype=float),
            "N": ps["p_no"].to_numpy(dtype=float),
            "A": ps["p_abstain"].to_numpy(dtype=float),
            "X": ps["p_absent"].to_numpy(dtype=float),
        },
        index=pd.Index(ps["iso3"].to_numpy(), name="iso3"),
    )
    tallies = None
    runs = getattr(results, "runs", None)
    if runs is not None:
        held = runs[runs[f"{stage}_held"].astype(bool)]
        tallies = pd.DataFrame(
            {name: held[f"{stage}_{name}"].to_numpy() for name in TALLY_NAMES.values()}
        )
    return Forecast(method, probs, tallies)


def sample_tallies(
    probabilities: pd.DataFrame, draws: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Tallies of ``draws`` votes, each state drawn independently from its probabilities."""
    p = probabilities[list(LETTERS)].to_numpy(dtype=float)
    cum = np.cumsum(p, axis=1)
    cum[:, -1] = 1.0
    u = rng.random((draws, len(p), 1))
    choice = (u > cum[None, :, :]).sum(axis=2)  # (draws, states) category index
    counts = np.stack([(choice == k).sum(axis=1) for k in range(len(LETTERS))], axis=1)
    return pd.DataFrame(counts, columns=list(TALLY_NAMES.values()))


def _interval_hits(tallies: pd.DataFrame, actual: Mapping[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, (lo_q, hi_q) in INTERVALS.items():
        hits = 0
        given = 0
        for name, value in actual.items():
            if name not in tallies:
                continue
            x = tallies[name].to_numpy()
            lo = float(np.quantile(x, lo_q, method="lower"))
            hi = float(np.quantile(x, hi_q, method="higher"))
            inside = lo <= value <= hi
            out[f"{name}_in{label}"] = inside
            hits += int(inside)
            given += 1
        out[f"in{label}"] = hits
        out["tallies_checked"] = given
    return out


def per_state_scores(
    p: NDArray[np.float64], actual: NDArray[np.int_]
) -> dict[str, NDArray[np.float64]]:
    """Each state's accuracy (1: its most probable vote is the recorded one), Brier score and
    log loss (probabilities below :data:`LOG_LOSS_FLOOR` counted as the floor) of ``p`` (a row
    per state, a column per possible vote) against the column index of its recorded vote."""
    onehot = np.eye(p.shape[1])[actual]
    p_actual = p[np.arange(len(actual)), actual]
    return {
        "accuracy": (p.argmax(axis=1) == actual).astype(np.float64),
        "brier": ((p - onehot) ** 2).sum(axis=1),
        "log_loss": -np.log(np.maximum(p_actual, LOG_LOSS_FLOOR)),
    }


def probability_scores(p: NDArray[np.float64], actual: NDArray[np.int_]) -> dict[str, float]:
    """The means over the states of :func:`per_state_scores`."""
    return {k: float(v.mean()) + 0.0 for k, v in per_state_scores(p, actual).items()}


def score(
    forecast: Forecast,
    votes: pd.Series | None = None,
    tallies: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Scores of a forecast against recorded per-state votes and/or tallies.

    Per-state scores use the states both recorded and forecast; ``n_states`` says how many.
    """
    out: dict[str, Any] = {"method": forecast.method}
    if votes is not None and len(votes):
        common = votes.index.intersection(forecast.probabilities.index)
        if common.empty:
            raise InputError("no state is both in the recorded votes and in the forecast")
        p = forecast.probabilities.loc[common, list(LETTERS)].to_numpy(dtype=float)
        actual = votes.loc[common].map({k: i for i, k in enumerate(LETTERS)}).to_numpy(dtype=int)
        out.update(n_states=len(common), **probability_scores(p, actual))
    if tallies is not None and forecast.tallies is not None and len(forecast.tallies):
        for name in TALLY_NAMES.values():
            if name in forecast.tallies:
                out[f"{name}_median"] = float(forecast.tallies[name].median())
        out.update({f"{k}_actual": v for k, v in tallies.items()})
        out.update(_interval_hits(forecast.tallies, tallies))
    return out


def scores_table(
    forecasts: Sequence[Forecast],
    votes: pd.Series | None,
    tallies: Mapping[str, int] | None,
) -> pd.DataFrame:
    """The scores of each forecast against the recorded votes and tallies, one row per forecast."""
    return pd.DataFrame([score(f, votes, tallies) for f in forecasts])


# --------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------
def _onehot(letters: pd.Series) -> pd.DataFrame:
    probs = pd.DataFrame(0.0, index=letters.index, columns=list(LETTERS))
    for k in LETTERS:
        probs.loc[letters == k, k] = 1.0
    return probs


def _group_majority(previous: pd.Series, groups: pd.Series) -> pd.Series:
    """Each group's most common letter on a previous vote (ties: Y before N before A before X)."""
    frame = pd.DataFrame({"vote": previous, "group": groups.reindex(previous.index)}).dropna()
    counts = pd.crosstab(frame["group"], frame["vote"]).reindex(columns=list(LETTERS), fill_value=0)
    return counts.idxmax(axis=1)


def _fit_cut_points(
    position: NDArray[np.float64], category: NDArray[np.int_]
) -> NDArray[np.float64]:
    """Slope and two cut points of an ordered logit of no < abstain < yes on position."""

    def nll(theta: NDArray[np.float64]) -> float:
        """The negative log likelihood of (slope, first cut, log gap between the cuts), lightly
        penalised."""
        slope, tau1, log_gap = theta
        eta = slope * position
        f1 = special.expit(tau1 - eta)
        f2 = special.expit(tau1 + np.exp(log_gap) - eta)
        p = np.choose(category, [f1, f2 - f1, 1.0 - f2])
        return float(-np.log(np.maximum(p, 1e-300)).sum() + 1e-3 * (theta**2).sum())

    res = optimize.minimize(nll, np.array([1.0, -1.0, 0.5]), method="L-BFGS-B")
    return np.asarray(res.x, dtype=np.float64)


def baseline_forecasts(
    previous: Sequence[pd.Series],
    states: Sequence[str],
    groups: pd.Series,
    positions: pd.Series | None = None,
    absence: pd.Series | None = None,
    draws: int = 2000,
    seed: int = 0,
) -> list[Forecast]:
    """The naive baselines for a vote on ``states``, from ``previous`` recorded votes (oldest
    first, each letters by ISO3) on the same item. ``groups``: regional group by ISO3.

    ``cut_points`` needs ``positions`` (and uses ``absence`` when given); it is left out without
    them. Tallies are sampled with ``draws`` independent votes per state, from ``seed``.
    """
    if not previous:
        raise InputError("the baselines need at least one earlier recorded vote on the same item")
    index = pd.Index(list(states), name="iso3")
    last = previous[-1]
    majority = _group_majority(last, groups).reindex(groups.reindex(index).to_numpy())
    bloc = pd.Series(majority.fillna("Y").to_numpy(), index=index)
    repeat = pd.Series(index=index, dtype=object)
    for series in previous:  # later votes overwrite earlier ones
        repeat.update(series.reindex(index).dropna())
    repeat = repeat.fillna(bloc)
    probs: dict[str, pd.DataFrame] = {
        "last_vote": _onehot(repeat),
        "bloc_majority": _onehot(bloc),
    }
    if positions is not None:
        probs["cut_points"] = _cut_point_probabilities(previous, index, positions, absence)
    probs["all_yes"] = _onehot(pd.Series("Y", index=index))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    return [Forecast(name, p, sample_tallies(p, draws, rng)) for name, p in probs.items()]


def _cut_point_probabilities(
    previous: Sequence[pd.Series],
    index: pd.Index,
    positions: pd.Series,
    absence: pd.Series | None,
) -> pd.DataFrame:
    pooled = pd.concat([s[s != "X"] for s in previous])
    pooled = pooled[pooled.index.isin(positions.index)]
    category = pooled.map({"N": 0, "A": 1, "Y": 2}).to_numpy(dtype=int)
    slope, tau1, log_gap = _fit_cut_points(
        positions.reindex(pooled.index).to_numpy(dtype=float), category
    )
    x = positions.reindex(index).fillna(0.0).to_numpy(dtype=float)
    f1 = special.expit(tau1 - slope * x)
    f2 = special.expit(tau1 + np.exp(log_gap) - slope * x)
    if absence is not None:
        away = absence.reindex(index).fillna(float(absence.mean())).to_numpy(dtype=float)
    else:
        shares = [float((s == "X").mean()) for s in previous]
        away = np.full(len(index), float(np.mean(shares)))
    present = 1.0 - away
    return pd.DataFrame(
        {"Y": present * (1.0 - f2), "N": present * f1, "A": present * (f2 - f1), "X": away},
        index=index,
    )
