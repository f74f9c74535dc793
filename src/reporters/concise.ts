import { linePath, position } from "./paths.js";
import type { ReportInput } from "./types.js";

/** One line a finding: path:line:col: CODE message (Ruff's concise, flake8's default). */
export function concise(input: ReportInput): string {
  const lines = input.diagnostics.map(
    (d) => `${linePath(d.file, input.cwd)}:${position(d)}: ${d.code} ${d.message}`,
  );
  const n = input.diagnostics.length;
  if (n > 0) lines.push(`Found ${n} error${n === 1 ? "" : "s"}.`);
  return lines.length > 0 ? lines.join("\n") + "\n" : "";
}
