// Ruff's `grouped` format: findings under their file's name, one line each.

import { Chalk } from "chalk";
import { displayPath, position } from "./paths.js";
import { fixableLine, summaryLine } from "./full.js";
import type { ReportDiagnostic, ReportInput } from "./types.js";

export function grouped(input: ReportInput): string {
  const c = new Chalk({ level: input.color ? 1 : 0 });
  const byFile = new Map<string, ReportDiagnostic[]>();
  for (const d of input.diagnostics) byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
  const out: string[] = [];
  for (const [file, list] of byFile) {
    out.push(c.bold.underline(`${displayPath(file, input.cwd)}:`));
    const width = Math.max(...list.map((d) => position(d).length));
    for (const d of list) out.push(`  ${position(d).padEnd(width)} ${c.red.bold(d.code)}${d.fix && (d.fix.applicability === "safe" || input.unsafeFixes) ? " [*]" : ""} ${d.message}`);
    out.push("");
  }
  if (input.summary === false) return out.length > 0 ? out.join("\n") + "\n" : "";
  out.push(summaryLine(input.diagnostics));
  const fixable = fixableLine(input.diagnostics, input.unsafeFixes);
  if (fixable) out.push(fixable);
  return out.join("\n") + "\n";
}
