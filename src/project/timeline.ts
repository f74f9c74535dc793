// The ordered timeline of one function: device work, waits, clock reads and hand-overs, read by
// MPS004 (work, waits, clocks), MPS002 (work, queued copies, waits, publish items) and MPS007
// (waits and completion checks between an Event's record and its read).
//
// A function's calls and bindings are put in order of evaluation and classified: device work
// (DeviceFlow's evidence), waits for the device (each with its kind, WaitVia, and the backends it
// runs for: every rule decides which kinds complete the work it looks at), `ev.query()`
// completion checks, device work that is no compute (queued copies), device values handed to
// another thread (publish items), and clock reads. Clock reads are direct (`time.perf_counter()`), through a project helper that
// returns one, or through a timer object: a class whose method stores a clock read on `self`
// (`__enter__`, `start()`, `__init__`) and another method that reads the clock again and uses
// that attribute (`__exit__`, `stop()`); `@contextlib.contextmanager` generators that read the
// clock before and after `yield` count too. A timed region runs from an opening read to the
// next closing read in the same function.

import { walkExpr } from "../facts/queries.js";
import type { CallFact, Expr, GuardTest, ModuleFacts } from "../facts/model.js";
import { coversAllPaths, splitTop } from "./paths.js";
import type { Value } from "./values.js";
import type { Summaries } from "./fixpoint.js";
import { fnKey } from "./ids.js";
import { lastName, type FnRef } from "./index.js";
import { fnSummary, nearestSummary, reachSummary, type Nearest } from "./summaries.js";
import type { FlowCtx } from "./deviceflow.js";
import type { ProjectCore } from "./core.js";
import {
  ALLOCATION_FUNCTIONS,
  BARRIER_METHOD,
  HOST_COPY_METHODS,
  NOT_DEVICE_WORK,
  TENSOR_METHODS,
  TRUTH_REDUCTIONS,
  CLOCKS,
  HOST_BUILTINS,
  HOST_RESULT_CALLS,
  HOST_TORCH,
  LOAD_CONSTRUCTORS,
  LOAD_FUNCTIONS,
  METADATA_METHODS,
  NO_WEIGHTS_CLASS,
  MODULE_STATE_METHODS,
  OTHER_WAITS,
  PUBLISH_METHODS,
  THREAD_WAIT_FUNCTIONS,
  THREAD_WAITS,
  TRANSFER_METHODS,
  UPLOAD_FUNCTIONS,
  VIEW_METHODS,
  WRAPPER_FUNCTIONS,
} from "./vocabulary.js";

/** A condition that names a backend, also inside a name (`use_cuda`, `is_mps`, `args.cuda`). */
const NAMES_BACKEND = /(?<![A-Za-z0-9])(mps|cuda|xpu|hpu|npu|gpu|accelerator)(?![A-Za-z0-9])/i;

/** The conjuncts of a condition's text: split on `and` outside brackets and strings (`not (...)` stays whole). */
const conjuncts = (g: string): string[] => splitTop(g, "and");

/** The last names a call of a clock in CLOCKS spells (`perf_counter()`, `time.time()`). */
const CLOCK_LAST_NAMES = new Set([...CLOCKS].map((n) => n.slice(n.lastIndexOf(".") + 1)));

export const BACKENDS = ["mps", "cuda", "xpu", "hpu", "npu"] as const;
/** Backends a wait runs for: "all", or only those named by the condition around it. */
export type Coverage = "all" | Set<string>;

export type Item =
  | {
      k: "work";
      end: number;
      loop: boolean;
      row: number;
      what: string;
      note?: string;
      /** Under a condition of this function that names no backend: some paths do not queue it. */
      conditional?: boolean;
      /** As for waits: the conditions deciding the paths it is queued on (absent: every path). */
      pathGuards?: string[];
    }
  /** Reading a checkpoint (LOAD_FUNCTIONS), itself or through a project loader: host work that ends with the data in place. */
  | { k: "load"; end: number; loop: boolean; row: number; what: string }
  | {
      k: "sync";
      end: number;
      loop: boolean;
      row: number;
      what: string;
      coverage: Coverage;
      guard: string | null;
      /** Under a condition of this function that names no backend (`if not warm:`): may not run. */
      conditional: boolean;
      /**
       * The conditions of this function that decide whether the wait runs on a given path (those
       * that name no backend and that no constant decides), innermost first: a timing is waited
       * for only where its closing read runs under them too (see TimingAnalysis.pathGuards).
       */
      pathGuards: string[];
      /** Conditions around it that the device strings the code sets make always true (for dumps). */
      decided?: string[];
      /** Every condition it runs under (conjuncts, those no constant decides), backend ones too. */
      allGuards: string[];
      /** A call of a function that waits only on some paths (a callee's conditional wait): covers nothing. */
      partial: boolean;
      /** What kind of wait it is: each rule decides which kinds complete the work it looks at (see WaitVia). */
      via: WaitVia;
    }
  /**
   * Device work that timing does not count as compute (a copy to the device, an allocation, a
   * view, a callee that only moves data or loads a checkpoint onto the device): still queued on
   * the stream, so a hand-over to another thread must wait for it (MPS002), while a timed region
   * around it measures no kernel (MPS004 ignores it). Only in a timeline built without a span.
   */
  | { k: "queued"; end: number; loop: boolean; row: number; what: string }
  /** `ev.query()`: tells whether the work before it is done without waiting (a completion check for MPS007 only). */
  | { k: "check"; end: number; loop: boolean; row: number; what: string }
  /**
   * A device value handed to code that may run on another thread: returned, put on a queue,
   * set as a future's result, appended or sent to a container the function does not own.
   * Only in a timeline built without a span.
   */
  | { k: "publish"; end: number; loop: boolean; row: number; what: string; via: PublishVia; at: number }
  | {
      k: "clock";
      end: number;
      call: number;
      /** The name the read is stored in (`t0`, `.start` for self.start), when it is. */
      into: string | null;
      open: boolean;
      close: boolean;
      /** Waits the clock read does itself before reading (a timer's stop() that syncs). */
      before: Wait[];
      what: string;
      /**
       * For a plain clock read that ends an interval (`time.perf_counter() - t0`, `t1` of a
       * later `t1 - t0`): the name the start is kept in (`t0`, `.t0` for self.t0). The timing
       * starts at the last read kept in that name; null for timers, whose start is the last
       * opening read.
       */
      start: string | null;
      /** A plain read (`time.perf_counter()`, a clock alias): its use decides whether it ends an interval. */
      plain: boolean;
    };

/**
 * The kind of a wait item. "device": a device or event/stream sync, or a host copy of a tensor
 * (`.item()`, `.cpu()`); "host": a torch or builtin call that reads a device value on the host
 * (`torch.allclose`, `float(t)`); "truth": a device value's truth tested on the host; "callee": a
 * project function that waits for the device (its sync, certain or not); these four wait for
 * this thread's queued work. "other": a wait outside torch (`mx.eval`), "barrier": a
 * collective barrier, "thread": blocking on another thread, "callee-other": a project function
 * that waits only in one of those ways: none of them completes this thread's device work.
 */
export type WaitVia = "device" | "host" | "truth" | "callee" | "other" | "barrier" | "thread" | "callee-other";

/** Waits that complete the device work this thread queued before them. */
export const COMPLETES_OWN_WORK: ReadonlySet<WaitVia> = new Set(["device", "host", "truth", "callee"]);

/** How a device value is published: returned, or handed over by a call (a queue put, a future's result, a shared container). */
export type PublishVia = "return" | "call";

/** Merge coverages: a union of backends, "all" absorbing. */
export function unionCoverage(a: Coverage, b: Coverage): Coverage {
  if (a === "all" || b === "all") return "all";
  return new Set([...a, ...b]);
}

function intersect(a: Coverage, b: Coverage): Coverage {
  if (a === "all") return b;
  if (b === "all") return a;
  return new Set([...a].filter((x) => b.has(x)));
}

