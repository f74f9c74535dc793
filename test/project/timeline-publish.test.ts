// The timeline's hand-overs (publish items), the kinds of its waits and its queued (non-compute)
// device work: real parsed Python through the project core (no rule in between). MPS002 reads
// these items; MPS007 reads the waits and completion checks.
import { describe, expect, it } from "vitest";
import { COMPLETES_OWN_WORK, type Item } from "../../src/project/timeline.js";
import { buildProject, py } from "./graph-project.js";

const HEADER = ["import queue", "import threading", "import torch", "import torch.distributed as dist", ""];

const describeItem = (it: Item): string => {
  if (it.k === "publish") return `publish ${it.via} ${it.what}`;
  if (it.k === "sync") return `sync ${it.via} ${it.what}`;
  return `${it.k} ${it.what}`;
};

describe("timeline: publish items", () => {
  const { project, fn } = buildProject({
    "app.py": py([
      ...HEADER,
      "results = []",
      "",
      "class Worker:",
      "    def __init__(self):",
      "        self.out = queue.Queue()",
      "        self.done = []",
      "",
      "    def step(self, model, x, fut):",
      "        y = model(x.to('cuda'))",
      "        self.out.put(y)",
      "        fut.set_result(y * 2)",
      "        self.done.append(y)",
      "        local = []",
      "        local.append(y)",
      "        self.out.put(y.shape)",
      "        return y",
      "",
      "def host_only(n):",
      "    results.append(n)",
      "    return n + 1",
    ]),
  });
  const items = (name: string) => project.timeline.timeline(fn(`app.py:${name}`)).map(describeItem);

  it("returns, queue puts, future results and appends to shared containers of device values are publish items, after the work they hand over", () => {
    expect(items("Worker.step").filter((s) => !s.startsWith("queued"))).toEqual([
      "work model(...)",
      "publish call self.out.put()",
      "work fut.set_result(...)",
      "publish call fut.set_result()",
      "publish call self.done.append()",
      "publish return return",
    ]);
  });

  it("a local list, host metadata (`y.shape`) and host values are not published", () => {
    expect(items("host_only")).toEqual([]);
  });

  it("a timeline built for a timed span (MPS004) has no publish items", () => {
    const f = fn("app.py:Worker.step");
    const span = { from: 0, to: Number.MAX_SAFE_INTEGER };
    expect(project.timeline.timeline(f, span).some((it) => it.k === "publish")).toBe(false);
  });
});

describe("timeline: wait kinds and queued work", () => {
  const { project, fn } = buildProject({
    "app.py": py([
      ...HEADER,
      "def waits(model, x, ev, data):",
      "    worker = threading.Thread(target=print)",
      "    worker.start()",
      "    y = model(x.to('cuda'))",
      "    torch.cuda.synchronize()",
      "    float(y)",
      "    dist.barrier()",
      "    worker.join()",
      "    ev.query()",
      "    z = y.to('cuda')",
      "    ids = torch.tensor(data, device='cuda')",
    ]),
  });
  const items = project.timeline.timeline(fn("app.py:waits"));

  it("each wait says what kind it is; ev.query() is a completion check, not a wait", () => {
    expect(items.filter((it) => it.k === "sync" || it.k === "check").map(describeItem)).toEqual([
      "sync device torch.cuda.synchronize()",
      "sync host float(...)",
      "sync barrier dist.barrier() (a barrier)",
      "sync thread worker.join() (blocks on another thread)",
      "check ev.query()",
    ]);
  });

  it("only device syncs, host reads, truth tests and waiting callees complete this thread's own work", () => {
    const kinds = items.flatMap((it) => (it.k === "sync" ? [it.via] : []));
    expect(kinds.map((v) => COMPLETES_OWN_WORK.has(v))).toEqual([true, true, false, false]);
  });

  it("a copy to the device is queued work (not compute); an upload of host data is neither", () => {
    expect(items.filter((it) => it.k === "queued" || it.k === "work").map(describeItem)).toEqual(["queued x.to(...)", "work model(...)", "queued y.to(...)"]);
  });
});
