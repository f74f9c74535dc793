// --fix, --unsafe-fixes, --diff: applying the fixes rules attach to their findings, as Ruff does.
//
// A fix is `safe` (applied with --fix) or `unsafe` (only with --unsafe-fixes too). Fixes are
// applied to a fixpoint: each pass applies the non-overlapping fixes of every file (identical
// edits from several fixes, such as the same `import threading`, count once), then the whole
// project is linted again with the new text and the fixes still found are applied, until none is
// left or MAX_PASSES is reached. A file whose new text does not parse (tree-sitter ERROR or
// MISSING nodes) is never produced: the fixes responsible are dropped and reported. Files with
// syntax errors are not fixed at all. Nothing is written here: the caller writes (atomically,
// src/files/write.ts) or prints a diff.

import { accessSync, constants, statSync } from "node:fs";
import { parsePython, type SyntaxNode } from "../facts/parse.js";
import { readPython } from "../files/source.js";
import type { Diagnostic, TextEdit } from "../types.js";
import { writeFileAtomic } from "../files/write.js";

export const MAX_PASSES = 10;

export function isApplicable(d: Diagnostic, unsafe: boolean): boolean {
  return !!d.fix && d.fix.edits.length > 0 && (d.fix.applicability === "safe" || unsafe);
}

/** Number of ERROR and MISSING nodes in the parse of `text`. */
export function syntaxErrorCount(text: string): number {
  const root = parsePython(text).rootNode;
  if (!root.hasError) return 0;
  let n = 0;
  const walk = (node: SyntaxNode) => {
    if (node.type === "ERROR" || node.isMissing) n++;
    if (node.hasError) for (const c of node.children) walk(c);
  };
  walk(root);
  return Math.max(n, 1);
}

const sameEdit = (a: TextEdit, b: TextEdit) => a.startOffset === b.startOffset && a.endOffset === b.endOffset && a.content === b.content;
/** Closed intervals: an insertion where another edit starts or ends is ambiguous, so it waits. */
const conflicts = (a: TextEdit, b: TextEdit) => a.startOffset <= b.endOffset && b.startOffset <= a.endOffset;

export interface Applied {
  text: string;
  applied: Diagnostic[];
  /** Fixes that overlap an applied one: for the next pass. */
  deferred: Diagnostic[];
}

/**
 * Apply the fixes of one file's findings that do not overlap, first ones (by position) first.
 * Edits identical to one already taken are shared, not applied twice.
 */
