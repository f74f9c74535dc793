// Fix construction for MPS001, MPS003, MPS004 and MPS005 (see docs/fixes.md).
//
// Facts carry no syntax tree, so a fix parses its file again (once per file, kept beside the
// facts) and works on tree-sitter nodes. Every builder is conservative: when the code around a
// finding has a shape it does not fully understand (a call that is not a statement of its own,
// a name that is used in other ways, a backend chosen at run time) it returns null. No fix is
// better than a wrong one. Inserted code uses the file's own line ending and indentation unit,
// and refers to torch and threading by the names the module imports them under.

import { count } from "../../src/timing.js";
import { escapeControl } from "../../src/files/text.js";
import type { ModuleFacts } from "../../src/facts/model.js";
import { parsePythonKept, type SyntaxNode } from "../../src/facts/parse.js";
import type { FnRef } from "../../src/project/index.js";
import type { RuleContext } from "../../src/engine/rule.js";
import type { Fix, Position, Range, TextEdit } from "../../src/types.js";

// ---- the syntax of one file ---------------------------------------------------------------------

export interface Syntax {
  src: string;
  root: SyntaxNode;
  /** Offset of the start of each row (rows as tree-sitter counts them: at "\n"). */
  lineStarts: number[];
  /** The file's first line ending, "\n" when it has none. */
  eol: string;
  /** One level of indentation as the file writes it ("    ", "\t", "  "). */
  indentUnit: string;
}

const syntaxCache = new WeakMap<ModuleFacts, Syntax | null>();

/** The parsed file of a rule context, or null when it has syntax errors (no fixes then). */
export function syntaxOf(ctx: Pick<RuleContext, "facts" | "source">): Syntax | null {
  if (syntaxCache.has(ctx.facts)) return syntaxCache.get(ctx.facts)!;
  let syn: Syntax | null = null;
  if (ctx.facts.syntaxErrors.length === 0) {
    const src = ctx.source;
    // Kept: the tree is used across the rule's run, while the analysis may parse other modules.
    const root = parsePythonKept(src, ctx.facts).rootNode;
    if (!root.hasError) {
      const lineStarts = [0];
      for (let i = src.indexOf("\n"); i >= 0; i = src.indexOf("\n", i + 1)) lineStarts.push(i + 1);
      const m = /\r\n|\n/.exec(src);
      syn = { src, root, lineStarts, eol: m ? m[0] : "\n", indentUnit: indentUnitOf(root, src) };
    }
  }
  syntaxCache.set(ctx.facts, syn);
  return syn;
}

function indentUnitOf(root: SyntaxNode, src: string): string {
  for (const top of root.namedChildren) {
    const body = top.childForFieldName("body") ?? top.childForFieldName("consequence");
    if (!body || body.type !== "block" || top.startPosition.column !== 0) continue;
    const first = body.namedChildren.find((n) => n.type !== "comment");
    if (!first || first.startPosition.row === top.startPosition.row) continue;
    const start = src.lastIndexOf("\n", first.startIndex - 1) + 1;
    const ws = src.slice(start, first.startIndex);
    if (/^[ \t]+$/.test(ws)) return ws;
  }
  return "    ";
}

