"""The what-if explorer: a Solara page over a :class:`~unsim.explore.session.Session`.

Started by ``unsim explore [SCENARIO]`` (see :mod:`unsim.explore.server`), which passes the
scenario, runs, seed and save folder in ``UNSIM_EXPLORE_SCENARIO``, ``_RUNS``, ``_SEED``,
``_SAVE_DIR``. The session (scenario, baseline, compiled model) is made once per server process
and shared by its pages, so a change re-runs only the what-if.
"""

from __future__ import annotations

import html
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

import solara

from unsim.errors import UnsimError
from unsim.explore.controls import Section, all_controls, build_controls
from unsim.explore.exports import exports
from unsim.explore.figures import BackgroundFigure, MapPanel, figure_key, prefetch
from unsim.explore.guard import host_value
from unsim.explore.leverui import Controls, StateLevers, state_choices
from unsim.explore.numberbox import NumberBox, refusal
from unsim.explore.pagestate import (
    DISABLED,
    LINK_PROBLEMS,
    PINNED,
    RUNS,
    SEED,
    STATE,
    VALUES,
    AddressSync,
    reset,
    share_query,
    without_token,
)
from unsim.explore.painters import groups_png, tallies_png
from unsim.explore.panels import (
    Downloads,
    StateDetail,
    StateTable,
    state_rows,
    tallies_html,
    variants_html,
)
from unsim.explore.save import SaveAs
from unsim.explore.server import display_host
from unsim.explore.session import DEFAULT_RUNS, DEFAULT_SCENARIO, Session, WhatIf
from unsim.explore.sessiondraft import session_explorers
from unsim.explore.share import MAX_LINK_RUNS, Reader
from unsim.explore.tables import outcomes_html, yes_votes_html
from unsim.limits import MAX_SEED
from unsim.results.bottomline import HEADING, bottom_line
from unsim.results.plots import STAGE_LABELS
from unsim.results.report.html import main_stage
from unsim.scenario.schema import StateOverride, World
from unsim.session.load import is_session_file

_SESSION: Any = None  #: a Session, or (a session file) a function of the draft giving one
#: the drafts of a session file (empty for a scenario) and the one shown
DRAFTS: list[str] = []
DRAFT = solara.reactive("")
_SESSION_LOCK = threading.Lock()

_CSS = """
.unsim-outcomes { border-collapse: collapse; font-size: 0.92rem; width: 100%; }
.unsim-outcomes th, .unsim-outcomes td { padding: 2px 8px; border-bottom: 1px solid #eee; }
.unsim-outcomes td.num { text-align: right; font-variant-numeric: tabular-nums; }
.unsim-tallies td { white-space: nowrap; }
.unsim-up { color: #2166ac; } .unsim-down { color: #b2182b; }
.unsim-help { color: #666; font-size: 0.8rem; margin: -10px 0 10px 0; line-height: 1.2; }
.unsim-lever-label { font-size: 0.9rem; margin-top: 6px; }
.unsim-unit { color: #2d5f8a; font-size: 0.78rem; line-height: 1.2; margin: 1px 0 2px 0; }
.unsim-refused { color: #b00020; font-size: 0.8rem; line-height: 1.2; margin: 0 0 8px 0; }
.unsim-unit + .unsim-help, .unsim-slider-row + .unsim-help, .unsim-refused + .unsim-help {
  margin-top: 0; }
.unsim-bottom-line ul { margin: 0 0 4px 0; padding-left: 1.2rem; }
.unsim-bottom-line li { margin-bottom: 4px; }
.unsim-save-dir { color: #666; font-size: 0.8rem; margin: 0 0 8px 0; line-height: 1.2; }
.unsim-stale { opacity: 0.45; transition: opacity 0.1s; }
.unsim-updating, .unsim-redrawing { color: #8a5a00; background: #fff3c4; padding: 2px 8px;
  border-radius: 4px; font-size: 0.85rem; display: inline-block; }
.unsim-redrawing { position: absolute; top: 4px; left: 4px; opacity: 1; }
.unsim-figure { position: relative; }
.unsim-abstains { font-size: 0.85rem; margin: 6px 0; line-height: 1.3; }
"""


