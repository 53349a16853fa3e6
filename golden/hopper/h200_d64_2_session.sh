#!/usr/bin/env bash
# One H200 visit for issue #18's second d64 pass (results/h200/2026-12-03-sm90-d64-2/): the GPU
# tests of two builds (BIN/base, BIN/new: bsattn-bench and the two sm90 gtest binaries each), the
# SASS of the d64 document kernel of both, then on one machine the 2026-11-23 validation dataset
# (52 masks, d64 and d128) with `bsattn-bench --kernel sm90` of both builds three times and the
# 2026-12-02 rules dataset (93 masks) twice, alternating the order, and last FlexAttention d64 on
# the masks where the sm90 kernel was slower than it at d64 and a few controls. BIN also holds
# tilesim and lib/. Everything goes to OUT/results.tar.gz (re-packed after every step) and
# OUT/session.log. Run from the repository root:
#   golden/hopper/h200_d64_2_session.sh BIN WORK OUT
bin=$1 work=$2 out=$3
# shellcheck source=golden/hopper/session_lib.sh
source "$(dirname "$0")/session_lib.sh"

open_ab_visit base new

step sass
for v in base new; do
  cuobjdump -res-usage "$bin/$v/bsattn-bench" 2>/dev/null | grep -A1 'attention_fwd_sm90' \
    >"$res/res-usage-$v.txt"
  cuobjdump -sass "$bin/$v/bsattn-bench" 2>/dev/null | awk '
    /Function :/ { keep = ($0 ~ /nv_bfloat16Li64ELb1ELb1ELNS0_9TokenRuleE4ELb0E/) }
    keep' >"$res/sass-$v-document-bf16-d64-pingpong.txt"
  echo "$v: $(wc -l <"$res/sass-$v-document-bf16-d64-pingpong.txt") SASS lines"
done
pack

step dataset
data=$work/dataset
generate golden/results/h200/2026-11-23-dataset/cases.json "$data"
mapfile -t masks < <(cd "$data" && ls masks/*.npz)
for rep in 1 2 3; do
  order="base new"
  [ $((rep % 2)) -eq 0 ] && order="new base"
  for v in $order; do
    (cd "$data" && timeout 60 "$bin/$v/bsattn-bench" "${masks[@]}" --kernel sm90 \
      --head-dim 64,128 --out "$res/sm90-$v-$rep.json" >/dev/null) || echo "sm90 $v $rep: rc $?"
  done
done
pack

step rules-dataset
rules=$work/rules
cases=golden/results/h200/2026-12-02-rules/cases.json
generate "$cases" "$rules"
rules_groups "$cases" "$rules" >"$rules/groups.txt"
ab_groups 2 60 "$rules" rules-sm90

step flexattention
python3 - "$cases" "$rules/flex-cases.json" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
keep = r"document-0(11|15|26)|band-0(08|33)|block_topk-072|causal_window-0(07|39)"
doc["cases"] = [c for c in doc["cases"] if re.search(keep, c["name"])]
json.dump(doc, open(sys.argv[2], "w"))
print(len(doc["cases"]), "rules cases for FlexAttention")
PY
(cd "$rules" && timeout 90 python3 "$repo/scripts/torch_attention_bench.py" --kernel \
  flexattention --cases flex-cases.json --head-dim 64 --time-budget-s 60 \
  --out "$res/flexattention-rules-d64.json") || echo "flexattention rules: rc $?"
pack
mapfile -t flex < <(printf '%s\n' "${masks[@]}" |
  grep -E '(a_shape|block_topk|causal_window|band|causal|sliding_window)-s4096|block_topk-s8192')
(cd "$data" && timeout 70 python3 "$repo/scripts/torch_attention_bench.py" --kernel \
  flexattention "${flex[@]}" --head-dim 64 --time-budget-s 45 \
  --out "$res/flexattention-dataset-d64.json") || echo "flexattention dataset: rc $?"
step done
pack
