"""Mesa's package imported light (unsim.model.lightmesa): its parts load on first use, and a program
that asks for them gets what Mesa's own import gives."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest

from unsim.model.lightmesa import split_imports

PARTS = ("mesa.space", "mesa.batchrunner", "mesa.datacollection", "mesa.experimental")


def _python(code: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


#: What a program sees of Mesa: its public names, where each comes from, and what is loaded.
_SEEN = """
import sys
{setup}
import mesa
print(" ".join(m for m in {parts!r} if m in sys.modules))
print(" ".join(sorted(mesa.__all__)))
for name in sorted(mesa.__all__):
    value = getattr(mesa, name)
    print(name, getattr(value, "__module__", None) or value.__name__)
print(mesa.space.MultiGrid.__module__, mesa.__version__, "space" in dir(mesa))
from mesa import DataCollector, batch_run
import mesa.discrete_space.grid
print(DataCollector.__name__, batch_run.__name__, mesa.discrete_space.grid.__name__)
"""


def test_a_light_mesa_loads_its_parts_on_first_use_and_gives_what_mesa_gives() -> None:
    light = _python(_SEEN.format(setup="import unsim.model", parts=PARTS))
    plain = _python(_SEEN.format(setup="", parts=PARTS))
    assert light[0] == ""  # none of the parts loaded by importing mesa
    assert set(plain[0].split()) >= {"mesa.space", "mesa.batchrunner"}  # Mesa's own import
    assert light[1:] == plain[1:]  # every name, from the same module; the parts on first use


def test_the_model_runs_on_a_light_mesa_without_its_parts() -> None:
    out = _python(
        f"""
        import sys
        parts = {PARTS!r} + ("scipy.spatial", "networkx")
        from unsim.model import lightmesa
        lightmesa.install()
        import mesa.agent, mesa.model  # what Agent and Model load themselves (Mesa 3.5's
        before = [m for m in parts if m in sys.modules]  # model loads mesa.experimental)
        from unsim import load_scenario, run
        results = run(load_scenario("scenarios/icc_referral.yaml"), runs=50, seed=3)
        import mesa
        print(type(results).__name__, mesa.Model.__module__, mesa.Agent.__module__)
        print([m for m in parts if m in sys.modules] == before, before)
        """
    )
    assert out[0] == "Results mesa.model mesa.agent"
    assert out[1].startswith("True"), out[1]  # no part loaded for the model's runs
    assert "mesa.space" not in out[1] and "mesa.batchrunner" not in out[1]


def test_nothing_changes_when_mesa_is_already_imported() -> None:
    out = _python(
        """
        import sys
        import mesa
        import unsim.model
        from unsim.model.model import UNModel
        print("__getattr__" in vars(mesa), "mesa.space" in sys.modules)
        """
    )
    assert out == ["False True"]


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    out = _python(
        """
        import unsim.model
        import mesa
        try:
            mesa.no_such_part
        except AttributeError as error:
            print(error)
        print(hasattr(mesa, "no_such_part"))
        """
    )
    assert out == ["module 'mesa' has no attribute 'no_such_part'", "False"]


def _split(source: str) -> tuple[dict[str, tuple[str, str | None]], str]:
    tree = ast.parse(textwrap.dedent(source))
    deferred = split_imports(tree, "pkg")
    return deferred, ast.unparse(tree)


def test_only_the_package_s_own_imports_whose_names_nothing_uses_are_deferred() -> None:
    deferred, rest = _split(
        """
        import datetime
        import pkg.space as space
        import pkg.grid
        from pkg.agent import Agent, AgentSet as Set
        from .model import Model
        from . import time
        from pkg.used import helper
        from pkg.star import *
        from other.thing import Thing
        __all__ = ["Agent", "Model"]
        VERSION = helper(datetime.date.today())
        """
    )
    assert deferred == {
        "space": ("pkg.space", None),
        "Agent": ("pkg.agent", "Agent"),
        "Set": ("pkg.agent", "AgentSet"),
        "Model": ("pkg.model", "Model"),
        "time": ("pkg.time", None),
    }
    kept = rest.splitlines()
    assert "import pkg.grid" in kept  # binds pkg itself: left as it is
    assert "from pkg.used import helper" in kept  # its name is used by what runs
    assert "from pkg.star import *" in kept and "from other.thing import Thing" in kept
    assert not any("space" in line or "Agent" in line.split("=")[0] for line in kept[:-2])


@pytest.mark.parametrize("name", ["Agent", "Model"])
def test_a_deferred_name_is_kept_in_the_package_once_loaded(name: str) -> None:
    out = _python(
        f"""
        import unsim.model
        import mesa
        first = mesa.{name}
        print("{name}" in vars(mesa), mesa.{name} is first)
        """
    )
    assert out == ["True True"]


#: What Mesa's logging made of mesa.model: its loggers' names and the class its method logger
#: names (kept in the decorated method's closure).
_LOGGING = """
import sys
{setup}
import mesa.model
import mesa.mesa_logging as logs
print(sorted((k, v.name) for k, v in logs._module_loggers.items()))
cells = mesa.model.Model.__init__.__closure__ or ()
print([c.cell_contents for c in cells if isinstance(c.cell_contents, str)])
print(type(logs.inspect).__name__)
"""


def test_mesa_s_logging_names_its_loggers_and_classes_as_with_mesa_s_own_import() -> None:
    light = _python(_LOGGING.format(setup="import unsim.model"))
    plain = _python(_LOGGING.format(setup=""))
    assert light[:2] == plain[:2]
    assert "('mesa.model', 'MESA.mesa.model')" in light[0] and light[1] == "['Model']"
    assert (light[2], plain[2]) == ("FrameLookups", "module")  # the light lookups were used


def test_the_frame_lookups_give_inspect_s_frames_and_names_without_the_source() -> None:
    import inspect

    from unsim.model.lightmesa import FrameLookups

    def outer() -> tuple[list[inspect.FrameInfo], list[inspect.FrameInfo]]:
        return FrameLookups.stack(), inspect.stack(0)

    light, full = outer()
    assert [(f.frame, f.filename, f.lineno, f.function) for f in light[:3]] == [
        (f.frame, f.filename, f.lineno, f.function) for f in full[:3]
    ]
    assert light[0].function == "outer" and light[0].code_context is None
    frame = inspect.currentframe()
    assert FrameLookups().getmodule(frame) is inspect.getmodule(frame) is sys.modules[__name__]
    assert FrameLookups().getmodule(inspect) is inspect  # anything else: inspect's own
    assert FrameLookups().ismodule(inspect)  # and inspect's other functions


def test_a_module_without_inspect_is_left_alone() -> None:
    from unsim.model.lightmesa import light_frame_lookups

    assert light_frame_lookups("no_such_module_here") is False
    assert light_frame_lookups("json") is False
