"""The explorer's box for a number to type (the seed, the runs, a lever's value): what is typed
is kept in state the page owns, set on every keystroke, and applied only on Enter or on leaving
the box, read from that state.

Solara's own InputInt/InputText (with ``continuous_update=False``) keep the typed text only in
the widget's ``v_model`` until Enter: a widget made anew while a run finishes (or the old
``v_model`` written back to it) loses it, and Enter then applies the number shown before. Here
the text is held in a page-level reactive variable keyed by the box's name, above any part of the
page that is drawn again, so a box drawn anew shows, and Enter applies, what was typed."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, cast

import ipyvue
import solara
from solara.alias import rv

__all__ = ["NumberBox", "refusal", "typed_text"]

_LOG = logging.getLogger(__name__)

#: Per box name: the text typed and not yet applied (None: nothing typed; the box shows the
#: value), and the problem of the last text refused with the value shown when it was refused.
_TEXTS: dict[str, solara.Reactive[str | None]] = {}
_PROBLEMS: dict[str, solara.Reactive[tuple[str, str]]] = {}


def _text(name: str) -> solara.Reactive[str | None]:
    if name not in _TEXTS:  # one per name; its value is each page's own
        _TEXTS[name] = solara.reactive(cast(str | None, None), key=f"unsim.numberbox.text:{name}")
    return _TEXTS[name]


def _problem(name: str) -> solara.Reactive[tuple[str, str]]:
    if name not in _PROBLEMS:
        _PROBLEMS[name] = solara.reactive(("", ""), key=f"unsim.numberbox.problem:{name}")
    return _PROBLEMS[name]


def typed_text(name: str) -> str | None:
    """The text typed in box ``name`` and not yet applied, if any."""
    return _text(name).value


def refusal(name: str, shown: str) -> str:
    """Why the last text typed in box ``name`` was refused, while the box still shows ``shown``
    (a value set since, by a slider or a link, clears it)."""
    why, at = _problem(name).value
    return why if at == shown else ""


def on_typed(name: str, text: Any) -> None:
    """A keystroke in box ``name``: keep its text."""
    _text(name).value = "" if text is None else str(text)


def apply_typed(name: str, shown: str, apply: Callable[[str], str]) -> None:
    """Enter or leaving box ``name``: apply the text kept for it, if any. ``apply`` sets the
    value and returns "" or refuses it and says why; the box then shows the value again."""
    text = _text(name).value
    if text is None:
        return
    why = apply(text.strip())
    if os.environ.get("UNSIM_EXPLORE_TRACE_BOX"):
        _LOG.warning("numberbox %s applied %r: %s", name, text, why or "set")
    _problem(name).value = (why, shown) if why else ("", "")
    _text(name).value = None


def _log_render(name: str, field: Any) -> None:
    """With UNSIM_EXPLORE_TRACE_BOX set, log the widget of each render of the box (to see
    whether a box is drawn anew, and when)."""

    def log() -> None:
        """Log the box's widget."""
        widget = solara.get_widget(field)
        _LOG.warning("numberbox %s render widget %s", name, getattr(widget, "model_id", None))

    solara.use_effect(log, None)


@solara.component
def NumberBox(
    name: str,
    label: str,
    shown: str,
    apply: Callable[[str], str],
    dense: bool = False,
    classes: list[str] | None = None,
) -> None:
    """A box to type a number in. ``name`` keys its state on the page, ``shown`` is the value
    to show while nothing is typed, ``apply(text)`` sets it (returning "") or says why not."""
    typed = _text(name).value
    why = refusal(name, shown)
    field = rv.TextField(
        v_model=typed if typed is not None else shown,
        on_v_model=lambda text: on_typed(name, text),
        label=label,
        error=bool(why),
        dense=dense,
        hide_details="auto",
        class_=" ".join(classes or []),
    )
    apply_ref = solara.use_ref(apply)
    apply_ref.current = apply
    shown_ref = solara.use_ref(shown)
    shown_ref.current = shown

    def listen() -> Callable[[], None]:
        """Apply the text typed on Enter or on leaving the box; returns what stops listening."""
        widget = cast(ipyvue.VueWidget, solara.get_widget(field))

        def on_event(*_: Any) -> None:
            """Apply the text typed in the box."""
            apply_typed(name, shown_ref.current, apply_ref.current)

        for event in ("keyup.enter", "focusout"):
            widget.on_event(event, on_event)

        def stop() -> None:
            """Stop listening to the box's events."""
            for event in ("keyup.enter", "focusout"):
                widget.on_event(event, on_event, remove=True)

        return stop

    solara.use_effect(listen, [name])
    if os.environ.get("UNSIM_EXPLORE_TRACE_BOX"):
        _log_render(name, field)
