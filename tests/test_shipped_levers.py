"""The shipped scenarios state their levers as distributions with their evidence: every number
of a scenario that may be drawn per run is, in the four shipped scenarios, a distribution with a
non-empty ``source`` or a reference to the levers file (whose entries carry theirs), unless it
is listed below as a point with its reason."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml

from unsim import load_scenario
from unsim.uncertainty import Levered, Uncertain
from unsim.uncertainty.levered import lever_fields

from .conftest import SCENARIOS

SHIPPED = ("icc_referral", "icc_referral_no_charm", "iran_2014", "syria_2014")

#: The numbers the shipped scenarios state as points, each with the reason it is no prior.
POINTS: dict[tuple[str, str], str] = {
    **{
        (name, "actors.sponsors.bargaining.drop_if_expected_yes_share_below"): "the rule of "
        "adoption: the sponsors give way when the draft looks short of a simple majority"
        for name in ("icc_referral", "icc_referral_no_charm")
    },
    **{
        (name, "actors.target.strategies[0].icc_share"): "the draft has no ICC language: the "
        "offensive acts on support alone"
        for name in ("iran_2014", "syria_2014")
    },
}


def _stated(raw: Any, node: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Every number the file states where the model takes a distribution: (path, as written,
    as loaded)."""
    if isinstance(raw, Mapping):
        fields = lever_fields(type(node)) if isinstance(node, Levered) else {}
        for key, value in raw.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(node, Mapping):
                child = node.get(key)
            elif isinstance(node, list):
                child = None
            else:
                child = getattr(node, str(key), None)
            kind = fields.get(str(key), (None,))[0]
            if kind == "number" and _is_number(value):
                yield where, value, child
            elif kind == "mapping" and isinstance(value, Mapping):
                for sub, item in value.items():
                    yield f"{where}.{sub}", item, child[sub]
            elif kind == "number" and isinstance(value, Mapping):
                yield where, value, child
            else:
                yield from _stated(value, child, where)
    elif isinstance(raw, list) and isinstance(node, list | tuple):
        for i, (value, child) in enumerate(zip(raw, node, strict=True)):
            yield from _stated(value, child, f"{path}[{i}]")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_stated_lever_is_a_distribution_with_its_evidence(name: str) -> None:
    path = SCENARIOS / f"{name}.yaml"
    raw = yaml.safe_load(path.read_text("utf-8"))
    scenario = load_scenario(path)
    found = {}
    for section in ("actors", "behaviour", "procedure"):
        node = getattr(scenario, section)
        for where, written, loaded in _stated(raw.get(section, {}), node, section):
            found[where] = (written, loaded)
    # the walk finds every lever the file states (the DPRK's 36 with the Council's fitted
    # numbers, less the charm offensive's 2)
    assert len(found) == {"icc_referral": 36, "icc_referral_no_charm": 34}.get(name, 6), found
    bare = {
        where: written
        for where, (written, _) in found.items()
        if _is_number(written) and (name, where) not in POINTS
    }
    assert bare == {}, f"{name}: numbers stated as points without a reason listed: {bare}"
    for where, (written, loaded) in found.items():
        if _is_number(written):
            assert POINTS[(name, where)]
            continue
        assert isinstance(loaded, Uncertain), where
        assert (loaded.dist.source or "").strip(), f"{name}: {where} has no source"
        if "lever" in written:
            assert loaded.lever == written["lever"]
    # every listed point is still stated as a point (a stale reason is an error too)
    listed = {w for (n, w) in POINTS if n == name}
    assert listed <= {w for w, (written, _) in found.items() if _is_number(written)}


def test_a_bare_number_is_caught() -> None:
    """The check is no formality: the scenario with one lever written back as a number fails."""
    path = SCENARIOS / "icc_referral.yaml"
    raw = yaml.safe_load(path.read_text("utf-8"))
    raw["actors"]["allies"]["tie"] = 2.0
    raw["behaviour"]["icc_aversion_by_bloc"]["ICC_PARTIES"] = 1.0
    scenario = load_scenario(path, overrides={"actors.allies.tie": 2.0})
    found = {
        where: written
        for section in ("actors", "behaviour")
        for where, written, _ in _stated(raw[section], getattr(scenario, section), section)
        if _is_number(written)
    }
    assert found == {
        "actors.sponsors.bargaining.drop_if_expected_yes_share_below": 0.5,
        "actors.allies.tie": 2.0,
        "behaviour.icc_aversion_by_bloc.ICC_PARTIES": 1.0,
    }


def test_the_shipped_scenarios_use_the_levers_file_where_it_holds_the_parameter() -> None:
    s = load_scenario(SCENARIOS / "icc_referral.yaml")
    strategies = {st.type: st for st in s.actors.target.strategies}
    refs = {
        "charm_offensive.intensity": strategies["charm_offensive"].intensity,
        "invitation.effect": strategies["invitation"].effect,
        "threats.intensity": strategies["threats"].intensity,
    }
    for name, value in refs.items():
        assert isinstance(value, Uncertain) and value.lever == name
    # the ICC costs: one draw per run keeps their order (parties < non-parties < hostile)
    costs = (
        s.behaviour.icc_aversion_by_bloc["ICC_PARTIES"],
        s.behaviour.icc_aversion,
        s.actors.states["CHN"].icc_aversion,
    )
    assert all(isinstance(c, Uncertain) and c.dist.shared == "icc_cost" for c in costs)
    assert [float(c) for c in costs] == pytest.approx([1.0, 2.0, 3.0])
