"""The outcome registry: every outcome the summary reports comes from it, and an outcome that
cannot happen in a scenario (no ICC language, no invitation, a stage left out) is left out. The
run table's columns, their types and how blocks aggregate them come from ``run_columns``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from unsim.engine import run
from unsim.model import UNModel
from unsim.model.outcomes import (
    CATEGORIES,
    count_runs,
    known_outcomes,
    outcomes_for,
    run_columns,
    vetoes,
)
from unsim.model.stages import STAGE_PLAN
from unsim.results.text import compare, format_summary
from unsim.scenario import load_scenario
from unsim.scenario.drawn import scenario_levers

from .conftest import DEFAULT_SCENARIO

PERMANENT = ("CHN", "FRA", "GBR", "RUS", "USA")


def _events(types: tuple[str, ...]) -> set[str]:
    """The run table's event columns of these registered strategy types."""
    from unsim.strategies import registered

    return {f"event_{e}" for t in types for e in registered()[t].events}


def test_the_registry_unpacks_as_name_label_and_run_table_column():
    names = [name for name, _label, _key in known_outcomes()]
    assert len(names) == len(set(names)) >= 20


def test_every_outcome_reads_a_declared_column():
    columns = {c.name: c for c in run_columns(PERMANENT, stages=STAGE_PLAN)}
    for o in known_outcomes() + vetoes(PERMANENT):
        col = columns[o.key]
        if o.value is None:
            assert col.dtype == "bool", o.name
        else:
            assert col.dtype == "category" and o.value in CATEGORIES[o.key], o.name


def test_the_default_scenario_reports_every_outcome():
    s = load_scenario(DEFAULT_SCENARIO)
    got = [o.name for o in outcomes_for(s, PERMANENT)]
    builtin = ("charm_offensive", "invitation", "threats", "deception", "inducements")
    events = _events(builtin)
    # every one but those of the stages it does not hold (the Human Rights Council's)
    optional = {st.name for st in STAGE_PLAN if st.optional}
    assert optional and set(s.resolution.stages).isdisjoint(optional)
    every = [
        o.name
        for o in known_outcomes()
        if (o.stage != "strategies" or o.key in events) and o.stage not in optional
    ]
    assert got == every + [f"veto_{c}" for c in PERMANENT]
    # a scenario that holds the Human Rights Council's vote reports its outcome too
    hrc = load_scenario(DEFAULT_SCENARIO.parent / "hrc_path.yaml")
    every_hrc = [o.name for o in known_outcomes() if o.stage != "strategies" or o.key in events]
    assert [o.name for o in outcomes_for(hrc, PERMANENT)] == every_hrc + [
        f"veto_{c}" for c in PERMANENT
    ]


def test_outcomes_that_cannot_happen_are_left_out_of_the_summary():
    s = load_scenario(
        DEFAULT_SCENARIO,
        overrides={
            "resolution.clauses.icc_referral": False,
            "procedure.council.referral_requires_icc_language": False,
            "actors.target.strategies": [{"type": "charm_offensive", "intensity": 0.3}],
            "resolution.stages": ["third_committee", "plenary"],
        },
    )
    names = {o.name for o in outcomes_for(s, PERMANENT)}
    assert names == {"committee_adopted", "plenary_adopted"}
    res = run(s, runs=512, seed=3, keep_runs=False)
    assert set(res.summary["outcomes"]) == names
    text = format_summary(res)
    assert "ICC language retained" not in text and "invitation offered" not in text
    assert "plenary adopts" in text


def _scenario(stages: list[str] | None = None):
    overrides = {} if stages is None else {"resolution.stages": stages}
    return load_scenario(DEFAULT_SCENARIO, overrides=overrides)


