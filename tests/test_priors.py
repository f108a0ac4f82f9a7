"""Stated priors by bloc and state, lists of states that are not influence groups, and the
sponsors' probabilistic tabling rule in the Council."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from unsim.engine import run
from unsim.errors import ScenarioError
from unsim.model import UNModel
from unsim.scenario import load_scenario

from .conftest import DEFAULT_SCENARIO, POINT_SCENARIO, SCENARIOS


def _model(overrides: dict[str, Any]) -> UNModel:
    return UNModel(load_scenario(DEFAULT_SCENARIO, overrides=overrides), replicates=4, seed=1)


def test_rome_statute_parties_of_2014() -> None:
    world = load_scenario(DEFAULT_SCENARIO).world
    assert not isinstance(world, str)
    parties = world.blocs["ICC_PARTIES"]
    assert not parties.influence
    assert len(parties.members) == len(set(parties.members)) == 121
    groups = {s.iso3: s.group for s in world.states}
    counts = {g: sum(groups[c] == g for c in parties.members) for g in set(groups.values())}
    # the ICC's own count by regional group in 2014 (the Cook Islands, not a UN member, being
    # the 18th of Asia-Pacific)
    assert counts == {
        "African": 34,
        "Asia-Pacific": 17,
        "Eastern European": 18,
        "GRULAC": 27,
        "WEOG": 25,
    }
    assert set(world.blocs["EU"].members) <= set(parties.members)
    # non-parties in 2014 (signed or not): the P5 but France and the UK, and the target
    for code in ("USA", "CHN", "RUS", "PRK", "IND", "ISR", "SDN", "UKR", "SLV", "EGY"):
        assert code not in parties.members


def test_icc_cost_by_bloc_then_by_state() -> None:
    m = _model({})
    w = m.world
    icc = m.icc_base[:, 0]
    assert icc[w.index["FRA"]] == pytest.approx(1.0)  # a party
    assert icc[w.index["USA"]] == pytest.approx(2.0)  # a non-party: the global cost
    assert icc[w.index["CHN"]] == pytest.approx(3.0)  # its own cost wins
    assert icc[w.index["KEN"]] == pytest.approx(3.0)  # a party, its own cost wins over the bloc
    # a later bloc wins for states in both
    m = _model({"behaviour.icc_aversion_by_bloc": {"ICC_PARTIES": 1.0, "EU": 0.25}})
    icc = m.icc_base[:, 0]
    assert icc[m.world.index["FRA"]] == pytest.approx(0.25)
    assert icc[m.world.index["ARG"]] == pytest.approx(1.0)


def test_unknown_bloc_for_icc_cost_is_a_clear_error() -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(DEFAULT_SCENARIO, overrides={"behaviour.icc_aversion_by_bloc": {"ICC": 1.0}})
    text = err.value.render()
    assert "behaviour.icc_aversion_by_bloc.ICC" in text and "ICC_PARTIES" in text


def test_a_list_of_states_is_no_influence_group() -> None:
    scenario = load_scenario(DEFAULT_SCENARIO)
    world = scenario.world
    assert not isinstance(world, str)
    m = UNModel(scenario, replicates=2, seed=0)
    influence = [b for b in world.blocs.values() if b.influence]
    assert m.membership.shape[1] == 5 + len(influence) + 1  # regions, blocs, the target's camp
    # flagging the list as an influence group adds one
    blocs = dict(world.blocs)
    blocs["ICC_PARTIES"] = blocs["ICC_PARTIES"].model_copy(update={"influence": True})
    grouped = scenario.model_copy(update={"world": world.model_copy(update={"blocs": blocs})})
    assert UNModel(grouped, replicates=2, seed=0).membership.shape[1] == m.membership.shape[1] + 1


def _tabled(overrides: dict[str, Any], runs: int = 2000) -> float:
    """The share of runs in which a referral is tabled, on the DPRK draft with point values
    (the rules at known values; the shipped scenario draws its levers)."""
    s = load_scenario(POINT_SCENARIO, overrides=overrides)
    return float(run(s, runs=runs, seed=4).runs["sc_referral_held"].mean())  # type: ignore[index]


def test_tabling_into_an_expected_veto() -> None:
    """The earlier rule (``expected`` with ``table_into_veto``), members voting by their
    support as the earlier scenarios had them."""
    old = {"procedure.council.votes": None}
    veto = {**old, "actors.states.CHN.council_shift": -40.0}  # China surely votes no
    rule = {"procedure.council.table_referral": "expected"}
    assert _tabled({**veto, **rule, "procedure.council.table_into_veto": 0.0}) == 0.0
    nine = _tabled({**veto, "procedure.council.table_referral": "if_nine_votes"})
    assert nine > 0.8  # tabled wherever the plenary adopted and nine votes are in sight
    assert _tabled({**veto, **rule, "procedure.council.table_into_veto": 1.0}) == nine
    half = _tabled({**veto, **rule, "procedure.council.table_into_veto": 0.5})
    # binomial over 2,000 runs: sd of the share about 0.011; 4 sd
    assert abs(half - 0.5 * nine) < 0.045
    # with no veto in sight the chance does not matter
    friendly = {
        **old,
        "actors.states.CHN.council_shift": 40.0,
        "actors.states.RUS.council_shift": 40.0,
        "actors.allies.patron_tie": 0.0,
    }
    low = _tabled({**friendly, **rule, "procedure.council.table_into_veto": 0.0}, runs=500)
    assert low == _tabled({**friendly, "procedure.council.table_referral": "if_nine_votes"}, 500)
    assert low > 0.9


def test_the_tabling_draw_leaves_every_other_number_alone() -> None:
    """Its own stream: the Assembly's votes are those of the deterministic rule."""
    a = load_scenario(DEFAULT_SCENARIO, overrides={"procedure.council.table_referral": "expected"})
    b = load_scenario(DEFAULT_SCENARIO, overrides={"procedure.council.table_referral": "always"})
    ra, rb = run(a, runs=300, seed=2).runs, run(b, runs=300, seed=2).runs
    assert ra is not None and rb is not None
    for col in ("third_committee_yes", "plenary_no", "sc_agenda_yes"):
        assert np.array_equal(ra[col].to_numpy(), rb[col].to_numpy())


