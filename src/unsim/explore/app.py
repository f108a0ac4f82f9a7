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
from collections.abc import Callable
from typing import Any, cast

import solara
from matplotlib.figure import Figure

from unsim.errors import UnsimError
from unsim.explain.explanation import STAGE_WORDS
from unsim.explain.figure import waterfall
from unsim.explore.controls import Control, Section, build_controls
from unsim.explore.drawn import DRAWN, drawn_box
from unsim.explore.figures import BackgroundFigure, MapPanel, png
from unsim.explore.save import SaveAs
from unsim.explore.session import DEFAULT_RUNS, DEFAULT_SCENARIO, Session, WhatIf
from unsim.explore.tables import outcomes_html, pct, state_table_html, yes_votes_html
from unsim.results.bottomline import HEADING, bottom_line
from unsim.results.plots import GROUP_LABELS, STAGE_LABELS, plot_group_votes, plot_tallies
from unsim.results.report.html import main_stage

_SESSION: Session | None = None
_SESSION_LOCK = threading.Lock()

_CSS = """
.unsim-outcomes { border-collapse: collapse; font-size: 0.92rem; width: 100%; }
.unsim-outcomes th, .unsim-outcomes td { padding: 2px 8px; border-bottom: 1px solid #eee; }
.unsim-outcomes td.num { text-align: right; font-variant-numeric: tabular-nums; }
.unsim-up { color: #2166ac; } .unsim-down { color: #b2182b; }
.unsim-help { color: #666; font-size: 0.8rem; margin: -10px 0 10px 0; line-height: 1.2; }
.unsim-lever-label { font-size: 0.9rem; margin-top: 6px; }
.unsim-bottom-line ul { margin: 0 0 4px 0; padding-left: 1.2rem; }
.unsim-bottom-line li { margin-bottom: 4px; }
.unsim-save-dir { color: #666; font-size: 0.8rem; margin: 0 0 8px 0; line-height: 1.2; }
"""


