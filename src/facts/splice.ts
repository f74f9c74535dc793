// An edit of a file's text as a map of positions, and facts compared through that map: what the
// language server's early cut-off asks (src/server/analysis.ts). When the facts of the edited
// text are the facts of the old text with their positions moved, the analysis sees the same
// program, so its findings are the old ones moved the same way.
//
// Two shapes of edit qualify, both keeping which positions share a row (suppression comments
// and findings are matched by row): an edit inside one line (no line break removed or added,
// not in the line's indentation: statement columns stay), and whole lines inserted or removed
// (rows below move together). Anything else is no splice: the caller lints.

import type { Position, Range } from "../types.js";
import type { ModuleFacts, ScopeFact } from "./model.js";

export interface Splice {
  /** Old text's offsets of the replaced span [start, end) (UTF-16 units, as the facts count). */
  start: number;
  end: number;
  /** Where the span starts and ends in the old text. */
  from: Position;
  to: Position;
  /** Where the old `to` is in the new text. */
  toAfter: Position;
  /** Offsets at or after `end` move by this much. */
  delta: number;
  /** Rows of the old text the edit touches: a finding or directive near them is not moved. */
  firstRow: number;
  lastRow: number;
}

const BREAK = /[\r\n]/;

/** The one splice that turns `old` into `next`, when it is one of the two shapes; else null. */
export function spliceBetween(old: string, next: string): Splice | null {
  if (old === next) return null;
  // Rows as the facts count them: a lone CR breaks a line (src/facts/extract.ts), and turning it
  // into a LF keeps every offset and column.
  old = asFactsSee(old);
  next = asFactsSee(next);
  if (old === next) return null;
  const max = Math.min(old.length, next.length);
  let p = 0;
  while (p < max && old.charCodeAt(p) === next.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && old.charCodeAt(old.length - 1 - s) === next.charCodeAt(next.length - 1 - s)) s++;
  let removed = old.slice(p, old.length - s);
  let inserted = next.slice(p, next.length - s);
  // A line inserted (or removed) whole can look like one that starts mid-line ("    # c\n    "
  // before "y"): move it back to the line start while the text allows.
  if (removed === "" || inserted === "") {
    let x = removed === "" ? inserted : removed;
    while (p > 0 && old[p - 1] !== "\n" && x.endsWith(old[p - 1])) {
      x = old[p - 1] + x.slice(0, -1);
      p--;
    }
    if (removed === "") inserted = x;
    else removed = x;
  }
  const start = p;
  const end = p + removed.length;
  const lineStart = old.lastIndexOf("\n", start - 1) + 1;
  const inLine = !BREAK.test(removed) && !BREAK.test(inserted);
  if (inLine) {
    // In the indentation, the edit would move where statements start.
    if (old.slice(lineStart, start).trim() === "") return null;
  } else {
    const wholeLines = (t: string) => t === "" || (t.endsWith("\n") && !t.includes("\r"));
    if (start !== lineStart || !wholeLines(removed) || !wholeLines(inserted)) return null;
  }
  const from = pointAt(old, start);
  const to = pointAt(old, end);
  const rowsIn = count(inserted, "\n");
  const lastBreak = inserted.lastIndexOf("\n");
  const toAfter = rowsIn === 0 ? { row: from.row, column: from.column + inserted.length } : { row: from.row + rowsIn, column: inserted.length - lastBreak - 1 };
  const lastRow = removed === "" ? from.row : to.column === 0 ? to.row - 1 : to.row;
  return { start, end, from, to, toAfter, delta: inserted.length - removed.length, firstRow: from.row, lastRow: Math.max(from.row, lastRow) };
}

function asFactsSee(text: string): string {
  return text.includes("\r") ? text.replace(/\r(?!\n)/g, "\n") : text;
}

function pointAt(text: string, offset: number): Position {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return { row: count(text.slice(0, lineStart), "\n"), column: offset - lineStart };
}

