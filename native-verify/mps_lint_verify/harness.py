"""The target process: installs instrumentation, runs the target program warm-up + repeats
times, and reports each iteration to the runner over a control pipe (JSON lines).

Started by runner.py as `python -m mps_lint_verify.harness` (configuration JSON on stdin) in
its own session (process group). The target's own stdout/stderr are files the runner owns.
"""

import importlib
import json
import os
import runpy
import signal
import sys
import threading
import time
import traceback


def _send_factory():
    fd = int(os.environ.pop("MPS_LINT_VERIFY_CTL_FD"))
    os.set_inheritable(fd, False)  # processes the target starts must not hold the pipe open
    ctl = os.fdopen(fd, "w", buffering=1)
    lock = threading.Lock()

    def send(obj):
        with lock:
            ctl.write(json.dumps(obj, default=str) + "\n")
            ctl.flush()
    return send


def _start_watchdog():
    """If the runner dies (SIGKILL, crash), take the whole process group down with us."""
    ppid = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != ppid:
                try:
                    os.killpg(os.getpgrp(), signal.SIGKILL)
                finally:
                    os._exit(137)
    t = threading.Thread(target=watch, name="mps-lint-verify-watchdog", daemon=True)
    t._mps_lint_internal = True
    t.start()


def _tail(text, n=4000):
    return text if len(text) <= n else "..." + text[-n:]


def run_target(t):
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    try:
        kind = t["kind"]
        argv = list(t.get("argv") or [])
        if kind == "file":
            path = t["path"]
            sys.argv = [path] + argv
            sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
            runpy.run_path(path, run_name="__main__")
        elif kind == "module":
            sys.argv = [t["module"]] + argv
            sys.path.insert(0, os.getcwd())
            runpy.run_module(t["module"], run_name="__main__", alter_sys=True)
        elif kind == "callable":
            modname, _, attr = t["callable"].partition(":")
            sys.argv = [t["callable"]] + argv
            sys.path.insert(0, os.getcwd())
            obj = importlib.import_module(modname)
            for part in attr.split("."):
                obj = getattr(obj, part)
            obj()
        else:
            return {"kind": "error", "error": "unknown target kind %r" % kind}
    except SystemExit as e:
        code = e.code
        if code is None or code == 0:
            return None
        return {"kind": "exit", "code": code if isinstance(code, int) else 1,
                "error": "target exited with status %s" % (code,)}
    except BaseException as e:  # the target's own failure, reported, never raised
        return {"kind": "exception",
                "error": "".join(traceback.format_exception_only(type(e), e)).strip(),
                "traceback": _tail("".join(traceback.format_exception(type(e), e, e.__traceback__)))}
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return None


def streams_policy(cfg, device, mapping):
    pol = cfg.get("cuda_streams", "auto")
    if device != "cuda":
        return False
    if pol == "per-thread":
        return True
    if pol == "default":
        return False
    # auto: code written for MPS (which the guide measures with a stream per thread)
    if "mps" not in mapping:
        return False
    src = ""
    t = cfg["target"]
    try:
        if t["kind"] == "file":
            with open(t["path"], encoding="utf-8", errors="replace") as f:
                src = f.read()
    except OSError:
        pass
    return "mps" in src or t["kind"] != "file"


def gpu_busy(torch, inst, target):
    """One more lean run under torch.profiler (CUDA activity only): the union of the kernels'
    device intervals is the GPU's busy time. Untimed: the runner divides it by the timed runs'
    median wall time. Returns {"busy_s": ..} or {"error": why}."""
    try:
        from torch.profiler import ProfilerActivity, profile
        inst.reset()
        inst.lean = True
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            run_target(target)
            inst.finish_threads()
            inst.final_sync()
        spans = []
        for e in prof.events():
            dt = str(getattr(e, "device_type", ""))
            if dt.endswith("CUDA") and e.time_range.end > e.time_range.start:
                spans.append((e.time_range.start, e.time_range.end))
        spans.sort()
        busy, cur_s, cur_e = 0.0, None, None
        for a, b in spans:
            if cur_e is None or a > cur_e:
                if cur_e is not None:
                    busy += cur_e - cur_s
                cur_s, cur_e = a, b
            else:
                cur_e = max(cur_e, b)
        if cur_e is not None:
            busy += cur_e - cur_s
        if not spans:
            return {"error": "the profiler saw no CUDA kernels"}
        return {"busy_s": busy / 1e6, "kernels": len(spans)}
    except BaseException as e:  # evidence is optional; the timings stand without it
        return {"error": "%s: %s" % (type(e).__name__, str(e).split("\n")[0])}


