"""tilesim in Python: bounds, predictions and calibrations as typed results, masks from memory.

    import attnsim.gpu
    r = attnsim.gpu.predict(block_mask, gpu="h200", kernel="flexattention")
    print(r.predicted_ms, r.predicted_speedup, r.to_dict())

A mask is a FlexAttention BlockMask (or any object with its attributes kv_num_blocks,
kv_indices, full_kv_num_blocks, full_kv_indices, BLOCK_SIZE, seq_lengths; torch tensors or NumPy
arrays; torch is never imported here), a dict of arrays in either .npz layout tilesim reads, a
NumPy array of block classes, a path (.npz/.npy) or an inline 'pattern:NAME,key=value' string.
The gpu and kernel are preset names, YAML paths, or dicts of preset fields; the calibration a
name (sim/gpu/calibrations), a path, a dict or a Calibration. The numbers are tilesim's own:
the same C++ functions and the same JSON (`to_dict()` equals `tilesim predict --format json`'s
"results" entry). Bad input raises attnsim.errors.InputError (a ValueError with file, field,
expected).
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import native
from .errors import CLI_OPTION_NAMES, InputError

__all__ = ["TileResult", "Timeline", "Calibration", "InputError", "bounds", "predict",
           "calibrate", "load_mask", "blockmask_arrays"]

#: FlexAttention BlockMask attributes tilesim reads (BLOCK_SIZE and seq_lengths: tuples of ints
#: in torch 2.11, tensors or ints in some older versions; all accepted).
BLOCKMASK_ARRAYS = ("kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices")
BLOCKMASK_SHAPES = ("BLOCK_SIZE", "seq_lengths")


# ---- results -----------------------------------------------------------------------------------

def _json_field(default=None, *, predict_only: bool = False):
    return field(default=default, metadata={"json": True, "predict_only": predict_only})


def _extra_field(default_factory=None, default=None):
    if default_factory is not None:
        return field(default_factory=default_factory, repr=False, compare=False,
                     metadata={"json": False})
    return field(default=default, repr=False, compare=False, metadata={"json": False})


@dataclass
class Timeline:
    """The per-slot schedule, one entry per work item in launch order, as NumPy arrays."""
    slot: np.ndarray
    sm: np.ndarray
    batch: np.ndarray
    head: np.ndarray
    q_tile: np.ndarray
    start_us: np.ndarray
    end_us: np.ndarray
    tiles_full: np.ndarray
    tiles_partial: np.ndarray
    tiles_empty_visited: np.ndarray

    def __len__(self) -> int:
        return len(self.slot)

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any]) -> "Timeline":
        return cls(**{f.name: np.asarray(columns[f.name],
                                         dtype=np.float64 if f.name.endswith("_us") else np.int64)
                      for f in fields(cls)})

    def to_dict(self) -> dict[str, list]:
        return {f.name: getattr(self, f.name).tolist() for f in fields(self)}

    def to_chrome_trace(self, name: str = "tilesim") -> dict:
        """Chrome / Perfetto trace JSON (attnsim.chrome_trace): json.dump it, open it in
        ui.perfetto.dev."""
        from .chrome_trace import chrome_trace
        return chrome_trace(self.to_dict(), name)


@dataclass
class TileResult:
    """One mask on one kernel and GPU: the fields of `tilesim bounds|predict` JSON, by name.

    Prediction fields are None for bounds(). `command`, `gpu`, `kernel`, `cost_model` and
    `timeline` describe the run and are not part of to_dict() (see report()).
    """
    mask: str = _json_field("")
    mask_rule: str | None = _json_field()
    batch: int = _json_field(0)
    heads: int = _json_field(0)
    seq_q: int = _json_field(0)
    seq_kv: int = _json_field(0)
    tiles_full: int = _json_field(0)
    tiles_partial: int = _json_field(0)
    tiles_empty_visited: int = _json_field(0)
    tiles_dense: int = _json_field(0)
    density_tokens: float = _json_field(0.0)
    density_tokens_exact: bool = _json_field(False)
    density_tiles: float = _json_field(0.0)
    speedup_bound_flop: float = _json_field(0.0)
    speedup_bound_tiles: float = _json_field(0.0)
    speedup_bound_sched: float = _json_field(0.0)
    predicted_ms: float | None = _json_field(predict_only=True)
    predicted_dense_ms: float | None = _json_field(predict_only=True)
    predicted_speedup: float | None = _json_field(predict_only=True)
    makespan_us: float | None = _json_field(predict_only=True)
    tile_masked_us: float | None = _json_field(predict_only=True)
    host_bound: bool | None = _json_field(predict_only=True)
    unaligned_variant: bool | None = _json_field(predict_only=True)
    hbm_bytes: float | None = _json_field(predict_only=True)
    hbm_us: float | None = _json_field(predict_only=True)
    memory_bound: bool | None = _json_field(predict_only=True)
    work_items: int = _json_field(0)
    slots: int = _json_field(0)
    waves: float = _json_field(0.0)
    wave_efficiency: float | None = _json_field(predict_only=True)
    tail_fraction: float | None = _json_field(predict_only=True)

    command: str = _extra_field(default="predict")
    gpu: dict = _extra_field(default_factory=dict)
    kernel: dict = _extra_field(default_factory=dict)
    cost_model: dict | None = _extra_field()
    timeline: Timeline | None = _extra_field()
    #: JSON fields this version of the class does not know yet (a newer tilesim), kept as is.
    extra: dict = _extra_field(default_factory=dict)

    def __getattr__(self, name: str):
        # Fields a newer tilesim adds (kept in `extra`) read as attributes too.
        extra = self.__dict__.get("extra")
        if extra is not None and name in extra:
            return extra[name]
        raise AttributeError(f"{type(self).__name__} has no field '{name}'")

    @classmethod
    def from_report(cls, report: Mapping[str, Any], timeline: Timeline | None = None
                    ) -> "TileResult":
        (item,) = report["results"]
        known = {f.name for f in fields(cls) if f.metadata.get("json")}
        result = cls(**{k: v for k, v in item.items() if k in known})
        result.extra = {k: v for k, v in item.items() if k not in known}
        result.command = report["command"]
        result.gpu, result.kernel = report["gpu"], report["kernel"]
        result.cost_model = report.get("cost_model")
        result.timeline = timeline
        result._order = list(item)
        return result

    def to_dict(self) -> dict[str, Any]:
        """The JSON object tilesim prints for this mask (same keys, same order, same values)."""
        out = {}
        for f in fields(self):
            if not f.metadata.get("json"):
                continue
            if f.metadata.get("predict_only") and self.command != "predict":
                continue
            out[f.name] = getattr(self, f.name)
        out.update(self.extra)
        order = getattr(self, "_order", None)
        if order and set(order) == set(out):
            out = {k: out[k] for k in order}
        return out

    def report(self) -> dict[str, Any]:
        """The whole report `tilesim bounds|predict --format json` prints for this one mask."""
        report = {"tool": "tilesim", "command": self.command, "gpu": self.gpu,
                  "kernel": self.kernel}
        if self.cost_model is not None:
            report["cost_model"] = self.cost_model
        report["results"] = [self.to_dict()]
        return report


@dataclass
class Calibration:
    """A fitted cost model: the fields of the JSON `tilesim calibrate` writes.

    Usable wherever a calibration is expected (predict(..., calibration=cal)); save() writes the
    file tilesim --calibration reads. `summary` is the text tilesim prints.
    """
    tool: str = "tilesim calibrate"
    gpu: str = ""
    kernel: str = ""
    kernel_config: dict = field(default_factory=dict)
    cost_model: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)
    summary: str = field(default="", repr=False, compare=False, metadata={"json": False})
    extra: dict = field(default_factory=dict, repr=False, compare=False,
                        metadata={"json": False})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], summary: str = "") -> "Calibration":
        known = {f.name for f in fields(cls) if f.metadata.get("json", True)}
        cal = cls(**{k: v for k, v in data.items() if k in known})
        cal.extra = {k: v for k, v in data.items() if k not in known}
        cal.summary = summary
        return cal

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("json", True)}
        out.update(self.extra)
        return out

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path


# ---- inputs ------------------------------------------------------------------------------------

def _to_numpy(value) -> np.ndarray:
    """A torch tensor (any device) or array-like as a NumPy array, without importing torch."""
    if hasattr(value, "detach") and callable(value.detach):
        value = value.detach()
    if hasattr(value, "cpu") and callable(value.cpu) and not isinstance(value, np.ndarray):
        value = value.cpu()
    if hasattr(value, "numpy") and callable(value.numpy) and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value)


def _pair(value, name: str, source: str) -> np.ndarray:
    """BLOCK_SIZE / seq_lengths: an int, a tuple of ints (torch 2.11), or a tensor."""
    array = _to_numpy(value).astype(np.int64).reshape(-1)
    if array.size == 1:
        array = np.repeat(array, 2)
    if array.size != 2:
        raise InputError.make(source, name, "2 ints (q, kv)", f"{array.size} values")
    return array


def blockmask_arrays(block_mask, source: str = "BlockMask") -> dict[str, np.ndarray]:
    """The arrays tilesim reads from a BlockMask-like object (the .npz layout (b) of
    sim/gpu/mask_io.h): what `np.savez(path, **blockmask_arrays(bm))` writes for the CLI."""
    arrays = {}
    for name in BLOCKMASK_ARRAYS:
        value = getattr(block_mask, name, None)
        if value is not None:
            arrays[name] = _to_numpy(value)
    if "kv_num_blocks" not in arrays or "kv_indices" not in arrays:
        raise InputError.make(source, "kv_num_blocks/kv_indices",
                              "a BlockMask-like object with both", "an object without them")
    for name in BLOCKMASK_SHAPES:
        value = getattr(block_mask, name, None)
        if value is not None:
            arrays[name] = _pair(value, name, source)
    return arrays


def _is_blockmask(value) -> bool:
    return hasattr(value, "kv_num_blocks") and hasattr(value, "kv_indices")


def _mask_file(mask, scratch: Path) -> tuple[str, str]:
    """(argument for the native loader, name the caller knows it by)."""
    if isinstance(mask, (str, os.PathLike)):
        return os.fspath(mask), os.fspath(mask)
    if _is_blockmask(mask):
        path = scratch / "mask.npz"
        np.savez(path, **blockmask_arrays(mask))
        return str(path), type(mask).__name__
    if isinstance(mask, Mapping):
        path = scratch / "mask.npz"
        arrays = {}
        for key, value in mask.items():
            arrays[key] = (_pair(value, key, "mask dict") if key in BLOCKMASK_SHAPES
                           else _to_numpy(value))
        np.savez(path, **arrays)
        return str(path), "mask dict"
    if isinstance(mask, np.ndarray) or hasattr(mask, "numpy"):
        path = scratch / "mask.npy"
        np.save(path, _to_numpy(mask))
        return str(path), "mask array"
    raise InputError.make("mask argument", "mask",
                          "a BlockMask-like object, a dict of arrays, an array of block classes, "
                          "a path or 'pattern:...'", type(mask).__name__)


def _preset_argument(value, kind: str, scratch: Path) -> str:
    """A gpu/kernel given by name, path or dict of preset fields (written as JSON, which the YAML
    reader accepts; the file's stem is the preset's name)."""
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, Mapping):
        name = str(value.get("name", f"custom_{kind}"))
        data = {k: v for k, v in value.items() if k != "name"}
        path = scratch / f"{kind}s" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(data))
        return str(path)
    raise InputError.make(f"{kind} argument", kind, "a preset name, a YAML path or a dict",
                          type(value).__name__)


def _calibration_argument(value, scratch: Path) -> str:
    if value is None:
        return ""
    if isinstance(value, Calibration):
        return str(value.save(scratch / "calibration.json"))
    if isinstance(value, Mapping):
        path = scratch / "calibration.json"
        path.write_text(json.dumps(dict(value)))
        return str(path)
    text = os.fspath(value)
    if os.path.exists(text):
        return text
    shipped = native.calibrations_dir()
    if shipped is not None and (shipped / f"{text}.json").is_file():
        return str(shipped / f"{text}.json")
    return text  # the native reader reports the missing file


class _Call:
    """Scratch folder for in-memory inputs, and InputError translation for one API call."""

    def __init__(self):
        self._stack = ExitStack()
        self.renames = dict(CLI_OPTION_NAMES)

    def __enter__(self):
        self.scratch = Path(self._stack.enter_context(
            tempfile.TemporaryDirectory(prefix="attnsim-")))
        return self

    def __exit__(self, kind, error, tb):
        self._stack.close()
        if error is not None and isinstance(error, ValueError) and \
                not isinstance(error, InputError):
            raise InputError.from_message(str(error), self.renames) from None
        return False


def _load(mod, mask, batch: int, heads: int, name: str | None, call: _Call):
    if isinstance(mask, mod.Mask):
        return mask
    argument, known_as = _mask_file(mask, call.scratch)
    if argument != known_as:
        call.renames[argument] = known_as
    return mod.load_mask(argument, batch, heads, name or (known_as if argument != known_as
                                                         else ""))


def load_mask(mask, batch: int = 0, heads: int = 0, name: str | None = None):
    """A mask loaded once, to be simulated on many kernels and GPUs (attnsim_native.Mask)."""
    mod = native.module()
    with _Call() as call:
        return _load(mod, mask, batch, heads, name, call)


def _simulate(mask, gpu, kernel, calibration, predict: bool, batch: int, heads: int,
              name: str | None, timeline: bool, preset_dirs, overrides) -> TileResult:
    mod = native.module()
    with _Call() as call:
        loaded = _load(mod, mask, batch, heads, name, call)
        dirs = [os.fspath(d) for d in preset_dirs] + native.gpu_preset_dirs()
        text, columns = mod.report(
            loaded, _preset_argument(gpu, "gpu", call.scratch),
            _preset_argument(kernel, "kernel", call.scratch), dict(overrides), predict,
            _calibration_argument(calibration, call.scratch), dirs, timeline)
    return TileResult.from_report(json.loads(text),
                                  Timeline.from_columns(columns) if columns is not None else None)


def bounds(mask, gpu="h200", kernel="flexattention", *, batch: int = 0, heads: int = 0,
           name: str | None = None, timeline: bool = False, preset_dirs=(),
           **overrides) -> TileResult:
    """Speedup bounds of `mask` (FLOP, tiles, schedule): `tilesim bounds`.

    overrides: the kernel's fields as tilesim's options name them (tile_q, tile_kv, head_dim,
    dtype, gqa, ctas_per_sm, scheduler). batch/heads broadcast a mask stored with 1 of them.
    """
    return _simulate(mask, gpu, kernel, None, False, batch, heads, name, timeline, preset_dirs,
                     overrides)


def predict(mask, gpu="h200", kernel="flexattention", calibration=None, *, batch: int = 0,
            heads: int = 0, name: str | None = None, timeline: bool = False, preset_dirs=(),
            **overrides) -> TileResult:
    """Bounds plus the cost model's prediction: `tilesim predict`. timeline=True fills
    result.timeline (arrays per work item); `name` sets result.mask."""
    return _simulate(mask, gpu, kernel, calibration, True, batch, heads, name, timeline,
                     preset_dirs, overrides)


def calibrate(measurements, gpu="h200", kernel="flexattention", *, fit_runs: int = 5,
              rule_runs: int = 0, rule: str | None = None, preset_dirs=(),
              **overrides) -> Calibration:
    """Fits the cost model to measured runs: `tilesim calibrate`. `measurements` is the runs
    file (a dict is written to a scratch file first: its mask paths must then be absolute)."""
    mod = native.module()
    with _Call() as call:
        if isinstance(measurements, Mapping):
            path = call.scratch / "measurements.json"
            path.write_text(json.dumps(dict(measurements)))
            call.renames[str(path)] = "measurements dict"
            measurements = path
        dirs = [os.fspath(d) for d in preset_dirs] + native.gpu_preset_dirs()
        text, summary = mod.calibrate(
            os.fspath(measurements), _preset_argument(gpu, "gpu", call.scratch),
            _preset_argument(kernel, "kernel", call.scratch), dict(overrides), fit_runs,
            rule_runs, rule or "", dirs)
    return Calibration.from_dict(json.loads(text), summary)
