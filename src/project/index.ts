// ProjectIndex: joins the ModuleFacts of all files and answers "what does this expression
// refer to?" on demand. Evaluation is flow-insensitive and context-insensitive (a name's
// value is the union of everything assigned to it), memoized per expression, and gives up
// (no value) on anything it cannot resolve: an unresolved call is no finding.

import path from "node:path";
import type { Binding, CallFact, Expr, ModuleFacts, ScopeFact } from "../facts/model.js";
import { fnKey } from "./ids.js";
import { aliasModuleNames, moduleNaming, resolveRelative, rootKey } from "./modules.js";
import { sysPathFolders } from "./syspath.js";
import { dedupe, type Value } from "./values.js";
import { withLoadReason } from "../timing.js";

export interface FnRef {
  m: number;
  s: number;
}


/** Event constructors, with the backend they belong to. */
const EVENT_CTORS: Record<string, string> = {
  "torch.mps.Event": "mps",
  "torch.mps.event.Event": "mps",
  "torch.cuda.Event": "cuda",
  "torch.cuda.streams.Event": "cuda",
  "torch.xpu.Event": "xpu",
  "torch.hpu.Event": "hpu",
  "torch.npu.Event": "npu",
  "torch.Event": "generic",
  "torch.<dev>.Event": "generic",
};

const MAX_DEPTH = 48;

/** Methods that put an element into a list, set or deque, and the position of the element. */
const CONTAINER_ADDS: Record<string, number> = { append: 0, appendleft: 0, add: 0, extend: 0, insert: 1 };

const MODULE_RETURNS_SELF = new Set(["to", "cuda", "cpu", "mps", "xpu", "eval", "train", "half", "float", "double", "bfloat16", "requires_grad_", "share_memory", "apply", "to_empty"]);
const NN_MODULE = /^torch\.nn\.(modules\.module\.)?Module$|^torch\.nn\.(Sequential|ModuleList|ModuleDict)$|^transformers\.(PreTrainedModel|modeling_utils\.PreTrainedModel)$/;

const PROPERTY_DECORATORS = new Set(["builtins.property", "functools.cached_property"]);

interface ArgBinding {
  args: { m: number; expr: Expr }[];
  kwargs: Record<string, { m: number; expr: Expr }>;
  /** Parameters to skip (1 for bound methods and constructors: self). */
  offset: number;
}

export class ProjectIndex {
  readonly moduleNames: string[];
  private readonly byName: Map<string, number> | LoadingMap;
  private readonly isPackage: boolean[];
  /** Import root of each module (a key prefix: see modules.ts rootKey). */
  private readonly importRoots: string[] = [];
  /** Calls of each scope, in source order: by module, then scope. */
  private readonly callsByScope: number[][][] = [];
  /** Calls by the last name of their callee ("step" for r.step(x)). */
  private readonly callsByLastName = new Map<string, FnRef[]>();
  private readonly exprCache = new Map<Expr, Value[]>();
  /** The callee expressions of implicit `x.__iter__()` calls (a `for` loop's): evaluated by iterableObjects. */
  private readonly iterCallees = new WeakSet<Expr>();
  /** evalCall's memo: by module, then call id. */
  private callCache: (Value[] | undefined)[][] = [];
  /** Calls being evaluated (evalCall's cycle guard): by module, then call id. */
  private readonly callBusy: Uint8Array[] = [];
  private readonly inProgress = new Set<Expr>();
  /**
   * Evaluations cut short (a cycle, or too deep): their empty answer is not memoized, so asking
   * again may answer otherwise. A memo below (calleesOf, extNames) keeps only answers computed
   * while none was cut short: those read memoized evaluations alone, and asking again, with no
   * reset in between, gives the same answer.
   */
  private blocks = 0;
  /** Bumped by resetCaches: memos of an earlier generation are stale. */
  private generation = 0;
  private readonly calleesMemo: ({ v: FnRef[]; modules: number; generation: number } | undefined)[][] = [];
  private readonly extNamesMemo: ({ v: string[]; generation: number } | undefined)[][] = [];
  /** mro's memo by module and scope: the classes after the first (the class asked about). */
  private readonly mroMemo: ({ rest: FnRef[]; generation: number } | undefined)[][] = [];
  /** bindingsOf's memo by module and scope. */
  private readonly bindingsMemo: ({ v: ArgBinding[]; version: number } | undefined)[][] = [];
  /** Bumped whenever a module arrives, argument bindings are added, or the caches are reset (memoState). */
  private stateVersion = 0;
  private depth = 0;
  /** Extra argument bindings (spawn sites, partial, decorators): fnKey -> bindings. */
  private readonly extraBindings = new Map<string, ArgBinding[]>();
  private readonly subclassMap = new Map<string, FnRef[]>();
  /** Modules whose classes are in subclassMap (modules loaded later are added on the next ask). */
  private subclassModules = 0;

  /** Facts by module index: the ones given, then any loaded on demand. */
  readonly modules: ModuleFacts[] = [];

  constructor(
    modules: readonly ModuleFacts[],
    private readonly srcRoots: string[] = [],
    searchRoots: readonly string[] = [],
    /**
     * Demand loading (src/engine/engine.ts): asked for the facts of a module name the index looks up and
     * does not have; what it returns joins the index there and then, so the lookup, and every
     * later one, sees it. Asked at most once per name.
     */
    load?: (name: string) => readonly ModuleFacts[],
    /** Told of each folder a module puts on sys.path (src/project/syspath.ts), so loading knows its names. */
    private readonly onSearchRoot?: (dir: string) => void,
  ) {
    this.searchRoots = [...searchRoots];
    this.byName = load ? new LoadingMap((name) => this.loadModule(name, load)) : new Map();
    this.moduleNames = [];
    this.isPackage = [];
    for (const f of modules) this.addModule(f);
  }

  /** Folders whose relative paths name modules: the linted roots, and folders put on sys.path. */
  private readonly searchRoots: string[];

  /** Add one module's facts (in construction, or loaded on demand while evaluating). */
  private addModule(f: ModuleFacts): void {
    const m = this.modules.length;
    this.modules.push(f);
    const naming = moduleNaming(f.file, this.srcRoots, this.searchRoots);
    this.moduleNames.push(naming.name);
    this.importRoots.push(naming.root);
    this.isPackage.push(/^__init__\.pyi?$/.test(path.basename(f.file)));
    const byName = this.byName instanceof LoadingMap ? this.byName.plain : this.byName;
    // Prefer .py over .pyi and the first file seen.
    for (const key of naming.keys) {
      const prev = byName.get(key);
      if (prev === undefined || (f.file.endsWith(".py") && !this.modules[prev].file.endsWith(".py"))) byName.set(key, m);
    }
    const byScope: number[][] = [];
    this.callsByScope.push(byScope);
    this.callBusy.push(new Uint8Array(f.calls.length));
    this.callCache.push(new Array<Value[] | undefined>(f.calls.length));
    this.calleesMemo.push(new Array(f.calls.length));
    this.extNamesMemo.push(new Array(f.calls.length));
    this.mroMemo.push(new Array(f.scopes.length));
    this.bindingsMemo.push(new Array(f.scopes.length));
    this.stateVersion++;
    f.calls.forEach((c, id) => {
      if (c.implicit === "iter") this.iterCallees.add(c.fn);
      (byScope[c.scope] ??= []).push(id);
      const last = lastName(c.fn);
      if (last) {
        let l = this.callsByLastName.get(last);
        if (!l) this.callsByLastName.set(last, (l = []));
        l.push({ m, s: id });
      }
    });
    this.addSearchRoots(f);
  }

