"""Sweep specs: read a YAML file, check every field before anything runs, expand it into points.

A point is a plain dict (JSON-serialisable) holding everything its evaluator needs; its key is a
hash of that dict, so the same design evaluated twice has one key whatever order it ran in.
"""
from __future__ import annotations

import ast
import hashlib
import itertools
import json
import math
import re
import reprlib
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .. import REPO_ROOT
from ..errors import InputError

ACCEL_PRESET_DIR = REPO_ROOT / "sim" / "accel" / "presets"
GPU_PRESET_DIR = REPO_ROOT / "sim" / "gpu" / "presets"
EVALUATORS = ("spatten", "tilesim")
SAMPLING_METHODS = ("grid", "random", "lhs")
# tilesim parameters a spec may sweep: kernel overrides (tilesim's option names) plus the mask
# geometry that `masks:` templates take; "tile" is "QxKV" and sets tile_q and tile_kv together.
TILESIM_KERNEL_KEYS = ("tile_q", "tile_kv", "head_dim", "dtype", "gqa", "ctas_per_sm",
                       "scheduler")
TILESIM_RESULT_COLUMNS = (
    "batch", "heads", "seq_q", "seq_kv", "tiles_full", "tiles_partial", "tiles_empty_visited",
    "tiles_dense", "density_tokens", "density_tokens_exact", "density_tiles",
    "speedup_bound_flop", "speedup_bound_tiles", "speedup_bound_sched", "speedup_bound_worst_q",
    "predicted_ms",
    "predicted_dense_ms", "predicted_speedup", "makespan_us", "hbm_bytes", "hbm_us",
    "memory_bound", "work_items", "slots", "waves", "wave_efficiency", "tail_fraction")
# spatten-sim's stats.json fields under short names (the full flattened stats are kept too).
SPATTEN_HEADLINE = {
    "cycles": "cycles", "seconds": "seconds", "energy_j": "energy_j.total",
    "area_mm2": "area_mm2.total", "power_w": "power_w.total",
    "dram_bytes": "dram.transferred_bytes", "dram_reduction": "dram.reduction.total",
    "bandwidth_utilization": "dram.bandwidth_utilization",
    "ops_per_s": "ops.dense_equivalent_ops_per_s",
}
DERIVED_FUNCTIONS = {"min": min, "max": max, "abs": abs, "log": math.log, "log2": math.log2,
                     "sqrt": math.sqrt}
PLOT_KINDS = ("pareto", "heatmap", "scatter", "predicted_vs_measured")


# A spec expands to at most this many points (checked before any is made): a sweep larger
# than this is a typo (steps: 1e9) more often than a plan; split a real one into several specs.
MAX_POINTS = 200_000
# Values (mappings, lists, scalars) of a spec with its YAML aliases expanded: bounds an alias
# bomb before anything walks or prints it.
MAX_VALUES = 100_000


