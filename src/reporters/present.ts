// Findings as reporters see them (ReportDiagnostic): the message rendered from its template, rows
// of notebook findings (and of their witness steps) relative to their cell, columns in characters
// where the format counts characters. The one place where locations become text for a reader.

import type { CellPosition } from "../files/notebook.js";
import type { Rule } from "../engine/rule.js";
import type { Diagnostic, Range } from "../types.js";
import { renderMessage } from "./message.js";
import type { ReportDiagnostic } from "./types.js";

export interface PresentOptions {
  /** Paths in messages are relative to this folder. */
  cwd: string;
  /** Notebooks' row maps (src/files/notebook.ts), by file. */
  cells?: ReadonlyMap<string, readonly CellPosition[]>;
  /** Columns in characters (Ruff's convention); absent: UTF-16 code units, as found (SARIF, LSP). */
  columns?: (file: string, row: number, column: number) => number;
  /** Baseline fingerprints, by index. */
  fingerprints?: readonly string[];
  rules?: readonly Rule[];
}

export function presentDiagnostics(diagnostics: readonly Diagnostic[], opts: PresentOptions): ReportDiagnostic[] {
  const cells = opts.cells ?? new Map<string, readonly CellPosition[]>();
  const ctx = { cwd: opts.cwd, cellsOf: (f: string) => cells.get(f), rules: opts.rules };
  return diagnostics.map((raw, i) => {
    const d = opts.columns ? inChars(raw, opts.columns) : raw;
    const message = renderMessage(d, ctx);
    const fingerprint = opts.fingerprints?.[i];
    const at = inCell(d.file, d.range, cells);
    return {
      ...d,
      message,
      ...(fingerprint !== undefined ? { fingerprint } : {}),
      // Notebook findings carry no fix: their edits are offsets in the concatenated cells.
      ...(cells.has(d.file) ? { fix: null } : {}),
      range: at.range,
      ...(at.cell !== undefined ? { cell: at.cell } : {}),
      path: d.path.map((p) => {
        const m = inCell(p.file, p.range, cells);
        return { ...p, range: m.range, ...(m.cell !== undefined ? { cell: m.cell } : {}) };
      }),
    };
  });
}

/** A range of a notebook's concatenated text as rows of its cell. */
function inCell(file: string, r: Range, cells: ReadonlyMap<string, readonly CellPosition[]>): { range: Range; cell?: number } {
  const rows = cells.get(file);
  if (!rows) return { range: r };
  const s = rows[r.start.row];
  const e = rows[r.end.row];
  if (!s) return { range: r };
  const end = e && e.cell === s.cell ? { row: e.row, column: r.end.column } : { row: s.row, column: r.start.column };
  return { range: { start: { row: s.row, column: r.start.column }, end }, cell: s.cell };
}

/** A diagnostic with every column (finding, witness path, fix edits) in characters. */
function inChars(d: Diagnostic, col: (file: string, row: number, column: number) => number): Diagnostic {
  const r = (file: string, x: Range): Range => ({
    start: { row: x.start.row, column: col(file, x.start.row, x.start.column) },
    end: { row: x.end.row, column: col(file, x.end.row, x.end.column) },
  });
  return {
    ...d,
    range: r(d.file, d.range),
    path: d.path.map((p) => ({ ...p, range: r(p.file, p.range) })),
    fix: d.fix ? { ...d.fix, edits: d.fix.edits.map((e) => ({ ...e, range: r(d.file, e.range) })) } : null,
  };
}
