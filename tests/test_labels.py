"""Scenario paths in words: no figure, control or report label reads like code."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure

from unsim import load_scenario
from unsim.results.plots import annotate_heatmap, plot_group_heatmap, readable_text_color
from unsim.scenario.labels import describe, is_code_path, label_for

from .conftest import DEFAULT_SCENARIO

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario(DEFAULT_SCENARIO)


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("actors.target.strategies[0].intensity", "charm offensive: intensity"),
        ("actors.target.strategies[1].credibility", "invitation: credibility"),
        ("actors.target.strategies[1].schedule.start", "invitation: schedule start"),
        ("behaviour.icc_aversion", "behaviour: ICC aversion"),
        ("actors.allies.patron_tie", "allies: patron tie"),
        ("actors.allies.counter_lobbying.budget", "allies' counter-lobbying: budget"),
        (
            "actors.sponsors.bargaining.accept_offer_min_credibility",
            "sponsors' bargaining: accept offer min credibility",
        ),
        ("actors.states.CHN.council_shift", "China: council shift"),
        ("simulation.rounds.plenary", "diplomatic rounds before: plenary"),
    ],
)
def test_label_for_known_paths(scenario, path: str, label: str) -> None:  # type: ignore[no-untyped-def]
    assert label_for(path, scenario) == label
    assert not is_code_path(label_for(path, scenario))


def test_labels_of_every_scenario_value_are_words(scenario) -> None:  # type: ignore[no-untyped-def]
    """Every leaf of the scenario (world and calibration aside) gets a label without dots,
    brackets or underscores, with or without the scenario at hand."""
    data = scenario.model_dump(exclude={"world", "calibration"})

    def leaves(node, prefix=""):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            for k, v in node.items():
                yield from leaves(v, f"{prefix}.{k}" if prefix else str(k))
        elif isinstance(node, list) and node and isinstance(node[0], dict):
            for i, v in enumerate(node):
                yield from leaves(v, f"{prefix}[{i}]")
        else:
            yield prefix

    paths = list(leaves(data))
    assert len(paths) > 60
    for path in paths:
        for label in (label_for(path, scenario), label_for(path)):
            assert label and not is_code_path(label), (path, label)


def test_describe_reads_the_schema(scenario) -> None:  # type: ignore[no-untyped-def]
    assert describe("actors.target.strategies[0].intensity", scenario) == (
        "shift per active round (latent scale)"
    )
    assert describe("behaviour.icc_aversion") == "default cost of the ICC language"
    assert describe("actors.states.CHN.absence", scenario) == "probability of being absent"
    assert describe("no.such.field", scenario) is None


def test_is_code_path() -> None:
    assert is_code_path("strategies[0].intensity")
    assert is_code_path("icc_aversion")
    assert not is_code_path("charm offensive: intensity")


@pytest.mark.parametrize("cmap", ["viridis", "RdBu", "magma", "Greys", "coolwarm"])
def test_heatmap_numbers_are_readable_on_every_cell(cmap: str) -> None:
    """The text colour of each cell has a contrast ratio of at least 4.5 with the cell
    (WCAG AA) for every colour of the map."""
    import numpy as np
    from matplotlib.colors import to_rgb

    def luminance(rgb) -> float:  # type: ignore[no-untyped-def]
        c = np.array(rgb)
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    fig = Figure()
    ax = fig.add_subplot()
    values = np.linspace(0, 1, 64).reshape(8, 8)
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=1)
    annotate_heatmap(ax, image, values)
    texts = [t for t in ax.texts if t.get_gid() == "cell_value"]
    assert len(texts) == 64
    for t, v in zip(texts, values.ravel(), strict=True):
        cell = luminance(to_rgb(image.cmap(image.norm(v))))
        text = luminance(to_rgb(t.get_color()))
        hi, lo = max(cell, text), min(cell, text)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, (cmap, v, t.get_color())
    assert readable_text_color("white") == "black"
    assert readable_text_color("#08306b") == "white"


def test_group_heatmap_labels_in_words() -> None:
    import pandas as pd

    rows = [
        {"stage": s, "group": g, "p_yes": p}
        for s, p0 in (("third_committee", 0.2), ("plenary", 0.7))
        for g, p in (("African", p0), ("WEOG", p0 + 0.25))
    ]
    fig = Figure()
    ax = plot_group_heatmap(pd.DataFrame(rows), ax=fig.add_subplot())
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert "General Assembly plenary" in labels and "African States" in labels
    assert not any(is_code_path(x) for x in labels)
    assert sorted(t.get_text() for t in ax.texts) == ["20%", "45%", "70%", "95%"]


def _contrast(a, b) -> float:  # type: ignore[no-untyped-def]
    import numpy as np
    from matplotlib.colors import to_rgb

    def luminance(rgb) -> float:  # type: ignore[no-untyped-def]
        c = np.array(to_rgb(rgb))
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_sweep_heatmap_numbers_are_readable() -> None:
    """The sweep heat map writes every cell's number in the colour that reads on that cell."""
    import numpy as np
    import pandas as pd

    from unsim.studies.sweeps import plot_heatmap

    xs, ys = np.linspace(0, 1, 6), np.linspace(0, 1, 5)
    df = pd.DataFrame(
        [
            {"point": i, "a.x": x, "a.y": y, "runs": 10, "plenary_adopted_p": (x + y) / 2}
            for i, (x, y) in enumerate((x, y) for x in xs for y in ys)
        ]
    )
    fig = Figure()
    ax = plot_heatmap(df, "a.x", "a.y", "plenary_adopted", ax=fig.add_subplot())
    image = ax.images[0]
    assert len(ax.texts) == 30
    for t in ax.texts:
        j, i = t.get_position()
        cell = image.cmap(image.norm(image.get_array()[int(i), int(j)]))
        assert _contrast(cell, t.get_color()) >= 4.5, (t.get_text(), t.get_color())