def get_session() -> Session:
    """The server process's session, made on first use."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            seed = os.environ.get("UNSIM_EXPLORE_SEED")
            _SESSION = Session(
                os.environ.get("UNSIM_EXPLORE_SCENARIO", DEFAULT_SCENARIO),
                runs=int(os.environ.get("UNSIM_EXPLORE_RUNS", DEFAULT_RUNS)),
                seed=int(seed) if seed else None,
                save_dir=os.environ.get("UNSIM_EXPLORE_SAVE_DIR") or None,
            )
        return _SESSION


def _css_class(path: str) -> str:
    """A CSS class naming a control by its path (for tests and styling)."""
    return "lever-" + "".join(c if c.isalnum() else "-" for c in path)


# --------------------------------------------------------------------------------------------
# controls
# --------------------------------------------------------------------------------------------
#: The what-if of each browser session (Solara keeps a reactive variable per session).
_VALUES: solara.Reactive[dict[str, Any]] = solara.reactive(cast(dict[str, Any], {}))
_DISABLED: solara.Reactive[frozenset[int]] = solara.reactive(frozenset())


def _set_value(path: str, value: Any) -> None:
    _VALUES.value = {**_VALUES.value, path: value}


def _set_enabled(index: int, on: bool) -> None:
    disabled = _DISABLED.value
    _DISABLED.value = disabled - {index} if on else disabled | {index}


@solara.component
def Lever(control: Control, value: Any) -> None:
    """One control, drawn by its kind. Its arguments are plain values, so a change of one lever
    re-renders that lever alone."""
    if control.kind == "enabled":
        index = int(control.path.rsplit("[", 1)[1].rstrip("]"))

        def on_value(v: Any) -> None:
            _set_enabled(index, bool(v))
    else:

        def on_value(v: Any) -> None:
            _set_value(control.path, v)

    with solara.Column(classes=[_css_class(control.path)], gap="0px"):
        if control.kind in ("enabled", "bool"):
            solara.Switch(label=control.label, value=bool(value), on_value=on_value)
        elif control.kind in ("float", "int"):
            _number_lever(control, value, on_value)
        elif control.kind == "choice":
            solara.Select(
                label=control.label,
                values=list(control.choices),
                value=value,
                on_value=on_value,
            )
        elif control.kind in ("multichoice", "states"):
            choices = list(control.choices) if control.kind == "multichoice" else _state_codes()
            solara.SelectMultiple(
                label=control.label,
                values=list(value or []),
                all_values=choices,
                on_value=on_value,
            )
        if control.help and control.kind != "enabled":
            solara.HTML(
                tag="div", unsafe_innerHTML=html.escape(control.help), classes=["unsim-help"]
            )


def _number_lever(control: Control, value: Any, on_value: Callable[[Any], None]) -> None:
    """A number: a checkbox to set it when it is optional, its label and value, a slider."""
    if control.spread:  # a distribution: drawn per run, or set to a number
        value = drawn_box(control, value, on_value, _VALUES)
    if control.optional:
        solara.Checkbox(
            label=f"{control.label}: set",
            value=value is not None,
            on_value=lambda on: on_value(
                (control.value if control.value is not None else control.min) if on else None
            ),
        )
    if value is not None:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html.escape(f"{control.label}: {value:g}"),
            classes=["unsim-lever-label"],
        )
        if control.kind == "int":
            solara.SliderInt(
                label="",
                value=int(value),
                min=int(control.min or 0),
                max=int(control.max or 1),
                step=int(control.step or 1),
                on_value=on_value,
            )
        else:
            solara.SliderFloat(
                label="",
                value=float(value),
                min=float(control.min or 0.0),
                max=float(control.max or 1.0),
                step=float(control.step or 0.01),
                on_value=lambda v: on_value(round(float(v), 6)),
            )


def _state_codes() -> list[str]:
    world = get_session().scenario.world
    codes: list[str] = list(getattr(world, "codes", []))
    blocs = list(getattr(world, "blocs", {}) or {})
    return blocs + codes


@solara.component
def Controls(sections: list[Section], values: dict[str, Any], disabled: frozenset[int]) -> None:
    for i, section in enumerate(sections):
        with solara.Details(summary=section.title, expand=i == 0):
            for control in section.controls:
                if control.kind == "enabled":
                    index = int(control.path.rsplit("[", 1)[1].rstrip("]"))
                    Lever(control, index not in disabled)
                else:
                    given = DRAWN if control.spread else control.value
                    Lever(control, values.get(control.path, given))


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


def _state_rows(results: Any, stage: str) -> list[dict[str, Any]]:
    ps = results.per_state
    df = ps[ps["stage"].astype(str) == stage]
    return [
        {
            "iso3": r.iso3,
            "name": r.name,
            "group": GROUP_LABELS.get(str(r.group), str(r.group)),
            "yes": round(100 * float(r.p_yes), 1),
            "no": round(100 * float(r.p_no), 1),
            "abstain": round(100 * float(r.p_abstain), 1),
            "absent": round(100 * float(r.p_absent), 1),
            "pivotal": round(100 * float(r.p_pivotal), 2),
        }
        for r in df.itertuples()
    ]


@solara.component
def StateDetail(session: Session, results: Any, iso3: str) -> None:
    detail = session.state_detail(results, iso3)
    names = dict(zip(results.per_state["iso3"], results.per_state["name"], strict=False))
    solara.Markdown(f"**{names.get(iso3, iso3)}**: probability of each vote (95 % interval)")
    rows = []
    for r in detail.itertuples():
        cells = "".join(
            f'<td class="num">{pct(getattr(r, c))}<br><small>'
            f"{pct(getattr(r, c + '_low'))}–{pct(getattr(r, c + '_high'))}</small></td>"
            for c in ("yes", "no", "abstain", "absent", "pivotal")
        )
        rows.append(
            f'<tr data-stage="{r.stage}"><td>{html.escape(STAGE_LABELS.get(r.stage, r.stage))}'
            f"</td>{cells}</tr>"
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML='<table class="unsim-outcomes unsim-state"><thead><tr><th>vote</th>'
        "<th>yes</th><th>no</th><th>abstain</th><th>absent</th><th>pivotal</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>",
    )
    stage = main_stage(results.per_state)
    if stage in ("third_committee", "plenary"):
        StateExplanation(session, results, iso3, stage)
    if "sc_referral" in set(detail["stage"].astype(str)):  # a member of the Council, where it votes
        StateExplanation(session, results, iso3, "sc_referral")


@solara.component
def StateExplanation(session: Session, results: Any, iso3: str, stage: str) -> None:
    """Why the state votes as it does (``unsim.explain``): its most likely vote, the smallest
    change of stance that changes it, and its stance in parts as a waterfall; worked out in a
    worker thread."""

    def work() -> tuple[str, bytes]:
        e = session.explanation(results, iso3, stage)
        if e.flip is None:
            flip = "no change of its stance changes it."
        else:
            flip = (
                f"a shift of {e.flip.shift:+.2f} in its stance would make it {e.flip.to_vote} "
                f"({e.size_in_words()})."
            )
        text = (
            f"**Why, at the {STAGE_WORDS.get(stage, stage)} vote**: its stance there is "
            f"{e.stance:+.2f} on the model's scale (mean over {e.runs:,} runs), so it most "
            f"likely votes {e.modal}; {flip}"
        )
        return text, png(waterfall(e))

    result = solara.use_thread(
        work, dependencies=[id(results), iso3, stage], intrusive_cancel=False
    )
    if result.value is None:
        solara.ProgressLinear(True)
        return
    text, image = result.value
    solara.Markdown(html.escape(text).replace("&#x27;", "'"))
    solara.Image(image, width="100%")


_SORT_KEYS = {
    "yes": "probability of yes",
    "no": "probability of no",
    "abstain": "probability of abstaining",
    "absent": "probability of being absent",
    "pivotal": "how often pivotal",
    "name": "name",
    "group": "regional group",
}


@solara.component
def StateTable(rows: list[dict[str, Any]], stage: str, selected: str) -> None:
    """Every state's probabilities at a stage, sortable by any column."""
    key, set_key = solara.use_state("yes")
    descending, set_descending = solara.use_state(True)
    ordered = sorted(rows, key=lambda r: (r[key], r["name"]), reverse=descending)
    with solara.Row():
        solara.Select(
            label="Sort states by",
            values=list(_SORT_KEYS.values()),
            value=_SORT_KEYS[key],
            on_value=lambda v: set_key(next(k for k, t in _SORT_KEYS.items() if t == v)),
        )
        solara.Switch(label="largest first", value=descending, on_value=set_descending)
    solara.Markdown(f"{STAGE_LABELS.get(stage, stage)}: every state's probability of each vote.")
    solara.HTML(tag="div", unsafe_innerHTML=state_table_html(ordered, selected))