  /**
   * A folder put on sys.path names the files below it by their relative paths: in modules to come
   * (moduleNaming reads searchRoots) and in those already here.
   */
  private addSearchRoots(f: ModuleFacts): void {
    for (const dir of sysPathFolders(f)) {
      if (this.searchRoots.some((r) => path.resolve(r) === dir)) continue;
      this.searchRoots.push(dir);
      this.onSearchRoot?.(dir);
      const byName = this.byName instanceof LoadingMap ? this.byName.plain : this.byName;
      this.modules.forEach((mod, m) => {
        for (const key of aliasModuleNames(mod.file, [dir])) if (!byName.has(key)) byName.set(key, m);
      });
    }
  }

  private loadModule(name: string, load: (name: string) => readonly ModuleFacts[]): void {
    for (const f of load(name)) this.addModule(f);
  }

  scope(ref: FnRef): ScopeFact {
    return this.modules[ref.m].scopes[ref.s];
  }

  call(m: number, id: number): CallFact {
    return this.modules[m].calls[id];
  }

  callsIn(ref: FnRef): number[] {
    return this.callsByScope[ref.m]?.[ref.s] ?? [];
  }

  callsNamed(name: string): FnRef[] {
    return this.callsByLastName.get(name) ?? [];
  }

  moduleIndex(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** Forget memoized values (after new argument bindings were learned). */
  resetCaches(): void {
    this.exprCache.clear();
    this.generation++;
    this.stateVersion++;
    this.callCache = this.modules.map((mod) => new Array<Value[] | undefined>(mod.calls.length));
  }

  addBinding(fn: FnRef, binding: ArgBinding): void {
    const key = fnKey(fn.m, fn.s);
    let list = this.extraBindings.get(key);
    if (!list) this.extraBindings.set(key, (list = []));
    if (list.length < 32) {
      list.push(binding);
      this.stateVersion++;
    }
  }

  /** Human name of a function: "Runner.step", "worker", "<lambda>@12". */
  displayName(ref: FnRef): string {
    const s = this.scope(ref);
    return s.kind === "module" ? `<module ${this.moduleNames[ref.m]}>` : s.qualname;
  }

  // ---- evaluation ---------------------------------------------------------------------------

  eval(m: number, e: Expr): Value[] {
    const cached = this.exprCache.get(e);
    if (cached) return cached;
    if (this.inProgress.has(e) || this.depth > MAX_DEPTH) {
      this.blocks++;
      return [];
    }
    this.inProgress.add(e);
    this.depth++;
    let out: Value[];
    try {
      out = dedupe(this.evalUncached(m, e));
    } finally {
      this.depth--;
      this.inProgress.delete(e);
    }
    this.exprCache.set(e, out);
    return out;
  }

  private evalUncached(m: number, e: Expr): Value[] {
    switch (e.t) {
      case "name":
        return this.evalName(m, e.name, e.scope, e.at);
      case "attr":
        if (this.iterCallees.has(e)) return this.iterableObjects(m, e.obj).flatMap((v) => this.getAttr(v, e.attr));
        return this.eval(m, e.obj).flatMap((v) => this.getAttr(v, e.attr));
      case "call":
        return this.evalCall(m, e.id);
      case "scope":
        return this.scopeValue(m, e.scope);
      case "import":
        return this.evalImport(m, e.module, e.level, e.name);
      case "str":
        return [{ k: "str", value: e.value }];
      case "const":
        return [];
      case "seq":
        return e.items.flatMap((i) => this.eval(m, i));
      case "item":
        return this.eval(m, e.of);
      case "enter":
        return this.eval(m, e.of).flatMap((v) => this.enterValue(v));
      case "op":
        return e.args.flatMap((a) => this.eval(m, a));
      case "await":
        return this.eval(m, e.of);
      case "unknown":
        return [];
    }
  }

  private evalName(m: number, name: string, scopeIdx: number, at?: number): Value[] {
    if (scopeIdx < 0) return [{ k: "ext", name: `builtins.${name}` }];
    const scope = this.modules[m].scopes[scopeIdx];
    const out: Value[] = [];
    if (scope.kind === "function") {
      const pi = paramIndex(scope, name);
      if (pi >= 0) out.push(...this.paramValues({ m, s: scopeIdx }, pi));
    }
    let bindings = bindingsNamed(scope, name);
    if (at !== undefined && bindings.length > 1) {
      // Read in the binding scope itself: the last binding before the read is the one in force
      // (source order; a loop may carry a later one round, which this ignores).
      const before = bindings.filter((b) => b.end <= at);
      if (before.length > 0) bindings = [before[before.length - 1]];
    }
    for (const b of bindings) out.push(...this.eval(m, b.value));
    // A container is modelled by its elements: what `name.append(x)` (or add, insert, extend) puts in.
    for (const a of this.appendedTo(m, scopeIdx, name)) out.push(...this.eval(m, a));
    if (out.length === 0 && scopeIdx === 0 && scope.starImports.length > 0) {
      withLoadReason("star import", () => {
        // The last star import that binds the name is the one in force (each rebinds what an
        // earlier one bound), so the earlier modules need not be looked at, nor loaded.
        for (let i = scope.starImports.length - 1; i >= 0 && out.length === 0; i--) {
          const star = scope.starImports[i];
          const target = this.absoluteModule(m, star.level, star.module);
          const tm = target ? this.findModule(m, target) : undefined;
          if (tm !== undefined && tm !== m) out.push(...this.moduleAttr(tm, name));
        }
      });
    }
    return out;
  }

  private absoluteModule(m: number, level: number, module: string): string | null {
    return resolveRelative(this.moduleNames[m], this.isPackage[m], level, module);
  }

  /** The project module an import statement of module `m` names (`from .jobs import X`: jobs), if any. */
  importedModule(m: number, level: number, module: string): number | undefined {
    const abs = this.absoluteModule(m, level, module);
    return abs === null ? undefined : this.findModule(m, abs);
  }

  /**
   * The module an import in module `m` finds: the importing file's own import root first (a
   * script's folder is sys.path[0]; a package's relative imports stay inside its root), then the
   * project-wide table.
   */
  findModule(m: number, abs: string): number | undefined {
    return this.byName.get(rootKey(this.importRoots[m], abs)) ?? this.byName.get(abs);
  }

  private evalImport(m: number, module: string, level: number, name: string | null): Value[] {
    const abs = this.absoluteModule(m, level, module);
    if (abs === null) return [];
    if (name === null) {
      const pm = this.findModule(m, abs);
      return pm !== undefined ? [{ k: "module", m: pm }] : [{ k: "ext", name: abs }];
    }
    const pm = this.findModule(m, abs);
    if (pm !== undefined) {
      const vals = pm === m ? [] : this.moduleAttr(pm, name);
      if (vals.length > 0) return vals;
      const sub = this.findModule(m, `${abs}.${name}`);
      if (sub !== undefined) return [{ k: "module", m: sub }];
      if (this.compiledExtensions().has(`${abs}.${name}`)) return [{ k: "ext", name: `${abs}.${name}` }];
      return [];
    }
    const sub = this.findModule(m, abs ? `${abs}.${name}` : name);
    if (sub !== undefined) return [{ k: "module", m: sub }];
    return [{ k: "ext", name: abs ? `${abs}.${name}` : name }];
  }

  private moduleAttr(pm: number, name: string): Value[] {
    const vals = this.evalName(pm, name, 0);
    if (vals.length > 0) return vals;
    const sub = this.findModule(pm, `${this.moduleNames[pm]}.${name}`);
    if (sub !== undefined) return [{ k: "module", m: sub }];
    return this.lazyAttr(pm, name);
  }

  private readonly lazyInProgress = new Set<string>();
  /** Names resolved through a module's `__getattr__` (PEP 562), for dumps: "module.name" -> values. */
  readonly lazyNames = new Map<string, Value[]>();

  /**
   * PEP 562: a module that defines `__getattr__` provides the names it does not bind when they
   * are first read, typically by importing them in a loader (`from .engines.x import Engine` in a
   * function, then `globals()[name] = Engine`) or with `importlib.import_module(...)` over a table
   * of module paths. The name's values: what the module's functions import under that name, else
   * that attribute of each project module they import by path.
   */
  private lazyAttr(pm: number, name: string): Value[] {
    const mod = this.modules[pm];
    if (!mod.scopes[0].bindings.some((b) => b.name === "__getattr__" && b.value.t === "scope")) return [];
    const key = `${pm}:${name}`;
    if (this.lazyInProgress.has(key)) return [];
    this.lazyInProgress.add(key);
    try {
      const out: Value[] = [];
      for (const sc of mod.scopes) {
        if (sc.kind !== "function") continue;
        for (const b of sc.bindings) if (b.name === name && b.value.t === "import") out.push(...this.eval(pm, b.value));
      }
      if (out.length > 0) {
        this.lazyNames.set(`${this.moduleNames[pm]}.${name}`, out);
        return out;
      }
      for (const { m, s: id } of this.callsNamed("import_module")) {
        if (m !== pm || !this.extNames(m, id).includes("importlib.import_module")) continue;
        const c = this.call(m, id);
        const target = c.args[0] ?? c.kwargs.name;
        if (!target) continue;
        for (const v of this.eval(m, target)) {
          if (v.k !== "str") continue;
          const level = /^\.*/.exec(v.value)![0].length;
          const abs = level > 0 ? resolveRelative(this.moduleNames[pm], this.isPackage[pm], level, v.value.slice(level)) : v.value;
          const tm = abs === null ? undefined : this.findModule(pm, abs);
          if (tm !== undefined && tm !== pm) out.push(...this.evalName(tm, name, 0));
        }
      }
      if (out.length > 0) this.lazyNames.set(`${this.moduleNames[pm]}.${name}`, out);
      return out;
    } finally {
      this.lazyInProgress.delete(key);
    }
  }

  /** The value a def/lambda/class statement binds its name to (decorators applied). */
  private scopeValue(m: number, s: number): Value[] {
    const scope = this.modules[m].scopes[s];
    if (scope.kind === "class") return [{ k: "class", m, s }];
    const base: Value = { k: "fn", m, s };
    if (scope.decorators.length === 0) return [base];
    // The original stays reachable (the wrapper calls it); add wrappers a project decorator returns.
    const out: Value[] = [base];
    for (const d of scope.decorators) {
      for (const dv of this.eval(m, d)) {
        // A decorator function, or a decorator object (`@Profiled("x")`) whose __call__ returns the wrapper.
        const decorators = dv.k === "fn" ? [dv] : this.callableObjectMethods(dv);
        for (const f of decorators) for (const r of this.returnValues(f)) if (r.k === "fn" && !(r.m === m && r.s === s)) out.push(r);
      }
    }
    return out;
  }

  private returnValues(fn: FnRef): Value[] {
    const scope = this.scope(fn);
    if (scope.isGenerator) return [];
    return scope.returns.flatMap((r) => this.eval(fn.m, r.value));
  }

  evalCall(m: number, id: number): Value[] {
    const cached = this.callCache[m][id];
    if (cached) return cached;
    const busy = this.callBusy[m];
    if (busy[id] || this.depth > MAX_DEPTH) {
      this.blocks++;
      return [];
    }
    busy[id] = 1;
    this.depth++;
    let out: Value[];
    try {
      const c = this.modules[m].calls[id];
      out = dedupe([...this.eval(m, c.fn).flatMap((v) => this.callResult(m, id, c, v)), ...this.returnsReceiver(m, c)]);
    } finally {
      this.depth--;
      busy[id] = 0;
    }
    this.callCache[m][id] = out;
    return out;
  }

  /** `model.to("mps")`, `.eval()`, `.half()`: nn.Module methods that return the module itself. */
  private returnsReceiver(m: number, c: CallFact): Value[] {
    if (c.fn.t !== "attr" || !MODULE_RETURNS_SELF.has(c.fn.attr)) return [];
    return this.eval(m, c.fn.obj).filter(
      (v) => v.k === "inst" && this.lookupMethod(v, c.fn.t === "attr" ? c.fn.attr : "").length === 0 && this.extBases(v).some((b) => NN_MODULE.test(b)),
    );
  }

  private callResult(m: number, id: number, c: CallFact, v: Value): Value[] {
    switch (v.k) {
      case "fn":
      case "bound":
        return this.returnValues(v);
      case "class":
        return [{ k: "inst", m: v.m, s: v.s, virtual: false }];
      case "inst":
        return this.lookupMethod(v, "__call__").flatMap((f) => this.returnValues(f));
      case "partial":
        return v.target.flatMap((t) => this.callResult(m, id, c, t));
      case "ext":
        return this.extCallResult(m, id, c, v.name);
      default:
        return [];
    }
  }

  private extCallResult(m: number, id: number, c: CallFact, name: string): Value[] {
    if (name in EVENT_CTORS) return [{ k: "event", m, call: id, backend: EVENT_CTORS[name] }];
    switch (name) {
      case "functools.partial": {
        const target = c.args[0] ? this.eval(m, c.args[0]) : [];
        return target.length > 0 ? [{ k: "partial", target, m, call: id }] : [];
      }
      case "builtins.getattr": {
        if (c.args.length < 2) return [];
        const obj = this.eval(m, c.args[0]);
        const attr = c.args[1];
        if (attr.t === "str") return obj.flatMap((o) => this.getAttr(o, attr.value));
        // A name read from strings the code holds (`getattr(module, class_name)` with the class
        // names a registry passes): the attribute of each, on project modules and classes.
        const names = obj.some((o) => o.k === "module" || o.k === "class" || o.k === "inst")
          ? this.eval(m, attr).flatMap((v) => (v.k === "str" && /^[A-Za-z_]\w*$/.test(v.value) ? [v.value] : []))
          : [];
        if (names.length > 0 && names.length <= 24) return obj.flatMap((o) => (o.k === "module" || o.k === "class" || o.k === "inst" ? names.flatMap((n) => this.getAttr(o, n)) : []));
        // getattr(torch, device): a device module chosen at run time.
        return obj.some((o) => o.k === "ext" && o.name === "torch") ? [{ k: "ext", name: "torch.<dev>" }] : [];
      }
      case "torch.get_device_module": {
        const a = c.args[0] ?? c.kwargs.device;
        if (a && a.t === "str") {
          const dev = a.value.split(":")[0];
          if (/^[a-z]+$/.test(dev)) return [{ k: "ext", name: `torch.${dev}` }];
        }
        return [{ k: "ext", name: "torch.<dev>" }];
      }
      case "builtins.super":
        return this.superValue(m, c.scope);
      case "importlib.import_module": {
        // The project modules named by the strings the call is given (relative to `package`).
        const target = c.args[0] ?? c.kwargs.name;
        const pkgArg = c.args[1] ?? c.kwargs.package;
        const packages = pkgArg ? this.eval(m, pkgArg).flatMap((v) => (v.k === "str" ? [v.value] : [])) : [];
        if (pkgArg?.t === "name" && pkgArg.name === "__name__") packages.push(this.moduleNames[m]);
        const out: Value[] = [];
        for (const v of target ? this.eval(m, target) : []) {
          if (v.k !== "str" || out.length >= 24) continue;
          const level = /^\.*/.exec(v.value)![0].length;
          const bases = level > 0 ? packages : [""];
          for (const base of bases) {
            const abs = level > 0 ? resolveRelative(base, true, level, v.value.slice(level)) : v.value;
            const tm = abs === null ? undefined : this.findModule(m, abs);
            if (tm !== undefined) out.push({ k: "module", m: tm });
          }
        }
        return out.length > 0 ? out : [{ k: "extinst", name }];
      }
      case "torch.compile":
      case "torch.jit.script": {
        // The compiled callable runs the same code (graph breaks fall back to it): calling it
        // runs what its argument runs.
        const target = c.args[0] ?? c.kwargs.model ?? c.kwargs.obj;
        const vals = target ? this.eval(m, target).filter((v) => v.k === "fn" || v.k === "bound" || v.k === "inst" || v.k === "partial") : [];
        return vals.length > 0 ? vals : [{ k: "extinst", name }];
      }
      case "torch.device": {
        // torch.device("mps"), torch.device(args.device): the device is its string.
        const a = c.args[0] ?? c.kwargs.type;
        const strs = a ? this.eval(m, a).filter((v) => v.k === "str") : [];
        return strs.length > 0 ? strs : [{ k: "extinst", name }];
      }
      default:
        return [{ k: "extinst", name }];
    }
  }

  private superValue(m: number, fnScope: number): Value[] {
    const fn = this.modules[m].scopes[fnScope];
    if (fn.kind !== "function" || fn.parent < 0) return [];
    const cls = this.modules[m].scopes[fn.parent];
    if (cls.kind !== "class") return [];
    return [{ k: "super", m, s: fn.parent, self: [{ k: "inst", m, s: fn.parent, virtual: true }] }];
  }

  private enterValue(v: Value): Value[] {
    if (v.k === "inst") {
      const enters = this.lookupMethod(v, "__enter__");
      if (enters.length === 0) return [v];
      const r = enters.flatMap((f) => this.returnValues(f));
      return r.length > 0 ? r : [];
    }
    if (v.k === "extinst") return [v];
    return [];
  }

  // ---- attributes and classes ---------------------------------------------------------------

  getAttr(v: Value, name: string): Value[] {
    switch (v.k) {
      case "module":
        return this.moduleAttr(v.m, name);
      case "ext":
        return [{ k: "ext", name: `${v.name}.${name}` }];
      case "extinst": {
        if (ARGPARSE_RESULT.test(v.name)) {
          const vals = this.argparseValues(name);
          if (vals.length > 0) return vals;
        }
        return [{ k: "ext", name: `${v.name}().${name}` }];
      }
      case "class":
        return this.classAttr(v, name, null);
      case "inst":
        return this.instAttr(v, name);
      case "super": {
        const mro = this.mro(v).slice(1);
        for (const c of mro) {
          const vals = this.ownClassAttr(c, name, v.self[0] ?? null);
          if (vals.length > 0) return vals;
        }
        const ext = this.extBases(v)[0];
        return ext ? [{ k: "ext", name: `${ext}().${name}` }] : [];
      }
      default:
        return [];
    }
  }

  private readonly argparseCache = new Map<string, Value[]>();

  /**
   * What `args.<dest>` of a parsed argparse namespace may hold: the defaults and choices of the
   * project's add_argument calls for that destination (a command-line value cannot be known).
   */
  argparseValues(dest: string): Value[] {
    const hit = this.argparseCache.get(dest);
    if (hit) return hit;
    this.argparseCache.set(dest, []);
    const out: Value[] = [];
    for (const { m, s: id } of this.callsNamed("add_argument").slice(0, 400)) {
      const c = this.call(m, id);
      if (argumentDest(c) !== dest) continue;
      if (!this.extNames(m, id).some((n) => n.startsWith("argparse.") && n.endsWith(".add_argument"))) continue;
      if (c.kwargs.default) out.push(...this.eval(m, c.kwargs.default));
      const choices = c.kwargs.choices;
      if (choices?.t === "seq") for (const item of choices.items) out.push(...this.eval(m, item));
    }
    const values = dedupe(out);
    this.argparseCache.set(dest, values);
    return values;
  }

  /** Attributes defined in the body of class `cls` (methods bound to `self` when given). */
  ownClassAttrOf(cls: FnRef, name: string, self: Value | null): Value[] {
    return this.ownClassAttr(cls, name, self);
  }

  /** Attributes defined in one class body (methods bound to `self` when given). */
  private ownClassAttr(cls: FnRef, name: string, self: Value | null): Value[] {
    const scope = this.scope(cls);
    const out: Value[] = [];
    for (const b of scope.bindings) {
      if (b.name !== name) continue;
      for (const val of this.eval(cls.m, b.value)) {
        // Reading a property on an instance runs its getter: the attribute is what it returns.
        if (val.k === "fn" && self && this.isProperty(val)) {
          // (`@x.setter` / `@x.deleter` define no value of the attribute.)
          if (!this.isPropertySetter(val)) out.push(...this.returnValues(val));
        }
        else if (val.k === "fn" && self && !this.isStatic(val)) out.push({ k: "bound", m: val.m, s: val.s, self });
        else out.push(val);
      }
    }
    return out;
  }

  private classAttr(cls: FnRef, name: string, self: Value | null): Value[] {
    for (const c of this.mro(cls)) {
      const vals = this.ownClassAttr(c, name, self);
      if (vals.length > 0) return vals;
    }
    const ext = this.extBases(cls)[0];
    return ext ? [{ k: "ext", name: `${ext}.${name}` }] : [];
  }

  private instAttr(inst: Extract<Value, { k: "inst" }>, name: string): Value[] {
    const out: Value[] = [];
    const mro = this.mro(inst);
    for (const c of mro) {
      const vals = this.ownClassAttr(c, name, inst);
      if (vals.length > 0) {
        out.push(...vals);
        break;
      }
    }
    if (inst.virtual) {
      for (const sub of this.overridingSubclasses(inst)) out.push(...this.ownClassAttr(sub, name, inst));
    }
    // Instance attributes: self.<name> = value in any method of the class or its bases.
    for (const c of mro) out.push(...this.selfStores(c, name));
    for (const c of mro) for (const a of this.selfAppendExprs(c, name)) out.push(...this.eval(a.m, a.expr));
    // A dataclass field: also what its constructor calls pass for it.
    for (const c of mro) if (this.isFieldClass(c)) for (const a of this.fieldArgumentExprs(c, inst, name)) out.push(...this.eval(a.m, a.expr));
    // A declared class (`self.t: Transport = ...`, `t: Transport` in the class body) says which
    // instances it may hold, whatever the stores the project shows.
    const declared = this.declaredAttrType(mro, name);
    if (declared) out.push(...this.declaredInstances(declared.m, declared.expr));
    if (out.length === 0) {
      const ext = this.extBases(inst)[0];
      if (ext) out.push({ k: "ext", name: `${ext}().${name}` });
    }
    return out;
  }

  /** The annotation declaring attribute `name` in a class of `mro`: a class-body field or `self.name: T = ...`. */
  private declaredAttrType(mro: FnRef[], name: string): { m: number; expr: Expr } | null {
    for (const c of mro) {
      const field = this.scope(c).fields?.find((f) => f.name === name && f.type);
      if (field?.type) return { m: c.m, expr: field.type };
      // The first in scope order, then store order, as a scan of every function's stores finds it.
      for (const { st } of attrStoresNamed(this.modules[c.m], name)) {
        if (st.type && this.isSelfOf(c, st.obj)) return { m: c.m, expr: st.type };
      }
    }
    return null;
  }

  /** A class whose constructor takes its annotated fields (`@dataclass`, a `typing.NamedTuple` subclass). */
  private isFieldClass(cls: FnRef): boolean {
    if (this.extBases(cls).some((b) => b === "typing.NamedTuple" || b === "typing_extensions.NamedTuple")) return true;
    return this.scope(cls).decorators.some((d) => {
      const target = d.t === "call" ? this.modules[cls.m].calls[d.id].fn : d;
      return this.eval(cls.m, target).some((v) => v.k === "ext" && (v.name === "dataclasses.dataclass" || v.name === "pydantic.dataclasses.dataclass"));
    });
  }

  /**
   * The arguments constructor calls of the instance's class pass for field `name` (declared in
   * `cls`): by keyword, or by position where the fields' order is known (those of the project
   * field classes in the MRO, bases first, as dataclasses and NamedTuple number them).
   */
  fieldArgumentExprs(cls: FnRef, inst: FnRef, name: string): { m: number; expr: Expr }[] {
    const sc = this.scope(cls);
    const declared = sc.fields?.some((f) => f.name === name) || sc.bindings.some((b) => b.name === name && b.value.t !== "scope");
    if (!declared) return [];
    const order: string[] = [];
    for (const c of [...this.mro(inst)].reverse()) {
      if (!this.isFieldClass(c)) continue;
      for (const f of this.scope(c).fields ?? []) if (!order.includes(f.name)) order.push(f.name);
    }
    const pos = order.indexOf(name);
    const out: { m: number; expr: Expr }[] = [];
    for (const { m, s: id } of this.callsNamed(this.scope(inst).name).slice(0, 200)) {
      const c = this.call(m, id);
      const arg = c.kwargs[name] ?? (pos >= 0 && !c.star ? c.args[pos] : undefined);
      if (!arg || !this.eval(m, c.fn).some((v) => v.k === "class" && v.m === inst.m && v.s === inst.s)) continue;
      out.push({ m, expr: arg });
    }
    return out;
  }

  /** Values stored as self.<name> in the methods of class `cls`. */
  selfStores(cls: FnRef, name: string): Value[] {
    return this.selfStoreExprs(cls, name).flatMap(({ m, expr }) => this.eval(m, expr));
  }

  /** `self.<name> = value` in the methods of `cls`; `elements`: also `self.<name>[k] = value` (the container's elements). */
  selfStoreExprs(cls: FnRef, name: string, elements = true): { m: number; s: number; expr: Expr }[] {
    const out: { m: number; s: number; expr: Expr }[] = [];
    for (const { s, st } of attrStoresNamed(this.modules[cls.m], name)) {
      if (st.element && !elements) continue;
      if (this.isSelfOf(cls, st.obj)) out.push({ m: cls.m, s, expr: st.value });
    }
    return out;
  }

  /**
   * Is `e` the `self` of a method of class `cls` (read in the method, or in a function nested in
   * it: a decorator object's wrapper, a callback defined in a method).
   */
  private isSelfOf(cls: FnRef, e: Expr): boolean {
    if (e.t !== "name" || e.scope < 0) return false;
    const owner = this.modules[cls.m].scopes[e.scope];
    return owner.parent === cls.s && owner.kind === "function" && !owner.isLambda && owner.params[0] === e.name;
  }

  /** Per module: what `name.append(x)` calls put into names (key "scope:name") and into `self.<attr>` containers. */
  private readonly appendIndex = new Map<number, { names: Map<string, Expr[]>; attrs: Map<string, { s: number; obj: Expr; value: Expr }[]> }>();

  private appendsOf(m: number): { names: Map<string, Expr[]>; attrs: Map<string, { s: number; obj: Expr; value: Expr }[]> } {
    let hit = this.appendIndex.get(m);
    if (hit) return hit;
    hit = { names: new Map(), attrs: new Map() };
    for (const c of this.modules[m].calls) {
      if (c.fn.t !== "attr" || !Object.hasOwn(CONTAINER_ADDS, c.fn.attr)) continue;
      const value = c.args[CONTAINER_ADDS[c.fn.attr]];
      if (!value) continue;
      const recv = c.fn.obj;
      if (recv.t === "name" && recv.scope >= 0) {
        const key = `${recv.scope}:${recv.name}`;
        const list = hit.names.get(key) ?? [];
        if (list.length < 32) list.push(value);
        hit.names.set(key, list);
      } else if (recv.t === "attr") {
        const list = hit.attrs.get(recv.attr) ?? [];
        if (list.length < 32) list.push({ s: c.scope, obj: recv.obj, value });
        hit.attrs.set(recv.attr, list);
      }
    }
    this.appendIndex.set(m, hit);
    return hit;
  }

  /** What `name.append(x)` calls (add, insert, extend, appendleft) put into the variable `name` bound in scope `s`. */
  appendedTo(m: number, s: number, name: string): Expr[] {
    return this.appendsOf(m).names.get(`${s}:${name}`) ?? [];
  }

  /** What `self.<name>.append(x)` calls in the methods of class `cls` put into that container. */
  selfAppendExprs(cls: FnRef, name: string): { m: number; s: number; expr: Expr }[] {
    const out: { m: number; s: number; expr: Expr }[] = [];
    for (const a of this.appendsOf(cls.m).attrs.get(name) ?? []) if (this.isSelfOf(cls, a.obj)) out.push({ m: cls.m, s: a.s, expr: a.value });
    return out;
  }

  isStatic(fn: FnRef): boolean {
    return this.scope(fn).decorators.some((d) => d.t === "name" && d.name === "staticmethod");
  }

  /** @property, @functools.cached_property (and their imported spellings). */
  isProperty(fn: FnRef): boolean {
    const decorators = this.scope(fn).decorators;
    if (decorators.length === 0) return false;
    return decorators.some((d) =>
      (d.t === "attr" && (d.attr === "setter" || d.attr === "deleter" || d.attr === "getter")) ||
      this.eval(fn.m, d).some((v) => v.k === "ext" && PROPERTY_DECORATORS.has(v.name)),
    );
  }

  private isPropertySetter(fn: FnRef): boolean {
    return this.scope(fn).decorators.some((d) => d.t === "attr" && (d.attr === "setter" || d.attr === "deleter"));
  }

  isClassMethod(fn: FnRef): boolean {
    return this.scope(fn).decorators.some((d) => d.t === "name" && d.name === "classmethod");
  }

  /** Methods named `name` found on the class of `v` (MRO order), plus subclass overrides when virtual. */
  lookupMethod(v: Value, name: string): FnRef[] {
    if (v.k !== "inst" && v.k !== "class") return [];
    const out: FnRef[] = [];
    for (const val of v.k === "inst" ? this.instAttrMethods(v, name) : this.classAttr(v, name, null)) {
      if (val.k === "fn" || val.k === "bound") out.push({ m: val.m, s: val.s });
    }
    return out;
  }

  private instAttrMethods(inst: Extract<Value, { k: "inst" }>, name: string): Value[] {
    const out: Value[] = [];
    for (const c of this.mro(inst)) {
      const vals = this.ownClassAttr(c, name, inst);
      if (vals.length > 0) {
        out.push(...vals);
        break;
      }
    }
    if (inst.virtual) for (const sub of this.overridingSubclasses(inst)) out.push(...this.ownClassAttr(sub, name, inst));
    return out;
  }

  private baseValues(cls: FnRef): Value[] {
    return this.scope(cls).bases.flatMap((b) => this.eval(cls.m, b));
  }

  /**
   * For memos outside the index: `version` changes whenever what answers may read changes (a
   * module arrives, argument bindings are added, the caches are reset); `blocks` grows whenever an
   * evaluation is cut short (see `blocks`). An answer computed while neither moved reads memoized
   * evaluations alone and, asked again at the same version, would be the same.
   */
  memoState(): { version: number; blocks: number } {
    return { version: this.stateVersion, blocks: this.blocks };
  }

  /**
   * Project classes in method resolution order (depth-first, left to right, no repeats), `cls`
   * first. Memoized (the classes after `cls`) when no evaluation was cut short while computing
   * it: it reads the evaluations of base-class expressions alone.
   */
  mro(cls: FnRef): FnRef[] {
    const hit = this.mroMemo[cls.m][cls.s];
    if (hit && hit.generation === this.generation) return [cls, ...hit.rest];
    const blocks = this.blocks;
    const generation = this.generation;
    const out = this.computeMro(cls);
    if (blocks === this.blocks && generation === this.generation) this.mroMemo[cls.m][cls.s] = { rest: out.slice(1), generation };
    return out;
  }

  private computeMro(cls: FnRef): FnRef[] {
    const out: FnRef[] = [];
    const seen = new Set<string>();
    const visit = (c: FnRef, depth: number) => {
      const key = fnKey(c.m, c.s);
      if (seen.has(key) || depth > 20) return;
      seen.add(key);
      out.push(c);
      for (const b of this.baseValues(c)) if (b.k === "class") visit(b, depth + 1);
    };
    visit(cls, 0);
    return out;
  }

  /** External base classes anywhere in the hierarchy ("threading.Thread", "torch.nn.Module"). */
  extBases(cls: FnRef): string[] {
    const out: string[] = [];
    for (const c of this.mro(cls)) {
      for (const b of this.baseValues(c)) if (b.k === "ext") out.push(b.name);
    }
    return out;
  }

  /** The subclasses whose overrides a virtual instance may run: all of them, or for a declared one those the project creates. */
  private overridingSubclasses(inst: Extract<Value, { k: "inst" }>): FnRef[] {
    const subs = this.allSubclasses(inst);
    return inst.declared ? subs.filter((k) => this.isCreated(k)) : subs;
  }

  /** Project subclasses of `cls`, transitively (at most 64). */
  allSubclasses(cls: FnRef): FnRef[] {
    // Built as modules arrive; evaluating bases may load more, which the loop then covers too.
    const map = this.subclassMap;
    while (this.subclassModules < this.modules.length) {
      const m = this.subclassModules++;
      this.modules[m].scopes.forEach((sc, s) => {
        if (sc.kind !== "class" || sc.bases.length === 0) return;
        for (const b of this.baseValues({ m, s })) {
          if (b.k !== "class") continue;
          const key = fnKey(b.m, b.s);
          let list = map.get(key);
          if (!list) map.set(key, (list = []));
          list.push({ m, s });
        }
      });
    }
    const out: FnRef[] = [];
    const seen = new Set<string>();
    const stack = [cls];
    while (stack.length > 0 && out.length < 64) {
      const c = stack.pop()!;
      for (const sub of this.subclassMap.get(fnKey(c.m, c.s)) ?? []) {
        const key = fnKey(sub.m, sub.s);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(sub);
        stack.push(sub);
      }
    }
    return out;
  }

  // ---- parameters ---------------------------------------------------------------------------

  /** Values a parameter may hold: self/cls for methods, else the arguments of resolved callers. */
  paramValues(fn: FnRef, index: number): Value[] {
    const scope = this.scope(fn);
    const parent = scope.parent >= 0 ? this.modules[fn.m].scopes[scope.parent] : null;
    if (index === 0 && parent?.kind === "class" && !scope.isLambda && !this.isStatic(fn)) {
      return this.isClassMethod(fn)
        ? [{ k: "class", m: fn.m, s: scope.parent }]
        : [{ k: "inst", m: fn.m, s: scope.parent, virtual: true }];
    }
    const out: Value[] = [];
    withLoadReason("parameter values", () => {
      for (const arg of this.paramArguments(fn, index)) out.push(...this.eval(arg.m, arg.expr));
    });
    // The annotation says which class may come in (`t: Transport`), from callers the project
    // shows and from those it does not (a library's users, modules not loaded).
    const ann = scope.paramTypes?.[index];
    if (ann) out.push(...this.declaredInstances(fn.m, ann));
    return out;
  }

  /**
   * The instances an annotation naming a project class stands for: the class and its subclasses
   * that the project creates (rapid type analysis: a constructor call, or the class handed around
   * as a value or registered by a decorator), each marked with the declared class; an instance of
   * the class seen through its hierarchy when none is known to be created.
   */
  declaredInstances(m: number, ann: Expr): Value[] {
    const out: Value[] = [];
    for (const c of this.eval(m, ann)) {
      if (c.k !== "class") continue;
      const declared = { m: c.m, s: c.s };
      const created = [declared, ...this.allSubclasses(declared)].filter((k) => this.isCreated(k));
      if (created.length === 0) out.push({ k: "inst", m: c.m, s: c.s, virtual: true });
      // Many: the declared class seen through the subclasses the project creates (isCreated).
      else if (created.length > 12) out.push({ k: "inst", m: c.m, s: c.s, virtual: true, declared });
      else for (const k of created) out.push({ k: "inst", m: k.m, s: k.s, virtual: false, declared });
    }
    return out;
  }

  /** Class names the project constructs or uses as values, per module scanned so far (rapid type analysis). */
  private readonly createdNames = new Set<string>();
  private createdModules = 0;

  /**
   * Does the project create instances of class `cls`, as far as names tell: its name called
   * (`CudaTransport()`), handed around as a value (`{"cuda": CudaTransport}`, `register(Cls)`,
   * `Impl = Cls`, `return Cls`), or the class decorated (registered by the decorator). Names, not
   * values: a class of the same name elsewhere counts too (more targets, never fewer).
   */
  isCreated(cls: FnRef): boolean {
    while (this.createdModules < this.modules.length) {
      for (const name of createdNamesOf(this.modules[this.createdModules++])) this.createdNames.add(name);
    }
    return this.createdNames.has(this.scope(cls).name);
  }

  /**
   * The argument expressions a parameter may receive (positional or by keyword) at its resolved
   * call sites and spawn bindings: paramValues evaluates them; threads.ts reads them for
   * identities that values do not carry (which queue a parameter is).
   */
  paramArguments(fn: FnRef, index: number): { m: number; expr: Expr }[] {
    const pname = this.scope(fn).params[index];
    if (pname === undefined || pname.startsWith("*")) return [];
    const out: { m: number; expr: Expr }[] = [];
    for (const b of this.bindingsOf(fn)) {
      const pos = index - b.offset;
      const arg = pos >= 0 ? b.args[pos] : undefined;
      if (arg) out.push(arg);
      const kw = b.kwargs[pname];
      if (kw) out.push(kw);
    }
    return out;
  }

  /** Resolved call sites of a function, plus spawn/partial/decorator bindings. */
  private bindingsOf(fn: FnRef): ArgBinding[] {
    // Memoized while the index's state is unchanged (the call sites grow with the modules, the
    // extra bindings with addBinding) and no evaluation was cut short meanwhile (memoState).
    const hit = this.bindingsMemo[fn.m][fn.s];
    if (hit && hit.version === this.stateVersion) return hit.v.slice();
    const version = this.stateVersion;
    const blocks = this.blocks;
    const out = this.computeBindings(fn);
    if (version === this.stateVersion && blocks === this.blocks) this.bindingsMemo[fn.m][fn.s] = { v: out.slice(), version };
    return out;
  }

  private computeBindings(fn: FnRef): ArgBinding[] {
    const scope = this.scope(fn);
    const out: ArgBinding[] = [...(this.extraBindings.get(fnKey(fn.m, fn.s)) ?? [])];
    const isInit = scope.name === "__init__";
    let candidates: FnRef[] = this.callsNamed(scope.name);
    if (isInit && scope.parent >= 0) {
      const cls = this.modules[fn.m].scopes[scope.parent];
      candidates = [...candidates, ...this.callsNamed(cls.name)];
    }
    for (const { m, s: id } of candidates.slice(0, 200)) {
      const c = this.modules[m].calls[id];
      for (const v of this.eval(m, c.fn)) {
        let offset = -1;
        if (v.k === "fn" && v.m === fn.m && v.s === fn.s) offset = 0;
        else if (v.k === "bound" && v.m === fn.m && v.s === fn.s) offset = 1;
        else if (v.k === "class" && isInit && this.lookupMethod(v, "__init__").some((f) => f.m === fn.m && f.s === fn.s)) offset = 1;
        if (offset < 0) continue;
        out.push({
          args: c.args.map((expr) => ({ m, expr })),
          kwargs: Object.fromEntries(Object.entries(c.kwargs).map(([k, expr]) => [k, { m, expr }])),
          offset,
        });
        break;
      }
    }
    return out;
  }

  // ---- call targets -------------------------------------------------------------------------

  /** Project functions a value runs when called. */
  callTargets(v: Value): FnRef[] {
    switch (v.k) {
      case "fn":
      case "bound":
        return [{ m: v.m, s: v.s }];
      case "class":
        return this.lookupMethod(v, "__init__");
      case "inst": {
        const call = this.lookupMethod(v, "__call__");
        if (call.length > 0) return call;
        // torch.nn.Module.__call__ runs forward().
        if (this.extBases(v).some((b) => /^torch\.nn\.(modules\.module\.)?Module$/.test(b))) {
          return this.lookupMethod(v, "forward");
        }
        return [];
      }
      case "partial":
        return v.target.flatMap((t) => this.callTargets(t));
      default:
        return [];
    }
  }

  /**
   * The methods calling an instance of a project class runs when the class (or a project base)
   * defines `__call__` (Python's data model: `obj(x)` is `type(obj).__call__(obj, x)`): a callable
   * object, judged by that method's body like a function. Empty for anything else, and for an
   * nn.Module subclass without its own `__call__` (torch's `__call__` runs `forward`, which the
   * model conventions judge).
   */
  callableObjectMethods(v: Value): FnRef[] {
    return v.k === "inst" ? this.lookupMethod(v, "__call__") : [];
  }

  /**
   * The expressions a value read at `e` may have been written from, other than `e` itself:
   * through the bindings of a name in its scope, a parameter's arguments at resolved call sites,
   * attributes stored on instances (`self.process_func = process_func` in any method of the
   * class or a base), elements, conditional choices and the returns of project factories
   * (`self._sync = self._get_sync_fn()`). For conventions that read how the original was spelled
   * (a model's `forward` handed to a constructor and called later as `self.process_func(x)`).
   */
  originExprs(m: number, e: Expr, limit = 48): { m: number; expr: Expr; from: number }[] {
    const out: { m: number; expr: Expr; from: number }[] = [];
    const seen = new Set<Expr>([e]);
    const queue: { m: number; expr: Expr; depth: number }[] = [{ m, expr: e, depth: 0 }];
    // `from`: the index in `out` of the expression this one was written into (-1: `e` itself).
    let parent = -1;
    const push = (pm: number, expr: Expr, depth: number) => {
      if (seen.has(expr) || seen.size > limit || depth > 8) return;
      seen.add(expr);
      out.push({ m: pm, expr, from: parent });
      queue.push({ m: pm, expr, depth });
    };
    for (let i = 0; i < queue.length; i++) {
      parent = i - 1;
      const { m: qm, expr: x, depth } = queue[i];
      const d = depth + 1;
      switch (x.t) {
        case "name": {
          if (x.scope < 0) break;
          const sc = this.modules[qm].scopes[x.scope];
          for (const b of sc.bindings) if (b.name === x.name) push(qm, b.value, d);
          for (const a of this.appendedTo(qm, x.scope, x.name)) push(qm, a, d);
          const pi = sc.kind === "function" ? paramIndex(sc, x.name) : -1;
          if (pi >= 0) for (const a of this.paramArguments({ m: qm, s: x.scope }, pi)) push(a.m, a.expr, d);
          break;
        }
        case "attr":
          for (const v of this.eval(qm, x.obj)) {
            if (v.k !== "inst") continue;
            for (const c of this.mro(v)) {
              for (const st of this.selfStoreExprs(c, x.attr)) push(st.m, st.expr, d);
              for (const st of this.selfAppendExprs(c, x.attr)) push(st.m, st.expr, d);
              if (this.isFieldClass(c)) for (const a of this.fieldArgumentExprs(c, v, x.attr)) push(a.m, a.expr, d);
            }
          }
          break;
        case "item":
        case "await":
          push(qm, x.of, d);
          break;
        case "op":
          if (x.choice) for (const a of x.args) push(qm, a, d);
          break;
        case "call":
          for (const f of this.calleesOf(qm, x.id)) {
            const sc = this.scope(f);
            if (sc.isGenerator) continue;
            for (const r of sc.returns) push(f.m, r.value, d);
          }
          break;
        default:
          break;
      }
    }
    return out;
  }

  /**
   * The project objects a `for` loop may iterate over itself (not the elements of a container
   * holding them): values modelling a container stand for its elements, so only bindings that
   * produce the object are followed: `self`, a constructor or factory call, names, parameters and
   * attributes written from one. List displays, comprehensions and appended elements are
   * containers: iterating them runs no project `__iter__`.
   */
  iterableObjects(m: number, e: Expr, depth = 0, seen = new Set<Expr>()): Extract<Value, { k: "inst" }>[] {
    if (depth > 8 || seen.has(e) || seen.size > 48) return [];
    seen.add(e);
    const insts = (vals: Value[]) => vals.filter((v): v is Extract<Value, { k: "inst" }> => v.k === "inst");
    const out: Extract<Value, { k: "inst" }>[] = [];
    const d = depth + 1;
    switch (e.t) {
      case "name": {
        if (e.scope < 0) break;
        const sc = this.modules[m].scopes[e.scope];
        const pi = sc.kind === "function" ? paramIndex(sc, e.name) : -1;
        if (pi === 0 && sc.parent >= 0 && this.modules[m].scopes[sc.parent].kind === "class") out.push(...insts(this.paramValues({ m, s: e.scope }, 0)));
        else if (pi >= 0) for (const a of this.paramArguments({ m, s: e.scope }, pi)) out.push(...this.iterableObjects(a.m, a.expr, d, seen));
        for (const b of sc.bindings) if (b.name === e.name) out.push(...this.iterableObjects(m, b.value, d, seen));
        break;
      }
      case "attr":
        for (const v of this.eval(m, e.obj)) {
          if (v.k === "inst") {
            for (const c of this.mro(v)) {
              for (const st of this.selfStoreExprs(c, e.attr, false)) out.push(...this.iterableObjects(st.m, st.expr, d, seen));
            }
          } else if (v.k === "module") {
            for (const b of this.modules[v.m].scopes[0].bindings) if (b.name === e.attr) out.push(...this.iterableObjects(v.m, b.value, d, seen));
          }
        }
        break;
      case "call": {
        const c = this.call(m, e.id);
        for (const v of this.eval(m, c.fn)) {
          if (v.k === "class") out.push({ k: "inst", m: v.m, s: v.s, virtual: false });
          else if (v.k === "fn" || v.k === "bound") {
            const sc = this.scope(v);
            if (!sc.isGenerator) for (const r of sc.returns) out.push(...this.iterableObjects(v.m, r.value, d, seen));
          }
        }
        out.push(...insts(this.returnsReceiver(m, c)));
        break;
      }
      case "item":
        // An element of a container: what the container holds.
        out.push(...insts(this.eval(m, e.of)));
        break;
      case "op":
        if (e.choice) for (const a of e.args) out.push(...this.iterableObjects(m, a, d, seen));
        break;
      case "enter":
        out.push(...insts(this.eval(m, e)));
        break;
      default:
        break;
    }
    return dedupe(out) as Extract<Value, { k: "inst" }>[];
  }

  private extensionModules: Set<string> | null = null;

  /**
   * Modules the project builds as compiled extensions: the `name` of each
   * `torch.utils.cpp_extension.CUDAExtension(...)` (or `CppExtension`, `SyclExtension`) call, as
   * a setup script declares them. They have no Python source: importing one from a project
   * package (`from . import _C`) names the extension, not a missing member.
   */
  compiledExtensions(): Set<string> {
    if (this.extensionModules) return this.extensionModules;
    const out = new Set<string>();
    this.extensionModules = out;
    // The setup script declares them; it is loaded here if it was not already (demand loading).
    withLoadReason("compiled extensions", () => this.byName.get("setup"));
    for (const name of ["CUDAExtension", "CppExtension", "SyclExtension"]) {
      for (const { m, s: id } of this.callsNamed(name)) {
        if (!this.extNames(m, id).some((n) => /^torch\.utils\.cpp_extension\.(CUDA|Cpp|Sycl)Extension$/.test(n))) continue;
        const c = this.call(m, id);
        const arg = c.kwargs.name ?? c.args[0];
        if (arg?.t === "str") out.add(arg.value);
      }
    }
    return out;
  }

  /**
   * Project functions a call site may run. Memoized while no module arrives (the subclasses a
   * virtual receiver may dispatch to, and the classes the project creates, grow with the modules
   * loaded) and no evaluation was cut short while computing it (see `blocks`).
   */
  calleesOf(m: number, id: number): FnRef[] {
    const hit = this.calleesMemo[m][id];
    if (hit && hit.modules === this.modules.length && hit.generation === this.generation) return hit.v.slice();
    const blocks = this.blocks;
    const modules = this.modules.length;
    const generation = this.generation;
    const out = this.computeCallees(m, id);
    if (blocks === this.blocks && modules === this.modules.length && generation === this.generation) this.calleesMemo[m][id] = { v: out.slice(), modules, generation };
    return out;
  }

  private computeCallees(m: number, id: number): FnRef[] {
    const c = this.modules[m].calls[id];
    const out: FnRef[] = [];
    const seen = new Set<string>();
    for (const v of this.eval(m, c.fn)) {
      for (const t of this.callTargets(v)) {
        const key = fnKey(t.m, t.s);
        if (!seen.has(key)) {
          seen.add(key);
          out.push(t);
        }
      }
    }
    return out;
  }

  /**
   * Qualified external names the callee of a call resolves to. Memoized when no evaluation was cut
   * short while computing it (see `blocks`): it reads evaluations alone.
   */
  extNames(m: number, id: number): string[] {
    const hit = this.extNamesMemo[m][id];
    if (hit && hit.generation === this.generation) return hit.v.slice();
    const blocks = this.blocks;
    const generation = this.generation;
    const out = this.computeExtNames(m, id);
    if (blocks === this.blocks && generation === this.generation) this.extNamesMemo[m][id] = { v: out.slice(), generation };
    return out;
  }

  private computeExtNames(m: number, id: number): string[] {
    const out: string[] = [];
    for (const v of this.eval(m, this.modules[m].calls[id].fn)) {
      if (v.k === "ext") out.push(v.name);
      else if (v.k === "class") out.push(...this.extBases(v).map((b) => b));
    }
    return out;
  }
}

/** Module names -> index, loading a missing name's files once (the loader adds them to `plain`). */
class LoadingMap {
  readonly plain = new Map<string, number>();
  private readonly asked = new Set<string>();
  constructor(private readonly loadName: (name: string) => void) {}
  get(name: string): number | undefined {
    const v = this.plain.get(name);
    if (v !== undefined || this.asked.has(name)) return v;
    this.asked.add(name);
    this.loadName(name);
    return this.plain.get(name);
  }
  set(name: string, m: number): void {
    this.plain.set(name, m);
  }
}

/** What calling parse_args() on an ArgumentParser (or a group of one) returns. */
const ARGPARSE_RESULT = /^argparse\.ArgumentParser\(\)\.parse_(known_)?args$/;

/** The attribute an add_argument call stores into: dest=, else the first long option, else the name. */
function argumentDest(c: CallFact): string | null {
  const dest = c.kwargs.dest;
  if (dest?.t === "str") return dest.value;
  const names = c.args.filter((a): a is Extract<Expr, { t: "str" }> => a.t === "str").map((a) => a.value);
  const long = names.find((n) => n.startsWith("--")) ?? names.find((n) => !n.startsWith("-"));
  return long ? long.replace(/^-+/, "").replace(/-/g, "_") : null;
}

type AttrStore = ScopeFact["attrStores"][number];
const storesByAttr = new WeakMap<ModuleFacts, Map<string, { s: number; st: AttrStore }[]>>();
const NO_STORES: { s: number; st: AttrStore }[] = [];

/**
 * The attribute stores (`x.<name> = value`) of a module's functions that store `name`, in scope
 * order, then store order (indexed once per module). The array is shared: do not change it.
 */
function attrStoresNamed(mod: ModuleFacts, name: string): { s: number; st: AttrStore }[] {
  let byAttr = storesByAttr.get(mod);
  if (!byAttr) {
    byAttr = new Map();
    mod.scopes.forEach((sc, s) => {
      if (sc.kind !== "function") return;
      for (const st of sc.attrStores) {
        const list = byAttr!.get(st.attr);
        if (list) list.push({ s, st });
        else byAttr!.set(st.attr, [{ s, st }]);
      }
    });
    storesByAttr.set(mod, byAttr);
  }
  return byAttr.get(name) ?? NO_STORES;
}

const bindingsByName = new WeakMap<ScopeFact, Map<string, Binding[]>>();
const NO_BINDINGS: Binding[] = [];

/**
 * The bindings of `name` in `scope`, in source order (as `scope.bindings.filter((b) => b.name ===
 * name)`, indexed once per scope). The array is shared: do not change it.
 */
export function bindingsNamed(scope: ScopeFact, name: string): Binding[] {
  let byName = bindingsByName.get(scope);
  if (!byName) {
    byName = new Map();
    for (const b of scope.bindings) {
      const list = byName.get(b.name);
      if (list) list.push(b);
      else byName.set(b.name, [b]);
    }
    bindingsByName.set(scope, byName);
  }
  return byName.get(name) ?? NO_BINDINGS;
}

const bareParams = new WeakMap<ScopeFact, string[]>();

/** The position of parameter `name` in `scope.params` (stars stripped: `*args`, `**kw`), or -1. */
export function paramIndex(scope: ScopeFact, name: string): number {
  let bare = bareParams.get(scope);
  if (!bare) {
    bare = scope.params.map((p) => p.replace(/^\*+/, ""));
    bareParams.set(scope, bare);
  }
  return bare.indexOf(name);
}

export function lastName(e: Expr): string | null {
  if (e.t === "name") return e.name;
  if (e.t === "attr") return e.attr;
  return null;
}

// The class names a module creates or hands around (ProjectIndex.isCreated), once per facts object:
// facts do not change once made, and the language server keeps them between lints.
const createdMemo = new WeakMap<ModuleFacts, readonly string[]>();

function createdNamesOf(mod: ModuleFacts): readonly string[] {
  const hit = createdMemo.get(mod);
  if (hit) return hit;
  const names = new Set<string>();
  const note = (e: Expr | undefined) => {
    if (!e) return;
    if (e.t === "name" || e.t === "attr") names.add(e.t === "name" ? e.name : e.attr);
    else if (e.t === "seq" || (e.t === "op" && e.choice)) for (const x of e.t === "seq" ? e.items : e.args) note(x);
  };
  for (const c of mod.calls) {
    const last = lastName(c.fn);
    if (last === "isinstance" || last === "issubclass") continue;
    if (last) names.add(last);
    c.args.forEach(note);
    Object.values(c.kwargs).forEach(note);
  }
  for (const sc of mod.scopes) {
    for (const b of sc.bindings) if (b.value.t !== "import" && b.value.t !== "scope") note(b.value);
    for (const st of sc.attrStores) note(st.value);
    for (const r of sc.returns) note(r.value);
    if (sc.kind === "class" && sc.decorators.length > 0) names.add(sc.name);
  }
  const out = [...names];
  createdMemo.set(mod, out);
  return out;
}