def main():
    # The configuration arrives on stdin (no file to leave behind); the target then gets
    # /dev/null as its stdin, as before.
    cfg = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    send = _send_factory()
    _start_watchdog()
    try:
        import torch
    except BaseException as e:
        send({"ev": "error", "kind": "no-torch",
              "error": "cannot import torch in %s: %s" % (sys.executable, str(e).strip())})
        sys.stdout.flush()
        os._exit(3)
    from .devices import ACCELERATORS, accelerator_available, environment, pick_device
    from .instrument import Instrumentation
    try:
        # Before any patching: importing the profiler later walks torch's namespace (dynamo's
        # trace rules) and fails on the re-targeted torch.mps (seen on torch 2.11).
        import torch.profiler  # noqa: F401
    except Exception:
        pass

    try:
        device = pick_device(torch, cfg.get("device"))
    except ValueError as e:
        send({"ev": "error", "kind": "device", "error": str(e)})
        os._exit(3)
    mapping = {}
    for kind in ACCELERATORS:
        if kind != device and not accelerator_available(torch, kind):
            mapping[kind] = device
    pts = streams_policy(cfg, device, mapping)
    env = environment(torch, device)  # before any patching (is_built() etc. are re-targeted)
    inst = Instrumentation(torch, device, cfg["mode"], mapping, pts, cfg.get("watch"))
    inst.install_namespaces()
    inst.install_retarget()
    inst.install_syncs_and_events()
    inst.install_threads()
    send({"ev": "env", "environment": env,
          "instrumented": inst.instrumented, "retargeted": inst.retargeted, "notes": inst.notes,
          "per_thread_streams": pts})

    warmup, repeats = int(cfg.get("warmup", 1)), int(cfg.get("repeats", 3))
    min_time, max_repeats = float(cfg.get("min_time_s", 1.0)), max(repeats, int(cfg.get("max_repeats", 50)))
    # Iteration 0 attributes (instrumented, line-traced); it is never timed. Then warm-up and
    # timed iterations run lean in both modes, until `repeats` runs and `min_time` seconds.
    i, timed_n, timed_s = 0, 0, 0.0
    while True:
        kind = "attribution" if i == 0 else "warmup" if i <= warmup else "timed"
        if kind == "timed" and timed_n >= repeats and (timed_s >= min_time or timed_n >= max_repeats):
            break
        send({"ev": "iter", "i": i, "of": 1 + warmup + max(repeats, timed_n + 1), "warmup": kind != "timed", "kind": kind})
        inst.reset()
        inst.lean = kind != "attribution"
        trace = kind == "attribution" and bool(inst.watch)
        if trace:
            inst.start_tracing()
        t0 = time.perf_counter()
        err = run_target(cfg["target"])
        try:
            inst.finish_threads()
        finally:
            if trace:
                inst.stop_tracing()
        inst.final_sync()
        t1 = time.perf_counter()
        wall = t1 - t0
        snap = inst.snapshot()
        threads_s = t1 - inst.first_thread_start if inst.first_thread_start is not None else None
        snap.update({"i": i, "warmup": kind != "timed", "kind": kind, "wall_s": wall, "threads_s": threads_s,
                     "traced": trace})
        send({"ev": "iter_done", "iteration": snap, "applied": dict(inst.applied)})
        if err:
            send(dict(err, ev="target_error", i=i))
            send({"ev": "done"})
            sys.stdout.flush()
            os._exit(0)
        if kind == "timed":
            timed_n += 1
            timed_s += wall
        i += 1
    if device == "cuda":
        send({"ev": "gpu_busy", "gpu": gpu_busy(torch, inst, cfg["target"])})
    send({"ev": "done"})
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