/** Backends the innermost backend-naming condition restricts a call to ("all" when none). */
export function guardCoverage(guards: string[]): { coverage: Coverage; guard: string | null } {
  for (const g of guards) {
    if (/^\s*not\b|!=|\bnot\s+in\b/.test(g)) continue;
    const named = BACKENDS.filter((b) => new RegExp(`\\b${b}\\b`).test(g));
    if (named.length > 0) return { coverage: new Set(named), guard: g };
  }
  return { coverage: "all", guard: null };
}

/**
 * How a function waits, for its callers: whether it queues work, whether some path through it
 * does not wait (its waits are conditional, or it has none), and whether it may queue work after
 * its last unconditional wait ("waits, then queues more"). A caller's timing is covered by a call
 * only when the callee always waits; work the callee queues after that wait is still queued.
 */
export interface WaitShape {
  work: boolean;
  /** Some wait, certain or not, is on its timeline: a function without one never waits. */
  waits: boolean;
  mayNotWait: boolean;
  /** Work queued on every path after its last certain wait. */
  workAfterWait: boolean;
  /** Work queued on every path after it last reads a checkpoint (a warm-up forward after loading). */
  workAfterLoad: boolean;
}

/**
 * Is the call under a condition that may skip it on an accelerator: one that names no backend
 * (`if not warm:`, `if self.graph is None:`). Conditions that name a backend restrict it to that
 * backend (coverage); one that only excludes the CPU (`if device.type != "cpu":`) runs it on
 * every accelerator.
 */
function underCondition(guards: string[]): boolean {
  const negated = (g: string) => /^\s*not\b|!=|\bnot\s+in\b/.test(g);
  const namesBackend = (g: string) => BACKENDS.some((b) => new RegExp(`\\b${b}\\b`).test(g));
  const excludesCpu = (g: string) => negated(g) && /\bcpu\b/.test(g);
  return guards.some((g) => !excludesCpu(g) && (negated(g) || !namesBackend(g)));
}

export interface Wait {
  what: string;
  coverage: Coverage;
  guard: string | null;
}

interface Profile {
  /** A clock alias (`return time.perf_counter()`): opens a region when its result is kept. */
  alias: boolean;
  open: boolean;
  close: boolean;
  before: Wait[];
}

export class TimingAnalysis {
  private readonly profiles = new Map<string, Profile | null>();
  private decorated: Map<string, FnRef[]> | null = null;
  /** Backends for which a function that waits somewhere waits (union over its wait sites). */
  private readonly coverage: Summaries<FnRef, Coverage>;
  /** The nearest condition that restricts a function's waits to some backends. */
  private readonly guards: Summaries<FnRef, Nearest<string> | null>;
  /** Does a function call a wait outside torch (OTHER_WAITS), itself or through project callees. */
  private readonly otherWaits: Summaries<FnRef, boolean>;
  /** Does a function block on another thread, itself or through project callees. */
  private readonly threadWaits: Summaries<FnRef, boolean>;
  /** How a function waits and works, itself or through project callees (its timeline). */
  private readonly shapes: Summaries<FnRef, WaitShape>;
  /** Does a function read a checkpoint (LOAD_FUNCTIONS, LOAD_CONSTRUCTORS), itself or through project callees. */
  private readonly loads: Summaries<FnRef, boolean>;

  constructor(private readonly project: ProjectCore) {
    const idx = project.index;
    const sync = project.sync;
    this.coverage = fnSummary<Coverage>(idx, {
      bottom: new Set(),
      join: unionCoverage,
      equal: (a, b) => a === b || (a !== "all" && b !== "all" && a.size === b.size && [...a].every((x) => b.has(x))),
      transfer: (fn, get) => {
        let cov: Coverage = new Set();
        for (const call of idx.callsIn(fn)) {
          const g = guardCoverage(idx.call(fn.m, call).guards).coverage;
          if (sync.isAnySync(fn.m, call)) cov = unionCoverage(cov, g);
          else for (const t of idx.calleesOf(fn.m, call)) if (sync.functionSyncs(t)) cov = unionCoverage(cov, intersect(g, get(t)));
          if (cov === "all") break;
        }
        return cov;
      },
    });
    // Only the waits followed by coverage (a call's own condition, else its callee's) are looked at.
    this.guards = nearestSummary<string>(
      idx,
      (fn, call, c) => {
        const g = guardCoverage(c.guards).guard;
        if (g === null) return null;
        return sync.isAnySync(fn.m, call) || idx.calleesOf(fn.m, call).some((t) => sync.functionSyncs(t)) ? g : null;
      },
      { enter: (t) => sync.functionSyncs(t) },
    );
    this.otherWaits = reachSummary(idx, (m, call) => idx.extNames(m, call).some((n) => OTHER_WAITS.has(n)));
    this.threadWaits = reachSummary(idx, (m, call) => this.isThreadWait(m, call));
    this.loads = reachSummary(idx, (m, call) => this.isLoadCall(m, call));
    // Bottom says "always waits" for mayNotWait (a must-property), so a recursive call is a wait
    // only once the callee is known to wait somewhere (`waits`, a may-property from false):
    // `find_layers` calling itself and nothing else never waits.
    this.shapes = fnSummary<WaitShape>(idx, {
      bottom: { work: false, waits: false, mayNotWait: false, workAfterWait: false, workAfterLoad: false },
      join: (a, b) => ({
        work: a.work || b.work,
        waits: a.waits || b.waits,
        mayNotWait: a.mayNotWait || b.mayNotWait,
        workAfterWait: a.workAfterWait || b.workAfterWait,
        workAfterLoad: a.workAfterLoad || b.workAfterLoad,
      }),
      equal: (a, b) =>
        a.work === b.work && a.waits === b.waits && a.mayNotWait === b.mayNotWait && a.workAfterWait === b.workAfterWait && a.workAfterLoad === b.workAfterLoad,
      transfer: (fn) => {
        const items = this.timeline(fn);
        let lastWait = -1;
        let lastLoad = -1;
        items.forEach((it, i) => {
          if (it.k === "sync" && !it.conditional && !it.partial) lastWait = i;
          if (it.k === "load") lastLoad = i;
        });
        // Conditional waits that together cover every path (an if/else that waits in each arm)
        // make the function always wait, from the last of them on.
        const conditionalWaits = items.flatMap((it, i) => (it.k === "sync" && it.conditional && !it.partial && i > lastWait ? [{ it, i }] : []));
        if (conditionalWaits.length > 1 && coversAllPaths(conditionalWaits.map((w) => w.it.allGuards), [])) {
          lastWait = conditionalWaits[conditionalWaits.length - 1].i;
        }
        return {
          work: items.some((it) => it.k === "work"),
          waits: items.some((it) => it.k === "sync"),
          mayNotWait: lastWait < 0,
          // Work after the last wait under a condition naming no backend (`if warmup: ...`) may
          // not run: a caller's timing is reported only for work every path leaves queued.
          workAfterWait: items.some((it, i) => it.k === "work" && i > lastWait && !it.conditional),
          // Loading under a condition (`if safetensors: ... else: torch.load(...)`) is still what the function does.
          workAfterLoad: lastLoad >= 0 && items.some((it, i) => it.k === "work" && i > lastLoad && !it.conditional),
        };
      },
      alsoReads: (fn) => idx.callsIn(fn).flatMap((call) => this.decoratedTargets(fn.m, idx.call(fn.m, call))),
    });
  }

  private readsClock: boolean | null = null;

  /** Does any module import `time` or `timeit` (cheap gate before any timeline is built). */
  projectReadsClock(): boolean {
    if (this.readsClock === null) {
      this.readsClock = this.project.index.modules.some((mod) =>
        mod.scopes.some((sc) => sc.bindings.some((b) => b.value.t === "import" && /^(time|timeit)$/.test(b.value.module))),
      );
    }
    return this.readsClock;
  }

