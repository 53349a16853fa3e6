"""Evaluating one point: tilesim in-process through attnsim_native (microseconds to milliseconds),
or through the tilesim CLI (for comparison); spatten-sim through its CLI, one process per point,
because SystemC elaborates only once per process.

Every evaluator returns a flat dict of scalar metrics or raises; `evaluate_point` turns an
exception into a failed record, so one bad point never stops a sweep.
"""
from __future__ import annotations

import functools
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import REPO_ROOT
from ..build_manifest import ManifestError, load_manifest
from .spec import SPATTEN_HEADLINE


class EvaluationError(Exception):
    """A point that could not be evaluated; the message says why."""


@dataclass(frozen=True)
class Context:
    """What a worker needs besides the point: where the build is. Never part of a point key."""
    build_dir: str
    tilesim_via_cli: bool = False
    timeout_s: float = 600.0


def _manifest(build_dir: str):
    try:
        return load_manifest(Path(build_dir))
    except ManifestError as error:
        raise EvaluationError(str(error)) from None


@functools.lru_cache(maxsize=4)
def native_module(build_dir: str):
    """attnsim_native from the build the manifest describes (imported once per process)."""
    path = _manifest(build_dir).python_module("attnsim_native")
    if path is None:
        raise EvaluationError(f"{build_dir}: this build has no attnsim_native module "
                              "(pybind11-dev missing, or a sanitize build)")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    return importlib.import_module("attnsim_native")


def _tool(build_dir: str, name: str) -> Path:
    path = _manifest(build_dir).tool(name)
    if path is None:
        raise EvaluationError(f"{build_dir}: this build has no {name}")
    return path


def flatten(value, prefix: str = "") -> dict:
    """Scalar leaves of nested dicts as "a.b.c" keys; lists are left out."""
    flat = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flat.update(flatten(item, name + "."))
        elif not isinstance(item, list):
            flat[name] = item
    return flat


def _nested(dotted: dict) -> dict:
    tree: dict = {}
    for key, value in dotted.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


# ---- spatten-sim (CLI)

def spatten_config_text(point: dict) -> str:
    base = point["base_config"]
    if base.endswith(".yaml"):
        base = str((REPO_ROOT / base).resolve())
    return yaml.safe_dump({"inherits": base, **_nested(point["config"])}, sort_keys=True)


def evaluate_spatten(point: dict, context: Context) -> dict:
    tool = _tool(context.build_dir, "spatten-sim")
    with tempfile.TemporaryDirectory(prefix="attnsim-dse-") as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(spatten_config_text(point))
        # A scratch run folder, read for stats.json and deleted: no report.html to draw.
        command = [str(tool), "--preset", str(config), "--out", str(Path(tmp) / "run"),
                   "--no-report"]
        if point.get("fast"):
            command.append("--fast")
        command.append(str((REPO_ROOT / point["workload"]).resolve()))
        env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
        try:
            run = subprocess.run(command, capture_output=True, text=True, env=env,
                                 timeout=context.timeout_s)
        except subprocess.TimeoutExpired:
            raise EvaluationError(f"spatten-sim ran past {context.timeout_s} s") from None
        if run.returncode != 0:
            message = run.stderr.strip().splitlines()
            raise EvaluationError(f"spatten-sim exit {run.returncode}: "
                                  + (message[-1] if message else "no message"))
        stats = json.loads((Path(tmp) / "run" / "stats.json").read_text())
    flat = flatten(stats)
    metrics = {short: flat[field] for short, field in SPATTEN_HEADLINE.items() if field in flat}
    metrics.update({f"stats.{k}": v for k, v in flat.items()
                    if k not in ("workload", "config", "workload_kind")})
    return metrics


# ---- tilesim (in-process, or the CLI)

@functools.lru_cache(maxsize=32)
def _cached_mask(build_dir: str, argument: str):
    # Generating a mask costs more than simulating it; a sweep visits one mask under many
    # kernels, tiles and schedulers, so each worker keeps the last few.
    return native_module(build_dir).load_mask(argument)


def evaluate_tilesim_native(point: dict, context: Context) -> dict:
    native = native_module(context.build_dir)
    try:
        mask = _cached_mask(context.build_dir, point["mask_argument"])
        text = native.simulate(mask, point["gpu"], point["kernel"], dict(point["overrides"]),
                               point["mode"] == "predict", _calibration(point), [])
    except ValueError as error:  # attnsim_native.InputError
        raise EvaluationError(str(error)) from None
    return _tilesim_metrics(json.loads(text))


def tilesim_cli_command(point: dict, tool: Path) -> list[str]:
    command = [str(tool), point["mode"], point["mask_argument"], "--gpu", point["gpu"],
               "--kernel", point["kernel"]]
    names = {"gqa": "--gqa"}
    for key, value in sorted(point["overrides"].items()):
        command += [names.get(key, "--" + key.replace("_", "-")), str(value)]
    if point["mode"] == "predict" and point["calibration"]:
        command += ["--calibration", _calibration(point)]
    return command


def evaluate_tilesim_cli(point: dict, context: Context) -> dict:
    command = tilesim_cli_command(point, _tool(context.build_dir, "tilesim"))
    run = subprocess.run(command, capture_output=True, text=True, timeout=context.timeout_s)
    if run.returncode != 0:
        raise EvaluationError(f"tilesim exit {run.returncode}: {run.stderr.strip()}")
    return _tilesim_metrics(json.loads(run.stdout)["results"][0])


def _calibration(point: dict) -> str:
    return str((REPO_ROOT / point["calibration"]).resolve()) if point["calibration"] else ""


def _tilesim_metrics(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "mask"}


# ---- dispatch

def evaluate(point: dict, context: Context) -> dict:
    if point["evaluator"] == "spatten":
        return evaluate_spatten(point, context)
    if point["evaluator"] == "tilesim":
        if context.tilesim_via_cli:
            return evaluate_tilesim_cli(point, context)
        return evaluate_tilesim_native(point, context)
    raise EvaluationError(f"unknown evaluator {point['evaluator']!r}")


def evaluate_point(key: str, point: dict, context: Context) -> dict:
    """A record for the store; never raises, so a bad point is recorded and the sweep goes on."""
    start = time.perf_counter()
    record = {"key": key, "status": "ok", "error": None, "result": None}
    try:
        record["result"] = evaluate(point, context)
    except EvaluationError as error:
        record.update(status="failed", error=str(error))
    except Exception as error:  # noqa: BLE001 (a bug in one point must not stop the sweep)
        record.update(status="failed", error=f"{type(error).__name__}: {error}\n"
                      + traceback.format_exc(limit=3))
    record["seconds"] = time.perf_counter() - start
    record["worker"] = f"{os.uname().nodename}:{os.getpid()}"
    return record


def evaluate_batch(items: list[tuple[str, dict]], context: Context) -> list[dict]:
    """Records of several points: one Dask task for many millisecond points, whose per-task
    overhead (several ms) would otherwise dominate."""
    return [evaluate_point(key, point, context) for key, point in items]
