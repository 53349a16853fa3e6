#!/usr/bin/env bash
# One visit to the H200: device facts, the GPU correctness tests, then the validation dataset timed
# with the golden kernel and FlexAttention (d 64 and 128), and SDPA dense/causal for context.
# Binaries are built elsewhere (cudart is static) and carried in BIN_DIR, with the two Boost
# libraries bsattn-bench links in BIN_DIR/lib. DATASET_DIR holds masks/ and cases.json from
# `python3 -m attnsim.gpu_dataset`; the measurements are written beside them (mask paths in the
# JSON are relative to it) and copied to OUT_DIR.
#   golden/h200_session.sh BIN_DIR DATASET_DIR OUT_DIR
set -uo pipefail
bin=$1 data=$2 out=$3
export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
"$bin/gpu-info" >"$out/gpu-info.jsonl"
timeout 300 "$bin/golden_block_sparse_attention_test" --gtest_output="json:$out/correctness.json" \
  2>&1 | grep -E "^\[ |rel err|Failure|Expected|Which|error" | tee "$out/correctness.log"
masks=("$data"/masks/*.npz)
timeout 300 "$bin/bsattn-bench" "${masks[@]}" --head-dim 64,128 --out "$data/golden.json"
timeout 400 python3 scripts/torch_attention_bench.py --kernel flexattention "${masks[@]}" \
  --head-dim 64,128 --out "$data/flexattention.json"
contexts=()
for shape in s4096,h32 s8192,h32 s16384,h16 s32768,h8; do
  seq=${shape%%,*} heads=${shape##*,}
  contexts+=("pattern:dense,seq=${seq#s},heads=${heads#h}" "pattern:causal,seq=${seq#s},heads=${heads#h}")
done
timeout 120 python3 scripts/torch_attention_bench.py --kernel sdpa "${contexts[@]}" \
  'pattern:dense,seq=16384,heads=32' --head-dim 64,128 --matmul-reference \
  --out "$data/sdpa.json"
# Issue #5's speed target is stated at S=16384, H=32, d=128: measure it in this same run.
timeout 60 "$bin/bsattn-bench" 'pattern:dense,seq=16384,heads=32' --head-dim 128 \
  --out "$data/golden-dense-16k-h32.json"
cp "$data"/{golden,flexattention,sdpa,golden-dense-16k-h32}.json "$data/cases.json" "$out/"
