import { COMPLETES_OWN_WORK } from "../src/project/timeline.js";
import { defineRule } from "../src/engine/rule.js";
import type { CallFact, Expr } from "../src/facts/model.js";
import type { FnRef } from "../src/project/index.js";
import type { Project } from "../src/project/project.js";

/** The value a publishing call hands over (`q.put(x)`, `fut.set_result(x)`, `out.append(x)`). */
function publishedValue(c: CallFact): Expr | undefined {
  return c.fn.t === "attr" && c.fn.attr === "set_result" ? c.args[0] : c.args[c.args.length - 1];
}

/**
 * Does the handed-over value carry an Event (`(y, ev)`, a name bound to one) that `fn` records
 * after its last device work (`after`) and before the hand-over (`before`)?
 */
function recordedAlongside(project: Project, fn: FnRef, value: Expr, after: number, before: number): boolean {
  const idx = project.index;
  const events = new Set<string>();
  const visit = (e: Expr, depth: number) => {
    if (depth > 4) return;
    if (e.t === "seq") e.items.forEach((x) => visit(x, depth + 1));
    else for (const v of idx.eval(fn.m, e)) if (v.k === "event") events.add(`${v.m}:${v.call}`);
  };
  visit(value, 0);
  if (events.size === 0) return false;
  return idx.callsIn(fn).some((id) => {
    const c = idx.call(fn.m, id);
    if (c.end <= after || c.end > before || c.fn.t !== "attr" || c.fn.attr !== "record") return false;
    return project.sync.eventReceiver(fn.m, id).some((v) => events.has(`${v.m}:${v.call}`));
  });
}

export default defineRule({
  meta: {
    code: "MPS002",
    name: "unsynced-thread-result",
    severity: "warning",
    category: "correctness",
    tokens: [],
    fixable: null,
    summary: "A worker thread hands back a device result without waiting for the device work.",
    why: [
      "Device work is queued, not done, when the Python call returns. A worker that returns or",
      "publishes a device tensor without a synchronization after the last device work hands over",
      "a result that may still be being computed: another thread reads it before the GPU has",
      "written it. Wait for the thread's own work with a per-thread Event (`record()` then",
      "`synchronize()`), or copy to the host (`.cpu()`, `.item()`, `.tolist()`, `.numpy()`), which",
      "waits implicitly.",
    ].join("\n"),
    example: [
      "from concurrent.futures import ThreadPoolExecutor",
      "import torch",
      "",
      "def worker(model, x):",
      "    x = x.to(\"mps\")",
      "    output = model(x)",
      "    return output",
      "",
      "with ThreadPoolExecutor(max_workers=8) as pool:",
      "    futures = [pool.submit(worker, m, x) for m, x in jobs]",
    ].join("\n"),
    useInstead: [
      "from concurrent.futures import ThreadPoolExecutor",
      "import torch",
      "",
      "def worker(model, x):",
      "    event = torch.mps.Event()",
      "    x = x.to(\"mps\")",
      "    output = model(x)",
      "    event.record()",
      "    event.synchronize()",
      "    return output",
      "",
      "with ThreadPoolExecutor(max_workers=8) as pool:",
      "    futures = [pool.submit(worker, m, x) for m, x in jobs]",
    ].join("\n"),
    fixSafety: "No automatic fix: where to wait depends on who reads the result.",
    limitations: [
      "Order is taken from the source text; a sync in one branch counts as a sync. A host read of",
      "a device value (`print(y)`, `float(y)`, a truth test such as `assert not y.isnan().any()`)",
      "waits; a barrier, joining another thread and `ev.query()` do not. Device work is",
      "recognized from torch ops with device tensors, `.to(\"mps\")`/`.cuda()`, nn.Module instances,",
      "project helpers that return device values and closure variables bound to device values in",
      "the enclosing function; in files that name an accelerator, calls of things named like models",
      "(`model(x)`, `self.net(x)`, `self.model.forward(...)`) count too, unless the name resolves to",
      "a project function or class or an imported library callable (`build_model()`,",
      "`ov.convert_model(...)`), or names a class, factory, path or name (`model_cls()`,",
      "`Model(...)`, `model_name`). A call into a project",
      "function that always waits (a wait outside any condition that names no backend) counts as",
      "a sync; one that waits only on some paths does not, and one that queues work after its",
      "wait counts as work. Uploads (`torch.tensor(data, device=...)`) are not work. What is handed",
      "over is a device value only by what produces it: a project function's result when the",
      "function returns one (not merely because it queues work: a helper that runs a model and",
      "returns decoded strings hands over strings), and never a library pipeline's, `generate()`'s",
      "or `transcribe()`'s result (host data, or already waited for). Returns are checked for targets",
      "whose result is handed back (executors, pools, `asyncio.to_thread`), not for",
      "`Thread(target=...)`, whose return value is discarded. A value handed over together with an",
      "Event recorded after the work (`q.put((y, ev))`, `return y, ev`) is not reported: the",
      "receiving thread waits on that Event.",
    ].join("\n"),
    messages: {
      noSync:
        "`{{what}}` hands a device result to another thread before the device work is done (no sync after it); record and synchronize a per-thread Event first — {{witness}}",
      syncBeforeWork:
        "`{{what}}` hands a device result to another thread before the device work is done (the last sync comes before the last device work); record and synchronize a per-thread Event first — {{witness}}",
    },
    references: ["MPS_SYNC_MODE_GUIDE.md: Mistake 2, Pattern 2"],
  },
  check(ctx) {
    const { project, m, facts } = ctx;
    facts.scopes.forEach((scope, s) => {
      if (scope.kind !== "function") return;
      const fn = { m, s };
      const reach = project.threads.reachOf(fn);
      if (!reach) return;
      const isResultTarget = project.threads
        .spawnsReaching(fn)
        .some((sp) => sp.returnsResult && sp.targets.some((t) => t.m === m && t.s === s));
      // On the function's timeline: the last device work (compute or a queued copy) and the last
      // wait that completes this thread's own work before each hand-over. A barrier, a hand-over
      // from another thread or a wait outside torch leaves this thread's work queued; a callee
      // that waits only on some paths covers nothing; `ev.query()` waits for nothing.
      let lastWork = -1;
      let lastSync = -1;
      for (const it of project.timeline.timeline(fn)) {
        if (it.k === "work" || it.k === "queued") lastWork = it.end;
        else if (it.k === "sync" && !it.partial && COMPLETES_OWN_WORK.has(it.via)) lastSync = it.end;
        else if (it.k === "publish") {
          if (it.via === "return" && !isResultTarget) continue;
          if (lastWork < 0 || lastSync > lastWork) continue;
          // Handed over with an Event recorded after the work (`q.put((y, ev))`): the consumer
          // waits on it, the producer/consumer hand-off.
          const value = it.via === "return" ? scope.returns[it.at].value : publishedValue(project.index.call(m, it.at));
          if (value && recordedAlongside(project, fn, value, lastWork, it.end)) continue;
          const range = it.via === "return" ? scope.returns[it.at].range : project.index.call(m, it.at).range;
          ctx.report({
            range,
            messageId: lastSync >= 0 ? "syncBeforeWork" : "noSync",
            data: { what: it.what },
            path: project.threads.pathTo(fn),
          });
        }
      }
    });
  },
});
