#!/usr/bin/env bash
# Does a tile run faster when fewer SMs are busy? (issues #12 and #18: the sm90 kernel's
# tail-heavy runs measured above speedup_bound_sched, which runs every tile at one rate.)
# One H200 command: dense attention with one query tile per CTA and n CTAs (n <= 132: one CTA per
# SM, each doing the same 512 key tiles), so any change of the time with n is a change of the
# per-tile rate with the number of busy SMs; then the full chip (32 heads, 4096 CTAs). Each shape
# runs as the datasets time it (5 warm-up, 20 timed runs) and in a long steady run (400), for the
# sm90 kernel (flat grid) and FlexAttention, head dims 64 and 128, while nvidia-smi samples the SM
# clock and power every 50 ms into clocks.csv (timestamps in the log place each run).
#   golden/h200_active_sm_probe.sh BIN_DIR OUT_DIR
# BIN_DIR: tilesim, bsattn-bench (and lib/ for its Boost libraries), as h200_rules_session.sh carries.
set -uo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 BIN_DIR OUT_DIR" >&2; exit 2; fi
bin=$(realpath "$1") out=$2
mkdir -p "$out" && out=$(realpath "$out")
repo=$(cd "$(dirname "$0")/.." && pwd)
export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
export PYTHONPATH="$repo/scripts/python${PYTHONPATH:+:$PYTHONPATH}"
exec > >(tee -a "$out/active-sm-probe.log") 2>&1
# Environment: PROBE_FLEX=0 leaves FlexAttention out.

# Newer drivers name the field clocks_event_reasons, older ones clocks_throttle_reasons.
reasons=clocks_event_reasons.active
nvidia-smi --help-query-gpu | grep -q "$reasons" || reasons=clocks_throttle_reasons.active
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu,$reasons \
  --format=csv -lms 50 >"$out/clocks.csv" &
sampler=$!
trap 'kill $sampler 2>/dev/null' EXIT

# Masks by the carried tilesim: ctaN has N CTAs = seq_q / 128 (one head), each over 65536 keys
# (512 tiles); full is the whole chip.
masks=$(mktemp -d)  # masks stay on the machine
shapes=()
for n in 8 16 33 66 99 132; do
  "$bin/tilesim" gen dense --seq-q $((128 * n)) --seq-kv 65536 --heads 1 --format flex \
    --out "$masks/cta$n.npz" >/dev/null
  shapes+=("cta$n")
done
"$bin/tilesim" gen dense --seq 16384 --heads 32 --format flex --out "$masks/full.npz" >/dev/null
shapes+=(full)

for d in 64 128; do
  for reps in 20 400; do
    for name in "${shapes[@]}"; do
      mask=$masks/$name.npz
      echo "== sm90 d$d reps$reps $name start $(date -u +%H:%M:%S.%N)"
      timeout 60 "$bin/bsattn-bench" --mask "$mask" --kernel sm90 --head-dim "$d" --reps "$reps" \
        --format table --out "$out/sm90-d$d-reps$reps-$name.json" | grep -E "^ *[a-z/.]+npz|ms"
      echo "== end $(date -u +%H:%M:%S.%N)"
    done
  done
done
[ "${PROBE_FLEX:-1}" = 0 ] && exit 0  # PROBE_FLEX=0: the sm90 kernel only
# FlexAttention: one process per repetition count (each shape compiles once per head dim).
for reps in 20 400; do
  echo "== flexattention reps$reps start $(date -u +%H:%M:%S.%N)"
  timeout 240 python3 "$repo/scripts/torch_attention_bench.py" --kernel flexattention \
    $(printf "$masks/%s.npz " "${shapes[@]}") --head-dim 64,128 --reps "$reps" \
    --out "$out/flexattention-reps$reps.json" | tail -16
  echo "== end $(date -u +%H:%M:%S.%N)"
done
