"""mps-lint bench: the guide's device-sync vs event-sync vs process-pool comparison, measured
on this machine's device.

  python -m mps_lint_verify.bench --op matmul --size 512 --dtype float16 \
      --threads 1,2,4,8 --min-time 0.5 --repeats 3 --sync-mode device,event,none

Prints the guide's tables (ops/s, event/device ratio, efficiency against the one-thread
baseline), writes JSON (--json) and an SVG chart of ops/s vs threads per mode (--svg).
On CUDA each thread gets its own stream (the model the guide's numbers were measured under).
On CPU the numbers measure mechanics only: there is no accelerator queue.
"""

import argparse
import json
import multiprocessing as mp
import os
import sys
import threading
import time

SCHEMA = "mps-lint-bench/2"
MODES = ("device", "event", "none", "stream", "event-nostream")
COLORS = {"device": "#d62728", "event": "#1f77b4", "none": "#7f7f7f", "process pool": "#2ca02c",
          "stream": "#9467bd", "event-nostream": "#ff7f0e"}


def _csv_ints(s):
    return [int(x) for x in str(s).split(",") if x.strip()]


def _csv(s, allowed):
    out = [x.strip() for x in str(s).split(",") if x.strip()]
    if out == ["all"]:
        return list(allowed)
    for x in out:
        if x not in allowed:
            raise argparse.ArgumentTypeError("%r not in %s" % (x, ", ".join(allowed)))
    return out


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="mps-lint bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--op", default="matmul,linear", help="matmul, linear or both (comma list)")
    ap.add_argument("--size", type=int, default=512, help="matmul: NxN; linear: in/out features (hidden 2x)")
    ap.add_argument("--batch", type=int, default=32, help="linear: batch size")
    ap.add_argument("--dtype", default="auto",
                    help="auto (the guide's: float16 matmul, float32 Linear model; float32 on CPU), float16, float32, bfloat16")
    ap.add_argument("--threads", default="1,2,4,8", help="thread counts, comma list")
    ap.add_argument("--min-time", dest="min_time", type=float, default=0.5,
                    help="seconds each measurement runs (threads loop until then; default 0.5)")
    ap.add_argument("--repeats", type=int, default=3, help="measurements per cell; min/median/max reported (default 3)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed ops per thread first")
    ap.add_argument("--sync-mode", default="device,event,none",
                    help="device, event, none, stream (s.synchronize()), event-nostream (ev.record() without "
                         "the stream: pays torch.cuda.current_stream() per op) - comma list, or all")
    ap.add_argument("--device", default="auto", help="auto, mps, cuda, cpu")
    ap.add_argument("--process-pool", dest="process_pool", action="store_true", default=True,
                    help="also run a process pool of each size (default)")
    ap.add_argument("--no-process-pool", dest="process_pool", action="store_false")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch intra-op threads (default: 1 on CPU so Python threads are the only parallelism)")
    ap.add_argument("--json", default=None, help="write results as JSON here")
    ap.add_argument("--svg", default=None, help="write an SVG chart (ops/s vs threads) here")
    a = ap.parse_args(argv)
    a.ops = _csv(a.op, ("matmul", "linear"))
    a.modes = _csv(a.sync_mode, MODES)
    a.thread_counts = _csv_ints(a.threads)
    if not a.thread_counts or min(a.thread_counts) < 1:
        ap.error("--threads needs positive integers")
    if a.repeats < 1 or a.min_time <= 0:
        ap.error("--repeats needs >= 1 and --min-time > 0")
    return a


