import path from "node:path";
import { escapeControl } from "../files/text.js";
import type { ReportDiagnostic } from "./types.js";

export { escapeControl };

/** Path as users expect to see it: relative to the working folder when inside it. */
export function displayPath(file: string, cwd: string): string {
  if (file === "-" || file.startsWith("<")) return file;
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel.split(path.sep).join("/") : file;
}

/**
 * A path for a line-oriented format: control characters (a newline in a file name would split a
 * finding over two lines and forge a second one) are written as escapes, like Python's repr.
 */
export function linePath(file: string, cwd: string): string {
  return escapeControl(displayPath(file, cwd));
}


/** "5:5", or Ruff's "cell 3:2:5" in a notebook. */
export function position(d: ReportDiagnostic): string {
  const rc = `${d.range.start.row + 1}:${d.range.start.column + 1}`;
  return d.cell !== undefined ? `cell ${d.cell}:${rc}` : rc;
}

/** Counts by severity. */
export function tally(diags: readonly { severity: ReportDiagnostic["severity"] }[]): { errors: number; warnings: number; infos: number } {
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  for (const d of diags) {
    if (d.severity === "error") errors++;
    else if (d.severity === "warning") warnings++;
    else infos++;
  }
  return { errors, warnings, infos };
}
