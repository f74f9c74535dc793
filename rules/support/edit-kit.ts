// The editing toolkit of the rules' fixes (see docs/fixes.md): a file's syntax, positions and
// edits, where a statement stands, what a fix may not touch (`finally:`), the module's imports and
// the place for module-level helpers, and the assembly of a Fix. No rule's decisions live here:
// each rule's fix builder stands beside its rule (`rules/<rule>.fix.ts`), and the Python the
// fixes add is written once in per-thread-event.ts.
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
  if (syntaxCache.has(ctx.facts)) {
    // Still a read of the text: the engine records the files whose text the rules read
    // (LintResult.textRead), and the language server keeps facts objects from one lint to the next.
    void ctx.source;
    return syntaxCache.get(ctx.facts)!;
  }
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

function positionOf(syn: Syntax, offset: number): Position {
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

/** The call spanning `range` when it is the whole right side of an assignment (`ev = torch.mps.Event()`), and that assignment. */
export function assignedCallAt(syn: Syntax, range: Range): { call: SyntaxNode; assign: SyntaxNode } | null {
  const call = nodeAt(syn, range, "call");
  if (!call) return null;
  const assign = call.parent;
  if (!assign || assign.type !== "assignment" || assign.childForFieldName("right")?.id !== call.id) return null;
  return { call, assign };
}

export function lineStart(syn: Syntax, offset: number): number {
  return syn.src.lastIndexOf("\n", offset - 1) + 1;
}

/** Offset just past the line ending of the line holding `offset` (end of file when none). */
export function nextLineStart(syn: Syntax, offset: number): number {
  const i = syn.src.indexOf("\n", offset);
  return i < 0 ? syn.src.length : i + 1;
}

/** The end of the line's content (before "\r\n" / "\n"). */
export function lineContentEnd(syn: Syntax, offset: number): number {
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

export function identifiersIn(node: SyntaxNode): Set<string> {
  const out = new Set<string>();
  const walk = (n: SyntaxNode) => {
    if (n.type === "identifier") out.add(n.text);
    for (const c of n.namedChildren) walk(c);
  };
  walk(node);
  return out;
}

/** The comments on the statement's line and the comment lines right above it. */
export function commentsAround(syn: Syntax, stmt: SyntaxNode): string {
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

// ---- where a fix may not go ---------------------------------------------------------------------

/** The innermost def or lambda around `node`, or null at module level. */
export function enclosingDef(node: SyntaxNode): SyntaxNode | null {
  for (let n = node.parent; n; n = n.parent) if (n.type === "function_definition" || n.type === "lambda") return n;
  return null;
}

export function isAsyncDef(def: SyntaxNode | null): boolean {
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

// ---- the module's imports and the place for module-level helpers -----------------------------

export interface ModuleLayout {
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

export function layoutOf(syn: Syntax): ModuleLayout {
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
export function ensureImport(syn: Syntax, layout: ModuleLayout, module: "torch" | "threading"): { name: string; edits: TextEdit[] } {
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
export function ensureModuleBlocks(syn: Syntax, layout: ModuleLayout, blocks: { name: string; lines: string[] }[], anchors: string[]): TextEdit[] {
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

// ---- the Fix ----------------------------------------------------------------------------------

export function fix(applicability: Fix["applicability"], message: string, edits: TextEdit[]): Fix {
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

/** Never let a fix builder take a lint run down: a builder that throws gives no fix. */
export function safely(build: () => Fix | null): Fix | null {
  try {
    return build();
  } catch (e) {
    if (process.env.MPS_LINT_DEBUG) process.stderr.write(`mps-lint: fix not built: ${(e as Error).stack}\n`);
    return null;
  }
}
