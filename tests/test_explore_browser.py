"""The explorer in a real browser: headless Chromium (the system's) driven by Playwright.

Starts ``unsim explore`` on a free local port and opens the address it prints (with the
launch's token), sees the world map of the votes, moves a lever, and checks that the
probability the page shows changes and equals the library's answer for the same scenario,
change and seed; the address without the token shows nothing; "Save as" refuses a file
outside the save folder, with a message in the page, and writes one inside it.
Skipped with a message when Chromium, Playwright or Solara is missing (``.ci/run`` installs
them).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT

#: The DPRK draft with its levers as points: a slider moves a number, not a distribution (the
#: shipped scenario's levers are drawn per run; tests/test_levers.py has the drawn box)
SCENARIO = ROOT / "scenarios" / "levers" / "reference_2014.yaml"
RUNS = 2000
SEED = 7
LEVER = "actors.sponsors.bargaining.accept_offer_min_credibility"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lever_selector(path: str) -> str:
    return ".lever-" + "".join(c if c.isalnum() else "-" for c in path)


@pytest.fixture
def explorer(tmp_path: Path):  # type: ignore[no-untyped-def]
    pytest.importorskip("solara", reason="the explorer needs the explore extra (Solara)")
    port = _free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unsim",
            "explore",
            str(SCENARIO),
            "--port",
            str(port),
            "--runs",
            str(RUNS),
            "--seed",
            str(SEED),
            "--save-dir",
            str(tmp_path),
            "--no-open",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        yield _printed_url(tmp_path / "server.log", port, proc), proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _printed_url(log: Path, port: int, proc: subprocess.Popen[bytes]) -> str:
    """The address ``unsim explore`` prints: with this launch's token."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(rf"http://127\.0\.0\.1:{port}/\?token=[\w-]+", log.read_text())
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no address printed:\n{log.read_text()}")


def _shown_p(page, outcome: str) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(f'tr[data-outcome="{outcome}"]').first.get_attribute("data-p"))


def test_moving_a_lever_shows_the_librarys_answer(explorer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no system Chromium (apt-get install -y chromium); .ci/run installs it")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (the test extra has it)"
    )
    from unsim import load_scenario, run
    from unsim.engine.assumptions import data_only
    from unsim.results.bottomline import bottom_line

    url, proc = explorer
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            deadline = time.monotonic() + 120
            while True:  # the server needs a few seconds to listen
                try:
                    page.goto(url, timeout=10_000)
                    break
                except sync_api.Error:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(1)
            page.wait_for_selector('tr[data-outcome="icc_retained"]', timeout=120_000)
            before = _shown_p(page, "icc_retained")
            # the bottom line at the top of the page, above the outcomes
            line = page.locator(".unsim-bottom-line").first
            line.wait_for(state="visible", timeout=60_000)
            shown_line = line.locator("li").all_inner_texts()
            line_top = line.bounding_box()["y"]
            outcomes_top = page.locator(".unsim-outcomes").first.bounding_box()["y"]
            # the world map of each state's vote, drawn in the background, shows on first load
            world_map = page.locator(".unsim-map img[alt^='World map of each state']").first
            world_map.wait_for(state="visible", timeout=120_000)
            map_alt = str(world_map.get_attribute("alt"))
            map_size = world_map.evaluate("img => [img.naturalWidth, img.clientWidth]")
            baseline = run(load_scenario(SCENARIO), runs=RUNS, seed=SEED, workers=1)
            assert float(before) == baseline.outcome("icc_retained")["p"]
            # beside it, the data-only forecast: the library's, on the same seed and runs
            row = page.locator('tr[data-outcome="referral_tabled"]').first
            shown_bare = float(str(row.get_attribute("data-p-data-only")))
            bare = run(data_only(load_scenario(SCENARIO)), runs=RUNS, seed=SEED, workers=1)
            assert shown_bare == bare.outcome("referral_tabled")["p"]
            assert page.locator('.unsim-yes tr[data-yes="third_committee"]').count() == 1

            page.get_by_text("Sponsors: bargaining bar and lobbying").click()
            lever = page.locator(_lever_selector(LEVER)).first
            lever.wait_for(state="visible", timeout=30_000)
            slider = lever.locator("[role=slider]").first  # Vuetify's thumb: focusable, no size
            slider.focus()
            t0 = time.monotonic()
            page.keyboard.press("Home")  # the bar to its lowest: any standing offer will do
            page.wait_for_function(
                "([sel, old]) => { const r = document.querySelector(sel);"
                " return r && r.getAttribute('data-p') !== old; }",
                arg=['tr[data-outcome="icc_retained"]', before],
                timeout=60_000,
            )
            print(f"re-run shown {time.monotonic() - t0:.2f} s after the key press")
            value = float(str(slider.get_attribute("aria-valuenow")))
            after = _shown_p(page, "icc_retained")
            changes = page.locator(".unsim-changes").first.inner_text()
            # the chosen state's probabilities at each stage it voted in (the target by default)
            state_rows = page.locator(".unsim-state tr[data-stage]").count()
            page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
            # another state chosen (Vuetify's select, by typing its name): a veto holder is
            # explained at the referral draft too
            chooser = page.locator(".v-select", has_text="State: its probability")
            chooser.locator(".v-select__selections").first.click()
            page.wait_for_timeout(500)
            page.keyboard.type("Russia", delay=30)
            page.keyboard.press("Enter")
            why = page.locator("text=Why, at the Security Council's referral vote").first
            why.wait_for(timeout=60_000)
            council_why = why.locator("xpath=..").inner_text()
            council_rows = page.locator(".unsim-state tr[data-stage]").count()
            # "Save as": a file outside the save folder is refused in the page; one inside is
            # written
            save_as = page.get_by_label("Save the edited scenario as")
            save_button = page.get_by_role("button", name="Save as YAML")
            save_as.fill(str(outside))
            save_button.click()
            page.locator("text=outside the save folder").first.wait_for(timeout=30_000)
            save_as.fill("mine.yaml")
            save_button.click()
            page.locator("text=check it with: unsim validate").first.wait_for(timeout=30_000)
            # the address without the token, in a browser without the cookie: nothing
            stranger = browser.new_context().new_page()
            refused = stranger.goto(url.split("?", 1)[0])
            assert refused is not None
            refused_status, refused_text = refused.status, stranger.inner_text("body")
        finally:
            browser.close()
    sentences = bottom_line(baseline.summary, baseline.scenario)["sentences"]
    assert [" ".join(s.split()) for s in shown_line] == sentences
    assert line_top < outcomes_top
    assert "General Assembly plenary" in map_alt, map_alt
    assert map_size[0] >= 700 and map_size[1] >= 300, map_size  # decoded and laid out
    assert value == 0.0
    assert changes == "1"
    assert state_rows == 3  # North Korea: amendment, Third Committee, plenary
    expected = run(
        load_scenario(SCENARIO, overrides={LEVER: value}), runs=RUNS, seed=SEED, workers=1
    )
    assert float(after) == expected.outcome("icc_retained")["p"]
    assert float(after) < float(before)  # the sponsors now take the DPRK's offer in some runs
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
    assert council_rows == 5  # Russia: amendment, Third Committee, plenary, the Council's two
    assert "most likely votes no" in council_why, council_why
    assert not outside.exists()
    saved = (tmp_path / "mine.yaml").read_text()
    assert f"{LEVER} = 0.0" in saved
    assert refused_status == 403 and "forbidden" in refused_text
    assert "What if" not in refused_text
