#!/usr/bin/env bash
# One H200 visit for issue #18's d64 sliding_window work: the GPU tests of two builds (BIN/base,
# BIN/new: bsattn-bench and the two sm90 gtest binaries each), then, on one machine, the 2026-11-23
# validation dataset (52 masks, d64 and d128) with `bsattn-bench --kernel sm90` of both builds twice
# (alternating), FlexAttention on the sliding_window masks and the d64 near misses, blind7's two
# sliding_window masks (both builds and FlexAttention), and last the 2026-12-02 rules dataset with
# both builds. BIN also holds tilesim and lib/ (the shared libraries). Everything goes to
# OUT/results.tar.gz (re-packed after every step) and OUT/session.log. Run from the repository root:
#   golden/hopper/h200_d64_session.sh BIN WORK OUT
bin=$1 work=$2 out=$3
# shellcheck source=golden/hopper/session_lib.sh
source "$(dirname "$0")/session_lib.sh"

open_ab_visit base new

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
rules_groups golden/results/h200/2026-12-02-rules/cases.json "$rules" >"$rules/groups.txt"
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
