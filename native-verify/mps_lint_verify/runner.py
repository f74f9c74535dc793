"""The runner: one request in (JSON on stdin or --request FILE), one result out (JSON on stdout
or --out FILE). Schema: "mps-lint-verify/1", documented in docs/verify.md.

It runs the target twice, each time in a fresh process in its own session (process group):
  1. "as_written": instrumented, the code as the user wrote it;
  2. "event_sync": device-wide syncs made from non-main threads replaced by a per-thread
     event (record + synchronize), the guide's Pattern 2.
A run that exceeds its time limit, or that crashes, has its whole process group killed.
Progress goes to stderr as JSON lines {"mps_lint_verify": "progress", ...}, including the
pgid of each target process, so the driver can kill it too.
"""

import argparse
import json
import os
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from . import SCHEMA, __version__

PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIVE_GROUPS = set()
OUTPUT_TAIL = 64 * 1024


class RequestError(Exception):
    pass


def progress(**kw):
    kw = dict({"mps_lint_verify": "progress"}, **kw)
    try:
        sys.stderr.write(json.dumps(kw) + "\n")
        sys.stderr.flush()
    except Exception:
        pass


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _on_signal(signum, frame):
    for pgid in list(_LIVE_GROUPS):
        kill_group(pgid)
    os._exit(128 + signum)


def parse_entry(entry, cwd):
    """`--verify-entry`: "script.py args..", "-m pkg.mod args..", "pkg.mod:func", optionally
    preceded by a python executable name. A list is taken as already split."""
    toks = list(entry) if isinstance(entry, list) else shlex.split(entry)
    if toks and os.path.basename(toks[0]).startswith("python"):
        toks = toks[1:]
    if not toks:
        raise RequestError("empty entry")
    if toks[0] == "-m":
        if len(toks) < 2:
            raise RequestError("entry '-m' needs a module name")
        return {"kind": "module", "module": toks[1], "argv": toks[2:], "cwd": cwd}
    if ":" in toks[0] and not toks[0].endswith(".py") and not os.path.exists(os.path.join(cwd, toks[0])):
        return {"kind": "callable", "callable": toks[0], "argv": toks[1:], "cwd": cwd}
    path = toks[0] if os.path.isabs(toks[0]) else os.path.join(cwd, toks[0])
    return {"kind": "file", "path": os.path.abspath(path), "argv": toks[1:], "cwd": cwd}


def normalize(req):
    if not isinstance(req, dict):
        raise RequestError("request must be a JSON object")
    if req.get("schema") != SCHEMA:
        raise RequestError("unsupported schema %r (this runner speaks %r)" % (req.get("schema"), SCHEMA))
    t = req.get("target")
    if not isinstance(t, dict):
        raise RequestError("request.target missing")
    cwd = os.path.abspath(t.get("cwd") or os.getcwd())
    if t.get("entry") is not None:
        target = parse_entry(t["entry"], cwd)
    elif t.get("file"):
        target = {"kind": "file", "path": os.path.abspath(os.path.join(cwd, t["file"])),
                  "argv": list(t.get("argv") or []), "cwd": cwd}
    else:
        raise RequestError("request.target needs 'file' or 'entry'")
    if target["kind"] == "file" and not os.path.isfile(target["path"]):
        raise RequestError("target file not found: %s" % target["path"])
    o = req.get("options") or {}
    opts = {
        "device": o.get("device") or "auto",
        "timeout_s": float(o.get("timeout_s", 60)),
        "warmup": max(0, int(o.get("warmup", 1))),
        "repeats": max(1, int(o.get("repeats", 3))),
        "replace": bool(o.get("replace", True)),
        "verbose": bool(o.get("verbose", False)),
        "cuda_streams": o.get("cuda_streams", "auto"),
    }
    if opts["device"] not in ("auto", "mps", "cuda", "xpu", "cpu"):
        raise RequestError("unknown device %r" % opts["device"])
    watch = []
    for w in req.get("watch") or []:
        watch.append({"file": os.path.realpath(os.path.join(cwd, w["file"])), "line": int(w["line"])})
    return target, opts, watch


def _read_tail(f):
    f.flush()
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - OUTPUT_TAIL))
    return f.read().decode("utf-8", "replace")