export function applyFixes(text: string, diagnostics: readonly Diagnostic[]): Applied {
  const start = (d: Diagnostic) => Math.min(...d.fix!.edits.map((e) => e.startOffset));
  const sorted = diagnostics.filter((d) => d.fix && d.fix.edits.length > 0).sort((a, b) => start(a) - start(b) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  const taken: TextEdit[] = [];
  const applied: Diagnostic[] = [];
  const deferred: Diagnostic[] = [];
  for (const d of sorted) {
    const edits = d.fix!.edits;
    const bad = edits.some((e) => e.startOffset < 0 || e.endOffset > text.length || e.startOffset > e.endOffset);
    if (bad) continue;
    const fresh = edits.filter((e) => !taken.some((t) => sameEdit(t, e)));
    if (fresh.some((e) => taken.some((t) => conflicts(t, e)))) {
      deferred.push(d);
      continue;
    }
    // Edits of one fix may share an insertion point (kept in their order) but must not overlap.
    taken.push(...fresh);
    applied.push(d);
  }
  // Stable sort: insertions at one point stay in the order their fix listed them.
  const ordered = taken.map((e, i) => ({ e, i })).sort((a, b) => a.e.startOffset - b.e.startOffset || a.e.endOffset - b.e.endOffset || a.i - b.i);
  let out = "";
  let pos = 0;
  for (const { e } of ordered) {
    if (e.startOffset < pos) continue; // overlap inside one fix: never produced by our rules
    out += text.slice(pos, e.startOffset) + e.content;
    pos = e.endOffset;
  }
  out += text.slice(pos);
  return { text: out, applied, deferred };
}

export interface FixLoopInput {
  /** Findings of the first pass (after selection, suppressions and baseline). */
  diagnostics: Diagnostic[];
  /** The text the findings' offsets refer to. */
  source(file: string): string;
  /** Lint again with these files' texts replaced; the findings, filtered as the first pass. */
  relint(texts: ReadonlyMap<string, string>): Diagnostic[];
  unsafe: boolean;
  /** May this file be fixed (a UTF-8 file on disk or standard input; not a notebook)? */
  editable(file: string): boolean;
  maxPasses?: number;
  /**
   * The findings handed in may come from the results cache (src/facts/cache.ts), whose edits
   * must never be replayed: the files that have fixes are linted again from their current text
   * (`relint` with that text) and only the fixes found then are applied.
   */
  recompute?: boolean;
}

export interface FixLoopResult {
  /** New text of each file that changed. */
  texts: Map<string, string>;
  /** Text before any fix, of each file that changed. */
  originals: Map<string, string>;
  /** file -> code -> number of findings fixed. */
  fixed: Map<string, Map<string, number>>;
  /** Findings after the last pass (the first pass's when nothing changed). */
  diagnostics: Diagnostic[];
  problems: { file: string; message: string }[];
  /** False when fixes were still being found after the last pass. */
  converged: boolean;
}

function signature(d: Diagnostic, text: string): string {
  const edits = d.fix!.edits.map((e) => [text.slice(e.startOffset, e.endOffset), e.content]);
  const line = text.split("\n")[d.range.start.row] ?? "";
  return JSON.stringify([d.file, d.code, line.trim(), edits]);
}

export function fixLoop(input: FixLoopInput): FixLoopResult {
  const maxPasses = input.maxPasses ?? MAX_PASSES;
  const texts = new Map<string, string>();
  const originals = new Map<string, string>();
  const fixed = new Map<string, Map<string, number>>();
  const problems: { file: string; message: string }[] = [];
  const rejected = new Set<string>();
  const broken = new Set<string>();
  const current = (file: string) => texts.get(file) ?? input.source(file);
  let diagnostics = input.diagnostics;
  if (input.recompute) {
    const now = new Map<string, string>();
    for (const d of diagnostics) if (isApplicable(d, input.unsafe) && !now.has(d.file) && input.editable(d.file)) now.set(d.file, input.source(d.file));
    if (now.size > 0) diagnostics = input.relint(now);
  }
  let converged = true;
  for (let pass = 0; ; pass++) {
    const byFile = new Map<string, Diagnostic[]>();
    for (const d of diagnostics) {
      if (pass === 0 && !broken.has(d.file) && input.editable(d.file) && /\r(?!\n)/.test(current(d.file))) {
        // A lone "\r" ends a line for Python but not for the fixes' line arithmetic (an inserted
        // line could land inside another), so such a file gets no fix; say so rather than guess.
        broken.add(d.file);
        problems.push({ file: d.file, message: "has carriage-return-only (\\r) line endings; no fixes applied (convert them to \\n or \\r\\n first)" });
      }
      if (!isApplicable(d, input.unsafe) || broken.has(d.file) || !input.editable(d.file)) continue;
      if (rejected.has(signature(d, current(d.file)))) continue;
      let l = byFile.get(d.file);
      if (!l) byFile.set(d.file, (l = []));
      l.push(d);
    }
    if (byFile.size === 0) break;
    if (pass >= maxPasses) {
      converged = false;
      break;
    }
    let changed = false;
    for (const [file, list] of byFile) {
      const text = current(file);
      if (pass === 0 && syntaxErrorCount(text) > 0) {
        broken.add(file);
        problems.push({ file, message: "the file has syntax errors; no fixes applied" });
        continue;
      }
      let r = applyFixes(text, list);
      if (r.applied.length === 0) continue;
      if (syntaxErrorCount(r.text) > 0) {
        // Find the fixes that break the parse on their own, drop them, try the rest together.
        const good: Diagnostic[] = [];
        for (const d of r.applied) {
          if (syntaxErrorCount(applyFixes(text, [d]).text) === 0) good.push(d);
          else {
            rejected.add(signature(d, text));
            problems.push({ file, message: `${d.code} fix at line ${d.range.start.row + 1} would not parse; not applied (${d.fix!.message})` });
          }
        }
        r = applyFixes(text, good);
        if (r.applied.length === 0) continue;
        if (syntaxErrorCount(r.text) > 0) {
          for (const d of r.applied) rejected.add(signature(d, text));
          problems.push({ file, message: "the fixes together would not parse; none applied" });
          continue;
        }
      }
      if (r.text === text) continue;
      if (!originals.has(file)) originals.set(file, text);
      texts.set(file, r.text);
      let counts = fixed.get(file);
      if (!counts) fixed.set(file, (counts = new Map()));
      for (const d of r.applied) counts.set(d.code, (counts.get(d.code) ?? 0) + 1);
      changed = true;
    }
    if (!changed) break;
    diagnostics = input.relint(texts);
  }
  // A file fixed back to its original text is no change.
  for (const [file, t] of texts) {
    if (originals.get(file) === t) {
      texts.delete(file);
      originals.delete(file);
    }
  }
  return { texts, originals, fixed, diagnostics, problems, converged };
}

export function fixedCount(fixed: FixLoopResult["fixed"]): number {
  let n = 0;
  for (const m of fixed.values()) for (const c of m.values()) n += c;
  return n;
}

// ---- unified diff ------------------------------------------------------------------------------

function splitKeep(text: string): string[] {
  return text === "" ? [] : text.split(/(?<=\n)/);
}

type Op = { k: " " | "-" | "+"; line: string };

/** Line diff: common prefix and suffix, then an LCS of the middle (bounded). */
function diffLines(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const mid: Op[] = [];
  if (am.length * bm.length > 4_000_000) {
    for (const l of am) mid.push({ k: "-", line: l });
    for (const l of bm) mid.push({ k: "+", line: l });
  } else {
    const n = am.length;
    const m = bm.length;
    const L: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = am[i] === bm[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        mid.push({ k: " ", line: am[i] });
        i++;
        j++;
      } else if (i < n && (j === m || L[i + 1][j] >= L[i][j + 1])) mid.push({ k: "-", line: am[i++] });
      else mid.push({ k: "+", line: bm[j++] });
    }
  }
  return [...a.slice(0, pre).map((line) => ({ k: " " as const, line })), ...mid, ...a.slice(a.length - suf).map((line) => ({ k: " " as const, line }))];
}

