// The timeline's loading, recursion and choice semantics, and receiver-keyed wait witnesses:
// real parsed Python through the project core (no rule in between).
import { describe, expect, it } from "vitest";
import { buildProject, py } from "./graph-project.js";

const HEADER = ["import time", "import torch", "import safetensors.torch", "from transformers import AutoConfig, AutoModel", ""];

describe("timeline: loading a checkpoint", () => {
  const { project, fn } = buildProject({
    "app.py": py([
      ...HEADER,
      "def load(path, repack=False):",
      "    sd = torch.load(path, map_location='cuda')",
      "    if repack:",
      "        torch.randn(4, device='cuda').sum()",
      "    return sd",
      "",
      "def load_and_warm(path, model):",
      "    load(path)",
      "    model(torch.randn(1, 4, device='cuda'))",
      "",
      "def caller(path, model):",
      "    load(path)",
      "    load_and_warm(path, model)",
      "    AutoModel.from_pretrained(path)",
      "    AutoConfig.from_pretrained(path)",
      "    safetensors.torch.load_file(path)",
    ]),
  });
  const ta = project.timeline;
  const kinds = (name: string) => ta.timeline(fn(`app.py:${name}`)).map((it) => `${it.k} ${it.what}`);

  it("library loaders and project loaders are load items; config readers are not", () => {
    expect(kinds("caller")).toEqual([
      "load load(...)",
      "work load_and_warm(...)",
      "load AutoModel.from_pretrained(...)",
      "load safetensors.torch.load_file(...)",
    ]);
  });

  it("a loader that queues compute on every path after loading is work; conditional post-processing is not", () => {
    expect(ta.waitShape(fn("app.py:load")).workAfterLoad).toBe(false);
    expect(ta.waitShape(fn("app.py:load_and_warm")).workAfterLoad).toBe(true);
    expect(ta.loadsCheckpoint(fn("app.py:load"))).toBe(true);
  });
});

describe("timeline: callee shapes", () => {
  it("a recursive function that never waits is no wait, whichever is asked first", () => {
    const src = py([
      ...HEADER,
      "def walk(module):",
      "    for child in module.children():",
      "        walk(child)",
      "",
      "def bench(model, x):",
      "    y = model(x.to('mps'))",
      "    walk(model)",
      "    return y",
    ]);
    for (const first of ["walk", "bench"]) {
      const { project, fn } = buildProject({ "app.py": src });
      project.timeline.waitShape(fn(`app.py:${first}`));
      const shape = project.timeline.waitShape(fn("app.py:walk"));
      expect(shape.waits).toBe(false);
      expect(project.timeline.timeline(fn("app.py:bench")).map((it) => it.k)).toEqual(["work"]);
    }
  });

  it("work after the last wait counts for callers only when every path queues it", () => {
    const { project, fn } = buildProject({
      "app.py": py([
        ...HEADER,
        "def maybe_more(model, x, warm):",
        "    torch.cuda.synchronize()",
        "    if warm:",
        "        model(x.to('cuda'))",
        "",
        "def always_more(model, x):",
        "    torch.cuda.synchronize()",
        "    model(x.to('cuda'))",
      ]),
    });
    expect(project.timeline.waitShape(fn("app.py:maybe_more")).workAfterWait).toBe(false);
    expect(project.timeline.waitShape(fn("app.py:always_more")).workAfterWait).toBe(true);
  });

  it("choosing a device value (`a if c else b`, `a or b`) queues nothing", () => {
    const { project, fn } = buildProject({
      "app.py": py([
        ...HEADER,
        "def f(x, fast):",
        "    a = torch.randn(4, device='cuda')",
        "    b = a if fast else None",
        "    c = b or a",
        "    d = a * 2",
        "    return c",
      ]),
    });
    expect(project.timeline.timeline(fn("app.py:f")).map((it) => it.what)).toEqual(["torch.randn(...)", "d = ..."]);
  });
});

describe("blocking waits by receiver", () => {
  it("a method reached through a known instance walks its own class's override", () => {
    const { project, fn } = buildProject({
      "app.py": py([
        "import torch",
        "",
        "class Base:",
        "    def setup(self):",
        "        torch.hpu.synchronize()",
        "    def handle(self):",
        "        self.setup()",
        "",
        "class Fast(Base):",
        "    def setup(self):",
        "        return None",
      ]),
    });
    const handle = fn("app.py:Base.handle");
    const waits = project.blockingWaits;
    expect(waits.inNode({ fn: handle, self: fn("app.py:Fast") })).toBeNull();
    expect(waits.inNode({ fn: handle, self: fn("app.py:Base") })?.wait.what).toBe("torch.hpu.synchronize()");
    // Receiver unknown: every override may run, so the waiting one is a witness.
    expect(waits.inFunction(handle)?.chain.map((f) => project.index.displayName(f))).toEqual(["Base.setup"]);
  });
});
