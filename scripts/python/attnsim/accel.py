"""spatten-sim from Python: one run, its stats as a typed result.

    import attnsim.accel
    r = attnsim.accel.run("traces/spatten/summary-gpt2-small-wikitext2-per8.csv", fast=True)
    print(r.cycles, r.seconds, r.energy_j["total"], r.to_dict())

SystemC elaborates once per process, so each run is a spatten-sim process (about 0.2 s for
GPT-2 small); its stats.json is what SimResult holds (`to_dict()` equals it). The tool is found
as the installed copy beside this package (<prefix>/bin), the build $ATTNSIM_BUILD_DIR names,
this checkout's build/default, or PATH. Bad input raises attnsim.errors.InputError.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from . import native
from .errors import InputError

__all__ = ["SimResult", "run", "find_tool"]


@dataclass
class SimResult:
    """The fields of spatten-sim's stats.json, by name (nested groups stay dicts)."""
    workload: str = ""
    workload_kind: str = ""
    config: str = ""
    cycles: int = 0
    seconds: float = 0.0
    head_steps: int = 0
    requant_head_steps: int = 0
    dram: dict = field(default_factory=dict)
    utilization: dict = field(default_factory=dict)
    topk: dict = field(default_factory=dict)
    fetch_issue_stall_cycles: int = 0
    key_buffer_peak_head_steps: int = 0
    value_buffer_peak_head_steps: int = 0
    ops: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)
    energy_j: dict = field(default_factory=dict)
    power_w: dict = field(default_factory=dict)
    area_mm2: dict = field(default_factory=dict)
    analytical: dict = field(default_factory=dict)
    #: The fully resolved config the run used (the run folder's config.yaml).
    resolved_config: dict = field(default_factory=dict, repr=False, compare=False,
                                  metadata={"json": False})
    #: stats.json fields this version of the class does not know yet, kept as they are.
    extra: dict = field(default_factory=dict, repr=False, compare=False, metadata={"json": False})

    @classmethod
    def from_dict(cls, stats: Mapping[str, Any], resolved_config: Mapping | None = None
                  ) -> "SimResult":
        known = {f.name for f in fields(cls) if f.metadata.get("json", True)}
        result = cls(**{k: v for k, v in stats.items() if k in known})
        result.extra = {k: v for k, v in stats.items() if k not in known}
        result.resolved_config = dict(resolved_config or {})
        result._order = list(stats)
        return result

    def to_dict(self) -> dict[str, Any]:
        """stats.json: same keys, same order, same values."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("json", True)}
        out.update(self.extra)
        order = getattr(self, "_order", None)
        if order and set(order) == set(out):
            out = {k: out[k] for k in order}
        return out


def find_tool(name: str = "spatten-sim") -> Path:
    # Installed: <prefix>/lib/python3.X/{dist,site}-packages/attnsim -> <prefix>/bin.
    candidates = [native.PACKAGE_DIR.parents[3] / "bin" / name]
    from .build_manifest import ManifestError, load_manifest
    for build_dir in native._build_dirs():
        try:
            path = load_manifest(build_dir).tool(name)
        except ManifestError:
            continue
        if path is not None:
            candidates.append(path)
    which = shutil.which(name)
    if which:
        candidates.append(Path(which))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f"{name} not found (looked beside the package, in the build "
                            "$ATTNSIM_BUILD_DIR names or build/default, and on PATH): build it "
                            "(scripts/attnsim build; needs libsystemc-dev)")


def run(workload, config="spatten", *, fast: bool = False, queries_per_head_step: int = 1,
        ignore_quantization: bool = False, topk_engine: str = "behavioural",
        preset_dir=None, spatten_sim=None, timeout_s: float | None = None) -> SimResult:
    """Simulates `workload` (a SpAtten workload CSV or an attention-trace .npz) on `config`: a
    preset name, a YAML path, or a dict of config fields (with `inherits:` a preset)."""
    tool = Path(spatten_sim) if spatten_sim else find_tool("spatten-sim")
    with tempfile.TemporaryDirectory(prefix="attnsim-accel-") as scratch:
        scratch = Path(scratch)
        renames = {"--preset: ": "config argument: "}
        if isinstance(config, Mapping):
            path = scratch / f"{config.get('name', 'custom')}.yaml"
            path.write_text(json.dumps(dict(config)))  # JSON is YAML
            renames[str(path)] = "config dict"
            config = str(path)
        args = [str(tool), os.fspath(workload), "--preset", os.fspath(config),
                "--out", str(scratch / "run"), "--no-report", "--format", "json",
                "--queries-per-head-step", str(queries_per_head_step),
                "--topk-engine", topk_engine]
        if fast:
            args.append("--fast")
        if ignore_quantization:
            args.append("--ignore-quantization")
        if preset_dir is not None:
            args += ["--preset-dir", os.fspath(preset_dir)]
        env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout_s)
        if done.returncode == 2:  # bad input: the message names file, field and expected
            text = done.stderr.strip().removeprefix("spatten-sim: error: ")
            raise InputError.from_message(text, renames)
        if done.returncode != 0:
            raise RuntimeError(f"spatten-sim exited {done.returncode}: {done.stderr.strip()}")
        stats = json.loads((scratch / "run" / "stats.json").read_text())
        resolved = json.loads((scratch / "run" / "config.yaml").read_text())
    return SimResult.from_dict(stats, resolved)