  /** Names a clock read may be called by: CLOCK_LAST_NAMES and names bound to them (`pc = time.perf_counter`). */
  private readonly clockNames = new Set(CLOCK_LAST_NAMES);
  /** Names of project clock helpers and timer classes (called as `name()` or `mod.name()`). */
  private readonly helperNames = new Set<string>();
  /** Names of timer methods (called as `obj.name()` only). */
  private readonly timerMethods = new Set<string>();
  private namedModules = 0;

  /**
   * Can function `fn` read the clock, directly or through a helper or timer (a cheap, syntactic
   * superset of the clock items its timeline would have): the rule builds timelines only where
   * this holds, since building one resolves every call in the function and what it calls.
   * Every clock helper and timer method itself calls a clock (see computeProfile), so a function
   * that spells neither a clock nor such a helper's name has no clock item.
   */
  mayTime(fn: FnRef): boolean {
    const idx = this.project.index;
    // Modules loaded since the last ask (demand loading) add their aliases and helpers.
    while (this.namedModules < idx.modules.length) {
      const mod = idx.modules[this.namedModules++];
      for (let pass = 0; pass < 2; pass++) {
        for (const sc of mod.scopes) {
          for (const b of sc.bindings) {
            const v = b.value;
            const last = v.t === "import" ? (v.name ?? v.module.slice(v.module.lastIndexOf(".") + 1)) : lastName(v);
            if (last !== null && this.clockNames.has(last)) this.clockNames.add(b.name);
          }
        }
      }
      this.addHelperNames(mod);
    }
    return idx.callsIn(fn).some((id) => this.mayReadClock(fn.m, id));
  }

  /** Can this call be a clock item (a read, a helper, a timer method, entering or leaving a `with`). */
  private mayReadClock(m: number, id: number): boolean {
    const callee = this.project.index.call(m, id).fn;
    const last = lastName(callee);
    if (last === null) return false;
    if (this.clockNames.has(last) || this.helperNames.has(last)) return true;
    if (callee.t !== "attr") return false;
    if (this.timerMethods.has(last)) return true;
    // `with timer():` (a `@contextmanager` helper): entering and leaving the block are its clock reads.
    return (last === "__enter__" || last === "__exit__") && callee.obj.t === "call" && this.mayReadClock(m, callee.obj.id);
  }

  /**
   * Source offsets from the first call of `fn` that may read the clock to the last: outside
   * them no timed region can lie, so the rule's timeline need not classify those calls (each
   * classification may explore what the callee does, deep into the project).
   */
  timedSpan(fn: FnRef): { from: number; to: number } | null {
    const idx = this.project.index;
    let from = Infinity;
    let to = -Infinity;
    for (const id of idx.callsIn(fn)) {
      if (!this.mayReadClock(fn.m, id)) continue;
      const end = idx.call(fn.m, id).end;
      from = Math.min(from, end);
      to = Math.max(to, end);
    }
    return from <= to ? { from, to } : null;
  }

  /** Calls whose result is kept (`t0 = time.perf_counter()`, `self.t0 = ...`), with the name or `.attr` kept in: clock reads that open a region. */
  private keptCalls(fn: FnRef): Map<number, string> {
    const scope = this.project.index.scope(fn);
    const boundTo = new Map<number, string>();
    for (const b of scope.bindings) if (b.value.t === "call") boundTo.set(b.value.id, b.name);
    for (const st of scope.attrStores) if (st.value.t === "call") boundTo.set(st.value.id, `.${st.attr}`);
    return boundTo;
  }

  /**
   * The timed regions of `fn` within `span`: from each closing clock read back to the read that
   * opens it, paired as MPS004 pairs them (the last opening read kept in the subtracted name, or
   * for a timer the last opening read; a restart of the same timer is no timing). Found from the
   * clock reads alone (clockItem, intervalEnd): the calls between two deadline checks
   * (`time.time() - t > limit`) lie in no region, so the timeline need not classify them, which
   * would explore what each callee does, deep into the project.
   */
  timedRegions(fn: FnRef, span: { from: number; to: number }): { from: number; to: number }[] {
    const idx = this.project.index;
    const mod = idx.modules[fn.m];
    const boundTo = this.keptCalls(fn);
    const clocks: Extract<Item, { k: "clock" }>[] = [];
    for (const id of idx.callsIn(fn)) {
      const c = mod.calls[id];
      if (c.end < span.from || c.end > span.to || !this.mayReadClock(fn.m, id)) continue;
      const it = this.clockItem(fn, id, c, boundTo.get(id) ?? null);
      if (it !== null && it.k === "clock") clocks.push(it);
    }
    clocks.sort((a, b) => a.end - b.end);
    for (const it of clocks) if (it.plain) this.intervalEnd(fn, it);
    const out: { from: number; to: number }[] = [];
    clocks.forEach((close, j) => {
      if (!close.close) return;
      let i = j - 1;
      while (i >= 0 && !(clocks[i].open && (close.start === null || clocks[i].into === close.start))) i--;
      if (i < 0) return;
      if (close.into !== null && close.into === clocks[i].into) return;
      out.push({ from: clocks[i].end, to: close.end });
    });
    return out;
  }

  /**
   * Names under which a module's clock helpers are called, mirroring computeProfile and
   * contextTimer: a function returning a clock read (or a difference with one), a generator
   * reading the clock twice (`@contextmanager`), and the methods of a timer class (one stores
   * a clock read on `self`; its methods that read the clock), with the class's name when
   * `__init__` opens the timer.
   */
  private addHelperNames(mod: ModuleFacts): void {
    const clockCalls = new Map<number, Set<number>>();
    mod.calls.forEach((c, id) => {
      const last = lastName(c.fn);
      if (last === null || !this.clockNames.has(last)) return;
      let set = clockCalls.get(c.scope);
      if (!set) clockCalls.set(c.scope, (set = new Set()));
      set.add(id);
    });
    if (clockCalls.size === 0) return;
    const isClockExpr = (e: Expr, ids: Set<number>): boolean =>
      (e.t === "call" && ids.has(e.id)) || (e.t === "op" && e.args.some((a) => isClockExpr(a, ids)));
    const timerClasses = new Set<number>();
    for (const [s, ids] of clockCalls) {
      const sc = mod.scopes[s];
      if (sc.kind !== "function") continue;
      if (sc.returns.some((r) => isClockExpr(r.value, ids)) || (sc.isGenerator && ids.size >= 2)) {
        (sc.parent > 0 && mod.scopes[sc.parent].kind === "class" ? this.timerMethods : this.helperNames).add(sc.name);
      }
      const kept = new Set(sc.bindings.filter((b) => isClockExpr(b.value, ids)).map((b) => b.name));
      const storesOnSelf = sc.attrStores.some((st) => isClockExpr(st.value, ids) || (st.value.t === "name" && kept.has(st.value.name)));
      if (storesOnSelf && sc.parent > 0 && mod.scopes[sc.parent].kind === "class") timerClasses.add(sc.parent);
    }
    for (const [s] of clockCalls) {
      const sc = mod.scopes[s];
      if (sc.kind !== "function" || !timerClasses.has(sc.parent)) continue;
      // A timer opened by its constructor is called by the class's name (`t = Timer()`).
      if (sc.name === "__init__") this.helperNames.add(mod.scopes[sc.parent].name);
      else this.timerMethods.add(sc.name);
    }
  }

  // ---- conditions decided by device strings -------------------------------------------------

