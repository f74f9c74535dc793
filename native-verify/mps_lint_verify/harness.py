"""The target process: installs instrumentation, runs the target program warm-up + repeats
times, and reports each iteration to the runner over a control pipe (JSON lines).

Started by runner.py as `python -m mps_lint_verify.harness CONFIG.json` in its own session
(process group). The target's own stdout/stderr are files the runner owns.
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


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
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
    n = warmup + repeats
    for i in range(n):
        send({"ev": "iter", "i": i, "of": n, "warmup": i < warmup})
        inst.reset()
        trace = i == 0 and bool(inst.watch)
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
        wall = time.perf_counter() - t0
        snap = inst.snapshot()
        snap.update({"i": i, "warmup": i < warmup, "wall_s": wall, "traced": trace})
        send({"ev": "iter_done", "iteration": snap, "applied": dict(inst.applied)})
        if err:
            send(dict(err, ev="target_error", i=i))
            break
    send({"ev": "done"})
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
