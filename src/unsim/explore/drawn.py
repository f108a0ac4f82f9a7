"""The explorer's box for a number the scenario gives as a distribution: ticked, the number is
drawn per run (shown at its mean, with its spread and evidence); unticked, it is set to the
number shown, which the slider then moves."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import solara

from unsim.explore.controls import Control

__all__ = ["DRAWN", "drawn_box"]

#: The value of a lever left as the scenario's distribution (drawn per run).
DRAWN = "drawn per run"


def drawn_box(control: Control, value: Any, on_value: Callable[[Any], None], values: Any) -> Any:
    """The box of ``control`` and its distribution in words; returns the number to show.
    ``values`` is the page's reactive mapping of set values (unticking sets ``control``'s
    mean there, ticking takes the number out)."""
    drawn = value == DRAWN

    def keep(on: bool) -> None:
        """Ticked: keep the lever drawn per run (its number taken out); else set it to its mean."""
        if on:
            values.value = {k: v for k, v in values.value.items() if k != control.path}
        else:
            on_value(control.value)

    solara.Checkbox(
        label=f"{control.label}: {DRAWN} from its distribution", value=drawn, on_value=keep
    )
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(control.spread), classes=["unsim-help"])
    return control.value if drawn else value