export function positionOf(syn: Syntax, offset: number): Position {
  let lo = 0;
  let hi = syn.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (syn.lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { row: lo, column: offset - syn.lineStarts[lo] };
}

export function edit(syn: Syntax, start: number, end: number, content: string): TextEdit {
  const range: Range = { start: positionOf(syn, start), end: positionOf(syn, end) };
  return { range, startOffset: start, endOffset: end, content };
}

/** The smallest node of `type` that spans exactly `range`. */
export function nodeAt(syn: Syntax, range: Range, type: string): SyntaxNode | null {
  let n: SyntaxNode | null = syn.root.descendantForPosition(range.start, range.end);
  while (n) {
    if (n.type === type && samePos(n.startPosition, range.start) && samePos(n.endPosition, range.end)) return n;
    n = n.parent;
  }
  return null;
}

const samePos = (a: Position, b: Position) => a.row === b.row && a.column === b.column;

export function lineStart(syn: Syntax, offset: number): number {
  return syn.src.lastIndexOf("\n", offset - 1) + 1;
}

/** Offset just past the line ending of the line holding `offset` (end of file when none). */
export function nextLineStart(syn: Syntax, offset: number): number {
  const i = syn.src.indexOf("\n", offset);
  return i < 0 ? syn.src.length : i + 1;
}

/** The end of the line's content (before "\r\n" / "\n"). */
function lineContentEnd(syn: Syntax, offset: number): number {
  const i = syn.src.indexOf("\n", offset);
  if (i < 0) return syn.src.length;
  return i > 0 && syn.src[i - 1] === "\r" ? i - 1 : i;
}

/** The line ending of the line holding `offset` ("" on a last line without one). */
function eolOfLine(syn: Syntax, offset: number): string {
  const i = syn.src.indexOf("\n", offset);
  if (i < 0) return "";
  return i > 0 && syn.src[i - 1] === "\r" ? "\r\n" : "\n";
}

export function indentOf(syn: Syntax, offset: number): string {
  const s = lineStart(syn, offset);
  return /^[ \t]*/.exec(syn.src.slice(s, offset))![0];
}

/** The statement (a child of a block or of the module) that holds `node`. */
export function statementOf(node: SyntaxNode): SyntaxNode | null {
  let n: SyntaxNode | null = node;
  while (n && n.parent && n.parent.type !== "block" && n.parent.type !== "module") {
    if (n.type === "lambda" || n.type === "function_definition" || n.type === "class_definition") return null;
    n = n.parent;
  }
  return n && n.parent ? n : null;
}

/** Is the statement the only thing on its lines (a trailing comment allowed)? */
export function aloneOnLines(syn: Syntax, stmt: SyntaxNode): boolean {
  const before = syn.src.slice(lineStart(syn, stmt.startIndex), stmt.startIndex);
  const after = syn.src.slice(stmt.endIndex, lineContentEnd(syn, stmt.endIndex));
  return /^[ \t]*$/.test(before) && /^[ \t]*(#.*)?$/.test(after);
}

/** A statement that is a bare call expression: `torch.mps.synchronize()`. */
export function callStatement(call: SyntaxNode): SyntaxNode | null {
  const p = call.parent;
  if (!p || p.type !== "expression_statement" || p.namedChildCount !== 1) return null;
  return p.parent && (p.parent.type === "block" || p.parent.type === "module") ? p : null;
}

const SIMPLE_STATEMENTS = new Set(["expression_statement", "return_statement", "assert_statement", "raise_statement", "delete_statement", "print_statement"]);

function identifiersIn(node: SyntaxNode): Set<string> {
  const out = new Set<string>();
  const walk = (n: SyntaxNode) => {
    if (n.type === "identifier") out.add(n.text);
    for (const c of n.namedChildren) walk(c);
  };
  walk(node);
  return out;
}

// ---- where a fix may not go ---------------------------------------------------------------------

/** The innermost def or lambda around `node`, or null at module level. */
function enclosingDef(node: SyntaxNode): SyntaxNode | null {
  for (let n = node.parent; n; n = n.parent) if (n.type === "function_definition" || n.type === "lambda") return n;
  return null;
}

function isAsyncDef(def: SyntaxNode | null): boolean {
  return !!def && def.type === "function_definition" && def.children.some((c) => c.type === "async");
}

/**
 * Is `node` inside a `finally:` block of its own function? Code there runs on the exception path
 * too: a wait added or changed there would run after a device error, where it fails again and
 * hides the first error. No fix goes there.
 */
export function inFinally(node: SyntaxNode): boolean {
  for (let n = node.parent; n; n = n.parent) {
    if (n.type === "finally_clause") return true;
    if (n.type === "function_definition" || n.type === "lambda" || n.type === "class_definition") return false;
  }
  return false;
}

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

// ---- the module's imports and the place for module-level helpers -----------------------------

interface ModuleLayout {
  /** Name torch is bound to at module level, null when the module does not import it. */
  torch: string | null;
  /** Name threading is bound to by one of the leading imports (above where helpers go), or null. */
  threading: string | null;
  /** Statement after which module-level code may go (last leading import, docstring), or null. */
  after: SyntaxNode | null;
  /** First statement of the module (for inserting before it when there is nothing to go after). */
  first: SyntaxNode | null;
  /** The leading `import torch` / `from torch ...` statement, for stdlib imports to go before it. */
  firstTorchImport: SyntaxNode | null;
  /** The last leading import before firstTorchImport (the standard library group), if any. */
  beforeTorch: SyntaxNode | null;
}

// One walk of the module's statements per file, not one per finding: a file with n thread
// spawns has n fixes, and walking its n top-level statements for each was quadratic (issue 19).
const layoutCache = new WeakMap<Syntax, ModuleLayout>();

function layoutOf(syn: Syntax): ModuleLayout {
  let layout = layoutCache.get(syn);
  if (!layout) layoutCache.set(syn, (layout = computeLayout(syn)));
  return layout;
}

function computeLayout(syn: Syntax): ModuleLayout {
  const out: ModuleLayout = { torch: null, threading: null, after: null, first: null, firstTorchImport: null, beforeTorch: null };
  let leading = true;
  let index = 0;
  const statements = syn.root.namedChildren;
  count("fix-layout-statements", statements.length);
  for (const st of statements) {
    if (st.type === "comment") continue;
    out.first ??= st;
    const isDoc = index === 0 && st.type === "expression_statement" && st.namedChildCount === 1 && st.namedChildren[0].type === "string";
    index++;
    if (st.type === "import_statement") {
      for (const n of st.namedChildren) {
        const dotted = n.type === "aliased_import" ? n.childForFieldName("name") : n;
        const alias = n.type === "aliased_import" ? n.childForFieldName("alias")?.text ?? null : null;
        if (!dotted || dotted.type !== "dotted_name") continue;
        const name = dotted.text;
        if (name === "torch" || (!alias && name.startsWith("torch."))) out.torch ??= alias ?? "torch";
        // Only an import above the insertion point counts: helpers go after the leading imports,
        // and a module-level `import threading` further down would run after them (NameError).
        if (leading && name === "threading") out.threading ??= alias ?? "threading";
        if (leading && (name === "torch" || name.startsWith("torch."))) out.firstTorchImport ??= st;
      }
    } else if (st.type === "import_from_statement") {
      const mod = st.childForFieldName("module_name")?.text ?? "";
      if (leading && (mod === "torch" || mod.startsWith("torch."))) out.firstTorchImport ??= st;
    }
    if (leading && (isDoc || st.type === "future_import_statement" || st.type === "import_statement" || st.type === "import_from_statement")) {
      if (!out.firstTorchImport && (st.type === "import_statement" || st.type === "import_from_statement")) out.beforeTorch = st;
      out.after = st;
    } else leading = false;
  }
  return out;
}

/** Edits that make `import NAME` available at module level; the name to use. */
function ensureImport(syn: Syntax, layout: ModuleLayout, module: "torch" | "threading"): { name: string; edits: TextEdit[] } {
  const have = module === "torch" ? layout.torch : layout.threading;
  if (have) return { name: have, edits: [] };
  const line = `import ${module}`;
  // Standard library imports go after the imports before torch's (or just before it); torch
  // after the leading imports.
  if (module === "threading" && layout.beforeTorch) {
    const at = nextLineStart(syn, layout.beforeTorch.endIndex);
    return { name: module, edits: [edit(syn, at, at, line + syn.eol)] };
  }
  if (module === "threading" && layout.firstTorchImport) {
    const at = lineStart(syn, layout.firstTorchImport.startIndex);
    return { name: module, edits: [edit(syn, at, at, line + syn.eol)] };
  }
  return { name: module, edits: [insertAfterTopLevel(syn, layout, line + syn.eol, "")] };
}

/** Insert module-level text after the leading imports (or at the top). `gap` goes before it. */
function insertAfterTopLevel(syn: Syntax, layout: ModuleLayout, text: string, gap: string): TextEdit {
  if (layout.after) {
    const end = layout.after.endIndex;
    const at = nextLineStart(syn, end);
    const missingEol = eolOfLine(syn, end) === "" ? syn.eol : "";
    return edit(syn, at, at, missingEol + gap + text);
  }
  if (layout.first) {
    const at = lineStart(syn, layout.first.startIndex);
    return edit(syn, at, at, text + gap);
  }
  const at = syn.src.length;
  const missingEol = syn.src.length > 0 && !syn.src.endsWith("\n") ? syn.eol : "";
  return edit(syn, at, at, missingEol + text);
}

const topLevelDefsCache = new WeakMap<Syntax, Map<string, SyntaxNode>>();

/** The first top-level def, class or assignment of `name`. The table is built once per module:
 * a walk per finding made a file with thousands of findings quadratic. */
function topLevelDef(syn: Syntax, name: string): SyntaxNode | null {
  let defs = topLevelDefsCache.get(syn);
  if (!defs) {
    defs = new Map();
    for (const st of syn.root.namedChildren) {
      let defined: string | undefined;
      if (st.type === "function_definition" || st.type === "class_definition") defined = st.childForFieldName("name")?.text;
      else if (st.type === "expression_statement") {
        const a = st.namedChildren[0];
        if (a?.type === "assignment") defined = a.childForFieldName("left")?.text;
      }
      if (defined !== undefined && !defs.has(defined)) defs.set(defined, st);
    }
    topLevelDefsCache.set(syn, defs);
  }
  return defs.get(name) ?? null;
}

/** Blank lines right after `offset` (a line start). */
function blankLinesAt(syn: Syntax, offset: number): number {
  let n = 0;
  let at = offset;
  while (at < syn.src.length) {
    const next = nextLineStart(syn, at);
    if (syn.src.slice(at, next).trim() !== "") break;
    n++;
    at = next;
  }
  return n;
}

/**
 * Module-level helper code (a thread-local holder, a helper function or class): the blocks whose
 * name has no top-level definition yet, as one insertion after the leading imports, or after
 * helpers of ours already there (`anchors`), two blank lines around each (PEP 8).
 */
function ensureModuleBlocks(syn: Syntax, layout: ModuleLayout, blocks: { name: string; lines: string[] }[], anchors: string[]): TextEdit[] {
  const missing = blocks.filter((b) => !topLevelDef(syn, b.name));
  if (missing.length === 0) return [];
  const e = syn.eol;
  const body = missing.map((b) => b.lines.join(e) + e).join(e + e);
  const anchorNodes = anchors.map((a) => topLevelDef(syn, a)).filter((n): n is SyntaxNode => n !== null);
  const anchor = anchorNodes.sort((a, b) => b.endIndex - a.endIndex)[0] ?? layout.after;
  if (anchor) {
    const at = nextLineStart(syn, anchor.endIndex);
    const trail = at < syn.src.length ? e.repeat(Math.max(0, 2 - blankLinesAt(syn, at))) : "";
    return [edit(syn, at, at, (eolOfLine(syn, anchor.endIndex) === "" ? e : "") + e + e + body + trail)];
  }
  return [insertAfterTopLevel(syn, layout, body + e + e, "")];
}

function fix(applicability: Fix["applicability"], message: string, edits: TextEdit[]): Fix {
  // One edit per place: identical edits from several helpers collapse.
  const seen = new Set<string>();
  const unique = edits.filter((e) => {
    const k = `${e.startOffset}:${e.endOffset}:${e.content}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  // Stable: insertions at one point keep the order they were made in, and merge into one edit.
  unique.sort((a, b) => a.startOffset - b.startOffset || a.endOffset - b.endOffset);
  const merged: TextEdit[] = [];
  for (const e of unique) {
    const prev = merged[merged.length - 1];
    if (prev && prev.startOffset === prev.endOffset && e.startOffset === e.endOffset && prev.startOffset === e.startOffset) {
      merged[merged.length - 1] = { ...prev, content: prev.content + e.content };
    } else merged.push(e);
  }
  // A fix message can quote source text (the Event's constructor): no raw control bytes in it.
  return { applicability, message: escapeControl(message), edits: merged };
}

// ---- per-thread event sync (MPS001, and MPS004's wait) ------------------------------------------
//
// The wait replaces the device-wide sync where it stands, as a call of one module-level helper
// that gets the backend module from the call site (`_mps_lint_event_sync(torch.cuda)`): the wait
// then runs under exactly the conditions the sync ran under (its `if device == "cuda":`, its
// `try:`, its loop), through the module's own torch binding (an alias, a function-local import),
// and the module needs no new torch import. The helper keeps one Event per thread *and* device in
// a `threading.local` (never one per call or per executor task, MPS005's mistake; never one Event
// for a thread that moves between GPUs), made on first use and, where the backend has streams,
// recorded on the stream the thread had then (issue 15: `record()` without a stream pays a
// `current_stream()` lookup on every call).

/** Backends whose device-wide sync has a per-thread Event form; torch.accelerator has no Event module of its own. */
const PER_THREAD_BACKENDS = new Set(["mps", "cuda", "xpu"]);

export const THREAD_LOCAL = "_mps_lint_local";
export const EVENT_SYNC = "_mps_lint_event_sync";
export const WAIT_FOR_DEVICE = "_mps_lint_wait_for_device";
const PROXY = "_PerThreadEvent";
const OUR_HELPERS = [THREAD_LOCAL, EVENT_SYNC, WAIT_FOR_DEVICE, PROXY];

export function canSyncPerThread(backend: string): boolean {
  return PER_THREAD_BACKENDS.has(backend);
}

function eventSyncBlocks(syn: Syntax, threadingName: string): { name: string; lines: string[] }[] {
  const u = syn.indentUnit;
  return [
    { name: THREAD_LOCAL, lines: [`${THREAD_LOCAL} = ${threadingName}.local()`] },
    {
      name: EVENT_SYNC,
      lines: [
        `def ${EVENT_SYNC}(backend, device=None):`,
        `${u}"""Wait for the work this thread queued on \`backend\` (torch.cuda, torch.mps, torch.xpu), not`,
        `${u}for every thread's: one Event per thread and device, made on first use and recorded on the`,
        `${u}stream the thread used then. Added by mps-lint's fix (per-thread event sync)."""`,
        `${u}if not hasattr(backend, "Event"):  # torch.mps before torch 2.1: the device-wide wait is all there is`,
        `${u}${u}backend.synchronize()  # noqa: MPS001`,
        `${u}${u}return`,
        `${u}events = ${THREAD_LOCAL}.__dict__.setdefault("events", {})`,
        `${u}current_device = getattr(backend, "current_device", None)`,
        `${u}key = (backend.__name__, device if device is not None or current_device is None else current_device())`,
        `${u}if key not in events:`,
        `${u}${u}stream = backend.current_stream(device) if hasattr(backend, "current_stream") else None`,
        `${u}${u}events[key] = (backend.Event(), stream)`,
        `${u}event, stream = events[key]`,
        `${u}if stream is None:`,
        `${u}${u}event.record()`,
        `${u}else:`,
        `${u}${u}event.record(stream)`,
        `${u}event.synchronize()`,
      ],
    },
  ];
}

/** The backend module expression of a sync call `torch.cuda.synchronize(...)`: `torch.cuda`, or null. */
function backendModuleText(call: SyntaxNode): string | null {
  const fn = call.childForFieldName("function");
  if (!fn || fn.type !== "attribute" || fn.childForFieldName("attribute")?.text !== "synchronize") return null;
  const obj = fn.childForFieldName("object");
  // A plain dotted name (`torch.cuda`, `T.mps`, `cuda`): evaluating it again has no effect.
  if (!obj || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(obj.text)) return null;
  return obj.text;
}

/** The sync call's device argument (`torch.cuda.synchronize(dev)`), "" for none, null when not understood. */
function deviceArgText(call: SyntaxNode): string | null {
  const args = call.childForFieldName("arguments");
  if (!args) return "";
  const named = args.namedChildren.filter((n) => n.type !== "comment");
  if (named.length === 0) return "";
  if (named.length > 1) return null;
  const a = named[0];
  if (a.type === "keyword_argument") return a.childForFieldName("name")?.text === "device" ? a.childForFieldName("value")?.text ?? null : null;
  if (a.type === "list_splat" || a.type === "dictionary_splat") return null;
  return a.text;
}

// Comments that say the device-wide wait is meant: deliberate, or tied to another thread's (or
// stream's, client's, consumer's) work, which a per-thread Event would no longer wait for. A
// comment that calls the sync a mistake (`# WRONG: waits for every thread`) does not count.
const DELIBERATE_COMMENT =
  /\b(deliberate(ly)?|intentional(ly)?|on purpose|by design)\b|\b(other|another|all|every|each|any|some|worker|main|calling|producer|consumer)\s+(\w+\s+)?(threads?|streams?|workers?)\b|\binterleav\w*\s+sync|\b(clients?|consumers?|producers?|callers?)\b/i;
const CRITICAL_COMMENT = /\b(wrong|bad|mistake|slow(er)?|bottleneck|serializ\w*|bug|todo|fixme|hack|destroys?)\b/i;
// A benchmark or test about syncing itself (`benchmark_device_sync`, `measure_event_sync_vs_device_sync`,
// `test_synchronize_all_streams`; or a function named for syncing in a test or benchmark file):
// its device-wide wait is what it measures or tests. A sync helper elsewhere (`def _sync():`)
// is the fix's main case, not this.
const SYNC_SUBJECT = /sync/i;
const MEASURING = /test|bench|measure|profil|compar|validat|_vs_/i;
const BASELINE = /baseline|naive|unoptimi[sz]ed/i;
// A condition that picks the sync mode of a benchmark (`if sync_mode == "device":`, `if use_event:`).
const SYNC_MODE_CONDITION = /sync|event|mode/i;

/** The comments on the statement's line and the comment lines right above it. */
function commentsAround(syn: Syntax, stmt: SyntaxNode): string {
  const texts: string[] = [];
  const end = lineContentEnd(syn, stmt.endIndex);
  const trailing = syn.src.slice(stmt.endIndex, end);
  if (trailing.includes("#")) texts.push(trailing);
  let at = lineStart(syn, stmt.startIndex);
  while (at > 0) {
    const prev = lineStart(syn, at - 1);
    const line = syn.src.slice(prev, at).trim();
    if (!line.startsWith("#")) break;
    texts.push(line);
    at = prev;
  }
  return texts.join("\n");
}

// Receiving from another thread: `queue.get()`, `self._request_queue.get(timeout=...)`,
// `conn.recv()`, `future.result()`. (A plain `dict.get()` has no queue-like receiver.)
const HANDOVER_RECEIVER = /(queue|(^|[._])q|inbox|channel|requests?|pipe|conn)$/i;

/** A call before `stmt` in its function that receives tensors from another thread, as text, or null. */
function handedOverBefore(stmt: SyntaxNode): string | null {
  let def: SyntaxNode | null = stmt.parent;
  while (def && def.type !== "function_definition") def = def.parent;
  if (!def) return null;
  let found: string | null = null;
  const walk = (n: SyntaxNode) => {
    if (found || n.startIndex >= stmt.startIndex) return;
    if (n !== def && (n.type === "function_definition" || n.type === "lambda" || n.type === "class_definition")) return;
    if (n.type === "call") {
      const fn = n.childForFieldName("function");
      const method = fn?.type === "attribute" ? fn.childForFieldName("attribute")?.text : undefined;
      const receiver = fn?.type === "attribute" ? fn.childForFieldName("object")?.text ?? "" : "";
      if ((method === "get" || method === "get_nowait" || method === "recv") && HANDOVER_RECEIVER.test(receiver)) found = `${receiver}.${method}()`;
      else if (method === "result" && receiver !== "") found = `${receiver}.result()`;
    }
    for (const c of n.namedChildren) walk(c);
  };
  walk(def.childForFieldName("body") ?? def);
  return found;
}

/**
 * Why the device-wide sync at `range` is deliberate and gets no fix, or null: a comment says the
 * wait covers other threads' (or streams') work, or the sync is one arm of a sync-mode choice (a
 * benchmark comparing device sync with event sync: an `if` on a mode whose other arm records an
 * Event, or whose condition names the sync mode).
 */
export function deliberateSyncReason(ctx: Pick<RuleContext, "facts" | "source">, range: Range): string | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const call = nodeAt(syn, range, "call");
  const stmt = call && statementOf(call);
  if (!call || !stmt) return null;
  // The comments of the sync and of the guards around it (`# ...` above `if device == "mps":`).
  const commented = [stmt];
  for (let n: SyntaxNode | null = stmt.parent; n && n.type !== "function_definition" && n.type !== "module"; n = n.parent) {
    if (n.type === "if_statement" || n.type === "with_statement") commented.push(n);
  }
  const comments = commented.map((n) => commentsAround(syn, n)).join("\n");
  if (DELIBERATE_COMMENT.test(comments) && !CRITICAL_COMMENT.test(comments)) return "a comment ties this wait to more than this thread's work";
  const handover = handedOverBefore(stmt);
  if (handover) return `it follows \`${handover}\`, tensors handed over by another thread, whose queued work only a device-wide wait covers`;
  const names: string[] = [];
  for (let n: SyntaxNode | null = stmt.parent; n; n = n.parent) {
    const name = n.type === "function_definition" ? n.childForFieldName("name")?.text : undefined;
    if (name) names.push(name);
  }
  const named = names.find((n) => SYNC_SUBJECT.test(n));
  const measuring = [...names, ctx.facts.file.split(/[\\/]/).pop() ?? ""].some((n) => MEASURING.test(n));
  if (named && measuring) return `it is in \`${named}\`, a benchmark or test about syncing itself, where the device-wide wait is what it measures`;
  // A benchmark's naive baseline keeps its naive wait: it is what the optimized variant is compared to.
  const baseline = names.find((n) => BASELINE.test(n)) ?? (BASELINE.test(comments) ? "a comment" : undefined);
  if (baseline && measuring) return `it is the naive baseline of a benchmark (${baseline === "a comment" ? "so a comment says" : `\`${baseline}\``}), which the optimized variant is measured against`;
  for (let n: SyntaxNode | null = stmt.parent; n && n.type !== "function_definition" && n.type !== "module"; n = n.parent) {
    if (n.type !== "if_statement" && n.type !== "elif_clause" && n.type !== "else_clause") continue;
    const ifNode = n.type === "if_statement" ? n : n.parent;
    if (!ifNode || ifNode.type !== "if_statement") continue;
    const conditions = [ifNode.childForFieldName("condition"), ...ifNode.namedChildren.filter((c) => c.type === "elif_clause").map((c) => c.childForFieldName("condition"))];
    // The other arm waits another way (an Event, `.cpu()`, `.item()`): a choice of how to wait.
    const otherWait = /\.record\s*\(|\bEvent\s*\(|\.(cpu|item|tolist|numpy)\s*\(/.test(ifNode.text);
    const hasOtherArm = ifNode.namedChildren.some((c) => c.type === "else_clause" || c.type === "elif_clause");
    const namesMode = conditions.some((c) => c && SYNC_MODE_CONDITION.test(c.text));
    if (otherWait && hasOtherArm && namesMode) return "it is one arm of a sync-mode choice (device sync against another way to wait), which must stay a device sync";
  }
  return null;
}

/**
 * A per-thread event sync in place of the device-wide sync `call` (the guide's Pattern 2):
 * `_mps_lint_event_sync(torch.cuda[, device])`, with the helper added once per module.
 */
function eventSyncEdits(syn: Syntax, call: SyntaxNode): TextEdit[] | null {
  const backendText = backendModuleText(call);
  const device = deviceArgText(call);
  if (!backendText || device === null) return null;
  const layout = layoutOf(syn);
  const threading = ensureImport(syn, layout, "threading");
  const edits: TextEdit[] = [...threading.edits, ...ensureModuleBlocks(syn, layout, eventSyncBlocks(syn, threading.name), OUR_HELPERS)];
  edits.push(edit(syn, call.startIndex, call.endIndex, `${EVENT_SYNC}(${backendText}${device ? `, ${device}` : ""})`));
  return edits;
}

/** MPS001: the device-wide sync call at `range` replaced by a per-thread event sync, in place. */
export function deviceSyncFix(ctx: RuleContext, _fn: FnRef, range: Range, backend: string): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn || !PER_THREAD_BACKENDS.has(backend)) return null;
  const call = nodeAt(syn, range, "call");
  if (!call || !callStatement(call) || inFinally(call)) return null;
  const edits = eventSyncEdits(syn, call);
  if (!edits) return null;
  const module = backendModuleText(call)!;
  return fix("unsafe", `Wait for this thread's work only (per-thread event sync): \`${EVENT_SYNC}(${module})\` (one \`${module}.Event\` per thread and device, recorded on the thread's stream)`, edits);
}

// ---- MPS003: one Event per thread --------------------------------------------------------------

const PROXY_METHODS = /^(record|synchronize|wait|query)$/;

/** Is `n` the receiver of an Event method call: `n.record()`, `n.synchronize()`, ...? */
function isMethodReceiver(n: SyntaxNode): boolean {
  const p = n.parent;
  if (!p || p.type !== "attribute" || p.childForFieldName("object")?.id !== n.id) return false;
  if (!PROXY_METHODS.test(p.childForFieldName("attribute")?.text ?? "")) return false;
  const call = p.parent;
  return !!call && call.type === "call" && call.childForFieldName("function")?.id === p.id;
}

/**
 * Is every use of `name` under `scopeNode` (a bare name, or with `attr` the attribute `x.name`)
 * the receiver of an Event method call, apart from the binding itself?
 */
function onlyMethodReceiver(scopeNode: SyntaxNode, name: string, binding: SyntaxNode, attr: boolean): boolean {
  let ok = true;
  const walk = (n: SyntaxNode) => {
    if (!ok) return;
    if (attr && n.type === "attribute" && n.childForFieldName("attribute")?.text === name) {
      if (n.id !== binding.id && !isMethodReceiver(n)) ok = false;
    } else if (!attr && n.type === "identifier" && n.text === name && n.id !== binding.id) {
      const p = n.parent!;
      const unrelated =
        (p.type === "attribute" && p.childForFieldName("attribute")?.id === n.id) ||
        (p.type === "keyword_argument" && p.childForFieldName("name")?.id === n.id);
      if (!unrelated && !isMethodReceiver(n)) ok = false;
    }
    for (const c of n.namedChildren) walk(c);
  };
  walk(scopeNode);
  return ok;
}

/**
 * MPS003: the shared Event's constructor `NAME = torch.mps.Event(...)` (or `self.NAME = ...`)
 * becomes `NAME = _PerThreadEvent(torch.mps.Event, ...)`, a `threading.local` subclass that
 * makes one Event per thread on first use and forwards `record()`, `synchronize()`, ... to it.
 * Call sites stay as they are. Only when every use of the name is such a method call: an object
 * handed to torch (`stream.wait_event(ev)`) must be a real Event.
 */
export function sharedEventFix(ctx: RuleContext, ctorRange: Range): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const call = nodeAt(syn, ctorRange, "call");
  if (!call) return null;
  const assign = call.parent;
  if (!assign || assign.type !== "assignment" || assign.childForFieldName("right")?.id !== call.id) return null;
  const stmt = assign.parent;
  if (!stmt || stmt.type !== "expression_statement" || !statementOf(stmt) || inFinally(stmt)) return null;
  const left = assign.childForFieldName("left")!;
  let scopeNode: SyntaxNode;
  let ok: boolean;
  if (left.type === "identifier") {
    // The scope that binds it: the module, or the enclosing function (captured by closures).
    let s: SyntaxNode | null = stmt.parent;
    while (s && s.type !== "function_definition" && s.type !== "module" && s.type !== "class_definition") s = s.parent;
    if (!s || s.type === "class_definition") return null;
    scopeNode = s;
    ok = onlyMethodReceiver(scopeNode, left.text, left, false);
    if (ok && s.type === "function_definition") {
      // Not a parameter name used elsewhere, not rebound by nonlocal.
      const params = s.childForFieldName("parameters");
      if (params && identifiersIn(params).has(left.text)) ok = false;
    }
    if (ok && s.type === "module" && importedElsewhere(ctx, left.text)) ok = false;
  } else if (left.type === "attribute" && left.childForFieldName("object")?.type === "identifier") {
    scopeNode = syn.root;
    ok = onlyMethodReceiver(scopeNode, left.childForFieldName("attribute")!.text, left, true);
  } else return null;
  if (!ok) return null;
  // Module-level code runs top to bottom: the class must come before a module-level constructor.
  const layout = layoutOf(syn);
  if (scopeNode.type === "module" && layout.after && stmt.startIndex < layout.after.endIndex) return null;
  const fnNode = call.childForFieldName("function");
  const argsNode = call.childForFieldName("arguments");
  if (!fnNode || !argsNode || argsNode.type !== "argument_list") return null;
  const inner = syn.src.slice(argsNode.startIndex + 1, argsNode.endIndex - 1);
  const edits: TextEdit[] = [];
  const threading = ensureImport(syn, layout, "threading");
  edits.push(...threading.edits);
  const u = syn.indentUnit;
  const proxy = [
    `class ${PROXY}(${threading.name}.local):`,
    `${u}"""One Event per thread: each thread that uses it gets its own factory(*args, **kwargs)."""`,
    "",
    `${u}def __init__(self, factory, *args, **kwargs):`,
    `${u}${u}self._event = factory(*args, **kwargs)`,
    "",
    `${u}def __getattr__(self, name):`,
    `${u}${u}return getattr(self._event, name)`,
  ];
  edits.push(...ensureModuleBlocks(syn, layout, [{ name: PROXY, lines: proxy }], OUR_HELPERS));
  const rest = inner.trim() === "" ? "" : `, ${inner.replace(/^\s+/, "")}`;
  edits.push(edit(syn, call.startIndex, call.endIndex, `${PROXY}(${fnNode.text}${rest})`));
  return fix("unsafe", `Give each thread its own Event: \`${left.text} = ${PROXY}(${fnNode.text})\` (a threading.local)`, edits);
}

