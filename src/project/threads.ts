// Thread entry points and reachability: which functions run on a worker thread, and one
// witness path from a spawn site to each.

import type { Expr } from "../facts/model.js";
import type { PathStep, Range } from "../types.js";
import { CallGraph, nodeKey, type CallNode, type Dispatch } from "./callgraph.js";
import { fnKey, lastName, type FnRef, type ProjectIndex } from "./index.js";
import type { Value } from "./values.js";

export interface SpawnSite {
  /** Module and call of the spawn; call is -1 for a Thread subclass's run(). */
  m: number;
  call: number;
  range: Range;
  /** "Thread(target=worker)", "pool.submit(step)", "class Worker(threading.Thread)" */
  label: string;
  targets: FnRef[];
  /** The call-graph nodes it starts (targets with what is known of their receiver). */
  nodes: { to: CallNode; dispatch: Dispatch }[];
  /** The site starts more than one thread running its targets (loop, map, pool). */
  many: boolean;
  /** The target's return value is handed to someone (a Future, map results, await). */
  returnsResult: boolean;
}

export interface Reach {
  spawn: SpawnSite;
  /** Previous function on the path (null for the spawn's target itself) and the call taken. */
  parent: string | null;
  via: { m: number; call: number } | null;
  fn: FnRef;
  /** The call-graph node reached (and the node it was reached from): the witness follows nodes. */
  node: CallNode;
  parentNode: string | null;
  /** Reached through a subclass override chosen for a receiver of unknown class. */
  dispatch: Dispatch;
  /** Some hop of the witness is such a guess (a witness without one is preferred). */
  guessed: boolean;
}

const THREAD_EXECUTORS = ["concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor"];
const THREAD_POOLS = ["multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool", "multiprocessing.dummy.ThreadPool"];
const POOL_METHODS = ["map", "imap", "imap_unordered", "starmap", "starmap_async", "apply", "apply_async", "map_async"];
const TO_THREAD = new Set([
  "asyncio.to_thread",
  "asyncio.threads.to_thread",
  "anyio.to_thread.run_sync",
  "starlette.concurrency.run_in_threadpool",
  "fastapi.concurrency.run_in_threadpool",
]);
const THREAD_CLASSES = new Set(["threading.Thread", "threading.Timer"]);

/** Call names worth resolving as possible spawn sites (cheap syntactic filter). */
const SPAWN_NAMES = new Set([
  "Thread",
  "Timer",
  "start_new_thread",
  "start_new",
  "submit",
  "run_in_executor",
  "to_thread",
  "run_sync",
  "run_in_threadpool",
  ...POOL_METHODS,
]);

export class ThreadAnalysis {
  readonly spawns: SpawnSite[] = [];
  /** fnKey -> first (shortest) reach. */
  private readonly reach = new Map<string, Reach>();
  /** nodeKey -> first reach of that node. */
  private readonly nodeReach = new Map<string, Reach>();
  /** fnKey -> spawn sites whose threads reach the function. */
  private readonly reachedBy = new Map<string, SpawnSite[]>();

  constructor(
    private readonly index: ProjectIndex,
    private readonly extraEntryPoints: string[] = [],
    readonly graph: CallGraph = new CallGraph(index),
  ) {
    // Pass 1 learns argument bindings at spawn sites (Thread(args=...), partial); pass 2 resolves
    // again with them, so parameters of thread targets can carry executors, events, callables.
    this.findSpawns(true);
    index.resetCaches();
    this.spawns.length = 0;
    this.findSpawns(false);
    this.propagate();
  }

  /** Witness for a function running on a worker thread, or undefined. */
  reachOf(fn: FnRef): Reach | undefined {
    return this.reach.get(fnKey(fn.m, fn.s));
  }

  spawnsReaching(fn: FnRef): SpawnSite[] {
    return this.reachedBy.get(fnKey(fn.m, fn.s)) ?? [];
  }

  /** The witness path as steps: spawn site, then each call hop, ending at `fn`. */
  pathTo(fn: FnRef): PathStep[] {
    const r = this.reachOf(fn);
    if (!r) return [];
    const chain: Reach[] = [];
    let cur: Reach | undefined = r;
    while (cur && chain.length < 32) {
      chain.unshift(cur);
      cur = cur.parentNode ? this.nodeReach.get(cur.parentNode) : undefined;
    }
    const idx = this.index;
    // The chain's first hop was reached from its own spawn site (maybe not r.spawn).
    const spawn = chain[0].spawn;
    const steps: PathStep[] = [{ file: idx.modules[spawn.m].file, range: spawn.range, label: spawn.label }];
    for (const c of chain) {
      const sc = idx.scope(c.fn);
      if (c.via) {
        const call = idx.call(c.via.m, c.via.call);
        steps.push({ file: idx.modules[c.via.m].file, range: call.range, label: idx.displayName(c.fn), ...(c.dispatch === "hierarchy" ? { unknownReceiver: true } : {}) });
      } else {
        steps.push({ file: idx.modules[c.fn.m].file, range: sc.nameRange, label: idx.displayName(c.fn) });
      }
    }
    return steps;
  }