def run_phase(mode, target, opts, watch):
    cfg = {"mode": mode, "target": target, "device": opts["device"], "warmup": opts["warmup"],
           "repeats": opts["repeats"], "watch": watch, "cuda_streams": opts["cuda_streams"]}
    fd, cfg_path = tempfile.mkstemp(prefix="mps-lint-verify-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(cfg, f)
    r, w = os.pipe()
    env = os.environ.copy()
    env["PYTHONPATH"] = PKG_PARENT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["MPS_LINT_VERIFY_CTL_FD"] = str(w)
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    phase = {"mode": mode, "status": "ok", "error": None, "exit_code": None, "signal": None,
             "timed_out": False, "group_killed": False}
    env_msg, iters, target_error, fatal, done = None, [], None, None, False
    applied = {}
    timeout = opts["timeout_s"]
    t_start = time.monotonic()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "mps_lint_verify.harness", cfg_path],
                                cwd=target["cwd"], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                pass_fds=(w,), start_new_session=True, env=env)
    except OSError as e:
        os.close(r)
        os.close(w)
        os.unlink(cfg_path)
        phase.update(status="error", error="cannot start %s: %s" % (sys.executable, e))
        return phase, None
    os.close(w)
    _LIVE_GROUPS.add(proc.pid)
    progress(event="spawn", phase=mode, pgid=proc.pid)
    deadline = time.monotonic() + timeout
    buf = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                phase["timed_out"] = True
                break
            ready, _, _ = select.select([r], [], [], min(remaining, 0.5))
            if not ready:
                continue
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    msg = json.loads(line.decode("utf-8", "replace"))
                except ValueError:
                    continue
                ev = msg.get("ev")
                if ev == "env":
                    env_msg = msg
                elif ev == "iter":
                    deadline = time.monotonic() + timeout  # the limit is per run of the target
                    progress(event="iteration", phase=mode, iteration=msg["i"], of=msg["of"],
                             warmup=msg["warmup"])
                elif ev == "iter_done":
                    iters.append(msg["iteration"])
                    applied = msg.get("applied") or applied
                elif ev == "target_error":
                    target_error = msg
                elif ev == "error":
                    fatal = msg
                elif ev == "done":
                    done = True
        if not phase["timed_out"]:
            try:
                proc.wait(timeout=max(0.1, min(5.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                phase["timed_out"] = True
    finally:
        os.close(r)
        if phase["timed_out"] or proc.poll() is None:
            phase["group_killed"] = kill_group(proc.pid)
            proc.wait()
        else:
            # The leader exited; take down whatever it left behind in its group.
            if kill_group(proc.pid):
                phase["group_killed"] = True
        _LIVE_GROUPS.discard(proc.pid)
        try:
            os.unlink(cfg_path)
        except OSError:
            pass
    rc = proc.returncode
    phase["exit_code"] = rc
    phase["elapsed_s"] = round(time.monotonic() - t_start, 3)
    if rc is not None and rc < 0:
        try:
            phase["signal"] = signal.Signals(-rc).name
        except ValueError:
            phase["signal"] = str(-rc)
    if phase["timed_out"]:
        phase["status"] = "timeout"
        phase["error"] = "run exceeded the time limit of %g s; process group killed" % timeout
    elif fatal is not None:
        phase["status"] = "error"
        phase["error"] = fatal.get("error")
        phase["error_kind"] = fatal.get("kind")
    elif target_error is not None:
        phase["status"] = "crash"
        phase["error"] = target_error.get("error")
        phase["traceback"] = target_error.get("traceback")
    elif not done or rc != 0:
        phase["status"] = "crash"
        phase["error"] = "target process died%s" % (
            " (signal %s)" % phase["signal"] if phase["signal"] else " (exit status %s)" % rc)
    phase["iterations"] = [{"i": it["i"], "warmup": it["warmup"], "wall_s": round(it["wall_s"], 6),
                            "traced": it["traced"]} for it in iters]
    timed = [it for it in iters if not it["warmup"]]
    if timed:
        walls = sorted(it["wall_s"] for it in timed)
        med = walls[(len(walls) - 1) // 2] if len(walls) % 2 else (walls[len(walls) // 2 - 1] + walls[len(walls) // 2]) / 2
        phase["wall_s"] = [round(it["wall_s"], 6) for it in timed]
        phase["median_s"] = round(med, 6)
        rep = min(timed, key=lambda it: abs(it["wall_s"] - med))
    else:
        phase["wall_s"], phase["median_s"] = [], None
        rep = iters[-1] if iters else None
    if rep:
        dev = [x for x in rep["sites"] if x["kind"] == "device_sync"]
        phase["device_syncs"] = sum(x["calls"] for x in dev)
        phase["worker_device_syncs"] = sum(x["worker_calls"] for x in dev)
        phase["replaced_syncs"] = sum(x["replaced_calls"] for x in dev)
        phase["event_ops"] = sum(x["calls"] for x in rep["sites"] if x["kind"] != "device_sync")
        phase["blocked_s"] = round(sum(x["blocked_s"] for x in rep["sites"]), 6)
    if phase["status"] == "ok" and any(it["traced"] and not it["warmup"] for it in iters):
        phase["note"] = "timing includes line-tracing overhead (warmup 0)"
    if opts["verbose"]:
        phase["stdout"] = _read_tail(out)
        phase["stderr"] = _read_tail(err)
    out.close()
    err.close()
    phase["applied"] = applied
    return phase, {"env": env_msg, "iters": iters, "rep": rep}


def _worker_device_syncs(iters):
    return sum(s["worker_calls"] for it in iters for s in it["sites"] if s["kind"] == "device_sync")


def run_request(req):
    target, opts, watch = normalize(req)
    result = {"schema": SCHEMA, "runner": __version__, "status": "ok", "error": None,
              "target": target, "options": opts}
    p1, d1 = run_phase("as_written", target, opts, watch)
    env_msg = d1["env"] if d1 else None
    if env_msg:
        result["environment"] = env_msg["environment"]
        result["instrumented"] = env_msg["instrumented"]
        result["retargeted"] = env_msg["retargeted"]
        result["per_thread_streams"] = env_msg["per_thread_streams"]
        result["notes"] = list(env_msg["notes"])
    else:
        result["environment"] = None
        result["notes"] = []
    iters = d1["iters"] if d1 else []
    rep = d1["rep"] if d1 else None
    result["retarget_applied"] = p1.pop("applied", {})
    result["sites"] = rep["sites"] if rep else []
    # events: the representative iteration, 'shared' confirmed if any iteration saw sharing
    events = {(e["file"], e["line"]): dict(e) for e in (rep["events"] if rep else [])}
    for it in iters:
        for e in it["events"]:
            k = (e["file"], e["line"])
            cur = events.setdefault(k, dict(e))
            if e["shared"] and not cur["shared"]:
                cur.update(shared=True, shared_events=e["shared_events"],
                           max_threads_per_event=e["max_threads_per_event"],
                           shared_use_sites=e["shared_use_sites"])
    result["events"] = sorted(events.values(), key=lambda e: (e["file"], e["line"]))
    reached = {}
    for it in iters:
        for x in it["reached"]:
            k = (x["file"], x["line"])
            reached[k] = max(reached.get(k, 0), x["threads"])
    result["lines"] = [{"file": w["file"], "line": w["line"], "reached": (w["file"], w["line"]) in reached,
                        "threads": reached.get((w["file"], w["line"]), 0)} for w in watch]
    if rep:
        result["threads"] = {"started": rep["threads_started"], "seen_syncing": rep["threads_seen"],
                             "exceptions": rep["thread_exception_count"],
                             "exception_samples": rep["thread_exceptions"]}
    else:
        result["threads"] = None
    result["runs"] = {"as_written": p1}
    worker_syncs = _worker_device_syncs(iters)
    if not opts["replace"]:
        p2 = {"mode": "event_sync", "status": "skipped", "reason": "replacement run disabled"}
    elif p1["status"] != "ok":
        p2 = {"mode": "event_sync", "status": "skipped", "reason": "the code as written did not complete (%s)" % p1["status"]}
    elif worker_syncs == 0:
        p2 = {"mode": "event_sync", "status": "skipped",
              "reason": "no device-wide sync ran on a worker thread: nothing to replace"}
    else:
        p2, _ = run_phase("event_sync", target, opts, watch)  # same tracing, same overhead
        p2.pop("applied", None)
    result["runs"]["event_sync"] = p2
    slow = None
    if p1.get("median_s") and p2.get("status") == "ok" and p2.get("median_s"):
        slow = round(p1["median_s"] / p2["median_s"], 3)
    result["slowdown"] = slow
    if p1["status"] != "ok":
        result["status"] = p1["status"]
        result["error"] = p1["error"]
    elif p2.get("status") not in ("ok", "skipped"):
        result["notes"].append("replacement run %s: %s" % (p2["status"], p2.get("error")))
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mps_lint_verify",
                                 description="mps-lint verify runner (schema %s)" % SCHEMA)
    ap.add_argument("--request", default="-", help="request JSON file ('-' = stdin)")
    ap.add_argument("--out", default=None, help="write the result here instead of stdout")
    ap.add_argument("--version", action="store_true")
    a = ap.parse_args(argv)
    if a.version:
        print(json.dumps({"schema": SCHEMA, "runner": __version__}))
        return 0
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    code = 0
    try:
        if a.request == "-":
            req = json.load(sys.stdin)
        else:
            with open(a.request) as f:
                req = json.load(f)
        res = run_request(req)
    except (RequestError, ValueError, KeyError, TypeError) as e:
        res = {"schema": SCHEMA, "runner": __version__, "status": "error", "error": "bad request: %s" % e}
        code = 2
    text = json.dumps(res, indent=None)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    return code
