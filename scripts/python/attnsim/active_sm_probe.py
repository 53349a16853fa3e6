"""The active-SM probe (golden/h200_active_sm_probe.sh; issues #12 and #18): does a tile run faster
when fewer SMs are busy, and why.

Dense attention with one query tile per CTA: `ctaN` has N CTAs (N <= 132, one per SM, each over the
same 512 key tiles), `full` is the whole chip (32 heads x 16384, 4096 CTAs). Each shape was timed
as the datasets time it (20 timed runs after 5 warm-up) and in a long steady run (400), while
nvidia-smi sampled the SM clock, the power draw and the clock-event reasons every 50 ms. The
answer this module reads off those files: the SM clock a kernel holds under full load (its
samples flagged as held back by the software power cap), and from it the kernel's clock headroom,
max clock / that clock, which `clock_headroom` in the kernel's preset carries (a test checks the
preset against this module on the committed probe), and how the capped clock rises as fewer
SMs are busy, which the GPU preset's `power_clock_exponent` carries.

    python3 -m attnsim.active_sm_probe golden/results/h200/2026-12-03-active-sm-probe
"""
from __future__ import annotations

import csv
import json
import math
import re
import statistics
from pathlib import Path

from .errors import InputError
from .output_format import add_format_option, emit, human

SHAPES = ["cta8", "cta16", "cta33", "cta66", "cta99", "cta132", "full"]
HEAD_DIMS = [64, 128]
REPS = [20, 400]
# nvidia-smi's clocks_event_reasons bits (nvml): GPU idle, and the two power limits (software
# power cap, hardware power brake).
IDLE = 0x1
POWER_CAPPED = 0x4 | 0x80
_MARK = re.compile(r"^== (?P<what>.+?) start (?P<t>\d\d:\d\d:\d\d\.\d+)$")
_END = re.compile(r"^== end (?P<t>\d\d:\d\d:\d\d\.\d+)$")


def _clock_samples(folder: Path) -> tuple[list[dict], int]:
    """nvidia-smi's samples (time of day, MHz, W, reasons) and the maximum SM clock."""
    path = folder / "clocks.csv"
    try:
        rows = list(csv.reader(path.open()))
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error}", file=str(path)) from None
    if len(rows) < 2 or len(rows[0]) < 7:
        raise InputError.make(str(path), "header", "nvidia-smi's CSV of timestamp, clocks.sm, "
                              "clocks.max.sm, power.draw, power.limit, temperature.gpu, reasons",
                              f"{len(rows)} rows")
    samples, max_mhz = [], 0
    for i, row in enumerate(rows[1:], start=2):
        try:
            samples.append({"t": row[0].split()[1], "mhz": int(row[1].split()[0]),
                            "w": float(row[3].split()[0]), "reasons": int(row[6], 16)})
            max_mhz = max(max_mhz, int(row[2].split()[0]))
        except (IndexError, ValueError):
            raise InputError.make(str(path), f"row {i}", "a sample (time, MHz, W, hex reasons)",
                                  repr(",".join(row))) from None
    return samples, max_mhz


def _windows(folder: Path) -> dict[str, tuple[str, str]]:
    """Each run's (start, end) time of day, from the probe's log markers."""
    path = folder / "active-sm-probe.log"
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error}", file=str(path)) from None
    windows, open_run = {}, None
    for line in lines:
        if (m := _MARK.match(line)):
            open_run = (m["what"], m["t"][:12])
        elif (m := _END.match(line)) and open_run:
            windows[open_run[0]] = (open_run[1], m["t"][:12])
            open_run = None
    return windows


def _busy(samples: list[dict], window: tuple[str, str] | None) -> list[dict]:
    """The samples inside `window` with the GPU not idle."""
    if window is None:
        return []
    return [s for s in samples if window[0] <= s["t"] <= window[1] and not s["reasons"] & IDLE]