def get_session(draft: str = "") -> Session:
    """The server process's session, made on first use (of a session file: the chosen draft's,
    default its first)."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            seed = os.environ.get("UNSIM_EXPLORE_SEED")
            path = os.environ.get("UNSIM_EXPLORE_SCENARIO", DEFAULT_SCENARIO)
            runs = int(os.environ.get("UNSIM_EXPLORE_RUNS", DEFAULT_RUNS))
            save_dir = os.environ.get("UNSIM_EXPLORE_SAVE_DIR") or None
            if is_session_file(path):
                DRAFTS[:], _SESSION = session_explorers(
                    path, runs, int(seed) if seed else None, save_dir
                )
            else:
                _SESSION = Session(
                    path, runs=runs, seed=int(seed) if seed else None, save_dir=save_dir
                )
    if DRAFTS:
        return cast(Session, _SESSION(draft if draft in DRAFTS else DRAFTS[0]))
    return cast(Session, _SESSION)


@solara.component
def DraftSelector() -> None:
    """Of a session file: which draft the page shows (its levers, its numbers)."""
    if not DRAFTS:
        return
    chosen = DRAFT.value if DRAFT.value in DRAFTS else DRAFTS[0]

    def choose(name: str) -> None:
        """Show the draft ``name``, its levers back to the scenario as written."""
        if name != chosen:
            reset()
            DRAFT.set(name)

    solara.Select(label="Draft of the session", values=list(DRAFTS), value=chosen, on_value=choose)
    solara.HTML(
        tag="div",
        unsafe_innerHTML="Each draft runs as the session runs it (its linkage included); the "
        "outcome table ends with the session's own outcomes.",
        classes=["unsim-help", "unsim-draft-help"],
    )


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
def bottom_line_html(results: Any) -> str:
    """The bottom line of the results shown (``unsim.results.bottomline``: the sentences of
    the terminal, the report and ``summary.json``), as HTML."""
    sentences = bottom_line(results.summary, results.scenario)["sentences"]
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return (
        f'<div class="unsim-bottom-line"><ul>{items}</ul>'
        '<p class="unsim-help">In brackets: 95 % intervals over runs.</p></div>'
    )


@dataclass(frozen=True)
class Computed:
    """What a change computed: the what-if's results (B), its baseline, variant A and its
    data-only forecast on the same seed and runs, or the error that made it invalid; and how
    long it took."""

    key: tuple[WhatIf, WhatIf | None, int, int]  #: the what-if, variant A, seed and runs
    results: Any
    baseline: Any
    pinned: Any
    error: str | None
    seconds: float
    #: the what-if's data-only results (every stated assumption removed)
    bare: Any = None


def compute(session: Session, key: tuple[WhatIf, WhatIf | None, int, int]) -> Computed:
    """The results of a change (``key``: what-if, variant A or None, seed, runs): the what-if's,
    its baseline's, variant A's and its data-only results, or the error; and the seconds taken."""
    what_if, pinned, seed, runs = key
    t0 = time.perf_counter()
    try:
        results = session.results(what_if, seed, runs)
        baseline = session.baseline_for(results)
        a = session.results(pinned, seed, runs) if pinned is not None else None
        prefetch(results, baseline)  # the figures, painted while the rest is computed and shown
        bare = session.data_only(what_if, seed, runs)
    except UnsimError as err:
        return Computed(key, None, None, None, str(err), time.perf_counter() - t0)
    return Computed(key, results, baseline, a, None, time.perf_counter() - t0, bare)


def changes(session: Session, sections: list[Section], values: dict[str, Any]) -> dict[str, Any]:
    """The values that differ from the scenario's (a state's own: from its entry, or the
    schema's default)."""
    defaults = {c.path: c.value for s in sections for c in s.controls}
    out = {}
    for path, value in values.items():
        if path in defaults:
            given = defaults[path]
        else:
            parts = path.split(".")
            own = session.scenario.actors.states.get(parts[2]) if len(parts) == 4 else None
            given = getattr(own or StateOverride(), parts[-1], None)
        if given != value:
            out[path] = value
    return out


@solara.component
def Page() -> None:
    """The explorer's page: the levers in the sidebar, the numbers and panels of the change."""
    session = get_session(DRAFT.value)
    sections = solara.use_memo(lambda: build_controls(session.scenario), [session])
    states = solara.use_memo(lambda: state_choices(session.scenario), [session])
    world = session.scenario.world
    assert isinstance(world, World)
    reader = solara.use_memo(
        lambda: Reader(
            [c.path for c in all_controls(sections)],
            world.codes,
            len(session.scenario.actors.target.strategies),
            session.runs,
        ),
        [session],
    )
    values, disabled, pinned = VALUES.value, DISABLED.value, PINNED.value
    seed = SEED.value if SEED.value is not None else session.seed
    runs = RUNS.value if RUNS.value is not None else session.runs
    changed = changes(session, sections, values)
    what_if = WhatIf.of(changed, disabled)
    a_changes = (changes(session, sections, pinned[0]), pinned[1]) if pinned else None
    variant_a = WhatIf.of(*a_changes) if a_changes else None
    if not STATE.value and "PRK" in world.index:
        STATE.set("PRK")
    AddressSync(reader, share_query(changed, disabled, seed, runs, a_changes, STATE.value))

    key = (what_if, variant_a, seed, runs)
    result = solara.use_thread(
        lambda: compute(session, key), dependencies=[key], intrusive_cancel=False
    )
    last = solara.use_ref(cast(Computed | None, None))
    now = result.value if result.state == solara.ResultState.FINISHED else None
    if now is not None and now.results is not None:
        last.current = now
    error = now.error if now is not None and now.key == key else None
    # updating from the render of the change itself: the numbers shown are of another change
    updating = error is None and (last.current is None or last.current.key != key)

    solara.Title(f"unsim explore: {session.scenario.name}")
    solara.Style(_CSS)
    with solara.Sidebar():
        DraftSelector()
        _sidebar(session, sections, values, disabled, states)
        with solara.Details(summary="A state's own values (what if China only abstains?)"):
            StateLevers(session, what_if, values, seed, runs, states)
        SaveAs(session, what_if)
    with solara.Column():
        with solara.Column(gap="4px"):  # what comes and goes here leaves the panels in place
            _header(session, len(changed) + len(disabled), error, last.current, updating)
        shown = last.current
        if shown is None:
            solara.ProgressLinear(True)
            return
        with solara.Column(classes=["unsim-numbers"] + (["unsim-stale"] if updating else [])):
            _numbers(session, shown)
        _panels(session, shown)


