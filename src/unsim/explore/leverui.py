"""The explorer's levers: one control per value of the scenario (generated from its schema,
:mod:`unsim.explore.controls`), and a state's own levers with "what if it only abstains?"
(:mod:`unsim.explore.statelevers`)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, cast

import solara

from unsim.errors import UnsimError
from unsim.explore.controls import Control, Section, slider_value, typed_value
from unsim.explore.drawn import DRAWN, drawn_box
from unsim.explore.numberbox import NumberBox, refusal
from unsim.explore.pagestate import LEVER_STATE, VALUES, set_enabled, set_value
from unsim.explore.session import Session, WhatIf
from unsim.explore.statelevers import only_abstains, state_controls
from unsim.results.plots import STAGE_LABELS


def _css_class(path: str) -> str:
    """A CSS class naming a control by its path (for tests and styling)."""
    return "lever-" + "".join(c if c.isalnum() else "-" for c in path)


@solara.component
def Lever(control: Control, value: Any, states: tuple[str, ...] = ()) -> None:
    """One control, drawn by its kind. Its arguments are plain values, so a change of one lever
    re-renders that lever alone."""
    if control.kind == "enabled":
        index = int(control.path.rsplit("[", 1)[1].rstrip("]"))

        def on_value(v: Any) -> None:
            """Switch the strategy on or off."""
            set_enabled(index, bool(v))
    else:

        def on_value(v: Any) -> None:
            """Set the lever to ``v``."""
            set_value(control.path, v)

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
            choices = list(control.choices) if control.kind == "multichoice" else list(states)
            solara.SelectMultiple(
                label=control.label,
                values=list(value or []),
                all_values=choices,
                on_value=on_value,
            )
        if control.unit and control.kind not in ("float", "int"):  # a number's is by its value
            _unit_line(control)
        if control.help and control.kind != "enabled":
            solara.HTML(
                tag="div", unsafe_innerHTML=html.escape(control.help), classes=["unsim-help"]
            )


def _unit_line(control: Control) -> None:
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(control.unit), classes=["unsim-unit"])


def _number_lever(control: Control, value: Any, on_value: Callable[[Any], None]) -> None:
    """A number: a checkbox to set it when it is optional, its label, value and unit, a slider
    and a box to type it in."""
    if control.spread:  # a distribution: drawn per run, or set to a number
        value = drawn_box(control, value, on_value, VALUES)
    if control.optional:
        solara.Checkbox(
            label=f"{control.label}: set",
            value=value is not None,
            on_value=lambda on: on_value(
                (control.value if control.value is not None else control.min) if on else None
            ),
        )
    if value is None:
        _unit_line(control)
        return
    solara.HTML(
        tag="div",
        unsafe_innerHTML=html.escape(f"{control.label}: {value:g}"),
        classes=["unsim-lever-label"],
    )
    _unit_line(control)
    SliderAndBox(control, value, on_value)


def _slider(control: Control, value: Any, on_value: Callable[[Any], None]) -> None:
    """The lever's slider, placed on its step nearest the value: given a value between two
    steps (a distribution's mean), the browser's slider would round it and send the rounded
    number back as a change, setting a lever nobody moved."""
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
            value=slider_value(control, float(value)),
            min=float(control.min or 0.0),
            max=float(control.max or 1.0),
            step=float(control.step or 0.01),
            on_value=lambda v: on_value(round(float(v), 6)),
        )


@solara.component
def SliderAndBox(control: Control, value: Any, on_value: Callable[[Any], None]) -> None:
    """The slider and, beside it, the lever's number to type (:mod:`.numberbox`): on Enter or
    on leaving the box it sets the lever as the slider would
    (:func:`unsim.explore.controls.typed_value`); a number it refuses leaves the lever as it was
    and the page says why. Moving the slider writes its value in the box."""
    name = "lever:" + control.path
    shown = f"{value:g}"

    def typed(text: str) -> str:
        """Set the lever to the number typed: "", or why it is refused (the lever stays)."""
        number, why = typed_value(control, text)
        if why:
            return f"{why}; {control.label} stays {value:g}"
        if number is not None and number != value:
            on_value(number)
        return ""

    # one root whatever is shown: a refusal appearing beside the row would otherwise put the
    # row in a new container of its own, and draw the slider and the box anew
    with solara.Column(gap="0px"):
        with solara.Row(gap="8px", style={"align-items": "center"}, classes=["unsim-slider-row"]):
            with solara.Column(gap="0px", style={"flex": "1 1 auto", "min-width": "0"}):
                _slider(control, value, on_value)
            with solara.Column(gap="0px", style={"flex": "0 0 6.5em"}):
                NumberBox(name, "type", shown, typed, dense=True, classes=["unsim-number"])
        refused = refusal(name, shown)
        if refused:
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(refused), classes=["unsim-refused"])


def state_choices(scenario: Any) -> tuple[str, ...]:
    """What a list of states may hold: the world's blocs and its states' codes."""
    world = scenario.world
    codes: list[str] = list(getattr(world, "codes", []))
    blocs = list(getattr(world, "blocs", {}) or {})
    return tuple(blocs + codes)


@solara.component
def Controls(
    sections: list[Section],
    values: dict[str, Any],
    disabled: frozenset[int],
    states: tuple[str, ...] = (),
) -> None:
    """The sidebar's sections of levers, the first one open."""
    for i, section in enumerate(sections):
        with solara.Details(summary=section.title, expand=i == 0):
            for control in section.controls:
                if control.kind == "enabled":
                    index = int(control.path.rsplit("[", 1)[1].rstrip("]"))
                    Lever(control, index not in disabled)
                else:
                    given = DRAWN if control.spread else control.value
                    Lever(control, values.get(control.path, given), states)


# --------------------------------------------------------------------------------------------
# a state's own levers
# --------------------------------------------------------------------------------------------
@solara.component
def StateLevers(
    session: Session,
    what_if: WhatIf,
    values: dict[str, Any],
    seed: int,
    runs: int,
    states: tuple[str, ...] = (),
) -> None:
    """A state chosen in a list, its own values as levers, and "only abstains"."""
    world = session.scenario.world
    names = {s.iso3: s.name for s in world.states}  # type: ignore[union-attr]
    code = LEVER_STATE.value if LEVER_STATE.value in names else "CHN"
    code = code if code in names else next(iter(names))
    by_name = {v: k for k, v in names.items()}
    solara.Select(
        label="State",
        values=sorted(by_name),
        value=names[code],
        on_value=lambda name: LEVER_STATE.set(by_name.get(name, code)),
    )
    controls = solara.use_memo(lambda: state_controls(session.scenario, code), [code])
    for control in controls:
        Lever(control, values.get(control.path, control.value), states)
    OnlyAbstains(session, what_if, code, names[code], seed, runs)


def abstain_text(found: Any, name: str) -> str:
    """What "only abstains" set, and why it is set so, in words."""
    kinds = {"support_shift": "General Assembly", "council_shift": "Security Council"}
    parts = []
    for path, value in found.values.items():
        lever = path.rsplit(".", 1)[1]
        where = kinds.get(lever, "")
        parts.append(f"{lever.replace('_', ' ')} {value:+.2f} (at the {where}'s votes)")
    set_ = "; ".join(parts)
    now = ", ".join(f"{STAGE_LABELS.get(s, s)}: {v}" for s, v in found.modal.items())
    text = (
        "unsim's model has no forced vote: a state votes by its stance. So 'only abstains' is "
        "set as the smallest shift of its stance (a little inside) that makes abstaining its "
        "most likely vote, found by unsim.explain's smallest-change search and checked on the "
        f"full runs. {name}: {set_ or 'no change needed'}. Its most likely vote now: {now}."
    )
    if found.notes:
        text += " " + "; ".join(found.notes) + "."
    return text


@solara.component
def OnlyAbstains(
    session: Session, what_if: WhatIf, code: str, name: str, seed: int, runs: int
) -> None:
    """The button, the search in a worker thread, and the shifts it found set as levers."""
    asked, set_asked = solara.use_state(cast(tuple[WhatIf, str, int, int] | None, None))

    def work() -> tuple[Any, str]:
        """The search for the shifts that make the state only abstain, or the error."""
        if asked is None:
            return None, ""
        try:
            return only_abstains(session, asked[0], asked[1], asked[2], asked[3]), ""
        except UnsimError as err:
            return None, str(err)

    result = solara.use_thread(work, dependencies=[asked], intrusive_cancel=False)
    found, error = result.value if result.value is not None else (None, "")

    def set_found() -> None:
        """Set the shifts found as levers."""
        if found is not None and found.values:
            VALUES.value = {**VALUES.value, **found.values}

    solara.use_effect(set_found, [found])
    solara.Button(
        f"What if {name} only abstains?",
        on_click=lambda: set_asked((what_if, code, seed, runs)),
        outlined=True,
        classes=["unsim-only-abstains"],
    )
    if asked is not None and result.state != solara.ResultState.FINISHED:
        solara.ProgressLinear(True)
        solara.HTML(tag="div", unsafe_innerHTML="searching…", classes=["unsim-help"])
    elif error:
        solara.Error(error)
    elif found is not None and found.iso3 == code:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html.escape(abstain_text(found, name)),
            classes=["unsim-abstains"],
        )
