#!/usr/bin/env bash
# The whole mutation set (rules/ and src/project/) on a many-core machine without Node, from the
# bundle of scripts/mutate-bundle.sh. Runs the files as disjoint groups, each its own Stryker
# process with runners in proportion to its expected cost, so that a group that outlasts the time
# limit loses only its own results; then merges the groups' reports into one (also usable as
# reports/stryker-incremental.json) and prints the per-folder and per-file table.
#
# Here:   scripts/mutate-bundle.sh DIR          (DIR inside the checkout the device tool sends,
#                                                in a folder .git/info/exclude ignores)
# There:  mkdir /tmp/w && tar -C /tmp/w -xzf DIR/mutate-bundle.tgz &&
#         bash /tmp/w/scripts/mutate-device.sh DIR/node.gz "$OUT" [SECONDS]
# Back here: cp OUT/stryker-incremental.json reports/ (then `npm run mutate` reuses it), and
#         node scripts/mutation-report.mjs summary OUT/mutation.json [--survivors PREFIX]
# SECONDS (default 480) bounds each group; results of a group that outlasts it are lost
# (Stryker writes its report at the end), the others are kept and merged.
set -uo pipefail
node_gz=$(realpath "${1:?usage: mutate-device.sh NODE_GZ OUT_DIR [SECONDS]}")
out=$(mkdir -p "${2:?OUT_DIR}" && realpath "$2")
limit=${3:-480}
cd "$(dirname "$0")/.."
gzip -dc "$node_gz" >/tmp/mps-lint-node && chmod +x /tmp/mps-lint-node
node=/tmp/mps-lint-node
cores=$(nproc)

# name weight files: weight ~ runner-seconds the group needs. The tables (vocabulary.ts,
# entrypoints.ts) cost most per mutant: their mutants are static (run at import), so each runs
# every related test; rules/, index.ts and threads.ts are mostly reused from the incremental file.
# Every file of rules/ and src/project/ must be in exactly one group.
set -f # the file patterns below go to Stryker unexpanded
groups=(
  "rules 2 rules/**/*.ts"
  "index-threads 4 src/project/index.ts,src/project/threads.ts"
  "timeline 6 src/project/timeline.ts"
  "vocabulary 7 src/project/vocabulary.ts"
  "entrypoints 7 src/project/entrypoints.ts"
  "flow 4 src/project/deviceflow.ts,src/project/events.ts,src/project/sync.ts,src/project/blocking.ts,src/project/threadwork.ts"
  "graph 5 src/project/callgraph.ts,src/project/dump.ts,src/project/fixpoint.ts,src/project/summaries.ts,src/project/modules.ts,src/project/values.ts,src/project/project.ts,src/project/ids.ts"
)
total=0
for g in "${groups[@]}"; do set -- $g; total=$((total + $2)); done
rm -rf reports/mutation; mkdir -p reports/mutation
pids=()
start=$(date +%s)
for g in "${groups[@]}"; do
  set -- $g
  name=$1 runners=$(( cores * $2 / total )); [ "$runners" -lt 1 ] && runners=1
  cp reports/stryker-incremental.json "reports/incremental-$name.json"
  echo "group $name: $runners runners: $3"
  MPS_MUTATE_GROUP=$name timeout -k 10 "$limit" "$node" node_modules/@stryker-mutator/core/bin/stryker.js run \
    --mutate "$3" --concurrency "$runners" --reporters progress-append-only,json >"$out/log-$name.txt" 2>&1 &
  pids+=("$!:$name")
done
done_groups=()
for p in "${pids[@]}"; do
  wait "${p%%:*}"; rc=$?
  echo "group ${p#*:}: exit $rc after $(( $(date +%s) - start )) s"
  [ -s "reports/mutation/${p#*:}.json" ] && done_groups+=("reports/mutation/${p#*:}.json")
done
if [ ${#done_groups[@]} -gt 0 ]; then
  "$node" scripts/mutation-report.mjs merge "$out/mutation.json" "${done_groups[@]}"
  cp "$out/mutation.json" "$out/stryker-incremental.json"
  "$node" scripts/mutation-report.mjs summary "$out/mutation.json" | tee "$out/summary.md"
fi
set +f
# The logs in one file (what comes back is limited in number of files).
for f in "$out"/log-*.txt; do echo "==== $f"; tail -c 4000 "$f"; done >"$out/logs.txt"
rm -f "$out"/log-*.txt
