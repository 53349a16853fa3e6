#!/usr/bin/env bash
# The preamble the H200 visit scripts share (source it from the repository root, after setting
# `bin`, `work` and `out`): the environment (BIN/lib for the carried binaries' shared libraries,
# scripts/python for torch_attention_bench.py), the session log, and
#   pack                          OUT/results.tar.gz from WORK/results (after every step)
#   step NAME                     a timestamped marker in the log
#   generate CASES DIR [REGEX]    the cases' masks (those whose name matches REGEX), by tilesim
#   rules_groups CASES DIR        "gqa mask mask ..." lines of the cases whose masks exist in DIR
#   gpu_tests VERSION...          the two sm90 gtest binaries of BIN/VERSION; sets `hung`
#   open_ab_visit VERSION...      the device, then gpu_tests VERSION... (packed); stops the visit
#                                 if a test hung, since a hung build's timings mean nothing
#   ab_groups REPS SECONDS DIR LABEL [ARG...]
#                                 bsattn-bench --kernel sm90 (d64 and d128, ARG... added) of
#                                 BIN/base and BIN/new on DIR/groups.txt's GQA groups, REPS times,
#                                 alternating which build runs first, into
#                                 results/LABEL-VERSION-REP-gqaG.json (packed after every round)
# Sourced by h200_d64_session.sh and h200_d64_2_session.sh (both open with open_ab_visit); the
# older visit scripts (h200_dataset_session.sh, ...) keep their own variants (the log under WORK,
# a generate timeout).
set -uo pipefail
mkdir -p "$work/results" "$out" && work=$(realpath "$work") out=$(realpath "$out")
bin=$(realpath "$bin")
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

rules_groups() {  # CASES DIR: one line per GQA group, "gqa mask mask ..."
  python3 - "$1" "$2" <<'PY'
import collections, json, os, sys
groups = collections.defaultdict(list)
for case in json.load(open(sys.argv[1]))["cases"]:
    if os.path.exists(os.path.join(sys.argv[2], case["mask"])):
        groups[case.get("gqa", 1)].append(case["mask"])
for gqa, masks in sorted(groups.items()):
    print(gqa, " ".join(masks))
PY
}

hung=0
gpu_tests() {  # VERSION...: BIN/VERSION's two sm90 test binaries, logs in results/
  local v t rc
  for v in "$@"; do
    for t in golden_attention_sm90_test golden_attention_sm90_rules_test; do
      timeout 120 "$bin/$v/$t" >"$res/$v-$t.log" 2>&1
      rc=$?
      [ $rc -eq 124 ] && hung=1
      echo "$v $t: rc $rc, $(grep -cE '^\[       OK' "$res/$v-$t.log") ok," \
        "$(grep -cE '^\[  FAILED  \] [A-Za-z]' "$res/$v-$t.log") failed"
      grep -E "^\[  FAILED|Failure" "$res/$v-$t.log" | head -5
    done
  done
}

ab_groups() {  # REPS SECONDS DIR LABEL [ARG...]: the A/B rounds (above)
  local reps=$1 seconds=$2 dir=$3 label=$4 rep order v gqa group
  shift 4
  for rep in $(seq "$reps"); do
    order="base new"
    [ $((rep % 2)) -eq 0 ] && order="new base"
    while read -r gqa group; do
      for v in $order; do
        # shellcheck disable=SC2086
        (cd "$dir" && timeout "$seconds" "$bin/$v/bsattn-bench" $group --kernel sm90 "$@" \
          --head-dim 64,128 --gqa "$gqa" --out "$res/$label-$v-$rep-gqa$gqa.json" >/dev/null) ||
          echo "$label $v $rep gqa $gqa: rc $?"
      done
    done <"$dir/groups.txt"
    pack
  done
}

open_ab_visit() {  # VERSION...: every A/B visit's opening
  step device
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit --format=csv
  step gpu-tests
  gpu_tests "$@"
  pack
  [ $hung -eq 1 ] && { echo "a GPU test timed out: no timings"; exit 1; }
}
