// The lint pipeline for one run: files -> facts (collect) -> project -> rules -> results.

import { collectFacts, type FileProblem } from "./collect.js";
import { Project } from "./project/project.js";
import { ruleUrl, type Rule, type RuleSettings } from "./rule.js";
import type { Diagnostic } from "./types.js";
import type { ModuleFacts } from "./facts/model.js";
import { RULES } from "../rules/index.js";
import invalidSyntax from "../rules/invalid-syntax.js";

export type { FileProblem } from "./collect.js";

export interface LintInput {
  files: string[];
  rules?: readonly Rule[];
  settings?: RuleSettings;
  srcRoots?: string[];
  /** Folders whose relative paths also name modules (the linted roots, the working folder). */
  searchRoots?: string[];
  threadEntryPoints?: string[];
  /** Source text to use instead of reading a file (stdin, tests). */
  overrides?: Map<string, string>;
}

export interface LintResult {
  diagnostics: Diagnostic[];
  files: string[];
  problems: FileProblem[];
  /** Facts of each file read (suppression comments live here). */
  facts: readonly ModuleFacts[];
  source(file: string): string;
}

export function lintFiles(input: LintInput): LintResult {
  const rules = input.rules ?? RULES;
  const collected = collectFacts(input.files, { overrides: input.overrides });
  const project = new Project(collected.facts, {
    srcRoots: input.srcRoots,
    searchRoots: input.searchRoots,
    threadEntryPoints: input.threadEntryPoints,
  });
  const diagnostics: Diagnostic[] = [];
  const problems = [...collected.problems];
  const syntax = rules.includes(invalidSyntax) ? invalidSyntax.meta : null;
  collected.facts.forEach((f, m) => {
    if (syntax) {
      for (const e of f.syntaxErrors) {
        diagnostics.push({
          code: syntax.code,
          name: syntax.name,
          severity: syntax.severity,
          message: `SyntaxError: ${e.message}`,
          file: f.file,
          range: e.range,
          path: [],
          fix: null,
          url: ruleUrl(syntax),
        });
      }
    }
    for (const rule of rules) {
      // One rule failing on one file must not lose the other files' (or rules') findings.
      try {
        rule.check({
          m,
          facts: f,
          get source() {
            return collected.source(f.file);
          },
          project,
          settings: input.settings ?? {},
          report: (r) =>
            diagnostics.push({
              code: rule.meta.code,
              name: rule.meta.name,
              severity: rule.meta.severity,
              message: r.message,
              file: f.file,
              range: r.range,
              path: r.path ?? [],
              fix: r.fix ?? null,
              url: ruleUrl(rule.meta),
            }),
        });
      } catch (e) {
        problems.push({ file: f.file, message: `internal error in ${rule.meta.code} (${rule.meta.name}): ${errorText(e)}; this file's ${rule.meta.code} findings may be incomplete` });
      }
    }
  });
  diagnostics.sort(compareDiagnostics);
  return { diagnostics, files: input.files, problems, facts: collected.facts, source: collected.source };
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.range.start.row - b.range.start.row ||
    a.range.start.column - b.range.start.column ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
