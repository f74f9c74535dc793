#!/bin/bash
# One GPU sitting for issue 15: the independent reproduction, mps-lint bench and --verify on the
# guide's complete example, on one machine, one after the other. Results under $OUT.
set -u
OUT=${OUT:-/tmp/sitting}; mkdir -p "$OUT"; export OUT
log() { echo "== $*"; }
{
log "card"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import torch,sys;print('torch',torch.__version__,'cuda',torch.version.cuda,'python',sys.version.split()[0])"
node -e "require('tree-sitter'); console.log('tree-sitter loads')" || echo "tree-sitter FAILED to load"
export PYTHONPATH=$PWD/native-verify
log "fix runtime harness (issue 18): every fix fixture before and after, CUDA torch, all GPUs"
nvidia-smi -L
( ls fixtures/fix/*.py | grep -v '\.fixed\.py$' | xargs python3 test/fix-runtime/compare.py --timeout 120 ) > "$OUT/fix-runtime.txt" 2>&1; echo "compare.py rc=$?"
cat "$OUT/fix-runtime.txt" | cut -c1-400
log "reproduction (bench/repro/repro.py), 512 fp16 matmul"
python3 bench/repro/repro.py --json "$OUT/repro.json"
log "mps-lint bench: 512 fp16 matmul, all wait forms"
node dist/bundle/bin.js bench --python python3 -- --op matmul --size 512 --sync-mode device,event,none,stream,event-nostream --no-process-pool --json "$OUT/bench-matmul512.json"
log "mps-lint bench: 2048 fp16 matmul"
python3 -m mps_lint_verify.bench --op matmul --size 2048 --no-process-pool --json "$OUT/bench-matmul2048.json"
log "mps-lint bench: guide Linear 512->1024->512 fp32, batch 32 and batch 256"
python3 -m mps_lint_verify.bench --op linear --size 512 --batch 32 --sync-mode device,event,none,event-nostream --no-process-pool --json "$OUT/bench-linear-b32.json"
python3 -m mps_lint_verify.bench --op linear --size 512 --batch 256 --no-process-pool --json "$OUT/bench-linear-b256.json"
log "mps-lint --verify on the guide's complete example (device sync as written)"
python3 - <<'PY'
import json, os, subprocess, sys
f = os.path.abspath("fixtures/verify/guide_example_device_sync.py")
req = {"schema": "mps-lint-verify/2", "target": {"file": f, "cwd": os.getcwd()}, "watch": [{"file": f, "line": 24}],
       "options": {"device": "cuda", "timeout_s": 300, "repeats": 25, "min_time_s": 5}}
r = subprocess.run([sys.executable, "-m", "mps_lint_verify", "--request", "-", "--out", os.environ["OUT"] + "/verify.json"],
                   input=json.dumps(req), text=True, stderr=subprocess.DEVNULL, timeout=400)
res = json.load(open(os.environ["OUT"] + "/verify.json"))
print(res["status"], res["error"], res["comparison"], res["regime"])
for m in ("as_written", "event_sync"):
    p = res["runs"][m]
    print(m, p["status"], p.get("repeats"), p.get("median_s"), p.get("p25_s"), p.get("p75_s"), p.get("min_s"), p.get("max_s"), p.get("regime"))
    print("  threaded section", p.get("threads_median_s"), p.get("threads_p25_s"), p.get("threads_p75_s"))
PY
node dist/bundle/bin.js --verify --python python3 --device cuda --verify-repeats 20 --verify-timeout 300 fixtures/verify/guide_example_device_sync.py
log "second pass, same sitting: reproduction, then bench (device,event), 512 fp16 matmul, 5 repeats"
python3 bench/repro/repro.py --repeats 5 --json "$OUT/repro2.json"
python3 -m mps_lint_verify.bench --op matmul --size 512 --sync-mode device,event --repeats 5 --no-process-pool --json "$OUT/bench-matmul512-pass2.json"
log "setsid child survives? (hang fixture with a setsid grandchild)"
python3 - <<'PY'
import json, os, subprocess, sys
req = {"schema": "mps-lint-verify/2", "target": {"file": "fixtures/verify/setsid_child.py", "cwd": os.getcwd()},
       "options": {"timeout_s": 3, "repeats": 1, "replace": False}}
r = subprocess.run([sys.executable, "-m", "mps_lint_verify", "--request", "-"], input=json.dumps(req), capture_output=True, text=True)
res = json.loads(r.stdout); print(res["status"], res["error"]); print(res["killed"])
PY
} 2>&1 | tee "$OUT/log.txt"
