"""Published NATTEN / GNA figures (sim/gpu/validation/gna_published.json) against tilesim.

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.gna_published [--tilesim PATH] [--markdown]

Runs `tilesim predict` on each row's mask (made by the gna generator from the row's
configuration: NATTEN's tile shapes, padding and strides) with the row's GPU and kernel preset,
uncalibrated (predicted speedups against the kernel's own dense run, and against the `cudnn`
baseline preset, the source's baseline), and prints the source's numbers next to tilesim's.
"""
from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

from .output_format import add_format_option, emit

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "sim" / "gpu" / "validation" / "gna_published.json"


def dims(values: list[int]) -> str:
    return "x".join(str(v) for v in values)


def pattern(row: dict) -> str:
    text = (f"pattern:gna,dims={dims(row['dims'])},window={dims(row['window'])},"
            f"stride={dims(row['stride'])},q_tile={dims(row['q_tile'])},"
            f"kv_tile={dims(row['kv_tile'])},heads={row['heads']}")
    if "dilation" in row:
        text += f",dilation={dims(row['dilation'])}"
    return text


def run(tilesim: Path, row: dict, extra: list[str]) -> dict:
    out = subprocess.run([str(tilesim), "predict", pattern(row), "--gpu", row["gpu"], "--kernel",
                          row["kernel"], "--format", "json", *extra],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["results"][0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tilesim", type=Path,
                        default=REPO / "build" / "default" / "sim" / "gpu" / "tilesim")
    parser.add_argument("--markdown", action="store_true", help="a table for the README")
    add_format_option(parser)
    args = parser.parse_args(argv)
    results = []
    rows = json.loads(DATA.read_text())["rows"]
    head = ["row", "flop pub", "flop sim", "worst_q", "tiles", "sched", "measured", "predicted",
            "error", "vs cudnn", "error", "kernel ms pub", "pred", "permute ms pub",
            "permute ms floor"]
    lines = []
    for row in rows:
        r = run(args.tilesim, row, [])
        c = run(args.tilesim, row, ["--baseline", "cudnn"])
        results.append({"row": row["id"], "measured_speedup": row.get("measured_speedup"),
                        "predicted_speedup": r["predicted_speedup"],
                        "predicted_speedup_vs_cudnn": c["predicted_speedup"],
                        "speedup_bound_flop": r["speedup_bound_flop"],
                        "speedup_bound_sched": r["speedup_bound_sched"],
                        "predicted_ms": r["predicted_ms"], "permute_us": r["permute_us"]})
        measured = row.get("measured_speedup")
        error = f"{r['predicted_speedup'] / measured - 1:+.0%}" if measured else "-"
        error_c = f"{c['predicted_speedup'] / measured - 1:+.0%}" if measured else "-"
        published_flop = (f"{row['flop_bound']:.1f}" if "flop_bound" in row else
                          f"{row['sparsity_percent']}% sparse")
        lines.append([row["id"], published_flop, f"{r['speedup_bound_flop']:.2f}",
                      f"{r['speedup_bound_worst_q']:.2f}", f"{r['speedup_bound_tiles']:.2f}",
                      f"{r['speedup_bound_sched']:.2f}",
                      f"{measured:.1f}" if measured else "-",
                      f"{r['predicted_speedup']:.2f}", error,
                      f"{c['predicted_speedup']:.2f}", error_c,
                      f"{row['kernel_us'] / 1e3:.3f}" if "kernel_us" in row else "-",
                      f"{r['predicted_ms']:.3f}",
                      f"{(row['total_us'] - row['kernel_us']) / 1e3:.2f}"
                      if "total_us" in row else "-",
                      f"{r['permute_us'] / 1e3:.2f}"])
    if args.format != "table":
        emit(args.format, {"rows": results}, rows=results)
    elif args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(x[i]) for x in [head, *lines]) for i in range(len(head))]
        for line in [head, *lines]:
            print("  ".join(x.rjust(w) for x, w in zip(line, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
