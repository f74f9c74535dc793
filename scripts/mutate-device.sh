#!/usr/bin/env bash
# The mutation set (rules/ and src/project/) on a many-core machine without Node, from the bundle
# of scripts/mutate-bundle.sh. Runs the files as disjoint groups, each its own Stryker process
# with runners in proportion to its measured cost, so that a group that outlasts the time limit
# loses only its own results; cuts each group's report to its own files, merges them into one
# report (also usable as reports/stryker-incremental.json) and prints the per-folder table.
#
# Here:   scripts/mutate-bundle.sh DIR     (DIR inside the checkout the device tool sends, in a
#                                           folder .git/info/exclude ignores, e.g. .device/mutate)
# There:  mkdir /tmp/w && tar -C /tmp/w -xzf DIR/mutate-bundle.tgz &&
#         bash /tmp/w/scripts/mutate-device.sh DIR/node.gz "$OUT" [SECONDS [GROUP...]]
#         (files back: mutation.json, summary.md, logs.txt)
# Back here: node scripts/mutation-report.mjs summary OUT/mutation.json [--survivors PREFIX];
#         reports of calls over different groups: node scripts/mutation-report.mjs merge ALL.json A.json B.json
#         then cp ALL.json reports/stryker-incremental.json (npm run mutate reuses it).
# SECONDS (default 480) bounds every group; GROUPs (default all) name groups below. A group that
# outlasts SECONDS loses its results (Stryker writes its report at the end); the others are kept.
set -uo pipefail
node_gz=$(realpath "${1:?usage: mutate-device.sh NODE_GZ OUT_DIR [SECONDS [GROUP...]]}")
out=$(mkdir -p "${2:?OUT_DIR}" && realpath "$2")
limit=${3:-480}
shift 3 2>/dev/null || shift $#
wanted=" $* "
cd "$(dirname "$0")/.."
gzip -dc "$node_gz" >/tmp/mps-lint-node && chmod +x /tmp/mps-lint-node
node=/tmp/mps-lint-node
cores=$(nproc)

# name, weight, files. Weight: the group's runner-seconds / 100 on a 32-core run (12:15 UTC,
# 2026-11-28, nothing reused from the incremental file): rules/ ~2,900 (1,833 tested mutants),
# index.ts + threads.ts ~4,100 (2,311), timeline.ts ~2,450 (1,606), vocabulary.ts 1,580 (363,
# static: each runs every related test), entrypoints.ts 1,370 (378, static), flow ~2,130 (1,288),
# graph 1,800 (1,134); about 16,300 in all. Every file of rules/ and src/project/ is in one group.
set -f # the file patterns go to Stryker unexpanded
groups=(
  "rules 29 rules/**/*.ts"
  "index-threads 41 src/project/index.ts,src/project/threads.ts"
  "timeline 25 src/project/timeline.ts"
  "vocabulary 16 src/project/vocabulary.ts"
  "entrypoints 14 src/project/entrypoints.ts"
  "flow 21 src/project/deviceflow.ts,src/project/events.ts,src/project/sync.ts,src/project/blocking.ts,src/project/threadwork.ts"
  "graph 18 src/project/callgraph.ts,src/project/dump.ts,src/project/fixpoint.ts,src/project/summaries.ts,src/project/modules.ts,src/project/values.ts,src/project/project.ts,src/project/ids.ts"
)
chosen=()
for g in "${groups[@]}"; do
  set -- $g
  if [ "$wanted" = "  " ] || [[ $wanted == *" $1 "* ]]; then chosen+=("$g"); fi
done
[ ${#chosen[@]} -gt 0 ] || { echo "no group named in:$wanted" >&2; exit 2; }
total=0
for g in "${chosen[@]}"; do set -- $g; total=$((total + $2)); done
rm -rf reports/mutation; mkdir -p reports/mutation
pids=()
start=$(date +%s)
for g in "${chosen[@]}"; do
  set -- $g
  name=$1 runners=$(( (cores - ${#chosen[@]}) * $2 / total )); [ "$runners" -lt 1 ] && runners=1
  cp reports/stryker-incremental.json "reports/incremental-$name.json"
  echo "group $name: $runners runners: $3"
  MPS_MUTATE_GROUP=$name timeout -k 10 "$limit" "$node" node_modules/@stryker-mutator/core/bin/stryker.js run \
    --mutate "$3" --concurrency "$runners" --reporters progress-append-only,json >"$out/log-$name.txt" 2>&1 &
  pids+=("$!:$name:$3")
done
picked=()
missing=()
for p in "${pids[@]}"; do
  IFS=: read -r pid name files <<<"$p"
  wait "$pid"; rc=$?
  echo "group $name: exit $rc ($(( $(date +%s) - start )) s since the start)"
  if [ "$rc" -eq 0 ] && [ -s "reports/mutation/$name.json" ]; then
    "$node" scripts/mutation-report.mjs pick "reports/mutation/$name.json" "reports/mutation/picked-$name.json" "$files" && picked+=("reports/mutation/picked-$name.json")
  else
    missing+=("$name")
  fi
done
if [ ${#picked[@]} -gt 0 ]; then
  "$node" scripts/mutation-report.mjs merge "$out/mutation.json" "${picked[@]}"
  { [ ${#missing[@]} -eq 0 ] || echo "Groups without a result (over the limit or failed): ${missing[*]}"; echo
    "$node" scripts/mutation-report.mjs summary "$out/mutation.json"; } | tee "$out/summary.md"
fi
set +f
# The logs in one file (what comes back is limited in number of files).
for f in "$out"/log-*.txt; do echo "==== $f"; tail -c 6000 "$f"; done >"$out/logs.txt"
rm -f "$out"/log-*.txt
