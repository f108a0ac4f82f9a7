"""Everything a user can type: a corpus of bad inputs through the real command line.

Each batch runs in a subprocess (``tests/corpus_driver.py`` calls ``unsim.cli.main`` once per
case) with its address space capped at 1 GiB and a 60 s alarm per case (a hang waits for ever;
the alarm is generous so that a loaded machine's slow imports are not taken for one). For every
bad input: a non-zero exit code, no traceback, no hang, no memory blow-up, and no file outside the
output folder touched. The fixed corpus covers file kinds (FIFO, devices, links, folders...), YAML
shapes (duplicate keys, deep nesting, alias bombs...), numbers (NaN, inf, out of range, at every
numeric path, in files and through --set), flags and output folders; Hypothesis adds generated
mixes.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ROOT, SCENARIOS, slow_selected

DRIVER = Path(__file__).with_name("corpus_driver.py")
#: A case still running after this long is a hang: a FIFO read or a lock waits for ever, so the
#: limit only needs to be far above what any case takes on a loaded machine (it is no timing
#: assertion: speed is measured in benchmarks/).
CASE_SECONDS = 60.0
MEMORY_CAP = 1 << 30  # bytes of address space a batch may use
#: The DPRK draft with point values (the shipped scenario draws its levers; the corpus edits
#: numbers as text), its world and calibration named as the shipped scenario names them, its
#: clause calibration by absolute path.
SCENARIO_TEXT = (
    (SCENARIOS / "levers" / "reference_2014.yaml")
    .read_text(encoding="utf-8")
    .replace("world: ../worlds/", "world: worlds/")
    .replace("clause_calibration: ../", f"clause_calibration: {SCENARIOS}/")  # copies elsewhere
    .replace("calibration: ../calibration/", "calibration: calibration/")
    .replace("name: icc_referral_reference", "name: icc_referral")
)

#: Every numeric value of the default scenario a user may set, and values none of them allows.
NUMERIC_PATHS = [
    *(
        f"behaviour.{k}"
        for k in (
            "intercept",
            "position_weight",
            "abstention_band",
            "vote_noise",
            "state_noise",
            "icc_aversion",
            "receptiveness",
            "absence",
            "bloc_pull",
            "regional_weight",
            "bloc_weight",
            "no_action_bias",
            "amendment_bias",
            "council_shift",
            "procedural_shift",
        )
    ),
    "behaviour.bloc_effects.EU",
    "actors.sponsors.lobbying.budget",
    "actors.sponsors.lobbying.efficacy",
    "actors.allies.counter_lobbying.budget",
    "actors.allies.tie",
    "actors.allies.patron_tie",
    "actors.sponsors.bargaining.accept_offer_min_credibility",
    "actors.sponsors.bargaining.credibility_noise",
    "actors.sponsors.bargaining.drop_if_expected_yes_share_below",
    "actors.sponsors.bargaining.from_round",
    "actors.states.USA.support_shift",
    "actors.states.USA.icc_aversion",
    "actors.states.USA.council_shift",
    "actors.states.USA.position",
    "actors.states.USA.receptiveness",
    "actors.target.strategies[0].intensity",
    "actors.target.strategies[0].icc_share",
    "actors.target.strategies[1].credibility",
    "actors.target.strategies[1].effect",
    "actors.target.strategies[2].backfire",
    "actors.target.strategies[3].exposure_hazard",
    "actors.target.strategies[0].schedule.start",
    "simulation.runs",
    "simulation.block_size",
    "simulation.rounds.plenary",
    "simulation.seed",
]
BAD_NUMBERS = [
    ".nan",
    "-.inf",
    "1.0e+308",
    "Infinity",
]  # more kinds of number in the generated cases


@dataclass
class Corpus:
    """Files written into a work folder, and the command lines that use them."""

    root: Path
    cases: list[list[str]] = field(default_factory=list)
    good: list[list[str]] = field(default_factory=list)  # controls: must succeed

    def file(self, name: str, content: str | bytes) -> str:
        path = self.root / "inputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return str(path)

    def scenario(self, name: str, text: str) -> str:
        """A scenario next to copies of the default world and calibration."""
        return self.file(f"scen/{name}.yaml", text)

    def out(self, name: str) -> str:
        return str(self.root / "outputs" / name)

    def add(self, *argv: str) -> None:
        self.cases.append(list(argv))


def _with(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def special_files(c: Corpus) -> list[str]:
    """Paths that are not regular files, or cannot be read, for any file argument."""
    d = c.root / "inputs" / "special"
    d.mkdir(parents=True, exist_ok=True)
    fifo = d / "fifo.yaml"
    os.mkfifo(fifo)
    (d / "loop_a").symlink_to(d / "loop_b")
    (d / "loop_b").symlink_to(d / "loop_a")
    (d / "zero.yaml").symlink_to("/dev/zero")
    plain = d / "plain.yaml"
    plain.write_text("name: x\n")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(d / "sock.yaml"))
    except OSError:  # a temporary folder too deep for a socket's path: no socket case
        (d / "sock.yaml").write_text("name: x\n")
    finally:
        sock.close()
    big = d / "big.yaml"
    with open(big, "wb") as f:
        f.write(b"# padding\n" * (450 * 1024))  # 4.4 MiB of comments
    return [
        str(fifo),
        "/dev/zero",
        "/dev/urandom",
        "/dev/null",
        str(d / "zero.yaml"),
        str(d / "loop_a"),
        str(d),
        str(plain / "inside.yaml"),
        str(d / ("n" * 300 + ".yaml")),
        str(d / "/".join(["deep"] * 1100)),
        str(d / "missing.yaml"),
        str(d / "sock.yaml"),
        str(big),
        str(d) + "/",
    ]


def yaml_shapes() -> dict[str, str | bytes]:
    """Files that are not a valid scenario, by shape."""
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        bomb.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    shapes: dict[str, str | bytes] = {
        "empty": "",
        "comment": "# nothing\n",
        "null": "null\n",
        "list": "- a\n- b\n",
        "scalar": "just a string\n",
        "number": "42\n",
        "two_docs": SCENARIO_TEXT + "\n---\nname: other\n",
        "binary": bytes(range(256)) * 8,
        "latin1": "name: caf\xe9\n".encode("latin-1"),
        "utf16": SCENARIO_TEXT.encode("utf-16"),
        "nul": "name: a\x00b\n",
        "tabs": "name:\n\t- x\n",
        "unterminated": 'name: "abc\n',
        "python_tag": "name: !!python/object/apply:os.system ['true']\n",
        "unknown_tag": "name: !custom x\n",
        "dup_top": SCENARIO_TEXT + "\nname: again\n",
        "dup_target": _with(SCENARIO_TEXT, "  target: PRK\n", "  target: PRK\n  target: IRN\n"),
        "dup_nested": _with(SCENARIO_TEXT, "{budget: 15.0,", "{budget: 15.0, budget: 1.0,"),
        "deep_flow_100": "name: " + "[" * 100 + "]" * 100 + "\n",
        "deep_flow_500": "name: " + "[" * 500 + "]" * 500 + "\n",
        "deep_flow_5000": "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "deep_block": "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1\n",
        "deep_dict_flow": "a: " + "{a: " * 400 + "1" + "}" * 400 + "\n",
        "bomb_list": "\n".join(bomb) + "\nname: x\n",
        "bomb_in_string": "\n".join(bomb) + "\n" + _with(SCENARIO_TEXT, "name: icc_referral", ""),
        "bomb_in_title": "\n".join(bomb)
        + "\n"
        + _with(
            SCENARIO_TEXT,
            "  title: Situation of human rights in the Democratic People's Republic of Korea",
            "  title: *a7",
        ),
        "small_bomb_in_title": "\n".join(bomb[:4])
        + "\n"
        + _with(
            SCENARIO_TEXT,
            "  title: Situation of human rights in the Democratic People's Republic of Korea",
            "  title: *a3",
        ),
        "recursive_alias": "a: &a [*a]\n",
        "recursive_map": "a: &a {b: *a}\n",
        "undefined_alias": "a: *nothing\n",
        "merge_dup": "x: &x {k: 1}\ny:\n  <<: *x\n  k: 2\n  k: 3\n",
        "huge_int": "name: x\nsimulation: {runs: " + "9" * 5000 + "}\n",
        "long_string": "name: " + "x" * 3_000_000 + "\n",
        "many_keys": "\n".join(f"k{i}: {i}" for i in range(120_000)) + "\n",
        "many_items": "a: [" + ",".join(["1"] * 150_000) + "]\n",
        "key_list": "? [a, b]\n: 1\n",
        "bad_indent": "name: x\n  kind: scenario\n",
        "world_nan_position": "",  # filled in below (needs a world path)
    }
    return shapes


def cosponsors(n: int) -> str:
    return _with(
        SCENARIO_TEXT,
        "  cosponsors: [USA, KOR, AUS, CAN, NZL, CHE, NOR, ISL, LIE, MCO, AND, SMR]",
        "  cosponsors: [" + ", ".join(["USA"] * n) + "]",
    )


def build_fixed(c: Corpus) -> None:
    """The fixed corpus: every kind of bad input named in the README's limits and more."""
    world = str(SCENARIOS / "worlds" / "un_2014.yaml")
    cal = str(SCENARIOS / "calibration" / "dprk_2014.yaml")
    base = _with(SCENARIO_TEXT, "world: worlds/un_2014.yaml", f"world: {world}")
    base = _with(base, "calibration: calibration/dprk_2014.yaml", f"calibration: {cal}")
    good = c.scenario("good", base)
    c.good.append(["validate", good])
    # file kinds: as the scenario, the world and the calibration, for validate and run
    for i, path in enumerate(special_files(c)):
        c.add("validate", path)
        c.add("run", path, "--runs", "20", "--no-plots", "-q", "--out", c.out(f"kind{i}"))
        as_world = c.scenario(f"world_kind{i}", _with(base, f"world: {world}", f"world: {path}"))
        c.add("validate", as_world)
        as_cal = c.scenario(
            f"cal_kind{i}", _with(base, f"calibration: {cal}", f"calibration: {path}")
        )
        c.add("validate", as_cal)
        c.add("plot", path)
        c.add("validate", good, "--set", f"world={path}")
        c.add("calibrate", "--votes", path, "--before", "2014-01-01", "--out", c.out(f"c{i}.yaml"))
        c.add("backtest", good, "--actual", path)
    # YAML shapes: as a scenario, and as the world it names
    for name, text in yaml_shapes().items():
        if name == "world_nan_position":
            w = Path(world).read_text(encoding="utf-8")
            bad_world = c.file("worlds/nan.yaml", w + "\nblocs: {}\n")
            c.add(
                "validate", c.scenario(name, _with(base, f"world: {world}", f"world: {bad_world}"))
            )
            continue
        path = c.file(f"shapes/{name}.yaml", text)
        c.add("validate", path)
        c.add(
            "validate",
            c.scenario(f"world_{name}", _with(base, f"world: {world}", f"world: {path}")),
        )
    c.add("validate", c.scenario("cosponsors_5000", cosponsors(5000)))
    c.add("validate", c.scenario("cosponsors_90000", cosponsors(90_000)))
    # numbers: every numeric path with every bad number, through --set and (some) in the file
    for path in NUMERIC_PATHS:
        for value in BAD_NUMBERS:
            c.add("validate", good, "--set", f"{path}={value}")
    for value in (".nan", "-.inf", "1.0e+308"):
        c.add(
            "validate",
            c.scenario(f"file_budget{value}", base.replace("budget: 15.0", f"budget: {value}")),
        )
        c.add(
            "validate",
            c.scenario(
                f"file_aversion{value}",
                base.replace("behaviour:\n", f"behaviour:\n  icc_aversion: {value}\n", 1),
            ),
        )
    # --set shapes
    for text in (
        "novalue",
        "=1",
        "a..b=1",
        "actors.target.strategies[99].intensity=1",
        "resolution.target[0]=1",
        "name=[1, 2]",
        "resolution=5",
        "x=" + "[" * 200,
        "a=&a [*a]",
        "behaviour={icc_aversion: 1, icc_aversion: 2}",
    ):
        c.add("validate", good, "--set", text)
    # flags of run
    run = ["run", good, "--no-plots", "-q"]
    for flag, values in {
        "--runs": ["0", "-1", "1000000000", "1e9", "abc", "9" * 100, ""],
        "--workers": ["0", "1000", "1000000", "-2", "two"],
        "--seed": ["-1", str(2**64), "1.5", "x"],
        "--dask": [
            "",
            "nonsense",
            "tcp://",
            "localhost:99999",
            "3000000000000000000",
            "tcp://h:1:2",
            "x" * 400,
        ],
        "--dask-timeout": ["0", "-1", "nan", "inf", "1e9", "soon"],
    }.items():
        for value in values:
            c.add(*run, flag, value, "--out", c.out(f"flag{len(c.cases)}"))
    c.add(
        *run,
        "--runs",
        "20",
        "--dask",
        "tcp://127.0.0.1:9",
        "--dask-timeout",
        "1",
        "--out",
        c.out("dask_refused"),
    )
    # output folders
    user = c.root / "user_folder"
    user.mkdir()
    (user / "thesis.tex").write_text("\\chapter{One}\n")
    afile = c.file("afile.txt", "keep me\n")
    for out in (
        str(user),
        str(user),
        afile,
        afile + "/sub",
        "/dev/null",
        "/proc/unsim_out",
        c.out("x" * 300),
        c.out("/".join(["d"] * 1100)),
        str(c.root / "inputs" / "special" / "loop_a"),
    ):
        c.add(*run, "--runs", "20", "--out", out)
    c.add(*run, "--runs", "20", "--out", str(user), "--force")
    build_outputs(c, good)
    # --compare with a scenario that cannot be paired
    for name, other in {
        "target": _with(base, "  target: PRK", "  target: IRN"),
        "stages": _with(
            base,
            "  stages: [no_action_motion, amendment, third_committee, plenary, sc_agenda, "
            "sc_referral]",
            "  stages: [third_committee, plenary]",
        ),
        "block": base.replace("simulation:\n", "simulation:\n  block_size: 512\n", 1),
        "world": _with(
            base,
            f"world: {world}",
            "world: "
            + c.file(
                "worlds/other.yaml", Path(world).read_text().replace("name: ", "name: other_", 1)
            ),
        ),
    }.items():
        c.add(
            *run,
            "--runs",
            "20",
            "--compare",
            c.scenario(f"cmp_{name}", other),
            "--out",
            c.out(f"cmp_{name}"),
        )
    # sweeps
    for param in (
        "P=1.2.3:4:5",
        "behaviour.icc_aversion=0:1:0",
        "behaviour.icc_aversion=0:1:99999999999",
        "behaviour.icc_aversion=nan:1:3",
        "behaviour.icc_aversion=1e999:1:2",
        "noequals",
        "behaviour.icc_aversion=",
        "behaviour.icc_aversion=.nan,1",
        "behaviour.nope=1,2",
    ):
        c.add(
            "sweep",
            good,
            "--param",
            param,
            "--runs",
            "20",
            "-q",
            "--out",
            c.out(f"sweep{len(c.cases)}"),
        )
    for flag, value in (
        ("--lhs", "0"),
        ("--lhs", "100000000"),
        ("--workers", "5000"),
        ("--runs", "0"),
    ):
        c.add(
            "sweep",
            good,
            "--param",
            "behaviour.icc_aversion=0,1",
            flag,
            value,
            "-q",
            "--out",
            c.out(f"sweep{len(c.cases)}"),
        )
    # plot on results folders that are not
    for name, files in {
        "empty": {},
        "summary_not_json": {"summary.json": "{not json", "metadata.json": "{}"},
        "summary_list": {"summary.json": "[1, 2]", "metadata.json": "{}"},
        "summary_deep": {"summary.json": "[" * 100_000 + "]" * 100_000, "metadata.json": "{}"},
        "meta_missing": {"summary.json": json.dumps({"runs": 1, "outcomes": {}})},
        "meta_bad": {
            "summary.json": json.dumps({"runs": 1, "outcomes": {}}),
            "metadata.json": json.dumps({"scenario": {"name": 1}, "seed": 1}),
        },
        "corrupt_parquet": {
            "summary.json": json.dumps({"runs": 1, "outcomes": {}, "tallies": {}}),
            "metadata.json": json.dumps({"scenario": json.loads(json.dumps({})), "seed": 1}),
            "per_state.parquet": "PAR1 not really",
        },
    }.items():
        folder = c.root / "inputs" / "plots" / name
        folder.mkdir(parents=True)
        for fname, text in files.items():
            (folder / fname).write_text(text)
        c.add("plot", str(folder))
    c.add("plot", afile)
    c.add("schema", "--bogus")
    c.add("--no-such-flag")
    c.add("nonexistent-command-file.yaml")
    add_reading_cases(c, base, good)