@solara.component
def Page() -> None:
    session = get_session()
    sections = solara.use_memo(lambda: build_controls(session.scenario), [])
    values = _VALUES.value
    disabled = _DISABLED.value
    state, set_state = solara.use_state("PRK" if "PRK" in session.scenario.world.codes else "")  # type: ignore[union-attr]

    # only values that differ from the scenario's are changes
    defaults = {c.path: c.value for s in sections for c in s.controls}
    changed = {k: v for k, v in values.items() if defaults.get(k) != v}
    what_if = WhatIf.of(changed, disabled)

    def compute() -> tuple[Any, Any, str | None, float]:
        t0 = time.perf_counter()
        try:
            results = session.results(what_if)
            return results, session.data_only(what_if), None, time.perf_counter() - t0
        except UnsimError as err:
            return None, None, str(err), time.perf_counter() - t0

    results, bare, error, seconds = solara.use_memo(compute, [what_if])
    shown = results if results is not None else session.baseline
    if results is None:
        bare = session.data_only(WhatIf())

    solara.Title(f"unsim explore: {session.scenario.name}")
    solara.Style(_CSS)
    with solara.Sidebar():
        _sidebar(session, sections, values, disabled)
        SaveAs(session, what_if)
    with solara.Column():
        _header(session, len(changed) + len(disabled), error, seconds)
        with solara.Card(HEADING):
            solara.HTML(tag="div", unsafe_innerHTML=bottom_line_html(shown))
        _panels(session, shown, bare, what_if, state, set_state)


def _sidebar(session: Any, sections: Any, values: dict[str, Any], disabled: frozenset[int]) -> None:
    """The levers and reset."""
    solara.Markdown(
        f"### What if…\n{session.runs:,} runs per change, seed {session.seed}, on common "
        "random numbers with the baseline (the scenario as written)."
    )
    solara.Button(
        "Reset to the scenario",
        on_click=lambda: (_VALUES.set({}), _DISABLED.set(frozenset())),
        outlined=True,
    )
    Controls(sections, values, disabled)


def _header(session: Any, n_changes: int, error: str | None, seconds: float) -> None:
    """The draft's title, the number of changes, an invalid change's error, the timing."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"<h2>{html.escape(session.scenario.resolution.title)}</h2>"
        f"<p>Scenario <b>{html.escape(session.scenario.name)}</b> · "
        f'<span class="unsim-changes">{n_changes}</span> change(s) from the scenario as '
        "written</p>",
    )
    if error:
        solara.Error(f"This change makes the scenario invalid, results not updated: {error}")
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f'<span class="unsim-timing">computed in {seconds:.2f} s '
        f"(model run {session.last_seconds:.2f} s)</span>",
    )


def _panels(
    session: Any,
    shown: Any,
    bare: Any,
    what_if: Any,
    state: str,
    set_state: Callable[[str], None],
) -> None:
    """The outcomes (beside the baseline and the data-only forecast), the map, the tallies, and
    the states (group bars, the chosen state, the table)."""
    with solara.Card("Outcomes"):
        solara.HTML(tag="div", unsafe_innerHTML=outcomes_html(session, shown, bare))
        solara.HTML(tag="div", unsafe_innerHTML=yes_votes_html(session, shown, bare))
    if len(shown.per_state):
        with solara.Card("Each state's vote on the map"):
            MapPanel(shown, key=what_if)
    with solara.Card("Tallies against the threshold"):
        if shown.runs is not None:
            BackgroundFigure(
                lambda: plot_tallies(
                    shown.runs,
                    majority=shown.scenario.resolution.majority,
                    fig=Figure(figsize=(11, 7), layout="constrained"),
                ),
                key=what_if,
            )
    stage = main_stage(shown.per_state)
    if stage is None:
        return
    with solara.Card("States"):

        def group_figure() -> Figure:
            fig = Figure(figsize=(9, 3.4), layout="constrained")
            plot_group_votes(
                shown.per_state, stage, baseline=session.baseline.per_state, ax=fig.add_subplot()
            )
            return fig

        BackgroundFigure(group_figure, key=(what_if, stage))
        names = dict(zip(shown.per_state["iso3"], shown.per_state["name"], strict=False))
        codes = {name: code for code, name in names.items()}
        solara.Select(
            label="State: its probability of each vote and of being pivotal",
            values=sorted(codes),
            value=names.get(state),
            on_value=lambda name: set_state(codes.get(name, "")),
        )
        if state:
            StateDetail(session, shown, state)
        StateTable(_state_rows(shown, stage), stage, state)
