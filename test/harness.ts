// Fixture harness: annotated Python under fixtures/<rule-name>/. Each top-level .py file is one
// project; each folder is one multi-module project. `# expect: CODE[, CODE]` marks a line that
// must be flagged, `# expect-next-line: CODE` the line after; only the rule under test runs.

import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { discover } from "../src/discover.js";
import { lintFiles } from "../src/engine.js";
import { extractFacts } from "../src/facts/extract.js";
import type { Rule, RuleSettings } from "../src/rule.js";
import { readPython } from "../src/source.js";
import { applySuppressions, UNUSED_SUPPRESSION } from "../src/suppress.js";
import { RULES } from "../rules/index.js";
import type { Diagnostic } from "../src/types.js";

/** MPS100 comes from the suppression stage: run every rule, then suppressions, as the CLI does. */
export function unusedSuppressions(files: string[], settings: RuleSettings = {}): Diagnostic[] {
  const result = lintFiles({ files, rules: RULES, settings });
  const comments = new Map(result.facts.map((f) => [f.file, f.comments]));
  const all = new Set(RULES.map((r) => r.meta.code));
  return applySuppressions({
    diagnostics: result.diagnostics,
    files,
    comments: (f) => comments.get(f) ?? [],
    source: result.source,
    enabled: () => all,
  }).unused;
}

export const FIXTURES = path.resolve(import.meta.dirname, "..", "fixtures");

export interface CaseResult {
  name: string;
  missing: string[];
  noisy: string[];
  expected: number;
}

export function fixtureCases(dir: string): { name: string; files: string[] }[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) return [{ name: entry, files: discover([full], full) }];
      return entry.endsWith(".py") && !entry.endsWith(".fixed.py") ? [{ name: entry, files: [full] }] : [];
    });
}

export function expectations(file: string, code: string): string[] {
  const facts = extractFacts(file, readPython(file).text);
  const out: string[] = [];
  for (const c of facts.comments) {
    const m = /#\s*expect(-next-line)?:\s*([A-Z0-9, ]+)/.exec(c.text);
    if (!m) continue;
    const row = c.row + 1 + (m[1] ? 1 : 0);
    for (const k of m[2].split(",").map((s) => s.trim())) if (k === code) out.push(`${path.basename(file)}:${row}`);
  }
  return out;
}

/**
 * Rule settings for a fixture project, from `# mps-lint-settings: torch-version=2.5.1` comments
 * (keys: torch-version, mps-per-thread-streams-version).
 */
export function fixtureSettings(files: string[]): RuleSettings {
  const settings: RuleSettings = {};
  for (const file of files) {
    for (const c of extractFacts(file, readPython(file).text).comments) {
      const m = /#\s*mps-lint-settings:\s*(.*)$/.exec(c.text);
      if (!m) continue;
      for (const pair of m[1].split(",")) {
        const [k, v] = pair.split("=").map((x) => x.trim());
        if (k === "torch-version") settings.torchVersion = v;
        else if (k === "mps-per-thread-streams-version") settings.mpsPerThreadStreamsVersion = v;
      }
    }
  }
  return settings;
}

export function runCase(rule: Rule, files: string[], name: string): CaseResult {
  const diagnostics =
    rule.meta.code === UNUSED_SUPPRESSION
      ? unusedSuppressions(files)
      : lintFiles({ files, rules: [rule], settings: fixtureSettings(files) }).diagnostics;
  const got = diagnostics.filter((d) => d.code === rule.meta.code).map((d) => `${path.basename(d.file)}:${d.range.start.row + 1}`);
  const want = files.flatMap((f) => expectations(f, rule.meta.code));
  return { name, missing: multisetMinus(want, got), noisy: multisetMinus(got, want), expected: want.length };
}

function multisetMinus(a: string[], b: string[]): string[] {
  const rest = [...b];
  const out: string[] = [];
  for (const x of a) {
    const i = rest.indexOf(x);
    if (i >= 0) rest.splice(i, 1);
    else out.push(x);
  }
  return out;
}
