// Ruff's `full` format (its default): each finding with a code frame of its source lines, the
// span underlined, then the witness path (spawn site first) and the fix, each on a `=` line.

import { Chalk } from "chalk";
import { displayPath, position, tally } from "./paths.js";
import type { ReportDiagnostic, ReportInput } from "./types.js";

/** Lines of context above and below the finding. */
const CONTEXT = 2;

/** "All checks passed!" for a clean run; else the counts by severity, as Ruff's closing line. */
export function summaryLine(diags: readonly ReportDiagnostic[]): string {
  const { errors, warnings, infos } = tally(diags);
  const n = errors + warnings + infos;
  if (n === 0) return "All checks passed!";
  const plural = (k: number, w: string) => `${k} ${w}${k === 1 ? "" : "s"}`;
  if (errors === n) return `Found ${plural(n, "error")}.`;
  const parts = [errors > 0 && plural(errors, "error"), warnings > 0 && plural(warnings, "warning"), infos > 0 && `${infos} info`].filter(Boolean);
  return `Found ${plural(n, "problem")} (${parts.join(", ")}).`;
}

/** "[*] N fixable with --fix" (Ruff's wording), or "" when nothing is. */
export function fixableLine(diags: readonly ReportDiagnostic[], unsafeFixes: boolean | undefined): string {
  const fixable = diags.filter((d) => d.fix && (d.fix.applicability === "safe" || unsafeFixes)).length;
  const hidden = diags.filter((d) => d.fix && d.fix.applicability === "unsafe" && !unsafeFixes).length;
  const more = hidden > 0 ? `${hidden} hidden fix${hidden === 1 ? "" : "es"} can be enabled with the \`--unsafe-fixes\` option` : "";
  if (fixable > 0) return `[*] ${fixable} fixable with the \`--fix\` option${more ? ` (${more})` : ""}.`;
  return more ? `No fixes available (${more}).` : "";
}

function frame(d: ReportDiagnostic, text: string, c: InstanceType<typeof Chalk>): string[] {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  const { start, end } = d.range;
  if (start.row >= lines.length) return [];
  const from = Math.max(0, start.row - CONTEXT);
  const to = Math.min(lines.length - 1, end.row + CONTEXT);
  const width = String(to + 1).length;
  const gutter = (s: string) => c.blue(`${s.padStart(width)} |`);
  const out = [gutter("")];
  for (let r = from; r <= to; r++) {
    out.push(`${gutter(String(r + 1))} ${lines[r]}`);
    if (r === start.row) {
      // Columns are characters (the reporters' convention); underline to the end of the span's first line.
      const chars = Array.from(lines[r]);
      const endCol = end.row === start.row ? Math.max(end.column, start.column + 1) : Math.max(chars.length, start.column + 1);
      const marks = "^".repeat(endCol - start.column);
      const color = d.severity === "error" ? c.red.bold : d.severity === "warning" ? c.yellow.bold : c.blue.bold;
      out.push(`${gutter("")} ${" ".repeat(start.column)}${color(`${marks} ${d.code}`)}`);
    }
  }
  out.push(gutter(""));
  return out;
}

export function full(input: ReportInput): string {
  const c = new Chalk({ level: input.color ? 1 : 0 });
  const out: string[] = [];
  for (const d of input.diagnostics) {
    const where = displayPath(d.file, input.cwd);
    out.push(`${c.bold(where)}${c.cyan(":")}${position(d)}${c.cyan(":")} ${c.red.bold(d.code)} ${d.message}`);
    // Notebook rows are relative to the cell and the text is the cells joined: no frame there.
    let text: string | null = null;
    if (d.cell === undefined && input.source) {
      try {
        text = input.source(d.file);
      } catch {
        text = null;
      }
    }
    if (text !== null) out.push(...frame(d, text, c));
    if (d.path.length > 0) {
      const steps = d.path.map((s) => {
        const at = `${displayPath(s.file, input.cwd)}:${s.cell !== undefined ? `cell ${s.cell}:` : ""}${s.range.start.row + 1}:${s.range.start.column + 1}`;
        return `${s.label} (${at})`;
      });
      out.push(`  ${c.cyan("=")} witness: ${steps[0]}`);
      for (const s of steps.slice(1)) out.push(`             -> ${s}`);
    }
    if (d.fix) out.push(`  ${c.cyan("=")} ${d.fix.applicability === "safe" ? "fix" : "unsafe fix"}: ${d.fix.message}`);
    const verify = (d.properties?.verify as { text?: unknown } | undefined)?.text;
    if (typeof verify === "string") out.push(`  ${c.cyan("=")} verify: ${verify}`);
    out.push("");
  }
  for (const p of input.problems ?? []) out.push(c.yellow(`warning: ${displayPath(p.file, input.cwd)}: ${p.message}`));
  if (input.summary === false) return out.length > 0 ? out.join("\n") + "\n" : "";
  out.push(summaryLine(input.diagnostics));
  const fixable = fixableLine(input.diagnostics, input.unsafeFixes);
  if (fixable) out.push(fixable);
  return out.join("\n") + "\n";
}
