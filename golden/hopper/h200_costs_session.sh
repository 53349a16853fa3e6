#!/usr/bin/env bash
# The flex-costs probe's masks (golden/results/h200/2026-12-02-flex-costs/cases.json: each base
# mask also run with every visited tile PARTIAL under its own rule, PARTIAL under `allow`, and
# FULL; attnsim.gpu_dataset_costs) timed with attnsim's own kernels, which precompute their rules
# (sm90, then the mma.sync golden kernel), d64 and d128, one H200 call (about 6 minutes):
# what one masked tile of each rule costs them, per element, and how that grows with a
# neighborhood's rank (each PARTIAL tile stages one key word per key, whose cost grows with the
# grid's dimensions). Issue #12.
#   golden/hopper/h200_costs_session.sh BIN_DIR WORK_DIR OUT_DIR
# BIN_DIR: tilesim, bsattn-bench, gpu-info, golden_block_sparse_attention_test,
# golden_attention_sm90_rules_test and lib/ (golden/README.md, Rerun). OUT_DIR/results.tar.gz
# holds WORK_DIR/results: golden/h200_rules_session.sh's sm90 and golden parts (their JSON and
# logs, GPU tests included), clocks.csv (nvidia-smi every 200 ms) and machine.txt.
set -uo pipefail
[ $# -eq 3 ] || { echo "usage: $0 BIN_DIR WORK_DIR OUT_DIR" >&2; exit 2; }
bin=$1 work=$2 out=$3
source golden/hopper/session_lib.sh
cases=golden/results/h200/2026-12-02-flex-costs/cases.json
nvidia-smi --query-gpu=name,uuid,serial,driver_version,clocks.max.sm,power.limit --format=csv |
  tee "$res/machine.txt"
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,clocks_event_reasons.active \
  --format=csv -lms 200 >"$res/clocks.csv" 2>/dev/null &
sampler=$!
trap 'kill $sampler 2>/dev/null; pack' EXIT
for p in sm90 golden; do
  step "$p"
  golden/h200_rules_session.sh "$bin" "$cases" "$work/masks" "$res" "$p" >/dev/null 2>&1
  tail -n 4 "$res/$p.log"
  pack
done
step "done"
