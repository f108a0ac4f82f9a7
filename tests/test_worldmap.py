"""The world map: the shapes shipped as package data cover every member state, are keyed right
and read safely; the projection is equal-area; the map colours each state by its vote."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath

from unsim.results.plots import COLORS, STAGE_LABELS, map_figure, plot_state_map
from unsim.results.plots.worldmap import NOT_MEMBER, NOT_VOTING, VOTE_CMAP
from unsim.results.plots.worldshapes import (
    SHAPES_FILE,
    equal_earth,
    projected_shapes,
    world_shapes,
)

from .conftest import SCENARIOS

matplotlib.use("Agg")

WORLD = yaml.safe_load((SCENARIOS / "worlds" / "un_2014.yaml").read_text())
STATES = [s["iso3"] for s in WORLD["states"]]
COUNCIL_2014 = ["CHN", "FRA", "GBR", "RUS", "USA", "ARG", "AUS", "LUX", "KOR", "RWA"]
COUNCIL_2014 += ["TCD", "CHL", "JOR", "LTU", "NGA"]

#: Inland capitals (longitude, latitude): each lies in its state's shape, whatever the
#: simplification, if the shapes are keyed right
CAPITALS = {
    "FRA": (2.35, 48.86),
    "BRA": (-47.88, -15.79),
    "CAN": (-75.70, 45.42),
    "KEN": (36.82, -1.29),
    "IND": (77.21, 28.61),
    "RUS": (37.62, 55.76),
    "CHN": (116.40, 39.90),
    "ZAF": (28.19, -25.75),
    "DEU": (13.40, 52.52),
    "ESP": (-3.70, 40.42),
    "AFG": (69.17, 34.53),
    "MNG": (106.92, 47.92),
    "MLI": (-8.00, 12.64),
    "MEX": (-99.13, 19.43),
    "COL": (-74.07, 4.71),
    "IRN": (51.39, 35.69),
    "TUR": (32.85, 39.93),
    "AUS": (149.13, -35.28),
    "PRK": (125.75, 39.03),
    "LSO": (27.48, -29.31),  # an enclave: inside South Africa's outer ring too
}

#: Small states drawn as dots, with their place (longitude, latitude) and how far the dot may be
SMALL = {
    "MCO": (7.42, 43.74, 0.3),
    "SMR": (12.46, 43.94, 0.3),
    "LIE": (9.55, 47.16, 0.3),
    "AND": (1.52, 42.51, 0.3),
    "MLT": (14.40, 35.90, 0.5),
    "SGP": (103.82, 1.35, 0.5),
    "BHR": (50.55, 26.07, 0.5),
    "MDV": (73.5, 3.2, 4.0),
    "TUV": (178.5, -8.0, 3.0),
    "NRU": (166.93, -0.53, 0.3),
    "KNA": (-62.75, 17.30, 0.5),
    "TON": (-175.2, -21.1, 3.0),
}


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


# -- the data --------------------------------------------------------------------------------------
def test_every_member_state_has_a_shape_or_a_dot() -> None:
    shapes = world_shapes()
    assert len(STATES) == 193
    assert sorted(shapes.key[shapes.member]) == sorted(STATES)
    undrawn = [iso3 for iso3 in STATES if shapes.drawn(iso3) is None]
    assert undrawn == []
    for iso3, (lon, lat, near) in SMALL.items():
        assert "dot" in str(shapes.drawn(iso3)), iso3
        dot = shapes.dot[list(shapes.key).index(iso3)]
        assert abs(dot[0] - lon) <= near and abs(dot[1] - lat) <= near, (iso3, dot)
    for iso3 in ("USA", "BRA", "RUS", "CHN", "FRA", "NGA"):
        assert shapes.drawn(iso3) == "shape", iso3


def test_the_shapes_are_keyed_by_the_right_codes() -> None:
    shapes = world_shapes()
    keys = shapes.key[shapes.ring_key]
    for iso3, capital in CAPITALS.items():
        containing = [
            i for i, ring in enumerate(shapes.rings) if MplPath(ring).contains_point(capital)
        ]
        assert containing, iso3
        # the state drawn last at the capital (an enclave over the state around it) is its own
        assert keys[containing[-1]] == iso3, (iso3, list(keys[containing]))


def test_the_file_is_small_plain_and_in_range() -> None:
    assert SHAPES_FILE.stat().st_size < 1_000_000
    with np.load(SHAPES_FILE, allow_pickle=False) as f:  # no object arrays: nothing runs code
        assert all(f[name].dtype != object for name in f.files)
    shapes = world_shapes()
    points = np.concatenate(shapes.rings)
    assert points[:, 0].min() >= -180 and points[:, 0].max() <= 180
    assert points[:, 1].min() >= -90 and points[:, 1].max() <= 90
    assert "ATA" not in set(shapes.key)  # no Antarctica
    assert (SHAPES_FILE.parent / "world_shapes.LICENSE.txt").read_text().count("Natural Earth")


def test_equal_earth_is_equal_area_and_symmetric() -> None:
    def area(lon0: float, lat0: float) -> float:
        lon = np.array([lon0, lon0 + 10, lon0 + 10, lon0])
        lat = np.array([lat0, lat0, lat0 + 10, lat0 + 10])
        t = np.linspace(0, 1, 50)[:, None]
        # the cell's outline densified along each side (a side's start to its end), projected
        lon_d = (lon + (np.roll(lon, -1) - lon) * t).T.ravel()
        lat_d = (lat + (np.roll(lat, -1) - lat) * t).T.ravel()
        x, y = equal_earth(lon_d, lat_d)
        return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)

    # a cell's area on the sphere is proportional to the difference of the sines of its
    # latitudes
    expected = (np.sin(np.radians(60)) - np.sin(np.radians(50))) / np.sin(np.radians(10))
    assert area(100, 50) / area(-30, 0) == pytest.approx(expected, rel=1e-3)
    x, y = equal_earth(np.array([0.0, 30.0, -30.0]), np.array([0.0, 45.0, -45.0]))
    assert (x[0], y[0]) == (0.0, 0.0)
    assert x[1] == pytest.approx(-x[2]) and y[1] == pytest.approx(-y[2])


def test_the_projection_is_made_once_per_process() -> None:
    assert projected_shapes() is projected_shapes()
    assert len(projected_shapes().rings) == len(world_shapes().rings)


# -- the figure ------------------------------------------------------------------------------------
def per_state(stage: str = "plenary", states: list[str] = STATES) -> pd.DataFrame:
    """Every state undecided: a third each of yes, no and abstain."""
    return pd.DataFrame(
        {
            "stage": stage,
            "iso3": states,
            "name": states,
            "group": "African",
            "p_yes": 1 / 3,
            "p_no": 1 / 3,
            "p_abstain": 1 / 3,
            "p_absent": 0.0,
            "p_pivotal": 0.0,
            "runs_held": 400,
        }
    )


def setting(df: pd.DataFrame, iso3: str, **p: float) -> pd.DataFrame:
    row = df["iso3"] == iso3
    for cat in ("yes", "no", "abstain", "absent"):
        df.loc[row, f"p_{cat}"] = p.get(cat, 0.0)
    return df


def state_faces(ax: Axes, iso3: str) -> np.ndarray:
    shapes = projected_shapes()
    (states,) = [c for c in ax.collections if c.get_gid() == "map_states"]
    assert isinstance(states, PolyCollection)
    drawn = shapes.member_rings()
    mine = shapes.key[shapes.ring_key[drawn]] == iso3
    assert mine.any(), iso3
    return np.asarray(states.get_facecolors())[mine]


def dot_face(ax: Axes, iso3: str) -> np.ndarray:
    shapes = projected_shapes()
    (dots,) = [c for c in ax.collections if c.get_gid() == "map_dots"]
    assert isinstance(dots, PathCollection)
    order = [str(shapes.key[i]) for i in np.flatnonzero(shapes.has_dot())]  # all vote here
    offsets = np.asarray(dots.get_offsets())
    index = order.index(iso3)
    assert offsets[index] == pytest.approx(shapes.dot[list(shapes.key).index(iso3)])
    return np.asarray(dots.get_facecolors())[index]


def test_a_states_colour_is_its_vote() -> None:
    df = per_state()
    setting(df, "FRA", yes=1.0)
    setting(df, "RUS", no=1.0)
    setting(df, "IND", abstain=1.0)
    setting(df, "MCO", yes=1.0)
    setting(df, "BRA", yes=0.75, no=0.25)
    ax = plot_state_map(df, "plenary")
    assert np.allclose(state_faces(ax, "FRA"), to_rgba(COLORS["yes"]))
    assert np.allclose(state_faces(ax, "RUS"), to_rgba(COLORS["no"]))
    middle = np.asarray(VOTE_CMAP(0.5))
    assert np.allclose(state_faces(ax, "IND"), middle)
    assert np.allclose(state_faces(ax, "USA"), middle)  # a third each: yes and no alike
    assert np.allclose(state_faces(ax, "BRA"), VOTE_CMAP(0.75))  # yes 75 % - no 25 % = 0.5
    assert np.allclose(dot_face(ax, "MCO"), to_rgba(COLORS["yes"]))
    (other,) = [c for c in ax.collections if c.get_gid() == "map_other"]
    assert np.allclose(np.asarray(other.get_facecolors()), to_rgba(NOT_MEMBER))
    assert other.get_hatch()
    title = ax.get_title()
    assert title.startswith(f"{STAGE_LABELS['plenary']}: each state's vote (400 runs")
    assert "yes minus" in title
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["small state (a dot at its place)", "not a UN member state"]
    (bar,) = ax.child_axes
    words = [t.get_text() for t in bar.get_xticklabels()]
    assert words[0].startswith("no") and words[-1].startswith("yes")
    assert "abstain" in words[2]


def test_at_the_council_the_other_states_are_grey() -> None:
    df = setting(per_state("sc_referral", COUNCIL_2014), "CHN", no=1.0)
    setting(df, "LUX", yes=1.0)
    ax = plot_state_map(df, "sc_referral")
    assert np.allclose(state_faces(ax, "CHN"), to_rgba(COLORS["no"]))
    assert np.allclose(state_faces(ax, "BRA"), to_rgba(NOT_VOTING))
    assert np.allclose(state_faces(ax, "IND"), to_rgba(NOT_VOTING))
    (dots,) = [c for c in ax.collections if c.get_gid() == "map_dots"]
    assert len(dots.get_offsets()) == 1  # only Luxembourg votes among the small states
    assert np.allclose(np.asarray(dots.get_facecolors())[0], to_rgba(COLORS["yes"]))
    assert "not on the Council (no vote here)" in [
        t.get_text() for t in ax.get_legend().get_texts()
    ]
    assert ax.get_title().startswith(STAGE_LABELS["sc_referral"])


def test_map_figure_and_bad_stages() -> None:
    fig = map_figure(per_state(), "plenary", fig=Figure())
    assert isinstance(fig, Figure)
    gids = [c.get_gid() for ax in fig.axes for c in ax.collections]
    assert gids == ["map_states", "map_other", "map_dots"]
    assert plt.get_fignums() == []  # not registered with pyplot
    with pytest.raises(ValueError, match="unknown stage"):
        plot_state_map(per_state(), "referendum")
    with pytest.raises(ValueError, match="never held"):
        plot_state_map(per_state(), "third_committee")
