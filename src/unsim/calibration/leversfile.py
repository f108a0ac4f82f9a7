"""The levers file (``kind: levers``): each lever's estimated effect and its distribution, in the
units of the scenario parameter it informs, for scenarios to reference.

Format (shared with the reader of scenario values written as distributions)::

    schema_version: 1
    kind: levers
    name: levers_2014
    before: 2014-11-18
    method: "..."
    episodes: [irn_1996, ...]
    levers:
      charm_offensive.intensity:
        dist: truncnorm            # normal | truncnorm | lognormal | beta | uniform
        mean: 0.25
        sd: 0.15
        low: 0.0
        high: 5.0
        unit: "..."
        effect_latent: {mean: -0.4, sd: 0.3}
        effect_yes_votes: {mean: -6.0, sd: 4.5}
        episodes: 7
        identified: true
        source: "..."

Distribution parameters: normal {mean, sd}; truncnorm {mean, sd, low, high}; lognormal {median,
sigma}; beta {a, b, low?, high?}; uniform {low, high}. A scenario value references an entry as
``intensity: {lever: charm_offensive.intensity}`` with ``levers: path/to/levers.yaml``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from unsim.atomic import write_text_atomically
from unsim.errors import OutputError, ScenarioError
from unsim.fields import Strict
from unsim.scenario.loader import problems_from_validation, read_yaml

__all__ = [
    "HEADER",
    "Effect",
    "LeverEntry",
    "LeversFile",
    "check_writable",
    "load_levers",
    "write_levers",
]

#: First line of a levers file unsim writes: a file without it is never replaced.
HEADER = "Levers written by `unsim calibrate --levers`"
_PARAMS = {
    "normal": {"mean", "sd"},
    "truncnorm": {"mean", "sd", "low", "high"},
    "lognormal": {"median", "sigma"},
    "beta": {"a", "b"},
    "uniform": {"low", "high"},
}
_OPTIONAL = {"beta": {"low", "high"}}


class Effect(Strict):
    mean: float = Field(..., ge=-1000, le=1000)
    sd: float = Field(..., ge=0, le=1000)


class LeverEntry(Strict):
    """One lever: its distribution in the parameter's units, and what it rests on."""

    dist: Literal["normal", "truncnorm", "lognormal", "beta", "uniform"]
    mean: float | None = Field(None, ge=-1000, le=1000)
    sd: float | None = Field(None, ge=0, le=1000)
    low: float | None = Field(None, ge=-1000, le=1000)
    high: float | None = Field(None, ge=-1000, le=1000)
    median: float | None = Field(None, gt=0, le=1000)
    sigma: float | None = Field(None, ge=0, le=100)
    a: float | None = Field(None, gt=0, le=1e6)
    b: float | None = Field(None, gt=0, le=1e6)
    unit: str = Field(..., max_length=600)
    effect_latent: Effect
    effect_yes_votes: Effect
    episodes: int = Field(..., ge=0)
    identified: bool
    source: str = Field(..., max_length=4000)

    @model_validator(mode="after")
    def _parameters(self) -> LeverEntry:
        given = {k for k in ("mean", "sd", "low", "high", "median", "sigma", "a", "b")}
        given = {k for k in given if getattr(self, k) is not None}
        need = _PARAMS[self.dist]
        missing = sorted(need - given)
        extra = sorted(given - need - _OPTIONAL.get(self.dist, set()))
        if missing or extra:
            raise ValueError(
                f"dist {self.dist} takes {', '.join(sorted(need))}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; not for it: {', '.join(extra)}" if extra else "")
            )
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class LeversFile(Strict):
    schema_version: Literal[1] = 1
    kind: Literal["levers"] = "levers"
    name: str = Field(..., max_length=80)
    before: dt.date
    method: str = Field(..., max_length=4000)
    episodes: list[str] = Field(..., max_length=2000)
    levers: dict[str, LeverEntry] = Field(..., max_length=100)


def load_levers(path: str | Path) -> LeversFile:
    """Read and validate a levers file."""
    raw = read_yaml(path)
    try:
        return LeversFile.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError(str(path), problems_from_validation(LeversFile, err)) from None


def _ours(path: Path) -> bool:
    """Whether ``path`` is a levers file unsim wrote (its first line is :data:`HEADER`)."""
    try:
        with path.open("r", encoding="utf-8") as fh:
            first = fh.readline(200)
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith(f"# {HEADER}")


def check_writable(path: str | Path) -> None:
    """Refuse at once a path the levers file cannot go to: a file unsim did not write (never
    replaced), or a folder that does not exist."""
    path = Path(path)
    if path.exists() and not (path.is_file() and _ours(path)):
        raise OutputError(
            f"{path}: exists and is not a levers file unsim wrote; nothing was written. "
            "Choose a new file name"
        )
    if not path.parent.is_dir():
        raise OutputError(f"{path}: the folder {path.parent} does not exist; nothing was written")


def write_levers(levers: LeversFile, path: str | Path, command: str) -> Path:
    """Write the levers file atomically; an existing file is replaced only if unsim wrote it."""
    path = Path(path)
    check_writable(path)
    head = (
        f"{HEADER}: `{command}`.\n"
        "Each lever's effect estimated from past episodes (see method); do not edit by hand:\n"
        "run the command again."
    )
    body = yaml.safe_dump(
        levers.model_dump(mode="python", exclude_none=True),  # the cut as a YAML date
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    text = "".join(f"# {line}\n" for line in head.splitlines()) + body
    return write_text_atomically(path, text)
