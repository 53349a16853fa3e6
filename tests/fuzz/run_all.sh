#!/bin/bash
# Runs every fuzz target of a fuzz build at once for SECONDS each and prints one line per target:
# executions, corpus size, crashes. Usage: tests/fuzz/run_all.sh [BUILD_DIR] [SECONDS] [WORK_DIR]
#   BUILD_DIR  the fuzz preset's build folder (default build/fuzz)
#   WORK_DIR   where corpora, crash artifacts and logs go (default BUILD_DIR/tests/fuzz/run)
# Targets run in parallel, one process each: give the machine one core per target.
set -u
build=${1:-build/fuzz}
seconds=${2:-60}
work=${3:-$build/tests/fuzz/run}
fuzz_dir=$build/tests/fuzz
here=$(cd "$(dirname "$0")" && pwd)
targets=()
for exe in "$fuzz_dir"/fuzz_*; do
  [ -x "$exe" ] && targets+=("$(basename "$exe" | sed 's/^fuzz_//')")
done
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz_* executables in $fuzz_dir" >&2; exit 2; }
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  dirs=("$work/corpus/$t" "$fuzz_dir/seeds/$t")
  [ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
  "$fuzz_dir/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -malloc_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" \
    "${dirs[@]}" > "$work/$t.log" 2>&1 &
done
wait
status=0
printf '%-18s %12s %8s %8s\n' target executions corpus findings
for t in "${targets[@]}"; do
  execs=$(grep -a 'stat::number_of_executed_units' "$work/$t.log" | awk '{print $2}')
  corpus=$(ls "$work/corpus/$t" | wc -l)
  findings=$(ls "$work/artifacts/$t" | wc -l)
  [ "$findings" -eq 0 ] && [ -n "$execs" ] || status=1
  printf '%-18s %12s %8s %8s\n' "$t" "${execs:-?}" "$corpus" "$findings"
done
exit $status
