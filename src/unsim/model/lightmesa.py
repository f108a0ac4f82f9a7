"""Mesa's package imported light: its submodules and names loaded on first use.

Mesa's ``__init__`` imports every part of the library (``mesa.space``, ``mesa.experimental`` and
through it SciPy's spatial module, ``mesa.discrete_space`` and networkx, ``mesa.batchrunner`` and
tqdm, ``mesa.datacollection``...): importing it took 0.9 s at a load average of 2, NumPy alone
0.24 s. unsim needs only ``mesa.Agent``, ``mesa.Model`` and the ``AgentSet`` they use.
:func:`install`, called before Mesa is first imported (``unsim.model`` calls it), puts a finder
at the head of ``sys.meta_path`` that serves the ``mesa`` package once, as follows, and then
takes itself away:

* the package's own ``__init__.py`` is read and run as Mesa ships it, except its top-level
  imports of its own parts (``import mesa.space as space``, ``from mesa.agent import Agent``,
  ``from .model import Model``): each name they bind is instead given by the package's module
  ``__getattr__`` (PEP 562), which imports the part the first time the name is asked for and
  keeps it in the package from then on;
* an import whose name the rest of ``__init__`` uses, and any other statement, runs as usual.

So ``import mesa; mesa.space.MultiGrid``, ``from mesa import DataCollector``, ``import
mesa.visualization`` and ``dir(mesa)`` give what they give with Mesa's own import; only the time
a part is loaded changes. Nothing is changed if Mesa is already imported when :func:`install` is
called, or if its ``__init__`` is not a Python source file. The parts are read from Mesa's
``__init__`` itself, so a Mesa version that adds or removes one (3.5 adds ``mesa.time``) needs no
change here.

Mesa's logging (``mesa.mesa_logging``) names a module's logger and a method's class by looking at
the caller's frame: ``inspect.stack()``, ``inspect.getmodule(frame)`` and
``inspect.getouterframes(frame)``, which read the source lines of every frame on the stack and
search all loaded modules for the file of each frame without one (the import system's), when
``mesa.model`` is imported: a tenth of a second, for a name. The light package gives that module
:class:`FrameLookups` in place of ``inspect``: the same frames, file names, line numbers and
function names, without the source lines, and the module of a frame from its globals; so Mesa
names its loggers and classes as before. Nothing is changed if the module does not use
``inspect`` as Mesa 3.3 to 3.5 do.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
from collections.abc import Callable, Sequence
from types import FrameType, ModuleType
from typing import Any

PACKAGE = "mesa"
#: Mesa's logging, which looks up its callers' frames (see :class:`FrameLookups`).
LOGGING = "mesa.mesa_logging"

#: A name the package binds -> (the module it comes from, the attribute, or None: the module).
Deferred = dict[str, tuple[str, str | None]]


def install(package: str = PACKAGE) -> None:
    """Serve ``package`` light when it is next imported (nothing if it is already imported)."""
    if package in sys.modules:
        return
    if any(isinstance(f, _LightFinder) and f.package == package for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _LightFinder(package))


class _LightFinder(importlib.abc.MetaPathFinder):
    """Finds ``package`` with the finders after it and wraps its loader; used once."""

    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """The spec of ``package`` from the finders after this one, its loader wrapped; None for
        other modules."""
        if fullname != self.package:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if isinstance(loader, importlib.machinery.SourceFileLoader) and spec.origin:
            spec.loader = _LightLoader(loader)
        return spec


class _LightLoader(importlib.abc.Loader):
    """Runs the package's ``__init__`` with its own parts' imports deferred."""

    def __init__(self, loader: importlib.machinery.SourceFileLoader) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, resources...
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """None: the default module creation."""
        return None

    def exec_module(self, module: ModuleType) -> None:
        """Run the package's ``__init__`` with its own parts' imports deferred until first use."""
        name = module.__name__
        source = self.loader.get_source(name) or ""
        tree = ast.parse(source, filename=self.loader.path)
        deferred = split_imports(tree, name)
        exec(compile(tree, self.loader.path, "exec"), module.__dict__)
        namespace = module.__dict__
        namespace["__getattr__"] = deferred_names(name, deferred, namespace.get("__getattr__"))
        namespace["__dir__"] = lambda: sorted(set(namespace) | set(deferred))
        if name == PACKAGE:
            light_frame_lookups(LOGGING)


def light_frame_lookups(name: str) -> bool:
    """Give module ``name`` (imported here if it exists) :class:`FrameLookups` in place of the
    ``inspect`` module it holds as ``inspect``; True if it was given (False if there is no such
    module or it holds no ``inspect``)."""
    try:
        if importlib.util.find_spec(name) is None:
            return False
    except (ImportError, ValueError):
        return False
    module = importlib.import_module(name)
    if getattr(module, "inspect", None) is not inspect:
        return False
    module.inspect = FrameLookups()  # type: ignore[attr-defined]
    return True


class FrameLookups:
    """``inspect`` as a caller that wants frames and names only uses it: :meth:`stack`,
    :meth:`getouterframes` and :meth:`getmodule` give what ``inspect``'s give but the source
    lines (``code_context`` and ``index`` are None), without reading any file; anything else is
    ``inspect``'s own."""

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def getouterframes(frame: FrameType | None, context: int = 1) -> list[inspect.FrameInfo]:
        """The frames from ``frame`` outwards, each with its file, line and function."""
        frames = []
        while frame is not None:
            code = frame.f_code
            frames.append(
                inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
            )
            frame = frame.f_back
        return frames

    @classmethod
    def stack(cls, context: int = 1) -> list[inspect.FrameInfo]:
        """The caller's frame and those outside it."""
        return cls.getouterframes(sys._getframe(1), context)

    @staticmethod
    def getmodule(obj: Any, _filename: str | None = None) -> ModuleType | None:
        """The module of ``obj``: for a frame, the loaded module whose globals it runs in."""
        if isinstance(obj, FrameType):
            module = sys.modules.get(obj.f_globals.get("__name__", ""))
            if module is not None and vars(module) is obj.f_globals:
                return module
        return inspect.getmodule(obj, _filename)


