import { linePath, position } from "./paths.js";
import { fixableLine, summaryLine } from "./full.js";
import type { ReportDiagnostic, ReportInput } from "./types.js";

/** Ruff's marker of a finding whose fix --fix would apply (an unsafe one only with --unsafe-fixes). */
export function fixMarker(d: ReportDiagnostic, unsafeFixes: boolean | undefined): string {
  return d.fix && (d.fix.applicability === "safe" || unsafeFixes) ? "[*] " : "";
}

/** One line a finding: path:line:col: CODE [*] message (Ruff's concise, flake8's default). */
export function concise(input: ReportInput): string {
  const lines = input.diagnostics.map(
    (d) => `${linePath(d.file, input.cwd)}:${position(d)}: ${d.code} ${fixMarker(d, input.unsafeFixes)}${d.message}`,
  );
  if (input.summary === false) return lines.length > 0 ? lines.join("\n") + "\n" : "";
  // Ruff's closing lines: the counts by severity, or "All checks passed!"; then what --fix would fix.
  lines.push(summaryLine(input.diagnostics));
  const fixable = fixableLine(input.diagnostics, input.unsafeFixes);
  if (fixable) lines.push(fixable);
  return lines.join("\n") + "\n";
}