  /**
   * Does a constant decide test `t` (read in module `m`): true or false for every combination of
   * the strings its operands may hold (`device = "cuda" if cuda else "cpu"` then `if "privateuseone"
   * not in str(device):` is always true); null when an operand is not known to be strings.
   */
  decide(m: number, t: GuardTest): boolean | null {
    const left = this.strings(m, t.left, 0);
    if (left === null) return null;
    let results: boolean[];
    if (t.op === "truthy") results = left.map((v) => v.length > 0);
    else {
      if (!t.right) return null;
      const right = t.right.t === "seq" && (t.op === "in" || t.op === "not in") ? this.seqStrings(m, t.right) : this.strings(m, t.right, 0);
      if (right === null) return null;
      results = [];
      for (const a of left) {
        for (const b of right) {
          switch (t.op) {
            case "==":
            case "is":
              results.push(a === b);
              break;
            case "!=":
            case "is not":
              results.push(a !== b);
              break;
            case "in":
              results.push(t.right.t === "seq" ? right.includes(a) : b.includes(a));
              break;
            case "not in":
              results.push(t.right.t === "seq" ? !right.includes(a) : !b.includes(a));
              break;
          }
        }
      }
    }
    if (results.length === 0) return null;
    const value = results.every((x) => x) ? true : results.every((x) => !x) ? false : null;
    return value === null ? null : value !== t.negated;
  }

  private seqStrings(m: number, e: Extract<Expr, { t: "seq" }>): string[] | null {
    const out: string[] = [];
    for (const item of e.items) {
      if (item.t !== "str") return null;
      out.push(item.value);
    }
    return out;
  }

  /** The strings an expression may evaluate to, when it evaluates to strings only: literals, names bound to them, `str(x)`, `x.type` of a device string. */
  private strings(m: number, e: Expr, depth: number): string[] | null {
    if (depth > 4) return null;
    const idx = this.project.index;
    if (e.t === "str") return [e.value];
    if (e.t === "call") {
      const c = idx.call(m, e.id);
      if (c.args.length === 1 && idx.extNames(m, e.id).includes("builtins.str")) return this.strings(m, c.args[0], depth + 1);
    }
    if (e.t === "attr" && e.attr === "type") {
      const of = this.strings(m, e.obj, depth + 1);
      return of && of.every((v) => /^[a-z]+(:\d+)?$/.test(v)) ? of.map((v) => v.split(":")[0]) : null;
    }
    const vals = idx.eval(m, e);
    if (vals.length === 0 || vals.some((v) => v.k !== "str")) return null;
    return vals.map((v) => (v as { value: string }).value);
  }

  /** The call's conditions, without those a constant decides true. */
  effectiveGuards(m: number, c: CallFact): string[] {
    if (!c.tests) return c.guards;
    return c.guards.filter((_, i) => {
      const t = c.tests?.[i];
      return !t || this.decide(m, t) !== true;
    });
  }

  /** Is the call under a condition a constant decides false (it never runs). */
  neverRuns(m: number, c: CallFact): boolean {
    return !!c.tests && c.tests.some((t) => t !== null && this.decide(m, t) === false);
  }

  /**
   * The conditions under which the call runs that decide paths rather than backends: those that
   * name no backend (`if step % k == 0:`, `if warm:`, not `if use_cuda:` or `if device != "cpu":`)
   * and that no constant decides.
   */
  pathGuards(m: number, c: CallFact): string[] {
    // `a and b` holds where both hold: its conjuncts are the conditions (the closing read under
    // `RANK in {-1, 0} and final_epoch` runs where a wait under `RANK in {-1, 0}` does).
    return this.effectiveGuards(m, c)
      .flatMap(conjuncts)
      .filter((g) => !NAMES_BACKEND.test(g) && !(/^\s*not\b|!=|\bnot\s+in\b/.test(g) && /\bcpu\b/.test(g)));
  }

  isClock(m: number, call: number): boolean {
    return this.project.index.extNames(m, call).some((n) => CLOCKS.has(n));
  }

  // ---- what project functions do ----------------------------------------------------------

  /** Backends for which a function that waits somewhere waits (union over its wait sites). */
  functionCoverage(fn: FnRef): Coverage {
    return this.coverage.get(fn);
  }

  /** The condition that restricts a function's waits to some backends, for messages. */
  restrictingGuard(fn: FnRef): string | null {
    return this.guards.get(fn)?.site ?? null;
  }

  /** Does the call block until another thread hands something over (see THREAD_WAITS). */
  isThreadWait(m: number, id: number): boolean {
    const idx = this.project.index;
    const c = idx.call(m, id);
    // `wait(fs)` imported, or `concurrent.futures.wait(fs)` / `cf.wait(fs)` through the module.
    if (idx.extNames(m, id).some((n) => THREAD_WAIT_FUNCTIONS.has(n))) return true;
    if (c.fn.t !== "attr") return false;
    const types = Object.hasOwn(THREAD_WAITS, c.fn.attr) ? THREAD_WAITS[c.fn.attr] : null;
    if (!types) return false;
    // Other processes cannot wait for this process's device work.
    return idx.eval(m, c.fn.obj).some((v) => (v.k === "extinst" || v.k === "ext") && types.test(v.name) && !/Process/.test(v.name));
  }

  /** Does a project function call a wait outside torch (OTHER_WAITS), itself or through project callees. */
  waitsOtherwise(fn: FnRef): boolean {
    return this.otherWaits.get(fn);
  }

  /**
   * Does the call read a checkpoint: a LOAD_FUNCTIONS call, or a LOAD_CONSTRUCTORS method of a
   * class outside the project (`AutoModel.from_pretrained(...)`).
   */
  isLoadCall(m: number, id: number): boolean {
    const idx = this.project.index;
    const names = idx.extNames(m, id);
    if (names.some((n) => LOAD_FUNCTIONS.has(n))) return true;
    const c = idx.call(m, id);
    if (c.fn.t !== "attr" || !LOAD_CONSTRUCTORS.test(c.fn.attr) || idx.calleesOf(m, id).length > 0) return false;
    // `AutoConfig.from_pretrained(...)`, `AutoTokenizer.from_pretrained(...)` read JSON and vocabularies, no weights.
    return names.length > 0 && names.every((n) => !NO_WEIGHTS_CLASS.test(n.slice(0, n.lastIndexOf("."))));
  }

  /** Does a project function read a checkpoint, itself or through project callees. */
  loadsCheckpoint(fn: FnRef): boolean {
    return this.loads.get(fn);
  }

  /** Does a project function block on another thread (itself or through project callees). */
  blocksOnThread(fn: FnRef): boolean {
    return this.threadWaits.get(fn);
  }

  /**
   * Does a project function queue device compute (itself or through project callees): what its
   * own timeline counts as work. Moving data to the device, loading a state dict or switching
   * a module to eval() is not compute: a helper that only loads a model is not timed work.
   */
  doesDeviceWork(fn: FnRef): boolean {
    return this.shapes.get(fn).work;
  }

  private readonly paramWorkCache = new Map<string, Set<number>>();

  /**
   * Parameters of `fn` its own body computes on: passed to a torch operator, or the receiver of a
   * tensor method that queues a kernel, or an operand of arithmetic (not a view, copy, cast or
   * metadata read). Such a function does device work when its caller hands it a device tensor.
   */
  private paramWork(fn: FnRef): Set<number> {
    const key = fnKey(fn.m, fn.s);
    const hit = this.paramWorkCache.get(key);
    if (hit) return hit;
    const idx = this.project.index;
    const sc = idx.scope(fn);
    const out = new Set<number>();
    this.paramWorkCache.set(key, out);
    if (sc.kind !== "function") return out;
    const param = (e: Expr) => (e.t === "name" && e.scope === fn.s ? sc.params.findIndex((p) => p.replace(/^\*+/, "") === e.name) : -1);
    const note = (e: Expr) => {
      const i = param(e);
      if (i >= 0) out.add(i);
    };
    for (const id of idx.callsIn(fn)) {
      const c = idx.call(fn.m, id);
      if (c.fn.t === "attr" && TENSOR_METHODS.has(c.fn.attr) && !VIEW_METHODS.has(c.fn.attr) && !TRANSFER_METHODS.has(c.fn.attr) && !METADATA_METHODS.has(c.fn.attr) && !HOST_COPY_METHODS.has(c.fn.attr)) note(c.fn.obj);
      const names = idx.extNames(fn.m, id);
      const op = names.some((n) => n.startsWith("torch.") && !n.includes("().") && !NOT_DEVICE_WORK.test(n) && !UPLOAD_FUNCTIONS.has(n) && !ALLOCATION_FUNCTIONS.has(n) && !WRAPPER_FUNCTIONS.has(n));
      if (op) {
        c.args.forEach(note);
        Object.values(c.kwargs).forEach(note);
      }
    }
    const arithmetic = (e: Expr) => {
      if (e.t === "op" && !e.choice) for (const a of e.args) note(a);
    };
    sc.bindings.forEach((b) => arithmetic(b.value));
    sc.returns.forEach((r) => arithmetic(r.value));
    return out;
  }

