import { defineRule } from "../src/engine/rule.js";
import type { Project } from "../src/project/project.js";
import { compareVersions } from "./support/facts.js";

export const DEFAULT_MPS_STREAMS_VERSION = "2.16";


/** `ThreadPoolExecutor(max_workers=1)` / `ThreadPoolExecutor(1)`: one thread, serialized by construction. */
function singleWorker(ctorText: string[]): boolean {
  return ctorText.length > 0 && ctorText.every((t) => /max_workers\s*=\s*1\s*[,)]|^[\w.]*\(\s*1\s*[,)]/.test(t));
}

export default defineRule({
  meta: {
    code: "MPS008",
    name: "mps-threads-without-streams",
    severity: "info",
    category: "portability",
    tokens: [],
    fixable: null,
    summary: "Several threads submit MPS work on a PyTorch whose MPS backend has one stream per process.",
    why: [
      "Released PyTorch (through at least 2.15) has one MPS stream per process, and its MPS",
      "backend is not thread-safe: command buffers and encoders of that one stream are shared by",
      "every thread that submits work. Several threads running MPS work at once can crash",
      "(Metal assertion failures such as \"encoder already ended\"), corrupt results, or at best",
      "serialize on the single stream, so the threads buy nothing. Per-thread MPS streams — the",
      "setup the guide's measurements were taken on — arrive in a later release.",
      "",
      "Until then, choose by the guide's decision matrix: a process pool for throughput (each",
      "process has its own stream; 23,035 ops/s and 95.8% efficiency at 8 workers against 4,607",
      "ops/s for 8 threads with device sync), or one lock around the device work if threads must",
      "stay; for GPU-saturated work (2048x2048 and larger) batch requests instead — neither",
      "threads nor syncs help there.",
      "",
      "This rule runs only when the PyTorch version is known: set `torch-version` (for example",
      "`torch-version = \"2.5.1\"` in `[tool.mps-lint]`). The first version with per-thread MPS",
      "streams is the `mps-per-thread-streams-version` setting (default 2.16).",
    ].join("\n"),
    example: [
      "from concurrent.futures import ThreadPoolExecutor",
      "import torch",
      "",
      "def infer(model, x):",
      "    event = torch.mps.Event()",
      "    y = model(x.to(\"mps\"))",
      "    event.record()",
      "    event.synchronize()",
      "    return y.cpu()",
      "",
      "with ThreadPoolExecutor(max_workers=8) as pool:",
      "    results = list(pool.map(infer, models, inputs))",
    ].join("\n"),
    useInstead: [
      "from concurrent.futures import ProcessPoolExecutor",
      "import torch",
      "",
      "def infer(model, x):",
      "    y = model(x.to(\"mps\"))",
      "    torch.mps.synchronize()",
      "    return y.cpu()",
      "",
      "with ProcessPoolExecutor(max_workers=8) as pool:",
      "    results = list(pool.map(infer, models, inputs))",
    ].join("\n"),
    fixSafety: "No automatic fix: moving work to processes changes how models and inputs are shared (they must be picklable or loaded per process).",
    limitations: [
      "Off unless `torch-version` is set and lower than `mps-per-thread-streams-version`. A spawn",
      "site counts when it starts several threads (a loop, a pool, `map`, `submit`) whose code",
      "reaches device work outside a `threading.Lock`/`RLock`/`Semaphore` (`with lock:` or",
      "`acquire()`/`release()` in the same function), and the spawning module or the module doing",
      "the work names `mps`. Executors built with `max_workers=1` in the same module are one",
      "thread and are skipped; one built elsewhere is assumed to have several. Code that also",
      "runs on CUDA is reported when it names `mps`: the advice applies to its MPS runs.",
    ].join("\n"),
    messages: {
      oneStream:
        "`{{spawn}}` runs MPS work on several threads (`{{callee}}(...)` in `{{fn}}`, {{workAt}}), but PyTorch {{version}} has one MPS stream per process and its MPS backend is not thread-safe (per-thread streams from {{threshold}}); use a process pool (95.8% efficiency at 8 workers in the guide) or hold one lock around the device work; batch requests when the GPU is saturated",
    },
    references: [
      "MPS_SYNC_MODE_GUIDE.md: Decision Matrix, Neural Network Inference table, When Event Sync Doesn't Help",
      "https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor",
    ],
  },
  check(ctx) {
    const { project, m, facts, settings } = ctx;
    const version = settings.torchVersion;
    if (!version) return;
    const threshold = settings.mpsPerThreadStreamsVersion ?? DEFAULT_MPS_STREAMS_VERSION;
    if (compareVersions(version, threshold) >= 0) return;
    const idx = project.index;
    const tw = project.threadWork;
    for (const spawn of project.threads.spawns) {
      if (spawn.m !== m || !spawn.many) continue;
      if (spawn.call >= 0 && singleWorker(executorCtorTexts(ctx.source, project, m, spawn.call))) continue;
      const site = spawn.targets.map((t) => tw!.unlockedWork(t)).find((w) => w !== null);
      if (!site) continue;
      const targetsMps = facts.accelerators.includes("mps") || idx.modules[site.m].accelerators.includes("mps");
      if (!targetsMps) continue;
      const c = idx.call(site.m, site.call);
      const workAt = { file: idx.modules[site.m].file, row: c.range.start.row };
      ctx.report({
        range: spawn.range,
        messageId: "oneStream",
        data: { spawn: spawn.label, callee: c.callee, fn: idx.displayName(site.fn), workAt, version, threshold },
      });
    }
  },
});

/** Source text of the executor constructor(s) a `pool.submit`/`pool.map` receiver was built by (same module). */
function executorCtorTexts(source: string, project: Project, m: number, call: number): string[] {
  const idx = project.index;
  const c = idx.call(m, call);
  if (c.fn.t !== "attr") return [];
  const recv = c.fn.obj;
  const facts = idx.modules[m];
  const ctorIds: number[] = [];
  const fromValue = (v: { t: string; id?: number; of?: unknown }) => {
    if (v.t === "call" && typeof v.id === "number") ctorIds.push(v.id);
    else if (v.t === "enter" && v.of && (v.of as { t: string }).t === "call") ctorIds.push((v.of as { id: number }).id);
  };
  if (recv.t === "name" && recv.scope >= 0) {
    for (const b of facts.scopes[recv.scope].bindings) if (b.name === recv.name) fromValue(b.value as never);
  } else if (recv.t === "attr" && recv.obj.t === "name" && recv.obj.scope >= 0) {
    const sc = facts.scopes[recv.obj.scope];
    if (sc.parent >= 0 && facts.scopes[sc.parent].kind === "class") {
      for (const st of idx.selfStoreExprs({ m, s: sc.parent }, recv.attr)) if (st.m === m) fromValue(st.expr as never);
    }
  } else if (recv.t === "call") {
    ctorIds.push(recv.id);
  }
  const lines = source.split("\n");
  const textOf = (id: number): string => {
    const r = idx.call(m, id).range;
    if (r.start.row === r.end.row) return lines[r.start.row]?.slice(r.start.column, r.end.column) ?? "";
    return [lines[r.start.row]?.slice(r.start.column) ?? "", ...lines.slice(r.start.row + 1, r.end.row), lines[r.end.row]?.slice(0, r.end.column) ?? ""].join(" ");
  };
  return ctorIds
    .filter((id) => idx.extNames(m, id).some((n) => /ThreadPoolExecutor$|ThreadPool$|dummy\.Pool$/.test(n)))
    .map(textOf);
}
