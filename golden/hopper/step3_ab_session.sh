#!/usr/bin/env bash
# Step 3 of the sm90 kernel's development on the H200: the tests and timings of this build (softmax
# micro-optimisations), d64 too, SDPA at d64 and d128, then an A/B of the step-1, step-2 and this
# build's sm90-bench on the same machine, twice in alternation (machines differed between steps).
#   golden/hopper/step3_ab_session.sh BIN_DIR OUT   (BIN_DIR: this build's sm90-bench and gtest,
#   step1/sm90-bench and step2/sm90-bench built by golden/hopper/build.sh at d2695f8 and ec0cd50)
set -uo pipefail
d=$1 out=$2
export PYTHONUNBUFFERED=1
chmod +x "$d"/sm90-bench "$d"/step*/sm90-bench "$d"/golden_attention_sm90_test
{
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit --format=csv
  timeout 45 "$d/golden_attention_sm90_test" --gtest_output="json:$out/gtest.json" 2>&1 |
    grep -E "^\[  (PASSED|FAILED)|^\[==|rel err|Failure|Expected|Which"
  timeout 90 "$d/sm90-bench" --out "$out/sm90-bench.json"; echo "sm90-bench rc=$?"
  timeout 60 "$d/sm90-bench" --head-dim 64 --skip-check --out "$out/sm90-bench-d64.json"
  timeout 120 python3 scripts/torch_attention_bench.py --kernel sdpa 'pattern:dense,seq=16384,heads=32' \
    'pattern:causal,seq=16384,heads=32' --head-dim 64,128 --matmul-reference --out "$out/sdpa.json"
  mkdir -p /tmp/ab
  for r in 1 2; do
    for v in step1 step2 step3; do
      b="$d/$v/sm90-bench"; [ "$v" = step3 ] && b="$d/sm90-bench"
      echo "== $v round $r"
      timeout 60 "$b" --skip-check --out "/tmp/ab/$v-$r.json" | grep ^time
    done
  done
} 2>&1 | tee "$out/session.log"
tar czf "$out/ab-json.tgz" -C /tmp ab