function importedElsewhere(ctx: RuleContext, name: string): boolean {
  const idx = ctx.project.index;
  return idx.modules.some((mod, m) => m !== ctx.m && mod.scopes.some((s) => s.bindings.some((b) => b.value.t === "import" && b.value.name === name)));
}

// ---- MPS005: hoist the Event out of the loop ----------------------------------------------------

const LOOPS = new Set(["for_statement", "while_statement"]);
const SCOPES = new Set(["function_definition", "lambda", "class_definition", "module"]);

function assignedIn(node: SyntaxNode): Set<string> {
  const out = new Set<string>();
  const targets = (t: SyntaxNode | null) => {
    if (t) for (const id of identifiersIn(t)) out.add(id);
  };
  const walk = (n: SyntaxNode) => {
    switch (n.type) {
      case "assignment":
      case "augmented_assignment":
        targets(n.childForFieldName("left"));
        break;
      case "for_statement":
      case "for_in_clause":
        targets(n.childForFieldName("left"));
        break;
      case "named_expression":
        targets(n.childForFieldName("name"));
        break;
      case "as_pattern":
        targets(n.childForFieldName("alias"));
        break;
      case "global_statement":
      case "nonlocal_statement":
        targets(n);
        break;
      default:
    }
    for (const c of n.namedChildren) walk(c);
  };
  walk(node);
  return out;
}

