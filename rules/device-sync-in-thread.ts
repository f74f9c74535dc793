import { defineRule, type RuleContext } from "../src/engine/rule.js";
import type { FnRef } from "../src/project/index.js";
import type { SyntaxNode } from "../src/facts/parse.js";
import type { Range } from "../src/types.js";
import { deviceSyncFix } from "./device-sync-in-thread.fix.js";
import { commentsAround, nodeAt, safely, statementOf, syntaxOf } from "./support/edit-kit.js";

/** Calls that choose or wait on a device without queueing work on it. */
const DEVICE_PLUMBING = /\.(device_count|device|current_device|set_device|synchronize|current_stream|default_stream|Stream|stream|is_available|get_device_name|get_device_properties)$/;
/**
 * A docstring that says the function waits for the whole device (waits for all devices, GPUs or
 * streams; a barrier). Not "device-wide" alone: that describes the call, not the intent.
 */
const ALL_DEVICES = /\b(wait|waits|waiting|sync|syncs|synchroni[sz]es?|blocks?|flush(es)?)\b[^.\n]{0,30}?\b(all|every|each)\s+(\w+\s+){0,2}(devices?|gpus?|streams?|ranks?)\b|\bbarrier\b|\bacross\s+(all\s+)?(devices|gpus|streams)\b/i;
/** A comment that makes a wait a workaround for a race or hang. */
const RACE_WORKAROUND = /\brace\b|\bhangs?\b|\bdeadlock|\bwork\s*around\b|\bworkaround\b/i;
/** Collective communication: a wait after it may be a documented workaround. */
const COLLECTIVE = /^torch\.distributed\.(all_reduce|all_gather\w*|reduce_scatter\w*|broadcast\w*|all_to_all\w*|reduce|gather|scatter|send|recv|isend|irecv|barrier|batch_isend_irecv)$/;

/**
 * Why a device-wide sync is a deliberate barrier (reported where a thread reaches it, with no fix):
 * its function's docstring says it waits for all devices or streams, it runs once per device in
 * a loop over `device_count()`, or a comment beside it calls it a race workaround after
 * collective communication.
 */
