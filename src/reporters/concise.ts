import { linePath, position } from "./paths.js";
import { summaryLine } from "./full.js";
import type { ReportInput } from "./types.js";

/** One line a finding: path:line:col: CODE message (Ruff's concise, flake8's default). */
export function concise(input: ReportInput): string {
  const lines = input.diagnostics.map(
    (d) => `${linePath(d.file, input.cwd)}:${position(d)}: ${d.code} ${d.message}`,
  );
  // Ruff's closing line: the counts by severity, or "All checks passed!".
  lines.push(summaryLine(input.diagnostics));
  return lines.join("\n") + "\n";
}
