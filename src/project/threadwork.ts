// Device work that worker threads submit without a lock around it (MPS008).

import type { Expr } from "../facts/model.js";
import { fnKey } from "./ids.js";
import type { FnRef } from "./index.js";
import type { FlowCtx } from "./deviceflow.js";
import type { Summaries } from "./fixpoint.js";
import type { ProjectCore } from "./core.js";
import { nearestSummary, type Nearest } from "./summaries.js";
import { LOCKS } from "./vocabulary.js";


export interface WorkSite {
  m: number;
  call: number;
  fn: FnRef;
}

export class ThreadWork {
  private readonly work: Summaries<FnRef, Nearest<WorkSite> | null>;

  constructor(private readonly project: ProjectCore) {
    const idx = project.index;
    const flow = project.deviceFlow;
    // Device locals of a function: names bound to a device-work call anywhere in it.
    const contexts = new Map<string, FlowCtx>();
    const ctxOf = (fn: FnRef): FlowCtx => {
      const key = fnKey(fn.m, fn.s);
      let ctx = contexts.get(key);
      if (!ctx) {
        ctx = { fn, deviceVars: new Set<string>(), accel: flow.accelerator(fn.m) };
        for (const b of idx.scope(fn).bindings) if (b.value.t === "call" && flow.isDeviceWork(b.value.id, ctx)) ctx.deviceVars.add(b.name);
        contexts.set(key, ctx);
      }
      return ctx;
    };
    this.work = nearestSummary<WorkSite>(idx, (fn, call) => (flow.isDeviceWork(call, ctxOf(fn)) ? { m: fn.m, call, fn } : null), {
      skip: (fn) => {
        const regions = this.lockRegions(fn);
        return (c) => regions.some(([a, b]) => c.end > a && c.end <= b);
      },
    });
  }

  private isLock(m: number, e: Expr): boolean {
    return this.project.index.eval(m, e).some((v) => v.k === "extinst" && LOCKS.test(v.name));
  }

  /** Offset ranges of `fn` in which a lock is held: `with lock:` bodies, acquire() .. release(). */
  lockRegions(fn: FnRef): [number, number][] {
    const idx = this.project.index;
    const calls = idx.callsIn(fn).map((id) => ({ id, c: idx.call(fn.m, id) }));
    const out: [number, number][] = [];
    for (const { c } of calls) {
      if (c.fn.t !== "attr") continue;
      if (c.fn.attr === "__enter__" && this.isLock(fn.m, c.fn.obj)) {
        const exit = calls.find(
          (x) => x.c.fn.t === "attr" && x.c.fn.attr === "__exit__" && x.c.range.start.row === c.range.start.row && x.c.range.start.column === c.range.start.column,
        );
        if (exit) out.push([c.end, exit.c.end]);
      } else if (c.fn.attr === "acquire" && this.isLock(fn.m, c.fn.obj)) {
        const recv = c.callee.replace(/\.acquire$/, "");
        const rel = calls
          .filter((x) => x.c.end > c.end && x.c.fn.t === "attr" && x.c.fn.attr === "release" && x.c.callee.replace(/\.release$/, "") === recv)
          .sort((a, b) => a.c.end - b.c.end)[0];
        out.push([c.end, rel ? rel.c.end : Number.MAX_SAFE_INTEGER]);
      }
    }
    return out;
  }

  /** The nearest device work reachable from `fn` outside any lock (itself or through project calls). */
  unlockedWork(fn: FnRef): WorkSite | null {
    return this.work.get(fn)?.site ?? null;
  }
}
