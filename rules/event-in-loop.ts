import { defineRule } from "../src/engine/rule.js";
import type { Project } from "../src/project/project.js";
import { EVENT_METHODS } from "../src/project/vocabulary.js";
import { namesBoundTo, usedOnlyAsReceiver } from "../src/facts/queries.js";
import { isEventConstructor } from "./support/facts.js";
import { hoistEventFix } from "./event-in-loop.fix.js";
import { safely } from "./support/edit-kit.js";

/**
 * Does the call hand back a fresh Event each time: an Event constructor, or a project function
 * that creates one unconditionally in its own body and returns it (`def make_event(): return
 * torch.mps.Event()`).
 */
function freshEventCall(project: Project, m: number, call: number): boolean {
  if (isEventConstructor(project, m, call)) return true;
  const idx = project.index;
  const callees = idx.calleesOf(m, call);
  return idx.evalCall(m, call).some((v) => {
    if (v.k !== "event") return false;
    const ctor = idx.call(v.m, v.call);
    return !ctor.loop && ctor.guards.length === 0 && callees.some((t) => t.m === v.m && t.s === ctor.scope);
  });
}

/** `if ev is None: ev = torch.mps.Event()` creates the Event once: a lazily made one is fine. */
function lazilyCreated(guards: string[], names: string[]): boolean {
  return guards.some((g) => /\bNone\b|hasattr|getattr/.test(g) || names.some((n) => new RegExp(`\\b${n}\\b`).test(g)));
}

export default defineRule({
  meta: {
    code: "MPS005",
    name: "event-in-loop",
    severity: "warning",
    category: "threads",
    tokens: [],
    fixable: "safe",
    summary: "Thread code creates a new Event on every loop iteration instead of once per thread.",
    why: [
      "The guide's pattern for multi-threaded work is one Event per thread, created once when the",
      "thread starts and then recorded and synchronized for each unit of work. An Event",
      "constructed inside the loop allocates a new device event object on every iteration —",
      "on MPS a Metal shared event taken from PyTorch's event pool, on CUDA a `cudaEvent_t` — in",
      "the hot path of every worker, and churns the pool that all threads share. Creating it once",
      "before the loop costs nothing and keeps the per-thread synchronization that makes event",
      "sync 2.72x faster than device sync at 8 threads.",
    ].join("\n"),
    example: [
      "import threading",
      "import torch",
      "",
      "def worker(model, batches):",
      "    for x in batches:",
      "        event = torch.mps.Event()",
      "        y = model(x)",
      "        event.record()",
      "        event.synchronize()",
      "",
      "threads = [threading.Thread(target=worker, args=(m, b)) for m, b in jobs]",
    ].join("\n"),
    useInstead: [
      "import threading",
      "import torch",
      "",
      "def worker(model, batches):",
      "    event = torch.mps.Event()",
      "    for x in batches:",
      "        y = model(x)",
      "        event.record()",
      "        event.synchronize()",
      "",
      "threads = [threading.Thread(target=worker, args=(m, b)) for m, b in jobs]",
    ].join("\n"),
    fixSafety: [
      "Safe where the loop surely runs its body (`while True:`, `for _ in range(3)`), unsafe otherwise:",
      "the fix moves the constructor statement (with its comment) to just before the outermost loop of",
      "the function, at the loop's indentation, so over an empty list it makes an Event the original",
      "never made. Offered when the Event is a direct constructor call bound to a name that is bound",
      "nowhere else in the function, whose arguments call nothing and use no name the loop assigns,",
      "and which runs on every iteration (no `if`/`try` between it and the loop, no `continue`,",
      "`break`, `return` or `raise` before it). Events made by a helper (`make_event()`) are not moved.",
    ].join("\n"),
    limitations: [
      "Reported only in code that runs on a worker thread (reachable from a spawn site), and only",
      "when the Event stays inside the iteration: bound to a local that is used only through its",
      "methods. Events that escape — appended to a list, put on a queue, returned, stored on an",
      "object — are kept: pipelines that keep several batches in flight need one Event per batch.",
      "Events built in a comprehension (a list of timing events) are not reported. A helper called",
      "in the loop that creates such an Event unconditionally, itself or through the project",
      "functions and callable objects it calls, is reported at the call.",
    ].join("\n"),
    messages: {
      eventInLoop:
        "`{{callee}}()` creates a new Event on every iteration; create one Event per thread before the loop and reuse it (record + synchronize) — {{witness}}",
      helperEventInLoop:
        "`{{callee}}()` creates a new Event each time it is called (in `{{helper}}`), here on every iteration; create one Event per thread before the loop and pass it in — {{witness}}",
    },
    references: ["MPS_SYNC_MODE_GUIDE.md: Pattern 2 (\"Create one event per thread\"), Complete Multi-Threaded Example"],
  },
  check(ctx) {
    const { project, m, facts } = ctx;
    const idx = project.index;
    facts.scopes.forEach((scope, s) => {
      if (scope.kind !== "function") return;
      const fn = { m, s };
      if (!project.threads.reachOf(fn)) return;
      for (const call of idx.callsIn(fn)) {
        const c = idx.call(m, call);
        if (!c.loop) continue;
        if (freshEventCall(project, m, call)) {
          const names = namesBoundTo(facts, s, call);
          if (names.length === 0 || !names.every((n) => usedOnlyAsReceiver(facts, s, n, EVENT_METHODS))) continue;
          if (lazilyCreated(c.guards, names)) continue;
          const path = project.threads.pathTo(fn);
          ctx.report({
            range: c.range,
            messageId: "eventInLoop",
            data: { callee: c.callee },
            path,
            fix:
              names.length === 1 && isEventConstructor(project, m, call) && scope.bindings.filter((b) => b.name === names[0]).length === 1
                ? safely(() => hoistEventFix(ctx, c.range, names[0]))
                : null,
          });
          continue;
        }
        // A helper that makes one per call, itself or further down (a callable object's __call__).
        const first = idx.calleesOf(m, call).find((t) => project.events.makesFreshEventDeep(t));
        const helper = first ? project.events.freshEventMaker(first) : null;
        if (helper) {
          const path = project.threads.pathTo(fn);
          ctx.report({
            range: c.range,
            messageId: "helperEventInLoop",
            data: { callee: c.callee, helper: idx.displayName(helper) },
            path,
          });
        }
      }
    });
  },
});
