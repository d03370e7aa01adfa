#!/usr/bin/env bash
# Runs aad-eval on every benchmark set of ../shared/data (adx and adb) with the
# discovery protocol (--strategy top --batch 1 --runs 3 by default) and prints
# a Markdown table beside AAD's figure for the set (ad_examples, 100 trees,
# tau 0.03, greedy top-1; from ../shared/data/README.md and issue 10, "–"
# where none was published or measured). Extra arguments go to every aad-eval
# call, e.g.
#   bench/eval_adx.sh --runs 10
#   bench/eval_adx.sh --uai_inputs forest,input          # the layer without leaves
#   bench/eval_adx.sh --leaf_input_scale 100
# AADD_EVAL_SETS=adx|adb|tuned|all picks the sets (default all; tuned = the
# six adx sets of issue 2).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${AADD_DATA_DIR:-$root/../shared/data}"
eval_bin="${AAD_EVAL:-$root/build/release/bench/aad-eval}"
[ -x "$eval_bin" ] || "$root/scripts/build.sh" release aad-eval >&2

# path budget label-column AAD-figure
tuned=(
  "adx/ann_thyroid_1v3_1.csv 300 label 72.9"
  "adx/cardiotocography_1_1.csv 300 label 45.0"
  "adx/yeast_1.csv 300 label 35.3"
  "adx/abalone_1.csv 300 label 24.5"
  "adx/mammography_1.csv 1500 ground.truth 194.5"
  "adx/shuttle_1v23567_1.csv 1500 label 837"
)
adx_more=(
  "adx/ann_thyroid_1v3_1.csv 60 label 45.6"
  "adx/cardiotocography_1_1.csv 60 label 38.7"
  "adx/toy2_1.csv 35 label 24.3"
  "adx/toy_1.csv 20 label –"
  "adx/toy_hard_1.csv 50 label –"
  "adx/kddcup_sub_1.csv 77 label –"
  "adx/covtype_sub_1.csv 30 label –"
  "adx/mammography_sub_1.csv 100 label –"
  "adx/shuttle_sub_1.csv 140 label –"
)
adb=(
  "adb/Waveform.csv 200 label 63.7"
  "adb/landsat.csv 300 label 287.0"
  "adb/PageBlocks.csv 300 label 273.7"
  "adb/Wilt.csv 300 label 154.7"
  "adb/SpamBase.csv 300 label 283.7"
  "adb/fault.csv 300 label 180.7"
)
case "${AADD_EVAL_SETS:-all}" in
  tuned) sets=("${tuned[@]}") ;;
  adx) sets=("${tuned[@]}" "${adx_more[@]}") ;;
  adb) sets=("${adb[@]}") ;;
  all) sets=("${tuned[@]}" "${adx_more[@]}" "${adb[@]}") ;;
  *) echo "eval_adx.sh: AADD_EVAL_SETS must be adx, adb, tuned or all" >&2; exit 2 ;;
esac

echo "| set (anomalies) | budget | AAD | active | unsupervised | ROC AUC | update ms (mean / p95) | s a run |"
echo "|---|---|---|---|---|---|---|---|"
for s in "${sets[@]}"; do
  read -r file budget label aad <<<"$s"
  summary=$("$eval_bin" --data "$data/$file" --label-column "$label" --budget "$budget" \
            --strategy top --batch 1 --runs 3 --json "$@" | tail -n 1)
  python3 - "$file" "$budget" "$aad" "$summary" <<'PY'
import json, sys
file, budget, aad, line = sys.argv[1:]
d = json.loads(line)
print(f"| {file} ({d['anomalies']}) | {budget} | {aad} | {d['discovered']:.1f} | "
      f"{d['baseline_discovered']:.1f} | {d['auc_roc']:.3f} | "
      f"{d['update_ms_mean']:.2f} / {d['update_ms_p95']:.2f} | {d['seconds']:.2f} |")
PY
done
