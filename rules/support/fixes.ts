// Fix construction for MPS001, MPS003, MPS004 and MPS005 (see docs/fixes.md).
//
// Facts carry no syntax tree, so a fix parses its file again (once per file, kept beside the
// facts) and works on tree-sitter nodes. Every builder is conservative: when the code around a
// finding has a shape it does not fully understand (a call that is not a statement of its own,
// a name that is used in other ways, a backend chosen at run time) it returns null. No fix is
// better than a wrong one. Inserted code uses the file's own line ending and indentation unit,
// and refers to torch and threading by the names the module imports them under.

import { count } from "../../src/timing.js";
import type { ModuleFacts } from "../../src/facts/model.js";
import { parsePython, type SyntaxNode } from "../../src/parse.js";
import type { FnRef } from "../../src/project/index.js";
import type { RuleContext } from "../../src/rule.js";
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
    const root = parsePython(src).rootNode;
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

// ---- the module's imports and the place for module-level helpers -----------------------------

interface ModuleLayout {
  /** Name torch is bound to at module level, null when the module does not import it. */
  torch: string | null;
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
        if (name === "threading") out.threading ??= alias ?? "threading";
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

function topLevelDef(syn: Syntax, name: string): SyntaxNode | null {
  for (const st of syn.root.namedChildren) {
    if (st.type === "function_definition" || st.type === "class_definition") {
      if (st.childForFieldName("name")?.text === name) return st;
    }
    if (st.type === "expression_statement") {
      const a = st.namedChildren[0];
      if (a?.type === "assignment" && a.childForFieldName("left")?.text === name) return st;
    }
  }
  return null;
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
  return { applicability, message, edits: merged };
}

// ---- per-thread event sync (MPS001, and MPS004 in thread code) --------------------------------

/** Event constructor (after the torch name) for a device-wide sync's backend; null: no fix. */
const EVENT_FOR_BACKEND: Record<string, { ctor: string; helper: string; attr: string } | undefined> = {
  mps: { ctor: "mps.Event", helper: "_thread_mps_event", attr: "mps_event" },
  cuda: { ctor: "cuda.Event", helper: "_thread_cuda_event", attr: "cuda_event" },
  xpu: { ctor: "xpu.Event", helper: "_thread_xpu_event", attr: "xpu_event" },
  // torch.accelerator.synchronize(): the current accelerator; torch.Event() takes the same one.
  accelerator: { ctor: "Event", helper: "_thread_event", attr: "event" },
};

export const THREAD_LOCAL = "_mps_lint_local";
const PROXY = "_PerThreadEvent";

export function canSyncPerThread(backend: string): boolean {
  return EVENT_FOR_BACKEND[backend] !== undefined;
}

function functionNode(syn: Syntax, ctx: RuleContext, fn: FnRef): SyntaxNode | null {
  const scope = ctx.facts.scopes[fn.s];
  if (scope.kind !== "function" || scope.isLambda) return null;
  const name = nodeAt(syn, scope.nameRange, "identifier");
  const def = name?.parent;
  return def && def.type === "function_definition" ? def : null;
}

/** Is fn where a thread starts: a spawn target, or called by a lambda that is one? */
export function isThreadEntry(ctx: RuleContext, fn: FnRef): boolean {
  const threads = ctx.project.threads;
  const r = threads.reachOf(fn);
  if (!r) return false;
  if (r.parent === null) return true;
  const [pm, ps] = r.parent.split(":").map(Number);
  const parent = ctx.project.index.modules[pm]?.scopes[ps];
  return !!parent && parent.isLambda && threads.reachOf({ m: pm, s: ps })?.parent === null;
}

/** The body's first statement after the docstring, for the event to go before it. */
function bodyStart(def: SyntaxNode): SyntaxNode | null {
  const body = def.childForFieldName("body");
  if (!body || body.type !== "block") return null;
  const stmts = body.namedChildren.filter((n) => n.type !== "comment");
  if (stmts.length === 0) return null;
  const first = stmts[0];
  const isDoc = first.type === "expression_statement" && first.namedChildCount === 1 && first.namedChildren[0].type === "string";
  let i = isDoc ? 1 : 0;
  // After events already made at the top (`event = torch.mps.Event()`), in the order they came.
  const isEventLine = (n: SyntaxNode) => {
    const a = n.type === "expression_statement" ? n.namedChildren[0] : null;
    const r = a?.type === "assignment" ? a.childForFieldName("right") : null;
    return !!r && r.type === "call" && /(^|\.)Event$/.test(r.childForFieldName("function")?.text ?? "");
  };
  while (i < stmts.length - 1 && isEventLine(stmts[i])) i++;
  return stmts[i] ?? null;
}

/** An existing `NAME = <torch>.<ctor>()` at the top level of the function, used only to record and wait. */
function existingSyncEvent(def: SyntaxNode, ctorText: string): string | null {
  const body = def.childForFieldName("body");
  if (!body) return null;
  for (const st of body.namedChildren) {
    if (st.type !== "expression_statement") continue;
    const a = st.namedChildren[0];
    if (a?.type !== "assignment") continue;
    const left = a.childForFieldName("left");
    const right = a.childForFieldName("right");
    if (left?.type !== "identifier" || right?.type !== "call") continue;
    const args = right.childForFieldName("arguments");
    if (right.childForFieldName("function")?.text !== ctorText || (args && args.namedChildren.length > 0 && !/^\(\s*enable_timing\s*=\s*False\s*\)$/.test(args.text))) continue;
    const name = left.text;
    let ok = true;
    let bindings = 0;
    const walk = (n: SyntaxNode) => {
      if (!ok) return;
      if (n.type === "identifier" && n.text === name) {
        const p = n.parent!;
        if (p.type === "assignment" && p.childForFieldName("left")?.id === n.id) bindings++;
        else if (!(p.type === "attribute" && p.childForFieldName("object")?.id === n.id && /^(record|synchronize)$/.test(p.childForFieldName("attribute")?.text ?? "") && p.parent?.type === "call")) ok = false;
      }
      for (const c of n.namedChildren) walk(c);
    };
    walk(body);
    if (ok && bindings === 1) return name;
  }
  return null;
}

function freshName(def: SyntaxNode, candidates: string[]): string | null {
  const used = identifiersIn(def);
  return candidates.find((c) => !used.has(c)) ?? null;
}

export type SyncSite = { kind: "replace"; call: SyntaxNode; stmt: SyntaxNode } | { kind: "before"; stmt: SyntaxNode };

/**
 * A per-thread Event sync at `site` (the guide's Pattern 2): in a thread's entry function one
 * Event is created at the top of the function; elsewhere (helpers, methods, context managers,
 * shared by several threads) a module-level `threading.local()` holds one Event per thread,
 * created on first use by a small helper. Then `record()` + `synchronize()` at the site.
 */
export function perThreadSyncFix(
  ctx: RuleContext,
  syn: Syntax,
  fn: FnRef,
  backend: string,
  site: SyncSite,
  applicability: Fix["applicability"],
  message: string,
): Fix | null {
  const spec = EVENT_FOR_BACKEND[backend];
  if (!spec) return null;
  const def = functionNode(syn, ctx, fn);
  if (!def) return null;
  const stmt = site.stmt;
  if (!aloneOnLines(syn, stmt) && site.kind === "before") return null;
  const layout = layoutOf(syn);
  const edits: TextEdit[] = [];
  const torch = ensureImport(syn, layout, "torch");
  edits.push(...torch.edits);
  const ctorText = `${torch.name}.${spec.ctor}`;
  let receiver: string;
  if (isThreadEntry(ctx, fn)) {
    const existing = existingSyncEvent(def, ctorText);
    if (existing) receiver = existing;
    else {
      // A function that waits on several backends names each event after its backend.
      const backends = new Set([...def.text.matchAll(/\b(mps|cuda|xpu|accelerator)\.synchronize\s*\(/g)].map((m) => m[1]));
      const plain = backends.size > 1 ? [] : ["event"];
      const name = freshName(def, [...plain, `${backend}_event`, "sync_event", `_${backend}_event`]);
      const first = bodyStart(def);
      if (!name || !first || first.startPosition.row === def.startPosition.row) return null;
      const at = lineStart(syn, first.startIndex);
      // PEP 8: a blank line between the new statement and a nested def or class.
      const gap = /^(function_definition|class_definition|decorated_definition)$/.test(first.type) ? syn.eol : "";
      edits.push(edit(syn, at, at, `${indentOf(syn, first.startIndex)}${name} = ${ctorText}()${syn.eol}${gap}`));
      receiver = name;
    }
  } else {
    const threading = ensureImport(syn, layout, "threading");
    edits.push(...threading.edits);
    const u = syn.indentUnit;
    const helpers = Object.values(EVENT_FOR_BACKEND).map((s) => s!.helper);
    const helper = [
      `def ${spec.helper}():`,
      `${u}"""This thread's ${ctorText}, created on its first use in the thread (per-thread event sync)."""`,
      `${u}event = getattr(${THREAD_LOCAL}, "${spec.attr}", None)`,
      `${u}if event is None:`,
      `${u}${u}event = ${THREAD_LOCAL}.${spec.attr} = ${ctorText}()`,
      `${u}return event`,
    ];
    const blocks = [
      { name: THREAD_LOCAL, lines: [`${THREAD_LOCAL} = ${threading.name}.local()`] },
      { name: spec.helper, lines: helper },
    ];
    edits.push(...ensureModuleBlocks(syn, layout, blocks, [THREAD_LOCAL, ...helpers, PROXY]));
    receiver = `${spec.helper}()`;
  }
  const indent = indentOf(syn, stmt.startIndex);
  if (site.kind === "replace") {
    const text = aloneOnLines(syn, stmt)
      ? `${receiver}.record()${eolOfLine(syn, stmt.startIndex) || syn.eol}${indent}${receiver}.synchronize()`
      : `${receiver}.record(); ${receiver}.synchronize()`;
    edits.push(edit(syn, site.call.startIndex, site.call.endIndex, text));
  } else {
    const at = lineStart(syn, stmt.startIndex);
    const eol = syn.eol;
    edits.push(edit(syn, at, at, `${indent}${receiver}.record()${eol}${indent}${receiver}.synchronize()${eol}`));
  }
  return fix(applicability, message, edits);
}

/** MPS001: the device-wide sync call at `range` in `fn`, replaced by a per-thread event sync. */
export function deviceSyncFix(ctx: RuleContext, fn: FnRef, range: Range, backend: string): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const call = nodeAt(syn, range, "call");
  const stmt = call && callStatement(call);
  if (!call || !stmt) return null;
  const spec = EVENT_FOR_BACKEND[backend];
  if (!spec) return null;
  return perThreadSyncFix(ctx, syn, fn, backend, { kind: "replace", call, stmt }, "unsafe", `Replace the device-wide sync with a per-thread \`torch.${spec.ctor}\` (record + synchronize)`);
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
  if (!stmt || stmt.type !== "expression_statement" || !statementOf(stmt)) return null;
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
  edits.push(...ensureModuleBlocks(syn, layout, [{ name: PROXY, lines: proxy }], [THREAD_LOCAL, ...Object.values(EVENT_FOR_BACKEND).map((s) => s!.helper)]));
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
  if (!aloneOnLines(syn, stmt)) return null;
  // The outermost loop of the function whose body holds the statement.
  let loop: SyntaxNode | null = null;
  for (let n: SyntaxNode | null = stmt.parent; n && !SCOPES.has(n.type); n = n.parent) {
    if (LOOPS.has(n.type)) {
      const body = n.childForFieldName("body");
      if (body && body.startIndex <= stmt.startIndex && stmt.endIndex <= body.endIndex) loop = n;
    }
  }
  if (!loop) return null;
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
  return fix("safe", `Create the Event once, before the loop`, edits);
}

// ---- MPS004: wait for the device before the closing clock read -------------------------------

/**
 * MPS004: a device sync on its own line before the statement that reads the clock. The backend
 * is the one the file targets; in a file that targets several (or names none),
 * `torch.accelerator.synchronize()`. In thread code a per-thread Event sync instead (a
 * device-wide sync there would wait for the other threads: MPS001).
 */
export function timingSyncFix(ctx: RuleContext, fn: FnRef, closeRange: Range, afterOffset: number, backends: string[], inThread: boolean): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const call = nodeAt(syn, closeRange, "call");
  if (!call) return null;
  const stmt = statementOf(call);
  if (!stmt || !SIMPLE_STATEMENTS.has(stmt.type) || !aloneOnLines(syn, stmt)) return null;
  // The wait must come after the device work it waits for.
  const at = lineStart(syn, stmt.startIndex);
  if (at < afterOffset) return null;
  const backend = backends.length === 1 ? backends[0] : "accelerator";
  if (backend === "accelerator" && ctx.settings.torchVersion && versionBelow(ctx.settings.torchVersion, [2, 6])) return null;
  if (inThread) {
    return perThreadSyncFix(ctx, syn, fn, backend, { kind: "before", stmt }, "safe", "Wait for this thread's device work (per-thread event) before reading the clock");
  }
  const layout = layoutOf(syn);
  const torch = ensureImport(syn, layout, "torch");
  const sync = `${torch.name}.${backend}.synchronize()`;
  return fix("safe", `Insert \`torch.${backend}.synchronize()\` before reading the clock`, [
    ...torch.edits,
    edit(syn, at, at, `${indentOf(syn, stmt.startIndex)}${sync}${syn.eol}`),
  ]);
}

function versionBelow(v: string, min: number[]): boolean {
  const parts = v.replace(/^v/i, "").split(/[+\s]/)[0].split(".").map((p) => parseInt(p, 10) || 0);
  for (let i = 0; i < min.length; i++) {
    const d = (parts[i] ?? 0) - min[i];
    if (d !== 0) return d < 0;
  }
  return false;
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
