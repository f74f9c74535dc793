// Fixture harness: annotated Python under fixtures/<rule-name>/. Each top-level .py file is one
// project; each folder is one multi-module project. Only the rule under test runs.
//
// Markers (comments in the fixture):
//   # expect: CODE[, CODE]           this line must be flagged with CODE
//   # expect-next-line: CODE         the line after must be flagged
//   # ok: CODE                       this line must NOT be flagged (an intended negative)
//   # todo: CODE                     should be flagged one day (a known false negative); the test
//                                    fails once it is, so the marker becomes an `expect`
//   # expect-none                    the whole file is an intended negative for its folder's rule
// Every fixture file must carry at least one marker (fixtures/clean/ is negative by folder).
//
// Lines are keyed by the path relative to the case (two files of one name are not confused); the
// full finding (range, message, witness, fix) is compared with a committed snapshot per case
// under test/snapshots/fixtures/ (regenerate with `npm run test:update`, review the diff).

import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { lintFiles } from "../src/engine/engine.js";
import { extractFacts } from "../src/facts/extract.js";
import type { Rule, RuleSettings } from "../src/engine/rule.js";
import { readPython } from "../src/files/source.js";
import { applySuppressions, UNUSED_SUPPRESSION } from "../src/suppress/suppress.js";
import { RULES } from "../rules/index.js";
import type { Diagnostic } from "../src/types.js";
import { renderMessage } from "../src/reporters/message.js";

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
    directiveRules: RULES.filter((r) => r.checkDirectives),
  }).fromDirectives;
}

export const FIXTURES = path.resolve(import.meta.dirname, "..", "fixtures");
export const SNAPSHOTS = path.resolve(import.meta.dirname, "snapshots", "fixtures");

export interface FixtureCase {
  name: string;
  /** The case's root: the folder for a multi-module case, the fixture's folder for a file. */
  root: string;
  files: string[];
}

export interface CaseResult {
  name: string;
  /** `relpath:row CODE` of expected lines not flagged. */
  missing: string[];
  /** Flagged lines no marker expects. */
  noisy: string[];
  /** `# todo:` lines that are now flagged (turn them into `# expect:`). */
  todoFlagged: string[];
  expected: number;
  /** The case's findings for its rule, rendered for the snapshot. */
  rendered: string;
  diagnostics: Diagnostic[];
}

export function fixtureCases(dir: string): FixtureCase[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) return [{ name: entry, root: full, files: pythonFilesUnder(full) }];
      return entry.endsWith(".py") && !entry.endsWith(".fixed.py") ? [{ name: entry, root: dir, files: [full] }] : [];
    });
}

/** Every .py file under a folder, sorted (no ignore rules: a fixture folder is linted whole). */
export function pythonFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const full = path.join(dir, e);
      if (statSync(full).isDirectory()) return pythonFilesUnder(full);
      return e.endsWith(".py") && !e.endsWith(".fixed.py") ? [full] : [];
    });
}

export interface Markers {
  /** `relpath:row` per expected finding of the code (a multiset). */
  expect: string[];
  ok: string[];
  todo: string[];
  /** The file says `# expect-none`. */
  none: boolean;
  /** The file carries any marker at all (for any code). */
  declared: boolean;
}

const rel = (root: string, file: string) => path.relative(root, file).split(path.sep).join("/");

