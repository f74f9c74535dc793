// lintProject: the one lint function (ESLint's verify()). Every caller that wants findings goes
// through it: the plain run, --fix's re-lint after each pass, --verify (on the findings it
// returns) and the LSP server. Stages, in order:
//   lint (engine: facts -> project -> rules) -> per-file rule selection -> suppression comments
//   (and the rules over them: MPS100) -> per-file severity overrides -> baseline filter.
// Findings come out as data (messageId + data + witness path); reporters render the text.
// Run-level concerns (argument checks, discovery, notebooks, adoption, fixing, reporting) stay
// in src/main.ts.

import path from "node:path";
import { filterBaseline, readBaseline } from "../suppress/baseline.js";
import { enabledCodes, isFixable, type Settings } from "../config/config.js";
import { compareDiagnostics, lintFiles, type FileProblem, type LintInput, type LintResult } from "../engine/engine.js";
import type { CommentFact } from "../facts/model.js";
import { applySuppressions } from "../suppress/suppress.js";
import type { Diagnostic } from "../types.js";

export interface LintProjectInput {
  /** What the engine lints (files, rules, roots, overrides, cache, jobs, prefilter). */
  lint: LintInput;
  /** The settings that apply to a file (its folder's configuration). */
  settingsOf(file: string): Settings;
  /**
   * Files whose findings and problems are reported (the files a user named); the others are
   * analysed as their project. All files when absent.
   */
  report?: ReadonlySet<string>;
  /** A baseline file (absolute): findings it lists are dropped. */
  baseline?: string;
  /** --ignore-noqa: suppression comments are not applied (and so none is unused). */
  ignoreNoqa?: boolean;
  /**
   * The engine's result to take instead of running it: the language server's, when an edit
   * changed no fact the rules read (src/server/analysis.ts). The stages after it run as usual.
   */
  engine?: LintResult;
}

export interface LintProjectResult {
  /** Findings after selection, suppressions, severities and the baseline, in report order. */
  diagnostics: Diagnostic[];
  /** Files that could not be linted, bad directives, and the like (not findings). */
  problems: FileProblem[];
  /** The engine's result (sources, facts, stats). */
  result: LintResult;
}

export function lintProject(input: LintProjectInput): LintProjectResult {
  const result = input.engine ?? lintFiles(input.report ? { ...input.lint, reportOnly: input.report } : input.lint);
  const problems: FileProblem[] = [...result.problems];
  const enabledCache = new Map<string, Set<string>>();
  const enabled = (file: string) => {
    let e = enabledCache.get(file);
    if (!e) enabledCache.set(file, (e = enabledCodes(input.settingsOf(file), file)));
    return e;
  };
  const comments = new Map<string, readonly CommentFact[]>(result.facts.map((f) => [f.file, f.comments]));
  const selected = result.diagnostics.filter((d) => enabled(d.file).has(d.code));
  const sup = input.ignoreNoqa
    ? { kept: selected, fromDirectives: [] as Diagnostic[], problems: [] as FileProblem[] }
    : applySuppressions({
        diagnostics: selected,
        files: input.lint.files,
        comments: (f) => comments.get(f) ?? [],
        source: (f) => result.source(f),
        enabled,
        directiveRules: input.lint.rules.filter((r) => r.checkDirectives),
      });
  problems.push(...sup.problems);
  let diagnostics: Diagnostic[] = [...sup.kept, ...sup.fromDirectives].sort(compareDiagnostics).map((d) => {
    const settings = input.settingsOf(d.file);
    const level = settings.severity[d.code];
    const out = level && level !== d.severity ? { ...d, severity: level } : d;
    // fixable / unfixable: a rule whose fixes are off has none to apply or to offer.
    if (out.fix && !isFixable(settings, d.code)) {
      const { fix: _fix, ...rest } = out;
      return rest as Diagnostic;
    }
    return out;
  });
  if (input.report) {
    const report = input.report;
    diagnostics = diagnostics.filter((d) => report.has(d.file));
    for (let i = problems.length - 1; i >= 0; i--) if (!report.has(problems[i].file)) problems.splice(i, 1);
  }
  if (input.baseline) {
    const file = path.resolve(input.baseline);
    diagnostics = filterBaseline(file, readBaseline(file), diagnostics, result.source).kept;
  }
  return { diagnostics, problems, result };
}
