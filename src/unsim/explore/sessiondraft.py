"""The explorer over a session file: one draft at a time (a selector in the page), run as the
session runs it (its seed from the session's, the linkage included), with the session's own
outcomes (every draft adopted, each other draft adopted, the file's joint outcomes that are
shares) added to the outcome table.

The other drafts run once per number of runs, as the session runs them; a what-if changes only
the chosen draft, so the session's outcomes of a what-if pair run by run with the baseline's.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import numpy as np

from unsim.engine import run
from unsim.errors import InputError
from unsim.explore.session import Outcome, Session, WhatIf, n_runs
from unsim.results.stats import paired_difference, proportion
from unsim.results.tables import Results
from unsim.scenario.schema import Scenario
from unsim.session.load import LoadedSession, load_session

#: Labels of the session's own outcomes in the table.
LABELS = {"all_adopted": "Session: every draft adopted"}


class DraftInSession(Session):
    """The explorer's session of draft ``draft`` of the session file ``path``."""

    def __init__(
        self,
        path: str | Path,
        draft: str,
        runs: int,
        seed: int | None = None,
        save_dir: str | Path | None = None,
        loaded: LoadedSession | None = None,
    ) -> None:
        from unsim.session.run import draft_seed

        self.loaded = loaded if loaded is not None else load_session(path)
        self.session_path = Path(path)
        self.draft = draft
        file = self.loaded.files.get(draft)
        if file is None:
            raise InputError(
                f"{path}: draft {draft} is given inline; the explorer edits a draft's own file"
            )
        sim = self.loaded.session.simulation
        self.master = int(seed if seed is not None else sim.seed if sim.seed is not None else 0)
        self._others: dict[int, dict[str, Results]] = {}
        self._others_lock = threading.Lock()
        super().__init__(file, runs, draft_seed(self.master, draft), save_dir=save_dir)

    def scenario_for(self, what_if: WhatIf) -> Scenario:
        """The draft with the what-if, as the session runs it (``session_drafts``)."""
        from unsim.session.run import session_drafts

        own = super().scenario_for(what_if)
        one = dataclasses.replace(self.loaded, drafts={self.draft: own})
        return session_drafts(one, self.master)[self.draft]

    def others(self, runs: int) -> dict[str, Results]:
        """The other drafts' results on ``runs`` runs, as the session runs them (kept)."""
        from unsim.session.run import draft_seed, session_drafts

        with self._others_lock:
            if runs not in self._others:
                drafts = session_drafts(self.loaded, self.master)
                self._others[runs] = {
                    name: run(d, runs, draft_seed(self.master, name), 1)
                    for name, d in drafts.items()
                    if name != self.draft
                }
            return self._others[runs]

    def session_values(self, results: Results) -> dict[str, Any]:
        """The session's outcomes, run by run, with ``results`` as the chosen draft's."""
        from unsim.session.joint import joint_table
        from unsim.session.views import session_outcomes

        others = self.others(n_runs(results))
        every = {n: results if n == self.draft else others[n] for n in self.loaded.drafts}
        table = joint_table(self.loaded, every, self.master)
        values = session_outcomes(self.loaded, table)
        keep = [
            "all_adopted",
            *(f"{n}.adopted" for n in others),
            *self.loaded.session.joint_outcomes,
        ]
        return {k: values[k] for k in keep if values[k].dtype == np.bool_}

    def outcomes(
        self, results: Results, bare: Results | None = None, *, reference: Results | None = None
    ) -> list[Outcome]:
        """The draft's outcomes, then the session's (paired with the reference's)."""
        reference = reference if reference is not None else self.baseline_for(results)
        rows = super().outcomes(results, bare, reference=reference)
        if n_runs(results) != n_runs(reference):
            return rows
        now, before = self.session_values(results), self.session_values(reference)
        joint = self.loaded.session.joint_outcomes
        for name, happened in now.items():
            label = LABELS.get(name) or (
                f"Session: {name[: -len('.adopted')]} adopted"
                if name.endswith(".adopted")
                else f"Session: {name} ({joint[name]})"
            )
            o = proportion(int(happened.sum()), len(happened))
            d = paired_difference(before[name], happened)
            rows.append(Outcome.paired(f"session:{name}", label, o, d))
        return rows


def session_explorers(
    path: str | Path, runs: int, seed: int | None, save_dir: str | Path | None
) -> tuple[list[str], Any]:
    """The drafts of the session file ``path`` and a function giving each one's explorer
    session (made on first use, then kept)."""
    loaded = load_session(path)
    made: dict[str, DraftInSession] = {}
    lock = threading.Lock()

    def get(draft: str) -> DraftInSession:
        """The explorer session of ``draft`` (made on first use, then kept)."""
        with lock:
            if draft not in made:
                made[draft] = DraftInSession(path, draft, runs, seed, save_dir, loaded)
            return made[draft]

    return list(loaded.drafts), get