# -- files unsim reads back: results and study folders, data files, flags -----------------------
STRATEGY = "actors.target.strategies[0].intensity"


def _summary() -> dict[str, Any]:
    """A summary.json shaped as unsim writes it (its values made up)."""
    share = {"label": "x", "p": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 40}
    quantiles = {"q05": 1.0, "q25": 2.0, "q50": 3.0, "q75": 4.0, "q95": 5.0, "mean": 3.0}
    tally = {"held": 40, "threshold": "more yes than no", "yes": quantiles, "no": quantiles}
    pivotal = {"stage": "plenary", "iso3": "USA", "name": "x", **share}
    return {
        "runs": 40,
        "outcomes": {"plenary_adopted": dict(share), "icc_retained": dict(share)},
        "tallies": {"plenary": tally},
        "pivotal": [pivotal],
        "seed": 1,
    }


def _folder(c: Corpus, name: str, files: dict[str, Any]) -> str:
    """A folder of files under the inputs: text, bytes, a table, a FIFO or a link to a device."""
    import pandas as pd

    folder = c.root / "inputs" / "read" / name
    folder.mkdir(parents=True)
    for fname, content in files.items():
        path = folder / fname
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pd.DataFrame):
            content.to_parquet(path, index=False)
        elif content == "<fifo>":
            os.mkfifo(path)
        elif isinstance(content, str) and content.startswith("<link "):
            path.symlink_to(content[6:-1])
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(
                content if isinstance(content, str) else json.dumps(content, default=str)
            )
    return str(folder)


