#!/usr/bin/env bash
# A dataset (rules-2026-12, blind-2026-12, flex-costs-2026-12; issue #12) on the H200, in parts that each fit one <= 9-minute command:
#   golden     gpu-info, the golden correctness tests, bsattn-bench over every case (d 64 and 128;
#              each mask's own rule), one bsattn-bench per K/V head count (GQA)
#   sm90       the same with the Hopper kernel (bsattn-bench --kernel sm90, its flat grid; its
#              rule tests, golden_attention_sm90_rules_test, in BIN_DIR) into sm90.json
#   sm90-persistent  the Hopper kernel on its persistent grid (--grid persistent; no tests: the
#              sm90 part runs them) into sm90_persistent.json
#   sm90-auto  the Hopper kernel on the grid sim/gpu/schedulers/sm90_grid_choice.h picks per mask
#              and head dim (--grid auto; no tests) into sm90_auto.json
#   flex-d64   FlexAttention, head dim 64  (resumable: run it again to finish after a time-out)
#   flex-d128  FlexAttention, head dim 128
#   all        the three in turn (for a machine without the 9-minute limit)
# Binaries are built elsewhere and carried in BIN_DIR (tilesim, bsattn-bench,
# golden_block_sparse_attention_test, gpu-info; Boost libraries in BIN_DIR/lib). The masks are
# generated here from cases.json with the carried tilesim (they do not travel); a case whose mask
# cannot be generated is reported and left out. WORK_DIR keeps the masks and the partial results
# between calls; OUT_DIR gets one JSON and one log (PART.log, ending with a summary) per part.
#   golden/h200_rules_session.sh BIN_DIR CASES_JSON WORK_DIR OUT_DIR PART
set -uo pipefail
if [ $# -ne 5 ]; then
  echo "usage: $0 BIN_DIR CASES_JSON WORK_DIR OUT_DIR golden|sm90|sm90-persistent|sm90-auto|flex-d64|flex-d128|all" >&2
  exit 2
fi
bin=$(realpath "$1") cases=$(realpath "$2") work=$3 out=$4 part=$5
mkdir -p "$work" "$out" && work=$(realpath "$work") out=$(realpath "$out")
repo=$(cd "$(dirname "$0")/.." && pwd)
export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
export PYTHONPATH="$repo/scripts/python${PYTHONPATH:+:$PYTHONPATH}"
case $part in golden|sm90|sm90-persistent|sm90-auto|flex-d64|flex-d128|all) ;; *) echo "unknown part '$part'" >&2; exit 2 ;; esac
exec > >(tee -a "$out/$part.log") 2>&1

# Masks: one `tilesim gen` per case, 16 at a time; existing masks of the same cases.json are kept.
generate_masks() {
  if ! cmp -s "$cases" "$work/cases.json" || [ ! -f "$work/masks.done" ]; then
    rm -rf "$work/masks" "$work/masks.done" && mkdir -p "$work/masks"
    cp "$cases" "$work/cases.json"
    python3 - "$work/cases.json" >"$work/gen-commands.txt" <<'EOF'
import json, shlex, sys
for case in json.load(open(sys.argv[1]))["cases"]:
    if "tilesim_args" in case:  # derived masks (the flex-costs probe) come after
        print(shlex.join(case["tilesim_args"]))
EOF
    local started=$SECONDS
    (cd "$work" && timeout 240 xargs -P 16 -L 1 "$bin/tilesim" <gen-commands.txt) \
      || echo "WARNING: some tilesim gen commands failed (above)"
    timeout 240 python3 -m attnsim.gpu_dataset --derive "$work" \
      || echo "WARNING: deriving masks failed (above)"
    touch "$work/masks.done"
    echo "masks: $(ls "$work/masks" | wc -l) generated in $((SECONDS - started)) s"
  fi
  # The cases whose mask exists (mask paths stay relative to WORK_DIR).
  python3 - "$work" <<'EOF'
import json, os, sys
work = sys.argv[1]
data = json.load(open(f"{work}/cases.json"))
present = [c for c in data["cases"] if os.path.exists(os.path.join(work, c["mask"]))]
for c in data["cases"]:
    if c not in present:
        print(f"WARNING: no mask for case {c['name']}: left out")
json.dump({**data, "cases": present}, open(f"{work}/cases-present.json", "w"), indent=1)
print(f"cases: {len(present)} of {len(data['cases'])} have masks")
EOF
  # The rules gen wrote against the rules the cases expect (a mismatch is reported, not fatal).
  timeout 120 python3 -m attnsim.gpu_dataset --check "$work"
}

