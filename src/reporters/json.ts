// Ruff's JSON output schema (an array of findings with 1-based rows and columns), plus our
// `name`, `severity` and the witness `path`, so tools that read Ruff's JSON read ours.

import { publicDocUrl } from "./docs.js";
import type { ReportDiagnostic, ReportInput } from "./types.js";

export function toJsonObject(d: ReportDiagnostic) {
  return {
    code: d.code,
    name: d.name,
    message: d.message,
    severity: d.severity,
    filename: d.file,
    // Ruff: notebook findings carry the cell; rows are then relative to the cell.
    ...(d.cell !== undefined ? { cell: d.cell } : {}),
    location: { row: d.range.start.row + 1, column: d.range.start.column + 1 },
    end_location: { row: d.range.end.row + 1, column: d.range.end.column + 1 },
    noqa_row: d.range.start.row + 1,
    fix: d.fix
      ? {
          applicability: d.fix.applicability,
          message: d.fix.message,
          edits: d.fix.edits.map((e) => ({
            content: e.content,
            location: { row: e.range.start.row + 1, column: e.range.start.column + 1 },
            end_location: { row: e.range.end.row + 1, column: e.range.end.column + 1 },
          })),
        }
      : null,
    url: publicDocUrl(d.url),
    path: d.path.map((p) => ({
      filename: p.file,
      ...(p.cell !== undefined ? { cell: p.cell } : {}),
      location: { row: p.range.start.row + 1, column: p.range.start.column + 1 },
      label: p.label,
    })),
    ...(d.properties ? { properties: d.properties } : {}),
  };
}

export function json(input: ReportInput): string {
  return JSON.stringify(input.diagnostics.map(toJsonObject), null, 2) + "\n";
}

/** One JSON object a line (Ruff's json-lines). */
export function jsonLines(input: ReportInput): string {
  return input.diagnostics.map((d) => JSON.stringify(toJsonObject(d)) + "\n").join("");
}