/** A unified diff (3 lines of context) from `before` to `after`; "" when they are equal. */
export function unifiedDiff(before: string, after: string, fromName: string, toName: string, context = 3): string {
  if (before === after) return "";
  const ops = diffLines(splitKeep(before), splitKeep(after));
  const out: string[] = [`--- ${fromName}\n`, `+++ ${toName}\n`];
  const changes = ops.map((o, i) => (o.k !== " " ? i : -1)).filter((i) => i >= 0);
  let h = 0;
  while (h < changes.length) {
    let end = h;
    while (end + 1 < changes.length && changes[end + 1] - changes[end] <= 2 * context + 1) end++;
    const from = Math.max(0, changes[h] - context);
    const to = Math.min(ops.length, changes[end] + context + 1);
    let aStart = 1;
    let bStart = 1;
    for (let i = 0; i < from; i++) {
      if (ops[i].k !== "+") aStart++;
      if (ops[i].k !== "-") bStart++;
    }
    const slice = ops.slice(from, to);
    const aLen = slice.filter((o) => o.k !== "+").length;
    const bLen = slice.filter((o) => o.k !== "-").length;
    out.push(`@@ -${aLen === 0 ? aStart - 1 : aStart},${aLen} +${bLen === 0 ? bStart - 1 : bStart},${bLen} @@\n`);
    for (const o of slice) {
      // Each line keeps its own ending: a CRLF file's diff has CRLF lines, as `git diff` writes
      // them, so `git apply` (and `patch`) match them byte for byte.
      if (o.line.endsWith("\n")) out.push(`${o.k}${o.line}`);
      else out.push(`${o.k}${o.line}\n`, "\\ No newline at end of file\n");
    }
    h = end + 1;
  }
  return out.join("");
}

// ---- writing -----------------------------------------------------------------------------------

/**
 * Write the fixed files atomically, keeping their BOM and mode (line endings and indentation
 * are kept by the edits themselves). A file that changed on disk since it was read, or that is
 * read-only, is not written. Returns a problem for each file not written.
 */
export function writeFixed(texts: ReadonlyMap<string, string>, originals: ReadonlyMap<string, string>): { file: string; message: string }[] {
  const problems: { file: string; message: string }[] = [];
  for (const [file, text] of texts) {
    let src;
    try {
      src = readPython(file);
    } catch (e) {
      problems.push({ file, message: `cannot read it again to write the fixes: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
      continue;
    }
    if (src.text !== originals.get(file)) {
      problems.push({ file, message: "changed on disk while it was being fixed; fixes not written" });
      continue;
    }
    if (readOnly(file)) {
      problems.push({ file, message: "is read-only; fixes not written, its findings remain (make it writable to fix it)" });
      continue;
    }
    try {
      writeFileAtomic(file, (src.hadBom ? "\uFEFF" : "") + text);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      problems.push({ file, message: `cannot write the fixes (${err.code ?? "error"}: ${String(err.message ?? e).replace(/^\w+: /, "").split(",")[0]}); the file is unchanged and its findings remain` });
    }
  }
  return problems;
}

/**
 * A file nobody may write (no write bit in its mode, `chmod 444`), or that this user may not: left
 * alone. Replacing it by rename would succeed wherever its folder is writable (and always for
 * root), silently overriding the read-only mark.
 */
function readOnly(file: string): boolean {
  try {
    if ((statSync(file).mode & 0o222) === 0) return true;
    accessSync(file, constants.W_OK);
    return false;
  } catch {
    return true;
  }
}

/**
 * Files whose fixes could not be written (a full disk, a read-only folder, a file changed
 * meanwhile) keep their first-pass findings, and their fixes are not counted as made: the exit
 * status and "N remaining" then count them as what they are, still there. Returns the source
 * function to report with (the files' text as on disk for the unwritten ones).
 */
export function keepUnwritten(
  outcome: FixLoopResult,
  firstPass: readonly Diagnostic[],
  unwritten: readonly { file: string }[],
  diskSource: (file: string) => string,
  fixedSource: (file: string) => string,
): (file: string) => string {
  const files = new Set(unwritten.map((p) => p.file));
  if (files.size === 0) return fixedSource;
  outcome.diagnostics = [...outcome.diagnostics.filter((d) => !files.has(d.file)), ...firstPass.filter((d) => files.has(d.file))];
  for (const f of files) {
    outcome.fixed.delete(f);
    outcome.texts.delete(f);
    outcome.originals.delete(f);
  }
  return (file) => (files.has(file) ? diskSource(file) : fixedSource(file));
}
