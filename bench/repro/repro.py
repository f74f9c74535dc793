"""Independent minimal reproduction of the guide's comparison on CUDA (issue 15): 512x512 fp16
matmul, each thread on its own stream, waiting per op with a device-wide sync or with an event
recorded on the thread's stream. Time-based cells. Shares no code with mps_lint_verify.

  python bench/repro/repro.py [--size 512] [--seconds 0.5] [--repeats 3] [--json out.json]
"""
import argparse, json, statistics, threading, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--size", type=int, default=512)
ap.add_argument("--seconds", type=float, default=0.5)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--threads", default="1,2,4,8")
ap.add_argument("--json")
args = ap.parse_args()


def cell(mode, n):
    counts, stop, start = [0] * n, threading.Event(), threading.Barrier(n + 1)

    def work(i):
        s = torch.cuda.Stream()
        with torch.cuda.stream(s):
            a = torch.randn(args.size, args.size, device="cuda", dtype=torch.float16)
            ev = torch.cuda.Event()
            for _ in range(10):
                a @ a
            torch.cuda.synchronize()
            start.wait()
            while not stop.is_set():
                a @ a
                if mode == "device":
                    torch.cuda.synchronize()
                else:
                    ev.record(s)
                    ev.synchronize()
                counts[i] += 1

    ts = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    [t.start() for t in ts]
    start.wait()
    t0 = time.perf_counter()
    time.sleep(args.seconds)
    stop.set()
    [t.join() for t in ts]
    torch.cuda.synchronize()
    return sum(counts) / (time.perf_counter() - t0)


out = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "size": args.size, "rows": []}
print("| threads | device sync ops/s | event sync ops/s | event/device |")
for n in [int(x) for x in args.threads.split(",")]:
    d, e = [], []
    for r in range(args.repeats):  # alternate (d e, e d, ...): both modes see the same drift
        for mode in (("device", "event") if r % 2 == 0 else ("event", "device")):
            (d if mode == "device" else e).append(cell(mode, n))
    r = statistics.median(e) / statistics.median(d)
    out["rows"].append({"threads": n, "device": d, "event": e, "ratio": r})
    print("| %d | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.2fx |" % (
        n, statistics.median(d), min(d), max(d), statistics.median(e), min(e), max(e), r))
if args.json:
    json.dump(out, open(args.json, "w"), indent=1)
