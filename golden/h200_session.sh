#!/usr/bin/env bash
# One visit to the H200: device facts, the GPU correctness tests, then timings of the golden kernel,
# FlexAttention and SDPA on the same patterns. Binaries are built elsewhere (cudart is static) and
# carried in BIN_DIR with the two Boost libraries bsattn-bench links in BIN_DIR/lib.
#   golden/h200_session.sh BIN_DIR OUT_DIR [quick]
set -uo pipefail
bin=$1 out=$2 mode=${3:-full}
export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
"$bin/gpu-info" >"$out/gpu-info.jsonl"
timeout 300 "$bin/golden_block_sparse_attention_test" --gtest_output="json:$out/correctness.json" \
  2>&1 | grep -E "^\[ |rel err|Failure|Expected|Which|error" | tee "$out/correctness.log"
seqs=4096,8192,16384
[[ $mode == quick ]] && seqs=4096
timeout 300 "$bin/bsattn-bench" --patterns dense,causal,window:1024:0 --seq "$seqs" \
  --head-dim 64,128 --heads 32 --out "$out/golden.json"
timeout 200 python3 scripts/torch_attention_bench.py --kernel sdpa --patterns dense,causal \
  --seq 16384 --head-dim 128 --heads 32 --out "$out/sdpa.json"
timeout 300 python3 scripts/torch_attention_bench.py --kernel flexattention \
  --patterns dense,causal,window:1024:0 --seq 16384 --head-dim 128 --heads 32 --out "$out/flex.json"
