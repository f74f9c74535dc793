// The lint pipeline for one run: files -> facts -> project -> rules -> suppressions -> results.

import { extractFacts } from "./facts/extract.js";
import type { ModuleFacts } from "./facts/model.js";
import { Project } from "./project/project.js";
import { ruleUrl, type Rule, type RuleSettings } from "./rule.js";
import { readPython } from "./source.js";
import type { Diagnostic } from "./types.js";
import { RULES } from "../rules/index.js";

export interface LintInput {
  files: string[];
  rules?: readonly Rule[];
  settings?: RuleSettings;
  srcRoots?: string[];
  threadEntryPoints?: string[];
  /** Source text to use instead of reading a file (stdin, tests). */
  overrides?: Map<string, string>;
}

export interface FileProblem {
  file: string;
  message: string;
}

export interface LintResult {
  diagnostics: Diagnostic[];
  files: string[];
  sources: Map<string, string>;
  problems: FileProblem[];
}

export function lintFiles(input: LintInput): LintResult {
  const rules = input.rules ?? RULES;
  const facts: ModuleFacts[] = [];
  const sources = new Map<string, string>();
  const problems: FileProblem[] = [];
  for (const file of input.files) {
    let text: string;
    try {
      const override = input.overrides?.get(file);
      if (override !== undefined) text = override;
      else {
        const src = readPython(file);
        if (src.warning) problems.push({ file, message: src.warning });
        text = src.text;
      }
    } catch (e) {
      problems.push({ file, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
      continue;
    }
    sources.set(file, text);
    facts.push(extractFacts(file, text));
  }
  const project = new Project(facts, { srcRoots: input.srcRoots, threadEntryPoints: input.threadEntryPoints });
  const diagnostics: Diagnostic[] = [];
  facts.forEach((f, m) => {
    for (const rule of rules) {
      rule.check({
        m,
        facts: f,
        source: sources.get(f.file) ?? "",
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
    }
  });
  diagnostics.sort(compareDiagnostics);
  return { diagnostics, files: input.files, sources, problems };
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.range.start.row - b.range.start.row ||
    a.range.start.column - b.range.start.column ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}