  // ---- spawn sites --------------------------------------------------------------------------

  private findSpawns(learn: boolean): void {
    const idx = this.index;
    for (const name of SPAWN_NAMES) {
      for (const { m, s: id } of idx.callsNamed(name)) this.spawnAtCall(m, id, learn);
    }
    for (const name of this.extraEntryPoints) this.configuredEntries(name);
    this.threadSubclasses();
  }

  private spawnAtCall(m: number, id: number, learn: boolean): void {
    const idx = this.index;
    const c = idx.call(m, id);
    const names = idx.extNames(m, id);
    const last = lastName(c.fn);
    let target: Expr | undefined;
    let args: Expr[] = [];
    let many = c.loop;
    let label = "";
    let returnsResult = true;
    const arg = (pos: number, kw: string) => c.kwargs[kw] ?? c.args[pos];
    const has = (list: string[], suffix: string) => names.some((n) => list.some((l) => n === `${l}${suffix}`));

    if (names.some((n) => THREAD_CLASSES.has(n))) {
      const isTimer = names.includes("threading.Timer");
      target = isTimer ? arg(1, "function") : arg(1, "target");
      const a = isTimer ? arg(2, "args") : arg(3, "args");
      if (a?.t === "seq") args = a.items;
      label = `${isTimer ? "Timer" : "Thread"}(${isTimer ? "" : "target="}${exprText(target)})`;
      returnsResult = false;
    } else if (names.some((n) => n === "_thread.start_new_thread" || n === "_thread.start_new")) {
      target = c.args[0];
      if (c.args[1]?.t === "seq") args = c.args[1].items;
      label = `start_new_thread(${exprText(target)})`;
      returnsResult = false;
    } else if (last === "submit" && has(THREAD_EXECUTORS, "().submit")) {
      target = c.args[0];
      args = c.args.slice(1);
      many = true;
      label = `${c.callee}(${exprText(target)})`;
    } else if (last === "map" && has(THREAD_EXECUTORS, "().map")) {
      target = c.args[0];
      many = true;
      label = `${c.callee}(${exprText(target)})`;
    } else if (last && POOL_METHODS.includes(last) && has(THREAD_POOLS, `().${last}`)) {
      target = c.args[0];
      many = true;
      if (last === "apply" || last === "apply_async") {
        const a = arg(1, "args");
        if (a?.t === "seq") args = a.items;
        many = c.loop || last === "apply_async";
      }
      label = `${c.callee}(${exprText(target)})`;
    } else if (last === "run_in_executor") {
      const ex = c.args[0];
      const isDefault = ex?.t === "const";
      const exVals = ex ? idx.eval(m, ex) : [];
      const isThreadPool = exVals.some((v) => v.k === "extinst" && THREAD_EXECUTORS.includes(v.name)) ||
        exVals.some((v) => v.k === "inst" && idx.extBases(v).some((b) => THREAD_EXECUTORS.includes(b)));
      if (!isDefault && !isThreadPool) return;
      target = c.args[1];
      args = c.args.slice(2);
      many = true;
      label = `run_in_executor(${isDefault ? "None" : exprText(ex)}, ${exprText(target)})`;
    } else if (names.some((n) => TO_THREAD.has(n))) {
      target = c.args[0];
      args = c.args.slice(1);
      many = true;
      label = `${c.callee}(${exprText(target)})`;
    } else {
      return;
    }
    if (!target) return;
    const values = idx.eval(m, target);
    const targets = this.targetsOf(values, learn, m, args);
    if (targets.length === 0) return;
    const nodes = values.flatMap((v) => this.graph.targetsOf(v));
    this.spawns.push({ m, call: id, range: c.range, label, targets, nodes, many, returnsResult });
  }

  /** Functions a spawn target value runs; binds spawn arguments to their parameters. */
  private targetsOf(values: Value[], learn: boolean, m: number, args: Expr[]): FnRef[] {
    const idx = this.index;
    const out: FnRef[] = [];
    for (const v of values) {
      if (v.k === "partial") {
        const call = idx.call(v.m, v.call);
        const bound = [...call.args.slice(1).map((expr) => ({ m: v.m, expr })), ...args.map((expr) => ({ m, expr }))];
        const kwargs = Object.fromEntries(Object.entries(call.kwargs).map(([k, expr]) => [k, { m: v.m, expr }]));
        for (const t of v.target) {
          for (const f of idx.callTargets(t)) {
            if (learn) idx.addBinding(f, { args: bound, kwargs, offset: t.k === "bound" ? 1 : 0 });
            out.push(f);
          }
        }
        continue;
      }
      for (const f of idx.callTargets(v)) {
        if (learn && args.length > 0) {
          idx.addBinding(f, { args: args.map((expr) => ({ m, expr })), kwargs: {}, offset: v.k === "bound" ? 1 : 0 });
        }
        out.push(f);
      }
    }
    return out;
  }

