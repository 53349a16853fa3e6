#!/usr/bin/env bash
# One visit to the H200: device facts, the GPU correctness tests, then timings of the golden kernel,
# FlexAttention and SDPA on the same patterns and shapes. Binaries are built elsewhere (cudart is
# static) and carried in BIN_DIR, with the two Boost libraries bsattn-bench links in BIN_DIR/lib.
#   golden/h200_session.sh BIN_DIR OUT_DIR
set -uo pipefail
bin=$1 out=$2
export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
patterns=dense,causal,window:1024:0 seqs=4096,8192,16384,32768 dims=64,128
"$bin/gpu-info" >"$out/gpu-info.jsonl"
timeout 300 "$bin/golden_block_sparse_attention_test" --gtest_output="json:$out/correctness.json" \
  2>&1 | grep -E "^\[ |rel err|Failure|Expected|Which|error" | tee "$out/correctness.log"
timeout 300 "$bin/bsattn-bench" --patterns "$patterns" --seq "$seqs" --head-dim "$dims" \
  --heads 32 --out "$out/golden.json"
timeout 120 python3 scripts/torch_attention_bench.py --kernel sdpa --patterns dense,causal \
  --seq "$seqs" --head-dim "$dims" --heads 32 --out "$out/sdpa.json"
timeout 400 python3 scripts/torch_attention_bench.py --kernel flexattention --patterns "$patterns" \
  --seq "$seqs" --head-dim "$dims" --heads 32 --out "$out/flexattention.json"
