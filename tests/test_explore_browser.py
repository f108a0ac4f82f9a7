"""The explorer in a real browser: headless Chromium (the system's) driven by Playwright.

Starts ``unsim explore`` on a free local port and opens the address it prints (with the
launch's token), sees the world map of the votes, moves a lever, and checks that the
probability the page shows changes and equals the library's answer for the same scenario,
change and seed, and types a number in the lever's box (the same; a number outside its range
refused in the page); the address without the token shows nothing; "Save as" refuses a file
outside the save folder, with a message in the page, and writes one inside it.
Skipped with a message when Chromium, Playwright or Solara is missing (``.ci/run`` installs
them).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, stop_server

#: The DPRK draft with its levers as points: a slider moves a number, not a distribution (the
#: shipped scenario's levers are drawn per run; tests/test_levers.py has the drawn box)
SCENARIO = ROOT / "scenarios" / "levers" / "reference_2014.yaml"
RUNS = 2000
SEED = 7
LEVER = "actors.sponsors.bargaining.accept_offer_min_credibility"
#: the number typed in the lever's box (the slider's step is 0.01)
TYPED = 0.3


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


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One server for the module's tests (each browser page is a session of its own)."""
    pytest.importorskip("solara", reason="the explorer needs the explore extra (Solara)")
    tmp_path = tmp_path_factory.mktemp("explorer")
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
        yield _printed_url(tmp_path / "server.log", port, proc), proc, tmp_path
    finally:
        stop_server(proc, log)