def _one_line(text: str) -> str:
    """Control and line-breaking characters (a key holding a newline) escaped: a message is one
    line whatever the spec holds."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


class SpecError(InputError):
    """An invalid spec; the message names the file, the key and what was expected."""

    def __init__(self, message: str):
        super().__init__(_one_line(message))
        parsed = InputError.from_message(str(self))
        self.file, self.field, self.expected, self.got = (parsed.file, parsed.field,
                                                          parsed.expected, parsed.got)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 3, 6, 6
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 80, 80, 40


def _short(value) -> str:
    """repr() of a spec value, bounded (a long string or list is cut with '...')."""
    try:
        return _SHORT.repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__}>"


@dataclass
class Parameter:
    name: str
    values: list | None = None       # explicit choices
    low: float | None = None         # or a range
    high: float | None = None
    steps: int | None = None         # grid points over the range
    log: bool = False
    integer: bool = False
    targets: list[str] = field(default_factory=list)  # what the value sets (default: name)


@dataclass
class Spec:
    source: Path
    name: str
    evaluator: str
    seed: int
    method: str
    samples: int | None
    parameters: list[Parameter]
    fixed_axes: dict[str, list]      # always crossed in full: workload, or gpu/kernel/mask
    settings: dict[str, Any]         # evaluator settings that are the same for every point
    derived: dict[str, str]
    objectives: dict[str, str]
    plots: list[dict]
    raw: dict = field(default_factory=dict)

    def resolved(self) -> dict:
        """The spec with every default filled in, as the run folder records it."""
        return {
            "name": self.name, "evaluator": self.evaluator, "seed": self.seed,
            "sampling": {"method": self.method, "samples": self.samples},
            "parameters": {p.name: {k: v for k, v in vars(p).items() if k != "name"}
                           for p in self.parameters},
            "fixed_axes": self.fixed_axes, "settings": self.settings, "derived": self.derived,
            "objectives": self.objectives, "plots": self.plots,
        }

    def hash(self) -> str:
        return hashlib.sha256(canonical_json(self.resolved()).encode()).hexdigest()[:12]


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def point_key(point: dict) -> str:
    return hashlib.sha256(canonical_json(point).encode()).hexdigest()[:20]


def column_name(parameter: str) -> str:
    """How a parameter or stats field is named in derived expressions ("hbm.channels" ->
    "hbm_channels")."""
    return re.sub(r"\W", "_", parameter)


def _line_of(node, key: str) -> int | None:
    """1-based line of the dotted `key` ("parameters.topk.lanes.values", "gpus[1]") in a composed
    YAML tree: of the deepest part found (a missing field points at its parent). Keys may hold
    dots themselves (spatten parameters): the longest matching key wins."""
    line, rest = None, key
    while node is not None and rest:
        if isinstance(node, yaml.MappingNode):
            best = None
            for k, v in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else None
                if name is not None and (rest == name or rest.startswith((name + ".", name + "["))):
                    if best is None or len(name) > len(best[0].value):
                        best = (k, v)
            if best is None:
                break
            line = best[0].start_mark.line + 1
            rest = rest[len(best[0].value):].lstrip(".")
            node = best[1]
        elif isinstance(node, yaml.SequenceNode):
            match = re.match(r"\[(\d+)\]\.?", rest)
            if not match or int(match.group(1)) >= len(node.value):
                break
            node = node.value[int(match.group(1))]
            line = node.start_mark.line + 1
            rest = rest[match.end():]
        else:
            break
    return line


def _reject_duplicate_keys(node, source: Path, path: str = "", active=None,
                           count=None) -> None:
    """PyYAML keeps the last of two equal keys; a spec says each thing once (as the C++ readers
    require), so a repeated key is an error naming both lines. Also refuses what aliases can
    build and nothing downstream can walk: a value that contains itself (`&a [*a]`), and more
    than MAX_VALUES values once aliases are expanded (an alias bomb)."""
    active = set() if active is None else active
    count = [0] if count is None else count
    count[0] += 1
    where = path or "(top level)"
    if count[0] > MAX_VALUES:
        raise SpecError(f"{source}:{node.start_mark.line + 1}: {where}: expected at most "
                        f"{MAX_VALUES} values with YAML aliases expanded, got more")
    if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        return
    if id(node) in active:
        raise SpecError(f"{source}:{node.start_mark.line + 1}: {where}: expected a value that "
                        "does not contain itself, got a recursive YAML alias")
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen = {}
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else None
            child = f"{path}.{name}" if path else str(name)
            if name is not None and name in seen:
                raise SpecError(f"{source}:{k.start_mark.line + 1}: {child}: expected each key "
                                f"once in a mapping, got a second {_short(name)} (the first is "
                                f"on line {seen[name]})")
            seen[name] = k.start_mark.line + 1
            _reject_duplicate_keys(k, source, child, active, count)
            _reject_duplicate_keys(v, source, child, active, count)
    else:
        for i, item in enumerate(node.value):
            _reject_duplicate_keys(item, source, f"{path}[{i}]", active, count)
    active.discard(id(node))


class _Reader:
    """Field access that names the file, the line (when the spec came from a file) and the dotted
    key in every error."""

    def __init__(self, source: Path, node=None):
        self.source = source
        self.node = node  # the composed YAML document, for line numbers

    def where(self, key: str) -> str:
        line = _line_of(self.node, key) if self.node is not None else None
        return f"{self.source}:{line}" if line else f"{self.source}"

    def fail(self, key: str, expected: str, got) -> SpecError:
        return SpecError(f"{self.where(key)}: {key}: expected {expected}, got {_short(got)}")

    def take(self, mapping: dict, key: str, prefix: str, kind, expected: str, default=...):
        if key not in mapping:
            if default is ...:
                raise SpecError(f"{self.where(prefix + key)}: {prefix}{key}: missing (expected "
                                f"{expected})")
            return default
        value = mapping[key]
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float, (int, float)))
        if not ok:
            raise self.fail(prefix + key, expected, value)
        return value


def load_spec(path: Path) -> Spec:
    path = Path(path)
    try:
        text = path.read_text()
        raw = yaml.safe_load(text)
        node = yaml.compose(text)
    except OSError as error:
        raise SpecError(f"{path}: not readable: {error.strerror}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else f"{path}"
        what = "; ".join(str(x) for x in (error.context, error.problem) if x)
        raise SpecError(f"{where}: not valid YAML: {what}") from None
    except yaml.YAMLError as error:  # a reader error (a character YAML does not allow)
        raise SpecError(f"{path}: not valid YAML: {error}") from None
    except UnicodeDecodeError as error:
        raise SpecError(f"{path}: not valid YAML: not UTF-8 ({error.reason} at byte "
                        f"{error.start})") from None
    except RecursionError:
        raise SpecError(f"{path}: not valid YAML: nested too deeply") from None
    except (ValueError, OverflowError) as error:  # a scalar PyYAML cannot build: 2024-13-45,
        raise SpecError(f"{path}: not valid YAML: {error}") from None  # 5,000-digit integers
    except Exception:  # noqa: BLE001
        # PyYAML's constructors fail in other ways on explicitly tagged text of another kind:
        # `!!int ""` (IndexError), `!!timestamp x` (AttributeError). Only the parser runs here.
        raise SpecError(f"{path}: not valid YAML: a value PyYAML cannot build (an explicit tag "
                        "such as !!int or !!timestamp on text of another kind)") from None
    _reject_duplicate_keys(node, path)
    return parse_spec(raw, path, node)


TOP_KEYS = {"name", "evaluator", "seed", "sampling", "parameters", "workloads", "base_config",
            "fast", "gpus", "kernels", "masks", "mode", "calibration", "derived", "objectives",
            "plots"}


def parse_spec(raw, source: Path, node=None) -> Spec:
    r = _Reader(source, node)
    if not isinstance(raw, dict):
        raise r.fail("(top level)", "a mapping", type(raw).__name__)
    for key in raw:
        if key not in TOP_KEYS:
            raise r.fail(str(key), "one of " + ", ".join(sorted(TOP_KEYS)), "unknown key")
    name = r.take(raw, "name", "", str, "a string", source.stem)
    if not _usable_name(name):
        raise r.fail("name", "a name for the run folder (1 to 100 printable characters, no '/'; "
                     "the spec file's stem when name: is absent)", name)
    evaluator = r.take(raw, "evaluator", "", str, "spatten or tilesim")
    if evaluator not in EVALUATORS:
        raise r.fail("evaluator", " or ".join(EVALUATORS), evaluator)
    seed = r.take(raw, "seed", "", int, "an integer", 0)
    if seed < 0:
        raise r.fail("seed", "a non-negative integer", seed)
    sampling = r.take(raw, "sampling", "", dict, "a mapping", {})
    for key in sampling:
        if key not in ("method", "samples"):
            raise r.fail(f"sampling.{key}", "method or samples", "unknown key")
    method = r.take(sampling, "method", "sampling.", str, "grid, random or lhs", "grid")
    if method not in SAMPLING_METHODS:
        raise r.fail("sampling.method", "grid, random or lhs", method)
    samples = r.take(sampling, "samples", "sampling.", int, "a positive integer", None)
    if method == "grid" and samples is not None:
        raise r.fail("sampling.samples", "no samples with method grid", samples)
    if method != "grid" and (samples is None or samples < 1):
        raise r.fail("sampling.samples", f"a positive integer with method {method}", samples)
    if samples is not None and samples > MAX_POINTS:
        raise r.fail("sampling.samples", f"at most {MAX_POINTS}", samples)

    raw_params = r.take(raw, "parameters", "", dict, "a mapping of parameter name to values",
                        {})
    parameters = [_parameter(r, name_, body, method) for name_, body in raw_params.items()]

    if evaluator == "spatten":
        fixed_axes, settings = _spatten_settings(r, raw, parameters)
    else:
        fixed_axes, settings = _tilesim_settings(r, raw, parameters)

    known = _known_columns(evaluator, parameters, fixed_axes)
    derived_raw = r.take(raw, "derived", "", dict, "a mapping of column name to expression", {})
    derived = {}
    for column, expression in derived_raw.items():
        if not isinstance(expression, str):
            raise r.fail(f"derived.{column}", "an expression string", expression)
        _check_expression(r, f"derived.{column}", expression, known)
        derived[str(column)] = expression
        known.add(str(column))

    objectives_raw = r.take(raw, "objectives", "", dict, "a mapping of column to min or max", {})
    objectives = {}
    for column, sense in objectives_raw.items():
        if column not in known:
            raise r.fail(f"objectives.{column}", "a result, parameter or derived column",
                         column)
        if sense not in ("min", "max"):
            raise r.fail(f"objectives.{column}", "min or max", sense)
        objectives[str(column)] = sense

    plots = []
    for i, plot in enumerate(r.take(raw, "plots", "", list, "a list of plots", [])):
        plots.append(_plot(r, f"plots[{i}]", plot, known, objectives))
        if any(other["name"] == plots[-1]["name"] for other in plots[:-1]):
            raise r.fail(f"plots[{i}]", "a name of its own (two plots would write one file: "
                         "add name: to one)", plots[-1]["name"])

    spec = Spec(source=source, name=name, evaluator=evaluator, seed=seed, method=method,
                samples=samples, parameters=parameters, fixed_axes=fixed_axes,
                settings=settings, derived=derived, objectives=objectives, plots=plots, raw=raw)
    count = count_points(spec)
    if count > MAX_POINTS:
        what = "parameters" if method == "grid" else "sampling.samples"
        raise r.fail(what, f"a sweep of at most {MAX_POINTS} points (split a larger one into "
                     "several specs)", f"{count} points with the fixed axes "
                     f"({', '.join(f'{k}: {len(v)}' for k, v in fixed_axes.items())})")
    if not expand_points(spec):
        raise SpecError(f"{source}: the spec expands to no points")
    return spec


def count_points(spec: Spec) -> int:
    """How many points the sweep has at most (before duplicates are dropped), without making
    them."""
    if spec.method == "grid":
        count = math.prod(len(p.values) if p.values is not None else p.steps
                          for p in spec.parameters)
    else:
        count = spec.samples if spec.parameters else 1
    return count * math.prod(len(axis) for axis in spec.fixed_axes.values())


def _parameter(r: _Reader, name: str, body, method: str) -> Parameter:
    key = f"parameters.{name}"
    if not isinstance(body, dict):
        raise r.fail(key, "a mapping with values: [...] or range: [low, high]", body)
    for k in body:
        if k not in ("values", "range", "steps", "log", "type", "set"):
            raise r.fail(f"{key}.{k}", "values, range, steps, log, type or set", "unknown key")
    p = Parameter(name=str(name))
    targets = body.get("set", [str(name)])
    if isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise r.fail(f"{key}.set", "a config key or a non-empty list of them", targets)
    p.targets = targets
    if "values" in body:
        if "range" in body:
            raise r.fail(key, "either values or range, not both", "both")
        values = body["values"]
        if not isinstance(values, list) or not values:
            raise r.fail(f"{key}.values", "a non-empty list", values)
        for v in values:
            if not isinstance(v, (int, float, str, bool)):
                raise r.fail(f"{key}.values", "numbers, strings or booleans", v)
        p.values = values
        return p
    if "range" not in body:
        raise r.fail(key, "values: [...] or range: [low, high]", "neither")
    rng = body["range"]
    if (not isinstance(rng, list) or len(rng) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in rng)):
        raise r.fail(f"{key}.range", "[low, high] numbers", rng)
    try:
        p.low, p.high = float(rng[0]), float(rng[1])
    except OverflowError:
        raise r.fail(f"{key}.range", "finite numbers", rng) from None
    if not all(math.isfinite(x) for x in (p.low, p.high, p.high - p.low)):
        raise r.fail(f"{key}.range", "finite numbers (and a finite high - low)", rng)
    if not p.low < p.high:
        raise r.fail(f"{key}.range", "low < high (a non-empty range)", rng)
    kind = body.get("type", "int" if all(isinstance(x, int) for x in rng) else "float")
    if kind not in ("int", "float"):
        raise r.fail(f"{key}.type", "int or float", kind)
    p.integer = kind == "int"
    p.log = body.get("log", False)
    if not isinstance(p.log, bool):
        raise r.fail(f"{key}.log", "true or false", p.log)
    if p.log and p.low <= 0:
        raise r.fail(f"{key}.range", "a positive low bound with log: true", rng)
    if method == "grid":
        steps = body.get("steps")
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise r.fail(f"{key}.steps", "a positive integer (a grid over a range needs steps)",
                         steps)
        if steps > MAX_POINTS:
            raise r.fail(f"{key}.steps", f"at most {MAX_POINTS}", steps)
        p.steps = steps
    elif "steps" in body:
        raise r.fail(f"{key}.steps", f"no steps with sampling method {method}", body["steps"])
    return p


def _accel_preset(name: str, depth: int = 0) -> dict:
    """The preset's fields with its inherits chain applied (to check keys and types). Raises
    OSError, yaml.YAMLError or ValueError for a file that is not a usable preset."""
    path = ACCEL_PRESET_DIR / f"{name}.yaml" if not name.endswith(".yaml") else Path(name)
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a mapping")
    parent = data.pop("inherits", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or depth > 8:
        raise ValueError(f"{path}: inherits: not a preset name, or a chain deeper than 8")
    base = _accel_preset(parent, depth + 1)
    _merge(base, data)
    return base


def _merge(base: dict, override: dict) -> None:
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v


def _lookup(config: dict, dotted: str):
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return ...
        node = node[part]
    return node


def _spatten_settings(r: _Reader, raw: dict, parameters: list[Parameter]):
    for key in ("gpus", "kernels", "masks", "mode", "calibration"):
        if key in raw:
            raise r.fail(key, "no tilesim keys with evaluator spatten", "a tilesim key")
    base = r.take(raw, "base_config", "", str, "a spatten-sim preset name or YAML path",
                  "spatten")
    if base.endswith(".yaml"):
        base_path = _resolve_path(r.source, base)
        if base_path is None:
            raise r.fail("base_config", "an existing YAML file", base)
        base = str(base_path)
    try:
        preset = _accel_preset(base)
    except (OSError, yaml.YAMLError, ValueError):
        raise r.fail("base_config", "a preset in sim/accel/presets or a readable YAML file",
                     base) from None
    for p in parameters:
        for target in p.targets:
            current = _lookup(preset, target)
            where = f"parameters.{p.name}" + (".set" if target != p.name else "")
            if current is ... or isinstance(current, (dict, list)):
                raise r.fail(where, "a spatten-sim config key holding a number, string or "
                             "boolean (see sim/accel/presets/spatten.yaml)", target)
            for value in (p.values or [p.low, p.high]):
                if not _same_kind(current, value):
                    raise r.fail(f"parameters.{p.name}",
                                 f"values of {target}'s type ({type(current).__name__})", value)
            if p.values is None and isinstance(current, int) and not p.integer:
                raise r.fail(f"parameters.{p.name}.type", f"int ({target} is an integer)",
                             "float")
    workloads = r.take(raw, "workloads", "", list, "a non-empty list of workload files")
    if not workloads:
        raise r.fail("workloads", "a non-empty list of workload files", workloads)
    resolved = []
    for i, w in enumerate(workloads):
        path = _resolve_path(r.source, w) if isinstance(w, str) else None
        if path is None:
            raise r.fail(f"workloads[{i}]", "an existing workload file (CSV or .npz), relative "
                         "to the repository root or the spec", w)
        resolved.append(_display_path(path))
    fast = r.take(raw, "fast", "", bool, "true or false", False)
    return {"workload": resolved}, {"base_config": _display_path(Path(base)) if
                                     base.endswith(".yaml") else base, "fast": fast}


def _same_kind(current, value) -> bool:
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, int):
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(current, float):
        return isinstance(value, (int, float))
    return isinstance(value, str)


def _tilesim_settings(r: _Reader, raw: dict, parameters: list[Parameter]):
    for key in ("workloads", "base_config", "fast"):
        if key in raw:
            raise r.fail(key, "no spatten keys with evaluator tilesim", "a spatten key")
    gpus = r.take(raw, "gpus", "", list, "a non-empty list of GPU presets", ["h200"])
    kernels = r.take(raw, "kernels", "", list, "a non-empty list of kernel presets",
                     ["flexattention"])
    for key, items in (("gpus", gpus), ("kernels", kernels)):
        if not items or not all(isinstance(x, str) for x in items):
            raise r.fail(key, "a non-empty list of preset names", items)
        _check_presets(r, key, items)
    masks = r.take(raw, "masks", "", dict,
                   "a mapping of mask name to 'pattern:...' template or mask file")
    if not masks:
        raise r.fail("masks", "at least one mask", masks)
    mode = r.take(raw, "mode", "", str, "bounds or predict", "predict")
    if mode not in ("bounds", "predict"):
        raise r.fail("mode", "bounds or predict", mode)
    calibration = r.take(raw, "calibration", "", str, "a calibration JSON file", "")
    if calibration:
        path = _resolve_path(r.source, calibration)
        if path is None:
            raise r.fail("calibration", "an existing calibration JSON", calibration)
        calibration = _display_path(path)
    names = {p.name for p in parameters}
    used = set()  # the fields of the masks templates
    for mask_name, template in masks.items():
        if not isinstance(template, str):
            raise r.fail(f"masks.{mask_name}", "a 'pattern:...' string or a mask file", template)
        used |= _check_template(r, f"masks.{mask_name}", template, names)
    for p in parameters:
        allowed = set(TILESIM_KERNEL_KEYS) | {"tile"}
        for target in p.targets:
            if target not in allowed and target not in used:
                raise r.fail(f"parameters.{p.name}", "a kernel override (" +
                             ", ".join(TILESIM_KERNEL_KEYS) + ", tile as QxKV) or a field "
                             "used in a masks template", target)
            if target == "tile":
                for v in p.values or [None]:
                    if not isinstance(v, str) or not re.fullmatch(r"\d+x\d+", v):
                        raise r.fail(f"parameters.{p.name}.values", "tile shapes like 128x64",
                                     v)
    resolved_masks = {}
    for mask_name, template in masks.items():
        if not template.startswith("pattern:"):
            path = _resolve_path(r.source, template)
            if path is None:
                raise r.fail(f"masks.{mask_name}", "an existing mask file or 'pattern:...'",
                             template)
            template = str(path)
        resolved_masks[str(mask_name)] = template
    fixed = {"gpu": gpus, "kernel": kernels, "mask": list(resolved_masks)}
    return fixed, {"mode": mode, "calibration": calibration, "masks": resolved_masks}


# What may follow a template field's ':' ("{density:.2f}"): fill, align, sign, width and
# precision of at most two digits, a type. A width of 10**9 would build a gigabyte per point.
_FORMAT_SPEC = re.compile(r"(.?[<>=^])?[+\- ]?#?0?\d{0,2}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?")


def _check_template(r: _Reader, key: str, template: str, names: set) -> set:
    """A masks template's {fields} are parameters, used as plain {name} or {name:format}.
    Returns the names used."""
    try:
        fields = [f for f in string.Formatter().parse(template) if f[1] is not None]
    except ValueError:  # a lone '{' or '}'
        raise r.fail(key, "a template with balanced braces ('{{' for a literal brace)",
                     template) from None
    for _, field_name, format_spec, conversion in fields:
        if not re.fullmatch(r"\w+", field_name):
            raise r.fail(key, "template fields that name a parameter ({name} or "
                         "{name:format})", template)
        if field_name not in names:
            raise r.fail(key, f"a parameter named '{field_name}' (templates may use parameters "
                         "only)", template)
        if conversion is not None or not _FORMAT_SPEC.fullmatch(format_spec or ""):
            raise r.fail(key, "a field {name} or {name:format} with a format such as .2f",
                         template)
    return {field_name for _, field_name, _, _ in fields}


def _check_presets(r: _Reader, key: str, names: list[str]) -> None:
    """Each entry of gpus/kernels names a shipped preset, or a YAML file as tilesim reads it (a
    path: it holds a '/' or ends in .yaml), so a typo fails here and not as every point."""
    kind = key  # "gpus" or "kernels": the preset folder
    known = sorted(p.stem for p in (GPU_PRESET_DIR / kind).glob("*.yaml"))
    for i, name in enumerate(names):
        if "/" in name or name.endswith(".yaml"):
            if not _is_file(Path(name)):
                raise r.fail(f"{key}[{i}]", f"an existing {kind[:-1]} YAML file", name)
        elif name not in known:
            raise r.fail(f"{key}[{i}]", f"a {kind[:-1]} preset ({', '.join(known)})", name)


def _is_file(path: Path) -> bool:
    """is_file() that treats a name the file system refuses (too long, NUL) as no file."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _usable_name(name) -> bool:
    """A spec or plot name that can be part of a file name (dse-<name>-<hash>, <name>.png)."""
    return (isinstance(name, str) and 0 < len(name) <= 100 and name.isprintable()
            and "/" not in name and name not in (".", ".."))


