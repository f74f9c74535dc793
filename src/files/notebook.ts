// Jupyter notebooks as one Python module: the code cells in order (as a kernel runs them),
// each IPython magic or shell line replaced by a harmless line so that row numbers still match,
// and a map from each row of that module back to (cell, row in cell). Cells are numbered from 1
// by their position among all cells, as Ruff and Jupyter's UI count them.

import { readFileSync } from "node:fs";

export interface CellPosition {
  /** 1-based position of the cell in the notebook (markdown cells count). */
  cell: number;
  /** 0-based row in the cell. */
  row: number;
}

export interface NotebookModule {
  /** The concatenated Python source. */
  text: string;
  /** By row of `text`. */
  rows: CellPosition[];
  /** Problems worth telling the user about; the notebook is still linted. */
  warnings: string[];
}

export type NotebookResult = { ok: true; module: NotebookModule } | { ok: false; message: string };

// Cell magics whose body is Python; the body of any other (%%bash, %%html, ...) is not ours.
const PYTHON_CELL_MAGICS = new Set(["time", "timeit", "capture", "prun", "debug"]);

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A line of IPython syntax (magic, shell escape, help) becomes `pass`, or `x = None` for `x = !cmd`. */
function neutralize(line: string): string | null {
  const indent = /^[ \t]*/.exec(line)![0];
  const body = line.slice(indent.length);
  if (/^(%|!|\?)/.test(body)) return `${indent}pass`;
  if (/^[A-Za-z_][\w.]*\?\??\s*$/.test(body)) return `${indent}pass`; // obj? / obj??
  const assign = /^([A-Za-z_][\w, ]*=\s*)[%!]/.exec(body);
  if (assign) return `${indent}${assign[1]}None`;
  return null;
}

function cellSource(cell: Record<string, unknown>): string | null {
  const src = cell.source;
  if (typeof src === "string") return src;
  if (Array.isArray(src) && src.every((s) => typeof s === "string")) return src.join("");
  return null;
}

export function notebookToPython(json: string): NotebookResult {
  let doc: unknown;
  try {
    doc = JSON.parse(json.replace(/^\uFEFF/, ""));
  } catch (e) {
    return { ok: false, message: `not a valid notebook (invalid JSON: ${(e as Error).message}); skipped` };
  }
  if (!isTable(doc) || !Array.isArray(doc.cells)) {
    return { ok: false, message: 'not a valid notebook (no "cells" list); skipped' };
  }
  const meta = isTable(doc.metadata) ? doc.metadata : {};
  const kernel = isTable(meta.kernelspec) ? meta.kernelspec : {};
  const info = isTable(meta.language_info) ? meta.language_info : {};
  const language = (typeof kernel.language === "string" ? kernel.language : typeof info.name === "string" ? info.name : "python").toLowerCase();
  if (!language.startsWith("python")) {
    return { ok: false, message: `notebook kernel language is "${language}", not Python; skipped` };
  }
  const warnings: string[] = [];
  const out: string[] = [];
  const rows: CellPosition[] = [];
  doc.cells.forEach((cell, i) => {
    const number = i + 1;
    if (!isTable(cell)) {
      warnings.push(`cell ${number}: not a cell object; skipped`);
      return;
    }
    if (cell.cell_type !== "code") return;
    const src = cellSource(cell);
    if (src === null) {
      warnings.push(`cell ${number}: code cell without a "source" string or list; skipped`);
      return;
    }
    if (src.trim() === "") return;
    const lines = src.split(/\r\n|\n|\r/);
    if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
    let skipBody = false;
    const first = /^\s*%%(\w+)/.exec(lines[0]);
    if (first) skipBody = !PYTHON_CELL_MAGICS.has(first[1]);
    let continued = false;
    lines.forEach((line, row) => {
      let text: string;
      if (row === 0 && first) text = "pass";
      else if (skipBody) text = "";
      else if (continued) text = "";
      else text = neutralize(line) ?? line;
      // A magic continued with a trailing backslash swallows the next line too.
      const isMagic = text !== line;
      continued = isMagic && /\\\s*$/.test(line);
      out.push(text);
      rows.push({ cell: number, row });
    });
  });
  return { ok: true, module: { text: out.length > 0 ? out.join("\n") + "\n" : "", rows, warnings } };
}

export function readNotebook(file: string): NotebookResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return { ok: false, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  return notebookToPython(text);
}

export function isNotebook(file: string): boolean {
  return file.toLowerCase().endsWith(".ipynb");
}
