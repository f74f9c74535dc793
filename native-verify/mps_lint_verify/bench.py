"""mps-lint bench: the guide's device-sync vs event-sync vs process-pool comparison, measured
on this machine's device.

  python -m mps_lint_verify.bench --op matmul --size 512 --dtype float16 \
      --threads 1,2,4,8 --iters 500 --sync-mode device,event,none

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

SCHEMA = "mps-lint-bench/1"
MODES = ("device", "event", "none")
COLORS = {"device": "#d62728", "event": "#1f77b4", "none": "#7f7f7f", "process pool": "#2ca02c"}


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
    ap.add_argument("--dtype", default="auto", help="auto (float16 on accelerators, float32 on CPU), float16, float32, bfloat16")
    ap.add_argument("--threads", default="1,2,4,8", help="thread counts, comma list")
    ap.add_argument("--iters", type=int, default=200, help="ops per thread per measurement")
    ap.add_argument("--warmup", type=int, default=10, help="untimed ops per thread first")
    ap.add_argument("--sync-mode", default="device,event,none", help="device, event, none (comma list) or all")
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
    return a


# ----------------------------------------------------------------------------- workloads
def resolve_dtype(torch, device, requested, notes):
    names = {"float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
             "float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16}
    if requested == "auto":
        if device == "cpu":
            notes.append("CPU: used float32 (fp16 matmul on CPU is unsupported in older torch and emulated, "
                         "slowly, in newer torch; pass --dtype float16 to force it)")
            return torch.float32
        return torch.float16
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


def make_sync(torch, device, mode):
    if mode == "none":
        return lambda: None
    if mode == "device":
        if device == "cuda":
            return torch.cuda.synchronize
        if device == "mps":
            return torch.mps.synchronize
        return lambda: None
    # event: one event per thread (guide Pattern 2); created in the calling thread
    if device == "cuda":
        ev = torch.cuda.Event()
    elif device == "mps":
        ev = torch.mps.Event()
    else:
        ev = _CpuEvent()

    def sync():
        ev.record()
        ev.synchronize()
    return sync


def device_sync(torch, device):
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def run_threads(torch, device, op, dtype, size, batch, mode, n, iters, warmup):
    """n threads, each with its own workload (and CUDA stream), `iters` ops each. ops/s."""
    ready = threading.Barrier(n + 1)
    go = threading.Event()
    errors = []
    ends = [0.0] * n

    def worker(i):
        try:
            ctx = None
            if device == "cuda":
                s = torch.cuda.Stream()
                ctx = torch.cuda.stream(s)
                ctx.__enter__()
            w = Workload(torch, op, device, dtype, size, batch)
            sync = make_sync(torch, device, mode)
            for _ in range(warmup):
                w.step()
                sync()
            if device != "cpu":
                device_sync(torch, device)
            ready.wait()
            go.wait()
            for _ in range(iters):
                w.step()
                sync()
            ends[i] = time.perf_counter()
            if ctx is not None:
                ctx.__exit__(None, None, None)
        except BaseException as e:  # reported, the others still finish
            errors.append(e)
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
    for t in ts:
        t.join()
    device_sync(torch, device)  # 'none' mode: the work must finish inside the measurement
    t1 = time.perf_counter()
    if errors:
        raise errors[0]
    return n * iters, t1 - t0


def _pool_proc(cfg, barrier, out):
    import torch
    if cfg["torch_threads"]:
        torch.set_num_threads(cfg["torch_threads"])
    dtype = getattr(torch, cfg["dtype"])
    device = cfg["device"]
    w = Workload(torch, cfg["op"], device, dtype, cfg["size"], cfg["batch"])
    sync = make_sync(torch, device, "device")
    for _ in range(cfg["warmup"]):
        w.step()
        sync()
    barrier.wait()
    t0 = time.monotonic()
    for _ in range(cfg["iters"]):
        w.step()
        sync()
    device_sync(torch, device)
    out.put((t0, time.monotonic(), cfg["iters"]))


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


# ----------------------------------------------------------------------------- output
def fmt_int(x):
    return "{:,}".format(int(round(x)))


def table(headers, rows):
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(cells)) + " |"
    out = [line(headers), "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def report_text(res):
    lines = []
    env = res["environment"]
    lines.append("mps-lint bench on %s (%s), torch %s [%s]" % (env["device"], env["device_name"], env["torch"], env["torch_build"]))
    for n in res["notes"]:
        lines.append("note: " + n)
    for op in res["config"]["ops"]:
        rs = [r for r in res["results"] if r["op"] == op]
        pool = {r["threads"]: r for r in res["pool"] if r["op"] == op}
        desc = ("%dx%d %s matmul" % (res["config"]["size"], res["config"]["size"], res["config"]["dtype"]) if op == "matmul"
                else "Linear %d->%d->%d, batch %d, %s" % (res["config"]["size"], 2 * res["config"]["size"],
                                                          res["config"]["size"], res["config"]["batch"], res["config"]["dtype"]))
        lines.append("")
        lines.append("## " + desc)
        lines.append("")
        get = lambda mode, n: next((r["ops_per_s"] for r in rs if r["mode"] == mode and r["threads"] == n), None)
        modes = res["config"]["modes"]
        headers = ["Threads"] + ["%s sync (ops/s)" % m.capitalize() if m != "none" else "No sync (ops/s)" for m in modes]
        has_ratio = "device" in modes and "event" in modes
        if has_ratio:
            headers.append("Event/Device ratio")
        if pool:
            headers.append("Process pool (ops/s)")
        rows = []
        for n in res["config"]["threads"]:
            row = [n] + [fmt_int(get(m, n)) if get(m, n) is not None else "-" for m in modes]
            if has_ratio:
                d, e = get("device", n), get("event", n)
                row.append("%.2fx" % (e / d) if d and e else "-")
            if pool:
                row.append(fmt_int(pool[n]["ops_per_s"]) if n in pool else "-")
            rows.append(row)
        lines.append(table(headers, rows))
        ns = res["config"]["threads"]
        lo, hi = min(ns), max(ns)
        if hi > lo:
            sc = []
            for m in modes:
                a, b = get(m, lo), get(m, hi)
                if a and b:
                    sc.append("%s sync %.2fx" % (m, b / a) if m != "none" else "no sync %.2fx" % (b / a))
            lines.append("")
            lines.append("%d-thread scaling vs %d-thread: %s" % (hi, lo, ", ".join(sc)))
        base = get("device", 1) or get("event", 1) or get("none", 1)
        if base and hi > 1:
            erows = [["Single-thread baseline", fmt_int(base), "100%"]]
            for m in modes:
                x = get(m, hi)
                if x:
                    erows.append(["%d threads + %s" % (hi, "%s sync" % m if m != "none" else "no sync"), fmt_int(x),
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
            label = name + (" sync" if name in ("device", "event") else " (no sync)" if name == "none" else "")
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
        notes.append("CUDA: each thread runs on its own stream (the model the guide was measured under)")
    if device == "mps":
        notes.append("MPS: stock PyTorch MPS has one stream per process and is not thread-safe before "
                     "per-thread streams; thread results depend on the build")
    env = environment(torch, device)
    dtype = resolve_dtype(torch, device, a.dtype, notes)
    dname = str(dtype).replace("torch.", "")
    res = {"schema": SCHEMA, "environment": env, "notes": notes,
           "config": {"ops": a.ops, "size": a.size, "batch": a.batch, "dtype": dname, "threads": a.thread_counts,
                      "iters": a.iters, "warmup": a.warmup, "modes": a.modes, "process_pool": a.process_pool},
           "results": [], "pool": []}
    for op in a.ops:
        for mode in a.modes:
            for n in a.thread_counts:
                ops, wall = run_threads(torch, device, op, dtype, a.size, a.batch, mode, n, a.iters, a.warmup)
                res["results"].append({"op": op, "mode": mode, "threads": n, "ops": ops, "wall_s": round(wall, 6),
                                       "ops_per_s": round(ops / wall, 2)})
                sys.stderr.write("  %s %s sync x%d: %s ops/s\n" % (op, mode, n, fmt_int(ops / wall)))
        if a.process_pool:
            cfg = {"op": op, "device": device, "dtype": dname, "size": a.size, "batch": a.batch,
                   "iters": a.iters, "warmup": a.warmup, "torch_threads": tt}
            for n in a.thread_counts:
                ops, wall = run_pool(cfg, n)
                res["pool"].append({"op": op, "mode": "process pool", "threads": n, "ops": ops,
                                    "wall_s": round(wall, 6), "ops_per_s": round(ops / wall, 2)})
                sys.stderr.write("  %s process pool x%d: %s ops/s\n" % (op, n, fmt_int(ops / wall)))
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
