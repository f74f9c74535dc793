import { defineRule } from "../src/engine/rule.js";
import type { Fix } from "../src/types.js";
import { sharedEventFix } from "./shared-event.fix.js";
import { safely } from "./support/edit-kit.js";

export default defineRule({
  meta: {
    code: "MPS003",
    name: "shared-event",
    severity: "error",
    category: "threads",
    tokens: [],
    fixable: "unsafe",
    summary: "One Event object is recorded or synchronized by several threads.",
    why: [
      "An Event marks a point in one stream. When several threads `record()` the same Event,",
      "each record moves the mark, so a thread's `synchronize()` may wait for another thread's",
      "work, or return before its own work is done. Event objects are not thread-safe: the",
      "guide's pattern is one Event per thread, created in the thread (or kept in",
      "`threading.local()`).",
    ].join("\n"),
    example: [
      "import threading",
      "import torch",
      "",
      "shared_event = torch.mps.Event()",
      "",
      "def worker(model, x):",
      "    y = model(x)",
      "    shared_event.record()",
      "    shared_event.synchronize()",
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
      "Unsafe: each thread gets its own Event through threading.local(); code that recorded on one",
      "thread and waited on another changes behaviour.",
      "",
      "The fix keeps the name and every call site: `shared_event = torch.mps.Event()` becomes",
      "`shared_event = _PerThreadEvent(torch.mps.Event)`, where `_PerThreadEvent` (added once per",
      "module) is a `threading.local` subclass that creates the thread's own Event on first use and",
      "forwards `record()`, `synchronize()`, `wait()` and `query()` to it. Offered only when the",
      "Event is created in the same file as the finding and every use of its name (or of the",
      "`self.` attribute) is such a method call: an Event handed to torch (`stream.wait_event(ev)`,",
      "`start.elapsed_time(ev)`) or to other code must stay a real Event.",
    ].join("\n"),
    limitations: [
      "An Event counts as shared when it is created outside thread code, once (not in a loop),",
      "and used from a spawn site that starts several threads (a loop, a comprehension, a pool,",
      "`map`), or from two spawn sites, or from a worker and the main thread. Events handed out",
      "one per worker from a list built in a loop are taken as per-thread. A single background",
      "thread using an Event created on the main thread is not reported. An Event that one thread",
      "records and other threads only wait on (a producer/consumer hand-off) is the correct",
      "cross-thread pattern and is not reported. An Event made in thread code counts as shared when",
      "it is kept on `self` of an object created once at import time (a module global, a class",
      "attribute, a decorator object) that several threads use.",
    ].join("\n"),
    messages: {
      sharedBySpawnSites: "Event created once at {{createdAt}} is used by {{spawnSites}} spawn sites; give each thread its own Event — {{witness}}",
      sharedByThreads: "Event created once at {{createdAt}} is used by several threads; give each thread its own Event — {{witness}}",
      sharedWithMain: "Event created once at {{createdAt}} is used by a worker and the main thread; give each thread its own Event — {{witness}}",
      sharedHolder:
        "Event created at {{createdAt}} is kept in `self.{{attr}}` of the {{holder}} object created once at {{holderAt}}, which several threads use: each thread overwrites it and may record or wait on another thread's Event; give each thread its own {{holder}} (or keep the Events in threading.local()) — {{witness}}",
    },
    references: ["MPS_SYNC_MODE_GUIDE.md: Mistake 3, Pattern 2", "https://docs.python.org/3/library/threading.html#thread-local-data"],
  },
  check(ctx) {
    const { project, m } = ctx;
    const idx = project.index;
    for (const info of project.events.all()) {
      if (!info.shared) continue;
      const reported = new Set<number>();
      let fix: Fix | null | undefined;
      for (const use of info.uses) {
        if (use.m !== m || reported.has(use.fn.s)) continue;
        if (!project.threads.reachOf(use.fn)) continue;
        reported.add(use.fn.s);
        const c = idx.call(m, use.call);
        const created = idx.call(info.event.m, info.event.call);
        const createdAt = { file: idx.modules[info.event.m].file, row: created.range.start.row };
        const path = project.threads.pathTo(use.fn);
        if (info.holder) {
          // The fix's per-thread wrapper would be rebuilt by every thread that runs the creating
          // method and still be overwritten in the shared attribute: no fix is offered.
          const made = idx.call(info.holder.createdAt.m, info.holder.createdAt.call);
          ctx.report({
            range: c.range,
            messageId: "sharedHolder",
            data: {
              createdAt,
              attr: info.holder.attr,
              holder: idx.scope(info.holder.cls).name,
              holderAt: { file: idx.modules[info.holder.createdAt.m].file, row: made.range.start.row },
            },
            path,
            fix: null,
          });
          continue;
        }
        ctx.report({
          range: c.range,
          messageId: info.spawns.length > 1 ? "sharedBySpawnSites" : info.spawns[0].many ? "sharedByThreads" : "sharedWithMain",
          data: { createdAt, spawnSites: info.spawns.length },
          path,
          fix: info.event.m === m ? (fix ??= safely(() => sharedEventFix(ctx, created.range))) : null,
        });
      }
    }
  },
});
