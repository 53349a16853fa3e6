#!/bin/bash
# Regenerates tests/sim/accel/golden/<name>.stats.json from golden/cases.txt with the built
# spatten-sim. Goldens are only ever written by this script: rerun it after an intended change to
# the model and review the diff. Usage: scripts/accel_goldens.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
tool=$build/sim/accel/spatten-sim
golden=$root/tests/sim/accel/golden
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cd "$root"
grep -v '^#' "$golden/cases.txt" | while read -r name args; do
  [ -z "$name" ] && continue
  out=$(mktemp -d)
  # shellcheck disable=SC2086  # the arguments are a word list on purpose
  "$tool" $args --out "$out" > /dev/null
  cp "$out/stats.json" "$golden/$name.stats.json"
  rm -rf "$out"
  echo "wrote $golden/$name.stats.json"
done
