#!/bin/bash
# Smoke test of scripts/synth_topk.sh on a small engine (P = 4, MaxN = 64; ~20 s): the script runs,
# and its synth_topk.json holds gates, flip-flops, kept memories and an area estimate.
# Usage: synth_topk_smoke.sh <repository root> <output folder>
set -euo pipefail
root=$1
out=$2
rm -rf "$out"
"$root/scripts/synth_topk.sh" --lanes 4 --max-n 64 --out "$out"
/usr/bin/python3 - "$out/synth_topk.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
checks = {
    "cells > 0": d["cells"] > 0,
    "flip_flops > 0": d["flip_flops"] > 0,
    "combinational_cells > 0": d["combinational_cells"] > 0,
    # P = 4, MaxN = 64: 16 rows; original buffer 16 x 4 x (32 + 16), candidates 3 x 16 x 4 x 32.
    "memory_bits == 9216": d["memory_bits"] == 9216,
    "logic_ge > 0": d["logic_ge"]["total"] > 0,
    "total area > 0": d["area"]["nominal"]["total_mm2"] > 0,
}
failed = [name for name, ok in checks.items() if not ok]
if failed:
    sys.exit("synth_topk_smoke: failed: " + ", ".join(failed))
print("synth_topk_smoke: ok")
PY
