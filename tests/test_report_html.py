"""The self-contained HTML report: every outcome named, nothing loaded from the network, the
scenario and its assumptions in words, written atomically and never over a user's file."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from unsim import load_scenario, run
from unsim.cli import main
from unsim.errors import OutputError
from unsim.results.report.html import render_report, write_report
from unsim.results.tables import Results
from unsim.scenario.labels import is_code_path

from .conftest import DEFAULT_SCENARIO


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.headers: list[str] = []
        self._in_th = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data") and value:
                self.refs.append((tag, name, value))
        self._in_th = tag == "th"

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self._in_th = False

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        self.text.append(data)
        if self._in_th:
            self.headers.append(data)


@pytest.fixture(scope="module")
def results() -> Results:
    return run(load_scenario(DEFAULT_SCENARIO), runs=600, seed=11, workers=1)


@pytest.fixture(scope="module")
def report_text(results: Results) -> str:
    return render_report(results)


def _parse(text: str) -> _Collect:
    p = _Collect()
    p.feed(text)
    return p


def test_report_names_every_outcome_and_loads_nothing(results: Results, report_text: str) -> None:
    text = report_text
    parsed = _parse(text)
    body = " ".join(parsed.text)
    for name, o in results.summary["outcomes"].items():
        assert o["label"] in body or name.startswith("veto_"), name
    for code in ("China", "Russia"):  # vetoes by name
        assert f"vetoed by {code}" in body
    # nothing from the network: every src/href is inline data or a fragment
    assert parsed.refs, "expected embedded figures"
    for tag, attr, value in parsed.refs:
        assert not re.match(r"\s*(https?:)?//", value, re.I), (tag, attr, value)
        assert value.startswith(("data:image/png;base64,", "#")), (tag, attr, value[:40])
    assert "@import" not in text and "url(" not in text
    assert len([r for r in parsed.refs if r[0] == "img"]) >= 3


def test_report_shows_the_map_near_the_top(report_text: str) -> None:
    figure = re.search(r'<figure id="state-map"><img alt="([^"]+)" src="([^"]+)">', report_text)
    assert figure is not None
    alt, src = html.unescape(figure[1]), figure[2]
    assert alt.startswith("World map of each state's vote at the General Assembly plenary")
    assert src.startswith("data:image/png;base64,") and len(src) > 20_000
    headings = re.findall(r"<h2>([^<]+)</h2>", report_text)
    assert headings[:3] == ["The bottom line", "Where the votes are", "The question"]
    assert "Natural Earth" in report_text


def test_report_tells_the_scenario_in_words(results: Results, report_text: str) -> None:
    body = " ".join(_parse(report_text).text)
    for words in (
        "North Korea",  # the target by name
        "European Union",
        "Japan",
        "Charm offensive",
        "Invitation",
        "from round 2 to the end",
        "stated priors",
        "behaviour: ICC aversion",
        "sponsors' bargaining: accept offer min credibility",
        "Security Council: ICC referral",
        "more yes than no",
        "master seed",
        str(results.seed),
    ):
        assert words in body, words
    parsed = _parse(report_text)
    for header in parsed.headers:
        assert not is_code_path(header), header


def test_report_renders_an_attribution_table(results: Results) -> None:
    summary = dict(results.summary)
    summary["attribution"] = {
        "stage": "third_committee",
        "order": ["strategies[0]", "behaviour.icc_aversion"],
        "as_given": {"yes": 88.5, "no": 22.0, "abstain": 70.1, "absent": 12.4},
        "data_only": {"yes": 100.8, "no": 17.9, "abstain": 61.9, "absent": 12.4},
        "parts": [
            {
                "name": "strategies[1]",
                "label": "",
                "yes": -12.3,
                "no": 4.1,
                "abstain": 8.2,
                "absent": 0.0,
            },
            {
                "name": "behaviour.icc_aversion",
                "label": "",
                "yes": 0.0,
                "no": 0.0,
                "abstain": 0.0,
                "absent": 0.0,
            },
        ],
    }
    text = render_report(
        Results(
            results.scenario,
            results.seed,
            summary,
            results.per_state,
            results.runs,
            results.metadata,
        )
    )
    body = " ".join(_parse(text).text)
    assert "+ invitation" in body and "-12.3" in body
    assert "+ behaviour: ICC aversion" in body  # a part without a label is named in words
    # read forward: from the data alone, the last assumption removed added first
    assert body.index("from the data alone") < body.index("100.8") < body.index("+ behaviour")
    assert body.index("+ behaviour") < body.index("+ invitation") < body.index("88.5")
    assert "the parts depend on the order" in body
    assert "stated priors" not in body


def test_report_command_and_run_flag(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "res"
    assert (
        main(
            [
                str(DEFAULT_SCENARIO),
                "--runs",
                "300",
                "--seed",
                "5",
                "--out",
                str(out),
                "--report",
                "--no-plots",
                "-q",
            ]
        )
        == 0
    )
    report = out / "report.html"
    assert report.exists() and "<html" in report.read_text()
    # the bottom line first, as summary.json has it; the attribution read forward
    import json

    text = report.read_text()
    saved = json.loads((out / "summary.json").read_text())["bottom_line"]["sentences"]
    first = re.findall(r"<h2>([^<]+)</h2>", text)[0]
    assert first == "The bottom line"
    section = text.split('<section id="bottom-line">', 1)[1].split("</section>", 1)[0]
    assert re.findall(r"<li>([^<]*)</li>", section) == [html.escape(s) for s in saved]
    assert len(saved) == 4 and "ICC language retained (share of runs)" in text
    again = tmp_path / "again.html"
    assert main(["report", str(out), "--out", str(again)]) == 0
    assert again.read_text() == report.read_text()  # the same results give the same report
    assert again.stat().st_mode & 0o777 == (out / "summary.json").stat().st_mode & 0o777
    assert not list(tmp_path.glob(".*.tmp"))  # nothing half-written left behind
    # a user's file is never overwritten; a report unsim wrote is replaced
    mine = tmp_path / "mine.html"
    mine.write_text("<p>my notes</p>")
    assert main(["report", str(out), "--out", str(mine)]) == 2
    assert mine.read_text() == "<p>my notes</p>"
    assert "unsim did not write it" in capsys.readouterr().err
    # replacing a report unsim wrote (its rendering stubbed: the file handling is under test)
    import unsim.results.report.html as report_module

    stub = f'<html><head><meta name="generator" content="{report_module.GENERATOR}"></head></html>'
    monkeypatch.setattr(report_module, "render_report", lambda results: stub)
    assert main(["report", str(out), "--out", str(again)]) == 0
    assert again.read_text() == stub
    assert main(["report", str(tmp_path / "nowhere")]) != 0


def test_write_report_refuses_a_folder(results: Results, tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        write_report(results, tmp_path)
