#!/usr/bin/env bash
# One H200 visit for issue #18's second increment (every token rule, bsattn-bench --kernel sm90,
# the persistent grid): device facts, a SASS census of the sm_90a kernels, the GPU tests (sm90
# dense/sparse, sm90 over every token rule, the golden kernel), then the validation dataset
# (2026-11-23, 52 masks) timed at d 64 and 128 with the sm90 kernel on FlexAttention's grid and on
# the persistent grid, the golden kernel and FlexAttention, in that order; SDPA dense for context;
# Nsight Compute on two partial-heavy masks; last, if time is left, the rules dataset
# (2026-12-02-rules, 93 masks, every token rule) with the sm90 and the golden kernel (one
# bsattn-bench per GQA group and kernel). Binaries are built elsewhere (cudart static) and carried in BIN_DIR: bsattn-bench,
# tilesim, gpu-info, the three gtest binaries, attention_sm90.o, and the shared libraries they
# need in BIN_DIR/lib, and compare_runs.py. Masks are generated here by tilesim from the committed cases.json files.
# Everything goes to WORK_DIR/results, packed into OUT_DIR/results.tar.gz after every step (so
# what ran comes back even if the command is stopped). Run from the repository root:
#   [FLEX_MASKS=REGEX] [SKIP_CONTEXT=1] golden/hopper/h200_dataset_session.sh BIN_DIR WORK_DIR OUT_DIR
set -uo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BIN_DIR WORK_DIR OUT_DIR" >&2
  exit 2
fi
bin=$(realpath "$1") work=$2 out=$3
mkdir -p "$work/results" "$out" && work=$(realpath "$work") out=$(realpath "$out")
repo=$(pwd) res=$work/results
export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
export PYTHONPATH="$repo/scripts/python${PYTHONPATH:+:$PYTHONPATH}"
exec > >(tee -a "$res/session.log") 2>&1
pack() { tar -C "$work" -czf "$out/results.tmp.tgz" results && mv "$out/results.tmp.tgz" "$out/results.tar.gz"; }
step() { echo "== $1 ($(date -u +%T), ${SECONDS} s)"; }

# Masks of a cases.json (tilesim_args, run in DIR), 16 at a time.
generate() {
  local cases=$1 dir=$2
  mkdir -p "$dir/masks"
  python3 - "$cases" >"$dir/gen-commands.txt" <<'EOF'
import json, shlex, sys
for case in json.load(open(sys.argv[1]))["cases"]:
    if "tilesim_args" in case:
        print(shlex.join(case["tilesim_args"]))
EOF
  (cd "$dir" && timeout "$3" xargs -P 16 -L 1 "$bin/tilesim" <gen-commands.txt >/dev/null) ||
    echo "WARNING: some tilesim gen commands failed or timed out"
  echo "masks: $(ls "$dir/masks" | wc -l) of $(wc -l <"$dir/gen-commands.txt")"
}

step device
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit --format=csv
timeout 60 "$bin/gpu-info" >"$res/gpu-info.jsonl"
python3 -c "import torch; print('torch', torch.__version__)"

step sass
if command -v cuobjdump >/dev/null; then
  cuobjdump -sass "$bin/attention_sm90.o" >"$work/sass.txt"
  grep -oE "HGMMA\.[A-Z0-9x.]+|UTMALDG\.[A-Z0-9.]+|USETMAXREG[A-Z0-9. ]*|LDL|STL" \
    "$work/sass.txt" | sort | uniq -c
  awk '/Function :/{f=$3} /[^A-Z](LDL|STL)[. ]/{n[f]++} END{for (k in n) print n[k], k}' \
    "$work/sass.txt" | sort -rn >"$res/sass-local-memory.txt"
  echo "functions with local memory: $(wc -l <"$res/sass-local-memory.txt")"
  head -5 "$res/sass-local-memory.txt"
fi
pack

step gpu-tests
hung=0
for t in golden_attention_sm90_test golden_attention_sm90_rules_test \
  golden_block_sparse_attention_test; do
  timeout 120 "$bin/$t" --gtest_output="json:$res/$t.json" >"$res/$t.log" 2>&1
  rc=$?
  [ $rc -eq 124 ] && hung=1
  echo "$t: rc $rc, $(grep -cE '^\[       OK' "$res/$t.log") ok," \
    "$(grep -cE '^\[  FAILED  \] [A-Za-z]' "$res/$t.log") failed"
  grep -E "^\[  FAILED|Failure" "$res/$t.log" | head -10
done
pack
if [ $hung -eq 1 ]; then  # a kernel that hangs in a test would hang every timing too
  echo "a GPU test timed out: no timings"
  exit 1
