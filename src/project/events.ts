// Event objects: where each is created and from which threads it is recorded or waited on.
// An Event is per-thread when the thread that uses it created it (in thread code, fresh per
// call), when it was made in a loop (one per worker, handed out by index), or when it belongs
// to a threading.Thread subclass instance (one object, one thread). Otherwise it is shared as
// soon as two threads, or a worker and the main thread, use it.

import { namesBoundTo, usedOnlyAsReceiver } from "../facts/queries.js";
import { fnKey, type FnRef, type ProjectIndex } from "./index.js";
import { EVENT_METHODS } from "./vocabulary.js";
import type { SpawnSite, ThreadAnalysis } from "./threads.js";
import type { Value } from "./values.js";

export interface EventUse {
  m: number;
  call: number;
  fn: FnRef;
  method: string;
}

export interface EventInfo {
  event: Extract<Value, { k: "event" }>;
  uses: EventUse[];
  /** Spawn sites whose threads use it. */
  spawns: SpawnSite[];
  usedOffThread: boolean;
  shared: boolean;
  /** Why it is per-thread, when it is. */
  perThreadBecause: string | null;
}

export class EventAnalysis {
  private readonly byEvent = new Map<string, EventInfo>();
  private readonly freshEvents = new Map<string, boolean>();

  constructor(
    private readonly index: ProjectIndex,
    private readonly threads: ThreadAnalysis,
  ) {
    for (const method of EVENT_METHODS) {
      if (method === "elapsed_time" || method === "query") continue;
      for (const { m, s: call } of index.callsNamed(method)) {
        const c = index.call(m, call);
        if (c.fn.t !== "attr") continue;
        for (const v of index.eval(m, c.fn.obj)) {
          if (v.k !== "event") continue;
          const key = `${v.m}:${v.call}`;
          let info = this.byEvent.get(key);
          if (!info) {
            info = { event: v, uses: [], spawns: [], usedOffThread: false, shared: false, perThreadBecause: null };
            this.byEvent.set(key, info);
          }
          info.uses.push({ m, call, fn: { m, s: c.scope }, method });
        }
      }
    }
    for (const info of this.byEvent.values()) this.classify(info);
  }

  eventsUsedAt(m: number, call: number): EventInfo[] {
    const out: EventInfo[] = [];
    for (const info of this.byEvent.values()) if (info.uses.some((u) => u.m === m && u.call === call)) out.push(info);
    return out;
  }

  /**
   * Does a project function make a fresh Event on every call and keep it to itself: an
   * unconditional Event constructor whose result is bound to a local used only as `ev.record()`,
   * `ev.synchronize()`, ... (not cached, not stored, not handed out). Its own body decides.
   */
  makesFreshEvent(fn: FnRef): boolean {
    const key = fnKey(fn.m, fn.s);
    const hit = this.freshEvents.get(key);
    if (hit !== undefined) return hit;
    const idx = this.index;
    const facts = idx.modules[fn.m];
    const result = idx.callsIn(fn).some((call) => {
      const c = idx.call(fn.m, call);
      if (c.guards.length > 0 || !idx.evalCall(fn.m, call).some((v) => v.k === "event" && v.m === fn.m && v.call === call)) return false;
      const names = namesBoundTo(facts, fn.s, call);
      return names.length > 0 && names.every((n) => usedOnlyAsReceiver(facts, fn.s, n, EVENT_METHODS));
    });
    this.freshEvents.set(key, result);
    return result;
  }

  all(): EventInfo[] {
    return [...this.byEvent.values()];
  }

  private classify(info: EventInfo): void {
    const idx = this.index;
    const created = idx.call(info.event.m, info.event.call);
    const creator: FnRef = { m: info.event.m, s: created.scope };
    const seen = new Set<SpawnSite>();
    for (const u of info.uses) {
      const spawns = this.threads.spawnsReaching(u.fn);
      if (spawns.length === 0) info.usedOffThread = true;
      for (const sp of spawns) seen.add(sp);
    }
    info.spawns = [...seen];
    const creatorScope = idx.scope(creator);
    if (creatorScope.kind === "function" && this.threads.reachOf(creator)) {
      info.perThreadBecause = "created in thread code";
      return;
    }
    if (created.loop) {
      info.perThreadBecause = "created in a loop (one per worker)";
      return;
    }
    if (creatorScope.kind === "function" && creatorScope.parent >= 0) {
      const cls = idx.modules[creator.m].scopes[creatorScope.parent];
      if (cls.kind === "class" && idx.extBases({ m: creator.m, s: creatorScope.parent }).includes("threading.Thread")) {
        info.perThreadBecause = "an attribute of a threading.Thread instance";
        return;
      }
    }
    let contexts = info.usedOffThread ? 1 : 0;
    for (const sp of info.spawns) contexts += sp.many ? 2 : 1;
    info.shared = info.spawns.length > 0 && contexts >= 2;
  }
}