def _sidebar(
    session: Any,
    sections: Any,
    values: dict[str, Any],
    disabled: frozenset[int],
    states: tuple[str, ...],
) -> None:
    """The seed and runs, variant A, the link, reset, and the levers."""
    solara.Markdown(
        "### What if…\nEach change re-runs the scenario on the same seed and runs as the "
        "baseline (the scenario as written), so the two are paired on common random numbers."
    )
    RunSettings(session)
    Variants()
    ShareLink()
    solara.Button("Reset to the scenario", on_click=reset, outlined=True)
    Controls(sections, values, disabled, states)


@solara.component
def RunSettings(session: Session) -> None:
    """The seed and the runs per change, shown and settable (typed: :mod:`.numberbox`)."""
    seed = SEED.value if SEED.value is not None else session.seed
    runs = RUNS.value if RUNS.value is not None else session.runs
    top = max(MAX_LINK_RUNS, session.runs)

    def set_seed(text: str) -> str:
        """Set the seed typed: "", or why it is refused."""
        value = _whole(text)
        if value is None or not 0 <= value <= MAX_SEED:
            return f"seed: a whole number from 0 to {MAX_SEED:,}; got {text!r}"
        SEED.set(value)
        return ""

    def set_runs(text: str) -> str:
        """Set the runs per change typed: "", or why they are refused."""
        value = _whole(text)
        if value is None or not 1 <= value <= top:
            return f"runs: a whole number from 1 to {top:,}; got {text!r}"
        RUNS.set(value)
        return ""

    with solara.Column():  # one root: the boxes are not drawn anew when a refusal shows
        with solara.Row(classes=["unsim-run-settings"]):
            NumberBox("seed", "Seed", str(seed), set_seed)
            NumberBox("runs", "Runs per change", str(runs), set_runs)
        message = refusal("seed", str(seed)) or refusal("runs", str(runs))
        if message:
            solara.Error(message)


def _whole(text: str) -> int | None:
    """A whole number typed, or None."""
    try:
        return int(text)
    except ValueError:
        return None


@solara.component
def Variants() -> None:
    """Pin the what-if as variant A (and keep editing B), or let A go."""
    pinned = PINNED.value
    with solara.Row(gap="4px"):
        solara.Button(
            "Pin as variant A",
            on_click=lambda: PINNED.set((dict(VALUES.value), DISABLED.value)),
            outlined=True,
            classes=["unsim-pin"],
        )
        if pinned is not None:
            solara.Button("Unpin A", on_click=lambda: PINNED.set(None), text=True)
    if pinned is not None:
        n = len(pinned[0]) + len(pinned[1])
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"Variant A: {n} lever(s) set; the levers now edit variant B.",
            classes=["unsim-help", "unsim-pinned"],
        )


@solara.component
def ShareLink() -> None:
    """The address of this what-if (its levers, seed and runs), without the token."""
    router = solara.use_router()
    query = without_token(router.search)
    host = display_host(os.environ.get("UNSIM_EXPLORE_HOST", "127.0.0.1"))
    port = os.environ.get("UNSIM_EXPLORE_PORT", "8765")
    url = f"http://{host_value(host, int(port))}/?{query}"
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f'<a class="unsim-link" href="?{html.escape(query)}">Link to this '
        f"what-if</a>: <code>{html.escape(url)}</code><br>It holds no token: whoever opens it "
        "also needs the address <code>unsim explore</code> printed (or to have opened it in "
        "this browser).",
        classes=["unsim-help"],
    )


