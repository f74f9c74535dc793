// `mps-lint --dump callgraph|summaries FILE...` through the built CLI (npm run build first, as
// the other CLI tests).
import { describe, expect, it } from "vitest";
import { runCli } from "../cli.js";

const DISPATCH = "fixtures/device-sync-in-thread/receiver_dispatch.py";

describe("--dump", () => {
  it("prints call targets per call site, with the receiver's class when known", () => {
    const r = runCli(["--no-cache", "--dump", "callgraph", DISPATCH]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    const known = lines.indexOf(lines.find((l) => l.includes("Base.run [self: SubA]"))!);
    expect(known).toBeGreaterThan(0);
    expect(lines.slice(known + 1, known + 3).map((l) => l.trim())).toEqual([
      "line 11 self.setup() -> receiver_dispatch:SubA.setup [self: SubA]",
      "line 12 self.process() -> receiver_dispatch:SubA.process [self: SubA]",
    ]);
    expect(r.stdout).toContain("line 12 self.process() -> receiver_dispatch:SubB.process [hierarchy]");
  });

  it("prints function summaries: thread reach and waits", () => {
    const r = runCli(["--no-cache", "--dump", "summaries", DISPATCH]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SubA\.process .*thread: Thread\(target=…\(\)\.run\).*waits/);
    expect(r.stdout).toMatch(/SubB\.process [^\n]*waits/);
    expect(r.stdout).not.toMatch(/SubB\.process [^\n]*thread:/);
  });

  it("prints each Event with what its users make it: shared, a hand-off, kept on a shared object", () => {
    const handOff = runCli(["--no-cache", "--dump", "summaries", "fixtures/shared-event/hand_off.py"]);
    expect(handOff.code).toBe(0);
    expect(handOff.stdout).toContain("torch.cuda.Event() at fixtures/shared-event/hand_off.py:12  hand-off: one thread records, others wait");
    expect(handOff.stdout).toContain("torch.cuda.Event() at fixtures/shared-event/hand_off.py:26  shared: recorded by several threads");
    const holders = runCli(["--no-cache", "--dump", "summaries", "fixtures/shared-event/holder_objects.py"]);
    expect(holders.stdout).toContain("torch.cuda.Event() at fixtures/shared-event/holder_objects.py:13  shared: kept in self.start of the CudaTimer made once at line 43");
    expect(holders.stdout).toMatch(/holder_objects\.py:66 {2}per-thread: created in thread code/);
  });

  it("prints each function's ordered timeline: loads, work, waits and clock reads", () => {
    const r = runCli(["--no-cache", "--dump", "timeline", "fixtures/unsynced-timing/loading.py"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").map((l) => l.trim());
    const at = lines.indexOf(lines.find((l) => l.startsWith("time_loader_with_warmup "))!);
    expect(lines.slice(at + 1, at + 4)).toEqual([
      "line 86 clock time.perf_counter() opens into t0",
      "line 87 work load_and_warm(...)",
      "line 88 clock time.perf_counter() closes",
    ]);
    expect(r.stdout).toContain("line 53 load torch.load(...)");
  });

  it("names how a call site reaches code that no name spells: an object's __call__, a kept callable", () => {
    const objects = runCli(["--no-cache", "--dump", "callgraph", "fixtures/device-sync-in-thread/callable_objects.py"]);
    expect(objects.code).toBe(0);
    expect(objects.stdout).toContain("line 28 self.pipeline() -> callable_objects:Pipeline.__call__ [self: Pipeline] (__call__ of a Pipeline instance)");
    const kept = runCli(["--no-cache", "--dump", "callgraph", "fixtures/device-sync-in-thread/stored_callables.py"]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain("self.process_func() -> stored_callables:Model.forward [self: Model] (kept callable: self.process_func <- process_func <- module.forward)");
    expect(kept.stdout).toContain("job.fn() -> stored_callables:flush (kept callable: job.fn <- flush)");
    const loops = runCli(["--no-cache", "--dump", "callgraph", "fixtures/device-sync-in-thread/iteration_protocol.py"]);
    expect(loops.code).toBe(0);
    expect(loops.stdout).toContain("self.loader.__iter__() -> iteration_protocol:Prefetcher.__iter__ [self: Prefetcher] (iteration protocol: a for loop calls iter(), that is __iter__)");
    expect(loops.stdout).toContain("Countdown(3).__next__() -> iteration_protocol:Countdown.__next__ (iteration protocol: each round calls the iterator's __next__)");
    expect(loops.stdout).not.toContain("-> iteration_protocol:Shard.__iter__");
    const declared = runCli(["--no-cache", "--dump", "callgraph", "fixtures/device-sync-in-thread/declared_base.py"]);
    expect(declared.code).toBe(0);
    expect(declared.stdout).toContain("self.transport.resolve() -> declared_base:CudaTransport.resolve [self: CudaTransport] [declared Transport: a class the project creates]");
    expect(declared.stdout).not.toContain("-> declared_base:LegacyTransport.resolve");
  });

  it("prints the conditions a wait runs under, and those the device strings decide", () => {
    const r = runCli(["--no-cache", "--dump", "timeline", "fixtures/unsynced-timing/conditional_waits.py"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("line 18 wait torch.cuda.synchronize() (conditional) [when step % eval_interval == 0] [loop]");
    expect(r.stdout).toContain('line 58 wait torch.cuda.synchronize() [always true here: "privateuseone" not in str(device)]');
  });

  it("names kernel launches that are no torch calls on the timeline", () => {
    const r = runCli(["--no-cache", "--dump", "timeline", "fixtures/unsynced-timing/kernel_launches/fastops/bench.py"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("line 32 work add_kernel[(x.numel() // 1024,)](...) (a Triton kernel launch)");
    expect(r.stdout).toContain("line 45 work torch.ops.fastops.gemm(...) (a custom operator)");
    expect(r.stdout).toContain("line 51 work _C.gemm(...) (a compiled extension's kernel)");
  });

  it("lists names a lazy package provides through its module __getattr__", () => {
    const dir = "fixtures/device-sync-in-thread/lazy_package";
    const r = runCli(["--no-cache", "--dump", "summaries", `${dir}/app.py`, `${dir}/voices/__init__.py`, `${dir}/voices/omni.py`, `${dir}/voices/fast.py`, `${dir}/voices/spare.py`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("voices.OmniEngine -> voices.omni:OmniEngine");
    expect(r.stdout).toContain("voices.FastEngine -> voices.fast:FastEngine");
    expect(r.stdout).toMatch(/OmniEngine\.synthesize .*thread: Thread\(target=speak\)/);
  });

  it("rejects an unknown kind with a usage error", () => {
    const r = runCli(["--dump", "graph", DISPATCH]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown --dump "graph" (known: callgraph, summaries, timeline)');
  });
});