def _gzip_bomb(size: int) -> bytes:
    """A small gzip file that decompresses to ``size`` bytes of a CSV."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"0,0\n" * (1 << 18)
    parts = [packer.compress(b"a,b\n")]
    parts += [packer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join([*parts, packer.flush()])


def add_reading_cases(c: Corpus, base: str, good: str) -> None:
    """Results and study folders unsim did not write as it writes them, data files that are
    corrupt or expand without bound, and numeric flags out of range."""
    import pandas as pd
    import yaml

    noseed = c.scenario("noseed", _with(base, "  seed: 20141118\n", ""))
    # report and plot on a summary.json, a metadata.json, a per-state table of odd shapes
    meta = {"scenario": yaml.safe_load(base), "seed": 1}
    per_state = pd.DataFrame(
        {"stage": ["plenary"], "iso3": ["USA"], "name": ["x"]}
        | {k: [0.25] for k in ("p_yes", "p_no", "p_abstain", "p_absent")}
    )
    summaries: dict[str, Any] = {"list": [1, 2], "null": None}
    for key, value in (("runs", "40"), ("runs", True), ("outcomes", [1]), ("pivotal", "x")):
        summaries[f"{key}_{value}"] = {**_summary(), key: value}
    text = _summary()
    text["outcomes"]["plenary_adopted"]["p"] = "0.5"
    summaries["numbers_as_text"] = text
    missing = _summary()
    del missing["outcomes"]["icc_retained"]["p"]
    summaries["key_missing"] = missing
    tallies = _summary()
    tallies["tallies"]["plenary"] = [1, 2]
    summaries["tallies_list"] = tallies
    for name, summary in summaries.items():
        files = {"summary.json": summary, "metadata.json": meta, "per_state.parquet": per_state}
        folder = _folder(c, f"summary_{name}", files)
        c.add("report", folder, "--out", c.out(f"report_{name}.html"))
        c.add("plot", folder)
    for name, files in {
        "meta_seed_text": {"metadata.json": {**meta, "seed": "1"}},
        "meta_fifo": {"metadata.json": "<fifo>"},
        "meta_zero": {"metadata.json": "<link /dev/zero>"},
        "per_state_columns": {"per_state.parquet": pd.DataFrame({"stage": ["plenary"]})},
        "per_state_fifo": {"per_state.parquet": "<fifo>"},
        "per_state_zero": {"per_state.parquet": "<link /dev/zero>"},
        "per_state_corrupt": {"per_state.parquet": b"PAR1 garbage PAR1"},
        "summary_deep": {"summary.json": "[" * 70 + "]" * 70},
    }.items():
        defaults = {
            "summary.json": _summary(),
            "metadata.json": meta,
            "per_state.parquet": per_state,
        }
        folder = _folder(c, name, {**defaults, **files})
        c.add("report", folder, "--out", c.out(f"report_{name}.html"))
        c.add("plot", folder)
    # study folders: metadata.json, sweep.parquet and points of odd shapes
    table = pd.DataFrame(
        {"point": [0, 1, 2], STRATEGY: [0.0, 0.2, 0.4], "runs": [20] * 3}
        | {f"icc_retained_{f}": [0.2, 0.5, 0.8] for f in ("p", "ci_low", "ci_high")}
    )
    sweep_meta = {"kind": "sweep", "seed": 1, "params": {STRATEGY: [0.0, 0.2, 0.4]}}
    record = {"n": 20, "outcomes": {"icc_retained": {"p": 0.5, "ci_low": 0.3, "ci_high": 0.7}}}
    entry = {"index": 0, "key": "0" * 20, "point": {STRATEGY: 0.0}, "record": record}
    studies: dict[str, dict[str, Any]] = {
        "meta_garbage": {"metadata.json": "garbage{"},
        "meta_list": {"metadata.json": [1, 2]},
        "meta_types": {"metadata.json": {"params": 5, "labels": 3, "seed": "x"}},
        "meta_fifo": {"metadata.json": "<fifo>"},
        "meta_zero": {"metadata.json": "<link /dev/zero>"},
        "meta_deep": {"metadata.json": '{"a": ' * 80 + "1" + "}" * 80},
        "table_corrupt": {"sweep.parquet": b"PAR1 garbage PAR1"},
        "table_empty": {"sweep.parquet": b""},
        "table_fifo": {"sweep.parquet": "<fifo>"},
        "table_zero": {"sweep.parquet": "<link /dev/zero>"},
        "table_columns": {"sweep.parquet": table.drop(columns=[STRATEGY])},
        "table_text": {"sweep.parquet": table.assign(icc_retained_p="high")},
        "points_record_5": {"points/a.json": {"entries": [{**entry, "record": 5}]}},
        "points_entries_5": {"points/a.json": {"entries": 5}},
        "points_list": {"points/a.json": [1]},
        "points_text": {"points/a.json": {"entries": [{**entry, "record": {**record, "n": "2"}}]}},
        "points_p_2": {
            "points/a.json": {
                "entries": [
                    {
                        **entry,
                        "record": {
                            **record,
                            "outcomes": {"x": {**record["outcomes"]["icc_retained"], "p": 2}},
                        },
                    }
                ]
            }
        },
        "points_fifo": {"points/a.json": "<fifo>"},
        "points_zero": {"points/a.json": "<link /dev/zero>"},
        "points_garbage": {"points/a.json": "{not json"},
    }
    for name, files in studies.items():
        defaults = {
            "metadata.json": sweep_meta,
            "sweep.parquet": table,
            "points/b.json": {"entries": [entry]},
        }
        folder = _folder(c, f"study_{name}", {**defaults, **files})
        if not name.startswith("points_"):  # discover and plot read the metadata and the table
            c.add("discover", folder, "--outcome", "icc_retained", "--out", c.out(f"disc_{name}"))
            c.add("plot", folder)
        if not name.startswith("table_"):  # resuming reads the metadata (the seed) and points
            param = f"{STRATEGY}=0:0.4:3"
            c.add(
                "sweep", noseed, "--param", param, "--runs", "20", "-q", "--out", folder, "--resume"
            )
    # data files: corrupt gzip, one that expands without bound, other compressions
    votes = {
        "gzip_garbage": b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes(range(256)) * 16,
        "gzip_bomb": _gzip_bomb(300 << 20),
        "bzip2": b"BZh91AY&SY" + bytes(64),
        "binary": bytes(range(256)) * 64,
    }
    for name, content in votes.items():
        path = c.file(f"data/{name}.csv.gz", content)
        out = c.out(f"cal_{name}.yaml")
        c.add("calibrate", "--votes", path, "--before", "2014-01-01", "--out", out)
    # ISO3 codes given twice in two cases
    twice = _with(
        base,
        "    JPN: {support_shift: 3.0}\n",
        "    JPN: {support_shift: 3.0}\n    jpn: {support_shift: 1.0}\n",
    )
    c.add("validate", c.scenario("state_twice", twice))
    c.add("validate", good, "--set", "actors.states.jpn.support_shift=1")
    # a link loop as a relative world or calibration path
    special = c.root / "inputs" / "special"
    for key, old in (("world", "world: "), ("calibration", "calibration: ")):
        line = next(ln for ln in base.splitlines() if ln.startswith(old))
        rel = os.path.relpath(special / "loop_a", c.root / "inputs" / "scen")
        c.add("validate", c.scenario(f"rel_loop_{key}", base.replace(line, f"{old}{rel}")))
    # numeric flags out of range, designs over the limit, outcomes that do not exist
    for value in ("inf", "-inf", "nan", "0", "-1", "1e9"):
        c.add(
            "calibrate", f"--hr-weight={value}", "--before", "2014-01-01", "--out", c.out("hr.yaml")
        )
    for value in ("0", "1", "-0.1", "nan", "inf"):
        c.add("discover", str(c.root), "--outcome", "icc_retained", f"--peel-alpha={value}")
    for value in ("1", "3", "0", "1000"):
        c.add(
            "sensitivity",
            good,
            "--method",
            "morris",
            "--param",
            f"{STRATEGY}=0:1",
            "--levels",
            value,
        )
    c.add(
        "sensitivity", good, "--param", f"{STRATEGY}=0:1", "--n", "1000000", "--out", c.out("sens")
    )
    grid = [
        x
        for p in (STRATEGY, "behaviour.icc_aversion", "behaviour.intercept")
        for x in ("--param", f"{p}=0:1:1000")
    ]
    c.add("sweep", good, *grid, "--runs", "10", "--out", c.out("grid"))
    for quiet in ((), ("-q",)):
        c.add(
            "sweep",
            good,
            "--param",
            f"{STRATEGY}=0,1",
            "--runs",
            "10",
            *quiet,
            "--outcome",
            "nonexistent",
            "--out",
            c.out("outc"),
        )


def _owned(folder: Path, files: dict[str, Any]) -> Path:
    """A folder of files as unsim writes them (JSON with unsim's mark) or a user's (text)."""
    from unsim.ownership import json_text

    folder.mkdir(parents=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json_text(content)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _results_folder(folder: Path, good: str) -> Path:
    """A results folder that unsim wrote (20 runs, no figures), with a user's files added."""
    from unsim.engine import run
    from unsim.scenario import load_scenario

    run(load_scenario(good), runs=20, seed=1).save(folder)
    (folder / "notes.txt").write_text("what I think of this run\n")
    (folder / "report.html").write_text("<p>my report</p>\n")
    (folder / "tallies.png").write_bytes(b"\x89PNG\r\n\x1a\n the user's drawing")
    return folder


def build_outputs(c: Corpus, good: str) -> None:
    """Outputs in the way of every command: a user's file, a FIFO, a device, the command's own
    input, a results folder holding a user's files (--force, report, plot), a folder of
    another study (--resume). Each lies outside the output folder, so the batch's check that no
    file outside it changed covers them (the computations are those of the real commands, so
    that a refusal that came too late would be seen: a file changed, or a case over its time)."""
    root = c.root / "owned"
    user = _owned(root / "user", {"notes.yaml": "mine: 1\n", "notes.csv": "a,b\n", "n.json": "{}"})
    fifo = root / "fifo.csv"
    os.mkfifo(fifo)
    png = user / "figure.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n the user's drawing")
    results = _results_folder(root / "results", good)
    study = {"scenario_digest": "0" * 64, "params": {"behaviour.icc_aversion": [0, 1]}}
    other = _owned(root / "sweep", {"metadata.json": {"kind": "sweep", "design": "grid", **study}})
    sens = _owned(root / "sens", {"metadata.json": {"kind": "sensitivity", **study}})
    members = c.file("owned_members.csv", _members_text())
    actual = c.file("owned_actual.csv", "stage,yes,no,abstain,absent\nplenary,111,19,55,8\n")
    calibrate = ["calibrate", "--before", "2014-11-18", "--members", members, "--out"]
    for out in (user / "notes.yaml", fifo, "/dev/null", members, user):
        c.add(*calibrate, str(out))
    for out in (actual, good, user / "notes.csv", fifo, "/dev/null"):
        c.add("backtest", good, "--runs", "20", "--actual", actual, "--out", str(out))
    for mode in (["--timesplit"], ["--council", good]):
        c.add("backtest", *mode, "--json", str(user / "n.json"))
        c.add("backtest", *mode, "--out", str(fifo))
    c.add("report", str(results))
    for out in (user / "n.json", fifo, results / "metadata.json"):
        c.add("report", str(results), "--out", str(out))
    c.add("plot", str(results))
    c.add("explain", good, "--state", "FRA", "--runs", "20", "--out", str(png))
    c.add("explain", good, "--state", "FRA", "--runs", "20", "--out", good)
    c.add("run", good, "--runs", "20", "--no-plots", "-q", "--out", str(results), "--force")
    sweep = ["sweep", good, "--param", "behaviour.icc_aversion=0,1", "--runs", "20", "-q"]
    for folder in (results, other, sens, user):
        c.add(*sweep, "--resume", "--out", str(folder))
    c.add(
        "sensitivity", good, "--param", "behaviour.icc_aversion=0:1", "--n", "2", "--runs", "20",
        "--method", "morris", "-q", "--resume", "--out", str(other),
    )  # fmt: skip
    c.add("discover", str(other), "--outcome", "icc_retained", "--out", str(user))


