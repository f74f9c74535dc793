import { defineRule } from "../src/engine/rule.js";
import { COMPLETES_OWN_WORK } from "../src/project/timeline.js";
import type { Value } from "../src/project/values.js";

type EventValue = Extract<Value, { k: "event" }>;

export default defineRule({
  meta: {
    code: "MPS007",
    name: "elapsed-time-without-sync",
    severity: "error",
    category: "timing",
    // Findings sit at `.elapsed_time(...)` calls.
    tokens: ["elapsed_time"],
    fixable: null,
    summary: "start.elapsed_time(end) is read before anything waited for end.record() to complete.",
    why: [
      "`end.record()` only queues a marker behind the work already submitted; the GPU reaches it",
      "later. `start.elapsed_time(end)` needs both events to have completed. Without",
      "`end.synchronize()` (or a device-wide sync) in between, CUDA raises",
      "`RuntimeError: ... device not ready`, and on MPS the end event has no completion time yet,",
      "so the number returned is not the GPU time of the work. Code that happens to pass on a",
      "fast GPU fails on a loaded one.",
    ].join("\n"),
    example: [
      "import torch",
      "",
      "def time_forward(model, x):",
      "    start = torch.mps.Event(enable_timing=True)",
      "    end = torch.mps.Event(enable_timing=True)",
      "    start.record()",
      "    y = model(x)",
      "    end.record()",
      "    return start.elapsed_time(end)",
    ].join("\n"),
    useInstead: [
      "import torch",
      "",
      "def time_forward(model, x):",
      "    start = torch.mps.Event(enable_timing=True)",
      "    end = torch.mps.Event(enable_timing=True)",
      "    start.record()",
      "    y = model(x)",
      "    end.record()",
      "    end.synchronize()",
      "    return start.elapsed_time(end)",
    ].join("\n"),
    fixSafety: "No automatic fix yet; inserting `end.synchronize()` before the read is the usual correction.",
    limitations: [
      "The record, the wait and the read must be in one function, ordered by their place in the",
      "source; an `end` recorded in another function (a timer class that records in `stop()` and",
      "reads in `elapsed()`) is not checked. Any wait between the record and the read counts —",
      "`end.synchronize()`, a device sync, `end.query()`, a host copy such as `.item()` or host",
      "read such as `float(loss)`, or a project function that waits — even one inside a branch; a",
      "barrier or joining a thread does not. The events must resolve to Event",
      "constructors the index knows (`torch.mps.Event`, `torch.cuda.Event`, `torch.Event`).",
    ].join("\n"),
    messages: {
      notCompleted:
        '`{{callee}}(...)` reads `{{end}}` before it has completed: nothing waits after `{{end}}.record()` at {{recordAt}}. CUDA raises "device not ready"; on MPS the result is not the GPU time. Call `{{end}}.synchronize()` first',
    },
    references: [
      "https://pytorch.org/docs/stable/generated/torch.cuda.Event.html#torch.cuda.Event.elapsed_time",
      "https://pytorch.org/docs/stable/generated/torch.mps.event.Event.html",
    ],
  },
  check(ctx) {
    const { project, m, facts } = ctx;
    const idx = project.index;
    const same = (a: EventValue, b: EventValue) => a.m === b.m && a.call === b.call;
    facts.calls.forEach((c, id) => {
      if (c.fn.t !== "attr" || c.fn.attr !== "elapsed_time" || c.args.length < 1) return;
      const start = idx.eval(m, c.fn.obj).filter((v): v is EventValue => v.k === "event");
      const end = idx.eval(m, c.args[0]).filter((v): v is EventValue => v.k === "event");
      if (start.length === 0 || end.length === 0) return;
      const calls = idx.callsIn({ m, s: c.scope });
      // The last end.record() before the read, in this function.
      let record = -1;
      for (const k of calls) {
        const r = idx.call(m, k);
        if (r.end >= c.end || r.fn.t !== "attr" || r.fn.attr !== "record") continue;
        if (!idx.eval(m, r.fn.obj).some((v) => v.k === "event" && end.some((e) => same(e, v)))) continue;
        if (record < 0 || r.end > idx.call(m, record).end) record = k;
      }
      if (record < 0) return;
      // Between the record and the read, on the function's timeline: a wait that completes this
      // thread's queued work, or `end.query()` (it waits for nothing, but code that reads the time
      // after it checked for completion). A barrier, another thread's hand-over or a wait outside
      // torch does not complete the event.
      const waited = project.timeline
        .between({ m, s: c.scope }, idx.call(m, record).end, c.end)
        .some((it) => (it.k === "sync" && COMPLETES_OWN_WORK.has(it.via)) || it.k === "check" || (it.k === "clock" && it.before.length > 0));
      if (waited) return;
      const recordAt = { file: facts.file, row: idx.call(m, record).range.start.row };
      const endText = idx.call(m, record).callee.replace(/\.record$/, "");
      ctx.report({
        range: c.range,
        messageId: "notCompleted",
        data: { callee: c.callee, end: endText, recordAt },
      });
    });
  },
});
