import { defineRule } from "../src/engine/rule.js";
import { blockingWaitAt } from "../src/project/blocking.js";

const ADVICE =
  "run the wait off the loop (`await asyncio.to_thread(event.synchronize)`) or poll `event.query()` with `await asyncio.sleep(0)`";


export default defineRule({
  meta: {
    code: "MPS006",
    name: "blocking-sync-in-async",
    severity: "warning",
    category: "async",
    // Findings sit in `async def`s; what they call is loaded on demand. Not plain "async":
    // `async_op=`, "asynchronous" in docs (4x the files on PyTorch's sources).
    tokens: ["async def"],
    fixable: null,
    summary: "A device synchronize() or Event.synchronize() inside an async def blocks the event loop.",
    why: [
      "`torch.mps.synchronize()`, `torch.cuda.synchronize()`, `event.synchronize()` and",
      "`stream.synchronize()` block the calling OS thread until the GPU has finished. Inside an",
      "`async def` that thread is the event loop's: while the GPU works, no other coroutine runs —",
      "no new requests are accepted, no responses are written, timeouts do not fire. In an",
      "inference server every in-flight request waits behind the slowest batch.",
      "",
      "Wait without blocking the loop: run the wait in a worker thread with",
      "`await asyncio.to_thread(event.synchronize)` (with a per-request Event, not a device-wide",
      "sync, which would wait for every thread's work — 2.72x slower at 8 threads in the guide's",
      "measurements), or record an Event and poll `event.query()`, yielding with",
      "`await asyncio.sleep(0)` between polls.",
    ].join("\n"),
    example: [
      "import torch",
      "",
      "async def handle(model, x):",
      "    y = model(x.to(\"mps\"))",
      "    torch.mps.synchronize()",
      "    return y",
    ].join("\n"),
    useInstead: [
      "import asyncio",
      "import torch",
      "",
      "async def handle(model, x):",
      "    event = torch.mps.Event()",
      "    y = model(x.to(\"mps\"))",
      "    event.record()",
      "    await asyncio.to_thread(event.synchronize)",
      "    return y",
    ].join("\n"),
    fixSafety: "No automatic fix: moving the wait to a thread or a polling loop changes when the coroutine resumes.",
    limitations: [
      "Waits inside the coroutine itself and in synchronous project functions it calls directly",
      "(resolved calls, followed through further helpers) are reported. A helper reached only",
      "through an unresolved object is not followed. Implicit waits — `.item()`, `.cpu()`,",
      "`.tolist()` — block the loop as well but are not reported: they are how results leave the",
      "GPU, and a coroutine that must read a value has to wait somewhere. A coroutine that runs on",
      "its own event loop in a dedicated thread is still reported: its other coroutines stall.",
    ].join("\n"),
    messages: {
      blocks: `\`{{what}}\` blocks the event loop inside \`async def {{fn}}\`: every other coroutine waits for the GPU too; ${ADVICE}`,
      callBlocks: `\`{{callee}}()\` blocks the event loop inside \`async def {{fn}}\`: it waits for the GPU with \`{{wait}}\` ({{chain}}, {{waitAt}}); ${ADVICE}`,
    },
    references: [
      "MPS_SYNC_MODE_GUIDE.md: Pattern 2 (event sync), Decision Matrix (latency-sensitive streaming)",
      "https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code",
      "https://docs.python.org/3/library/asyncio-task.html#asyncio.to_thread",
    ],
  },
  check(ctx) {
    const { project, m, facts } = ctx;
    const idx = project.index;
    const waits = project.blockingWaits;
    facts.scopes.forEach((scope, s) => {
      if (scope.kind !== "function" || !scope.isAsync) return;
      for (const call of idx.callsIn({ m, s })) {
        const c = idx.call(m, call);
        const direct = blockingWaitAt(project, m, call);
        if (direct) {
          ctx.report({
            range: c.range,
            messageId: "blocks",
            data: { what: direct.what, fn: scope.name },
          });
          continue;
        }
        // The nodes the call runs, with the receiver's class when known (its overrides apply).
        for (const node of project.graph.edges({ fn: { m, s }, self: null }).filter((e) => e.call === call).map((e) => e.to)) {
          const t = node.fn;
          const sc = idx.scope(t);
          if (sc.isAsync || sc.isGenerator) continue;
          const found = waits.inNode(node);
          if (!found) continue;
          const chain = [t, ...found.chain].map((f) => idx.displayName(f)).join(" -> ");
          const w = found.wait;
          const waitAt = { file: idx.modules[w.m].file, row: idx.call(w.m, w.call).range.start.row };
          ctx.report({
            range: c.range,
            messageId: "callBlocks",
            data: { callee: c.callee, fn: scope.name, wait: w.what, chain, waitAt },
          });
          break;
        }
      }
    });
  },
});
