import { defineRule } from "../src/engine/rule.js";
import { deliberateSyncReason, deviceSyncFix, safely } from "./support/fixes.js";

export default defineRule({
  meta: {
    code: "MPS001",
    name: "device-sync-in-thread",
    severity: "error",
    category: "threads",
    fixable: "unsafe",
    summary: "Device-wide synchronize() reached from code that runs on a worker thread.",
    why: [
      "`torch.mps.synchronize()` (and `torch.cuda.synchronize()`, `torch.xpu.synchronize()`,",
      "`torch.accelerator.synchronize()`) waits for *all* work queued on the device, by every",
      "thread. Called from worker threads it becomes a barrier: each thread waits for all the",
      "others, and the threads run one after another. Measured on an Apple M4 Max (512x512 fp16",
      "matmul, 8 threads): 6,342 ops/s with device sync against 17,228 ops/s with a per-thread",
      "event sync (2.72x); 8 threads with device sync scale 1.01x over one thread.",
      "",
      "Use a per-thread Event (`record()` then `synchronize()`), which waits only for the",
      "thread's own work. For maximum throughput the guide's answer is a process pool: 95.8%",
      "efficiency at 8 workers, where 8 threads reach 19.2% with device sync and 29.4% with event",
      "sync. A device sync stays right in single-threaded code and in worker processes.",
    ].join("\n"),
    example: [
      "import threading",
      "import torch",
      "",
      "def worker(model, x):",
      "    y = model(x)",
      "    torch.mps.synchronize()",
      "    return y",
      "",
      "threads = [threading.Thread(target=worker, args=(m, x)) for m, x in jobs]",
    ].join("\n"),
    useInstead: [
      "import threading",
      "import torch",
      "",
      "def worker(model, x):",
      "    event = torch.mps.Event()",
      "    y = model(x)",
      "    event.record()",
      "    event.synchronize()",
      "    return y",
      "",
      "threads = [threading.Thread(target=worker, args=(m, x)) for m, x in jobs]",
    ].join("\n"),
    fixSafety: [
      "Unsafe: the per-thread event waits only for work this thread queued (on CUDA, on the stream it",
      "used at its first wait). Code that relied on the device-wide wait for work of other threads",
      "would change behaviour.",
      "",
      "The fix (`--fix --unsafe-fixes`) replaces the call where it stands by",
      "`_mps_lint_event_sync(torch.mps)` (the call's own backend module and device argument), so it runs",
      "under the same `if`, `try` and loop as the sync did; a module-level helper keeps one Event per",
      "thread and device in a `threading.local()`, made on first use and recorded on the thread's",
      "stream. It adds no torch import (only `import threading` when missing). No fix for",
      "`torch.accelerator.synchronize()`, a backend chosen at run time",
      "(`getattr(torch, device).synchronize()`), a call that is not a statement of its own, or a",
      "deliberate device sync (a sync-mode benchmark's device arm, a benchmark or test about syncing, a",
      "comment tying the wait to other threads, tensors just received from another thread): the",
      "message then says why.",
    ].join("\n"),
    limitations: [
      "Thread reachability follows calls the project index resolves (functions, methods through",
      "known instances, partial, lambdas, decorators, context managers, imports between project",
      "modules). Calls through unresolved objects are not followed, so a sync reached only that",
      "way is missed rather than guessed. A function reachable both from the main thread and from",
      "a worker is reported: it does run on the worker.",
    ].join("\n"),
    messages: {
      manyThreads: "`{{callee}}()` waits for every thread's work on the device; in thread code use a per-thread event (record + synchronize) — {{witness}}",
      singleWorker:
        "`{{callee}}()` waits for all work on the device, by any thread (here a single worker: it serializes with whatever else uses the device); in thread code use a per-thread event (record + synchronize) — {{witness}}",
      manyThreadsNoFix:
        "`{{callee}}()` waits for every thread's work on the device; in thread code use a per-thread event (record + synchronize) — {{witness}} (no fix offered: {{reason}})",
      singleWorkerNoFix:
        "`{{callee}}()` waits for all work on the device, by any thread (here a single worker: it serializes with whatever else uses the device); in thread code use a per-thread event (record + synchronize) — {{witness}} (no fix offered: {{reason}})",
    },
    references: ["MPS_SYNC_MODE_GUIDE.md: Mistake 1, Pattern 2, Performance Comparison, Decision Matrix", "https://pytorch.org/docs/stable/generated/torch.mps.synchronize.html"],
  },
  check(ctx) {
    const { project, m, facts } = ctx;
    facts.scopes.forEach((scope, s) => {
      if (scope.kind !== "function") return;
      const fn = { m, s };
      if (!project.threads.reachOf(fn)) return;
      for (const call of project.index.callsIn(fn)) {
        const backend = project.sync.deviceSync(m, call);
        if (!backend) continue;
        const c = project.index.call(m, call);
        const path = project.threads.pathTo(fn);
        // One thread started once: the barrier costs only if other threads (or the main thread)
        // use the device meanwhile. Say so rather than claim lost parallelism.
        const single = project.threads.spawnsReaching(fn).every((sp) => !sp.many);
        // A deliberate device-wide wait (a sync-mode benchmark's device arm, a comment saying it
        // covers other threads) is still reported, but gets no fix, and the message says why.
        const deliberate = deliberateSyncReason(ctx, c.range);
        ctx.report({
          range: c.range,
          messageId: `${single ? "singleWorker" : "manyThreads"}${deliberate ? "NoFix" : ""}`,
          data: deliberate ? { callee: c.callee, reason: deliberate } : { callee: c.callee },
          path,
          fix: deliberate ? null : safely(() => deviceSyncFix(ctx, fn, c.range, backend)),
        });
      }
    });
  },
});