@pytest.mark.parametrize("stages", [None, ["third_committee", "plenary"]])
def test_the_run_table_has_the_declared_columns_in_order_with_their_types(stages):
    s = _scenario(stages)
    res = run(s, runs=300, seed=5)
    assert res.runs is not None
    events = [c.removeprefix("event_") for c in res.runs.columns if c.startswith("event_")]
    # the scenario's levers drawn per run close the table, one column each
    levers = [(lever.column, lever.path) for lever in scenario_levers(s)]
    assert len(levers) == 35  # the 30 of the strategies, actors and costs; the Council's 5
    declared = run_columns(PERMANENT, events, levers)
    assert list(res.runs.columns) == ["run"] + [c.name for c in declared]
    for c in declared:
        got = res.runs[c.name].dtype
        if c.dtype == "category":
            assert isinstance(got, pd.CategoricalDtype)
            assert tuple(got.categories) == CATEGORIES[c.name]
        else:
            assert got == np.dtype(c.dtype), c.name
    # a stage left out is in the table too, never held and without votes
    if stages is not None:
        assert not res.runs["sc_referral_held"].any() and not res.runs["amendment_yes"].any()


def test_the_model_fills_exactly_the_declared_columns():
    s = _scenario()
    model = UNModel(s, replicates=64, seed=1)
    out = model.simulate()
    assert list(out) == [c.name for c in model.columns()]
    assert all(out[c.name].dtype == c.numpy_dtype for c in model.columns())
    # the strategies' events are among them
    assert "event_charm_offensive" in out
    model = UNModel(s, replicates=64, seed=1)
    model.outcomes["not_declared"] = np.zeros(64, dtype=bool)
    with pytest.raises(RuntimeError, match="not_declared"):
        model.simulate()


def test_every_share_in_the_summary_is_its_outcomes_share_of_the_run_table():
    # a credible invitation: the ICC language is bargained away in some runs
    s = load_scenario(DEFAULT_SCENARIO, overrides={"actors.target.strategies[1].credibility": 0.6})
    res = run(s, runs=2000, seed=11)
    assert res.runs is not None
    permanent = res.scenario.world.security_council.permanent
    for o in outcomes_for(res.scenario, permanent):
        assert res.summary["outcomes"][o.name]["p"] == pytest.approx(
            o.happened(res.runs).mean(), abs=1e-12
        ), o.name
    # and the bargain happens in some runs, so the categorical outcome is exercised
    assert 0 < res.summary["outcomes"]["icc_dropped_bargain"]["p"] < 1


def test_block_counts_read_categories_from_codes_and_labels_alike():
    model = UNModel(_scenario(), replicates=500, seed=2)
    out = model.simulate()
    counts: dict[str, int] = {}
    count_runs(out, model.columns(), counts)
    codes = out["icc_reason"]
    for code, cat in enumerate(CATEGORIES["icc_reason"]):
        assert counts[f"icc_reason={cat}"] == int((codes == code).sum())
    bargain = next(o for o in known_outcomes() if o.name == "icc_dropped_bargain")
    labels = {"icc_reason": pd.Categorical.from_codes(codes, list(CATEGORIES["icc_reason"]))}
    assert (bargain.happened(out) == bargain.happened(labels)).all()
    assert bargain.happened(out).sum() == counts[bargain.count_key]


def test_a_paired_comparison_covers_every_outcome_of_the_summary():
    a = run(_scenario(), runs=400, seed=9)
    table = compare(a, a)
    named = {n for n in a.summary["outcomes"] if not n.startswith("veto_")}
    assert named <= set(table["outcome"])
    assert "icc_dropped_bargain" in named
    assert (table["diff"] == 0).all()


