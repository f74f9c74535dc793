// reviewdog's Diagnostic Format (rdjson), as Ruff's `rdjson` format: one JSON object with every
// finding, its fix as suggestions and its witness path as related locations.
// https://github.com/reviewdog/reviewdog/tree/master/proto/rdf

import { displayPath } from "./paths.js";
import type { Range } from "../types.js";
import type { ReportInput } from "./types.js";

const SEVERITY = { error: "ERROR", warning: "WARNING", info: "INFO" } as const;

/** rdjson positions are 1-based lines and columns. */
const range = (r: Range) => ({
  start: { line: r.start.row + 1, column: r.start.column + 1 },
  end: { line: r.end.row + 1, column: r.end.column + 1 },
});

export function rdjson(input: ReportInput): string {
  const doc = {
    source: { name: "mps-lint" },
    severity: "ERROR",
    diagnostics: input.diagnostics.map((d) => ({
      message: d.cell !== undefined ? `cell ${d.cell}: ${d.message}` : d.message,
      location: { path: displayPath(d.file, input.cwd), range: range(d.range) },
      severity: SEVERITY[d.severity],
      code: { value: d.code, ...(d.url.startsWith("http") ? { url: d.url } : {}) },
      ...(d.fix ? { suggestions: d.fix.edits.map((e) => ({ range: range(e.range), text: e.content })) } : {}),
      ...(d.path.length > 0
        ? {
            related_locations: d.path.map((s) => ({
              message: s.label,
              location: { path: displayPath(s.file, input.cwd), range: range(s.range) },
            })),
          }
        : {}),
    })),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
