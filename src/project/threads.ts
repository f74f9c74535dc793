// Thread entry points and reachability: which functions run on a worker thread, and one
// witness path from a spawn site to each.

import type { Expr } from "../facts/model.js";
import type { PathStep, Range } from "../types.js";
import { CallGraph, nodeKey, type CallNode, type Dispatch } from "./callgraph.js";
import { ENTRY_POINTS, lastSegment, nameMatcher, type EntryPoint, type EntryShape } from "./entrypoints.js";
import { Summaries } from "./fixpoint.js";
import { fnKey } from "./ids.js";
import { lastName, type FnRef, type ProjectIndex } from "./index.js";
import type { Value } from "./values.js";

export interface SpawnSite {
  /** Module and call of the spawn; call is -1 for a Thread subclass's run(). */
  m: number;
  call: number;
  range: Range;
  /** "Thread(target=worker)", "pool.submit(step)", "class Worker(threading.Thread)" */
  label: string;
  targets: FnRef[];
  /** The call-graph nodes it starts (targets with what is known of their receiver); absent: the targets, receiver unknown. */
  nodes?: { to: CallNode; dispatch: Dispatch }[];
  /** The site starts more than one thread running its targets (loop, map, pool). */
  many: boolean;
  /** The target's return value is handed to someone (a Future, map results, await). */
  returnsResult: boolean;
  /**
   * Named by a framework entry point or inferred through a project's own spawn wrappers: its
   * witness says more than the thread primitive deep inside the wrapper, so it is shown first.
   */
  named?: boolean;
}

/** A thread primitive's call as found, whether or not its target resolved (for spawn wrappers). */
interface DirectSite {
  m: number;
  call: number;
  target: Expr;
  label: string;
  many: boolean;
  returnsResult: boolean;
}

/** Queue classes whose get() hands over what put() was given, between threads. */
const QUEUE_CLASSES = ["queue.Queue", "queue.SimpleQueue", "queue.LifoQueue", "queue.PriorityQueue"];

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
  /** For a "declared" hop: the class the annotation names (the receiver is a subclass the project creates). */
  declared?: FnRef;
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

