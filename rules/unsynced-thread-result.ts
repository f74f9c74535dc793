import { defineRule } from "../src/rule.js";

export default defineRule({
  meta: {
    code: "MPS002",
    name: "unsynced-thread-result",
    severity: "warning",
    category: "correctness",
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
      "Order is taken from the source text; a sync in one branch counts as a sync. Device work is",
      "recognized from torch ops with device tensors, `.to(\"mps\")`/`.cuda()`, nn.Module instances,",
      "project helpers that return device values and closure variables bound to device values in",
      "the enclosing function; in files that name an accelerator, calls of things named like models",
      "(`model(x)`, `self.net(x)`, `self.model.forward(...)`) count too, unless the name resolves to",
      "a project function or class or an imported library callable (`build_model()`,",
      "`ov.convert_model(...)`), or names a class, factory, path or name (`model_cls()`,",
      "`Model(...)`, `model_name`). A call into a project",
      "function that always waits (a wait outside any condition that names no backend) counts as",
      "a sync; one that waits only on some paths does not, and one that queues work after its",
      "wait counts as work. Uploads (`torch.tensor(data, device=...)`) are not work. Returns are checked for targets",
      "whose result is handed back (executors, pools, `asyncio.to_thread`), not for",
      "`Thread(target=...)`, whose return value is discarded.",
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
      const flow = project.deviceFlow.analyze(fn);
      for (const p of flow.publishes) {
        if (p.kind === "return" && !isResultTarget) continue;
        if (p.lastWork < 0 || p.lastSync > p.lastWork) continue;
        const range = p.kind === "return" ? scope.returns[p.at].range : project.index.call(m, p.at).range;
        const path = project.threads.pathTo(fn);
        ctx.report({
          range,
          messageId: p.lastSync >= 0 ? "syncBeforeWork" : "noSync",
          data: { what: p.what },
          path,
        });
      }
    });
  },
});