fi

step dataset-masks
data=$work/dataset
cp golden/results/h200/2026-11-23-dataset/cases.json "$res/dataset-cases.json"
generate "$res/dataset-cases.json" "$data" 240
mapfile -t masks < <(cd "$data" && ls masks/*.npz)
bench() {  # NAME ARGS...: bsattn-bench over the dataset, JSON beside the masks, copied to results
  local name=$1
  shift
  (cd "$data" && timeout 150 "$bin/bsattn-bench" "${masks[@]}" --head-dim 64,128 "$@" \
    --out "$name.json" >/dev/null) || echo "bsattn-bench $name: rc $?"
  cp "$data/$name.json" "$res/" 2>/dev/null
}
step sm90-flat
bench sm90 --kernel sm90
pack
step flexattention
# FLEX_MASKS (a grep -E pattern) times FlexAttention on those masks only (a revisit).
mapfile -t flex_masks < <(printf '%s\n' "${masks[@]}" | grep -E "${FLEX_MASKS:-.}")
(cd "$data" && timeout 360 python3 "$repo/scripts/torch_attention_bench.py" --kernel \
  flexattention "${flex_masks[@]}" --head-dim 64,128 --out flexattention.json) ||
  echo "flexattention: rc $?"
cp "$data/flexattention.json" "$res/" 2>/dev/null
pack
step sm90-persistent
bench sm90-persistent --kernel sm90 --grid persistent
step golden
bench golden
pack

if [ -z "${SKIP_CONTEXT:-}" ]; then  # SKIP_CONTEXT=1: no SDPA, no ncu (a revisit)
step sdpa-and-dense
(cd "$data" && timeout 90 "$bin/bsattn-bench" 'pattern:dense,seq=16384,heads=32' \
  'pattern:causal,seq=16384,heads=32' --kernel sm90 --head-dim 64,128 --out sm90-16k-h32.json \
  >/dev/null && cp sm90-16k-h32.json "$res/")
timeout 120 python3 scripts/torch_attention_bench.py --kernel sdpa \
  'pattern:dense,seq=16384,heads=32' 'pattern:causal,seq=16384,heads=32' --head-dim 64,128 \
  --matmul-reference --out "$res/sdpa-16k-h32.json" >/dev/null || echo "sdpa: rc $?"
pack

step ncu
if command -v ncu >/dev/null; then
  for m in vertical_slash-s16384-h16 gna-s16384-h16; do
    (cd "$data" && timeout 90 ncu --clock-control none -k regex:attention_fwd_sm90 -c 1 \
      --section SpeedOfLight --section Occupancy --section WarpStateStats \
      --section SchedulerStats --section MemoryWorkloadAnalysis \
      "$bin/bsattn-bench" "masks/$m.npz" --kernel sm90 --head-dim 128 --warmup 0 --reps 1 \
      >"$res/ncu-$m-d128.txt" 2>&1) || echo "ncu $m: rc $?"
    grep -E "Duration|Compute \(SM\) Throughput|Memory Throughput|Achieved Occupancy|No Eligible|Issued Warp" \
      "$res/ncu-$m-d128.txt" | head -8
  done
fi
pack
fi

step rules-dataset
rules=$work/rules
cp golden/results/h200/2026-12-02-rules/cases.json "$res/rules-cases.json"
generate "$res/rules-cases.json" "$rules" 150
python3 - "$res/rules-cases.json" "$rules" >"$rules/groups.txt" <<'EOF'
import collections, json, os, sys
groups = collections.defaultdict(list)
for case in json.load(open(sys.argv[1]))["cases"]:
    if os.path.exists(os.path.join(sys.argv[2], case["mask"])):
        groups[case.get("gqa", 1)].append(case["mask"])
for gqa, masks in sorted(groups.items()):
    print(gqa, " ".join(masks))
EOF
while read -r gqa group; do
  for kernel in sm90 golden; do
    # shellcheck disable=SC2086
    (cd "$rules" && timeout 150 "$bin/bsattn-bench" $group --kernel $kernel --head-dim 64,128 \
      --gqa "$gqa" --out "$kernel-rules-gqa$gqa.json" >/dev/null) ||
      echo "rules $kernel gqa $gqa: rc $?"
    cp "$rules/$kernel-rules-gqa$gqa.json" "$res/" 2>/dev/null
  done
  pack
done <"$rules/groups.txt"
step done
pack
(cd "$res" && python3 "$bin/compare_runs.py" --ref flexattention.json sm90.json \
  sm90-persistent.json golden.json) | head -12
