// JUnit XML, as ESLint and Ruff write it: one testsuite per file, one failing testcase per
// finding, and a passing testcase for a file without findings (CI systems count them).

import type { ReportDiagnostic, ReportInput } from "./types.js";
import { displayPath, position } from "./paths.js";

function attr(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;")
    .replace(/\t/g, "&#9;")
    // Characters XML 1.0 cannot hold.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "");
}

function cdata(s: string): string {
  const clean = s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "");
  return `<![CDATA[${clean.replace(/]]>/g, "]]]]><![CDATA[>")}]]>`;
}

export function junit(input: ReportInput): string {
  const byFile = new Map<string, ReportDiagnostic[]>();
  for (const f of input.files) byFile.set(f, []);
  for (const d of input.diagnostics) {
    let l = byFile.get(d.file);
    if (!l) byFile.set(d.file, (l = []));
    l.push(d);
  }
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = input.diagnostics.length;
  const tests = [...byFile.values()].reduce((n, l) => n + Math.max(1, l.length), 0);
  out.push(`<testsuites name="mps-lint" tests="${tests}" failures="${total}" errors="0">`);
  for (const [file, list] of byFile) {
    const name = displayPath(file, input.cwd);
    out.push(`  <testsuite name="${attr(name)}" tests="${Math.max(1, list.length)}" failures="${list.length}" errors="0">`);
    if (list.length === 0) out.push(`    <testcase name="mps-lint" classname="${attr(name)}"/>`);
    for (const d of list) {
      const pos = position(d);
      out.push(`    <testcase name="org.mps-lint.${attr(d.code)}" classname="${attr(name)}" file="${attr(name)}" line="${d.range.start.row + 1}">`);
      out.push(`      <failure message="${attr(d.message)}" type="${d.severity}">${cdata(`${name}:${pos}: ${d.code} ${d.message}`)}</failure>`);
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}
