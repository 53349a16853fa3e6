"""Finding `attnsim_native` (the pybind11 module of sim/bindings) and the data it reads.

Search order: the copy installed inside this package (`cmake --install`, `pip install .`), then
the build that $ATTNSIM_BUILD_DIR names, then this source tree's build/default (a checkout).
GPU presets and calibrations likewise: the package's data/ folder once installed, else the
source tree's sim/gpu/.
"""
from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path

from . import REPO_ROOT

PACKAGE_DIR = Path(__file__).resolve().parent


class NativeModuleMissing(ImportError):
    """No attnsim_native could be found; the message says where it looked and how to build it."""


def _build_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("ATTNSIM_BUILD_DIR"):
        dirs.append(Path(os.environ["ATTNSIM_BUILD_DIR"]))
    if (REPO_ROOT / "CMakePresets.json").is_file():  # running from a checkout
        dirs.append(REPO_ROOT / "build" / "default")
    return dirs


@functools.lru_cache(maxsize=1)
def module():
    """The attnsim_native module (imported once per process)."""
    try:
        return importlib.import_module(".attnsim_native", __package__)
    except ImportError:
        pass
    from .build_manifest import ManifestError, load_manifest
    looked = [str(PACKAGE_DIR)]
    for build_dir in _build_dirs():
        looked.append(str(build_dir))
        try:
            path = load_manifest(build_dir).python_module("attnsim_native")
        except ManifestError:
            continue
        if path is None:
            continue
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        return importlib.import_module("attnsim_native")
    raise NativeModuleMissing(
        "attnsim_native not found (looked in " + ", ".join(looked) + "): build it "
        "(scripts/attnsim build; needs pybind11-dev) and set ATTNSIM_BUILD_DIR, or install the "
        "package (cmake --install, or pip install . after a build)")


def data_dir(*parts: str) -> Path | None:
    """A data folder: installed (attnsim/data/...) or in the source tree (sim/...)."""
    installed = PACKAGE_DIR.joinpath("data", *parts)
    if installed.is_dir():
        return installed
    source = REPO_ROOT.joinpath("sim", *parts)
    return source if source.is_dir() else None


def gpu_preset_dirs() -> list[str]:
    found = data_dir("gpu", "presets")
    return [str(found)] if found else []


def calibrations_dir() -> Path | None:
    return data_dir("gpu", "calibrations")
