#!/usr/bin/env bash
# One H200 visit for issue #18's document tiles (results/h200/2026-12-03-doc-uniform/): the GPU
# tests of the new build (BIN/new: bsattn-bench and the two sm90 gtest binaries), then on one
# machine the rules dataset's document masks and a few controls of other rules with
# `bsattn-bench --kernel sm90 --grid auto` of both builds (BIN/base, BIN/new), three times,
# alternating the order, d64 and d128, and last FlexAttention d64 on the same masks. BIN also
# holds tilesim and lib/. Everything goes to OUT/results.tar.gz (re-packed after every step) and
# OUT/session.log. Run from the repository root:
#   golden/hopper/h200_doc_ab_session.sh BIN WORK OUT
bin=$1 work=$2 out=$3
# shellcheck source=golden/hopper/session_lib.sh
source "$(dirname "$0")/session_lib.sh"

open_ab_visit new

step masks
rules=$work/rules
cases=golden/results/h200/2026-12-02-rules/cases.json
keep='document-0|causal-002|band-033|a_shape-013|gna-05[25]|prefix_lm-029'
python3 - "$cases" "$rules/cases.json" "$keep" <<'PY'
import json, os, re, sys
doc = json.load(open(sys.argv[1]))
doc["cases"] = [c for c in doc["cases"] if re.search(sys.argv[3], c["name"])]
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
json.dump(doc, open(sys.argv[2], "w"))
print(len(doc["cases"]), "cases")
PY
generate "$rules/cases.json" "$rules"
rules_groups "$rules/cases.json" "$rules" >"$rules/groups.txt"
cat "$rules/groups.txt"

step sm90-ab
ab_groups 3 90 "$rules" sm90-auto --grid auto

step flexattention
(cd "$rules" && timeout 200 python3 "$repo/scripts/torch_attention_bench.py" --kernel \
  flexattention --cases cases.json --head-dim 64 --time-budget-s 170 \
  --out "$res/flexattention-d64.json") || echo "flexattention: rc $?"
step done
pack