  /** Does the call hand project function `t` a device tensor for a parameter `t` computes on. */
  private computesOnDeviceArgument(t: FnRef, c: CallFact, vals: Value[], isDevice: (e: Expr) => boolean): boolean {
    const work = this.paramWork(t);
    if (work.size === 0) return false;
    const params = this.project.index.scope(t).params;
    const offset = vals.some((v) => v.k === "bound" && v.m === t.m && v.s === t.s) ? 1 : 0;
    for (const i of work) {
      const arg = c.kwargs[params[i]?.replace(/^\*+/, "") ?? ""] ?? (c.star ? undefined : c.args[i - offset]);
      if (arg && isDevice(arg)) return true;
    }
    return false;
  }

  /** How a project function waits and works (see WaitShape). */
  waitShape(fn: FnRef): WaitShape {
    return this.shapes.get(fn);
  }

  /** Waits in `fn` that complete before offset `end` (a timer method syncing before it reads the clock). */
  private waitsBefore(fn: FnRef, end: number): (Wait & { end: number })[] {
    const idx = this.project.index;
    const out: (Wait & { end: number })[] = [];
    for (const call of idx.callsIn(fn)) {
      const c = idx.call(fn.m, call);
      if (c.end >= end) continue;
      const g = guardCoverage(c.guards);
      if (this.project.sync.isAnySync(fn.m, call)) out.push({ what: `${c.callee}()`, end: c.end, ...g });
      else {
        const t = idx.calleesOf(fn.m, call).find((f) => this.project.sync.functionSyncs(f));
        if (t) {
          const coverage = intersect(g.coverage, this.functionCoverage(t));
          out.push({ what: `${c.callee}()`, end: c.end, coverage, guard: g.guard ?? (coverage === "all" ? null : this.restrictingGuard(t)) });
        }
      }
    }
    return out;
  }

  private clockCalls(fn: FnRef): number[] {
    return this.project.index.callsIn(fn).filter((call) => this.isClock(fn.m, call));
  }

  /** Attributes of `self` that method `fn` sets from a clock read. */
  private clockAttrs(fn: FnRef): string[] {
    const idx = this.project.index;
    const sc = idx.scope(fn);
    const self = sc.params[0];
    if (!self) return [];
    const clocks = new Set(this.clockCalls(fn));
    const clockNames = new Set(sc.bindings.filter((b) => b.value.t === "call" && clocks.has(b.value.id)).map((b) => b.name));
    const out: string[] = [];
    for (const st of sc.attrStores) {
      if (st.obj.t !== "name" || st.obj.name !== self || st.obj.scope !== fn.s) continue;
      const v = st.value;
      if ((v.t === "call" && clocks.has(v.id)) || (v.t === "name" && v.scope === fn.s && clockNames.has(v.name))) out.push(st.attr);
    }
    return out;
  }

  /** Does method `fn` read `self.<attr>` for one of `attrs`. */
  private readsSelfAttr(fn: FnRef, attrs: Set<string>): boolean {
    const idx = this.project.index;
    const facts = idx.modules[fn.m];
    const self = idx.scope(fn).params[0];
    if (!self) return false;
    let found = false;
    const visit = (e: Expr) =>
      walkExpr(e, (x) => {
        if (x.t === "attr" && attrs.has(x.attr) && x.obj.t === "name" && x.obj.name === self && x.obj.scope === fn.s) found = true;
      });
    for (const call of idx.callsIn(fn)) {
      const c = facts.calls[call];
      visit(c.fn);
      c.args.forEach(visit);
      Object.values(c.kwargs).forEach(visit);
    }
    const sc = idx.scope(fn);
    sc.bindings.forEach((b) => visit(b.value));
    sc.returns.forEach((r) => visit(r.value));
    sc.attrStores.forEach((a) => visit(a.value));
    return found;
  }

  /** How calling project function `fn` reads the clock, if it does. */
  profile(fn: FnRef): Profile | null {
    const key = fnKey(fn.m, fn.s);
    if (this.profiles.has(key)) return this.profiles.get(key)!;
    this.profiles.set(key, null);
    const p = this.computeProfile(fn);
    this.profiles.set(key, p);
    return p;
  }

  private computeProfile(fn: FnRef): Profile | null {
    const idx = this.project.index;
    const sc = idx.scope(fn);
    const clocks = this.clockCalls(fn);
    if (clocks.length === 0) return null;
    const firstEnd = Math.min(...clocks.map((c) => idx.call(fn.m, c).end));
    // A clock alias: `return time.perf_counter()` (maybe after a sync).
    const returnsClock = sc.returns.some((r) => r.value.t === "call" && clocks.includes(r.value.id));
    if (returnsClock) return { alias: true, open: true, close: true, before: this.waitsBefore(fn, firstEnd) };
    // toc(t0): `return time.perf_counter() - t0` with t0 a parameter.
    const params = new Set(sc.params.map((p) => p.replace(/^\*+/, "")));
    const tocLike = sc.returns.some(
      (r) =>
        r.value.t === "op" &&
        r.value.args.some((a) => a.t === "call" && clocks.includes(a.id)) &&
        r.value.args.some((a) => a.t === "name" && a.scope === fn.s && params.has(a.name)),
    );
    if (tocLike) return { alias: false, open: false, close: true, before: this.waitsBefore(fn, firstEnd) };
    // Methods of a timer class.
    const parent = sc.parent >= 0 ? idx.modules[fn.m].scopes[sc.parent] : null;
    if (parent?.kind === "class") {
      const cls = { m: fn.m, s: sc.parent };
      const opened = new Set<string>();
      for (const c of idx.mro(cls)) {
        idx.modules[c.m].scopes.forEach((msc, ms) => {
          if (msc.parent === c.s && msc.kind === "function") for (const a of this.clockAttrs({ m: c.m, s: ms })) opened.add(a);
        });
      }
      const opens = this.clockAttrs(fn).length > 0;
      const closes = opened.size > 0 && this.readsSelfAttr(fn, opened);
      if (!opens && !closes) return null;
      // A timer class that also records Events (DeepSpeed's and Megatron's timers: host clock
      // only on devices that run synchronously, Events elsewhere) measures device time already.
      if (this.recordsEvents(cls)) return null;
      return { alias: false, open: opens, close: closes, before: closes ? this.waitsBefore(fn, firstEnd) : [] };
    }
    return null;
  }

  /** Does a method of class `cls` (or of a base) record or time with an Event (`.record()`, `.elapsed_time()`)? */
  private recordsEvents(cls: FnRef): boolean {
    const idx = this.project.index;
    for (const c of idx.mro(cls)) {
      const scopes = idx.modules[c.m].scopes;
      for (let ms = 0; ms < scopes.length; ms++) {
        if (scopes[ms].parent !== c.s || scopes[ms].kind !== "function") continue;
        for (const id of idx.callsIn({ m: c.m, s: ms })) {
          const f = idx.call(c.m, id).fn;
          if (f.t === "attr" && (f.attr === "record" || f.attr === "elapsed_time")) return true;
        }
      }
    }
    return false;
  }

