"""The world's country shapes that unsim ships, and their projection for the map.

``world_shapes.npz`` beside this module holds Natural Earth's admin-0 countries (public domain,
through the npm package world-atlas, ISC licence: see ``world_shapes.LICENSE.txt``), simplified
and keyed by ISO 3166-1 alpha-3, made by ``scripts/make_world_shapes.py``. It is read with
``allow_pickle=False`` (plain arrays, nothing that could run code) and projected once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SHAPES_FILE = Path(__file__).with_name("world_shapes.npz")

# Equal Earth (Šavrič, Patterson and Jenny 2018): equal-area, so no state looks larger than it
# is, with the rounded outline of the Robinson projection
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = np.sqrt(3.0) / 2.0


def equal_earth(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitude and latitude (degrees) projected to Equal Earth (x from -2.71 to 2.71)."""
    lam = np.radians(lon)
    theta = np.arcsin(_M * np.sin(np.radians(lat)))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * np.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


@dataclass(frozen=True)
class WorldShapes:
    """The shapes as stored: ``key`` the ISO alpha-3 code of each entry (the UN members first,
    then land of no member state, ``""`` where it has no code), ``member`` whether it is a UN
    member state, the rings (outer rings only, largest first, so an enclave is drawn over the
    state around it) with the entry of each (``ring_key``), and a dot (longitude, latitude; NaN
    where none) for each small state."""

    key: NDArray[np.str_]
    member: NDArray[np.bool_]
    ring_key: NDArray[np.int64]
    rings: tuple[NDArray[np.float64], ...]
    dot: NDArray[np.float64]

    def has_dot(self) -> NDArray[np.bool_]:
        """(shapes,) whether each shape has a dot (a finite position) for a small state."""
        return np.isfinite(self.dot[:, 0])

    def member_rings(self) -> NDArray[np.int64]:
        """The rings of UN member states, in drawing order (the map's ``map_states`` paths)."""
        return np.flatnonzero(self.member[self.ring_key])

    def other_rings(self) -> NDArray[np.int64]:
        """The rings of land of no member state (the map's ``map_other`` paths)."""
        return np.flatnonzero(~self.member[self.ring_key])

    def drawn(self, iso3: str) -> str | None:
        """How a state is drawn: "shape", "dot", "shape and dot" or None (not at all)."""
        hits = np.flatnonzero(self.key == iso3)
        if not len(hits):
            return None
        i = int(hits[0])
        shape = bool(np.any(self.ring_key == i))
        dot = bool(self.has_dot()[i])
        return " and ".join(w for w, on in (("shape", shape), ("dot", dot)) if on) or None


@functools.cache
def world_shapes() -> WorldShapes:
    """The shapes in longitude and latitude (degrees), read once per process."""
    with np.load(SHAPES_FILE, allow_pickle=False) as f:
        lonlat = f["lonlat"].astype(np.float64) / 100.0
        starts = f["ring_start"].astype(np.int64)
        return WorldShapes(
            key=f["key"].astype(str),
            member=f["member"].astype(bool),
            ring_key=f["ring_key"].astype(np.int64),
            rings=tuple(np.split(lonlat, starts[1:-1])),
            dot=f["dot"].astype(np.float64),
        )


@functools.cache
def projected_shapes() -> WorldShapes:
    """The shapes projected to Equal Earth, once per process (the map draws from these)."""
    shapes = world_shapes()
    rings = tuple(np.column_stack(equal_earth(r[:, 0], r[:, 1])) for r in shapes.rings)
    dot = np.column_stack(equal_earth(shapes.dot[:, 0], shapes.dot[:, 1]))
    return WorldShapes(shapes.key, shapes.member, shapes.ring_key, rings, dot)
