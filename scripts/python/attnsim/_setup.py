"""`pip install .` support (pyproject.toml names BuildPy): besides the Python files, the wheel gets
attnsim_native from a CMake build and the GPU presets and calibrations, laid out as
`cmake --install` lays them out (attnsim/attnsim_native*.so, attnsim/data/gpu/...).

Only used while building a wheel; never imported by attnsim itself.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parents[3]


def native_module_path() -> Path | None:
    build_dir = Path(os.environ.get("ATTNSIM_BUILD_DIR", ROOT / "build" / "default"))
    try:
        manifest = json.loads((build_dir / "attnsim-build.json").read_text())
        path = Path(manifest["python_modules"]["attnsim_native"])
    except (OSError, ValueError, KeyError):
        return None
    return path if path.is_file() else None


class BuildPy(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "attnsim"
        for name in ("presets", "calibrations"):
            source = ROOT / "sim" / "gpu" / name
            if source.is_dir():
                shutil.copytree(source, target / "data" / "gpu" / name, dirs_exist_ok=True)
        native = native_module_path()
        if native is None:
            print("attnsim: no attnsim_native in the build (set ATTNSIM_BUILD_DIR after "
                  "`cmake --build`): installing pure Python")
        else:
            shutil.copy2(native, target / native.name)
            print(f"attnsim: attnsim_native from {native}")