  /** A `@contextlib.contextmanager` generator that reads the clock before and after `yield`. */
  private contextTimer(fn: FnRef): { before: Wait[] } | null {
    const idx = this.project.index;
    const sc = idx.scope(fn);
    if (!sc.isGenerator) return null;
    const isCm = sc.decorators.some((d) =>
      idx.eval(fn.m, d).some((v) => v.k === "ext" && /^contextlib\.(async)?contextmanager$/.test(v.name)),
    );
    if (!isCm) return null;
    const ends = this.clockCalls(fn)
      .map((c) => idx.call(fn.m, c).end)
      .sort((a, b) => a - b);
    if (ends.length < 2) return null;
    const first = ends[0];
    const last = ends[ends.length - 1];
    // Waits between the first read and the last one: after `yield`, before the closing read.
    const before = this.waitsBefore(fn, last).filter((w) => w.end > first).map(({ what, coverage, guard }) => ({ what, coverage, guard }));
    return { before };
  }

  /** Functions decorated with the function that has parameter `name` (the decorator's `fn`). */
  private decoratedBy(dec: FnRef): FnRef[] {
    if (!this.decorated) {
      const map = new Map<string, FnRef[]>();
      const idx = this.project.index;
      idx.modules.forEach((mod, m) => {
        mod.scopes.forEach((sc, s) => {
          if (sc.kind !== "function" || sc.decorators.length === 0) return;
          for (const d of sc.decorators) {
            for (const v of idx.eval(m, d)) {
              if (v.k !== "fn") continue;
              const key = fnKey(v.m, v.s);
              let list = map.get(key);
              if (!list) map.set(key, (list = []));
              if (list.length < 64) list.push({ m, s });
            }
          }
        });
      });
      this.decorated = map;
    }
    return this.decorated.get(fnKey(dec.m, dec.s)) ?? [];
  }

  /** Inside a decorator's wrapper: the functions `fn(*args)` may be, where fn is the decorator's parameter. */
  decoratedTargets(m: number, c: CallFact): FnRef[] {
    if (c.fn.t !== "name" || c.fn.scope < 0) return [];
    const idx = this.project.index;
    const owner = idx.modules[m].scopes[c.fn.scope];
    if (owner.kind !== "function" || owner.params[0]?.replace(/^\*+/, "") !== c.fn.name) return [];
    return this.decoratedBy({ m, s: c.fn.scope });
  }

  // ---- the timeline of one function ---------------------------------------------------------

  /**
   * The function's items in order; with a span, calls outside it are left out (timedSpan), and a
   * function with fewer than two clock items in the span gets none: a timing needs a read that
   * opens it and a later one that closes it, so there is nothing to time, and classifying its
   * other calls (what each callee does, loading their modules) would be wasted.
   */
  timeline(fn: FnRef, span: { from: number; to: number } | null = null, regions: readonly { from: number; to: number }[] | null = null): Item[] {
    const idx = this.project.index;
    const mod = idx.modules[fn.m];
    if (span && this.clockCallsIn(fn, span) < 2) return [];
    const scope = idx.scope(fn);
    const flow = this.project.deviceFlow;
    const deviceVars = new Set<string>();
    const ctx: FlowCtx = { fn, deviceVars, accel: flow.accelerator(fn.m) };
    const isDevice = (e: Expr): boolean => flow.isDevice(e, ctx);
    // What is handed to another thread is read strictly (FlowCtx.pending): a value still computing.
    const pendingCtx: FlowCtx = { fn, deviceVars: new Set<string>(), accel: ctx.accel, pending: true };
    const isPending = (e: Expr): boolean => flow.isDevice(e, pendingCtx);
    // Calls recorded into a CUDA graph queue nothing.
    const captures = flow.captureRegions(fn);
    const captured = (end: number) => captures.some(([a, b]) => end > a && end <= b);
    type Raw =
      | { k: "bind"; end: number; row: number; name: string; value: Expr; loop: boolean }
      | { k: "call"; end: number; id: number }
      | { k: "ret"; end: number; row: number; value: Expr; i: number }
      | { k: "truth"; end: number; row: number; loop: boolean; test: GuardTest; at: { guards: string[]; tests?: (GuardTest | null)[] } };
    const raw: Raw[] = [];
    for (const t of scope.truthTests ?? []) raw.push({ k: "truth", end: t.end, row: t.row, loop: t.loop, test: t.test, at: { guards: t.guards, tests: t.tests } });
    for (const b of scope.bindings) raw.push({ k: "bind", end: b.end, row: b.range.start.row, name: b.name, value: b.value, loop: b.loop });
    for (const id of idx.callsIn(fn)) raw.push({ k: "call", end: mod.calls[id].end, id });
    // Returns: `return a * b` queues arithmetic as the value is handed back; any device value returned is published.
    scope.returns.forEach((r, i) => {
      if (span === null || (r.value.t === "op" && !r.value.choice)) raw.push({ k: "ret", end: r.end, row: r.range.start.row, value: r.value, i });
    });
    // At one offset the calls come first: a binding, return or store evaluates its value before it takes effect.
    raw.sort((a, b) => a.end - b.end || (a.k === "call" ? 0 : 1) - (b.k === "call" ? 0 : 1));
    const boundTo = this.keptCalls(fn);

    const items: Item[] = [];
    for (const r of raw) {
      if (r.k === "ret") {
        if (isDevice(r.value) && r.value.t === "op" && !r.value.choice && !captured(r.end)) items.push({ k: "work", end: r.end, loop: false, row: r.row, what: "return ..." });
        if (span === null && isPending(r.value)) items.push({ k: "publish", end: r.end, loop: false, row: r.row, what: "return", via: "return", at: r.i });
        continue;
      }
      if (r.k === "bind") {
        const dev = isDevice(r.value);
        if (dev) deviceVars.add(r.name);
        else deviceVars.delete(r.name);
        if (isPending(r.value)) pendingCtx.deviceVars.add(r.name);
        else pendingCtx.deviceVars.delete(r.name);
        // Arithmetic on device tensors queues kernels (`y = a @ b`).
        if (dev && r.value.t === "op" && !r.value.choice && !captured(r.end)) items.push({ k: "work", end: r.end, loop: r.loop, row: r.row, what: `${r.name} = ...` });
        continue;
      }
      if (r.k === "truth") {
        // `if next_token == eos:` reads a device value's truth on the host: a wait (strict reading:
        // a value that is a device tensor, not a host result of a function that queues work).
        if (span && (r.end < span.from || r.end > span.to)) continue;
        if (regions && !regions.some((g) => r.end >= g.from && r.end <= g.to)) continue;
        const t = r.test;
        if (t.op === "in" || t.op === "not in" || t.op === "is" || t.op === "is not") continue;
        // (An element of an attribute is an element of a container the object keeps, which may hold
        // strings beside tensors: `self.cache["text"] != text` reads no device value.)
        const tensor = (e: Expr | undefined) => !!e && !(e.t === "item" && e.of.t === "attr") && isPending(e);
        if (!tensor(t.left) && !tensor(t.right)) continue;
        const pseudo = { ...r.at } as CallFact;
        if (this.neverRuns(fn.m, pseudo)) continue;
        const guards = this.effectiveGuards(fn.m, pseudo);
        items.push({
          k: "sync",
          end: r.end,
          loop: r.loop,
          row: r.row,
          what: "a condition testing a device value",
          coverage: "all",
          guard: null,
          conditional: underCondition(guards),
          partial: false,
          pathGuards: this.pathGuards(fn.m, pseudo),
          allGuards: guards.flatMap(conjuncts),
          via: "truth",
        });
        continue;
      }
      const c = mod.calls[r.id];
      if (span && (c.end < span.from || c.end > span.to)) continue;
      // Under a condition the device strings the code sets make false: the call never runs.
      if (this.neverRuns(fn.m, c)) continue;
      if (regions && !regions.some((g) => c.end >= g.from && c.end <= g.to)) continue;
      const got = this.classify(fn, r.id, c, boundTo.get(r.id) ?? null, isDevice, ctx);
      const classified = got === null ? [] : Array.isArray(got) ? got : [got];
      for (const item of classified) if (item.k === "work" && item.pathGuards === undefined) item.pathGuards = this.pathGuards(fn.m, c);
      for (const item of classified) if (!(item.k === "work" && captured(c.end))) items.push(item);
      const queuesSomething = classified.some((it) => it.k === "work" || it.k === "sync" || it.k === "check");
      if (span === null && !queuesSomething && !captured(c.end) && flow.isDeviceWork(r.id, ctx)) {
        items.push({ k: "queued", end: c.end, loop: c.loop, row: c.range.start.row, what: `${c.callee}(${c.args.length > 0 || c.star || Object.keys(c.kwargs).length > 0 ? "..." : ""})` });
      }
      if (span === null) {
        const published = this.publishedArg(fn, c, isPending);
        if (published) {
          // `q.put(a * b)`: the arithmetic is queued as the value is handed over.
          if (published.t === "op" && !published.choice && !captured(c.end)) items.push({ k: "work", end: c.end, loop: c.loop, row: c.range.start.row, what: `${c.callee}(...)` });
          items.push({ k: "publish", end: c.end, loop: c.loop, row: c.range.start.row, what: `${c.callee}()`, via: "call", at: r.id });
        }
      }
    }
    for (const it of items) if (it.k === "clock" && it.plain) this.intervalEnd(fn, it);
    return items;
  }

