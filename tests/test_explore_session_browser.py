"""The explorer of a session file in a real browser (headless Chromium driven by Playwright, as
in test_explore_browser.py): the draft selector and the session's joint outcomes show on first
load, with the library's numbers; choosing another draft shows its title and numbers.
Skipped with a message when Chromium, Playwright or Solara is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import stop_server
from .test_explore_browser import _chromium, _free_port, _open, _printed_url
from .test_session import IRAN, SYRIA, _session

RUNS = 256
JOINT = {"iran_80_and_syria": "iran.plenary_yes >= 80 and syria.adopted"}


@pytest.fixture(scope="module")
def session_explorer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    pytest.importorskip("solara", reason="the explorer needs the explore extra (Solara)")
    tmp_path = tmp_path_factory.mktemp("session_explorer")
    path = _session(tmp_path, {"iran": IRAN, "syria": SYRIA}, 0.5, 0.2, joint_outcomes=JOINT)
    port = _free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unsim",
            "explore",
            str(path),
            "--port",
            str(port),
            "--runs",
            str(RUNS),
            "--save-dir",
            str(tmp_path),
            "--no-open",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        start_new_session=True,
    )
    try:
        yield _printed_url(tmp_path / "server.log", port, proc), proc, path
    finally:
        stop_server(proc, log)


def test_the_draft_selector_and_the_joint_outcomes_show_on_first_load(  # type: ignore[no-untyped-def]
    session_explorer,
) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no system Chromium (apt-get install -y chromium); .ci/run installs it")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (the test extra has it)"
    )
    from unsim.session.load import load_session
    from unsim.session.run import run_session

    url, proc, path = session_explorer
    expected = run_session(load_session(Path(path)), runs=RUNS).table
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            _open(page, url, proc, sync_api)
            joint = page.locator('tr[data-outcome="session:iran_80_and_syria"]').first
            joint.wait_for(state="visible", timeout=120_000)
            every = page.locator('tr[data-outcome="session:all_adopted"]').first
            assert every.is_visible()
            assert page.get_by_text("Draft of the session").first.is_visible()
            assert "Session: every draft adopted" in every.inner_text()
            share = ((expected["iran.plenary_yes"] >= 80) & expected["syria.adopted"]).mean()
            assert float(str(joint.get_attribute("data-p"))) == pytest.approx(share)
            assert float(str(every.get_attribute("data-p"))) == pytest.approx(
                expected["all_adopted"].mean()
            )
            # the first draft (Iran) is shown; its own outcome as the session runs it
            title = page.locator("h2").filter(has_text="Islamic Republic of Iran").first
            assert title.is_visible()
            plenary = page.locator('tr[data-outcome="plenary_adopted"]').first
            shown = float(str(plenary.get_attribute("data-p")))
            assert shown == pytest.approx(expected["iran.plenary_adopted"].mean())
            # choosing the Syria draft shows its title and its numbers
            chooser = page.locator(".v-select", has_text="Draft of the session")
            chooser.locator(".v-select__selections").first.click()
            page.locator(".v-list-item", has_text="syria").first.click()
            syria = page.locator("h2").filter(has_text="Syrian Arab Republic").first
            syria.wait_for(state="visible", timeout=120_000)
            plenary = page.locator('tr[data-outcome="plenary_adopted"]').first
            page.wait_for_function(
                "([sel, p]) => { const r = document.querySelector(sel);"
                " return r && r.getAttribute('data-p') === p; }",
                arg=[
                    'tr[data-outcome="plenary_adopted"]',
                    repr(float(expected["syria.plenary_adopted"].mean())),
                ],
                timeout=120_000,
            )
            assert page.locator('tr[data-outcome="session:iran.adopted"]').first.is_visible()
            page.screenshot(path=str(Path(path).parent / "session_explorer.png"))
        finally:
            browser.close()
