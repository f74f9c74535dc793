import { defineRule } from "../src/engine/rule.js";
import { safely } from "./support/edit-kit.js";
import { timingSyncFix } from "./unsynced-timing.fix.js";
import { BACKENDS, unionCoverage, type Coverage, type Item } from "../src/project/timeline.js";
import { coversAllPaths } from "../src/project/paths.js";

/** Message data for the last device work before the clock read. */
function workData(file: string, it: Extract<Item, { k: "work" }>) {
  return { work: it.what, workAt: { file, row: it.row }, workNote: it.note ? ` (${it.note})` : "" };
}

export default defineRule({
  meta: {
    code: "MPS004",
    name: "unsynced-timing",
    severity: "warning",
    category: "timing",
    // A timing starts and ends at clock reads (src/project/vocabulary.ts CLOCKS). Known gap: a
    // timing made only through a timer helper imported from another module, in a file that names
    // neither a clock nor a spawn token (the fixture's `CudaTimer` passes as "Timer").
    // "time.monotonic" rather than "monotonic": the word is common in maths code and docs.
    tokens: ["perf_counter", "time.monotonic", "time.time", "time import", "time_ns", "default_timer"],
    fixable: "safe",
    summary: "A wall-clock timing of device work ends without waiting for the device: it measures launch time, not run time.",
    why: [
      "GPU work is queued, not done, when the Python call returns: `model(x)` on MPS or CUDA",
      "returns as soon as the kernels are encoded. A `time.perf_counter()` (or `time.time()`,",
      "`time.monotonic()`, `timeit.default_timer()`) read right after measures how fast Python",
      "queued the work — often a small fraction of the run time — and the work is billed to",
      "whatever waits next. Benchmarks that do this report numbers that look great and mean",
      "nothing; comparisons between sync modes, batch sizes or thread counts built on them are",
      "wrong (the guide's 6,342 vs 17,228 ops/s only hold because every iteration waits).",
      "",
      "Wait for the device before the closing read: `torch.mps.synchronize()` /",
      "`torch.cuda.synchronize()` (or `torch.accelerator.synchronize()`) in single-threaded code,",
      "a per-thread Event (`record()` + `synchronize()`) in thread code, where a device-wide sync",
      "would also wait for the other threads. A wait that runs for one backend only",
      "(`if device == \"cuda\": torch.cuda.synchronize()`) leaves the timing wrong on the others.",
    ].join("\n"),
    example: [
      "import time",
      "import torch",
      "",
      "def bench(model, x):",
      "    x = x.to(\"mps\")",
      "    start = time.perf_counter()",
      "    y = model(x)",
      "    return time.perf_counter() - start",
    ].join("\n"),
    useInstead: [
      "import time",
      "import torch",
      "",
      "def bench(model, x):",
      "    x = x.to(\"mps\")",
      "    torch.mps.synchronize()",
      "    start = time.perf_counter()",
      "    y = model(x)",
      "    torch.mps.synchronize()",
      "    return time.perf_counter() - start",
    ].join("\n"),
    fixSafety: [
      "Safe: the fix only adds a wait, on its own line before the statement that reads the clock",
      "(the timing then includes the device work, which is the point): `_mps_lint_wait_for_device()`,",
      "a module-level helper that waits, per thread, on each backend in use (CUDA once initialized,",
      "MPS, XPU) and does nothing on a CPU-only build. It needs no `torch.accelerator` (torch < 2.6 has",
      "none) and imports torch in its body, so it runs wherever the timed code ran. No fix when a wait",
      "exists but runs for only some backends, or when the clock read is part of a compound statement",
      "(`with Timer():`, `while time.time() < deadline:`).",
    ].join("\n"),
    limitations: [
      "A timed region ends at a clock read used as the end of an interval: the left side of a",
      "subtraction (`time.perf_counter() - t0`), directly or through the name or `self` attribute",
      "it is kept in (`t1 = ...` then `t1 - t0`), or a timer's `stop()`/`__exit__`; it starts at the",
      "last read kept in the subtracted name (`t0`), or for timers at the last opening read",
      "(`start()`/`__enter__`), in the same function. A read that is only kept, passed on or",
      "logged, and a deadline check (`time.time() - t > limit` inside a comparison, also through a",
      "conversion or scaling: `timedelta(seconds=time.time() - t) > timeout`) end no",
      "timing; an elapsed value stored first and compared later is taken as a measurement. A",
      "deliberate measurement of launch overhead is reported too. Timers are recognized through",
      "project helpers that return a clock read, classes whose methods store a clock read on",
      "`self` and read it back, `@contextlib.contextmanager` timers, and decorators whose wrapper",
      "times `fn(*args)`; unresolved timers are not followed. Device work is compute with evidence",
      "(see unsynced-thread-result); not counted: host-to-device copies (`.to()`,",
      "`torch.tensor(data, device=...)`), views (`unsqueeze`, `view`, ...), nn.Module state",
      "methods (`eval()`, `train()`, `load_state_dict()`, `parameters()`), `generate()`,",
      "`predict()` and pipelines (which return host values or wait every step), and project",
      "functions that only load or move data (their own body decides, except a model's",
      "`forward`), allocations (`torch.zeros(..., device=...)`) and calls inside `with",
      "torch.cuda.graph(g):` (capture queues nothing). A timed region that reads a checkpoint",
      "(`torch.load`, safetensors, a library's `from_pretrained`, or a project function that does",
      "and does not then queue compute on every path) measures loading and is not reported: loading",
      "ends with blocking host-to-device copies, which wait for the stream. Any wait after the last device work counts,",
      "including `.item()`, `.cpu()`, `print(tensor)`, a truth test (`assert not x.isnan().any()`),",
      "a condition testing a device value (`if next_token == eos:`), a collective barrier, `mx.eval()`, a copy to the host (`.to(CPU)` with `CPU =",
      "torch.device(\"cpu\")`), project functions that always wait (one that waits only",
      "under a condition naming no backend covers nothing; work it queues on every path after its",
      "wait is still queued), and blocking on",
      "another thread (`Future.result()`, `join()`, `Queue.get()`, leaving a `with",
      "ThreadPoolExecutor()` block), whose own waits are not followed. In a loop where every",
      "iteration waits somewhere (a `loss.item()` each step), the average over iterations is",
      "right and the loop is not reported. A wait in a loop under a condition that decides paths,",
      "not backends (`if step % k == 0:`), covers only the iterations that take it: unless the",
      "closing read runs under the same condition, or waits in every arm of an `if`/`else` cover",
      "all paths, the timing is reported and the message says the wait is conditional (a wait",
      "under a one-off condition outside loops, `if warm:`, still counts). A",
      "condition the device strings the code sets decide (`device = \"cuda\" if c else \"cpu\"`, then",
      "`if \"xla\" not in str(device):`) is taken as decided.",
    ].join("\n"),
    messages: {
      noWait:
        "`{{clock}}` ends a timing (started at {{startAt}}) while device work is still queued: nothing waits after `{{work}}` at {{workAt}}{{workNote}}, so this measures launch time, not run time; synchronize first (`torch.mps.synchronize()`, `torch.cuda.synchronize()` or `torch.accelerator.synchronize()`)",
      noWaitInThread:
        "`{{clock}}` ends a timing (started at {{startAt}}) while device work is still queued: nothing waits after `{{work}}` at {{workAt}}{{workNote}}, so this measures launch time, not run time; record and synchronize a per-thread Event before reading the clock (a device-wide sync here would also wait for the other threads)",
      guardedWait:
        "`{{clock}}` ends a timing (started at {{startAt}}) whose only wait, `{{wait}}`, runs only when `{{guard}}`; this file also targets {{missing}}, where `{{work}}` at {{workAt}}{{workNote}} is still queued and the time is launch time. Wait on every backend (`torch.accelerator.synchronize()`, or `getattr(torch, device.type).synchronize()`)",
      conditionalWait:
        "`{{clock}}` ends a timing (started at {{startAt}}) whose only wait, `{{wait}}`, is conditional: it runs only when `{{guard}}`, and on the other paths `{{work}}` at {{workAt}}{{workNote}} is still queued, so the time is launch time; wait on every path before reading the clock",
      backendWait:
        "`{{clock}}` ends a timing (started at {{startAt}}) whose only wait, `{{wait}}`, runs only for {{covered}}; this file also targets {{missing}}, where `{{work}}` at {{workAt}}{{workNote}} is still queued and the time is launch time. Wait on every backend (`torch.accelerator.synchronize()`, or `getattr(torch, device.type).synchronize()`)",
    },
    references: [
      "MPS_SYNC_MODE_GUIDE.md: Performance Comparison (how the numbers were measured)",
      "https://pytorch.org/docs/stable/notes/cuda.html#asynchronous-execution",
      "https://pytorch.org/docs/stable/generated/torch.mps.synchronize.html",
    ],
  },
  check(ctx) {
    const { project, m, facts } = ctx;
    const idx = project.index;
    const ta = project.timeline;
    if (!ta.projectReadsClock()) return;
    const targeted = BACKENDS.filter((b) => facts.accelerators.includes(b));
    facts.scopes.forEach((scope, s) => {
      if (scope.kind === "class") return;
      const fn = { m, s };
      if (idx.callsIn(fn).length === 0 || !ta.mayTime(fn)) return;
      const span = ta.timedSpan(fn);
      if (span === null) return;
      const regions = ta.timedRegions(fn, span);
      if (regions.length === 0) return;
      const items = ta.timeline(fn, span, regions);
      if (!items.some((it) => it.k === "clock")) return;
      const inThread = !!project.threads.reachOf(fn);
      for (let j = 0; j < items.length; j++) {
        const close = items[j];
        if (close.k !== "clock" || !close.close) continue;
        // The timing starts at the last read kept in the name the closing read subtracts (`t0` of
        // `time.perf_counter() - t0`), or, for a timer, at the last opening read.
        const opens = (it: Item) => it.k === "clock" && it.open && (close.start === null || it.into === close.start);
        let i = j - 1;
        while (i >= 0 && !opens(items[i])) i--;
        if (i < 0) continue;
        const open = items[i] as Extract<Item, { k: "clock" }>;
        // `t0 = time.perf_counter()` again: a restart of the same timer, not the end of a timing.
        if (close.into !== null && close.into === open.into) continue;
        const region = items.slice(i + 1, j);
        // A timing around reading a checkpoint measures loading, which ends with the data in place.
        if (region.some((it) => it.k === "load")) continue;
        let w = -1;
        region.forEach((it, k) => {
          if (it.k === "work") w = k;
        });
        if (w < 0) continue;
        const work = region[w] as Extract<Item, { k: "work" }>;
        const c = idx.call(m, close.call);
        // A wait under a condition the closing read does not share (`if step % k == 0:`) leaves the
        // work queued on the other paths, unless waits on every arm cover them together. Each work
        // item needs waits after it on every path where both it and the closing read run.
        const clockGuards = ta.pathGuards(m, c);
        const syncsAfter = (k: number) => region.slice(k + 1).filter((it): it is Extract<Item, { k: "sync" }> => it.k === "sync" && !it.partial);
        // Only a branch taken per loop iteration (`if step % k == 0:` in the loop) is a path the
        // timing may miss; a wait under a one-off condition outside loops (`if warm:`) counts.
        const guardsOf = (it: Extract<Item, { k: "sync" }>) => (it.loop ? it.pathGuards : []);
        const pathCovered = (k: number) => {
          const it = region[k] as Extract<Item, { k: "work" }>;
          return coversAllPaths(syncsAfter(k).map(guardsOf), [...clockGuards, ...(it.pathGuards ?? [])]);
        };
        const after = syncsAfter(w);
        let uncovered = -1;
        if (after.length > 0 && !close.before.some((b) => b.coverage === "all")) {
          for (let k = w; k >= 0 && uncovered < 0; k--) if (region[k].k === "work" && !pathCovered(k)) uncovered = k;
        }
        const startAt = { file: facts.file, row: idx.call(m, open.call).range.start.row };
        if (uncovered >= 0) {
          const missed = region[uncovered] as Extract<Item, { k: "work" }>;
          const held = [...clockGuards, ...(missed.pathGuards ?? [])];
          const only = syncsAfter(uncovered).find((s) => guardsOf(s).some((g) => !held.includes(g))) ?? after[0];
          const guard = guardsOf(only).find((g) => !held.includes(g)) ?? only.pathGuards[0] ?? "";
          ctx.report({
            range: c.range,
            messageId: "conditionalWait",
            data: { clock: close.what, startAt, wait: only.what, guard, ...workData(facts.file, missed) },
            fix: safely(() => timingSyncFix(ctx, fn, c.range, missed.end)),
          });
          continue;
        }
        const waits = [
          // A callee that waits only on some paths covers nothing.
          ...after,
          ...close.before.map((b) => ({ ...b, row: -1 })),
        ];
        if (waits.length === 0) {
          // Each iteration waits somewhere: the steady-state average is right.
          // (A wait in the loop on every path the work and the closing read share.)
          const held = [...clockGuards, ...(work.pathGuards ?? [])];
          // (Not the wait of the call that queues the work after it: that call's work is never waited.)
          if (work.loop && region.some((it) => it.k === "sync" && it.end !== work.end && it.loop && !it.partial && it.pathGuards.every((g) => held.includes(g)))) continue;
          ctx.report({
            range: c.range,
            messageId: inThread ? "noWaitInThread" : "noWait",
            data: { clock: close.what, startAt, ...workData(facts.file, work) },
            fix: safely(() => timingSyncFix(ctx, fn, c.range, work.end)),
          });
          continue;
        }
        let cov: Coverage = new Set();
        for (const wt of waits) cov = unionCoverage(cov, wt.coverage);
        if (cov === "all") continue;
        const covered = cov;
        const missing = targeted.filter((b) => !covered.has(b));
        if (missing.length === 0) continue;
        const only = waits.find((wt) => wt.guard) ?? waits[0];
        ctx.report({
          range: c.range,
          messageId: only.guard ? "guardedWait" : "backendWait",
          data: {
            clock: close.what,
            startAt,
            wait: only.what,
            ...(only.guard ? { guard: only.guard } : { covered: [...covered].join(" and ") || "no backend" }),
            missing: missing.join(" and "),
            ...workData(facts.file, work),
          },
        });
      }
    });
  },
});