# KERNEL: golden (the mma.sync kernel) or sm90 (golden/hopper), its runs into LABEL.json (LABEL:
# KERNEL unless given); GRID: bsattn-bench's --grid (persistent, auto: no correctness tests here).
run_golden() {
  local kernel=${1:-golden} test=golden_block_sparse_attention_test
  local label=${2:-$kernel} grid=${3:-}
  [ "$kernel" = sm90 ] && test=golden_attention_sm90_rules_test
  {
    echo "== gpu-info"; timeout 60 "$bin/gpu-info"
    if [ -z "$grid" ]; then
      echo "== correctness ($test)"
      timeout 240 "$bin/$test" --gtest_output="json:$work/correctness-$label.json" 2>&1 |
        grep -E "^\[ |rel err|Failure|Expected|Which|error"
    fi
    echo "== bsattn-bench --kernel $kernel${grid:+ --grid $grid}"
    # One bsattn-bench per K/V head count (its --kv-heads is absolute).
    python3 - "$work/cases-present.json" >"$work/golden-groups.txt" <<'EOF'
import collections, json, sys
groups = collections.defaultdict(list)
for case in json.load(open(sys.argv[1]))["cases"]:
    groups[(case["heads"] // case.get("gqa", 1), case.get("gqa", 1))].append(case["mask"])
for (kv_heads, gqa), masks in sorted(groups.items()):
    print(kv_heads, gqa, " ".join(masks))
EOF
    rm -f "$work/$label"-part-*.json
    local i=0
    while read -r kv gqa masks; do
      i=$((i + 1))
      # shellcheck disable=SC2086
      (cd "$work" && timeout 150 "$bin/bsattn-bench" $masks --kernel "$kernel" --head-dim 64,128 \
        --kv-heads "$kv" ${grid:+--grid "$grid"} --out "$label-part-$i.json") ||
        echo "bsattn-bench group kv_heads=$kv failed: rc $?"
    done <"$work/golden-groups.txt"
    # One measurements file: runs gain the top-level rule and gqa tilesim reads.
    python3 - "$work" "$label" <<'EOF'
import glob, json, os, sys
work, kernel = sys.argv[1], sys.argv[2]
cases = {c["mask"]: c for c in json.load(open(f"{work}/cases-present.json"))["cases"]}
merged = None
for path in sorted(glob.glob(f"{work}/{kernel}-part-*.json")):
    part = json.load(open(path))
    merged = merged or {k: v for k, v in part.items() if k != "runs"} | {"runs": []}
    for run in part["runs"]:
        case = cases.get(os.path.normpath(run["mask"]), {})
        run.setdefault("gqa", case.get("gqa", 1))
        if "rule" not in run and run.get("info", {}).get("rule"):
            run["rule"] = run["info"]["rule"]
        merged["runs"].append(run)
merged = merged or {"runs": []}
merged["correctness"] = json.load(open(f"{work}/correctness-{kernel}.json")) \
    if os.path.exists(f"{work}/correctness-{kernel}.json") else None
json.dump(merged, open(f"{work}/{kernel}.json", "w"), indent=2)
print(f"{kernel}: {len(merged['runs'])} runs of {2 * len(cases)}")
EOF
  } 2>&1
  cp "$work/$label.json" "$out/$label.json"
}

run_flex() {
  local dim=$1
  # Stops cleanly before the 9-minute command limit; run the part again to resume.
  timeout 540 python3 "$repo/scripts/torch_attention_bench.py" --kernel flexattention \
    --cases "$work/cases-present.json" --head-dim "$dim" --out "$work/flexattention-d$dim.json" \
    --time-budget-s "${FLEX_BUDGET_S:-420}" --resume 2>&1
  cp "$work/flexattention-d$dim.json" "$out/"
}

summary() {
  python3 - "$work" <<'EOF'
import glob, json, os, statistics, sys
work = sys.argv[1]
n_cases = len(json.load(open(f"{work}/cases-present.json"))["cases"])
print(f"{'file':<26} {'runs':>6} {'of':>5} {'median ms':>10} {'blocks differ':>14} {'stopped'}")
for path in sorted(glob.glob(f"{work}/golden.json") + glob.glob(f"{work}/sm90*.json") +
                   glob.glob(f"{work}/flexattention-d*.json")):
    runs = json.load(open(path)).get("runs", [])
    expected = n_cases if "flexattention" in path else 2 * n_cases
    differ = sum(1 for r in runs if r.get("info", {}).get("block_mask_matches_tilesim") is False)
    stopped = json.load(open(path)).get("stopped", "")
    med = statistics.median(r["ms"] for r in runs) if runs else float("nan")
    print(f"{os.path.basename(path):<26} {len(runs):>6} {expected:>5} {med:>10.3f} "
          f"{differ:>14} {stopped}")
EOF
}

generate_masks
case $part in
  golden) run_golden golden ;;
  sm90) run_golden sm90 ;;
  sm90-persistent) run_golden sm90 sm90_persistent persistent ;;
  sm90-auto) run_golden sm90 sm90_auto auto ;;
  flex-d64) run_flex 64 ;;
  flex-d128) run_flex 128 ;;
  all) run_golden golden; run_flex 64; run_flex 128 ;;
esac
summary
