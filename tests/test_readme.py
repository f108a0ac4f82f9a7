"""The README's examples run as written, and CI runs its test command first."""

from __future__ import annotations

import json
import os
import re

import matplotlib
import pytest

from .conftest import ROOT

matplotlib.use("Agg")


def test_readme_library_example_runs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / "README.md").read_text()
    code = text.split("### In a notebook", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    results = namespace["results"]
    p = results.outcome("plenary_adopted")  # type: ignore[attr-defined]
    assert 0 <= p["ci_low"] <= p["p"] <= p["ci_high"] <= 1 and p["n"] == 2000
    assert len(namespace["runs"]) == 2000  # type: ignore[arg-type]
    assert set(namespace["per_state"]["stage"].astype(str)) >= {"third_committee", "plenary"}  # type: ignore[index]
    import matplotlib.pyplot as plt

    plt.close("all")
    assert os.getcwd() == str(ROOT)


def test_readme_strategy_example_registers_a_strategy_that_acts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worked example of "Adding a strategy" runs as written: its strategy is valid in a
    scenario, listed in ``unsim schema``, and moves the tally it prints, as the README says."""
    from unsim.cli import main
    from unsim.strategies import registered, unregister

    text = (ROOT / "README.md").read_text()
    section = text.split("### Adding a strategy", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "readme_strategy_example"}
    try:  # compiled as a file of its own (not with this module's future import)
        exec(compile(code, "README.md", "exec", dont_inherit=True), namespace)
        printed = capsys.readouterr().out
        appeal = registered()["sovereignty_appeal"]
        assert appeal is namespace["SovereigntyAppeal"]
        entry = namespace["with_appeal"].actors.target.strategies[-1]  # type: ignore[attr-defined]
        assert isinstance(entry, appeal) and entry.intensity == 0.5  # type: ignore[attr-defined]
        assert main(["schema"]) == 0
        schema = json.loads(capsys.readouterr().out)
        assert "SovereigntyAppeal" in schema["$defs"]
        before, after = namespace["before"].runs, namespace["after"].runs  # type: ignore[attr-defined]
        assert after["event_sovereignty_appeal"].all()
        # its declared outcome is in the summary, as the README says
        shown = namespace["after"].summary["outcomes"]["sovereignty_appeal"]  # type: ignore[attr-defined]
        assert shown["p"] == 1.0 and shown["label"] == "sovereignty appeal made"
        assert "sovereignty_appeal" not in namespace["before"].summary["outcomes"]  # type: ignore[attr-defined]
        drop = before["third_committee_yes"] - after["third_committee_yes"]
        assert drop.mean() > 5 * drop.std() / len(drop) ** 0.5  # paired on the same seed
        # the medians the README quotes are the ones the example prints
        quoted = re.search(r"prints a median of (\d+) yes without the appeal and (\d+)", section)
        assert quoted is not None
        assert f"without: median {quoted[1]} yes" in printed
        assert f"with the appeal: median {quoted[2]} yes" in printed
    finally:
        unregister("sovereignty_appeal")


def test_ci_runs_the_readme_command_first_then_the_oldest_and_newest_python() -> None:
    """``.ci/run`` runs the README's test command before any other check, then ``.ci/pythons``
    on the oldest Python the package supports and the newest tested."""
    import tomllib

    readme = (ROOT / "README.md").read_text()
    command = readme.split("Run the tests:", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip()]
    code = [ln for ln in lines if not ln.lstrip().startswith("#")]
    first = code.index(command.strip())
    assert not any(re.search(r"pytest|mypy|ruff", ln) for ln in code[:first])
    assert code[first + 1 :] == [".ci/pythons 3.11 3.13"]
    oldest = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert oldest == ">=3.11"


def test_ci_pythons_skips_an_interpreter_the_machine_lacks() -> None:
    """``.ci/pythons --list`` names the interpreter it would use for each version, or says it
    skips one the machine lacks, and runs nothing."""
    import subprocess

    out = subprocess.run(
        ["bash", str(ROOT / ".ci" / "pythons"), "--list", "9.99"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "Python 9.99: not found on this machine (PATH or pyenv), skipped\n"


def test_readme_commands_run_the_venv_it_sets_up() -> None:
    """The README sets up ``.venv``: every command it gives runs that venv's python or pip
    (a bare ``python`` may be another one, without unsim)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    commands = [line.strip() for block in blocks for line in block.splitlines()]
    commands += re.findall(r"`([^`\n]+)`", text)  # inline code
    bare = [
        c
        for c in commands
        if re.match(r"(python|pip)[\d.]*\s", c) and not c.startswith("python3 -m venv .venv")
    ]
    assert bare == [], bare
    assert ".venv/bin/python -m unsim scenarios/icc_referral.yaml" in text


def test_readme_says_what_its_timings_measure() -> None:
    """No 'about half a second' for a command whose runs alone take that: the set-up states
    the runs and the whole command apart, as benchmarks/cli.py measures them."""
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set-up", 1)[1].split("Run the tests:", 1)[0]
    assert "about half a second" not in text
    assert "benchmarks/cli.py" in setup
    assert re.search(r"the runs alone[^.]*\d", setup), setup
    assert re.search(r"the whole command[^.]*\d", setup), setup


#: A README command's placeholders, and what stands for them when its flags are checked.
PLACEHOLDERS = {"<run id>": "RUN_ID", " N ": " 1 ", " N]": " 1]"}


def readme_unsim_commands(text: str) -> list[str]:
    """Every ``unsim`` command of the README's fenced blocks (continued lines joined), as
    written; a line that only lists commands (``sweep / sensitivity / discover ...``) is not one."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    lines = [ln for block in blocks for ln in block.replace("\\\n", " ").splitlines()]
    starts = (".venv/bin/python -m unsim ", ".venv/bin/unsim ")
    return [ln.strip() for ln in lines if ln.startswith(starts) and " / " not in ln]


def test_every_readme_command_is_accepted_by_the_command_line() -> None:
    """Each ``unsim`` command the README shows parses as written: the command, its flags and
    their values are ones the parser knows (optional parts in brackets and ``N`` filled in), the
    files of the repository it names exist, a folder it reads directly under ``results/`` is
    one an earlier command writes, and a value holding ``[`` is quoted, so that a shell that
    expands it (zsh's default) passes it on as written."""
    import glob
    import itertools
    import shlex

    from unsim.cli.dispatch import COMMANDS, build_parser

    commands = readme_unsim_commands((ROOT / "README.md").read_text())
    assert len(commands) >= 40, commands  # the README's commands are found
    problems = []
    written: set[str] = set()  # the folders earlier commands write (--out)
    for command in commands:
        line = command
        for placeholder, value in PLACEHOLDERS.items():
            line = line.replace(placeholder, value)
        line = re.sub(r"\[((?:--|[A-Z])[^\]\[]*)\]", r"\1", line)  # [--flag VALUE], [SCENARIO]
        unquoted = [w for w in line.split() if re.search(r"\w\[", w) and not re.search("[\"']", w)]
        if unquoted:
            problems.append(f"{command}: quote {unquoted}")
        words = shlex.split(line, comments=True)
        words = words[: words.index(">")] if ">" in words else words  # the output redirected
        argv = words[3:] if words[0].endswith("python") else words[1:]
        if argv[0] not in COMMANDS:
            argv.insert(0, "run")
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:
            problems.append(f"{command}: not accepted by the parser ({argv})")
            continue
        assert getattr(args, "handler", None) is not None, command
        for before, word in itertools.pairwise(words):
            if word.startswith("scenarios/") and not glob.glob(str(ROOT / word)):
                problems.append(f"{command}: {word} is not in the repository")
            if before == "--out":
                written.add(word)
            elif re.fullmatch(r"results/[^/]+", word) and word not in written:
                problems.append(
                    f"{command}: no earlier command writes {word} (a run's folder is "
                    "results/<scenario>/<run id>)"
                )
    assert problems == [], "\n".join(problems)


def test_the_explorers_units_in_votes_are_what_lever_votes_measures() -> None:
    """The votes the explorer's units quote (``unsim.explore.controls``) and the README's
    figures for them are what ``scripts/lever_votes.py`` measures on the current code (within
    0.1 vote at the explorer's one decimal, 0.05 at the README's two: a processor of another
    kind may move a vote in thousands of runs)."""
    import subprocess
    import sys

    from unsim.explore import controls

    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lever_votes.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    measured = {
        key: float(value)
        for key, value in re.findall(r"^(.+?): ([-+]\d+\.\d+) yes votes$", out, re.M)
    }
    down, up = measured["every state's support -0.5"], measured["every state's support +0.5"]
    charm = measured["charm_offensive.intensity 0.3 against its absence"]
    invitation = measured["invitation.effect 1.5 against its absence"]
    threats = measured["threats.intensity 0.2 against its absence"]
    units = {
        name: float(votes) * (-1 if way == "fewer" else 1)
        for name, text in controls.UNITS.items()
        for votes, way in re.findall(r"≈ (\d+\.\d) (fewer|more) yes votes", text)
    }
    assert units == pytest.approx(
        {
            "charm_offensive.intensity": charm,
            "threats.intensity": threats,
            "invitation.effect": invitation,
        },
        abs=0.1,
    )
    (every,) = re.findall(r"0\.5 ≈ (\d+\.\d) yes votes", controls.VOTES)
    assert float(every) == pytest.approx((up - down) / 2, abs=0.1)
    readme = " ".join((ROOT / "README.md").read_text().split())
    quoted = re.search(
        r"by -0\.5 and \+0\.5 moved the mean yes tally by (\S+) and (\S+), the charm offensive at "
        r"0\.3 by (\S+), the invitation's effect 1\.5 by (\S+) and the threats at 0\.2 by (\S+?)\)",
        readme,
    )
    assert quoted is not None
    figures = [float(x.rstrip(",")) for x in quoted.groups()]
    assert figures == pytest.approx([down, up, charm, invitation, threats], abs=0.05)
