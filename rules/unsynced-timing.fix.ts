// MPS004's fix (see docs/fixes.md): `_mps_lint_wait_for_device()` (per-thread-event.ts) on its own
// line before the statement that reads the clock, unless the wait would land where it must not:
// a `finally:`, an event loop's thread, or a timing meant to measure the host side.

import type { RuleContext } from "../src/engine/rule.js";
import type { ModuleFacts } from "../src/facts/model.js";
import type { SyntaxNode } from "../src/facts/parse.js";
import type { FnRef } from "../src/project/index.js";
import type { Fix, Range } from "../src/types.js";
import {
  aloneOnLines,
  commentsAround,
  edit,
  enclosingDef,
  ensureImport,
  ensureModuleBlocks,
  fix,
  identifiersIn,
  inFinally,
  indentOf,
  isAsyncDef,
  layoutOf,
  lineStart,
  nodeAt,
  statementOf,
  syntaxOf,
  type Syntax,
} from "./support/edit-kit.js";
import { OUR_HELPERS, WAIT_FOR_DEVICE, eventSyncBlocks, waitForDeviceBlock } from "./support/per-thread-event.js";

const SIMPLE_STATEMENTS = new Set(["expression_statement", "return_statement", "assert_statement", "raise_statement", "delete_statement", "print_statement"]);

/**
 * The functions that may run on an event loop's thread: those an `async def` calls, and what those
 * call in turn (coroutines and generators are not entered: calling one runs none of its body). A
 * blocking wait added to one of them would block the loop, and MPS006 would then report the fix
 * itself. Calls are resolved from the loaded modules' facts alone, without evaluating anything
 * (a fix must not make the analysis load modules): a name bound to a `def` is that function; a
 * name bound by an import is the module-level function of that name in the modules the import
 * names; `x.name(...)` is any method of that name (or, when `x` is an imported module, its
 * function). An unresolved call errs on the side of no fix.
 */
const onLoopCache = new WeakMap<object, { modules: number; fns: Set<string> }>();

function onLoopFns(ctx: RuleContext): Set<string> {
  const idx = ctx.project.index;
  // Modules join the index as the analysis asks for them: recomputed when there are more.
  const hit = onLoopCache.get(idx);
  if (hit && hit.modules === idx.modules.length) return hit.fns;
  const key = (m: number, sc: number) => `${m}:${sc}`;
  const methods = new Map<string, string[]>();
  const moduleFns = new Map<string, { m: number; key: string }[]>();
  idx.modules.forEach((mod, m) =>
    mod.scopes.forEach((sc, i) => {
      if (sc.kind !== "function" || sc.isLambda) return;
      const parent = mod.scopes[sc.parent];
      if (parent?.kind === "class") {
        let l = methods.get(sc.name);
        if (!l) methods.set(sc.name, (l = []));
        l.push(key(m, i));
      } else if (parent?.kind === "module") {
        let l = moduleFns.get(sc.name);
        if (!l) moduleFns.set(sc.name, (l = []));
        l.push({ m, key: key(m, i) });
      }
    }),
  );
  const lastPart = (dotted: string) => dotted.slice(dotted.lastIndexOf(".") + 1);
  const fileNamed = (m: number, module: string) => {
    const part = lastPart(module);
    const f = idx.modules[m].file.replace(/\\/g, "/");
    return part !== "" && (f.endsWith(`/${part}.py`) || f.endsWith(`/${part}/__init__.py`) || f.endsWith(`/${part}.pyi`));
  };
  /** The binding of a name as the facts record it: the def it names, or the import. */
  const bindingOf = (m: number, name: string, scope: number) => {
    const sc = idx.modules[m].scopes[scope];
    return sc?.bindings.find((b) => b.name === name)?.value ?? null;
  };
  const targets = (m: number, fn: ModuleFacts["calls"][number]["fn"]): string[] => {
    if (fn.t === "name") {
      if (fn.scope < 0) return [];
      const v = bindingOf(m, fn.name, fn.scope);
      if (!v) return [];
      if (v.t === "scope") return [key(m, v.scope)];
      if (v.t === "import" && v.name) return (moduleFns.get(v.name) ?? []).filter((f) => f.m !== m && fileNamed(f.m, v.module)).map((f) => f.key);
      return [];
    }
    if (fn.t === "attr") {
      const obj = fn.obj;
      if (obj.t === "name" && obj.scope >= 0) {
        const v = bindingOf(m, obj.name, obj.scope);
        if (v?.t === "import") {
          const module = v.name ? `${v.module}.${v.name}` : v.module;
          return (moduleFns.get(fn.attr) ?? []).filter((f) => fileNamed(f.m, module)).map((f) => f.key);
        }
      }
      return methods.get(fn.attr) ?? [];
    }
    return [];
  };
  const callsOf = new Map<string, string[]>();
  const fns = new Set<string>();
  const queue: string[] = [];
  idx.modules.forEach((mod, m) => {
    for (const c of mod.calls) {
      const sc = mod.scopes[c.scope];
      if (!sc || sc.kind !== "function") continue;
      const to = targets(m, c.fn);
      if (sc.isAsync) queue.push(...to);
      else {
        const k = key(m, c.scope);
        let l = callsOf.get(k);
        if (!l) callsOf.set(k, (l = []));
        l.push(...to);
      }
    }
  });
  const scopeOf = (k: string) => {
    const [m, i] = k.split(":").map(Number);
    return idx.modules[m].scopes[i];
  };
  while (queue.length > 0) {
    const k = queue.pop()!;
    if (fns.has(k)) continue;
    const sc = scopeOf(k);
    if (sc.isAsync || sc.isGenerator) continue;
    fns.add(k);
    for (const next of callsOf.get(k) ?? []) if (!fns.has(next)) queue.push(next);
  }
  onLoopCache.set(idx, { modules: idx.modules.length, fns });
  return fns;
}

