"""Make unsim's world map data (src/unsim/results/plots/world_shapes.npz) from Natural Earth.

Run once by a developer when the shapes are to change; unsim itself only reads the file it
writes (nothing is downloaded at run time).

Input
-----
- The npm package ``world-atlas`` 2.0.2 (ISC licence, Mike Bostock): Natural Earth's admin-0
  countries, version 4.1.0 (public domain), as TopoJSON with ISO 3166-1 numeric ids. Fetch it
  into a scratch folder with npm's own client::

      mkdir -p /tmp/atlas && cd /tmp/atlas
      npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz

  ``countries-50m.json`` gives the shapes; ``countries-10m.json`` the places of the small states
  drawn as dots (it is the only scale that has all of them: Tuvalu is not in the 50m file).
- ISO 3166-1 numeric to alpha-3 codes: Debian's ``iso-codes`` package
  (``/usr/share/iso-codes/json/iso_3166-1.json``; ``apt-get install iso-codes``).
- The UN member states: ``scenarios/worlds/un_2014.yaml`` (the 193 members of 2014).

Rerun (from the repository root)::

    .venv/bin/python scripts/make_world_shapes.py --atlas /tmp/atlas/package

What it does
------------
1. Decodes the TopoJSON arcs and simplifies each arc once (Douglas-Peucker, ``--tolerance``
   degrees; the borders two states share are simplified alike, so no gap opens between them).
2. Assembles each country's outer rings (holes are enclaves of other states, drawn on top:
   rings are stored largest first). Antarctica is left out. Somaliland is drawn as part of
   Somalia and Northern Cyprus as part of Cyprus (their recognised states, both UN members),
   Åland as part of Finland, Hong Kong and Macao as parts of China; every other unit of
   Natural Earth's that is not a UN member (Greenland, Western Sahara, Taiwan, Kosovo,
   Palestine, the dependent territories...) is kept as land of no member state, drawn in grey.
3. Gives a dot (longitude, latitude) to every member whose land in the 50m file is smaller than
   ``--dot-area`` km² or missing (the centroid of its largest polygon in the 10m file).
4. Writes coordinates in hundredths of a degree (int16) to a compressed ``.npz`` (no pickled
   objects: unsim reads it with ``allow_pickle=False``). The notice beside it,
   ``world_shapes.LICENSE.txt``, is kept by hand: update it if the input's version changes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "unsim" / "results" / "plots" / "world_shapes.npz"
EARTH_RADIUS_KM = 6371.0088
#: Natural Earth's units drawn as part of a UN member (by name, or by ISO alpha-3 code)
MERGED = {"Somaliland": "SOM", "N. Cyprus": "CYP"}
MERGED_CODES = {"ALA": "FIN", "HKG": "CHN", "MAC": "CHN"}  # Åland, Hong Kong, Macao
DROPPED = {"ATA"}  # Antarctica: no state


def decode_arcs(topo: dict) -> list[np.ndarray]:
    """The TopoJSON arcs in degrees (delta-decoded and de-quantized)."""
    scale = np.array(topo["transform"]["scale"])
    shift = np.array(topo["transform"]["translate"])
    return [np.cumsum(np.array(a, dtype=np.float64), axis=0) * scale + shift for a in topo["arcs"]]


def douglas_peucker(points: np.ndarray, tolerance: float) -> np.ndarray:
    """The points of a line kept by Douglas-Peucker (its two ends always kept)."""
    n = len(points)
    if n <= 2:
        return points
    keep = np.zeros(n, dtype=bool)
    keep[[0, n - 1]] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b = points[i], points[j]
        seg = b - a
        rel = points[i + 1 : j] - a
        length = math.hypot(*seg)
        if length == 0:
            dist = np.hypot(rel[:, 0], rel[:, 1])
        else:
            dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / length
        k = int(np.argmax(dist))
        if dist[k] > tolerance:
            m = i + 1 + k
            keep[m] = True
            stack += [(i, m), (m, j)]
    return points[keep]


def ring_of(arcs: list[np.ndarray], indices: list[int]) -> np.ndarray:
    """A ring joined from its arcs (a negative index ``~i`` is arc ``i`` reversed)."""
    parts = []
    for k, index in enumerate(indices):
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        parts.append(arc if k == 0 else arc[1:])
    return np.concatenate(parts)


def area_km2(ring: np.ndarray) -> float:
    """A ring's area on the sphere (shoelace in Lambert's cylindrical equal-area projection)."""
    x = np.radians(ring[:, 0])
    y = np.sin(np.radians(ring[:, 1]))
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2) * (
        EARTH_RADIUS_KM**2
    )


def centroid(ring: np.ndarray) -> tuple[float, float]:
    """A ring's centroid in longitude and latitude (planar; small rings only)."""
    x, y = ring[:, 0], ring[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    a = cross.sum() / 2
    if abs(a) < 1e-12:
        return float(x.mean()), float(y.mean())
    cx = ((x + np.roll(x, -1)) * cross).sum() / (6 * a)
    cy = ((y + np.roll(y, -1)) * cross).sum() / (6 * a)
    return float(cx), float(cy)


def clip(ring: np.ndarray, x: float, keep_below: bool) -> np.ndarray:
    """A ring clipped to one side of the meridian ``x`` (Sutherland-Hodgman)."""
    inside = ring[:, 0] <= x if keep_below else ring[:, 0] >= x
    out = []
    for k in range(len(ring)):
        a, b = ring[k - 1], ring[k]
        if inside[k] != inside[k - 1]:
            t = (x - a[0]) / (b[0] - a[0])
            out.append([x, a[1] + t * (b[1] - a[1])])
        if inside[k]:
            out.append(b)
    return np.array(out).reshape(-1, 2)


def split_at_antimeridian(ring: np.ndarray) -> list[np.ndarray]:
    """A ring that crosses the 180th meridian (Russia's, Fiji's) as one ring on each side."""
    lon = np.unwrap(ring[:, 0], period=360.0)
    if lon.max() <= 180.0 and lon.min() >= -180.0:
        return [ring]
    whole = np.column_stack([lon, ring[:, 1]])
    edge, turn = (180.0, -360.0) if lon.max() > 180.0 else (-180.0, 360.0)
    near = clip(whole, edge, keep_below=edge > 0)
    far = clip(whole, edge, keep_below=edge < 0) + np.array([turn, 0.0])
    return [r for r in (near, far) if len(r) >= 3]


def outer_rings(geometry: dict, arcs: list[np.ndarray]) -> list[np.ndarray]:
    """The outer ring of each polygon of a TopoJSON geometry (holes left out)."""
    if geometry["type"] == "Polygon":
        polygons = [geometry["arcs"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["arcs"]
    else:
        return []
    return [r for p in polygons for r in split_at_antimeridian(ring_of(arcs, p[0]))]


def keys_of(topo: dict, codes: dict[str, str]) -> list[tuple[str, dict]]:
    """Each geometry with the ISO alpha-3 code it is drawn as ("" for none)."""
    out = []
    for g in topo["objects"]["countries"]["geometries"]:
        name = g.get("properties", {}).get("name", "")
        key = MERGED.get(name) or codes.get(str(g.get("id")), "")
        key = MERGED_CODES.get(key, key)
        if key not in DROPPED:
            out.append((key, g))
    return out


def shapes(topo: dict, codes: dict[str, str], tolerance: float) -> dict[str, list[np.ndarray]]:
    """Each alpha-3 code's simplified outer rings (key "" for land with no code)."""
    arcs = [douglas_peucker(a, tolerance) for a in decode_arcs(topo)]
    rings: dict[str, list[np.ndarray]] = {}
    for key, g in keys_of(topo, codes):
        for ring in outer_rings(g, arcs):
            ring = ring[np.r_[True, np.any(np.diff(ring, axis=0) != 0, axis=1)]]
            if len(ring) >= 4 and area_km2(ring) > 0:
                rings.setdefault(key, []).append(ring)
    return rings


def dots(topo: dict, codes: dict[str, str], wanted: set[str]) -> dict[str, tuple[float, float]]:
    """The centroid of the largest polygon of each wanted state (unsimplified)."""
    arcs = decode_arcs(topo)
    out = {}
    for key, g in keys_of(topo, codes):
        if key in wanted:
            rings = outer_rings(g, arcs)
            out[key] = centroid(max(rings, key=area_km2))
    return out


def build(atlas: Path, iso_codes: Path, world: Path, tolerance: float, dot_area: float) -> dict:
    """The arrays of the npz file."""
    codes = {d["numeric"]: d["alpha_3"] for d in json.loads(iso_codes.read_text())["3166-1"]}
    members = [s["iso3"] for s in yaml.safe_load(world.read_text())["states"]]
    rings = shapes(json.loads((atlas / "countries-50m.json").read_text()), codes, tolerance)
    small = {m for m in members if sum(map(area_km2, rings.get(m, []))) < dot_area}
    places = dots(json.loads((atlas / "countries-10m.json").read_text()), codes, small)
    missing = small - set(places)
    if missing:
        raise SystemExit(f"no shape and no place for {sorted(missing)}")
    others = sorted(k for k in rings if k not in members)
    keys = [*members, *others]
    flat = [(area_km2(r), keys.index(k), r) for k, rs in rings.items() for r in rs]
    flat.sort(key=lambda t: -t[0])  # largest first: an enclave is drawn over its encloser
    coords = np.concatenate([r for _, _, r in flat])
    starts = np.cumsum([0] + [len(r) for _, _, r in flat])
    dot = np.full((len(keys), 2), np.nan, dtype=np.float32)
    for k, place in places.items():
        dot[keys.index(k)] = place
    return {
        "key": np.array(keys, dtype="<U3"),
        "member": np.array([k in members for k in keys]),
        "ring_key": np.array([i for _, i, _ in flat], dtype=np.int16),
        "ring_start": starts.astype(np.int32),
        "lonlat": np.round(coords * 100).astype(np.int16),
        "dot": dot,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--atlas", type=Path, required=True, help="world-atlas's package folder")
    parser.add_argument(
        "--iso-codes", type=Path, default=Path("/usr/share/iso-codes/json/iso_3166-1.json")
    )
    parser.add_argument("--world", type=Path, default=ROOT / "scenarios/worlds/un_2014.yaml")
    parser.add_argument("--tolerance", type=float, default=0.08, help="degrees")
    parser.add_argument("--dot-area", type=float, default=25_000.0, help="km²")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    arrays = build(args.atlas, args.iso_codes, args.world, args.tolerance, args.dot_area)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".npz")
    with os.fdopen(fd, "wb") as f:
        np.savez_compressed(f, **arrays)
    os.replace(tmp, args.out)
    n_dots = int(np.isfinite(arrays["dot"][:, 0]).sum())
    print(
        f"{args.out}: {args.out.stat().st_size:,} bytes, {len(arrays['ring_key']):,} rings, "
        f"{len(arrays['lonlat']):,} points, {n_dots} states drawn as dots"
    )


if __name__ == "__main__":
    main()