function count(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/** Thrown inside a map: a position lies in the replaced span, so the facts cannot be the same. */
class Inside extends Error {}

function before(a: Position, b: Position): boolean {
  return a.row < b.row || (a.row === b.row && a.column < b.column);
}

/**
 * A position of the old text in the new one (throws Inside for one in the replaced span). Where
 * a node starts or ends decides a tie at the edit: a node that ends where text is inserted stays
 * before it, one that starts there moves after it.
 */
export function movePoint(p: Position, sp: Splice, end = false): Position {
  if (end ? !before(sp.from, p) : before(p, sp.from)) return p;
  if (end ? !before(sp.to, p) : before(p, sp.to)) throw new Inside();
  if (p.row === sp.to.row) return { row: sp.toAfter.row, column: sp.toAfter.column + (p.column - sp.to.column) };
  return { row: p.row + (sp.toAfter.row - sp.to.row), column: p.column };
}

/** An offset of the old text in the new one; `end`: an end offset (see movePoint). */
export function moveOffset(o: number, sp: Splice, end = false): number {
  if (end ? o <= sp.start : o < sp.start) return o;
  if (end ? o <= sp.end : o < sp.end) throw new Inside();
  return o + sp.delta;
}

export function moveRange(r: Range, sp: Splice): Range {
  return { start: r.start === UNSTARTED ? r.start : movePoint(r.start, sp), end: movePoint(r.end, sp, true) };
}

/**
 * The old facts with every position moved by the splice, or null when one lies in the replaced
 * span. Positions in facts: `range` and `nameRange` (points), `end` and `at` (offsets), a
 * comment's `row` and `column`, a truth test's `row`, and `lineCount`.
 */
export function moveFacts(facts: ModuleFacts, sp: Splice): ModuleFacts | null {
  const rowsAdded = sp.toAfter.row - sp.to.row;
  const move = (v: unknown, key: string): unknown => {
    if (v === UNSTARTED) return v;
    if (Array.isArray(v)) return v.map((x) => move(x, ""));
    if (v === null || typeof v !== "object") {
      if (typeof v === "number" && (key === "end" || key === "at")) return moveOffset(v, sp, key === "end");
      return v;
    }
    const o = v as Record<string, unknown>;
    if (key === "range" || key === "nameRange") return moveRange(o as unknown as Range, sp);
    const out: Record<string, unknown> = {};
    if (typeof o.row === "number") {
      // A comment (row and column) or a truth test (its row alone: the row's start).
      const at = movePoint({ row: o.row, column: typeof o.column === "number" ? o.column : 0 }, sp);
      for (const k of Object.keys(o)) out[k] = k === "row" ? at.row : k === "column" && typeof o.column === "number" ? at.column : move(o[k], k);
      return out;
    }
    for (const k of Object.keys(o)) out[k] = move(o[k], k);
    return out;
  };
  try {
    const moved = move({ ...facts, scopes: facts.scopes.map(unstarted) }, "") as ModuleFacts;
    moved.lineCount = facts.lineCount + rowsAdded;
    return moved;
  } catch (e) {
    if (e instanceof Inside) return null;
    throw e;
  }
}

/**
 * Are `next`'s facts `old`'s with their positions moved by the splice: "same"; the same but for
 * the suppression comments (no rule reads them: only the stages after the engine do), "comments";
 * else "different". The old facts are moved once.
 */
export function compareMovedFacts(old: ModuleFacts, next: ModuleFacts, sp: Splice): "same" | "comments" | "different" {
  // Comments apart: an edit may remove or rewrite one (a position in the replaced span).
  const moved = moveFacts({ ...old, comments: [] }, sp);
  if (!moved || JSON.stringify(moved) !== JSON.stringify({ ...next, scopes: next.scopes.map(unstarted), comments: [] })) return "different";
  let comments: ModuleFacts["comments"];
  try {
    comments = old.comments.map((c) => ({ ...c, ...movePoint(c, sp) }));
  } catch (e) {
    if (e instanceof Inside) return "comments";
    throw e;
  }
  return JSON.stringify(comments) === JSON.stringify(next.comments) ? "same" : "comments";
}

// The module starts at its first token or comment, so a comment inserted or removed at the top
// moves its start however the rest moves; where the module starts is no position the analysis
// compares. Both sides leave it out.
const UNSTARTED = { row: -1, column: -1 };

function unstarted(sc: ScopeFact): ScopeFact {
  return sc.kind === "module" ? { ...sc, range: { ...sc.range, start: UNSTARTED }, nameRange: { ...sc.nameRange, start: UNSTARTED } } : sc;
}
