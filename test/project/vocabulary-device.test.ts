// One device vocabulary: DeviceFlow (MPS002, MPS008) and the timeline (MPS004) classify the same
// expressions the same way. Real facts from real source, through the project core.
import { describe, expect, it } from "vitest";
import { extractFacts } from "../../src/facts/extract.js";
import { Project } from "../../src/project/project.js";
import type { FnRef } from "../../src/project/index.js";
import { TimingAnalysis } from "../../src/project/timeline.js";

function load(source: string) {
  const facts = extractFacts("/tmp/vocab_case.py", source);
  const project = new Project([facts]);
  const fn = (name: string): FnRef => ({ m: 0, s: facts.scopes.findIndex((s) => s.name === name) });
  const timing = new TimingAnalysis(project);
  /** Names bound in `name` to device values, as DeviceFlow sees them in order. */
  const deviceNames = (name: string): string[] => {
    const f = fn(name);
    const ctx = { fn: f, deviceVars: new Set<string>(), accel: project.deviceFlow.accelerator(0) };
    for (const b of project.index.scope(f).bindings) if (project.deviceFlow.isDevice(b.value, ctx)) ctx.deviceVars.add(b.name);
    return [...ctx.deviceVars].sort();
  };
  const work = (name: string) => timing.timeline(fn(name)).filter((it) => it.k === "work").map((it) => it.what);
  return { project, facts, fn, deviceNames, work, timing };
}

const HEADER = "import argparse\nimport torch\n\n";

describe("device vocabulary", () => {
  it("tensor metadata is a host value in every analysis", () => {
    const { deviceNames, work } = load(`${HEADER}def f(model, x):
    y = model(x.to("cuda"))
    n = y.shape[0] * 2
    d = y.size(1)
    return n
`);
    expect(deviceNames("f")).toEqual(["y"]);
    expect(work("f")).toEqual(["model(...)"]);
  });

  it("an upload is a device value but not compute", () => {
    const { deviceNames, work, project, fn } = load(`${HEADER}def f(tokens):
    ids = torch.tensor(tokens, device="cuda")
    return ids
`);
    expect(deviceNames("f")).toEqual(["ids"]);
    expect(work("f")).toEqual([]);
    expect(project.deviceFlow.analyze(fn("f")).hasDeviceWork).toBe(false);
  });

  it("ev.query() is a completion check, not a wait", () => {
    const { project, facts } = load(`${HEADER}def f():
    ev = torch.cuda.Event()
    ev.record()
    ev.query()
    ev.synchronize()
`);
    const call = (attr: string) => facts.calls.findIndex((c) => c.fn.t === "attr" && c.fn.attr === attr);
    expect(project.sync.isAnySync(0, call("query"))).toBe(false);
    expect(project.sync.isCompletionCheck(0, call("query"))).toBe(true);
    expect(project.sync.isAnySync(0, call("synchronize"))).toBe(true);
  });

  it("a model call unpacked into a tuple is device work", () => {
    const { deviceNames, work } = load(`${HEADER}def f(vocoder, mel):
    mel = mel.to("cuda")
    wav, _ = vocoder(mel)
    return wav
`);
    expect(deviceNames("f")).toEqual(["_", "mel", "wav"]);
    expect(work("f")).toEqual(["vocoder(...)"]);
  });

  it("calls inside a CUDA graph capture queue nothing", () => {
    const { work } = load(`${HEADER}def f(model, x, g):
    x = x.to("cuda")
    with torch.cuda.graph(g):
        y = model(x)
    z = model(x)
`);
    expect(work("f")).toEqual(["model(...)"]);
  });

  it("a configured device or another tensor's device places work on the device", () => {
    const { deviceNames } = load(`import torch

def f(args, w, x, h):
    a = x.to(args.device)
    b = h.to(w.device)
    c = torch.randn(3, device=args.device)
    cpu = torch.device("cpu")
    d = torch.randn(3, device=cpu)
    return a
`);
    expect(deviceNames("f")).toEqual(["a", "b", "c"]);
  });
});
