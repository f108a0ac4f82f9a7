"""The levers file: built from a fit, written, read back unchanged; it never replaces a file unsim
did not write; a wrong file is refused; the shipped one validates against the episodes; and the
command line refuses bad input cleanly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from unsim.calibration.episodes import LEVERS, load_episodes
from unsim.calibration.levermap import DELTAS, Reference
from unsim.calibration.leversbuild import KEYS, build_levers, latent_effect
from unsim.calibration.leversfile import (
    HEADER,
    LeversFile,
    levers_text,
    load_levers,
    write_levers,
)
from unsim.calibration.metareg import fit_meta
from unsim.cli import main
from unsim.errors import ExitCode, OutputError, ScenarioError
from unsim.uncertainty.distributions import TruncNormal

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "scenarios" / "levers" / "levers_2014.yaml"


def _reference() -> Reference:
    curve = tuple(20.0 * np.tanh(d / 2.0) for d in DELTAS)  # increasing, like a yes tally
    per_unit = {
        "engagement": {"x1": 0.3, "votes_x1": -6.0, "k": -0.7, "votes_2x1": -11.0, "k_2x1": -0.66},
        "rapporteur_access": {
            "x1": 1.5,
            "votes_x1": -3.0,
            "k": -0.2,
            "votes_2x1": -6.0,
            "k_2x1": -0.2,
        },
        "threats": {"x1": 0.2, "votes_x1": 2.0, "k": 0.5, "votes_2x1": 4.0, "k_2x1": 0.5},
    }
    return Reference("ref.yaml", "third_committee", 100, 1, 100.0, DELTAS, curve, per_unit)


def _built() -> LeversFile:
    rng = np.random.default_rng(0)
    episodes = load_episodes().episodes
    names = list(LEVERS)
    x = np.array([[e.levers.get(n, 0.0) for n in names] for e in episodes])
    y = x @ rng.normal(0, 0.5, len(names)) + rng.normal(0, 0.3, len(x))
    fit = fit_meta(y, np.full(len(x), 0.05), x, names)
    decisions = {
        n: {
            "episodes": fit.counts[n],
            "identified": fit.counts[n] >= 3 and fit.estimated(n),
            "ships": fit.counts[n] >= 3 and fit.estimated(n),
            "why": "test",
        }
        for n in names
    }
    interval = {"mean": -0.01, "low": -0.02, "high": 0.0, "n": len(x)}
    loo = {"log_loss": {"difference": interval}}
    return build_levers(
        "levers_test", dt.date(2014, 11, 18), episodes, fit, decisions, _reference(), loo
    )


def test_a_levers_file_round_trips(tmp_path: Path) -> None:
    levers = _built()
    assert set(levers.levers) == set(KEYS.values())
    path = tmp_path / "levers.yaml"
    write_levers(levers, path, "unsim calibrate --levers ...")
    lines = path.read_text("utf-8").splitlines()
    assert lines[0].startswith("# written by unsim") and lines[1].startswith(f"# {HEADER}")
    back = load_levers(path)
    assert back == levers
    # rewriting its own file is allowed; the strategy levers are in their parameters' units
    write_levers(back, path, "again")
    charm = back.levers["charm_offensive.intensity"].distribution
    assert isinstance(charm, TruncNormal) and (charm.low, charm.high) == (0.0, 5.0)
    assert back.levers["target.reform"].distribution.dist == "normal"
    icc = back.levers["behaviour.icc_aversion"]
    assert isinstance(icc.distribution, TruncNormal)
    assert icc.distribution.mean == -icc.effect_latent.mean


def test_unidentified_levers_are_centred_at_zero_with_a_spread() -> None:
    levers = _built()
    for lever, key in KEYS.items():
        entry = levers.levers[key]
        if not entry.identified:
            assert entry.effect_latent.mean == 0.0, lever
            assert entry.effect_latent.sd > 0.0, lever
            assert "Episodes:" in entry.source


def test_a_lever_that_does_not_ship_keeps_its_estimate_within_one_sd() -> None:
    rng = np.random.default_rng(1)
    x = (rng.random((50, 2)) < 0.3).astype(float)
    y = x @ np.array([-1.0, 0.2]) + rng.normal(0, 0.2, 50)
    fit = fit_meta(y, np.full(50, 0.02), x, ["a", "b"])
    mean, sd = latent_effect(fit, "a", ships=False)
    assert mean == 0.0 and sd >= abs(fit.effect("a")[0])
    mean, sd = latent_effect(fit, "a", ships=True)
    assert mean == pytest.approx(fit.effect("a")[0]) and sd == pytest.approx(fit.predictive_sd("a"))


def test_a_file_unsim_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "notes.yaml"
    path.write_text("my notes\n", encoding="utf-8")
    with pytest.raises(OutputError, match="unsim did not write it"):
        write_levers(_built(), path, "cmd")
    assert path.read_text("utf-8") == "my notes\n"
    # nor a file the command reads, even one unsim wrote
    own = tmp_path / "own.yaml"
    write_levers(_built(), own, "cmd")
    before = own.read_text("utf-8")
    with pytest.raises(OutputError, match="input of this command"):
        write_levers(_built(), own, "cmd", inputs=[own])
    assert own.read_text("utf-8") == before


def test_a_wrong_levers_file_is_refused_with_its_key_path(tmp_path: Path) -> None:
    raw = _built().model_dump(mode="json", exclude_none=True)
    raw["levers"]["charm_offensive.intensity"]["dist"] = "truncnormal"
    del raw["levers"]["target.reform"]["sd"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_levers(path)
    text = err.value.render()
    assert "levers.charm_offensive.intensity.dist: unknown distribution; got 'truncnormal'" in text
    assert "did you mean 'truncnorm'?" in text
    assert "levers.target.reform.sd: required key is missing" in text


def test_the_shipped_levers_file_round_trips_through_the_one_model(tmp_path: Path) -> None:
    """Read into the model the scenarios read, and written again by the writer of
    ``calibrate --levers`` with the command its header names: the same text."""
    text = SHIPPED.read_text("utf-8")
    lines = text.splitlines(keepends=True)
    assert lines[0].startswith("# written by unsim")  # unsim's mark: the command may replace it
    command = lines[1].split("`")[3]
    levers = load_levers(SHIPPED)
    assert levers_text(levers, command) == "".join(lines[1:])
    again = tmp_path / "again.yaml"
    write_levers(levers, again, command)
    assert again.read_text("utf-8").splitlines()[1:] == text.splitlines()[1:]
    assert load_levers(again) == levers
    # the scenario reader and the writer's reader are one: the same model, the same values
    from unsim.scenario.leversfile import LeversFile as ScenarioLeversFile
    from unsim.scenario.loader import load_levers as scenario_load_levers

    assert LeversFile is ScenarioLeversFile
    assert scenario_load_levers(SHIPPED) == levers


def test_an_entry_needs_its_source_and_takes_no_shared_draw(tmp_path: Path) -> None:
    raw = _built().model_dump(mode="json")
    del raw["levers"]["target.reform"]["source"]
    raw["levers"]["threats.intensity"]["shared"] = "x"
    del raw["levers"]["draft.condemnation"]["unit"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_levers(path)
    text = err.value.render()
    assert "levers.target.reform.source: required key is missing" in text
    assert "shared: not in a levers file" in text
    assert "levers.draft.condemnation.unit: required key is missing" in text


def test_a_latent_unit_lever_is_referenced_where_a_support_shift_is_stated() -> None:
    """Every entry of the shipped file is readable by the scenario loader: each named by its
    scenario parameter where it has one, a latent-unit one as a bloc's or a state's support
    shift, drawn per run."""
    from unsim import load_scenario, run

    levers = load_levers(SHIPPED)
    strategies = {"charm_offensive": 0, "invitation": 1, "threats": 2}
    overrides: dict[str, Any] = {"levers": str(SHIPPED)}
    latent = []
    for name in levers.levers:
        head, _, field = name.partition(".")
        if head in strategies:
            overrides[f"actors.target.strategies[{strategies[head]}].{field}"] = {"lever": name}
        elif name == "behaviour.icc_aversion":
            overrides[name] = {"lever": name}
        else:
            latent.append(name)
    assert set(latent) == {
        "target.reform",
        "target.prisoner_release",
        "procedure.no_action_motion",
        "draft.commission_of_inquiry",
        "draft.condemnation",
        "draft.security_council",
    }
    for i, name in enumerate(latent):
        overrides[f"behaviour.bloc_effects.{['EU', 'AU', 'OIC'][i % 3]}"] = {"lever": name}
        overrides[f"actors.states.{['BRA', 'IND', 'ZAF'][i % 3]}.support_shift"] = {"lever": name}
    scenario = load_scenario(ROOT / "scenarios" / "icc_referral.yaml", overrides=overrides)
    assert scenario.behaviour.bloc_effects["EU"].lever in latent  # type: ignore[attr-defined]
    table = run(scenario, runs=300, seed=3).runs
    assert table is not None
    for path in ("behaviour.bloc_effects.EU", "actors.states.BRA.support_shift"):
        drawn = table[f"lever:{path}"].to_numpy()
        assert drawn.std() > 0.1 and abs(drawn.mean()) < 0.5  # centred at 0 with a spread


@pytest.mark.skipif(not SHIPPED.exists(), reason="the levers file is written by the command")
def test_the_shipped_levers_file_validates_and_names_its_episodes() -> None:
    levers = load_levers(SHIPPED)
    assert levers.before == dt.date(2014, 11, 18)
    ids = {e.id for e in load_episodes().episodes if e.vote.date < levers.before}
    assert set(levers.episodes) == ids
    assert set(levers.levers) == set(KEYS.values())
    for entry in levers.levers.values():
        assert entry.episodes <= len(ids)
        if not entry.identified:
            assert entry.effect_latent.mean == 0.0


def test_the_command_line_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    theirs = tmp_path / "theirs.yaml"
    theirs.write_text("x: 1\n", encoding="utf-8")
    bad = tmp_path / "episodes.yaml"
    bad.write_text("schema_version: 1\nkind: episodes\nname: x\nepisodes: []\n", encoding="utf-8")
    code = main(
        [
            "calibrate",
            "--levers",
            "--before",
            "2014-11-18",
            "--out",
            str(tmp_path / "l.yaml"),
            "--episodes",
            str(bad),
        ]
    )
    assert code == ExitCode.INVALID_INPUT
    assert "episodes" in capsys.readouterr().err
    code = main(["backtest", "--levers", "--json", str(theirs)])
    assert code == ExitCode.INVALID_INPUT
    assert "unsim did not write it" in capsys.readouterr().err
    assert theirs.read_text("utf-8") == "x: 1\n"
    code = main(["backtest", "--levers", "--timesplit"])
    assert code == ExitCode.INVALID_INPUT
    assert "give no SCENARIO" in capsys.readouterr().err


def _few_episodes(tmp_path: Path) -> Path:
    """Six episodes on two vote dates (two ideal-point estimates): one with a change."""
    raw = yaml.safe_load((ROOT / "src/unsim/calibration/episodes.yaml").read_text("utf-8"))
    keep = {"irn_1994", "irq_1994", "cub_1994", "irn_1995", "irq_1995", "cub_1995"}
    raw["episodes"] = [e for e in raw["episodes"] if e["id"] in keep]
    path = tmp_path / "few.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.data
def test_calibrate_and_backtest_levers_end_to_end(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import json

    episodes = _few_episodes(tmp_path)
    out, report = tmp_path / "levers.yaml", tmp_path / "report.json"
    code = main(
        [
            "calibrate",
            "--levers",
            "--before",
            "2014-11-18",
            "--out",
            str(out),
            "--episodes",
            str(episodes),
            "--data",
            str(data_dir),
            "--runs",
            "256",
            "--json",
            str(report),
            "--reference",
            str(ROOT / "scenarios/icc_referral.yaml"),
        ]
    )
    assert code == ExitCode.OK, capsys.readouterr().err
    levers = load_levers(out)
    assert sorted(levers.episodes) == sorted(e.id for e in load_episodes(episodes).episodes)
    access = levers.levers["invitation.effect"]
    assert access.episodes == 1 and not access.identified and access.effect_latent.mean == 0.0
    data = json.loads(report.read_text("utf-8"))
    assert len(data["episodes"]) == 6 and len(data["leave_one_out"]["rows"]) == 6
    shifts = [e["shift"] for e in data["episodes"]]
    assert all(abs(s) < 10 for s in shifts) and len(set(shifts)) == 6
    # run again over its own file: allowed; the backtest prints every episode
    assert (
        main(
            [
                "calibrate",
                "--levers",
                "--before",
                "2014-11-18",
                "--out",
                str(out),
                "--episodes",
                str(episodes),
                "--data",
                str(data_dir),
                "--runs",
                "256",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["backtest", "--levers", "--episodes", str(episodes), "--data", str(data_dir)]) == 0
    text = capsys.readouterr().out
    assert all(f"| {i} |" in text for i in ("irn_1994", "cub_1994", "irq_1995"))
    assert "past episodes only" in text


@pytest.mark.data
def test_episodes_that_do_not_match_the_data_are_refused_before_any_fit(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    raw = yaml.safe_load(_few_episodes(tmp_path).read_text("utf-8"))
    raw["episodes"][0]["vote"]["rcid"] = 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    code = main(["backtest", "--levers", "--episodes", str(bad), "--data", str(data_dir)])
    assert code == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert "episodes[0] (irn_1994).vote.rcid: not a recorded plenary vote of the IRN series" in err


def test_the_output_is_checked_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    theirs = tmp_path / "theirs.yaml"
    theirs.write_text("x: 1\n", encoding="utf-8")
    for out, message in (
        (theirs, "unsim did not write it"),
        (tmp_path / "none" / "l.yaml", "does not exist"),
    ):
        code = main(["calibrate", "--levers", "--before", "2014-11-18", "--out", str(out)])
        assert code == ExitCode.INVALID_INPUT
        assert message in capsys.readouterr().err
    assert theirs.read_text("utf-8") == "x: 1\n"
    assert main(["backtest", "--levers", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--json FILE, not --out" in capsys.readouterr().err
