#!/usr/bin/env bash
# The GPU sitting of issue 28 (runtime witness, docs/trace.md). Run from the repository root on
# the GPU machine (Python 3.12 + CUDA torch):
#
#   bash scripts/trace-gpu.sh OUT
#
# Needs, besides the working tree:
#   * .trace-gpu/dml/metal_mps_parallel and .trace-gpu/gpt-fast (scripts/trace-gpu-prepare.sh);
#   * for the joins on the machine itself: dist/ (npm run build) and Node >= 20.19 ($NODE, default
#     `node`) with node_modules/{tree-sitter,tree-sitter-python,web-tree-sitter}. Without Node the
#     workloads are still traced (python -m mps_lint_trace.record) and their records kept; join
#     them afterwards anywhere: bash scripts/trace-gpu.sh --join OUT
#
# Each workload runs ONCE under the hooks; its record (every Python process's) is joined with the
# static findings in text, JSON and SARIF (mps-lint trace --from). What comes back: OUT/summary.txt,
# OUT/log.txt and OUT/trace-gpu.tar.gz (everything: records, joins, the programs' output, the
# overhead bench); nothing else is written outside a temporary folder removed at the end.
# About 8 minutes on an H100 (estimated: not yet run there).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
NODE=${NODE:-node}
TP="$ROOT/native-verify/trace-path"
DML="$ROOT/.trace-gpu/dml/metal_mps_parallel"
GPTFAST="$ROOT/.trace-gpu/gpt-fast"
# Overridable for a dry run elsewhere (e.g. TRACE_DEVICE=cpu DML_TESTS=test_thread_churn on a CPU).
DEV=${TRACE_DEVICE:-cuda}
DML_TESTS=${DML_TESTS:-"test_thread_churn test_mps_parallel_story test_cross_stream_tensor test_parallel_mps_simple test_thread_boundary test_nnlinear_threads test_batching_server test_parallel_mps"}
GUIDE_ITERS=${GUIDE_ITERS:-100}
BENCH_ARGS=${BENCH_ARGS:-"--op matmul --threads 1,8 --sync-mode device,event --repeats 3 --min-time 0.5"}
# Untraced/traced gpt-fast pairs for the overhead figure.
OVERHEAD_RUNS=${OVERHEAD_RUNS:-3}
# JOIN=0: no joins here (they need no GPU): bash scripts/trace-gpu.sh --join OUT afterwards, elsewhere.
JOIN=${JOIN:-1}
DML_BUDGET_S=${DML_BUDGET_S:-240}

JOIN_ONLY=0
if [ "${1:-}" = "--join" ]; then JOIN_ONLY=1; shift; fi
OUT=${1:?usage: bash scripts/trace-gpu.sh [--join] OUT}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
WK=$(mktemp -d)    # scratch: removed at the end
# KEEP_WORK=1 keeps it (with TMPDIR under the GPU run's $OUT, a sitting cut short still brings its records back).
trap '[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WK"' EXIT
R="$WK/results"    # everything; packed into OUT/trace-gpu.tar.gz at the end (only 8 files come back)
mkdir -p "$R"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

log() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt"; }
have_node() { "$NODE" --version >/dev/null 2>&1 && [ -f "$ROOT/dist/bundle/bin.js" ]; }
mps_lint() { "$NODE" "$ROOT/dist/bundle/bin.js" "$@"; }

# record NAME CWD [--device D] -- COMMAND...: one traced run, its record in $R/NAME.record.json
record() {
  local name=$1 cwd=$2; shift 2
  log "record $name: $*"
  # --timeout: the command is stopped after TMO s, and what its processes had sent is kept
  ( cd "$cwd" && PYTHONPATH="$TP" timeout $(( ${TMO:-300} + 60 )) "$PY" -m mps_lint_trace.record --timeout "${TMO:-300}" \
      -o "$R/$name.record.json" "$@" ) >"$R/$name.output.txt" 2>&1
  local rc=$?
  echo "exit status $rc" >>"$R/$name.output.txt"
  log "  exit status $rc; $(tail -2 "$R/$name.output.txt" | head -1)"
}