  /** run() of every project subclass of threading.Thread that defines one. */
  private threadSubclasses(): void {
    const idx = this.index;
    idx.modules.forEach((mod, m) => {
      mod.scopes.forEach((sc, s) => {
        if (sc.kind !== "class" || sc.bases.length === 0) return;
        if (!idx.extBases({ m, s }).includes("threading.Thread")) return;
        const runs = idx.lookupMethod({ k: "inst", m, s, virtual: false }, "run");
        if (runs.length === 0) return;
        const instantiations = idx.callsNamed(sc.name).filter(({ m: cm, s: cid }) =>
          idx.eval(cm, idx.call(cm, cid).fn).some((v) => v.k === "class" && v.m === m && v.s === s),
        );
        const many = instantiations.length > 1 || instantiations.some(({ m: cm, s: cid }) => idx.call(cm, cid).loop);
        const nodes = runs.map((fn) => ({ to: { fn, self: { m, s } }, dispatch: "exact" as const }));
        this.spawns.push({ m, call: -1, range: sc.nameRange, label: `class ${sc.name}(threading.Thread)`, targets: runs, nodes, many, returnsResult: false });
      });
    });
  }

  /** Configured entry points: qualified function names, or decorators whose functions run on threads. */
  private configuredEntries(qualified: string): void {
    const idx = this.index;
    const dot = qualified.lastIndexOf(".");
    if (dot < 0) return;
    const modName = qualified.slice(0, dot);
    const fnName = qualified.slice(dot + 1);
    idx.modules.forEach((mod, m) => {
      mod.scopes.forEach((sc, s) => {
        if (sc.kind !== "function") return;
        const full = `${idx.moduleNames[m]}.${sc.qualname}`;
        const decorated = sc.decorators.some((d) => {
          const target = d.t === "call" ? idx.call(m, d.id).fn : d;
          return idx.eval(m, target).some((v) =>
            (v.k === "ext" && v.name === qualified) ||
            (v.k === "fn" && `${idx.moduleNames[v.m]}.${idx.scope(v).qualname}` === qualified),
          );
        });
        if (full === qualified || decorated) {
          this.spawns.push({
            m,
            call: -1,
            range: sc.nameRange,
            label: decorated ? `@${fnName} (thread-entry-points)` : `${qualified} (thread-entry-points)`,
            targets: [{ m, s }],
            nodes: [{ to: { fn: { m, s }, self: null }, dispatch: "exact" }],
            many: true,
            returnsResult: true,
          });
        }
      });
    });
    void modName;
  }

  // ---- reachability -------------------------------------------------------------------------

  private propagate(): void {
    // Spawns that start several threads first: their path is the one worth showing.
    const ordered = [...this.spawns.filter((sp) => sp.many), ...this.spawns.filter((sp) => !sp.many)];
    for (const spawn of ordered) {
      const seen = new Set<string>();
      const seenFns = new Set<string>();
      const queue: CallNode[] = [];
      const visit = (node: CallNode, parent: string | null, via: { m: number; call: number } | null, dispatch: Dispatch) => {
        const nk = nodeKey(node);
        if (seen.has(nk)) return;
        seen.add(nk);
        queue.push(node);
        const from = parent === null ? null : this.nodeReach.get(parent)!;
        const guessed = dispatch === "hierarchy" || !!from?.guessed;
        const r: Reach = { spawn, parent: from ? fnKey(from.fn.m, from.fn.s) : null, via, fn: node.fn, node, parentNode: parent, dispatch, guessed };
        const prevNode = this.nodeReach.get(nk);
        if (!prevNode || (prevNode.guessed && !guessed)) this.nodeReach.set(nk, r);
        const fk = fnKey(node.fn.m, node.fn.s);
        const prev = this.reach.get(fk);
        if (!prev || (prev.guessed && !guessed)) this.reach.set(fk, r);
        if (!seenFns.has(fk)) {
          seenFns.add(fk);
          const list = this.reachedBy.get(fk) ?? [];
          if (list.length < 16) list.push(spawn);
          this.reachedBy.set(fk, list);
        }
      };
      for (const t of spawn.nodes) visit(t.to, null, null, t.dispatch);
      for (let i = 0; i < queue.length; i++) {
        const node = queue[i];
        const nk = nodeKey(node);
        for (const e of this.graph.edges(node)) visit(e.to, nk, { m: node.fn.m, call: e.call }, e.dispatch);
      }
    }
  }
}

export function exprText(e: Expr | undefined): string {
  if (!e) return "?";
  switch (e.t) {
    case "name":
      return e.name;
    case "attr":
      return `${exprText(e.obj)}.${e.attr}`;
    case "call":
      return "…()";
    case "scope":
      return "lambda";
    default:
      return "…";
  }
}