function barrierReason(ctx: RuleContext, fn: FnRef, call: number): string | null {
  const { project, facts, source } = ctx;
  const idx = project.index;
  const c = idx.call(fn.m, call);
  const calls = idx.callsIn(fn).map((id) => ({ id, c: idx.call(fn.m, id) }));
  // A loop over device_count() that only waits (no device work queued between the count and the
  // wait) is a barrier over the devices; one that computes on each device and waits for it is not.
  const count = c.loop ? calls.find(({ id, c: o }) => o.end < c.end && idx.extNames(fn.m, id).some((n) => /^torch\.(\w+|<dev>)\.device_count$/.test(n))) : undefined;
  if (count) {
    const work = calls.some(({ id, c: o }) => o.end > count.c.end && o.end < c.end && idx.extNames(fn.m, id).some((n) => /^torch\./.test(n) && !DEVICE_PLUMBING.test(n)));
    if (!work) return "it runs once per device in a loop over `device_count()`, a deliberate wait for every device";
  }
  const lines = source.split(/\r\n|\n|\r/);
  const sc = facts.scopes[fn.s];
  const body = lines.slice(sc.range.start.row, Math.min(sc.range.end.row + 1, sc.range.start.row + 40)).join("\n");
  const doc = /^[^\n]*:\s*\n\s*[rRuU]?("""|\'\'\'|"|')([\s\S]*?)\1/.exec(body.replace(/^\s*@[^\n]*\n/gm, ""));
  if (doc && ALL_DEVICES.test(doc[2])) return "its docstring says it waits for all devices or streams: a deliberate device-wide barrier";
  const near = lines.slice(Math.max(0, c.range.start.row - 3), c.range.start.row + 1).filter((l) => l.includes("#")).map((l) => l.slice(l.indexOf("#"))).join(" ");
  if (RACE_WORKAROUND.test(near)) {
    const collective = calls.find(({ id, c: o }) => o.end < c.end && idx.extNames(fn.m, id).some((n) => COLLECTIVE.test(n)));
    if (collective) return `a comment makes it a workaround after collective communication (\`${collective.c.callee}()\`), which needs the whole device`;
  }
  return null;
}

// Comments that say the device-wide wait is meant: deliberate, or tied to another thread's (or
// stream's, client's, consumer's) work, which a per-thread Event would no longer wait for. A
// comment that calls the sync a mistake (`# WRONG: waits for every thread`) does not count.
const DELIBERATE_COMMENT =
  /\b(deliberate(ly)?|intentional(ly)?|on purpose|by design)\b|\b(other|another|all|every|each|any|some|worker|main|calling|producer|consumer)\s+(\w+\s+)?(threads?|streams?|workers?)\b|\binterleav\w*\s+sync|\b(clients?|consumers?|producers?|callers?)\b/i;
const CRITICAL_COMMENT = /\b(wrong|bad|mistake|slow(er)?|bottleneck|serializ\w*|bug|todo|fixme|hack|destroys?)\b/i;
// A benchmark or test about syncing itself (`benchmark_device_sync`, `measure_event_sync_vs_device_sync`,
// `test_synchronize_all_streams`; or a function named for syncing in a test or benchmark file):
// its device-wide wait is what it measures or tests. A sync helper elsewhere (`def _sync():`)
// is the fix's main case, not this.
const SYNC_SUBJECT = /sync/i;
const MEASURING = /test|bench|measure|profil|compar|validat|_vs_/i;
const BASELINE = /baseline|naive|unoptimi[sz]ed/i;
// A condition that picks the sync mode of a benchmark (`if sync_mode == "device":`, `if use_event:`).
const SYNC_MODE_CONDITION = /sync|event|mode/i;

// Receiving from another thread: `queue.get()`, `self._request_queue.get(timeout=...)`,
// `conn.recv()`, `future.result()`. (A plain `dict.get()` has no queue-like receiver.)
const HANDOVER_RECEIVER = /(queue|(^|[._])q|inbox|channel|requests?|pipe|conn)$/i;

/** A call before `stmt` in its function that receives tensors from another thread, as text, or null. */
function handedOverBefore(stmt: SyntaxNode): string | null {
  let def: SyntaxNode | null = stmt.parent;
  while (def && def.type !== "function_definition") def = def.parent;
  if (!def) return null;
  let found: string | null = null;
  const walk = (n: SyntaxNode) => {
    if (found || n.startIndex >= stmt.startIndex) return;
    if (n !== def && (n.type === "function_definition" || n.type === "lambda" || n.type === "class_definition")) return;
    if (n.type === "call") {
      const fn = n.childForFieldName("function");
      const method = fn?.type === "attribute" ? fn.childForFieldName("attribute")?.text : undefined;
      const receiver = fn?.type === "attribute" ? fn.childForFieldName("object")?.text ?? "" : "";
      if ((method === "get" || method === "get_nowait" || method === "recv") && HANDOVER_RECEIVER.test(receiver)) found = `${receiver}.${method}()`;
      else if (method === "result" && receiver !== "") found = `${receiver}.result()`;
    }
    for (const c of n.namedChildren) walk(c);
  };
  walk(def.childForFieldName("body") ?? def);
  return found;
}

/**
 * Why the device-wide sync at `range` is deliberate and gets no fix, or null: a comment says the
 * wait covers other threads' (or streams') work, or the sync is one arm of a sync-mode choice (a
 * benchmark comparing device sync with event sync: an `if` on a mode whose other arm records an
 * Event, or whose condition names the sync mode).
 */
function deliberateSyncReason(ctx: Pick<RuleContext, "facts" | "source">, range: Range): string | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const call = nodeAt(syn, range, "call");
  const stmt = call && statementOf(call);
  if (!call || !stmt) return null;
  // The comments of the sync and of the guards around it (`# ...` above `if device == "mps":`).
  const commented = [stmt];
  for (let n: SyntaxNode | null = stmt.parent; n && n.type !== "function_definition" && n.type !== "module"; n = n.parent) {
    if (n.type === "if_statement" || n.type === "with_statement") commented.push(n);
  }
  const comments = commented.map((n) => commentsAround(syn, n)).join("\n");
  if (DELIBERATE_COMMENT.test(comments) && !CRITICAL_COMMENT.test(comments)) return "a comment ties this wait to more than this thread's work";
  const handover = handedOverBefore(stmt);
  if (handover) return `it follows \`${handover}\`, tensors handed over by another thread, whose queued work only a device-wide wait covers`;
  const names: string[] = [];
  for (let n: SyntaxNode | null = stmt.parent; n; n = n.parent) {
    const name = n.type === "function_definition" ? n.childForFieldName("name")?.text : undefined;
    if (name) names.push(name);
  }
  const named = names.find((n) => SYNC_SUBJECT.test(n));
  const measuring = [...names, ctx.facts.file.split(/[\\/]/).pop() ?? ""].some((n) => MEASURING.test(n));
  if (named && measuring) return `it is in \`${named}\`, a benchmark or test about syncing itself, where the device-wide wait is what it measures`;
  // A benchmark's naive baseline keeps its naive wait: it is what the optimized variant is compared to.
  const baseline = names.find((n) => BASELINE.test(n)) ?? (BASELINE.test(comments) ? "a comment" : undefined);
  if (baseline && measuring) return `it is the naive baseline of a benchmark (${baseline === "a comment" ? "so a comment says" : `\`${baseline}\``}), which the optimized variant is measured against`;
  for (let n: SyntaxNode | null = stmt.parent; n && n.type !== "function_definition" && n.type !== "module"; n = n.parent) {
    if (n.type !== "if_statement" && n.type !== "elif_clause" && n.type !== "else_clause") continue;
    const ifNode = n.type === "if_statement" ? n : n.parent;
    if (!ifNode || ifNode.type !== "if_statement") continue;
    const conditions = [ifNode.childForFieldName("condition"), ...ifNode.namedChildren.filter((c) => c.type === "elif_clause").map((c) => c.childForFieldName("condition"))];
    // The other arm waits another way (an Event, `.cpu()`, `.item()`): a choice of how to wait.
    const otherWait = /\.record\s*\(|\bEvent\s*\(|\.(cpu|item|tolist|numpy)\s*\(/.test(ifNode.text);
    const hasOtherArm = ifNode.namedChildren.some((c) => c.type === "else_clause" || c.type === "elif_clause");
    const namesMode = conditions.some((c) => c && SYNC_MODE_CONDITION.test(c.text));
    if (otherWait && hasOtherArm && namesMode) return "it is one arm of a sync-mode choice (device sync against another way to wait), which must stay a device sync";
  }
  return null;
}

export default defineRule({
  meta: {
    code: "MPS001",
    name: "device-sync-in-thread",
    severity: "error",
    category: "threads",
    tokens: [],
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
      "comment tying the wait to other threads, tensors just received from another thread, a",
      "function whose docstring says it waits for all devices or streams, a loop over",
      "`device_count()`, a commented race workaround after collective communication): the",
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
        const deliberate = deliberateSyncReason(ctx, c.range) ?? barrierReason(ctx, fn, call);
        ctx.report({
          range: c.range,
          messageId: `${single ? "singleWorker" : "manyThreads"}${deliberate ? "NoFix" : ""}`,
          data: deliberate ? { callee: c.callee, reason: deliberate } : { callee: c.callee },
          path,
          fix: deliberate ? null : safely(() => deviceSyncFix(ctx, c.range, backend)),
        });
      }
    });
  },
});