@pytest.mark.parametrize("majority", ["simple", "two_thirds"])
def test_the_yes_votes_needed_are_one_number_in_the_text_the_figure_and_the_summary(majority):
    """The median over runs of the yes votes each run needed (``VoteRule.needed_each``): the
    summary, the text's "needed" column, the tallies' figure ("required N") and the summary's
    figure all show it."""
    from matplotlib.figure import Figure

    from unsim.model.stages import vote_rule
    from unsim.results.plots import plot_tallies, plot_tally_summary

    s = load_scenario(DEFAULT_SCENARIO, overrides={"resolution.majority": majority})
    res = run(s, runs=3000, seed=11)
    runs = res.runs
    text = format_summary(res).split("Tallies when held", 1)[1]
    for stage, row in (("third_committee", "Third Committee"), ("plenary", "Plenary")):
        held = runs[f"{stage}_held"]
        yes, no = runs.loc[held, f"{stage}_yes"], runs.loc[held, f"{stage}_no"]
        each = vote_rule(stage, majority).needed_each(yes.to_numpy(), no.to_numpy())
        median = int(np.quantile(each, 0.5, method="lower"))
        assert res.summary["tallies"][stage]["median_needed_yes"] == median
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(row))
        assert line.endswith(f" {median} yes") and "~" not in line
        ax = plot_tallies(runs, stage, majority, ax=Figure().add_subplot())
        assert f"required {median}" in [t.get_text() for t in ax.texts]
    fig = plot_tally_summary(res.summary, fig=Figure())
    drawn = {
        round(float(line.get_xdata()[0]))
        for ax in fig.axes
        for line in ax.lines
        if line.get_gid() == "threshold"
    }
    assert {res.summary["tallies"][st]["median_needed_yes"] for st in ("plenary",)} <= drawn


def test_vetoes_that_never_happen_share_one_line_and_stay_in_the_summary():
    s = load_scenario(DEFAULT_SCENARIO)
    res = run(s, runs=2000, seed=4, keep_runs=False)
    outcomes = res.summary["outcomes"]
    assert {f"veto_{c}" for c in PERMANENT} <= set(outcomes)  # every outcome kept
    rare = [c for c in PERMANENT if outcomes[f"veto_{c}"]["p"] < 0.0005]
    common = [c for c in PERMANENT if c not in rare]
    assert rare and common  # the default scenario: China and Russia veto, the others never
    lines = format_summary(res).splitlines()
    names = {st.iso3: st.name for st in s.world.states}
    for c in rare:
        assert not any(ln.strip().startswith(f"vetoed by {names[c]}") for ln in lines)
    for c in common:
        assert any(ln.strip().startswith(f"vetoed by {names[c]}") for ln in lines)
    grouped = [ln for ln in lines if ln.strip().startswith("vetoes by")]
    assert grouped == [
        f"  {'vetoes by ' + ', '.join(rare):<44}<0.05% each (in summary.json: every outcome)"
    ]


@pytest.mark.parametrize(
    ("credibility", "floor", "reason"),
    [(1.0, 0.0, "bargain"), (0.0, 0.99, "support_short")],
    ids=["the offer taken", "support short"],
)
def test_invitation_accepted_counts_only_runs_where_the_offer_was_the_reason(
    credibility: float, floor: float, reason: str
) -> None:
    """Where the sponsors drop the ICC language for lack of support while the offer stands,
    the invitation was not accepted: it is accepted only where the language went for it."""
    s = load_scenario(
        DEFAULT_SCENARIO,
        overrides={
            "actors.target.strategies[1].credibility": credibility,
            "actors.target.strategies[1].demanded_terms": {},
            "actors.target.strategies[1].schedule": {"start": 1},
            "actors.sponsors.bargaining.from_round": 2,  # the offer stands when they weigh it
            "actors.sponsors.bargaining.credibility_noise": 0.0,
            "actors.sponsors.bargaining.drop_if_expected_yes_share_below": floor,
        },
    )
    runs = run(s, runs=512, seed=3).runs
    assert runs is not None
    dropped = runs["icc_reason"] == reason
    assert dropped.mean() > 0.5  # the case is the one meant: the language goes in most runs
    accepted = runs["event_invitation_accepted"].to_numpy()
    assert (runs.loc[accepted, "icc_reason"] == "bargain").all()
    if reason == "bargain":
        assert accepted.sum() == dropped.sum()
    else:
        assert not accepted.any()