function containsCall(n: SyntaxNode): boolean {
  return n.type === "call" || n.namedChildren.some(containsCall);
}

function containsJump(n: SyntaxNode): boolean {
  if (/^(continue_statement|break_statement|return_statement|raise_statement|yield)$/.test(n.type)) return true;
  if (n.type === "function_definition" || n.type === "lambda" || n.type === "class_definition") return false;
  return n.namedChildren.some(containsJump);
}

/** Does the loop run its body at least once: `while True:`, `for _ in range(N)` with a literal N >= 1. */
function certainlyIterates(loop: SyntaxNode): boolean {
  if (loop.type === "while_statement") return /^(True|1)$/.test(loop.childForFieldName("condition")?.text ?? "");
  const right = loop.childForFieldName("right");
  if (!right || right.type !== "call" || right.childForFieldName("function")?.text !== "range") return false;
  const args = right.childForFieldName("arguments")?.namedChildren ?? [];
  const ints = args.map((a) => (a.type === "integer" ? parseInt(a.text, 10) : NaN));
  if (ints.length === 1) return ints[0] >= 1;
  if (ints.length === 2) return ints[1] > ints[0];
  return false;
}

/** MPS005: `ev = torch.mps.Event()` in a loop moved to just before the (outermost) loop. */
export function hoistEventFix(ctx: RuleContext, range: Range, name: string): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const call = nodeAt(syn, range, "call");
  if (!call) return null;
  const assign = call.parent;
  if (!assign || assign.type !== "assignment" || assign.childForFieldName("right")?.id !== call.id) return null;
  if (assign.childForFieldName("left")?.type !== "identifier" || assign.childForFieldName("left")?.text !== name) return null;
  const stmt = assign.parent;
  if (!stmt || stmt.type !== "expression_statement" || stmt.namedChildCount !== 1 || stmt.parent?.type !== "block") return null;
  if (!aloneOnLines(syn, stmt) || inFinally(stmt)) return null;
  // The outermost loop whose body runs the statement on every iteration: a conditional (`if`,
  // `try`, `match`) in between runs it only sometimes, and the Event must not be created where
  // the original did not create it (`if dev == "cuda": ev = torch.cuda.Event()` on a CPU run).
  let loop: SyntaxNode | null = null;
  for (let n: SyntaxNode | null = stmt.parent; n && !SCOPES.has(n.type); n = n.parent) {
    if (LOOPS.has(n.type)) {
      const body = n.childForFieldName("body");
      if (body && body.startIndex <= stmt.startIndex && stmt.endIndex <= body.endIndex) loop = n;
      else break; // in the loop's `else:` clause
    } else if (n.type !== "block" && n.type !== "with_statement") break;
  }
  if (!loop) return null;
  // Nothing before it in the loop body may skip it (`continue`, `break`, `return`, `raise`).
  for (let n: SyntaxNode = stmt; n.id !== loop.id; n = n.parent!) {
    const block = n.parent!;
    for (const sib of block.namedChildren) {
      if (sib.startIndex >= n.startIndex) break;
      if (/\b(continue|break|return|raise|yield)\b/.test(sib.text) && containsJump(sib)) return null;
    }
  }
  const before = syn.src.slice(lineStart(syn, loop.startIndex), loop.startIndex);
  if (!/^[ \t]*$/.test(before)) return null;
  // The constructor must not depend on anything the loop changes, nor call anything else.
  const args = call.childForFieldName("arguments");
  if (args && containsCall(args)) return null;
  const fnPart = call.childForFieldName("function");
  if (!fnPart || containsCall(fnPart)) return null;
  const changed = assignedIn(loop);
  const argNames = new Set<string>();
  const walk = (n: SyntaxNode) => {
    if (n.type === "keyword_argument") {
      const v = n.childForFieldName("value");
      if (v) walk(v);
      return;
    }
    if (n.type === "attribute") {
      const o = n.childForFieldName("object");
      if (o) walk(o);
      return;
    }
    if (n.type === "identifier") argNames.add(n.text);
    for (const c of n.namedChildren) walk(c);
  };
  walk(call);
  if ([...argNames].some((n) => changed.has(n) && n !== name)) return null;
  // The moved line keeps its trailing comment; continuation lines are re-indented with it.
  const stmtLineStart = lineStart(syn, stmt.startIndex);
  const oldIndent = syn.src.slice(stmtLineStart, stmt.startIndex);
  const newIndent = before;
  const moved = syn.src
    .slice(stmt.startIndex, lineContentEnd(syn, stmt.endIndex))
    .split(/(\r\n|\n)/)
    .map((part, i) => (i > 0 && i % 2 === 0 && part.startsWith(oldIndent) ? newIndent + part.slice(oldIndent.length) : part))
    .join("");
  const loopLine = lineStart(syn, loop.startIndex);
  const edits: TextEdit[] = [edit(syn, loopLine, loopLine, `${newIndent}${moved}${syn.eol}`)];
  const block = stmt.parent!;
  const siblings = block.namedChildren.filter((n) => n.type !== "comment");
  if (siblings.length === 1) {
    edits.push(edit(syn, stmt.startIndex, lineContentEnd(syn, stmt.endIndex), "pass"));
  } else {
    edits.push(edit(syn, stmtLineStart, nextLineStart(syn, stmt.endIndex), ""));
  }
  // A loop that may run no iteration (`for x in xs:` with xs empty) never made the Event; the fix
  // makes it anyway, which fails where the backend is absent: unsafe, unless the loop runs.
  const runs = certainlyIterates(loop);
  return fix(runs ? "safe" : "unsafe", runs ? `Create the Event once, before the loop` : `Create the Event once, before the loop (unsafe: it is then created even when the loop runs no iteration)`, edits);
}