def _printed_url(log: Path, port: int, proc: subprocess.Popen[bytes]) -> str:
    """The address ``unsim explore`` prints: with this launch's token."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(rf"http://127\.0\.0\.1:{port}/\?token=[\w-]+", log.read_text())
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no address printed:\n{log.read_text()}")


def _open(page, url: str, proc, sync_api) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 120
    while True:  # the server needs a few seconds to listen
        try:
            page.goto(url, timeout=10_000)
            return
        except sync_api.Error:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(1)


def _type(box, text: str, applied) -> None:  # type: ignore[no-untyped-def]
    """Type ``text`` in ``box`` once and press Enter; ``applied(timeout_ms)`` waits to see it
    applied. The explorer keeps what is typed in the page's own state on every keystroke
    (unsim.explore.numberbox), so a box drawn anew while a run finishes loses nothing and one
    try must do, under load too."""
    box.fill(text)
    box.press("Enter")
    applied(60_000)


def _shown_p(page, outcome: str) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(f'tr[data-outcome="{outcome}"]').first.get_attribute("data-p"))


def test_moving_a_lever_shows_the_librarys_answer(explorer) -> None:  # type: ignore[no-untyped-def]
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no system Chromium (apt-get install -y chromium); .ci/run installs it")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (the test extra has it)"
    )
    from unsim import load_scenario, run
    from unsim.engine.assumptions import data_only
    from unsim.results.bottomline import bottom_line

    url, proc, tmp_path = explorer
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            _open(page, url, proc, sync_api)
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

            # the Council's procedure opened: its numbers between two of their sliders' steps
            # (the norm 4.76 on steps of 0.1, the tabling chance's mean) are not set by it
            page.get_by_text("Procedure", exact=True).first.click()
            page.locator(_lever_selector("procedure.council.votes.norm")).first.wait_for(
                state="visible", timeout=30_000
            )
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
            # the lever's number box: it shows the slider's value; a number typed in it re-runs
            # the what-if as the slider does; one outside the slider's range is refused in the
            # page and changes nothing
            box = lever.locator(".unsim-number input").first
            box_after_slider = box.input_value()
            unit_shown = lever.locator(".unsim-unit").first.inner_text()
            _type(
                box,
                str(TYPED),
                lambda ms: page.wait_for_function(
                    "([sel, old]) => { const r = document.querySelector(sel);"
                    " return r && r.getAttribute('data-p') !== old; }",
                    arg=['tr[data-outcome="icc_retained"]', after],
                    timeout=ms,
                ),
            )
            page.wait_for_function(
                "() => !document.querySelector('.unsim-updating')", timeout=60_000
            )
            typed_p = _shown_p(page, "icc_retained")
            typed_slider = float(str(slider.get_attribute("aria-valuenow")))
            box.fill("1.5")
            box.press("Enter")
            refusal = lever.locator(".unsim-refused").first
            refusal.wait_for(timeout=30_000)
            refused_message = refusal.inner_text()
            page.wait_for_timeout(1500)  # time for a re-run, had one been started
            refused_p = _shown_p(page, "icc_retained")
            refused_slider = float(str(slider.get_attribute("aria-valuenow")))
            updating_after_refusal = page.locator(".unsim-updating").count()
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
    assert changes == "1"  # the slider's lever alone: opening a section set nothing
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
    # the number box: the slider's value, then a typed number as the library's run
    assert float(box_after_slider) == value
    assert "probability 0-1" in unit_shown
    typed = run(load_scenario(SCENARIO, overrides={LEVER: TYPED}), runs=RUNS, seed=SEED, workers=1)
    assert typed_slider == TYPED  # the slider follows the box
    assert float(typed_p) == typed.outcome("icc_retained")["p"]
    assert float(typed_p) != float(after)
    # out of range: the message, and nothing changed
    assert "outside the range" in refused_message and "0 to 1.01" in refused_message
    assert refused_p == typed_p and refused_slider == TYPED
    assert updating_after_refusal == 0
    assert "What if" not in refused_text


#: Records, from before a change, whether the page marked itself as updating and a figure as
#: being redrawn, and when the numbers and then every figure were shown (for the log only:
#: no test asserts a time).
RECORDER = """() => {
  const row = () => document.querySelector('tr[data-outcome="icc_retained"]');
  const before = row() && row().getAttribute('data-p');
  const keys = () => [...document.querySelectorAll('.unsim-figure img')].map(i => i.dataset.key);
  const old = keys();
  const marks = {updating: false, stale: false, numbers: null, figures: null};
  const t0 = performance.now();
  new MutationObserver(() => {
    if (document.querySelector('.unsim-updating')) marks.updating = true;
    if (document.querySelector('.unsim-figure.unsim-stale')) marks.stale = true;
    const r = row();
    if (marks.numbers === null && r && r.getAttribute('data-p') !== before)
      marks.numbers = performance.now() - t0;
    const now = keys();
    if (marks.numbers !== null && marks.figures === null && now.length === old.length
        && now.every((k, i) => k !== old[i]) && !document.querySelector('.unsim-stale'))
      marks.figures = performance.now() - t0;
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
  window.__marks = marks;
}"""


def test_the_dashboard_pins_links_downloads_and_abstains(explorer) -> None:  # type: ignore[no-untyped-def]
    """Variant A pinned and B edited (paired difference as the library's), the page's state in
    its address without the token and a link that reloads it, the seed set, a download named
    after the what-if, each stage's tallies, the default new name to save under, and China
    made to abstain through its shifts."""
    import numpy as np

    chromium = _chromium()
    if chromium is None:
        pytest.skip("no system Chromium (apt-get install -y chromium); .ci/run installs it")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (the test extra has it)"
    )
    from unsim import load_scenario, run

    url, proc, folder = explorer
    lever = "behaviour.icc_aversion"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1100})
            page = context.new_page()
            _open(page, url, proc, sync_api)
            page.wait_for_selector('tr[data-outcome="icc_retained"]', timeout=120_000)
            page.wait_for_function("() => !location.search.includes('token')", timeout=30_000)
            first_address = page.evaluate("location.search")
            seed_shown = page.locator(".unsim-seed").first.inner_text()
            default_name = page.get_by_label("Save the edited scenario as").input_value()
            page.get_by_role("button", name="Pin as variant A").click()
            page.locator(".unsim-pinned").first.wait_for(timeout=30_000)
            page.wait_for_selector("table.unsim-variants", timeout=60_000)
            page.locator(".unsim-figure img").nth(2).wait_for(timeout=60_000)
            page.evaluate(RECORDER)
            page.get_by_text("How states decide").first.click()
            slider = page.locator(_lever_selector(lever)).first.locator("[role=slider]").first
            slider.wait_for(state="attached", timeout=30_000)
            slider.focus()
            page.keyboard.press("End")  # the ICC language at its costliest
            page.wait_for_function(
                "() => { const r = document.querySelector("
                "'table.unsim-variants tr[data-outcome=\"icc_retained\"]');"
                " return r && Number(r.getAttribute('data-diff')) !== 0; }",
                timeout=60_000,
            )
            page.wait_for_function("() => window.__marks.figures !== null", timeout=60_000)
            marks = page.evaluate("window.__marks")
            print(
                f"numbers shown {marks['numbers'] / 1000:.2f} s after the key press, every "
                f"figure {(marks['figures'] - marks['numbers']) / 1000:.2f} s after them"
            )
            value = float(str(slider.get_attribute("aria-valuenow")))
            row = page.locator('table.unsim-variants tr[data-outcome="icc_retained"]').first
            shown_b, shown_diff = (
                float(str(row.get_attribute(a))) for a in ("data-p", "data-diff")
            )
            plenary_yes = page.locator(
                'tr[data-stage="plenary"][data-variant="B"] td[data-vote="yes"]'
            ).first.get_attribute("data-median")
            page.wait_for_function(f"() => location.search.includes('set={lever}=')")
            address = page.evaluate("location.search")
            # the link, opened in another page (the same browser: its cookie, no token)
            linked = context.new_page()
            linked.goto(url.split("?", 1)[0] + address)
            linked.wait_for_selector(
                f'table.unsim-variants tr[data-outcome="icc_retained"][data-p="{shown_b!r}"]',
                timeout=120_000,
            )
            linked_diff = linked.locator(
                'table.unsim-variants tr[data-outcome="icc_retained"]'
            ).first.get_attribute("data-diff")
            # the seed, set in the page (once it has settled: figures painted, nothing updating)
            linked.wait_for_function(
                "() => document.querySelectorAll('.unsim-figure img').length >= 3"
                " && !document.querySelector('.unsim-updating')"
                " && !document.querySelector('.unsim-stale')",
                timeout=120_000,
            )
            _type(
                linked.get_by_label("Seed"),
                "11",
                lambda ms: linked.locator(".unsim-seed", has_text="seed 11").first.wait_for(
                    timeout=ms
                ),
            )
            linked.wait_for_function(
                "() => !document.querySelector('.unsim-updating')", timeout=60_000
            )
            seed11_p = float(str(_shown_p(linked, "icc_retained")))
            # a download named after the scenario, the seed and the changes
            button = page.get_by_role("button", name="run table .csv").first  # the what-if's
            with page.expect_download(timeout=60_000) as got:
                button.dispatch_event("click")  # (the long sidebar can lie over it)
            download = got.value
            download_name = download.suggested_filename
            download_lines = Path(download.path()).read_text().count("\n")
            # China only abstains
            page.get_by_text("A state's own values").first.dispatch_event("click")
            page.locator("button.unsim-only-abstains").first.dispatch_event("click")
            abstains = page.locator(".unsim-abstains").first
            abstains.wait_for(timeout=180_000)
            abstain_text = abstains.inner_text()
            page.wait_for_function(
                "() => location.search.includes('actors.states.CHN.support_shift')",
                timeout=60_000,
            )
        finally:
            browser.close()
    assert "seed=7" in first_address and f"runs={RUNS}" in first_address
    assert "token" not in first_address and "token" not in address
    assert seed_shown.startswith(f"seed {SEED}")
    assert default_name == f"{SCENARIO.stem}_whatif_1.yaml"  # the scenario file's name
    assert marks["updating"] and marks["stale"], marks  # it said it was updating, then redrawing
    assert value == 10.0
    scenario = load_scenario(SCENARIO)
    a = run(scenario, runs=RUNS, seed=SEED, workers=1)
    b = run(load_scenario(SCENARIO, overrides={lever: value}), runs=RUNS, seed=SEED, workers=1)
    assert shown_b == b.outcome("icc_retained")["p"]
    assert a.runs is not None and b.runs is not None
    paired = float(
        np.mean(b.runs["icc_retained"].to_numpy(float) - a.runs["icc_retained"].to_numpy(float))
    )
    assert shown_diff == pytest.approx(paired, abs=1e-12)
    assert shown_diff < 0  # the costlier language is dropped more often
    held = b.runs["plenary_held"].to_numpy(bool)
    expected_yes = np.quantile(b.runs["plenary_yes"].to_numpy()[held], 0.5, method="inverted_cdf")
    assert int(str(plenary_yes)) == int(expected_yes)
    assert linked_diff is not None and float(linked_diff) == pytest.approx(shown_diff, abs=1e-12)
    b11 = run(load_scenario(SCENARIO, overrides={lever: value}), runs=RUNS, seed=11, workers=1)
    assert seed11_p == b11.outcome("icc_retained")["p"]
    # downloads are named after the scenario's own name
    assert re.fullmatch(
        rf"{re.escape(scenario.name)}_seed7_whatif-[0-9a-f]{{8}}_runs\.csv", download_name
    )
    assert download_lines == RUNS + 1  # a header and a line per run
    assert "no forced vote" in abstain_text and "China" in abstain_text
    assert not any(folder.glob(f"{SCENARIO.stem}_whatif_*.yaml"))  # nothing saved unasked
