#!/bin/bash
# Builds sm90-bench with plain nvcc (no CMake): the H200 session script uses it so a device visit
# needs only the repository and nvcc. Usage: golden/hopper/build.sh REPO_ROOT OUT_DIR
set -euo pipefail
root=${1:?repository root}; out=${2:?output directory}
mkdir -p "$out"
flags=(-std=c++17 -O3 -gencode arch=compute_90a,code=sm_90a -I"$root" -cudart static)
nvcc=${NVCC:-nvcc}
"$nvcc" "${flags[@]}" -Xptxas -v -c "$root/golden/hopper/attention_sm90.cu" -o "$out/attention_sm90.o" 2> "$out/ptxas.txt"
"$nvcc" "${flags[@]}" -c "$root/golden/block_sparse_attention.cu" -o "$out/block_sparse_attention.o" &
"$nvcc" "${flags[@]}" -c "$root/golden/reference_attention.cu" -o "$out/reference_attention.o" &
"$nvcc" "${flags[@]}" -c "$root/golden/hopper/sm90_bench_main.cu" -o "$out/sm90_bench_main.o" &
wait
"$nvcc" "${flags[@]}" "$out"/*.o -o "$out/sm90-bench"
