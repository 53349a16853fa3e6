#!/bin/bash
# Synthesis estimate of the top-k engine attn_topk (issue #7): Yosys generic synthesis of the RTL
# in rtl/topk/attn_topk.f with the buffers kept as memories, then cell counts, flip-flops, memory
# bits, NAND2 gate equivalents and an area estimate (logic + SRAM) with its method stated
# (scripts/synth_topk_report.py; rtl/README.md "Synthesis estimate").
#
# Usage: scripts/synth_topk.sh [--lanes P] [--max-n N] [--pipelined | --overlapped] [--out DIR]
#   defaults: P = 16, N = 4096 (SpAtten's engine), sequential, DIR = build/default/runs/synth_topk_p<P>_n<N>[_pipelined|_overlapped]
# Writes DIR/yosys.log, DIR/attn_topk.ys (the script run), DIR/stat.json, DIR/mem.il and
# DIR/synth_topk.json, and prints a summary table. Exits non-zero if yosys is missing or fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lanes=16
max_n=4096
pipelined=0
overlap=0
out=""
usage() { sed -n '7,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --lanes) lanes=${2:?--lanes needs a value}; shift 2 ;;
    --max-n) max_n=${2:?--max-n needs a value}; shift 2 ;;
    --pipelined) pipelined=1; shift ;;
    --overlapped) pipelined=1; overlap=1; shift ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "synth_topk.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$lanes$max_n" in *[!0-9]*|"") echo "synth_topk.sh: --lanes and --max-n take integers" >&2; exit 2 ;; esac
suffix=""
[ "$pipelined" = 1 ] && suffix=_pipelined
[ "$overlap" = 1 ] && suffix=_overlapped
out=${out:-$root/build/default/runs/synth_topk_p${lanes}_n${max_n}${suffix}}

yosys=$(command -v yosys || true)
if [ -z "$yosys" ]; then
  echo "synth_topk.sh: yosys not found (Debian: apt-get install yosys; scripts/setup.sh)" >&2
  exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The file list's paths are relative to the repository root.
sources=""
while read -r f; do
  [ -n "$f" ] && sources="$sources $root/$f"
done < "$root/rtl/topk/attn_topk.f"

sed "s#@STAT_JSON@#$out/stat.json#" "$root/rtl/topk/synth/attn_topk.ys" > "$out/attn_topk.ys"
SECONDS=0
if ! "$yosys" -q -l "$out/yosys.log" -p "read_verilog -sv -DSYNTHESIS$sources; \
      chparam -set Lanes $lanes -set MaxN $max_n -set Pipelined $pipelined -set Overlap $overlap attn_topk; script $out/attn_topk.ys; \
      tee -q -o $out/mem.il dump t:\$mem_v2" > /dev/null 2> "$out/yosys.stderr"; then
  echo "synth_topk.sh: yosys failed; see $out/yosys.log:" >&2
  tail -n 20 "$out/yosys.stderr" "$out/yosys.log" >&2
  exit 1
fi
seconds=$SECONDS

/usr/bin/python3 "$root/scripts/synth_topk_report.py" --stat "$out/stat.json" --mem "$out/mem.il" \
  --out "$out/synth_topk.json" --lanes "$lanes" --max-n "$max_n" --seconds "$seconds"
echo "  yosys ${seconds} s; wrote $out/synth_topk.json"
