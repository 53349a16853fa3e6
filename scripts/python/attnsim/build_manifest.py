"""What a build contains: read from `<build>/attnsim-build.json`, which CMake writes."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class ManifestError(Exception):
    """The build folder has no readable manifest (not configured, or not an attnsim build)."""


@dataclass(frozen=True)
class BuildManifest:
    build_dir: Path
    version: str
    build_type: str
    systemc: bool
    verilator: bool
    cuda: bool
    tools: dict[str, Path] = field(default_factory=dict)
    python_modules: dict[str, Path] = field(default_factory=dict)

    def tool(self, name: str) -> Path | None:
        """Path of a built tool, or None when this build does not have it (yet)."""
        path = self.tools.get(name)
        return path if path is not None and path.is_file() else None

    def python_module(self, name: str) -> Path | None:
        """Path of a built extension module (sim/bindings), or None when this build has none."""
        path = self.python_modules.get(name)
        return path if path is not None and path.is_file() else None


def load_manifest(build_dir: Path) -> BuildManifest:
    path = build_dir / "attnsim-build.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(f"{path}: not found (configure and build first: "
                            f"scripts/attnsim build)") from None
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path}: invalid JSON: {error}") from None
    try:
        return BuildManifest(
            build_dir=build_dir, version=str(data["version"]),
            build_type=str(data["build_type"]), systemc=bool(data["systemc"]),
            verilator=bool(data["verilator"]), cuda=bool(data["cuda"]),
            tools={name: Path(p) for name, p in data["tools"].items()},
            # Manifests written before the bindings existed have no such entry.
            python_modules={name: Path(p)
                            for name, p in data.get("python_modules", {}).items()})
    except (KeyError, TypeError, AttributeError) as error:
        raise ManifestError(f"{path}: field {error}: expected the manifest CMake writes") from None