def _members_text() -> str:
    """The real member-state table when the data is here (calibrate then runs in earnest up to
    its refusal), else a stand-in."""
    real = ROOT.parent / "shared" / "data" / "un_member_states_2014.csv"
    return real.read_text(encoding="utf-8") if real.is_file() else "iso3,cow\nFRA,220\n"


# -- Hypothesis: generated mixes ---------------------------------------------------------------
TOP_KEYS = ["name", "kind", "world", "resolution", "actors", "behaviour", "simulation"]


@st.composite
def generated_case(draw: st.DrawFn) -> tuple[str, Any, list[str]]:
    """(kind, payload, flags): a scenario text mutation, a --set of a bad number, or a flag."""
    kind = draw(st.sampled_from(["number", "yaml", "flag", "bytes"]))
    if kind == "number":
        path = draw(st.sampled_from(NUMERIC_PATHS))
        # beyond every bound: the largest is the seed's 2**64 - 1, then runs' 100 million
        big = (
            st.floats(min_value=1e9, max_value=1e308) if path != "simulation.seed" else st.nothing()
        )
        value = draw(
            st.one_of(
                st.sampled_from([".nan", ".inf", "-.inf", ".NaN", "-.Inf"]),
                big.map(lambda x: f"{x:.6e}"),
                st.floats(min_value=1e9, max_value=1e308).map(lambda x: f"-{x:.6e}"),
                st.integers(min_value=2**65, max_value=10**60).map(str),
            )
        )
        in_file = draw(st.booleans())
        return ("number_file" if in_file else "number_set", (path, value), [])
    if kind == "yaml":
        shape = draw(st.sampled_from(["dup", "deep", "bomb", "alias_self"]))
        key = draw(st.sampled_from(TOP_KEYS))
        size = draw(st.integers(min_value=65, max_value=3000))
        return ("yaml", (shape, key, size), [])
    if kind == "bytes":
        return ("bytes", draw(st.binary(min_size=0, max_size=2000)), [])
    flag = draw(st.sampled_from(["--runs", "--workers", "--seed", "--dask-timeout"]))
    bad = {
        "--runs": st.one_of(st.integers(max_value=0), st.integers(min_value=100_000_001)),
        "--workers": st.one_of(st.integers(max_value=0), st.integers(min_value=10_000)),
        "--seed": st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64)),
        "--dask-timeout": st.one_of(st.floats(max_value=0), st.floats(min_value=3601)),
    }[flag]
    return ("flag", None, [flag, str(draw(bad))])