/** Decorator names that register an HTTP route (their label is "VERB /path"). */
const ROUTE_METHODS = new Set(["get", "post", "put", "delete", "patch", "head", "options", "trace", "route", "api_route"]);

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

  /** Thread primitives' calls of the final pass, resolved target or not. */
  private readonly directSites: DirectSite[] = [];
  private collectDirect = false;

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
    this.collectDirect = true;
    this.findSpawns(false);
    this.frameworkEntries();
    this.inferredSpawns();
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
        let label = idx.displayName(c.fn);
        if (c.dispatch === "declared" && c.declared) {
          const made = c.node.self ?? { m: c.fn.m, s: idx.scope(c.fn).parent };
          label += ` (declared ${idx.scope(c.declared).name}; the project creates ${idx.scope(made).name})`;
        }
        steps.push({ file: idx.modules[c.via.m].file, range: call.range, label, ...(c.dispatch === "hierarchy" ? { unknownReceiver: true } : {}) });
      } else {
        steps.push({ file: idx.modules[c.fn.m].file, range: sc.nameRange, label: idx.displayName(c.fn) });
      }
    }
    return steps;
  }

  // ---- spawn sites --------------------------------------------------------------------------

  /** import alias -> the imported name (`from x import run_in_threadpool as in_pool`), per name. */
  private aliasCache: Map<string, Set<string>> | undefined;

  /**
   * Calls whose callee is spelled `name`, or an alias an import statement binds to a member
   * called `name` (`in_pool(f)` after `import ... run_in_threadpool as in_pool`): the calls are
   * first picked by spelling, then resolved, so a renamed import must be looked up by its alias.
   */
  private callsSpelled(name: string): FnRef[] {
    const idx = this.index;
    if (!this.aliasCache) {
      const aliases = new Map<string, Set<string>>();
      for (const mod of idx.modules) {
        for (const sc of mod.scopes) {
          for (const b of sc.bindings) {
            if (b.value.t !== "import" || b.value.name === null || b.value.name === b.name) continue;
            let set = aliases.get(b.value.name);
            if (!set) aliases.set(b.value.name, (set = new Set()));
            set.add(b.name);
          }
        }
      }
      this.aliasCache = aliases;
    }
    const aliases = this.aliasCache.get(name);
    if (!aliases) return idx.callsNamed(name);
    return [...idx.callsNamed(name), ...[...aliases].flatMap((a) => idx.callsNamed(a))];
  }

  private findSpawns(learn: boolean): void {
    for (const name of SPAWN_NAMES) {
      for (const { m, s: id } of this.callsSpelled(name)) this.spawnAtCall(m, id, learn);
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
    if (this.collectDirect) this.directSites.push({ m, call: id, target, label, many, returnsResult });
    const values = idx.eval(m, target);
    let targets = this.targetsOf(values, learn, m, args);
    // Callables the evaluator does not follow (getattr over literal names, queue hand-offs): no
    // receiver is known for them, so their nodes come from the targets alone (see propagate).
    const direct = targets.length > 0;
    if (!direct) targets = this.callablesOf(m, target, 0);
    targets = this.bodiesRun(targets);
    if (targets.length === 0) return;
    const runs = new Set(targets.map((t) => fnKey(t.m, t.s)));
    const nodes = direct ? values.flatMap((v) => this.graph.targetsOf(v)).filter((n) => runs.has(fnKey(n.to.fn.m, n.to.fn.s))) : undefined;
    this.spawns.push({ m, call: id, range: c.range, label, targets, nodes, many, returnsResult });
  }

  /**
   * Targets whose body runs when a thread primitive calls them: calling an `async def` or a
   * generator function only creates a coroutine or generator object, whose body runs wherever it
   * is later awaited or iterated (frameworks that iterate on their threads say so in their rows).
   */
  private bodiesRun(fns: FnRef[]): FnRef[] {
    return fns.filter((f) => {
      const sc = this.index.scope(f);
      return !sc.isAsync && !sc.isGenerator;
    });
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

  // ---- framework entry points (src/project/entrypoints.ts) ----------------------------------

  private frameworkEntries(): void {
    for (const entry of ENTRY_POINTS) {
      if (!this.servedThreaded(entry)) continue;
      const shape = entry.shape;
      if (shape.t === "decorator") this.decoratorEntries(entry, shape);
      else if (shape.t === "call") this.callEntries(entry, shape);
      else if (shape.t === "subclass") this.subclassEntries(entry, shape);
      else this.servicerEntries(entry, shape);
    }
  }

  /** Does the project start the server that makes this entry point threaded (when that matters). */
  private servedThreaded(entry: EntryPoint): boolean {
    const served = entry.servedBy;
    if (!served) return true;
    const matches = nameMatcher(served.callees);
    const idx = this.index;
    for (const name of new Set(served.callees.map(lastSegment))) {
      for (const { m, s: id } of this.callsSpelled(name)) {
        if (!idx.extNames(m, id).some(matches)) continue;
        const flag = idx.call(m, id).kwargs[served.flagKw];
        // An explicit flag counts only when it is a literal True: a variable is not known.
        if (!flag || (flag.t === "const" && flag.text === "True")) return true;
      }
    }
    return served.configModules !== undefined && this.serverConfigThreaded(served.configModules);
  }

  /**
   * A WSGI server configuration file of the project that asks for threads: gunicorn's
   * `threads = N` (N > 1 selects the threaded gthread worker) or `worker_class = "gthread"`.
   */
  private serverConfigThreaded(fileNames: string[]): boolean {
    const idx = this.index;
    const names = new Set(fileNames);
    return idx.modules.some((mod) => {
      const base = mod.file.slice(mod.file.lastIndexOf("/") + 1);
      if (!names.has(base)) return false;
      return mod.scopes[0].bindings.some((b) =>
        (b.name === "threads" && b.value.t === "const" && /^\d+$/.test(b.value.text ?? "") && Number(b.value.text) > 1) ||
        (b.name === "worker_class" && b.value.t === "str" && /(^|\.)(gthread|ThreadWorker)$/.test(b.value.value)),
      );
    });
  }

  /** Functions an entry point runs on its threads: project functions, async ones left out where they run on a loop. */
  private entryTargets(entry: EntryPoint, fns: FnRef[]): FnRef[] {
    return entry.asyncOnLoop ? fns.filter((f) => !this.index.scope(f).isAsync) : fns;
  }

  private entryLabel(entry: EntryPoint, what: string): string {
    return `${entry.framework} ${entry.role} ${what} (${entry.runs})`;
  }

  /** `@app.post("/generate")` and friends: the decorator call resolves to one of the row's names. */
  private decoratorEntries(entry: EntryPoint, shape: Extract<EntryShape, { t: "decorator" }>): void {
    const idx = this.index;
    const matches = nameMatcher(shape.callees);
    const count = idx.modules.length;
    for (let m = 0; m < count; m++) {
      idx.modules[m].scopes.forEach((sc, s) => {
        if (sc.kind !== "function") return;
        for (const d of sc.decorators) {
          // `@app.post("/x")` calls the registrar first; a bare `@demo.load` passes the function itself.
          const names = d.t === "call" ? idx.extNames(m, d.id) : idx.eval(m, d).flatMap((v) => (v.k === "ext" ? [v.name] : []));
          const name = names.find(matches);
          if (!name) continue;
          const targets = this.entryTargets(entry, [{ m, s }]);
          if (targets.length === 0) continue;
          const c = d.t === "call" ? idx.call(m, d.id) : { args: [], kwargs: {}, range: sc.nameRange };
          this.spawns.push({
            m,
            call: d.t === "call" ? d.id : -1,
            range: c.range,
            label: this.entryLabel(entry, ROUTE_METHODS.has(lastSegment(name))
              ? this.routeText(m, c, lastSegment(name))
              : `@${this.calleeText(m, d.t === "call" ? idx.call(m, d.id).fn : d, 0)}`),
            targets,
            many: entry.many !== false,
            returnsResult: false,
            named: true,
          });
          break;
        }
      });
    }
  }

  /** A callee for a label, following call chains: `shared.gradio[…].click(…).then`. */
  private calleeText(m: number, e: Expr, depth: number): string {
    if (depth > 6) return "…";
    switch (e.t) {
      case "attr":
        return `${this.calleeText(m, e.obj, depth + 1)}.${e.attr}`;
      case "call":
        return `${this.calleeText(m, this.index.call(m, e.id).fn, depth + 1)}(…)`;
      case "item":
        return `${this.calleeText(m, e.of, depth + 1)}[…]`;
      default:
        return exprText(e);
    }
  }

  /** "POST /generate": the verb from the decorator's name or its methods=[...], the path from its first argument. */
  private routeText(m: number, c: { args: Expr[]; kwargs: Record<string, Expr> }, method: string): string {
    const idx = this.index;
    const strs = (e: Expr | undefined) => (e ? idx.eval(m, e).flatMap((v) => (v.k === "str" ? [v.value] : [])) : []);
    const path = strs(c.args[0] ?? c.kwargs.path ?? c.kwargs.rule)[0];
    let verb = method.toUpperCase();
    if (method === "route" || method === "api_route") {
      const listed = strs(c.kwargs.methods).map((v) => v.toUpperCase());
      verb = listed.length > 0 ? listed.join("|") : "GET";
    }
    return path !== undefined ? `${verb} ${path}` : verb;
  }

  /** Registration calls (`btn.click(fn)`, `gr.Interface(fn=...)`, `sd.InputStream(callback=cb)`). */
  private callEntries(entry: EntryPoint, shape: Extract<EntryShape, { t: "call" }>): void {
    const idx = this.index;
    const matches = nameMatcher(shape.callees);
    for (const last of new Set(shape.callees.map(lastSegment))) {
      for (const { m, s: id } of this.callsSpelled(last)) {
        if (!idx.extNames(m, id).some(matches) && !this.annotatedReceiverNames(m, id).some(matches)) continue;
        const c = idx.call(m, id);
        const arg = c.kwargs[shape.kw] ?? (shape.pos !== undefined ? c.args[shape.pos] : undefined);
        if (!arg) continue;
        let fns = shape.iterates ? this.generatorsIterated(m, arg, 0) : this.targetsOf(idx.eval(m, arg), false, m, []);
        if (fns.length === 0 && !shape.iterates) fns = this.callablesOf(m, arg, 0);
        const targets = this.entryTargets(entry, fns);
        if (targets.length === 0) continue;
        // A done callback runs on the executor's worker: one thread when it has max_workers=1.
        const single = shape.callees.some((n) => n.endsWith(".add_done_callback")) && c.fn.t === "attr" &&
          this.singleWorkerExecutor(m, c.fn.obj, 0);
        this.spawns.push({
          m,
          call: id,
          range: c.range,
          label: this.entryLabel(entry, `${this.calleeText(m, c.fn, 0)}(${shape.iterates ? this.calleeText(m, arg, 0) : exprText(arg)})`),
          targets,
          many: !single && (entry.many !== false || c.loop),
          returnsResult: false,
          named: true,
        });
      }
    }
  }

  /**
   * Is `e` (an executor, or a future it returned) from a ThreadPoolExecutor created with
   * max_workers=1, by every binding that can reach here: a variable, `with ... as ex`, a future
   * bound to `ex.submit(...)`, or an attribute stored on instances of one class.
   */
  private singleWorkerExecutor(m: number, e: Expr, depth: number): boolean {
    const idx = this.index;
    if (depth > 6) return false;
    switch (e.t) {
      case "enter":
        return this.singleWorkerExecutor(m, e.of, depth + 1);
      case "name": {
        if (e.scope < 0) return false;
        const bindings = idx.modules[m].scopes[e.scope].bindings.filter((b) => b.name === e.name);
        return bindings.length > 0 && bindings.every((b) => this.singleWorkerExecutor(m, b.value, depth + 1));
      }
      case "attr": {
        const stores: { m: number; value: Expr }[] = [];
        for (const v of idx.eval(m, e.obj)) {
          if (v.k !== "inst") return false;
          idx.modules[v.m].scopes.forEach((sc) => {
            if (sc.parent !== v.s) return;
            for (const st of sc.attrStores) if (st.attr === e.attr && !st.element) stores.push({ m: v.m, value: st.value });
          });
        }
        return stores.length > 0 && stores.every((st) => this.singleWorkerExecutor(st.m, st.value, depth + 1));
      }
      case "call": {
        const c = idx.call(m, e.id);
        const names = idx.extNames(m, e.id);
        if (names.some((n) => THREAD_EXECUTORS.includes(n))) {
          const n = c.kwargs.max_workers ?? c.args[0];
          return n?.t === "const" && n.text === "1";
        }
        // fut = ex.submit(...): the future's callbacks run on ex's worker.
        if (lastName(c.fn) === "submit" && c.fn.t === "attr") return this.singleWorkerExecutor(m, c.fn.obj, depth + 1);
        return false;
      }
      default:
        return false;
    }
  }

  /**
   * Sync generator functions whose generator object `e` is: `gen(...)`, or a variable bound to
   * such a call. Stepping the object runs the function's body, on whichever thread steps it.
   */
  private generatorsIterated(m: number, e: Expr, depth: number): FnRef[] {
    const idx = this.index;
    if (depth > 4) return [];
    if (e.t === "call") {
      return idx.calleesOf(m, e.id).filter((f) => {
        const sc = idx.scope(f);
        return sc.isGenerator && !sc.isAsync;
      });
    }
    if (e.t === "name" && e.scope >= 0) {
      const bindings = idx.modules[m].scopes[e.scope].bindings.filter((b) => b.name === e.name && (b.value.t === "call" || b.value.t === "name"));
      return dedupeFns(bindings.flatMap((b) => this.generatorsIterated(m, b.value, depth + 1)));
    }
    return [];
  }

  /**
   * `tasks.add_task(fn)` where `tasks` is a parameter annotated with an external class
   * (`tasks: BackgroundTasks`) and never rebound: the framework injects an instance of that
   * class (FastAPI does for BackgroundTasks), so the call is that class's method. Only entry
   * point matching reads annotations; values elsewhere still come from callers alone.
   */
  private annotatedReceiverNames(m: number, id: number): string[] {
    const idx = this.index;
    const c = idx.call(m, id);
    if (c.fn.t !== "attr" || c.fn.obj.t !== "name" || c.fn.obj.scope < 0) return [];
    const recv = c.fn.obj;
    const sc = idx.modules[m].scopes[recv.scope];
    const pi = sc.kind === "function" ? sc.params.indexOf(recv.name) : -1;
    const ann = pi >= 0 ? sc.paramTypes?.[pi] : undefined;
    if (!ann || sc.bindings.some((b) => b.name === recv.name)) return [];
    return idx.eval(m, ann).flatMap((v) => (v.k === "ext" ? [`${v.name}().${c.fn.t === "attr" ? c.fn.attr : ""}`] : []));
  }

  /** run() of project subclasses of a framework's thread class (Qt's QThread, QRunnable). */
  private subclassEntries(entry: EntryPoint, shape: Extract<EntryShape, { t: "subclass" }>): void {
    const idx = this.index;
    const bases = new Set(shape.bases);
    const count = idx.modules.length;
    for (let m = 0; m < count; m++) {
      idx.modules[m].scopes.forEach((sc, s) => {
        if (sc.kind !== "class" || sc.bases.length === 0) return;
        if (!idx.extBases({ m, s }).some((b) => bases.has(b))) return;
        const inst = { k: "inst" as const, m, s, virtual: false };
        const runs = this.entryTargets(entry, dedupeFns(shape.methods.flatMap((name) => idx.lookupMethod(inst, name))));
        if (runs.length === 0) return;
        let many = entry.many === true;
        if (entry.many === "per-instance") {
          const made = idx.callsNamed(sc.name).filter(({ m: cm, s: cid }) =>
            idx.eval(cm, idx.call(cm, cid).fn).some((v) => v.k === "class" && v.m === m && v.s === s),
          );
          many = made.length > 1 || made.some(({ m: cm, s: cid }) => idx.call(cm, cid).loop);
        }
        this.spawns.push({
          m,
          call: -1,
          range: sc.nameRange,
          label: `${entry.framework} ${entry.role} in class ${sc.name} (${entry.runs})`,
          targets: runs,
          many,
          returnsResult: false,
          named: true,
        });
      });
    }
  }

  /** gRPC: add_<Name>Servicer_to_server(servicer, server) on a thread-pool server: the servicer's RPC methods. */
  private servicerEntries(entry: EntryPoint, shape: Extract<EntryShape, { t: "servicer" }>): void {
    const idx = this.index;
    const servers = new Set(shape.servers);
    const count = idx.modules.length;
    for (let m = 0; m < count; m++) {
      idx.modules[m].calls.forEach((c, id) => {
        const last = lastName(c.fn);
        if (!last || !shape.register.test(last)) return;
        const server = c.args[1] ?? c.kwargs.server;
        const servicer = c.args[0] ?? c.kwargs.servicer;
        if (!server || !servicer) return;
        if (!idx.eval(m, server).some((v) => v.k === "extinst" && servers.has(v.name))) return;
        for (const inst of idx.eval(m, servicer)) {
          if (inst.k !== "inst") continue;
          const methods = this.rpcMethodNames({ m: inst.m, s: inst.s }).flatMap((name) => idx.lookupMethod(inst, name));
          const targets = this.entryTargets(entry, dedupeFns(methods));
          if (targets.length === 0) continue;
          this.spawns.push({
            m,
            call: id,
            range: c.range,
            label: this.entryLabel(entry, `${idx.scope({ m: inst.m, s: inst.s }).name} (${last})`),
            targets,
            many: entry.many !== false,
            returnsResult: false,
            named: true,
          });
        }
      });
    }
  }

  /**
   * RPC handler names of a servicer class. Where a project base class comes from a generated
   * `*_pb2_grpc` module, the methods it declares are the RPCs. Otherwise (stubs not in the
   * project) the methods of the class and its project bases named like RPCs: protobuf's style
   * guide names them in UpperCamelCase and the generated servicer keeps the names, while a
   * servicer's own helpers (`serve`, `_decode`) are not RPCs.
   */
  private rpcMethodNames(cls: FnRef): string[] {
    const idx = this.index;
    const declared = new Set<string>();
    const generated = new Set<string>();
    const seen = new Set<string>();
    const visit = (c: FnRef, depth: number) => {
      const key = fnKey(c.m, c.s);
      if (seen.has(key) || depth > 16) return;
      seen.add(key);
      const isGenerated = /_pb2_grpc$/.test(idx.moduleNames[c.m]);
      idx.modules[c.m].scopes.forEach((sc) => {
        if (sc.parent !== c.s || sc.kind !== "function" || sc.isLambda || sc.name.startsWith("_")) return;
        (isGenerated ? generated : declared).add(sc.name);
      });
      for (const b of idx.scope(c).bases) for (const v of idx.eval(c.m, b)) if (v.k === "class") visit(v, depth + 1);
    };
    visit(cls, 0);
    if (generated.size > 0) return [...generated];
    return [...declared].filter((n) => /^[A-Z]/.test(n));
  }

  // ---- project spawn wrappers ---------------------------------------------------------------

  /**
   * A function that hands one of its parameters to a thread primitive (`def submit(self, d, fn):
   * self._pools[d].submit(fn)`), or to another such function, is itself a spawn for whatever its
   * callers pass there. Solved as a summary (the set of such parameters) over the call graph with
   * the generic fixpoint, then every call that passes a callable in such a position from outside
   * becomes a spawn site whose label names the wrapper chain.
   */
  private inferredSpawns(): void {
    const idx = this.index;
    const direct = new Map<string, Map<number, DirectSite>>();
    for (const site of this.directSites) {
      const fn = { m: site.m, s: idx.call(site.m, site.call).scope };
      const i = this.paramIndex(fn, site.target);
      if (i < 0) continue;
      const key = fnKey(fn.m, fn.s);
      let byParam = direct.get(key);
      if (!byParam) direct.set(key, (byParam = new Map()));
      if (!byParam.has(i)) byParam.set(i, site);
    }
    if (direct.size === 0) return;

    const offsetsCache = new Map<string, { fn: FnRef; offset: number }[]>();
    const calleeOffsets = (m: number, id: number) => {
      const key = `${m}:${id}`;
      let out = offsetsCache.get(key);
      if (!out) offsetsCache.set(key, (out = this.calleeOffsets(m, id)));
      return out;
    };
    /** Calls of fn that pass one of its own parameters along. */
    const forwarding = (fn: FnRef): number[] =>
      idx.callsIn(fn).filter((id) => {
        const c = idx.call(fn.m, id);
        return [...c.args, ...Object.values(c.kwargs)].some((a) => this.paramIndex(fn, a) >= 0);
      });
    const summaries = new Summaries<FnRef, number[]>({
      bottom: [],
      join: (a, b) => [...new Set([...a, ...b])].sort((x, y) => x - y),
      equal: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]),
      key: (fn) => fnKey(fn.m, fn.s),
      successors: (fn) => forwarding(fn).flatMap((id) => calleeOffsets(fn.m, id).map((t) => t.fn)),
      transfer: (fn, get) => {
        const out = new Set<number>(direct.get(fnKey(fn.m, fn.s))?.keys() ?? []);
        for (const id of forwarding(fn)) {
          const c = idx.call(fn.m, id);
          for (const { fn: g, offset } of calleeOffsets(fn.m, id)) {
            for (const j of get(g)) {
              const i = this.paramIndex(fn, this.argAt(c, g, j, offset));
              if (i >= 0) out.add(i);
            }
          }
        }
        return [...out].sort((x, y) => x - y);
      },
    });

    /** Witness chain from a wrapper's parameter down to the primitive: ["run_on", "Pools.submit", "pool.submit(fn)"]. */
    const chainOf = (fn: FnRef, j: number, seen: Set<string>): { hops: string[]; base: DirectSite } | null => {
      const key = `${fnKey(fn.m, fn.s)}#${j}`;
      if (seen.has(key) || seen.size > 16) return null;
      seen.add(key);
      const site = direct.get(fnKey(fn.m, fn.s))?.get(j);
      if (site) return { hops: [idx.displayName(fn), site.label], base: site };
      for (const id of forwarding(fn)) {
        const c = idx.call(fn.m, id);
        for (const { fn: g, offset } of calleeOffsets(fn.m, id)) {
          for (const jj of summaries.get(g)) {
            if (this.paramIndex(fn, this.argAt(c, g, jj, offset)) !== j) continue;
            const rest = chainOf(g, jj, seen);
            if (rest) return { hops: [idx.displayName(fn), ...rest.hops], base: rest.base };
          }
        }
      }
      return null;
    };

    const queue: FnRef[] = [];
    const queued = new Set<string>();
    const enqueue = (fn: FnRef) => {
      const key = fnKey(fn.m, fn.s);
      if (!queued.has(key)) {
        queued.add(key);
        queue.push(fn);
      }
    };
    for (const key of direct.keys()) {
      const [m, s] = key.split(":").map(Number);
      enqueue({ m, s });
    }
    for (let q = 0; q < queue.length && q < 4096; q++) {
      const wrapper = queue[q];
      const spawned = summaries.get(wrapper);
      if (spawned.length === 0) continue;
      const sc = idx.scope(wrapper);
      const names = [sc.name];
      if (sc.name === "__init__" && sc.parent >= 0) names.push(idx.modules[wrapper.m].scopes[sc.parent].name);
      for (const name of names) {
        for (const { m, s: id } of idx.callsNamed(name)) {
          const c = idx.call(m, id);
          for (const { fn: g, offset } of calleeOffsets(m, id)) {
            if (g.m !== wrapper.m || g.s !== wrapper.s) continue;
            const caller = { m, s: c.scope };
            const callerSpawns = idx.scope(caller).kind === "function" ? summaries.get(caller) : [];
            for (const j of spawned) {
              const arg = this.argAt(c, g, j, offset);
              if (!arg) continue;
              const i = this.paramIndex(caller, arg);
              if (i >= 0 && callerSpawns.includes(i)) {
                enqueue(caller); // an outer wrapper: its own callers are the spawn sites
                continue;
              }
              let targets = this.targetsOf(idx.eval(m, arg), false, m, []);
              if (targets.length === 0) targets = this.callablesOf(m, arg, 0);
              targets = this.bodiesRun(targets);
              if (targets.length === 0) continue;
              const chain = chainOf(g, j, new Set());
              if (!chain) continue;
              this.spawns.push({
                m,
                call: id,
                range: c.range,
                label: `${c.callee}(${exprText(arg)}) (a thread spawn through ${chain.hops.join(" -> ")})`,
                targets,
                many: chain.base.many || c.loop,
                returnsResult: chain.base.returnsResult,
                named: true,
              });
            }
          }
        }
      }
    }
  }

  /** Index of the parameter of `fn` that expression `e` reads, or -1 (not a plain parameter read). */
  private paramIndex(fn: FnRef, e: Expr | undefined): number {
    if (!e || e.t !== "name" || e.scope !== fn.s) return -1;
    const sc = this.index.scope(fn);
    if (sc.kind !== "function") return -1;
    return sc.params.indexOf(e.name);
  }

  /** The argument a call passes to parameter j of g (offset: parameters filled before the call's own, e.g. self). */
  private argAt(c: { args: Expr[]; kwargs: Record<string, Expr> }, g: FnRef, j: number, offset: number): Expr | undefined {
    const pname = this.index.scope(g).params[j];
    if (pname === undefined || pname.startsWith("*")) return undefined;
    const pos = j - offset;
    return c.kwargs[pname] ?? (pos >= 0 ? c.args[pos] : undefined);
  }

  /** Project functions a call runs, with how many leading parameters are bound before its arguments. */
  private calleeOffsets(m: number, id: number): { fn: FnRef; offset: number }[] {
    const idx = this.index;
    const out: { fn: FnRef; offset: number }[] = [];
    const seen = new Set<string>();
    const add = (fn: FnRef, offset: number) => {
      const key = `${fnKey(fn.m, fn.s)}+${offset}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ fn, offset });
      }
    };
    for (const v of idx.eval(m, idx.call(m, id).fn)) {
      if (v.k === "fn") add(v, 0);
      else if (v.k === "bound") add({ m: v.m, s: v.s }, 1);
      else if (v.k === "class") for (const f of idx.lookupMethod(v, "__init__")) add(f, 1);
      else if (v.k === "inst") for (const f of idx.lookupMethod(v, "__call__")) add(f, 1);
    }
    return out;
  }

  // ---- callables the index does not follow --------------------------------------------------

  /**
   * Project functions that a callable expression may run where the index finds none:
   * `getattr(obj, name)` with `name` from literal strings (a loop over a list of names), names
   * bound to such a call or to an item of one, and `q.get()` on a queue.Queue whose put() calls
   * (on the same attribute or variable) hand over functions.
   */
  private callablesOf(m: number, e: Expr, depth: number): FnRef[] {
    const idx = this.index;
    if (depth > 4) return [];
    if (e.t === "item" || e.t === "await") return this.callablesOf(m, e.of, depth + 1);
    if (e.t === "name" && e.scope >= 0) {
      const sc = idx.modules[m].scopes[e.scope];
      return dedupeFns(sc.bindings.filter((b) => b.name === e.name).flatMap((b) => this.callablesOf(m, b.value, depth + 1)));
    }
    if (e.t !== "call") return [];
    const c = idx.call(m, e.id);
    const names = idx.extNames(m, e.id);
    if (names.includes("builtins.getattr") && c.args.length >= 2) {
      const attrs = idx.eval(m, c.args[1]).flatMap((v) => (v.k === "str" ? [v.value] : []));
      if (attrs.length === 0) return [];
      const out: FnRef[] = [];
      for (const obj of idx.eval(m, c.args[0])) for (const a of attrs) out.push(...idx.lookupMethod(obj, a));
      return dedupeFns(out);
    }
    const last = lastName(c.fn);
    if ((last === "get" || last === "get_nowait") && c.fn.t === "attr") {
      const keys = this.queueKeys(m, c.fn.obj);
      if (keys.size === 0) return [];
      const out: FnRef[] = [];
      for (const put of ["put", "put_nowait"]) {
        for (const { m: pm, s: pid } of idx.callsNamed(put)) {
          const pc = idx.call(pm, pid);
          if (pc.fn.t !== "attr" || ![...this.queueKeys(pm, pc.fn.obj)].some((k) => keys.has(k))) continue;
          const item = pc.args[0] ?? pc.kwargs.item;
          if (item) for (const v of idx.eval(pm, item)) out.push(...idx.callTargets(v));
        }
      }
      return dedupeFns(out);
    }
    return [];
  }

  /**
   * Identity of a queue.Queue held in a variable or attribute: the variable's binding scope, or
   * the attribute name on instances of one class. Empty when it is not known to be such a queue.
   */
  private queueKeys(m: number, recv: Expr, depth = 0): Set<string> {
    const idx = this.index;
    const out = new Set<string>();
    const isQueue = idx.eval(m, recv).some((v) => v.k === "extinst" && QUEUE_CLASSES.includes(v.name));
    if (!isQueue || depth > 4) return out;
    if (recv.t === "name" && recv.scope >= 0) {
      const sc = idx.modules[m].scopes[recv.scope];
      const bindings = sc.bindings.filter((b) => b.name === recv.name);
      // A parameter that the function never rebinds is whatever its callers pass: the queue keys
      // of the arguments (`Thread(target=worker, args=(jobs,))`, `Consumer(self.jobs)`).
      const param = sc.kind === "function" ? sc.params.findIndex((p) => p.replace(/^\*+/, "") === recv.name) : -1;
      if (param >= 0 && bindings.length === 0) {
        for (const arg of idx.paramArguments({ m, s: recv.scope }, param)) {
          for (const k of this.queueKeys(arg.m, arg.expr, depth + 1)) out.add(k);
        }
        return out;
      }
      // A name imported from another module is that module's attribute (`from jobs import JOBS`).
      for (const b of bindings) {
        if (b.value.t !== "import" || b.value.name === null) continue;
        const from = idx.importedModule(m, b.value.level, b.value.module);
        if (from !== undefined) out.add(`attr:${from}:module:${b.value.name}`);
      }
      if (out.size > 0) return out;
      // A module-level variable is also reached as an attribute of the module (`jobs.JOBS`).
      out.add(sc.kind === "module" ? `attr:${m}:module:${recv.name}` : `name:${m}:${recv.scope}:${recv.name}`);
    } else if (recv.t === "attr") {
      for (const v of idx.eval(m, recv.obj)) {
        if (v.k === "inst" || v.k === "class") out.add(`attr:${v.m}:${v.s}:${recv.attr}`);
        else if (v.k === "module") out.add(`attr:${v.m}:module:${recv.attr}`);
      }
    }
    return out;
  }

  // ---- reachability -------------------------------------------------------------------------

  private propagate(): void {
    const idx = this.index;
    const fallbackCache = new Map<string, FnRef[]>();
    /** Callables the call graph does not follow (getattr over literal names, queue hand-offs). */
    const fallback = (fn: FnRef, call: number): FnRef[] => {
      const key = `${fn.m}:${call}`;
      let t = fallbackCache.get(key);
      if (!t) fallbackCache.set(key, (t = this.callablesOf(fn.m, idx.call(fn.m, call).fn, 0)));
      return t;
    };
    // Spawns that start several threads first: their path is the one worth showing.
    // Among those, named ones (frameworks, project spawn wrappers) before the primitives they use.
    const rank = (sp: SpawnSite) => (sp.many ? 0 : 2) + (sp.named ? 0 : 1);
    const ordered = [...this.spawns].sort((a, b) => rank(a) - rank(b));
    for (const spawn of ordered) {
      const seen = new Set<string>();
      const seenFns = new Set<string>();
      const queue: CallNode[] = [];
      const visit = (node: CallNode, parent: string | null, via: { m: number; call: number } | null, dispatch: Dispatch, declared?: FnRef) => {
        const nk = nodeKey(node);
        if (seen.has(nk)) return;
        seen.add(nk);
        queue.push(node);
        const from = parent === null ? null : this.nodeReach.get(parent)!;
        const guessed = dispatch === "hierarchy" || !!from?.guessed;
        const r: Reach = { spawn, parent: from ? fnKey(from.fn.m, from.fn.s) : null, via, fn: node.fn, node, parentNode: parent, dispatch, guessed, ...(declared ? { declared } : {}) };
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
      const starts = spawn.nodes ?? spawn.targets.map((fn) => ({ to: { fn, self: null }, dispatch: "exact" as const }));
      for (const t of starts) visit(t.to, null, null, t.dispatch);
      for (let i = 0; i < queue.length; i++) {
        const node = queue[i];
        const nk = nodeKey(node);
        const followed = new Set<number>();
        for (const e of this.graph.edges(node)) {
          followed.add(e.call);
          visit(e.to, nk, { m: node.fn.m, call: e.call }, e.dispatch, e.declared);
        }
        for (const call of idx.callsIn(node.fn)) {
          if (followed.has(call)) continue;
          for (const fn of fallback(node.fn, call)) visit({ fn, self: null }, nk, { m: node.fn.m, call }, "exact");
        }
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

function dedupeFns(fns: FnRef[]): FnRef[] {
  const seen = new Set<string>();
  return fns.filter((f) => {
    const key = fnKey(f.m, f.s);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
