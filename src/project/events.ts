// Event objects: where each is created and from which threads it is recorded or waited on.
// An Event is per-thread when the thread that uses it created it (in thread code, fresh per
// call), when it was made in a loop (one per worker, handed out by index), or when it belongs
// to a threading.Thread subclass instance (one object, one thread). Otherwise it is shared as
// soon as two threads, or a worker and the main thread, use it.

import { namesBoundTo, usedOnlyAsReceiver } from "../facts/queries.js";
import type { Expr } from "../facts/model.js";
import { MAY, type Summaries } from "./fixpoint.js";
import { fnSummary } from "./summaries.js";
import { fnKey } from "./ids.js";
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
  /**
   * The Event is made in thread code but kept on `self.<attr>` of an object the threads share (one
   * created at import time: a module global, a class attribute, a decorator object): each thread
   * overwrites the attribute, and may record or wait on another thread's Event.
   */
  holder: { cls: FnRef; attr: string; createdAt: { m: number; call: number } } | null;
  /**
   * Recorded by one thread and waited on by others (a producer/consumer hand-off): correct, not
   * shared. Set when the threads that use it are several but only one context records it.
   */
  handOff: boolean;
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
            info = { event: v, uses: [], spawns: [], usedOffThread: false, shared: false, perThreadBecause: null, holder: null, handOff: false };
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

  private freshDeep: Summaries<FnRef, boolean> | null = null;

  /**
   * Does calling `fn` make a fresh Event, in its own body (makesFreshEvent) or in a project
   * function it calls (a callable object's `__call__` two calls down, a method it dispatches to).
   */
  makesFreshEventDeep(fn: FnRef): boolean {
    this.freshDeep ??= fnSummary<boolean>(this.index, {
      ...MAY,
      transfer: (f, get) => this.makesFreshEvent(f) || this.index.callsIn(f).some((call) => this.index.calleesOf(f.m, call).some((t) => get(t))),
    });
    return this.freshDeep.get(fn);
  }

  /** The function that makes the fresh Event when `fn` is called: `fn` itself or the nearest callee that does. */
  freshEventMaker(fn: FnRef): FnRef | null {
    const seen = new Set<string>();
    let frontier: FnRef[] = [fn];
    for (let depth = 0; depth < 8 && frontier.length > 0; depth++) {
      const next: FnRef[] = [];
      for (const f of frontier) {
        const key = fnKey(f.m, f.s);
        if (seen.has(key)) continue;
        seen.add(key);
        if (this.makesFreshEvent(f)) return f;
        for (const call of this.index.callsIn(f)) for (const t of this.index.calleesOf(f.m, call)) if (this.makesFreshEventDeep(t)) next.push(t);
      }
      frontier = next;
    }
    return null;
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
      // Made fresh by each thread, unless it is kept on an object every thread shares.
      info.holder = this.sharedHolder(info.event, creator);
      if (!info.holder) {
        info.perThreadBecause = "created in thread code";
        return;
      }
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
    // Only recording moves the Event's mark: threads that only wait on (or synchronize with) an
    // Event one thread records are consumers of a hand-off, the correct cross-thread pattern.
    let recorders = 0;
    const recordSpawns = new Set<SpawnSite>();
    let recordedOffThread = false;
    for (const u of info.uses) {
      if (u.method !== "record") continue;
      const spawns = this.threads.spawnsReaching(u.fn);
      if (spawns.length === 0) recordedOffThread = true;
      for (const sp of spawns) recordSpawns.add(sp);
    }
    recorders = recordedOffThread ? 1 : 0;
    for (const sp of recordSpawns) recorders += sp.many ? 2 : 1;
    const usedByThreads = info.spawns.length > 0 && contexts >= 2;
    info.shared = usedByThreads && recorders >= 2;
    info.handOff = usedByThreads && recorders === 1;
  }

  /**
   * The shared object an Event made in thread code is kept on, if any: the creating method stores
   * it on `self.<attr>` (directly or through a local), and an instance of the method's class (or
   * a subclass) is created at import time (module or class body: a global, a class attribute, a
   * decorator object), so every thread that runs the method writes the same attribute.
   */
  private sharedHolder(event: Extract<Value, { k: "event" }>, creator: FnRef): EventInfo["holder"] {
    const idx = this.index;
    const scopes = idx.modules[creator.m].scopes;
    const sc = scopes[creator.s];
    if (sc.kind !== "function") return null;
    // `self` of the method the creating code is in (or nested in: a decorator object's wrapper).
    const isSelf = (e: Expr) => {
      if (e.t !== "name" || e.scope < 0) return false;
      const owner = scopes[e.scope];
      return owner.kind === "function" && owner.parent >= 0 && scopes[owner.parent].kind === "class" && owner.params[0] === e.name && !owner.isLambda;
    };
    const names = new Set(namesBoundTo(idx.modules[creator.m], creator.s, event.call));
    const store = sc.attrStores.find(
      (st) => isSelf(st.obj) &&
        ((st.value.t === "call" && st.value.id === event.call) || (st.value.t === "name" && st.value.scope === creator.s && names.has(st.value.name))),
    );
    if (!store || store.obj.t !== "name") return null;
    const cls = { m: creator.m, s: scopes[store.obj.scope].parent };
    const classes = [cls, ...idx.allSubclasses(cls)];
    for (const k of classes) {
      for (const { m, s: id } of idx.callsNamed(idx.scope(k).name)) {
        const c = idx.call(m, id);
        const where = idx.modules[m].scopes[c.scope].kind;
        if (c.loop || (where !== "module" && where !== "class")) continue;
        if (!idx.eval(m, c.fn).some((v) => v.k === "class" && v.m === k.m && v.s === k.s)) continue;
        return { cls: k, attr: store.attr, createdAt: { m, call: id } };
      }
    }
    return null;
  }
}