def _header(
    session: Any, n_changes: int, error: str | None, shown: Computed | None, updating: bool
) -> None:
    """The draft's title, the number of changes, an invalid change's error, a link's problems,
    whether it is updating, the seed and the timing."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"<h2>{html.escape(session.scenario.resolution.title)}</h2>"
        f"<p>Scenario <b>{html.escape(session.scenario.name)}</b> · "
        f'<span class="unsim-changes">{n_changes}</span> change(s) from the scenario as '
        "written</p>",
    )
    if error:
        solara.Error(f"This change makes the scenario invalid, results not updated: {error}")
    for problem in LINK_PROBLEMS.value:
        solara.Warning(f"The address asked for something the page cannot use: {problem}")
    if updating:
        solara.HTML(
            tag="div",
            unsafe_innerHTML="updating… re-running the scenario; the numbers below are the "
            "last ones",
            classes=["unsim-updating"],
        )
    if shown is not None:
        results = shown.results
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f'<span class="unsim-seed" data-key="{figure_key(shown.key)}">'
            f"seed {results.seed}</span>, "
            f"{int(results.summary['runs']):,} runs · "
            f'<span class="unsim-timing">computed in {shown.seconds:.2f} s (model run '
            f"{session.last_seconds:.2f} s)</span>",
        )


def _numbers(session: Any, shown: Computed) -> None:
    """The bottom line, the outcome table (beside the baseline and the data-only forecast; B
    against A when a variant is pinned), the yes votes as shown and from the data alone, and
    each stage's tallies."""
    results, baseline, a, bare = shown.results, shown.baseline, shown.pinned, shown.bare
    with solara.Card(HEADING):
        solara.HTML(tag="div", unsafe_innerHTML=bottom_line_html(results))
    with solara.Card("Outcomes"):
        if a is None:
            solara.HTML(tag="div", unsafe_innerHTML=outcomes_html(session, results, bare))
        else:
            solara.HTML(tag="div", unsafe_innerHTML=variants_html(session, a, results))
        solara.HTML(tag="div", unsafe_innerHTML=yes_votes_html(session, results, bare))
    with solara.Card("Votes at each stage"):
        variants = [("baseline", baseline)] + ([("A", a), ("B", results)] if a else [])
        if a is None:
            variants.append(("what-if", results))
        solara.HTML(
            tag="div",
            unsafe_innerHTML=tallies_html(variants, (a, results) if a is not None else None),
        )


def _panels(session: Any, shown: Computed) -> None:
    """The map, the tallies, the states (group bars, the chosen state, the table) and the
    downloads, of the numbers shown (their figures painted after them)."""
    results, baseline = shown.results, shown.baseline
    what_if, a, seed, runs = shown.key
    key = (what_if, seed, runs)
    n_states = len(results.scenario.world.states)
    if len(results.per_state):
        with solara.Card("Each state's vote on the map"):
            MapPanel(results, key=key)
    with solara.Card("Tallies against the threshold"):
        if results.runs is not None:
            majority = results.scenario.resolution.majority
            BackgroundFigure(
                lambda: tallies_png(results.runs, majority, n_states),
                key=key,
                alt="Histograms of the yes, no and abstain votes at each stage",
            )
    stage = main_stage(results.per_state)
    if stage is not None:
        with solara.Card("States"):
            _states_card(session, results, baseline, key, stage)
    with solara.Card("Download"):
        Downloads(_exports(session, what_if, results, baseline, shown.pinned, a))


def _states_card(session: Any, results: Any, baseline: Any, key: Any, stage: str) -> None:
    BackgroundFigure(
        lambda: groups_png(results.per_state, stage, baseline.per_state),
        key=(key, stage),
        alt=f"Expected votes of each regional group at the {STAGE_LABELS.get(stage, stage)}",
    )
    names = dict(zip(results.per_state["iso3"], results.per_state["name"], strict=False))
    codes = {name: code for code, name in names.items()}
    state = STATE.value
    solara.Select(
        label="State: its probability of each vote and of being pivotal",
        values=sorted(codes),
        value=names.get(state),
        on_value=lambda name: STATE.set(codes.get(name, "")),
    )
    if state in names:
        StateDetail(session, results, state)
    StateTable(state_rows(results, stage), stage, state)


def _exports(
    session: Any, what_if: WhatIf, results: Any, baseline: Any, pinned: Any, a: WhatIf | None
) -> list[tuple[str, list[Any]]]:
    name = session.scenario.name
    groups = [
        ("this what-if" + (" (variant B)" if a else ""), exports(name, what_if, results, baseline)),
    ]
    if a is not None and pinned is not None:
        groups.append(("variant A", exports(name, a, pinned, baseline)))
    groups.append(
        ("the baseline (the scenario as written)", exports(name, WhatIf(), baseline, baseline))
    )
    return groups