def test_tabling_by_the_record() -> None:
    """``record``: tabled where nine yes votes are expected, with the run's chance drawn from the
    record's fit for the stated signal (or the chance stated)."""
    from unsim.council.tabling import record_fit

    scenario = load_scenario(DEFAULT_SCENARIO)
    fit = record_fit(True, scenario.date)
    nine = _tabled({"procedure.council.table_referral": "if_nine_votes"}, runs=4000)
    assert nine > 0.95
    share = _tabled({}, runs=4000)  # the default scenario: table_referral: record
    # binomial over 4,000 runs: sd of the share about 0.008; 4 sd
    assert abs(share - fit.mean * nine) < 0.032
    # no permanent member opposed, the chance left out: the other signal's fit (Libya alone,
    # Beta(2, 1))
    friendly = {
        "procedure.council.tabling.opposed_by": [],
        "procedure.council.tabling.chance": None,
    }
    assert abs(_tabled(friendly, runs=4000) - 2 / 3 * nine) < 0.032
    # the earlier form {mean, sd}: the Beta of those moments
    stated = {"procedure.council.tabling.chance": {"mean": 0.1, "sd": 0.05}}
    assert abs(_tabled(stated, runs=4000) - 0.1 * nine) < 0.02
    assert _tabled({"procedure.council.tabling.chance": 0.0}, runs=500) == 0.0


def test_the_tabling_chance_is_a_lever_drawn_per_run() -> None:
    """The chance is drawn once per run on its own stream: a column of the run table with its
    Beta's mean and sd, a run tables more often the higher its draw, and the attribution sets
    it to its mean with the other spreads (data only draws it no more)."""
    from unsim.engine.assumptions import assumptions, data_only
    from unsim.uncertainty import Uncertain

    scenario = load_scenario(DEFAULT_SCENARIO)
    chance = scenario.procedure.council.tabling.chance
    assert isinstance(chance, Uncertain) and chance.dist.dist == "beta"
    runs = 8000
    table = run(scenario, runs=runs, seed=5).runs
    assert table is not None
    drawn = table["lever:procedure.council.tabling.chance"].to_numpy()
    mean, sd = chance.dist.expectation(), chance.dist.deviation()
    assert abs(drawn.mean() - mean) < 4 * sd / np.sqrt(runs)
    assert abs(drawn.std() - sd) < 0.01
    held = table["sc_referral_held"].to_numpy()
    low = drawn < np.median(drawn)
    assert held[~low].mean() > held[low].mean() + 0.15
    # the attribution: the spread step sets it (and every other distribution) to its mean
    assert assumptions(scenario)[-1].name == "spread"
    assert "procedure.council.tabling.chance" in _spread_paths(scenario)
    plain = data_only(scenario)
    assert plain.procedure.council.tabling.chance == pytest.approx(mean)
    assert not isinstance(plain.procedure.council.tabling.chance, Uncertain)
    again = run(plain, runs=500, seed=5).runs
    assert again is not None and "lever:procedure.council.tabling.chance" not in again.columns


def _spread_paths(scenario: Any) -> list[str]:
    from unsim.scenario.drawn import scenario_levers

    return [lever.path for lever in scenario_levers(scenario)]


def test_an_earlier_scenario_with_table_into_veto_still_runs(tmp_path: Path) -> None:
    """The council block the DPRK scenario had before the rule fitted on the record: it
    validates and votes by the earlier rules (members by their support)."""
    text = POINT_SCENARIO.read_text()  # its Assembly levers points, as the earlier scenario's
    start = text.index("    table_referral: record")
    end = text.index("# Every value below is a prior")
    earlier = (
        text[:start] + "    table_referral: expected\n    table_into_veto: 0.5\n\n" + text[end:]
    )
    earlier = earlier.replace("../worlds/", str(SCENARIOS / "worlds") + "/").replace(
        "../calibration/", str(SCENARIOS / "calibration") + "/"
    )
    path = tmp_path / "earlier.yaml"
    path.write_text(earlier)
    s = load_scenario(path)
    council = s.procedure.council
    assert (council.table_referral, council.table_into_veto, council.votes) == (
        "expected",
        0.5,
        None,
    )
    res = run(s, runs=2000, seed=4)
    tabled = res.summary["outcomes"]["referral_tabled"]["p"]
    assert 0.3 < tabled < 0.6  # a veto is expected: about half the runs (table_into_veto)
    assert res.summary["outcomes"]["referral_adopted"]["p"] == 0.0
