"""The README's notebook example runs as written."""

from __future__ import annotations

import os

import matplotlib

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
