#!/usr/bin/env bash
# One H200 visit for issue #18's d64 sliding_window work: the GPU tests of two builds (BIN/base,
# BIN/new: bsattn-bench and the two sm90 gtest binaries each), then, on one machine, the 2026-11-23
# validation dataset (52 masks, d64 and d128) with `bsattn-bench --kernel sm90` of both builds twice
# (alternating), FlexAttention on the sliding_window masks and the d64 near misses, blind7's two
# sliding_window masks (both builds and FlexAttention), and last the 2026-12-02 rules dataset with
# both builds. BIN also holds tilesim and lib/ (the shared libraries). Everything goes to
# OUT/results.tar.gz (re-packed after every step) and OUT/session.log. Run from the repository root:
#   golden/hopper/h200_d64_session.sh BIN WORK OUT
set -uo pipefail
bin=$(realpath "$1") work=$2 out=$3
mkdir -p "$work/results" "$out" && work=$(realpath "$work") out=$(realpath "$out")
repo=$(pwd) res=$work/results
export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
export PYTHONPATH="$repo/scripts/python${PYTHONPATH:+:$PYTHONPATH}"
exec > >(tee -a "$out/session.log") 2>&1
pack() { tar -C "$work" -czf "$out/results.tmp.tgz" results && mv "$out/results.tmp.tgz" "$out/results.tar.gz"; }
step() { echo "== $1 ($(date -u +%T), ${SECONDS} s)"; }
generate() {  # CASES DIR [NAME_REGEX]: the cases' masks, made by tilesim in DIR
  mkdir -p "$2/masks"
  python3 - "$1" "${3:-.}" >"$2/gen-commands.txt" <<'PY'
import json, re, shlex, sys
for case in json.load(open(sys.argv[1]))["cases"]:
    if "tilesim_args" in case and re.search(sys.argv[2], case["name"]):
        print(shlex.join(case["tilesim_args"]))
PY
  (cd "$2" && timeout 60 xargs -P 16 -L 1 "$bin/tilesim" <gen-commands.txt >/dev/null) ||
    echo "WARNING: tilesim gen failed"
  echo "masks: $(ls "$2/masks" | wc -l) of $(wc -l <"$2/gen-commands.txt")"
}

step device
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit --format=csv
step gpu-tests
hung=0
for v in base new; do
  for t in golden_attention_sm90_test golden_attention_sm90_rules_test; do
    timeout 120 "$bin/$v/$t" >"$res/$v-$t.log" 2>&1
    rc=$?
    [ $rc -eq 124 ] && hung=1
    echo "$v $t: rc $rc, $(grep -cE '^\[       OK' "$res/$v-$t.log") ok," \
      "$(grep -cE '^\[  FAILED  \] [A-Za-z]' "$res/$v-$t.log") failed"
    grep -E "^\[  FAILED|Failure" "$res/$v-$t.log" | head -5
  done
done
pack
[ $hung -eq 1 ] && { echo "a GPU test timed out: no timings"; exit 1; }

step dataset
data=$work/dataset
generate golden/results/h200/2026-11-23-dataset/cases.json "$data"
mapfile -t masks < <(cd "$data" && ls masks/*.npz)
for rep in 1 2; do
  for v in base new; do
    (cd "$data" && timeout 60 "$bin/$v/bsattn-bench" "${masks[@]}" --kernel sm90 \
      --head-dim 64,128 --out "$res/sm90-$v-$rep.json" >/dev/null) || echo "sm90 $v $rep: rc $?"
  done
done
pack

step flexattention
mapfile -t flex < <(printf '%s\n' "${masks[@]}" |
  grep -E 'sliding_window|gna-s4096|band-s4096|causal_window-s4096|a_shape-s4096|block_topk-s8192')
(cd "$data" && timeout 150 python3 "$repo/scripts/torch_attention_bench.py" --kernel \
  flexattention "${flex[@]}" --head-dim 64,128 --out "$res/flexattention.json") ||
  echo "flexattention: rc $?"
pack

step blind7
b7=$work/blind7
generate golden/results/h200/2026-12-03-blind7/cases.json "$b7" 'sliding_window-10(03|15)'
for m in 1003-s20480-b1-h16-g2 1015-s40960-b1-h16-g4; do
  gqa=${m##*-g}
  for v in base new; do
    (cd "$b7" && timeout 30 "$bin/$v/bsattn-bench" "masks/sliding_window-$m.npz" --kernel sm90 \
      --gqa "$gqa" --head-dim 64,128 --out "$res/blind7-sm90-$v-$m.json" >/dev/null) ||
      echo "blind7 $v $m: rc $?"
  done
  (cd "$b7" && timeout 60 python3 "$repo/scripts/torch_attention_bench.py" --kernel \
    flexattention "masks/sliding_window-$m.npz" --gqa "$gqa" --head-dim 64,128 \
    --out "$res/blind7-flexattention-$m.json") || echo "blind7 flex $m: rc $?"
done
pack

step rules-dataset
rules=$work/rules
generate golden/results/h200/2026-12-02-rules/cases.json "$rules"
python3 - golden/results/h200/2026-12-02-rules/cases.json "$rules" >"$rules/groups.txt" <<'PY'
import collections, json, os, sys
groups = collections.defaultdict(list)
for case in json.load(open(sys.argv[1]))["cases"]:
    if os.path.exists(os.path.join(sys.argv[2], case["mask"])):
        groups[case.get("gqa", 1)].append(case["mask"])
for gqa, masks in sorted(groups.items()):
    print(gqa, " ".join(masks))
PY
while read -r gqa group; do
  for v in base new; do
    # shellcheck disable=SC2086
    (cd "$rules" && timeout 60 "$bin/$v/bsattn-bench" $group --kernel sm90 --head-dim 64,128 \
      --gqa "$gqa" --out "$res/rules-sm90-$v-gqa$gqa.json" >/dev/null) ||
      echo "rules $v gqa $gqa: rc $?"
  done
  pack
done <"$rules/groups.txt"
step done
pack
