"""The explorer's "Save as YAML": a new scenario file under the save folder
(:meth:`unsim.explore.session.Session.save_yaml`)."""

from __future__ import annotations

import html
from pathlib import Path

import solara

from unsim.errors import UnsimError
from unsim.explore.session import Session, WhatIf

__all__ = ["SaveAs"]


@solara.component
def SaveAs(session: Session, what_if: WhatIf) -> None:
    """Save as YAML: a new name is offered (``<scenario>_whatif_<n>.yaml``, never the
    scenario's own); the name is taken as typed, and a click at once saves it (a ref holds
    it)."""
    default = solara.use_memo(session.default_save_name, [])
    save_to, set_save_to = solara.use_state(default)
    latest = solara.use_ref(default)
    message, set_message = solara.use_state(("", ""))

    def on_name(name: str) -> None:
        """Keep the name typed (the next click saves to it)."""
        latest.current = name
        set_save_to(name)

    def save() -> None:
        """Save the what-if as YAML under the name typed, and say where (or why not)."""
        try:
            written = session.save_yaml(what_if, Path(latest.current))
        except (UnsimError, OSError) as err:
            set_message(("error", str(err)))
        else:
            set_message(("ok", f"saved {written}; check it with: unsim validate {written}"))
            on_name(session.default_save_name())  # the next save is offered a new name

    solara.InputText(
        "Save the edited scenario as", value=save_to, on_value=on_name, continuous_update=True
    )
    where = f"a new .yaml file in {session.save_dir} (the save folder) or a folder under it"
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(where), classes=["unsim-save-dir"])
    solara.Button("Save as YAML", on_click=save)
    if message[0]:
        (solara.Success if message[0] == "ok" else solara.Error)(message[1])