def add_generated(c: Corpus, items: list[tuple[str, Any, list[str]]]) -> None:
    world = str(SCENARIOS / "worlds" / "un_2014.yaml")
    cal = str(SCENARIOS / "calibration" / "dprk_2014.yaml")
    base = SCENARIO_TEXT.replace("world: worlds/un_2014.yaml", f"world: {world}").replace(
        "calibration: calibration/dprk_2014.yaml", f"calibration: {cal}"
    )
    good = c.scenario("gen_good", base)
    for i, (kind, payload, flags) in enumerate(items):
        if kind == "number_set":
            path, value = payload
            c.add("validate", good, "--set", f"{path}={value}")
        elif kind == "number_file":
            path, value = payload
            # the same value written into the file: as an override block appended at the end
            parts = path.replace("]", "").replace("[", ".").split(".")
            if any(p.isdigit() for p in parts):
                c.add("validate", good, "--set", f"{path}={value}")
                continue
            text = base
            head = parts[0]
            if f"\n{head}:" in text:  # replace the whole section, the bad value inside
                text = text.replace(f"\n{head}:", f"\n_old_{head}:", 1)
            nested = value
            for p in reversed(parts[1:]):
                nested = "{" + f"{p}: {nested}" + "}"
            c.add("validate", c.scenario(f"gen{i}", text + f"\n{head}: {nested}\n"))
        elif kind == "yaml":
            shape, key, size = payload
            if shape == "dup":
                text = base + f"\n{key}: duplicate\n"
            elif shape == "deep":
                text = base.replace(f"\n{key}:", f"\n_old_{key}:", 1) + (
                    f"\n{key}: " + "[" * size + "]" * size + "\n"
                )
            elif shape == "bomb":
                levels = ["b0: &b0 [" + ", ".join(["x"] * 12) + "]"]
                depth = 5 + size % 4
                for j in range(1, depth):
                    levels.append(f"b{j}: &b{j} [" + ", ".join([f"*b{j - 1}"] * 12) + "]")
                text = "\n".join(levels) + f"\n{key}: *b{depth - 1}\n"
            else:
                text = f"{key}: &s [*s]\n"
            c.add("validate", c.scenario(f"gen{i}", text))
        elif kind == "bytes":
            c.add("validate", c.file(f"gen/bytes{i}.yaml", payload))
        else:
            c.add("run", good, "--no-plots", "-q", *flags, "--out", c.out(f"gen{i}"))


