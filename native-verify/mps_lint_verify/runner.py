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
_LIVE_TREES = set()
OUTPUT_TAIL = 64 * 1024
POLL_S = 0.2  # how often the process tree (descendants, memory) is looked at


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
    for tree in list(_LIVE_TREES):
        tree.kill_all("interrupted")
    os._exit(128 + signum)


def default_memory_bytes():
    """Half the machine's physical memory (8 GiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2 ** 30


def become_subreaper():
    """Linux: processes orphaned below us (a target child that called setsid() and whose
    parent exited) are re-parented to us instead of init, so the tree walk still finds them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except Exception:
        return False


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_table():
    """{pid: (ppid, start, rss_bytes, command, zombie)} for every process we can see."""
    table = {}
    if os.path.isdir("/proc/self"):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % name, "rb") as f:
                    data = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            lp, rp = data.find("("), data.rfind(")")
            fields = data[rp + 2:].split()
            # fields[0] = state, [1] = ppid, [19] = starttime, [21] = rss pages
            try:
                table[int(name)] = (int(fields[1]), fields[19], int(fields[21]) * _PAGE, data[lp + 1:rp],
                                    fields[0] == "Z")
            except (IndexError, ValueError):
                continue
        return table
    try:  # macOS and other Unixes
        outp = subprocess.run(["ps", "-A", "-o", "pid=,ppid=,rss=,stat=,lstart=,comm="], capture_output=True,
                              text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return table
    for line in outp.splitlines():
        parts = line.split(None, 9)
        if len(parts) < 10:
            continue
        try:
            table[int(parts[0])] = (int(parts[1]), " ".join(parts[4:9]), int(parts[2]) * 1024,
                                    os.path.basename(parts[9]), parts[3].startswith("Z"))
        except ValueError:
            continue
    return table


class ProcessTree(object):
    """The target process and everything it starts, including children that leave its process
    group or session (setsid()). Found by parent links, polled while the target runs (and, on
    Linux, kept under us as their subreaper); remembered by pid and start time so a reused pid
    is never killed."""

    def __init__(self, root):
        self.root = root
        self.known = {}  # pid -> (start, command)
        self.rss_bytes = 0
        self.peak_rss_bytes = 0

    def _members(self, table):
        me = os.getpid()
        children = {}
        for pid, row in table.items():
            children.setdefault(row[0], []).append(pid)
        found = set()
        # the root's descendants, and (subreaper) orphans now parented to us
        stack = [self.root] + [p for p in children.get(me, []) if p != self.root and p in self.known]
        stack += [p for p in children.get(me, []) if p not in self.known and p != self.root
                  and table[p][3] not in ("ps",) and self._adopted(p, table)]
        while stack:
            pid = stack.pop()
            if pid in found or pid == me or pid not in table:
                continue
            found.add(pid)
            stack.extend(children.get(pid, []))
        for pid, (start, _) in self.known.items():
            row = table.get(pid)
            if row is not None and row[1] == start:
                found.add(pid)
        return found

    def _adopted(self, pid, table):
        # A child of ours that is not a harness we started: an orphan re-parented to us.
        return pid not in _LIVE_GROUPS

    def poll(self):
        table = process_table()
        members = self._members(table)
        for pid in members:
            row = table[pid]
            self.known.setdefault(pid, (row[1], row[3]))
        self.rss_bytes = sum(table[p][2] for p in members if not table[p][4])
        self.peak_rss_bytes = max(self.peak_rss_bytes, self.rss_bytes)
        return members, table

    def kill_all(self, why):
        """SIGKILL the group and every live member, until none is left. Returns what was
        killed: [{"pid", "command", "reason", "own_session"}]."""
        killed = []
        for _ in range(20):
            members, table = self.poll()
            live = [p for p in members if not table[p][4]]
            if not live:
                break
            if self.root in live:
                kill_group(self.root)
            for pid in live:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    continue
                if not any(k["pid"] == pid for k in killed):
                    killed.append({"pid": pid, "command": table[pid][3], "reason": why,
                                   "own_session": self._own_session(pid)})
            time.sleep(0.05)
        kill_group(self.root)
        for k in killed:  # reap what was re-parented to us; the root is Popen's to reap
            if k["pid"] != self.root:
                try:
                    os.waitpid(k["pid"], os.WNOHANG)
                except (ChildProcessError, OSError):
                    pass
        killed.sort(key=lambda k: (k["pid"] != self.root, k["pid"]))
        return killed

    def _own_session(self, pid):
        try:
            return os.getsid(pid) != self.root
        except OSError:
            return None


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
        "min_time_s": float(o.get("min_time_s", 1.0)),
        "max_repeats": max(1, int(o.get("max_repeats", 50))),
        # memory_mb: limit on the resident memory of the target's whole process tree; 0 = none
        "memory_bytes": (default_memory_bytes() if o.get("memory_mb") is None
                         else max(0, int(float(o["memory_mb"]) * 2 ** 20))),
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


def _quantile(xs, q):
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    x = q * (len(s) - 1)
    i = int(x)
    return s[i] if i + 1 >= len(s) else s[i] + (s[i + 1] - s[i]) * (x - i)


def _median(xs):
    return _quantile(xs, 0.5)


def run_phase(mode, target, opts, watch):
    cfg = {"mode": mode, "target": target, "device": opts["device"], "warmup": opts["warmup"],
           "repeats": opts["repeats"], "min_time_s": opts["min_time_s"], "max_repeats": opts["max_repeats"],
           "watch": watch, "cuda_streams": opts["cuda_streams"]}
    r, w = os.pipe()
    env = os.environ.copy()
    env["PYTHONPATH"] = PKG_PARENT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["MPS_LINT_VERIFY_CTL_FD"] = str(w)
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # unlinked at creation
    phase = {"mode": mode, "status": "ok", "error": None, "exit_code": None, "signal": None,
             "timed_out": False, "memory_exceeded": False, "group_killed": False, "killed": []}
    env_msg, iters, target_error, fatal, done, busy = None, [], None, None, False, None
    applied = {}
    timeout = opts["timeout_s"]
    t_start = time.monotonic()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "mps_lint_verify.harness"],
                                cwd=target["cwd"], stdin=subprocess.PIPE, stdout=out, stderr=err,
                                pass_fds=(w,), start_new_session=True, env=env)
    except OSError as e:
        os.close(r)
        os.close(w)
        phase.update(status="error", error="cannot start %s: %s" % (sys.executable, e))
        return phase, None
    os.close(w)
    _LIVE_GROUPS.add(proc.pid)
    tree = ProcessTree(proc.pid)
    _LIVE_TREES.add(tree)
    progress(event="spawn", phase=mode, pgid=proc.pid)
    try:
        proc.stdin.write(json.dumps(cfg).encode("utf-8"))
        proc.stdin.close()
    except OSError:
        pass  # died at once: reported through its exit status
    deadline = time.monotonic() + timeout
    buf = b""
    limit = opts["memory_bytes"]
    try:
        while True:
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                phase["timed_out"] = True
                break
            ready, _, _ = select.select([r], [], [], min(remaining, POLL_S))
            tree.poll()
            if limit and tree.rss_bytes > limit:
                phase["memory_exceeded"] = True
                phase["memory_peak_bytes"] = tree.rss_bytes
                break
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
                    if len(iters) == 1:  # the attribution run's counts (the counter accumulates)
                        applied = msg.get("applied") or {}
                elif ev == "gpu_busy":
                    busy = msg.get("gpu")
                elif ev == "target_error":
                    target_error = msg
                elif ev == "error":
                    fatal = msg
                elif ev == "done":
                    done = True
        if not phase["timed_out"] and not phase["memory_exceeded"]:
            try:
                proc.wait(timeout=max(0.1, min(5.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                phase["timed_out"] = True
    finally:
        os.close(r)
        why = ("timeout" if phase["timed_out"] else "memory" if phase["memory_exceeded"]
               else "left running after the target finished")
        phase["peak_rss_bytes"] = tree.peak_rss_bytes
        killed = tree.kill_all(why)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        phase["group_killed"] = any(k["pid"] != proc.pid for k in killed) or (
            why != "left running after the target finished" and bool(killed))
        phase["killed"] = killed
        _LIVE_GROUPS.discard(proc.pid)
        _LIVE_TREES.discard(tree)
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
        phase["error"] = "run exceeded the time limit of %g s; process tree killed (%d process%s)" % (
            timeout, len(killed), "" if len(killed) == 1 else "es")
    elif phase["memory_exceeded"]:
        phase["status"] = "memory"
        phase["error"] = ("the target's processes used %.1f GiB resident memory, over the --verify-memory limit "
                          "of %.1f GiB; process tree killed (%d process%s)" % (
                              phase["memory_peak_bytes"] / 2.0 ** 30, limit / 2.0 ** 30, len(killed),
                              "" if len(killed) == 1 else "es"))
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
    phase["iterations"] = [{"i": it["i"], "kind": it.get("kind", "timed" if not it["warmup"] else "warmup"),
                            "warmup": it["warmup"], "wall_s": round(it["wall_s"], 6),
                            "traced": it["traced"]} for it in iters]
    timed = [it for it in iters if not it["warmup"]]
    if timed:
        walls = [it["wall_s"] for it in timed]
        med = _median(walls)
        phase["wall_s"] = [round(x, 6) for x in walls]
        phase["repeats"] = len(walls)
        phase["median_s"] = round(med, 6)
        phase["min_s"] = round(min(walls), 6)
        phase["max_s"] = round(max(walls), 6)
        phase["p25_s"] = round(_quantile(walls, 0.25), 6)
        phase["p75_s"] = round(_quantile(walls, 0.75), 6)
        sect = [it.get("threads_s") for it in timed]
        if all(x is not None for x in sect):
            phase["threads_s"] = [round(x, 6) for x in sect]
            phase["threads_median_s"] = round(_median(sect), 6)
            phase["threads_p25_s"] = round(_quantile(sect, 0.25), 6)
            phase["threads_p75_s"] = round(_quantile(sect, 0.75), 6)
    else:
        phase["wall_s"], phase["repeats"], phase["median_s"], phase["min_s"], phase["max_s"] = [], 0, None, None, None
    # attribution comes from the instrumented first iteration (never timed)
    rep = next((it for it in iters if it.get("kind") == "attribution"), iters[0] if iters else None)
    if rep:
        dev = [x for x in rep["sites"] if x["kind"] == "device_sync"]
        phase["device_syncs"] = sum(x["calls"] for x in dev)
        phase["worker_device_syncs"] = sum(x["worker_calls"] for x in dev)
        phase["replaced_syncs"] = sum(x["replaced_calls"] for x in dev)
        phase["event_ops"] = sum(x["calls"] for x in rep["sites"] if x["kind"] != "device_sync")
        phase["blocked_s"] = round(sum(x["blocked_s"] for x in rep["sites"]), 6)
    phase["regime"] = regime(busy, phase.get("threads_median_s") or phase["median_s"], opts, env_msg,
                             "threaded section" if phase.get("threads_median_s") else "run")
    phase["applied"] = applied
    if opts["verbose"]:
        phase["stdout"] = _read_tail(out)
        phase["stderr"] = _read_tail(err)
    out.close()
    err.close()
    return phase, {"env": env_msg, "iters": iters, "rep": rep}


DEVICE_BOUND = 0.7


def regime(busy, median_s, opts, env_msg, over="run"):
    """host-bound / device-bound from the GPU's busy time (the union of kernel intervals in a
    profiled run) over the timed runs' median wall time."""
    dev = (env_msg or {}).get("environment", {}).get("device") if env_msg else None
    if dev == "cpu":
        return {"kind": "host-bound", "busy_fraction": None,
                "evidence": "CPU run: every op is host work"}
    if not busy or not median_s:
        return {"kind": "unknown", "busy_fraction": None,
                "evidence": (busy or {}).get("error") or "no GPU busy time on this device (measured on CUDA only)"}
    if "busy_s" not in busy:
        return {"kind": "unknown", "busy_fraction": None, "evidence": busy.get("error")}
    frac = busy["busy_s"] / median_s
    return {"kind": "device-bound" if frac >= DEVICE_BOUND else "host-bound", "busy_fraction": round(frac, 3),
            "gpu_busy_s": round(busy["busy_s"], 6), "kernels": busy.get("kernels"),
            "evidence": "GPU busy %.0f%% of the median %s's wall time (kernel time from torch.profiler)" % (100 * frac, over)}


def comparison(p1, p2):
    """as written / per-thread event sync: the ratio of the medians, and its spread from the
    middle halves of the repeats (quartiles: the outer pairing p25/p75 .. p75/p25). The
    difference is measurable only when that spread excludes 1.0 (the middle halves do not
    overlap). Measured over the threaded section (first thread start to the end of the run) when
    both modes started threads: the set-up before it is the same code in both modes and only
    dilutes the ratio; the whole run's ratio is kept beside it."""
    if not (p1.get("median_s") and p2.get("status") == "ok" and p2.get("median_s")):
        return None

    def ratio(key):
        med = p1[key + "median_s"] / p2[key + "median_s"]
        lo = p1[key + "p25_s"] / p2[key + "p75_s"]
        hi = p1[key + "p75_s"] / p2[key + "p25_s"]
        return {"ratio": round(med, 3), "low": round(lo, 3), "high": round(hi, 3), "measurable": not (lo <= 1.0 <= hi)}
    whole = ratio("")
    out = dict(whole)
    out["basis"] = "whole run"
    if p1.get("threads_median_s") and p2.get("threads_median_s"):
        out = ratio("threads_")
        out["basis"] = "threaded section"
        out["whole_run"] = whole
    out.update({"spread": "quartiles", "repeats": [p1["repeats"], p2["repeats"]]})
    return out


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
    cmp = comparison(p1, p2)
    result["slowdown"] = cmp["ratio"] if cmp else None
    result["comparison"] = cmp
    result["regime"] = p2.get("regime") if p2.get("status") == "ok" else p1.get("regime")
    result["killed"] = [dict(k, phase=m) for m, p in (("as_written", p1), ("event_sync", p2)) for k in p.get("killed") or []]
    result["options"]["memory_mb"] = round(opts["memory_bytes"] / 2.0 ** 20) if opts["memory_bytes"] else 0
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
    become_subreaper()
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
