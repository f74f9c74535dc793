"""The runtime witness's overhead: the bench's loops (mps_lint_verify.bench.run_threads: each
thread loops `step(); wait()` until --min-time) run untraced and traced, each in a fresh
interpreter, alternating, and the ops/s compared.

  python -m mps_lint_verify.trace_bench [--device auto|cpu|cuda|mps] [--op matmul,linear]
      [--size 512] [--batch 32] [--threads 1,4,8] [--sync-mode device,event] [--min-time 0.5]
      [--repeats 5] [--json out.json]

Traced means what `mps-lint trace` installs: native-verify/trace-path on PYTHONPATH and
MPS_LINT_TRACE set, so sitecustomize hooks torch's waits, Events and threads; the record each
process sends at exit is collected here and its wait count checked against the loop's ops (the
hooks must have seen every wait). On the CPU the code is written for MPS and re-targeted to
the CPU in both runs (mps_lint_verify.instrument, as --device cpu does), so the hooked calls are
the same ones; only the hooks differ between the two runs.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
NATIVE = os.path.dirname(HERE)
TRACE_PATH = os.path.join(NATIVE, "trace-path")


def child(cfg):
    import torch
    from . import bench
    device = cfg["device"]
    if device == "cpu":
        torch.set_num_threads(1)
        if not os.environ.get("MPS_LINT_TRACE"):
            # untraced: the same re-targeting the tracer applies for --device cpu
            from . import devices, instrument
            mapping = {k: "cpu" for k in devices.ACCELERATORS if not devices.accelerator_available(torch, k)}
            inst = instrument.Instrumentation(torch, "cpu", "as_written", mapping, False, None)
            inst.install_namespaces()
            inst.install_retarget()
        run_as = "mps"  # code written for MPS, run on the CPU
    else:
        run_as = device
    dtype = bench.resolve_dtype(torch, device, cfg["op"], "auto", [])
    ops, wall = bench.run_threads(torch, run_as, cfg["op"], dtype, cfg["size"], cfg["batch"], cfg["mode"],
                                  cfg["threads"], cfg["min_time"], cfg["warmup"])
    sys.stdout.write(json.dumps({"ops": ops, "wall_s": wall}) + "\n")


class _Listener(object):
    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.records = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            data = b""
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                data += b
            c.close()
            _tok, _, body = data.decode("utf-8").partition("\n")
            try:
                self.records.append(json.loads(body))
            except ValueError:
                pass

    def address(self):
        return "127.0.0.1:%d:bench" % self.srv.getsockname()[1]


def run_one(cfg, traced, listener):
    env = dict(os.environ)
    env.pop("MPS_LINT_TRACE", None)
    env.pop("MPS_LINT_TRACE_DEVICE", None)
    paths = [NATIVE]
    if traced:
        paths.insert(0, TRACE_PATH)
        env["MPS_LINT_TRACE"] = listener.address()
        if cfg["device"] == "cpu":
            env["MPS_LINT_TRACE_DEVICE"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    before = len(listener.records)
    p = subprocess.run([sys.executable, "-m", "mps_lint_verify.trace_bench", "--child", json.dumps(cfg)],
                       env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit("bench child failed:\n" + p.stderr[-2000:])
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if traced:
        for _ in range(100):
            if len(listener.records) > before:
                break
            threading.Event().wait(0.05)
        rec = listener.records[-1] if len(listener.records) > before else None
        out["hooked"] = (rec or {}).get("totals", {})
    return out


def micro(n=200000):
    """The hooks' own cost per call, in one process: a no-op wait and a no-op Event, called
    bare and through the hooks, on a worker thread (where MPS001 is recorded with its stack)."""
    import time
    sys.path.insert(0, TRACE_PATH)
    from mps_lint_trace.core import Tracer

    class Ev(object):
        def record(self, stream=None):
            return None

        def synchronize(self):
            return None

    class TracedEv(Ev):
        pass

    def wait():
        return None
    tr = Tracer("bench")
    hooked_wait = tr.wrap_device_sync(wait, "torch.bench.synchronize")
    tr.patch_event_class(TracedEv, "bench.Event")
    out = {}

    def loop(name, fn):
        best = None
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            dt = (time.perf_counter() - t0) / n
            best = dt if best is None else min(best, dt)
        out[name] = best
    ev, tev = Ev(), TracedEv()

    def ev_pair():
        ev.record()
        ev.synchronize()

    def tev_pair():
        tev.record()
        tev.synchronize()

    def work():
        loop("wait", wait)
        loop("hooked_wait", hooked_wait)
        loop("event", ev_pair)
        loop("hooked_event", tev_pair)
    t = threading.Thread(target=work)
    t.start()
    t.join()
    return {"device_wait_us": (out["hooked_wait"] - out["wait"]) * 1e6,
            "event_record_sync_us": (out["hooked_event"] - out["event"]) * 1e6,
            "bare_wait_us": out["wait"] * 1e6, "bare_event_us": out["event"] * 1e6}


def quartiles(xs):
    s = sorted(xs)
    if len(s) == 1:
        return s[0], s[0], s[0]
    q = statistics.quantiles(s, n=4, method="inclusive")
    return q[0], statistics.median(s), q[2]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mps_lint_verify.trace_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--op", default="matmul")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", default="1,4,8")
    ap.add_argument("--sync-mode", default="device,event")
    ap.add_argument("--min-time", dest="min_time", type=float, default=0.5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    if a.child:
        child(json.loads(a.child))
        return 0
    import torch
    from .devices import environment, pick_device
    device = pick_device(torch, a.device)
    env = environment(torch, device)
    listener = _Listener()
    cells = []
    m = micro()
    print("the hooks' own cost per call (a no-op wait on a worker thread, best of 5 x 200,000): "
          "device-wide wait +%.2f us, Event record+synchronize +%.2f us" % (m["device_wait_us"], m["event_record_sync_us"]))
    print("trace overhead on %s (%s, torch %s): the bench's loops untraced vs traced, %d alternating runs each"
          % (device, env["device_name"], env["torch"], a.repeats))
    print("%-8s %-7s %7s  %22s  %22s  %9s  %s" % ("op", "mode", "threads", "untraced ops/s (p25-p75)",
                                                  "traced ops/s (p25-p75)", "overhead", "waits seen / ops"))
    for op in [x for x in a.op.split(",") if x]:
        for mode in [x for x in a.sync_mode.split(",") if x]:
            for n in [int(x) for x in a.threads.split(",") if x]:
                cfg = {"device": device, "op": op, "size": a.size, "batch": a.batch, "mode": mode, "threads": n,
                       "min_time": a.min_time, "warmup": a.warmup}
                plain, traced, seen = [], [], []
                for r in range(a.repeats):
                    order = (False, True) if r % 2 == 0 else (True, False)
                    for t in order:
                        res = run_one(cfg, t, listener)
                        rate = res["ops"] / res["wall_s"]
                        (traced if t else plain).append(rate)
                        if t:
                            h = res.get("hooked", {})
                            waits = h.get("device_sync", 0) if mode == "device" else h.get("event_synchronize", 0)
                            seen.append((waits, res["ops"]))
                p25, p50, p75 = quartiles(plain)
                t25, t50, t75 = quartiles(traced)
                overhead = 1 - t50 / p50
                # the hooks saw every wait of the timed loop (plus warm-up and the final syncs)
                all_seen = all(w >= ops for w, ops in seen)
                cell = {"op": op, "mode": mode, "threads": n, "untraced_ops_s": plain, "traced_ops_s": traced,
                        "untraced_median": p50, "traced_median": t50, "overhead": overhead,
                        "overhead_spread": [1 - t75 / p25, 1 - t25 / p75], "waits_seen_vs_ops": seen,
                        "every_wait_seen": all_seen}
                cells.append(cell)
                print("%-8s %-7s %7d  %8.0f (%5.0f-%5.0f)  %8.0f (%5.0f-%5.0f)  %+8.1f%%  %s" % (
                    op, mode, n, p50, p25, p75, t50, t25, t75, overhead * 100,
                    "all" if all_seen else "MISSED some: %s" % seen))
    print("overhead = 1 - traced/untraced median ops/s; its spread from the quartiles is in the JSON")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"schema": "mps-lint-trace-bench/1", "environment": env, "config": vars(a), "per_call": m, "cells": cells}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