# -- running a batch ---------------------------------------------------------------------------
def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _fingerprint(root: Path) -> dict[str, str]:
    """Every file under ``root`` but the output folder, with its content hash (or link target)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel.parts[:1] == ("outputs",):
            continue
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            p = Path(dirpath) / name
            if p.is_symlink():
                out[str(rel / name)] = "link:" + os.readlink(p)
            elif p.is_file():
                out[str(rel / name)] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[str(rel / name)] = "special"
    return out


@dataclass
class Report:
    inputs: int = 0
    tracebacks: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    over_memory: list[str] = field(default_factory=list)
    exit_zero: list[str] = field(default_factory=list)
    files_lost: list[str] = field(default_factory=list)
    crashed: str = ""
    slowest: list[tuple[float, str]] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    def line(self) -> str:
        return (
            f"{self.inputs} bad inputs: {len(self.tracebacks)} tracebacks, "
            f"{len(self.hangs)} hangs over {CASE_SECONDS:g} s, {len(self.over_memory)} over 1 GiB, "
            f"{len(self.exit_zero)} exited 0, {len(self.files_lost)} files touched outside the "
            f"output folder; peak memory {self.peak_rss_mb:.0f} MB"
        )


def run_batch(c: Corpus) -> Report:
    cases_file = c.root / "cases.json"
    results_file = c.root / "results.json"
    cases_file.write_text(json.dumps(c.good + c.cases))
    before = _fingerprint(c.root)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMPDIR": str(c.root / "tmp")}
    (c.root / "tmp").mkdir(exist_ok=True)
    timeout = 300 + CASE_SECONDS + 5 * len(c.cases)  # the whole batch: only a stuck driver
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(cases_file), str(results_file), str(CASE_SECONDS)],
        cwd=c.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
        check=False,
    )
    report = Report(inputs=len(c.cases))
    if proc.returncode != 0 or not results_file.exists():
        report.crashed = f"driver exit {proc.returncode}: {proc.stderr[-3000:]}"
        return report
    results = json.loads(results_file.read_text())
    for i, r in enumerate(results):
        label = " ".join(a if len(a) < 80 else a[:77] + "..." for a in r["argv"])
        text = (r["stderr"] or "") + (r["stdout"] or "")
        if r["escaped"] or "Traceback" in text or "internal error" in text:
            report.tracebacks.append(f"{label}: {(r['escaped'] or text)[-800:]}")
        report.slowest = sorted([*report.slowest, (r["seconds"], label)])[-5:]
        if r["code"] == "hang":
            report.hangs.append(f"{label}: {r['seconds']:.1f} s")
        if "out of memory" in text or "MemoryError" in text:
            report.over_memory.append(label)
        if i < len(c.good):
            assert r["code"] == 0, f"control case failed: {label}: {text}"
        elif r["code"] == 0:
            report.exit_zero.append(f"{label}: {text[-300:]}")
    report.peak_rss_mb = max((r["peak_rss_mb"] for r in results), default=0.0)
    if report.peak_rss_mb > MEMORY_CAP / 2**20:
        report.over_memory.append(f"peak {results[-1]['peak_rss_mb']:.0f} MB")
    after = _fingerprint(c.root)
    for name, digest in before.items():
        if after.get(name) != digest and name not in {"results.json"}:
            report.files_lost.append(name)
    for dirpath, dirnames, _ in os.walk(c.root):
        report.files_lost += [
            f"{dirpath}/{d} (temporary folder left)" for d in dirnames if d.startswith(".unsim-")
        ]
    return report


def _assert_clean(report: Report) -> None:
    print(report.line())
    print("slowest:", [(round(t, 2), label[-60:]) for t, label in report.slowest])
    assert not report.crashed, report.crashed
    assert not report.tracebacks, "\n\n".join(report.tracebacks[:5])
    assert not report.hangs, report.hangs
    assert not report.over_memory, report.over_memory
    assert not report.exit_zero, "\n".join(report.exit_zero[:10])
    assert not report.files_lost, report.files_lost


@pytest.fixture
def corpus(tmp_path: Path) -> Iterator[Corpus]:
    yield Corpus(root=tmp_path)


def test_fixed_corpus_of_bad_inputs(corpus: Corpus, request: pytest.FixtureRequest) -> None:
    """The fixed corpus: every third input by default, all of them with ``-m slow``."""
    build_fixed(corpus)
    assert len(corpus.cases) >= 300
    if not slow_selected(request.config):
        corpus.cases = corpus.cases[::3]
    _assert_clean(run_batch(corpus))


def test_outputs_in_the_way_of_every_command(corpus: Corpus) -> None:
    """The corpus's outputs in the way (:func:`build_outputs`), every one of them."""
    world = str(SCENARIOS / "worlds" / "un_2014.yaml")
    cal = str(SCENARIOS / "calibration" / "dprk_2014.yaml")
    base = _with(SCENARIO_TEXT, "world: worlds/un_2014.yaml", f"world: {world}")
    good = corpus.scenario(
        "good", _with(base, "calibration: calibration/dprk_2014.yaml", f"calibration: {cal}")
    )
    build_outputs(corpus, good)
    assert len(corpus.cases) >= 28
    _assert_clean(run_batch(corpus))


def _generated(tmp_path_factory: pytest.TempPathFactory, items: list[Any]) -> None:
    c = Corpus(root=tmp_path_factory.mktemp("gen"))
    add_generated(c, items)
    _assert_clean(run_batch(c))


@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(generated_case(), min_size=60, max_size=60))
def test_generated_bad_inputs(
    tmp_path_factory: pytest.TempPathFactory, items: list[tuple[str, Any, list[str]]]
) -> None:
    _generated(tmp_path_factory, items)


@pytest.fixture
def long_corpus_selected(request: pytest.FixtureRequest) -> None:
    if not slow_selected(request.config):
        pytest.skip("the long bad-input corpus runs with -m slow")


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(generated_case(), min_size=100, max_size=100))
def test_generated_bad_inputs_long(
    long_corpus_selected: None,
    tmp_path_factory: pytest.TempPathFactory,
    items: list[tuple[str, Any, list[str]]],
) -> None:
    """800 generated inputs in 8 batches: ``pytest -m slow tests/test_bad_input_corpus.py``."""
    _generated(tmp_path_factory, items)
