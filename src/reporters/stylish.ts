// ESLint's stylish format: findings grouped by file, a closing count.

import { Chalk } from "chalk";
import { linePath, position } from "./paths.js";
import type { ReportDiagnostic, ReportInput } from "./types.js";

export function stylish(input: ReportInput): string {
  const c = new Chalk({ level: input.color ? 1 : 0 });
  const byFile = new Map<string, ReportDiagnostic[]>();
  for (const d of input.diagnostics) {
    let list = byFile.get(d.file);
    if (!list) byFile.set(d.file, (list = []));
    list.push(d);
  }
  const lines: string[] = [];
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  let fixable = 0;
  let hidden = 0;
  for (const [file, list] of byFile) {
    lines.push(c.underline(linePath(file, input.cwd)));
    const rows = list.map((d) => {
      if (d.severity === "error") errors++;
      else if (d.severity === "warning") warnings++;
      else infos++;
      if (d.fix && (d.fix.applicability === "safe" || input.unsafeFixes)) fixable++;
      else if (d.fix) hidden++;
      const sev = d.severity === "error" ? c.red("error") : d.severity === "warning" ? c.yellow("warning") : c.blue("info");
      return { pos: position(d), sev, sevLen: d.severity.length, d };
    });
    const posWidth = Math.max(...rows.map((r) => r.pos.length));
    const sevWidth = Math.max(...rows.map((r) => r.sevLen));
    for (const r of rows) {
      lines.push(`  ${c.dim(r.pos.padEnd(posWidth))}  ${r.sev}${" ".repeat(sevWidth - r.sevLen)}  ${r.d.message}  ${c.dim(r.d.code)}`);
      const verify = (r.d.properties?.verify as { text?: unknown } | undefined)?.text;
      if (typeof verify === "string") lines.push(`  ${" ".repeat(posWidth)}  ${c.cyan(verify)}`);
      if (input.showFixes && r.d.fix) lines.push(`  ${" ".repeat(posWidth)}  ${c.green(`fix (${r.d.fix.applicability}): ${r.d.fix.message}`)}`);
    }
    lines.push("");
  }
  for (const p of input.problems ?? []) lines.push(c.yellow(`warning: ${linePath(p.file, input.cwd)}: ${p.message}`));
  const total = errors + warnings + infos;
  if (total > 0 && input.summary !== false) {
    const parts = [`${errors} error${errors === 1 ? "" : "s"}`, `${warnings} warning${warnings === 1 ? "" : "s"}`];
    if (infos > 0) parts.push(`${infos} info`);
    const summary = `✖ ${total} problem${total === 1 ? "" : "s"} (${parts.join(", ")})`;
    lines.push(errors > 0 ? c.red.bold(summary) : c.yellow.bold(summary));
    // Ruff's wording: fixes that apply with --fix, and unsafe ones --unsafe-fixes would enable.
    const more = hidden > 0 ? `${hidden} hidden fix${hidden === 1 ? "" : "es"} can be enabled with --unsafe-fixes` : "";
    if (fixable > 0) lines.push(c.dim(`  ${fixable} fixable with --fix${more ? ` (${more})` : ""}`));
    else if (more) lines.push(c.dim(`  No fixes available (${more})`));
  }
  return lines.length > 0 ? lines.join("\n") + "\n" : "";
}
