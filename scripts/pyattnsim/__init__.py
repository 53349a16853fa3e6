"""Deprecated: the package is `attnsim` now (scripts/python/attnsim/, or installed).

`import pyattnsim.X` gives the very module `attnsim.X` (one module object, not a copy), and
`python3 -m pyattnsim.X` runs `attnsim.X`, so old commands (`PYTHONPATH=scripts python3 -m
pyattnsim.tilesim_ref ...`) keep working for one release. Importing it warns (DeprecationWarning).
"""
import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from pathlib import Path

try:
    import attnsim
except ImportError:  # PYTHONPATH=scripts, the old spelling: the package sits in scripts/python/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    import attnsim

warnings.warn("the pyattnsim package is deprecated: import attnsim (python3 -m attnsim.X)",
              DeprecationWarning, stacklevel=2)

from attnsim import *  # noqa: E402,F401,F403
from attnsim import REPO_ROOT, __version__  # noqa: E402,F401

_PREFIX = __name__ + "."


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """pyattnsim.X -> attnsim.X, as the same module object; get_code serves `python3 -m`."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_PREFIX):
            return None
        real = importlib.util.find_spec("attnsim." + fullname[len(_PREFIX):])
        if real is None:
            return None
        spec = importlib.util.spec_from_loader(
            fullname, self, origin=real.origin,
            is_package=real.submodule_search_locations is not None)
        spec.loader_state = real.name
        return spec

    def create_module(self, spec):
        return importlib.import_module(spec.loader_state)

    def exec_module(self, module):
        pass  # already executed as attnsim.X

    def get_code(self, fullname):
        real = importlib.util.find_spec("attnsim." + fullname[len(_PREFIX):])
        return real.loader.get_code(real.name)


if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AliasFinder())