// A timing that names itself host- or launch-side (`launch_ms`, `host_time`, `cpu_s`,
// `dispatch_overhead`): the launch time is what it means to measure. The timer object's own name
// (`host = HostTimer()`) says nothing of the kind: only what the reading is stored in counts.
const HOST_SIDE = /(^|_)(launch(es)?|dispatch|enqueue|overhead)(_|$)|(^|_)(host|cpu)_?(time|times|ms|us|ns|s|sec|secs|seconds|elapsed|latency|duration)(_|$)/i;

// Another timing of the same function named for the wait or the device (`sync_ns = t5 - t4`,
// `gpu_ms`, `stats["device_time"]`): the function splits its time into phases, one of them the
// wait, and a wait added to another phase would move time from one to the other.
const WAIT_SIDE = /(^|_)(sync|synchroni[sz]e|synchroni[sz]ation|wait|waiting|device|gpu|kernel|kernels)(_|$)/i;

/** The names a target spells: identifiers, and string keys (`stats["sync_ms"]`). */
function targetNames(target: SyntaxNode): string[] {
  const out = [...identifiersIn(target)];
  const walk = (n: SyntaxNode) => {
    if (n.type === "string") out.push(n.text.replace(/^[a-zA-Z]*["']+|["']+$/g, ""));
    for (const c of n.namedChildren) walk(c);
  };
  walk(target);
  return out;
}

/**
 * Would a wait inserted before the clock read at `stmt` change what the code means to measure?
 * Yes when the function also times the device with Events (`start.elapsed_time(end)`): its
 * wall-clock timing is the host side of a host/device split; when the reading is named for the
 * host side (`launch_ms`, `host_time`, `cpu_overhead`); and when another timing of the function
 * is named for the wait or the device (`sync_ns`): the function reports its phases separately.
 */
function measuresHostSide(syn: Syntax, stmt: SyntaxNode, def: SyntaxNode | null): boolean {
  const body = def ?? syn.root;
  const expr = stmt.type === "expression_statement" ? stmt.namedChildren[0] : null;
  const target = expr?.type === "assignment" || expr?.type === "augmented_assignment" ? expr.childForFieldName("left") : null;
  const names = target ? targetNames(target) : [];
  const own = new Set(names);
  let split = false;
  const walk = (n: SyntaxNode) => {
    if (split) return;
    if (n.type === "call") {
      const fn = n.childForFieldName("function");
      if (fn?.type === "attribute" && fn.childForFieldName("attribute")?.text === "elapsed_time") split = true;
    } else if ((n.type === "assignment" || n.type === "augmented_assignment") && !(n.startIndex >= stmt.startIndex && n.endIndex <= stmt.endIndex)) {
      const right = n.childForFieldName("right");
      const left = n.childForFieldName("left");
      // A difference of clock reads other than the one this read ends.
      if (left && right?.type === "binary_operator" && right.childForFieldName("operator")?.text === "-" && ![...identifiersIn(right)].some((id) => own.has(id))) {
        if (targetNames(left).some((name) => WAIT_SIDE.test(name))) split = true;
      }
    }
    for (const c of n.namedChildren) walk(c);
  };
  walk(body);
  if (split) return true;
  const comment = commentsAround(syn, stmt)
    .split(/[^A-Za-z_]+/)
    .filter(Boolean);
  return [...names, ...comment].some((id) => HOST_SIDE.test(id)) || /\b(launch|dispatch|host)[- ](time|overhead|side)\b/i.test(commentsAround(syn, stmt));
}

/**
 * MPS004: a wait on its own line before the statement that reads the clock:
 * `_mps_lint_wait_for_device()`, a module-level helper that waits (per thread, so it is right in
 * thread code too) on whichever backends this torch build has in use, and does nothing on a CPU
 * build or an old torch: it runs wherever the timed code ran. The helper imports torch inside
 * its body, so the module keeps importing without torch.
 */
export function timingSyncFix(ctx: RuleContext, fn: FnRef, closeRange: Range, afterOffset: number): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const call = nodeAt(syn, closeRange, "call");
  if (!call) return null;
  const stmt = statementOf(call);
  if (!stmt || !SIMPLE_STATEMENTS.has(stmt.type) || !aloneOnLines(syn, stmt)) return null;
  // The wait must come after the device work it waits for.
  const at = lineStart(syn, stmt.startIndex);
  if (at < afterOffset) return null;
  // Not on the exception path, not where it would block an event loop, not where the wall-clock
  // time is meant to be the host side of the measurement.
  const def = enclosingDef(stmt);
  if (inFinally(stmt) || isAsyncDef(def)) return null;
  if (onLoopFns(ctx).has(`${fn.m}:${fn.s}`)) return null;
  if (measuresHostSide(syn, stmt, def)) return null;
  const layout = layoutOf(syn);
  const threading = ensureImport(syn, layout, "threading");
  const blocks = [...eventSyncBlocks(syn.indentUnit, threading.name), waitForDeviceBlock(syn.indentUnit)];
  return fix("safe", `Insert \`${WAIT_FOR_DEVICE}()\` before reading the clock (waits on the backends in use, per thread)`, [
    ...threading.edits,
    ...ensureModuleBlocks(syn, layout, blocks, OUR_HELPERS),
    edit(syn, at, at, `${indentOf(syn, stmt.startIndex)}${WAIT_FOR_DEVICE}()${syn.eol}`),
  ]);
}
