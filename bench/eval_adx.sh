#!/usr/bin/env bash
# Runs aad-eval on the six benchmark sets of ../shared/data/adx with the
# issue's protocol (--strategy top --batch 1 --runs 3 by default) and prints a
# Markdown table. Extra arguments go to every aad-eval call, e.g.
#   bench/eval_adx.sh --runs 10
#   bench/eval_adx.sh --detector deep_svdd
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${AADD_DATA_DIR:-$root/../shared/data}/adx"
eval_bin="${AAD_EVAL:-$root/build/release/bench/aad-eval}"
[ -x "$eval_bin" ] || "$root/scripts/build.sh" release aad-eval >&2

# file budget label-column AAD-figure
sets=(
  "ann_thyroid_1v3_1.csv 300 label 72.9"
  "cardiotocography_1_1.csv 300 label 45.0"
  "yeast_1.csv 300 label 35.3"
  "abalone_1.csv 300 label 24.5"
  "mammography_1.csv 1500 ground.truth 194"
  "shuttle_1v23567_1.csv 1500 label 837"
)
echo "| dataset | budget | active | unsupervised | AAD | ROC AUC | update ms (mean / p95) | s a run |"
echo "|---|---|---|---|---|---|---|---|"
for s in "${sets[@]}"; do
  read -r file budget label aad <<<"$s"
  summary=$("$eval_bin" --data "$data/$file" --label-column "$label" --budget "$budget" \
            --strategy top --batch 1 --runs 3 --json "$@" | tail -n 1)
  python3 - "$file" "$budget" "$aad" "$summary" <<'PY'
import json, sys
file, budget, aad, line = sys.argv[1:]
d = json.loads(line)
print(f"| {file} | {budget} | {d['discovered']:.1f} | {d['baseline_discovered']:.1f} | {aad} | "
      f"{d['auc_roc']:.3f} | {d['update_ms_mean']:.2f} / {d['update_ms_p95']:.2f} | {d['seconds']:.2f} |")
PY
done
