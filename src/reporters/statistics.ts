// `--statistics`: how many findings each rule produced, most first, as Ruff prints them:
// "count<TAB>CODE<TAB>[*] name" (text formats; the marker column only when some rule is fixable:
// "[*]" where --fix would fix its findings, "[ ]" where not) or a JSON array (--format json).

import type { Diagnostic } from "../types.js";

export interface RuleCount {
  code: string;
  name: string;
  count: number;
  fixable: boolean;
}

export function countByRule(diagnostics: readonly Diagnostic[], unsafeFixes = false): RuleCount[] {
  const byCode = new Map<string, RuleCount>();
  for (const d of diagnostics) {
    let c = byCode.get(d.code);
    if (!c) byCode.set(d.code, (c = { code: d.code, name: d.name, count: 0, fixable: false }));
    c.count++;
    if (d.fix && (d.fix.applicability === "safe" || unsafeFixes)) c.fixable = true;
  }
  return [...byCode.values()].sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

export function renderStatistics(diagnostics: readonly Diagnostic[], format: string, unsafeFixes = false): string {
  const counts = countByRule(diagnostics, unsafeFixes);
  if (format === "json") return JSON.stringify(counts, null, 2) + "\n";
  if (counts.length === 0) return "";
  const width = String(counts[0].count).length;
  const anyFixable = counts.some((c) => c.fixable);
  const marker = (c: RuleCount) => (anyFixable ? (c.fixable ? "[*] " : "[ ] ") : "");
  return counts.map((c) => `${String(c.count).padStart(width)}\t${c.code}\t${marker(c)}${c.name}\n`).join("");
}
