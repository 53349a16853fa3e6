#!/usr/bin/env bash
# One H200 visit for the sm_90a kernel: device facts, SASS census of the kernel object, the
# correctness checks and the dense timing of sm90 / old golden (sm90-bench), then SDPA on the same
# problem (the project's torch bench, and each SDPA backend forced). Run from the repository root:
#   golden/hopper/h200_session.sh BIN_DIR OUT_DIR
# BIN_DIR: sm90-bench, golden_attention_sm90_test and attention_sm90.o, built with
# golden/hopper/build.sh or CMake (-DCMAKE_CUDA_ARCHITECTURES=90a).
set -uo pipefail
bin=$1 out=$2
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit --format=csv
if command -v cuobjdump >/dev/null; then
  cuobjdump -sass "$bin/attention_sm90.o" > "$out/sass.txt"
  echo "SASS census (every instantiation):"
  grep -oE "HGMMA\.[A-Z0-9x.]+|UTMALDG\.[A-Z0-9.]+|USETMAXREG[A-Z0-9. ]*|SYNCS\.[A-Z.]+|LDL|STL" \
    "$out/sass.txt" | sort | uniq -c
fi
timeout 45 "$bin/golden_attention_sm90_test" --gtest_output="json:$out/gtest.json" 2>&1 |
  grep -E "^\[  (PASSED|FAILED|SKIPPED)|^\[==|rel err|Failure|Expected|Which|error"
timeout 90 "$bin/sm90-bench" --out "$out/sm90-bench.json"
echo "sm90-bench rc=$?"
timeout 120 python3 scripts/torch_attention_bench.py --kernel sdpa 'pattern:dense,seq=16384,heads=32' 'pattern:causal,seq=16384,heads=32' \
  --head-dim 128 --matmul-reference --out "$out/sdpa.json"
timeout 120 python3 "$(dirname "$0")/sdpa_backends.py" --out "$out/sdpa-backends.json"
