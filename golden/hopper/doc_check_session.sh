#!/usr/bin/env bash
# One H200 check: the golden kernel on the rules dataset's 15 document masks (d64, d128), after the
# allows() fix (BIN_DIR/doc-cases.json: those cases of golden/results/h200/2026-12-02-rules);
# the golden and sm90-rules GPU tests. Usage (repository root):
#   golden/hopper/doc_check_session.sh BIN_DIR OUT_DIR
set -uo pipefail
bin=$(realpath "$1") out=$2
export LD_LIBRARY_PATH="$bin/lib" PYTHONUNBUFFERED=1
mkdir -p /tmp/d/masks && cd /tmp/d
python3 -c "import json,shlex,sys;[print(shlex.join(c['tilesim_args'])) for c in json.load(open(sys.argv[1]))['cases']]" "$bin/doc-cases.json" >g.txt
xargs -P 16 -L 1 "$bin/tilesim" <g.txt >/dev/null; ls masks | wc -l
for g in 1 4 8; do
  m=$(python3 -c "import json,sys;print(' '.join(c['mask'] for c in json.load(open(sys.argv[1]))['cases'] if c.get('gqa',1)==$g))" "$bin/doc-cases.json")
  # shellcheck disable=SC2086
  timeout 60 "$bin/bsattn-bench" $m --head-dim 64,128 --gqa $g --out golden-doc-gqa$g.json >/dev/null || echo "rc $?"
  cp golden-doc-gqa$g.json "$out/"
done
for t in golden_block_sparse_attention_test golden_attention_sm90_rules_test; do
  timeout 120 "$bin/$t" >"$out/$t.log" 2>&1; echo "$t rc $? $(grep -c '^\[       OK' "$out/$t.log") ok"
done