export function markers(file: string, code: string, root = path.dirname(file)): Markers {
  // Read from the text, not from the facts: the extractor keeps only directive-like comments.
  // A marker is the line's trailing comment (fixtures put no "#" inside strings).
  const out: Markers = { expect: [], ok: [], todo: [], none: false, declared: false };
  const lines = readPython(file).text.split(/\r\n|\n|\r/);
  const comments = lines.flatMap((line, row) => {
    const i = line.search(/#\s*(expect|expect-next-line|expect-none|ok|todo)\b/);
    return i >= 0 ? [{ row, text: line.slice(i) }] : [];
  });
  for (const c of comments) {
    if (/#\s*expect-none\b/.test(c.text)) {
      out.none = out.declared = true;
      continue;
    }
    const m = /#\s*(expect|expect-next-line|ok|todo):\s*([A-Z0-9, ]+)/.exec(c.text);
    if (!m) continue;
    out.declared = true;
    const row = c.row + 1 + (m[1] === "expect-next-line" ? 1 : 0);
    const bucket = m[1] === "ok" ? out.ok : m[1] === "todo" ? out.todo : out.expect;
    for (const k of m[2].split(",").map((s) => s.trim())) if (k === code) bucket.push(`${rel(root, file)}:${row}`);
  }
  return out;
}

/** `relpath:row` of each line that must be flagged with `code` (kept for other tests). */
export function expectations(file: string, code: string, root = path.dirname(file)): string[] {
  return markers(file, code, root).expect;
}

/**
 * Rule settings for a fixture project, from `# mps-lint-settings: torch-version=2.5.1` comments
 * (keys: torch-version, mps-per-thread-streams-version, thread-entry-points; several entry
 * points separated by spaces).
 */
export function fixtureSettings(files: string[]): RuleSettings & { threadEntryPoints?: string[] } {
  const settings: RuleSettings & { threadEntryPoints?: string[] } = {};
  for (const file of files) {
    for (const c of extractFacts(file, readPython(file).text).comments) {
      const m = /#\s*mps-lint-settings:\s*(.*)$/.exec(c.text);
      if (!m) continue;
      for (const pair of m[1].split(",")) {
        const [k, v] = pair.split("=").map((x) => x.trim());
        if (k === "torch-version") settings.torchVersion = v;
        else if (k === "mps-per-thread-streams-version") settings.mpsPerThreadStreamsVersion = v;
        else if (k === "thread-entry-points") settings.threadEntryPoints = v.split(/\s+/).filter(Boolean);
      }
    }
  }
  return settings;
}

const pos = (p: { row: number; column: number }) => `${p.row + 1}:${p.column + 1}`;

/**
 * One finding as the snapshot shows it: location and range, code and severity, the message, the
 * witness path (label and where each step is), and the fix's applicability and message.
 */
export function renderDiagnostic(d: Diagnostic, root: string): string {
  const lines = [`${rel(root, d.file)}:${pos(d.range.start)}-${pos(d.range.end)} ${d.code} ${d.severity}`];
  lines.push(`  message: ${renderMessage(d, { cwd: root })}`);
  lines.push(`  messageId: ${d.messageId}`);
  if (d.path?.length) {
    lines.push("  witness:");
    for (const s of d.path) lines.push(`    ${s.label} @ ${rel(root, s.file)}:${pos(s.range.start)}`);
  }
  lines.push(d.fix ? `  fix: ${d.fix.applicability}: ${d.fix.message} (${d.fix.edits.length} edit${d.fix.edits.length === 1 ? "" : "s"})` : "  fix: none");
  return lines.join("\n");
}

export function renderCase(diagnostics: Diagnostic[], root: string): string {
  const sorted = [...diagnostics].sort(
    (a, b) => rel(root, a.file).localeCompare(rel(root, b.file)) || a.range.start.row - b.range.start.row || a.range.start.column - b.range.start.column || a.code.localeCompare(b.code),
  );
  return sorted.length ? sorted.map((d) => renderDiagnostic(d, root)).join("\n\n") + "\n" : "(no findings)\n";
}

export function runCase(rule: Rule, c: FixtureCase): CaseResult {
  const { files, name, root } = c;
  const diagnostics = (
    rule.meta.code === UNUSED_SUPPRESSION
      ? unusedSuppressions(files)
      : lintWithSettings(rule, files)
  ).filter((d) => d.code === rule.meta.code);
  const got = diagnostics.map((d) => `${rel(root, d.file)}:${d.range.start.row + 1}`);
  const marks = files.map((f) => markers(f, rule.meta.code, root));
  const want = marks.flatMap((m) => m.expect);
  const todo = new Set(marks.flatMap((m) => m.todo));
  const noisy = multisetMinus(got, want);
  return {
    name,
    missing: multisetMinus(want, got).map((k) => `${k} ${rule.meta.code}`),
    noisy: noisy.filter((k) => !todo.has(k)).map((k) => `${k} ${rule.meta.code}`),
    todoFlagged: noisy.filter((k) => todo.has(k)),
    expected: want.length,
    rendered: renderCase(diagnostics, root),
    diagnostics,
  };
}

function lintWithSettings(rule: Rule, files: string[]): Diagnostic[] {
  const { threadEntryPoints, ...settings } = fixtureSettings(files);
  return lintFiles({ files, rules: [rule], settings, threadEntryPoints }).diagnostics;
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