# ----------------------------------------------------------------------------- workloads
def resolve_dtype(torch, device, op, requested, notes):
    names = {"float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
             "float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16}
    if requested == "auto":
        if device == "cpu":
            msg = ("CPU: used float32 (fp16 matmul on CPU is unsupported in older torch and emulated, "
                   "slowly, in newer torch; pass --dtype float16 to force it)")
            if msg not in notes:
                notes.append(msg)
            return torch.float32
        # the guide's workloads: fp16 matmul, the default-dtype (fp32) Linear model
        return torch.float16 if op == "matmul" else torch.float32
    dt = names.get(requested)
    if dt is None:
        raise SystemExit("unknown --dtype %r" % requested)
    if device == "cpu" and dt is not torch.float32:
        try:
            a = torch.ones(8, 8, dtype=dt)
            a @ a
        except Exception as e:
            notes.append("CPU: %s matmul unsupported here (%s); used float32" % (requested, str(e).split("\n")[0]))
            return torch.float32
    return dt


class Workload(object):
    def __init__(self, torch, op, device, dtype, size, batch):
        self.torch = torch
        if op == "matmul":
            self.a = torch.randn(size, size, device=device, dtype=dtype)
            self.b = torch.randn(size, size, device=device, dtype=dtype)
            self.step = lambda: torch.matmul(self.a, self.b)
        else:
            nn = torch.nn
            self.model = nn.Sequential(nn.Linear(size, 2 * size), nn.ReLU(), nn.Linear(2 * size, size)).to(device=device, dtype=dtype).eval()
            self.x = torch.randn(batch, size, device=device, dtype=dtype)

            def step():
                with torch.no_grad():
                    return self.model(self.x)
            self.step = step


class _CpuEvent(object):
    def record(self, stream=None):
        pass

    def synchronize(self):
        pass


def make_sync(torch, device, mode, stream):
    """The per-op wait of one thread. `stream` is the thread's own CUDA stream, captured once
    (None off CUDA). Every mode is one call of a closure or builtin, so the loop's Python work
    is the same across modes; only what the wait itself costs differs."""
    if mode == "none":
        return lambda: None
    if mode == "device":
        if device == "cuda":
            return torch.cuda.synchronize
        if device == "mps":
            return torch.mps.synchronize
        return lambda: None
    if mode == "stream":
        if stream is not None:
            return stream.synchronize
        return make_sync(torch, device, "event", stream)  # MPS/CPU: no per-thread stream object
    # event: one event per thread (guide Pattern 2), created in the calling thread
    if device == "cuda":
        ev = torch.cuda.Event()
    elif device == "mps":
        ev = torch.mps.Event()
    else:
        ev = _CpuEvent()
    if mode == "event" and stream is not None:
        def sync():
            ev.record(stream)  # the fast CUDA form: the thread's stream, captured once
            ev.synchronize()
    else:
        # MPS Event.record() takes no stream; on CUDA ("event-nostream") record() looks up
        # torch.cuda.current_stream() on every call
        def sync():
            ev.record()
            ev.synchronize()
    return sync


def device_sync(torch, device):
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def gpu_op_seconds(torch, device, op, dtype, size, batch, n_ops=200):
    """Device time of one op with the GPU kept busy: on CUDA the stream is held by a
    torch.cuda._sleep kernel while the ops are queued, so the CUDA events around them time the
    kernels back to back, not the host's launch rate. None where that cannot be measured."""
    if device != "cuda":
        return None
    w = Workload(torch, op, device, dtype, size, batch)
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        for _ in range(5):
            w.step()
        s.synchronize()
        best = None
        for _ in range(3):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            if hasattr(torch.cuda, "_sleep"):
                torch.cuda._sleep(200 * 1000 * 1000)  # ~0.1 s at GPU clocks: ops queue behind it
            e0.record(s)
            for _ in range(n_ops):
                w.step()
            e1.record(s)
            e1.synchronize()
            t = e0.elapsed_time(e1) / 1000.0 / n_ops
            best = t if best is None else min(best, t)
    return best


def run_threads(torch, device, op, dtype, size, batch, mode, n, min_time, warmup):
    """n threads, each with its own workload (and, on CUDA, its own stream captured once),
    looping step + wait until `min_time` has passed. Returns (ops, wall seconds)."""
    ready = threading.Barrier(n + 1)
    go = threading.Event()
    stop = [False]
    errors = []
    counts = [0] * n

    def worker(i):
        try:
            ctx = s = None
            if device == "cuda":
                s = torch.cuda.Stream()
                ctx = torch.cuda.stream(s)
                ctx.__enter__()
            w = Workload(torch, op, device, dtype, size, batch)
            sync = make_sync(torch, device, mode, s)
            step = w.step
            for _ in range(warmup):
                step()
                sync()
            if device != "cpu":
                device_sync(torch, device)
            ready.wait()
            go.wait()
            k = 0
            while not stop[0]:
                step()
                sync()
                k += 1
            counts[i] = k
            if ctx is not None:
                ctx.__exit__(None, None, None)
        except BaseException as e:  # reported, the others still finish
            errors.append(e)
            stop[0] = True
            try:
                ready.abort()
            except Exception:
                pass

    ts = [threading.Thread(target=worker, args=(i,), name="bench-%d" % i) for i in range(n)]
    for t in ts:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    go.set()
    time.sleep(min_time)
    stop[0] = True
    for t in ts:
        t.join()
    device_sync(torch, device)  # 'none' mode: the queued work must finish inside the measurement
    t1 = time.perf_counter()
    if errors:
        raise errors[0]
    return sum(counts), t1 - t0


def _pool_proc(cfg, barrier, out):
    import torch
    if cfg["torch_threads"]:
        torch.set_num_threads(cfg["torch_threads"])
    dtype = getattr(torch, cfg["dtype"])
    device = cfg["device"]
    w = Workload(torch, cfg["op"], device, dtype, cfg["size"], cfg["batch"])
    sync = make_sync(torch, device, "device", None)
    for _ in range(cfg["warmup"]):
        w.step()
        sync()
    barrier.wait()
    t0 = time.monotonic()
    end = t0 + cfg["min_time"]
    k = 0
    while time.monotonic() < end:
        w.step()
        sync()
        k += 1
    device_sync(torch, device)
    out.put((t0, time.monotonic(), k))


def run_pool(cfg, n, timeout=600):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(n)
    out = ctx.Queue()
    procs = [ctx.Process(target=_pool_proc, args=(cfg, barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    res = []
    try:
        for _ in range(n):
            res.append(out.get(timeout=timeout))
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    start = min(r[0] for r in res)
    end = max(r[1] for r in res)
    return sum(r[2] for r in res), end - start


# ----------------------------------------------------------------------------- statistics
def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2.0


DEVICE_BOUND = 0.7  # GPU busy at least this share of the wall time


def classify(busy_fraction, fraction_of_ceiling):
    """host-bound / device-bound from the evidence there is. busy_fraction: GPU busy time
    (ops x device time per op) over wall time. On CPU everything is host work ("host-bound");
    where no GPU time is measurable (MPS) the regime is "unknown" and the no-sync column is the
    evidence left."""
    if busy_fraction is not None:
        return "device-bound" if busy_fraction >= DEVICE_BOUND else "host-bound"
    return "unknown"


def make_cell(op, mode, n, samples, gpu_op_s, device):
    """samples: [(ops, wall_s)] one per repeat."""
    reps = []
    for ops, wall in samples:
        r = {"ops": ops, "wall_s": round(wall, 6), "ops_per_s": round(ops / wall, 2) if wall > 0 else 0.0}
        if gpu_op_s is not None and wall > 0:
            r["gpu_busy_s"] = round(ops * gpu_op_s, 6)
            r["busy_fraction"] = round(ops * gpu_op_s / wall, 3)
        reps.append(r)
    rates = [r["ops_per_s"] for r in reps]
    med = median(rates)
    mid = min(reps, key=lambda r: abs(r["ops_per_s"] - med))
    busy = median([r["busy_fraction"] for r in reps]) if gpu_op_s is not None else None
    return {"op": op, "mode": mode, "threads": n, "ops": mid["ops"], "wall_s": mid["wall_s"],
            "ops_per_s": round(med, 2), "ops_per_s_min": min(rates), "ops_per_s_max": max(rates),
            "repeats": reps, "busy_fraction": busy,
            "regime": "host-bound" if device == "cpu" else classify(busy, None)}


def finish_regimes(cells):
    """Adds the no-sync ceiling evidence to each cell; regime stays 'unknown' only where
    neither the GPU time nor a ceiling is known."""
    ceil = {(c["op"], c["threads"]): c["ops_per_s"] for c in cells if c["mode"] == "none"}
    for c in cells:
        cap = ceil.get((c["op"], c["threads"]))
        c["fraction_of_no_sync"] = round(c["ops_per_s"] / cap, 3) if cap else None


# ----------------------------------------------------------------------------- output
def fmt_int(x):
    return "{:,}".format(int(round(x)))


def table(headers, rows):
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(cells)) + " |"
    out = [line(headers), "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


LABELS = {"device": "Device sync", "event": "Event sync", "none": "No sync", "stream": "Stream sync",
          "event-nostream": "Event sync, record() without stream"}


def spread_text(c):
    return "%s (%s-%s)" % (fmt_int(c["ops_per_s"]), fmt_int(c["ops_per_s_min"]), fmt_int(c["ops_per_s_max"]))


def ratio(e, d):
    """event/device: median ratio and the range the repeats allow (worst vs best pairing)."""
    r = e["ops_per_s"] / d["ops_per_s"]
    lo = e["ops_per_s_min"] / d["ops_per_s_max"]
    hi = e["ops_per_s_max"] / d["ops_per_s_min"]
    return {"median": round(r, 3), "min": round(lo, 3), "max": round(hi, 3), "measurable": not (lo <= 1.0 <= hi)}


def ratio_text(q):
    if not q["measurable"]:
        return "%.2fx (%.2f-%.2f: no measurable difference)" % (q["median"], q["min"], q["max"])
    return "%.2fx (%.2f-%.2f)" % (q["median"], q["min"], q["max"])


def regime_text(cells):
    """One paragraph on what bounded the runs of one workload."""
    syncd = [c for c in cells if c["mode"] in ("device", "event")]
    if not syncd:
        return None
    known = [c for c in syncd if c["busy_fraction"] is not None]
    if all(c["regime"] == "host-bound" for c in syncd) and not known:
        return "host-bound: CPU run, every op is host work; the ops/s measure the mechanics, not an accelerator"
    if not known:
        return ("regime: unknown (no GPU timing on this device); compare each mode with the no-sync column, "
                "the ceiling with no waiting at all")
    host = [c for c in known if c["regime"] == "host-bound"]
    busy = ", ".join("%s x%d %.0f%%" % (c["mode"], c["threads"], 100 * c["busy_fraction"]) for c in known)
    if len(host) == len(known):
        head = ("host-bound: the GPU was busy for less than %d%% of the wall time in every synced cell, so the "
                "Python per-op cost (and the GIL every thread needs for it) decides the ops/s. Event sync pays off "
                "here when it lets one thread's Python run while another thread's kernels execute; a device-wide "
                "sync makes every thread wait for all streams instead." % (100 * DEVICE_BOUND))
    elif not host:
        head = ("device-bound: the GPU was busy for at least %d%% of the wall time in every synced cell, so the "
                "GPU decides; more threads or a cheaper wait cannot add throughput beyond keeping it fed."
                % (100 * DEVICE_BOUND))
    else:
        head = ("mixed: some cells host-bound (Python per-op cost decides), some device-bound (the GPU decides): "
                "the sync mode matters most where the host is the limit.")
    return head + " GPU busy share (ops x device time per op / wall): " + busy + "."


def report_text(res):
    lines = []
    env = res["environment"]
    lines.append("mps-lint bench on %s (%s), torch %s [%s]" % (env["device"], env["device_name"], env["torch"], env["torch_build"]))
    cfg = res["config"]
    lines.append("each cell: %d measurements of %.2g s; ops/s as median (min-max)" % (cfg["repeats"], cfg["min_time"]))
    for n in res["notes"]:
        lines.append("note: " + n)
    for op in cfg["ops"]:
        rs = [r for r in res["results"] if r["op"] == op]
        pool = {r["threads"]: r for r in res["pool"] if r["op"] == op}
        dname = cfg["dtypes"][op]
        desc = ("%dx%d %s matmul" % (cfg["size"], cfg["size"], dname) if op == "matmul"
                else "Linear %d->%d->%d, batch %d, %s" % (cfg["size"], 2 * cfg["size"], cfg["size"], cfg["batch"], dname))
        lines.append("")
        lines.append("## " + desc)
        g = res.get("gpu_op_us", {}).get(op)
        if g is not None:
            lines.append("")
            lines.append("device time per op (GPU kept busy, CUDA events): %.1f us" % g)
        lines.append("")
        cell = lambda mode, n: next((r for r in rs if r["mode"] == mode and r["threads"] == n), None)
        get = lambda mode, n: (cell(mode, n) or {}).get("ops_per_s")
        modes = cfg["modes"]
        headers = ["Threads"] + ["%s (ops/s)" % LABELS[m] for m in modes]
        has_ratio = "device" in modes and "event" in modes
        if has_ratio:
            headers.append("Event/Device ratio")
        headers.append("Regime (GPU busy)")
        if pool:
            headers.append("Process pool (ops/s)")
        rows = []
        for n in cfg["threads"]:
            row = [n] + [spread_text(cell(m, n)) if cell(m, n) else "-" for m in modes]
            if has_ratio:
                d, e = cell("device", n), cell("event", n)
                row.append(ratio_text(ratio(e, d)) if d and e else "-")
            regs = []
            for m in modes:
                c = cell(m, n)
                if c and m != "none" and c["busy_fraction"] is not None:
                    regs.append("%s %s %.0f%%" % (m, c["regime"].split("-")[0], 100 * c["busy_fraction"]))
            row.append(", ".join(regs) or (cell(modes[0], n) or {}).get("regime", "unknown"))
            if pool:
                row.append(spread_text(pool[n]) if n in pool else "-")
            rows.append(row)
        lines.append(table(headers, rows))
        rt = regime_text(rs)
        if rt:
            lines.append("")
            lines.append(rt)
        ns = cfg["threads"]
        lo, hi = min(ns), max(ns)
        if hi > lo:
            sc = []
            for m in modes:
                a, b = get(m, lo), get(m, hi)
                if a and b:
                    sc.append("%s %.2fx" % (LABELS[m].lower(), b / a))
            lines.append("")
            lines.append("%d-thread scaling vs %d-thread: %s" % (hi, lo, ", ".join(sc)))
        base = get("device", 1) or get("event", 1) or get("none", 1)
        if base and hi > 1:
            erows = [["Single-thread baseline", fmt_int(base), "100%"]]
            for m in modes:
                x = get(m, hi)
                if x:
                    erows.append(["%d threads + %s" % (hi, LABELS[m].lower()), fmt_int(x),
                                  "%.1f%%" % (100.0 * x / (hi * base))])
            if hi in pool:
                x = pool[hi]["ops_per_s"]
                erows.append(["Process pool %d workers" % hi, fmt_int(x), "%.1f%%" % (100.0 * x / (hi * base))])
            lines.append("")
            lines.append(table(["Method", "Ops/s", "Efficiency"], erows))
            lines.append("(efficiency = ops/s / (workers x single-thread ops/s))")
    return "\n".join(lines)


def _esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg_chart(res):
    ops = res["config"]["ops"]
    pw, ph, ml, mr, mt, mb = 460, 300, 70, 20, 40, 50
    W, H = pw * len(ops), ph + 60
    env = res["environment"]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">' % (W, H, W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>' % (
               10, _esc("mps-lint bench: ops/s vs threads on %s (%s), torch %s" % (env["device"], env["device_name"], env["torch"])))]
    threads = res["config"]["threads"]
    for k, op in enumerate(ops):
        ox = k * pw
        series = {}
        for r in res["results"]:
            if r["op"] == op:
                series.setdefault(r["mode"], []).append((r["threads"], r["ops_per_s"]))
        for r in res["pool"]:
            if r["op"] == op:
                series.setdefault("process pool", []).append((r["threads"], r["ops_per_s"]))
        ymax = max([y for s in series.values() for _, y in s] + [1.0]) * 1.1
        x0, x1, y0, y1 = ox + ml, ox + pw - mr, mt + ph - mb, mt
        pos = {n: x0 + (x1 - x0) * (i / max(1, len(threads) - 1)) for i, n in enumerate(threads)}
        ypix = lambda v: y0 - (y0 - y1) * (v / ymax)
        out.append('<text x="%d" y="%d" font-weight="bold">%s</text>' % (x0, mt - 6, _esc(op)))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x0, y0, x1, y0))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x0, y0, x0, y1))
        for i in range(5):
            v = ymax * i / 4
            y = ypix(v)
            out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (x0, y, x1, y))
            out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (x0 - 4, y + 4, fmt_int(v)))
        for n, x in pos.items():
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (x, y0 + 16, n))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">threads / workers</text>' % ((x0 + x1) / 2, y0 + 32))
        out.append('<text x="%d" y="%.1f" text-anchor="middle" transform="rotate(-90 %d %.1f)">ops/s</text>' % (ox + 14, (y0 + y1) / 2, ox + 14, (y0 + y1) / 2))
        for j, (name, pts) in enumerate(sorted(series.items())):
            pts.sort()
            c = COLORS.get(name, "#000")
            path = " ".join("%.1f,%.1f" % (pos[n], ypix(v)) for n, v in pts if n in pos)
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (c, path))
            for n, v in pts:
                if n in pos:
                    out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s, %d: %s ops/s</title></circle>' % (pos[n], ypix(v), c, _esc(name), n, fmt_int(v)))
            lx, ly = x0 + 8, y1 + 14 + 14 * j
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>' % (lx, ly - 4, lx + 16, ly - 4, c))
            label = LABELS.get(name, name).lower()
            out.append('<text x="%d" y="%d">%s</text>' % (lx + 20, ly, _esc(label)))
    if env["device"] == "cpu":
        out.append('<text x="10" y="%d" fill="#a00">%s</text>' % (H - 8, _esc("CPU: mechanics only, no accelerator queue")))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    import torch
    from .devices import CPU_NOTE, environment, pick_device
    device = pick_device(torch, a.device)
    notes = []
    if device == "cpu":
        notes.append(CPU_NOTE)
    tt = a.torch_threads if a.torch_threads is not None else (1 if device == "cpu" else None)
    if tt:
        torch.set_num_threads(tt)
        if device == "cpu" and a.torch_threads is None:
            notes.append("CPU: torch intra-op threads set to 1, so the Python threads/processes are the only parallelism")
    if device == "cuda":
        notes.append("CUDA: each thread runs on its own stream, captured once; event sync records on it "
                     "(ev.record(stream)) - the model the guide was measured under")
    if device == "mps":
        notes.append("MPS: stock PyTorch MPS has one stream per process and is not thread-safe before "
                     "per-thread streams; thread results depend on the build")
    env = environment(torch, device)
    dtypes = {op: resolve_dtype(torch, device, op, a.dtype, notes) for op in a.ops}
    dnames = {op: str(dt).replace("torch.", "") for op, dt in dtypes.items()}
    res = {"schema": SCHEMA, "environment": env, "notes": notes,
           "config": {"ops": a.ops, "size": a.size, "batch": a.batch, "dtypes": dnames, "threads": a.thread_counts,
                      "min_time": a.min_time, "repeats": a.repeats, "warmup": a.warmup, "modes": a.modes,
                      "process_pool": a.process_pool},
           "gpu_op_us": {}, "results": [], "pool": [], "ratios": []}
    for op in a.ops:
        dtype = dtypes[op]
        g = gpu_op_seconds(torch, device, op, dtype, a.size, a.batch)
        res["gpu_op_us"][op] = round(g * 1e6, 3) if g is not None else None
        for n in a.thread_counts:
            # The modes of one thread count are measured interleaved, in a rotating order
            # (d e n, e n d, n d e, ...): a ratio then compares measurements taken seconds apart,
            # not minutes, so drift of the host (clocks, other load) does not enter it.
            samples = {mode: [] for mode in a.modes}
            for r in range(a.repeats):
                k = r % len(a.modes)
                for mode in a.modes[k:] + a.modes[:k]:
                    samples[mode].append(run_threads(torch, device, op, dtype, a.size, a.batch, mode, n,
                                                     a.min_time, a.warmup))
            for mode in a.modes:
                c = make_cell(op, mode, n, samples[mode], g, device)
                res["results"].append(c)
                sys.stderr.write("  %s %s x%d: %s ops/s [%s]\n" % (op, mode, n, spread_text(c), c["regime"]))
        if a.process_pool:
            cfg = {"op": op, "device": device, "dtype": dnames[op], "size": a.size, "batch": a.batch,
                   "min_time": a.min_time, "warmup": a.warmup, "torch_threads": tt}
            for n in a.thread_counts:
                samples = [run_pool(cfg, n) for _ in range(a.repeats)]
                c = make_cell(op, "process pool", n, samples, g, device)
                res["pool"].append(c)
                sys.stderr.write("  %s process pool x%d: %s ops/s\n" % (op, n, spread_text(c)))
        for n in a.thread_counts:
            d = next((c for c in res["results"] if c["op"] == op and c["mode"] == "device" and c["threads"] == n), None)
            e = next((c for c in res["results"] if c["op"] == op and c["mode"] == "event" and c["threads"] == n), None)
            if d and e:
                res["ratios"].append(dict(ratio(e, d), op=op, threads=n))
    finish_regimes(res["results"])
    print(report_text(res))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg_chart(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