  /** The items of `fn`'s timeline strictly between two source offsets (publishes included). */
  between(fn: FnRef, from: number, to: number): Item[] {
    return this.timeline(fn).filter((it) => it.end > from && it.end < to);
  }

  /**
   * A plain clock read ends a timing only when it is used as the end of an interval: the left
   * operand of a subtraction (`time.perf_counter() - t0`), directly or through the name or
   * attribute it is kept in (`t1 = ...; t1 - t0`). A read that is only kept (`t0 = ...`), one
   * subtracted from (`sync_start` that nothing subtracts from), or one compared with a limit
   * (`if time.time() - t > timeout:`, a deadline) measures nothing.
   */
  private intervalEnd(fn: FnRef, it: Extract<Item, { k: "clock" }>): void {
    const mod = this.project.index.modules[fn.m];
    const scope = mod.scopes[fn.s];
    const startOf = (e: Expr): string | null => {
      if (e.t === "name" && e.scope === fn.s) return e.name;
      // `self.t0`, read in this method or (for `self.t_end = ...`) in another method of the class.
      if (e.t === "attr" && e.obj.t === "name" && e.obj.scope >= 0) return `.${e.attr}`;
      return null;
    };
    let subs = scope.subtractions.filter((d) => d.left.t === "call" && d.left.id === it.call);
    if (subs.length === 0 && it.into !== null) {
      const into = it.into;
      if (into.startsWith(".")) {
        // `self.end = time.time()`: an interval that subtracts the attribute (in any method of the module).
        const attr = into.slice(1);
        subs = mod.scopes.flatMap((sc) => sc.subtractions).filter((d) => d.left.t === "attr" && d.left.attr === attr);
      } else {
        const end = mod.calls[it.call].end;
        subs = scope.subtractions.filter((d) => d.end > end && d.left.t === "name" && d.left.name === into && d.left.scope === fn.s);
      }
    }
    const measured = subs.find((d) => !d.compared);
    it.start = measured ? startOf(measured.right) : null;
    it.close = it.start !== null;
  }

  /**
   * The device value a call hands to another thread, if it does: `q.put(x)`, `fut.set_result(x)`,
   * or an append/extend/send to a container the function does not own (a local list is not shared).
   */
  private publishedArg(fn: FnRef, c: CallFact, isDevice: (e: Expr) => boolean): Expr | null {
    if (c.fn.t !== "attr" || !PUBLISH_METHODS.has(c.fn.attr)) return null;
    const arg = c.args[c.fn.attr === "set_result" ? 0 : c.args.length - 1];
    // (An element of a local container, `lists[name].append(x)`, is local too.)
    const receiverIsLocal = localContainer(c.fn.obj, fn.s);
    const shared = c.fn.attr === "put" || c.fn.attr === "put_nowait" || c.fn.attr === "set_result" || !receiverIsLocal;
    return arg && shared && isDevice(arg) ? arg : null;
  }

  /**
   * `x.any()` / `x.all()` of a device value whose result is neither kept, returned nor passed on:
   * Python tests its truth at once (`assert not x.isnan().any()`), which waits.
   */
  private truthTest(fn: FnRef, id: number, c: CallFact, isDevice: (e: Expr) => boolean): boolean {
    if (c.fn.t !== "attr" || !TRUTH_REDUCTIONS.has(c.fn.attr) || c.args.length > 0 || Object.keys(c.kwargs).length > 0) return false;
    if (!isDevice(c.fn.obj)) return false;
    const idx = this.project.index;
    const sc = idx.scope(fn);
    let used = false;
    const visit = (e: Expr) =>
      walkExpr(e, (x) => {
        if (x.t === "call" && x.id === id) used = true;
      });
    for (const other of idx.callsIn(fn)) {
      if (other === id) continue;
      const o = idx.call(fn.m, other);
      visit(o.fn);
      o.args.forEach(visit);
      Object.values(o.kwargs).forEach(visit);
    }
    sc.bindings.forEach((b) => visit(b.value));
    sc.returns.forEach((r) => visit(r.value));
    sc.attrStores.forEach((a) => visit(a.value));
    return !used;
  }

  /** How many calls in the span are clock items (only calls that may read a clock are resolved). */
  private clockCallsIn(fn: FnRef, span: { from: number; to: number }): number {
    const idx = this.project.index;
    const mod = idx.modules[fn.m];
    let n = 0;
    for (const id of idx.callsIn(fn)) {
      const c = mod.calls[id];
      if (c.end < span.from || c.end > span.to || !this.mayReadClock(fn.m, id)) continue;
      if (this.clockItem(fn, id, c, null) !== null && ++n >= 2) break;
    }
    return n;
  }

  /**
   * The clock item a call is, if any: a clock read, entering or leaving a timer's `with`, or a
   * call of a clock helper or timer method. Depends on the call alone (not on the items before it).
   */
  private clockItem(fn: FnRef, id: number, c: CallFact, into: string | null): Item | null {
    const idx = this.project.index;
    const m = fn.m;
    const what = `${c.callee}(${c.args.length > 0 || c.star || Object.keys(c.kwargs).length > 0 ? "..." : ""})`;
    const bound = into !== null;
    if (this.isClock(m, id)) return { k: "clock", end: c.end, call: id, into, open: bound, close: true, before: [], what, start: null, plain: true };
    // Context managers: `with Timer():` / `with timer("x"):`.
    if (c.fn.t === "attr" && (c.fn.attr === "__enter__" || c.fn.attr === "__exit__")) {
      const entering = c.fn.attr === "__enter__";
      const cmWhat = `with ${c.callee.replace(/\.__(enter|exit)__$/, "")}`;
      const obj = c.fn.obj;
      for (const v of idx.eval(m, obj)) {
        if (v.k !== "inst") continue;
        const enter = idx.lookupMethod(v, "__enter__").map((f) => this.profile(f));
        const exit = idx.lookupMethod(v, "__exit__").map((f) => this.profile(f));
        if (!enter.some((p) => p?.open) || !exit.some((p) => p?.close)) continue;
        if (entering) return { k: "clock", end: c.end, call: id, into: null, open: true, close: false, before: [], what: cmWhat, start: null, plain: false };
        return { k: "clock", end: c.end, call: id, into: null, open: false, close: true, before: exit.flatMap((p) => p?.before ?? []), what: cmWhat, start: null, plain: false };
      }
      if (obj.t === "call") {
        for (const f of idx.calleesOf(m, obj.id)) {
          const t = this.contextTimer(f);
          if (!t) continue;
          if (entering) return { k: "clock", end: c.end, call: id, into: null, open: true, close: false, before: [], what: cmWhat, start: null, plain: false };
          return { k: "clock", end: c.end, call: id, into: null, open: false, close: true, before: t.before, what: cmWhat, start: null, plain: false };
        }
      }
    }
    const callees = idx.calleesOf(m, id);
    // Clock helpers and timer methods.
    for (const t of callees) {
      const p = this.profile(t);
      if (p && (p.open || p.close)) {
        // A clock alias (`def now(): return time.perf_counter()`) is used like a plain read.
        return { k: "clock", end: c.end, call: id, into: p.alias ? into : null, open: p.alias ? bound : p.open, close: p.close, before: p.before, what, start: null, plain: p.alias };
      }
    }
    return null;
  }

