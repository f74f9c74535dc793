// Device work that worker threads submit without a lock around it (MPS008).

import type { Expr } from "../../src/facts/model.js";
import { fnKey, type FnRef } from "../../src/project/index.js";
import type { Project } from "../../src/project/project.js";

const LOCKS = /^threading\.(Lock|RLock|Semaphore|BoundedSemaphore|Condition)$|^multiprocessing\.(Lock|RLock|Semaphore)$/;

export interface WorkSite {
  m: number;
  call: number;
  fn: FnRef;
}

export class ThreadWork {
  private readonly cache = new Map<string, WorkSite | null>();

  constructor(private readonly project: Project) {}

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

  /** First device work reachable from `fn` outside any lock (itself or through project calls). */
  unlockedWork(fn: FnRef, depth = 0): WorkSite | null {
    const key = fnKey(fn.m, fn.s);
    if (this.cache.has(key)) return this.cache.get(key)!;
    if (depth > 10) return null;
    this.cache.set(key, null);
    const idx = this.project.index;
    const facts = idx.modules[fn.m];
    const regions = this.lockRegions(fn);
    const locked = (end: number) => regions.some(([a, b]) => end > a && end <= b);
    const deviceVars = new Set<string>();
    const ctx = { fn, deviceVars, depth: 0, accel: facts.mentionsAccelerator };
    const flow = this.project.deviceFlow;
    for (const b of idx.scope(fn).bindings) {
      if (b.value.t === "call" && flow.isDeviceWork(b.value.id, ctx)) deviceVars.add(b.name);
    }
    let found: WorkSite | null = null;
    for (const call of idx.callsIn(fn)) {
      const c = facts.calls[call];
      if (locked(c.end)) continue;
      if (flow.isDeviceWork(call, ctx)) {
        found = { m: fn.m, call, fn };
        break;
      }
      for (const t of idx.calleesOf(fn.m, call)) {
        const inner = this.unlockedWork(t, depth + 1);
        if (inner) {
          found = inner;
          break;
        }
      }
      if (found) break;
    }
    this.cache.set(key, found);
    return found;
  }
}