def _resolve_path(spec_path: Path, name: str) -> Path | None:
    if not isinstance(name, str):
        return None
    for base in (REPO_ROOT, spec_path.parent):
        try:
            candidate = (base / name).resolve()
        except (OSError, ValueError, RuntimeError):  # NUL in the name, a symlink loop
            continue
        if _is_file(candidate):
            return candidate
    return None


def _display_path(path: Path) -> str:
    """Repository-relative when inside the repository, so point keys do not depend on where
    the checkout lives."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path.resolve())


def _known_columns(evaluator: str, parameters: list[Parameter], fixed_axes: dict) -> set:
    columns = {column_name(p.name) for p in parameters} | {p.name for p in parameters}
    columns |= set(fixed_axes)
    if evaluator == "spatten":
        columns |= set(SPATTEN_HEADLINE)
    else:
        columns |= set(TILESIM_RESULT_COLUMNS)
    return columns


def _check_expression(r: _Reader, key: str, expression: str, known: set) -> None:
    if len(expression) > 1000:
        raise r.fail(key, "an expression of at most 1000 characters", expression)
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # NUL, nesting too deep
        raise r.fail(key, "an arithmetic expression over result columns", expression) from None
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
               ast.Call, ast.operator, ast.unaryop)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Constant) and (
                not isinstance(node.value, (int, float)) or isinstance(node.value, bool))):
            raise r.fail(key, "arithmetic (+ - * / ** and min, max, abs, log, log2, sqrt)",
                         expression)
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name)
                                               and node.func.id in DERIVED_FUNCTIONS):
            raise r.fail(key, "calls of " + ", ".join(DERIVED_FUNCTIONS), expression)
        if isinstance(node, ast.Name) and node.id not in known | set(DERIVED_FUNCTIONS):
            raise r.fail(key, "columns among " + ", ".join(sorted(known)), node.id)


def evaluate_expression(expression: str, row: dict) -> float:
    """A derived column on one result row; NaN when an input is missing or the maths fails."""
    # In floats, numbers and constants alike: `cycles ** cycles ** 2` or `10 ** 10 ** 10` in
    # Python integers would compute for hours; in floats they overflow (NaN) at once.
    namespace = {column_name(k): float(v) if isinstance(v, (int, float)) else v
                 for k, v in row.items()}
    try:
        tree = ast.parse(expression, mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
                node.value = float(node.value)
        value = eval(compile(tree, "<derived>", "eval"),  # noqa: S307 (checked AST)
                     {"__builtins__": {}, **DERIVED_FUNCTIONS}, namespace)
        return float(value)
    except (NameError, TypeError, ValueError, ZeroDivisionError, OverflowError, SyntaxError,
            RecursionError, MemoryError):
        return float("nan")


def _plot(r: _Reader, key: str, plot, known: set, objectives: dict) -> dict:
    if not isinstance(plot, dict) or plot.get("kind") not in PLOT_KINDS:
        raise r.fail(f"{key}.kind", " or ".join(PLOT_KINDS), plot)
    kind = plot["kind"]
    needs = {"pareto": ("x", "y"), "heatmap": ("x", "y", "value"), "scatter": ("x", "y"),
             "predicted_vs_measured": ()}[kind]
    optional = {"pareto": ("color",), "heatmap": ("facet",), "scatter": ("color",),
                "predicted_vs_measured": ("validation_csv",)}[kind]
    for k in plot:
        if k not in ("kind", "name") + needs + optional:
            raise r.fail(f"{key}.{k}", "one of " + ", ".join(("kind", "name") + needs + optional),
                         "unknown key")
    for k in needs + optional:
        if k in plot and k != "validation_csv" and str(plot[k]) not in known:
            raise r.fail(f"{key}.{k}", "a result, parameter or derived column", plot[k])
        if k in needs and k not in plot:
            raise r.fail(f"{key}.{k}", "a column name", "missing")
    if kind == "pareto":
        # A front trades off costs; a property of the input (a mask's density) is not one.
        for k in ("x", "y"):
            if str(plot[k]) not in objectives:
                raise r.fail(f"{key}.{k}", "an objective (a Pareto front is over costs: add it "
                             "to objectives with min or max, or use kind: scatter)", plot[k])
    if "name" in plot and not _usable_name(plot["name"]):
        raise r.fail(f"{key}.name", "a name for the plot file (1 to 100 printable characters, "
                     "no '/')", plot["name"])
    # Columns by name (a parameter named 5 is the column "5"): what the table and JSON hold.
    resolved = {k: str(v) if k in needs + optional else v for k, v in plot.items()}
    if kind == "pareto":
        resolved["x_sense"] = objectives.get(resolved["x"], "min")
        resolved["y_sense"] = objectives.get(resolved["y"], "min")
    resolved.setdefault("name", f"{kind}-" + "-".join(resolved[k] for k in needs) if needs
                        else kind)
    if kind == "predicted_vs_measured":
        csv = plot.get("validation_csv",
                       "golden/results/h200/2026-11-23-dataset/validation/validation.csv")
        path = _resolve_path(r.source, csv)
        if path is None:
            raise r.fail(f"{key}.validation_csv", "an existing validation CSV", csv)
        resolved["validation_csv"] = _display_path(path)
    return resolved


# ---- expansion into points

def _parameter_grid(p: Parameter) -> list:
    if p.values is not None:
        return list(p.values)
    if p.log:
        values = np.geomspace(p.low, p.high, p.steps)
    else:
        values = np.linspace(p.low, p.high, p.steps)
    return [int(round(v)) for v in values] if p.integer else [float(v) for v in values]


def _from_unit(p: Parameter, u: float):
    """Maps u in [0, 1) to a value of `p` (a choice, or a point of its range)."""
    if p.values is not None:
        return p.values[min(int(u * len(p.values)), len(p.values) - 1)]
    if p.log:
        value = math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
    else:
        value = p.low + u * (p.high - p.low)
    return int(round(value)) if p.integer else float(value)


def sample_parameters(spec: Spec) -> list[dict]:
    """Parameter assignments in a deterministic order (for a seed)."""
    params = spec.parameters
    if not params:
        return [{}]
    if spec.method == "grid":
        grids = [_parameter_grid(p) for p in params]
        return [dict(zip((p.name for p in params), combo)) for combo in itertools.product(*grids)]
    rng = np.random.Generator(np.random.PCG64(spec.seed))
    n = spec.samples
    if spec.method == "random":
        units = rng.random((n, len(params)))
    else:  # Latin hypercube: one sample in each of n strata per parameter, strata shuffled
        units = np.empty((n, len(params)))
        for j in range(len(params)):
            units[:, j] = (rng.permutation(n) + rng.random(n)) / n
    return [{p.name: _from_unit(p, float(units[i, j])) for j, p in enumerate(params)}
            for i in range(n)]


def expand_points(spec: Spec) -> list[dict]:
    """Every point of the sweep: sampled parameters x the fixed axes. Duplicates (a grid over
    few choices sampled at random) are kept once."""
    points, seen = [], set()
    axes = list(spec.fixed_axes)
    for assignment in sample_parameters(spec):
        for combo in itertools.product(*(spec.fixed_axes[a] for a in axes)):
            point = {"evaluator": spec.evaluator, "params": assignment,
                     **dict(zip(axes, combo)),
                     **_point_settings(spec, dict(zip(axes, combo)), assignment)}
            key = point_key(point)
            if key not in seen:
                seen.add(key)
                points.append(point)
    return points


def _point_settings(spec: Spec, axes: dict, assignment: dict) -> dict:
    """What the evaluator runs: config keys or kernel overrides set from the parameters."""
    targets = {}
    for p in spec.parameters:
        for target in p.targets:
            targets[target] = assignment[p.name]
    if spec.evaluator == "spatten":
        return {**spec.settings, "config": targets}
    overrides = {k: v for k, v in targets.items() if k in TILESIM_KERNEL_KEYS}
    if "tile" in targets:
        tile_q, tile_kv = str(targets["tile"]).split("x")
        overrides.update(tile_q=int(tile_q), tile_kv=int(tile_kv))
    # A point carries only its own mask, so its key does not change when another mask is added
    # to the spec.
    template = spec.settings["masks"][axes["mask"]]
    try:
        mask = template.format(**{**targets, **assignment})
    except (ValueError, TypeError, OverflowError) as error:  # "{seq:.2f}" of a string value
        raise SpecError(f"{spec.source}: masks.{axes['mask']}: expected a template whose "
                        f"formats fit the parameter values ({error}), got "
                        f"{_short(template)}") from None
    return {"mode": spec.settings["mode"], "calibration": spec.settings["calibration"],
            "overrides": overrides, "mask_argument": mask}