  private classify(
    fn: FnRef,
    id: number,
    c: CallFact,
    into: string | null,
    isDevice: (e: Expr) => boolean,
    ctx: FlowCtx,
  ): Item | Item[] | null {
    const idx = this.project.index;
    const sync = this.project.sync;
    const m = fn.m;
    const row = c.range.start.row;
    const what = `${c.callee}(${c.args.length > 0 || c.star || Object.keys(c.kwargs).length > 0 ? "..." : ""})`;
    const clock = this.clockItem(fn, id, c, into);
    if (clock !== null) return clock;
    const callees = idx.calleesOf(m, id);
    const guards = this.effectiveGuards(m, c);
    const g = guardCoverage(guards);
    const conditional = underCondition(guards);
    const decided = c.guards.filter((x) => !guards.includes(x));
    const wait = { k: "sync" as const, end: c.end, loop: c.loop, row, what, conditional, partial: false, pathGuards: this.pathGuards(m, c), allGuards: guards.flatMap(conjuncts), ...(decided.length > 0 ? { decided } : {}) };
    // Reading a checkpoint, itself or through a project loader: host work ending with the data in
    // place. A project function that then queues compute on every path (a warm-up forward) is
    // work like any other.
    if (this.isLoadCall(m, id)) return { k: "load", end: c.end, loop: c.loop, row, what };
    const loaders = callees.filter((t) => this.loadsCheckpoint(t));
    if (loaders.length > 0 && loaders.every((t) => !this.waitShape(t).workAfterLoad)) return { k: "load", end: c.end, loop: c.loop, row, what };
    // Waits.
    if (sync.isAnySync(m, id)) return { ...wait, ...g, via: "device" };
    if (sync.isCompletionCheck(m, id)) return { k: "check", end: c.end, loop: c.loop, row, what };
    const names = idx.extNames(m, id);
    if (names.some((n) => OTHER_WAITS.has(n))) return { ...wait, ...g, via: "other" };
    if (names.some((n) => HOST_TORCH.has(n)) || (names.some((n) => HOST_BUILTINS.has(n)) && [...c.args, ...Object.values(c.kwargs)].some(isDevice))) {
      return { ...wait, ...g, via: "host" };
    }
    if (c.fn.t === "attr" && c.fn.attr === BARRIER_METHOD) return { ...wait, what: `${what} (a barrier)`, coverage: "all", guard: null, via: "barrier" };
    if (this.truthTest(fn, id, c, isDevice)) return { ...wait, what: `${what} (tested on the host)`, ...g, via: "truth" };
    const waiting = callees.filter((t) => sync.functionSyncs(t));
    if (waiting.length > 0) {
      // A callee that always waits covers the work before the call; one that waits only on some
      // paths covers nothing; work it queues after its last certain wait is still queued.
      const syncing = waiting.find((t) => !this.waitShape(t).mayNotWait) ?? waiting[0];
      const shape = this.waitShape(syncing);
      const coverage = intersect(g.coverage, this.functionCoverage(syncing));
      const item: Item = { ...wait, coverage, guard: g.guard ?? (coverage === "all" ? null : this.restrictingGuard(syncing)), partial: shape.mayNotWait, via: "callee" };
      const queuesMore = shape.mayNotWait ? shape.work : shape.workAfterWait;
      if (!queuesMore) return item;
      const note = shape.mayNotWait
        ? `\`${idx.displayName(syncing)}\` waits only on some paths`
        : `\`${idx.displayName(syncing)}\` queues more work after its wait`;
      return [item, { k: "work", end: c.end, loop: c.loop, row, what, note, conditional }];
    }
    // A hand-over from another thread: whether that thread waited for the device is not followed.
    if (this.isThreadWait(m, id) || callees.some((t) => this.blocksOnThread(t))) {
      return { ...wait, what: `${what} (blocks on another thread)`, coverage: "all", guard: null, via: "thread" };
    }
    // A project function that waits in a way only timing knows (`mx.eval()`, a barrier, a truth test).
    if (callees.some((t) => this.waitsOtherwise(t))) return { ...wait, coverage: "all", guard: null, via: "callee-other" };
    const alwaysWaits = callees.find((t) => this.waitShape(t).waits && !this.waitShape(t).mayNotWait);
    if (alwaysWaits) {
      const item: Item = { ...wait, coverage: "all", guard: null, via: "callee-other" };
      if (!this.waitShape(alwaysWaits).workAfterWait) return item;
      return [item, { k: "work", end: c.end, loop: c.loop, row, what, note: `\`${idx.displayName(alwaysWaits)}\` queues more work after its wait`, conditional }];
    }
    // A decorator's wrapper calling the decorated function: work if some decorated function works without waiting.
    const decorated = this.decoratedTargets(m, c).find((t) => this.doesDeviceWork(t) && !sync.functionSyncs(t));
    if (decorated) return { k: "work", end: c.end, loop: c.loop, row, what, note: `the decorated \`${idx.displayName(decorated)}\``, conditional };
    // Device work.
    if (c.fn.t === "attr" && (TRANSFER_METHODS.has(c.fn.attr) || METADATA_METHODS.has(c.fn.attr) || VIEW_METHODS.has(c.fn.attr) || MODULE_STATE_METHODS.has(c.fn.attr) || HOST_RESULT_CALLS.test(c.fn.attr))) return null;
    if (c.fn.t === "name" && HOST_RESULT_CALLS.test(c.fn.name)) return null;
    if (names.some((n) => UPLOAD_FUNCTIONS.has(n) || ALLOCATION_FUNCTIONS.has(n) || WRAPPER_FUNCTIONS.has(n))) return null;
    // A kernel launch that is no torch function (Triton, a custom operator, a compiled extension).
    const kernel = this.project.deviceFlow.kernelLaunch(id, ctx);
    if (kernel) return { k: "work", end: c.end, loop: c.loop, row, what, note: kernel, conditional };
    // A call of project functions is work when their bodies compute (not when they only load or move data),
    // unless it is a module's forward on a device object.
    const vals = idx.eval(m, c.fn);
    const forwardOfDevice = c.fn.t === "attr" && /^(forward|__call__)$/.test(c.fn.attr) && isDevice(c.fn.obj);
    const modelCall = forwardOfDevice || this.project.deviceFlow.isModelCall(m, c.fn, ctx.accel);
    if (!modelCall && callees.length > 0 && vals.length > 0 && vals.every((v) => v.k === "fn" || v.k === "bound" || idx.callableObjectMethods(v).length > 0)) {
      if (callees.some((t) => this.doesDeviceWork(t))) return { k: "work", end: c.end, loop: c.loop, row, what, conditional };
      // A helper that computes on the device tensor it is handed (`spectrogram(audio)` running
      // torch.stft on its parameter): its own body shows no device value, the argument is one.
      const onArg = callees.find((t) => this.computesOnDeviceArgument(t, c, vals, isDevice));
      return onArg ? { k: "work", end: c.end, loop: c.loop, row, what, note: `\`${idx.displayName(onArg)}\` computes on the device argument`, conditional } : null;
    }
    if (this.project.deviceFlow.isDeviceWork(id, ctx)) return { k: "work", end: c.end, loop: c.loop, row, what, conditional };
    if (callees.some((t) => this.doesDeviceWork(t))) return { k: "work", end: c.end, loop: c.loop, row, what, conditional };
    return null;
  }
}


/** Is `e` a local variable of scope `s`, or an element of one (`lists[key]`). */
function localContainer(e: Expr, s: number): boolean {
  let r = e;
  while (r.t === "item") r = r.of;
  return r.t === "name" && r.scope === s;
}
