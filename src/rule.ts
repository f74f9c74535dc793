// The shape of a rule: ESLint's meta + Ruff's documentation sections, and a small check over
// one module's facts with the whole project at hand.

import type { ModuleFacts } from "./facts/model.js";
import type { Project } from "./project/project.js";
import type { Fix, PathStep, Range, Severity } from "./types.js";

export type Category = "threads" | "correctness" | "timing" | "async" | "portability";

export interface RuleMeta {
  code: string;
  name: string;
  severity: Severity;
  category: Category;
  fixable: "safe" | "unsafe" | null;
  /** One line. */
  summary: string;
  /** Why is this bad? (Markdown) */
  why: string;
  /** Python code that gives exactly one finding of this rule. */
  example: string;
  /** The corrected code: no finding. */
  useInstead: string;
  fixSafety: string;
  /** Known false positives and limits, stated honestly. */
  limitations: string;
  references: string[];
  /** Off unless selected (or enabled by a setting). */
  optIn?: boolean;
}

export interface Report {
  range: Range;
  message: string;
  path?: PathStep[];
  fix?: Fix | null;
}

export interface RuleSettings {
  torchVersion?: string | null;
  /** First PyTorch version with per-thread MPS streams (MPS008). */
  mpsPerThreadStreamsVersion?: string;
}

export interface RuleContext {
  m: number;
  facts: ModuleFacts;
  source: string;
  project: Project;
  settings: RuleSettings;
  report(r: Report): void;
}

export interface Rule {
  meta: RuleMeta;
  check(ctx: RuleContext): void;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}

// The repository's docs path until the project has a site.
export const DOCS_BASE = "docs/rules";

export function ruleUrl(meta: RuleMeta): string {
  return `${DOCS_BASE}/${meta.name}.md`;
}