def split_imports(tree: ast.Module, package: str) -> Deferred:
    """Take out of ``tree``'s top level the imports of ``package``'s own parts whose names the
    rest does not use; return the names they bound."""
    found: list[tuple[ast.stmt, Deferred]] = []
    for node in tree.body:
        names = _own_imports(node, package)
        if names:
            found.append((node, names))
    taken = {id(node) for node, _ in found}
    used = {
        n.id
        for stmt in tree.body
        if id(stmt) not in taken
        for n in ast.walk(stmt)
        if isinstance(n, ast.Name)
    }
    deferred: Deferred = {}
    for node, names in found:
        if used.isdisjoint(names):
            deferred.update(names)
        else:
            taken.discard(id(node))
    tree.body = [stmt for stmt in tree.body if id(stmt) not in taken]
    return deferred


def _own_imports(node: ast.stmt, package: str) -> Deferred:
    """The names an import of ``package``'s own parts binds (empty for anything else)."""
    prefix = package + "."
    if isinstance(node, ast.Import):
        if all(a.name.startswith(prefix) and a.asname for a in node.names):
            return {a.asname: (a.name, None) for a in node.names if a.asname}
        return {}
    if isinstance(node, ast.ImportFrom) and node.level in (0, 1):
        home = node.module or ""
        if node.level == 1:
            home = f"{package}.{home}" if home else package
        if (home.startswith(prefix) or node.level == 1) and all(a.name != "*" for a in node.names):
            if home == package:  # from . import space: a submodule each
                return {a.asname or a.name: (f"{package}.{a.name}", None) for a in node.names}
            return {a.asname or a.name: (home, a.name) for a in node.names}
    return {}


def deferred_names(
    package: str, deferred: Deferred, own: Callable[[str], Any] | None = None
) -> Callable[[str], Any]:
    """The package's ``__getattr__``: a deferred name imported on first use, then kept; any
    other name asked of the package's own ``__getattr__``, if it has one."""

    def __getattr__(name: str) -> Any:
        if name not in deferred:
            if own is not None:
                return own(name)
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        home, attribute = deferred[name]
        module = importlib.import_module(home)
        value = module if attribute is None else getattr(module, attribute)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
