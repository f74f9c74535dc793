// Event objects: where each is created and from which threads it is recorded or waited on.
// An Event is per-thread when the thread that uses it created it (in thread code, fresh per
// call), when it was made in a loop (one per worker, handed out by index), or when it belongs
// to a threading.Thread subclass instance (one object, one thread). Otherwise it is shared as
// soon as two threads, or a worker and the main thread, use it.

import type { FnRef, ProjectIndex } from "./index.js";
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
