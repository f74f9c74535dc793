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
       "options": {"device": "cuda", "timeout_s": 120}}
r = subprocess.run([sys.executable, "-m", "mps_lint_verify", "--request", "-", "--out", os.environ["OUT"] + "/verify.json"],
                   input=json.dumps(req), text=True, stderr=subprocess.DEVNULL, timeout=400)
res = json.load(open(os.environ["OUT"] + "/verify.json"))
print(res["status"], res["error"], res["comparison"], res["regime"])
for m in ("as_written", "event_sync"):
    p = res["runs"][m]
    print(m, p["status"], p.get("repeats"), p.get("median_s"), p.get("p25_s"), p.get("p75_s"), p.get("min_s"), p.get("max_s"), p.get("regime"))
PY
node dist/bundle/bin.js --verify --python python3 --device cuda fixtures/verify/guide_example_device_sync.py
log "setsid child survives? (hang fixture with a setsid grandchild)"
python3 - <<'PY'
import json, os, subprocess, sys
req = {"schema": "mps-lint-verify/2", "target": {"file": "fixtures/verify/setsid_child.py", "cwd": os.getcwd()},
       "options": {"timeout_s": 3, "repeats": 1, "replace": False}}
r = subprocess.run([sys.executable, "-m", "mps_lint_verify", "--request", "-"], input=json.dumps(req), capture_output=True, text=True)
res = json.loads(r.stdout); print(res["status"], res["error"]); print(res["killed"])
PY
} 2>&1 | tee "$OUT/log.txt"