def _tiles_per_sm(info: dict, sm_count: int) -> float:
    ctas = info["batch"] * info["heads"] * -(-info["seq_q"] // 128)
    tiles = ctas * -(-info["seq_kv"] // 128)
    return tiles / min(ctas, sm_count)


def _load_run(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return data["runs"][0] | {"sm_count": data["device"]["sm_count"]}
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise InputError(f"{path}: expected a measurements JSON with one run and its device "
                         f"({type(error).__name__}: {error})", file=str(path)) from None


def runs(folder: Path) -> list[dict]:
    """One row per sm90 run (kernel, head dim, reps, shape, time, us per tile per SM, the SM
    clock's median over the run's busy samples, the share of them power-capped) and per
    FlexAttention run (its process's clock only: the runs of one process are not marked apart)."""
    folder = Path(folder)
    samples, max_mhz = _clock_samples(folder)
    windows = _windows(folder)
    rows = []
    clocks = str(folder / "clocks.csv")
    for d in HEAD_DIMS:
        for reps in REPS:
            for shape in SHAPES:
                # A run's clock needs only the log and clocks.csv; its time needs its JSON (the
                # first visit got 3 of the 28 back: a limit on files returned).
                path = folder / f"sm90-d{d}-reps{reps}-{shape}.json"
                run = _load_run(path) if path.exists() else None
                rows.append(_row("sm90", d, reps, shape, run, (clocks, max_mhz),
                                 _busy(samples, windows.get(f"sm90 d{d} reps{reps} {shape}"))))
    for reps in REPS:
        path = folder / f"flexattention-reps{reps}.json"
        if not path.exists():  # PROBE_FLEX=0: the sm90 kernel only
            continue
        try:
            data = json.loads(path.read_text())
            flex_runs, sm_count = data["runs"], data["device"]["sm_count"]
        except (OSError, ValueError, KeyError) as error:
            raise InputError(f"{path}: expected FlexAttention's measurements JSON "
                             f"({type(error).__name__}: {error})", file=str(path)) from None
        busy = _busy(samples, windows.get(f"flexattention reps{reps}"))
        for run in flex_runs:
            shape = Path(run["mask"]).stem
            rows.append(_row("flexattention", run["head_dim"], reps, shape,
                             run | {"sm_count": sm_count}, (clocks, max_mhz), busy))
    return rows


def _row(kernel: str, d: int, reps: int, shape: str, run: dict | None,
         clocks: tuple[str, int], busy: list[dict]) -> dict:
    """`clocks`: the samples' file and the maximum SM clock it reports."""
    mhz = [s["mhz"] for s in busy]
    return {"kernel": kernel, "head_dim": d, "reps": reps, "shape": shape, "clocks": clocks[0],
            "max_mhz": clocks[1],
            "ms": run["ms"] if run else None,
            "us_per_tile_per_sm": 1e3 * run["ms"] / _tiles_per_sm(run["info"], run["sm_count"])
            if run else None,
            "samples": len(busy), "median_mhz": statistics.median(mhz) if mhz else None,
            "capped_share": sum(bool(s["reasons"] & POWER_CAPPED) for s in busy) / len(busy)
            if busy else None}


def headroom(rows: list[dict]) -> dict[str, dict[int, float]]:
    """Per kernel and head dim, from runs()' rows: max SM clock / the median clock of its steady
    full-chip run (the 400-run `full` shape), 2 decimals; 1.0 where none of its samples was
    power-capped. The FlexAttention process times every shape, so its figure covers its every
    run."""
    out: dict[str, dict[int, float]] = {}
    for r in rows:
        steady_full = r["kernel"] == "sm90" and r["shape"] == "full" and r["reps"] == 400
        if not steady_full and r["kernel"] == "sm90":
            continue
        if r["kernel"] == "flexattention" and r["reps"] != 400:
            continue
        if not r["samples"]:
            raise InputError(f"{r['clocks']}: no clock samples during {r['kernel']} "
                             f"d{r['head_dim']} {r['shape']} (reps {r['reps']})", file=r["clocks"])
        ratio = 1.0 if r["capped_share"] == 0 else round(r["max_mhz"] / r["median_mhz"], 2)
        out.setdefault(r["kernel"], {})[r["head_dim"]] = max(
            ratio, out.get(r["kernel"], {}).get(r["head_dim"], 1.0))
    return out


def power_clock_exponent(rows: list[dict]) -> float | None:
    """k in "dynamic power ~ clock^k", 1 decimal, from runs()' rows: from each steady sm90 run of
    N < 132 CTAs that was power-capped, against the steady run of 132 CTAs (the same work per SM,
    every SM busy) at its head dim: (132 / N) = (f_N / f_132)^k, the median over such runs; None
    without one."""
    steady = {(r["head_dim"], r["shape"]): r for r in rows
              if r["kernel"] == "sm90" and r["reps"] == 400}
    estimates = []
    for (d, shape), r in steady.items():
        every = steady.get((d, "cta132"))
        if not shape.startswith("cta") or shape == "cta132" or not every or not r["samples"]:
            continue
        busy = int(shape[3:])
        if r["capped_share"] > 0.5 and every["capped_share"] > 0.5 and \
                r["median_mhz"] > every["median_mhz"]:
            estimates.append(math.log(132 / busy) /
                             math.log(r["median_mhz"] / every["median_mhz"]))
    return round(statistics.median(estimates), 1) if estimates else None


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="the active-SM probe: per-tile time and SM clock "
                                     "against busy SMs, and each kernel's clock headroom")
    parser.add_argument("folder", type=Path, help="the probe's output folder")
    add_format_option(parser)
    args = parser.parse_args(argv)
    try:
        rows = runs(args.folder)
        room, exponent = headroom(rows), power_clock_exponent(rows)
    except InputError as error:
        print(f"active_sm_probe: error: {error}", file=human(args.format))
        return 2
    if args.format != "table":
        emit(args.format, {"runs": rows, "clock_headroom": room,
                           "power_clock_exponent": exponent}, rows=rows)
        return 0
    print("| kernel | d | reps | shape | ms | us per tile per SM | median MHz | power-capped |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        mhz = "-" if r["median_mhz"] is None else f"{r['median_mhz']:.0f}"
        capped = "-" if r["capped_share"] is None else f"{100 * r['capped_share']:.0f} %"
        ms = "-" if r["ms"] is None else f"{r['ms']:.3f}"
        per_tile = "-" if r["us_per_tile_per_sm"] is None else f"{r['us_per_tile_per_sm']:.3f}"
        print(f"| {r['kernel']} | {r['head_dim']} | {r['reps']} | {r['shape']} | {ms} | "
              f"{per_tile} | {mhz} | {capped} |")
    print()
    for kernel, dims in room.items():
        print(f"clock headroom {kernel}: " +
              ", ".join(f"d{d} {ratio:.2f}" for d, ratio in sorted(dims.items())))
    print(f"power_clock_exponent: {exponent if exponent is not None else '- (no capped run)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
