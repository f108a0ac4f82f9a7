"""The explorer's number box (unsim.explore.numberbox), without a browser: what is typed survives
the box being drawn anew, Enter applies it, and a text refused applies nothing and says why."""

from __future__ import annotations

from typing import Any

import pytest

solara = pytest.importorskip("solara", reason="solara is not installed (the explore extra has it)")


def _render(generation: Any, shown: Any, applied: list[str], refuse: bool = False):  # type: ignore[no-untyped-def]
    from unsim.explore.numberbox import NumberBox, refusal

    @solara.component
    def Page() -> None:
        def apply(text: str) -> str:
            if refuse or not text.isdigit():
                return f"seed: a whole number; got {text!r}"
            applied.append(text)
            shown.set(text)
            return ""

        # a parent keyed by the generation: a new generation draws the box anew, as a part of
        # the page whose structure changes (a run finishing) would
        with solara.Column().key(f"generation-{generation.value}"):
            NumberBox("test-seed", "Seed", shown.value, apply)
        why = refusal("test-seed", shown.value)
        if why:
            solara.Error(why)

    return solara.render(Page(), handle_error=False)


def _field(rc):  # type: ignore[no-untyped-def]
    import ipyvuetify

    return rc.find(ipyvuetify.TextField).widget


def _errors(rc) -> list[str]:  # type: ignore[no-untyped-def]
    import ipyvuetify

    return [str(w.children) for w in rc.find(ipyvuetify.Alert).widgets]


def test_typed_text_survives_the_box_drawn_anew_and_enter_applies_it() -> None:
    generation, shown = solara.reactive(0), solara.reactive("7")
    applied: list[str] = []
    _, rc = _render(generation, shown, applied)
    try:
        first = _field(rc)
        assert first.v_model == "7"
        first.v_model = "11"  # typed in the browser: the widget's v_model changes
        generation.set(1)  # the box is drawn anew before Enter reaches the server
        second = _field(rc)
        assert second is not first  # a new widget indeed
        assert second.v_model == "11"  # still what was typed
        assert applied == []  # nothing applied before Enter
        second.fire_event("keyup.enter", {})
        assert applied == ["11"] and shown.value == "11"
        assert _field(rc).v_model == "11"
        _field(rc).fire_event("focusout", {})  # leaving the box after Enter: nothing again
        assert applied == ["11"]
    finally:
        rc.close()


def test_a_refused_text_applies_nothing_and_says_why() -> None:
    generation, shown = solara.reactive(0), solara.reactive("7")
    applied: list[str] = []
    _, rc = _render(generation, shown, applied)
    try:
        field = _field(rc)
        field.v_model = "eleven"
        field.fire_event("focusout", {})  # leaving the box applies, as Enter does
        assert applied == [] and shown.value == "7"
        field = _field(rc)
        assert field.error is True and field.v_model == "7"  # the value kept, shown again
        assert _errors(rc) == [str(["seed: a whole number; got 'eleven'"])]
        shown.set("8")  # a value set since (a slider, a link) clears the refusal
        assert _field(rc).error is False
        assert _errors(rc) == []
    finally:
        rc.close()


def test_nothing_typed_applies_nothing_and_the_box_follows_its_value() -> None:
    generation, shown = solara.reactive(0), solara.reactive("7")
    applied: list[str] = []
    _, rc = _render(generation, shown, applied)
    try:
        _field(rc).fire_event("keyup.enter", {})
        assert applied == []
        shown.set("9")  # moved by a slider or a link
        assert _field(rc).v_model == "9"
    finally:
        rc.close()
