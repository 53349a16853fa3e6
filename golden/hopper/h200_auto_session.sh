#!/usr/bin/env bash
# One H200 machine, several calls: `bsattn-bench --grid auto` against FlexAttention (issue #18),
# with both fixed grids alongside, on the 52-mask dataset and the rules dataset, d64 and d128.
#   golden/hopper/h200_auto_session.sh BIN_DIR WORK_DIR OUT_DIR [SECONDS]
# Each call works through the steps below in order, skips those already done in WORK_DIR (a mark
# per step), and stops starting steps when fewer than SECONDS (default 540) remain, so the same
# command, called again on the still-warm machine, continues where the last call stopped. The
# FlexAttention steps resume mid-way (torch_attention_bench.py --resume). Every comparison is
# only meaningful when all steps ran on one machine: `machine.txt` records its identity per call.
# OUT_DIR/results.tar.gz holds WORK_DIR/results (packed after every step): per set the parts'
# JSON and logs of golden/h200_rules_session.sh, clocks-N.csv (nvidia-smi every 200 ms of call N)
# and session.log.
#   steps: sm90 (GPU tests + flat grid), sm90-auto, sm90-persistent per set;
#          flex-d64 per set; flex-d128 per set
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BIN_DIR WORK_DIR OUT_DIR [SECONDS]" >&2; exit 2; }
bin=$1 work=$2 out=$3 seconds=${4:-540}
source golden/hopper/session_lib.sh
mkdir -p "$work/done"
sets=(dataset rules)
declare -A cases=(
  [dataset]=golden/results/h200/2026-12-03-verify/dataset/cases.json
  [rules]=golden/results/h200/2026-12-03-verify/rules/cases.json
)
call=$(($(ls "$work/done" | grep -c '^call-') + 1))
touch "$work/done/call-$call"
step "call $call"
{
  nvidia-smi --query-gpu=name,uuid,serial,driver_version,clocks.max.sm,power.limit --format=csv
  cat "$bin/VERSION" 2>/dev/null
} | tee -a "$res/machine.txt"
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,clocks_event_reasons.active \
  --format=csv -lms 200 >"$res/clocks-$call.csv" 2>/dev/null &
sampler=$!
trap 'kill $sampler 2>/dev/null; pack' EXIT

left() { echo $((seconds - SECONDS)); }
# PART SET MIN_SECONDS: one golden/h200_rules_session.sh part, unless done or out of time.
part() {
  local p=$1 s=$2 need=$3
  [ -e "$work/done/$p-$s" ] && return 0
  if [ "$(left)" -lt "$need" ]; then echo "not started: $p $s ($(left) s left)"; return 1; fi
  step "$p $s"
  FLEX_BUDGET_S=$(($(left) - 45)) golden/h200_rules_session.sh "$bin" "${cases[$s]}" \
    "$work/$s" "$res/$s" "$p" >/dev/null 2>&1
  # A FlexAttention part is done when its JSON holds every case (no "stopped" budget note).
  if [[ $p == flex-* ]]; then
    python3 - "$res/$s/flexattention-${p#flex-}.json" <<'EOF' || { pack; return 1; }
import json, sys
sys.exit(1 if json.load(open(sys.argv[1])).get("stopped") else 0)
EOF
  fi
  touch "$work/done/$p-$s"
  tail -n 4 "$res/$s/$p.log"
  pack
}

for s in "${sets[@]}"; do part sm90 "$s" 90 || exit 0; done
for s in "${sets[@]}"; do part sm90-auto "$s" 60 || exit 0; done
for s in "${sets[@]}"; do part sm90-persistent "$s" 60 || exit 0; done
for d in d64 d128; do
  for s in "${sets[@]}"; do part "flex-$d" "$s" 90 || exit 0; done
done
step "all steps done"