# join NAME CWD PATHS...: the records NAME.record.json and NAME-*.record.json joined with the
# static findings of PATHS (run in CWD)
join_run() {
  local name=$1 cwd=$2; shift 2
  local from=() f
  for f in "$R/$name.record.json" "$R/$name"-*.record.json; do [ -f "$f" ] && from+=(--from "$f"); done
  [ ${#from[@]} -gt 0 ] || { log "join $name: no record"; return; }
  if ! have_node; then log "join $name: no Node here; later: bash scripts/trace-gpu.sh --join $OUT"; return; fi
  ( cd "$cwd" \
    && mps_lint trace "${from[@]}" -o "$R/$name.txt" "$@" \
    && mps_lint trace "${from[@]}" -f json -o "$R/$name.json" "$@" \
    && mps_lint trace "${from[@]}" -f sarif -o "$R/$name.sarif" "$@" ) >>"$OUT/log.txt" 2>&1
  log "join $name: $(tail -1 "$R/$name.txt" 2>/dev/null)"
}

joins() {
  join_run guide-device-sync "$ROOT" fixtures/trace/guide_example.py
  join_run guide-event-sync "$ROOT" fixtures/trace/guide_example.py
  join_run dml "$DML" tests examples
  join_run gpt-fast "$GPTFAST" .
}

summary() {
  {
    echo "# trace GPU sitting, $(date -u +%FT%TZ)"
    for f in "$R"/env.txt "$R"/guide-device-sync.txt "$R"/guide-event-sync.txt "$R"/trace-bench-$DEV.txt "$R"/gpt-fast-overhead.txt; do
      [ -f "$f" ] && { echo; echo "## $(basename "$f")"; cat "$f"; }
    done
    for n in dml gpt-fast; do
      [ -f "$R/$n.txt" ] && { echo; echo "## $n.txt (head and tail)"; head -60 "$R/$n.txt"; echo "..."; tail -3 "$R/$n.txt"; }
    done
  } >"$OUT/summary.txt"
  tar -czf "$OUT/trace-gpu.tar.gz" -C "$R" .
  log "packed $(du -h "$OUT/trace-gpu.tar.gz" | cut -f1) into $OUT/trace-gpu.tar.gz"
}

if [ "$JOIN_ONLY" = 1 ]; then
  tar -xzf "$OUT/trace-gpu.tar.gz" -C "$R" || { echo "no $OUT/trace-gpu.tar.gz to join"; exit 2; }
  joins
  summary
  exit 0
fi

# ---- 0. the machine
{
  nvidia-smi -L 2>&1 | head -4
  "$PY" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")'
  "$PY" -c 'import pytest; print("pytest", pytest.__version__)' 2>&1
  "$NODE" --version 2>&1 | sed 's/^/node /'
} >"$R/env.txt" 2>&1
log "$(cat "$R/env.txt" | tr '\n' ';')"

# ---- 1. the guide's complete example, written for MPS, re-targeted to CUDA: with the device-wide
# wait the guide warns against (Mistake 1), and as the guide writes it (per-thread events)
record guide-device-sync "$ROOT" --device "$DEV" -- "$PY" fixtures/trace/guide_example.py --device-sync --iters=$GUIDE_ITERS
record guide-event-sync "$ROOT" --device "$DEV" -- "$PY" fixtures/trace/guide_example.py --iters=$GUIDE_ITERS
if have_node; then
  # the whole driver once on CUDA: mps-lint trace -- <command> (loopback server, sitecustomize)
  ( cd "$ROOT" && mps_lint trace --device "$DEV" fixtures/trace/guide_example.py -- "$PY" fixtures/trace/guide_example.py --device-sync --iters=$GUIDE_ITERS ) \
    >"$R/guide-driver.txt" 2>&1
  log "driver run: exit $? ($(tail -1 "$R/guide-driver.txt"))"
fi

# ---- 2. the hooks' overhead on the bench's loops (traced vs untraced, alternating fresh processes)
log "trace_bench (overhead)"
( cd "$ROOT/native-verify" && PYTHONPATH=. timeout 360 "$PY" -m mps_lint_verify.trace_bench --device "$DEV" $BENCH_ARGS --json "$R/trace-bench-$DEV.json" ) >"$R/trace-bench-$DEV.txt" 2>&1
log "  $(tail -3 "$R/trace-bench-$DEV.txt" | head -2 | tr '\n' ';')"

# ---- 3. dropbox/dML: the multi-threaded MPS tests of metal_mps_parallel, re-targeted to CUDA
# One record per test file (at most 90 s each, 45 s a test; no new file after DML_BUDGET_S), joined together.
if [ -d "$DML/tests" ]; then
  dml_start=$SECONDS
  pt_timeout=$("$PY" -c 'import pytest_timeout' >/dev/null 2>&1 && echo "--timeout 45")
  for t in $DML_TESTS; do
    if [ $(( SECONDS - dml_start )) -gt "$DML_BUDGET_S" ]; then log "dML: $DML_BUDGET_S s passed; $t and the rest not run"; break; fi
    TMO=90 record "dml-$t" "$DML" --device "$DEV" -- "$PY" -m pytest -q -p no:cacheprovider -o addopts= $pt_timeout "tests/$t.py"
  done
else
  log "dML: $DML missing (scripts/trace-gpu-prepare.sh)"
fi

# ---- 4. pytorch-labs/gpt-fast: its generate.py demo, stories15M with random weights and a
# word-level SentencePiece tokenizer made here (no hub download); untraced vs traced tokens/s
if [ -f "$GPTFAST/generate.py" ]; then
  mkdir -p "$WK/stories15M"
  ( cd "$GPTFAST" && "$PY" - "$WK/stories15M" <<'EOF'
import random, sys, torch
import sentencepiece as spm
from model import Transformer
out = sys.argv[1]
torch.manual_seed(0)
torch.save(Transformer.from_name("stories15M").state_dict(), out + "/model.pth")
random.seed(0)
words = ["w%05d" % i for i in range(40000)]
lines = [" ".join(random.choice(words) for _ in range(12)) for _ in range(30000)]
spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_prefix=out + "/tokenizer", vocab_size=32000,
                               model_type="word", bos_id=1, eos_id=2, unk_id=0, pad_id=-1, hard_vocab_limit=False, minloglevel=2)
print("random stories15M checkpoint and tokenizer in", out)
EOF
  ) >"$R/gpt-fast-prepare.txt" 2>&1
  log "gpt-fast prepare: $(tail -1 "$R/gpt-fast-prepare.txt")"
  GEN=("$PY" generate.py --checkpoint_path "$WK/stories15M/model.pth" --prompt "Hello, my name is" --max_new_tokens 200 --num_samples 5)
  record gpt-fast "$GPTFAST" -- "${GEN[@]}"
  : >"$R/gpt-fast-overhead.txt"
  if ! tail -1 "$R/gpt-fast.output.txt" | grep -qx "exit status 0"; then
    log "gpt-fast did not run (gpt-fast.output.txt): no overhead runs"
  else for i in $(seq 1 "$OVERHEAD_RUNS"); do
    for mode in untraced traced; do
      if [ $mode = traced ]; then
        out=$(cd "$GPTFAST" && PYTHONPATH="$TP" timeout 300 "$PY" -m mps_lint_trace.record --timeout 240 -o "$WK/r.json" -- "${GEN[@]}" 2>&1)
      else
        out=$(cd "$GPTFAST" && timeout 300 "${GEN[@]}" 2>&1)
      fi
      echo "$mode run $i: $(echo "$out" | grep 'Average tokens/sec')" >>"$R/gpt-fast-overhead.txt"
    done
  done; fi
  log "gpt-fast overhead: $(tr '\n' ';' <"$R/gpt-fast-overhead.txt")"
else
  log "gpt-fast: $GPTFAST missing (scripts/trace-gpu-prepare.sh)"
fi

if [ "$JOIN" = 1 ]; then joins; else log "JOIN=0: joins skipped; run bash scripts/trace-gpu.sh --join $OUT where the files are"; fi
summary