// ---- MPS004: wait for the device before the closing clock read -------------------------------

function waitForDeviceBlock(syn: Syntax): { name: string; lines: string[] } {
  const u = syn.indentUnit;
  return {
    name: WAIT_FOR_DEVICE,
    lines: [
      `def ${WAIT_FOR_DEVICE}():`,
      `${u}"""Wait for the work this thread queued on each device backend in use (CUDA once initialized,`,
      `${u}MPS, XPU); nothing on CPU-only builds. Runs on any torch version. Added by mps-lint's fix."""`,
      `${u}import torch`,
      "",
      `${u}in_use = [torch.cuda] if torch.cuda.is_available() and torch.cuda.is_initialized() else []`,
      `${u}if hasattr(torch, "mps") and hasattr(torch.mps, "synchronize") and torch.backends.mps.is_available():`,
      `${u}${u}in_use.append(torch.mps)`,
      `${u}if hasattr(torch, "xpu") and hasattr(torch.xpu, "Event") and torch.xpu.is_available():`,
      `${u}${u}in_use.append(torch.xpu)`,
      `${u}for backend in in_use:`,
      `${u}${u}${EVENT_SYNC}(backend)`,
    ],
  };
}

/**
 * MPS004: a wait on its own line before the statement that reads the clock:
 * `_mps_lint_wait_for_device()`, a module-level helper that waits (per thread, so it is right in
 * thread code too) on whichever backends this torch build has in use, and does nothing on a CPU
 * build or an old torch: it runs wherever the timed code ran. The helper imports torch inside
 * its body, so the module keeps importing without torch.
 */
export function timingSyncFix(ctx: RuleContext, fn: FnRef, closeRange: Range, afterOffset: number, _backends?: string[], _inThread?: boolean): Fix | null {
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
  const blocks = [...eventSyncBlocks(syn, threading.name), waitForDeviceBlock(syn)];
  return fix("safe", `Insert \`${WAIT_FOR_DEVICE}()\` before reading the clock (waits on the backends in use, per thread)`, [
    ...threading.edits,
    ...ensureModuleBlocks(syn, layout, blocks, OUR_HELPERS),
    edit(syn, at, at, `${indentOf(syn, stmt.startIndex)}${WAIT_FOR_DEVICE}()${syn.eol}`),
  ]);
}

/** Never let a fix builder take a lint run down: a builder that throws gives no fix. */
export function safely(build: () => Fix | null): Fix | null {
  try {
    return build();
  } catch (e) {
    if (process.env.MPS_LINT_DEBUG) process.stderr.write(`mps-lint: fix not built: ${(e as Error).stack}\n`);
    return null;
  }
}
