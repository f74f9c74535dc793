// The shape of a rule: ESLint's meta + Ruff's documentation sections, and a small check over
// one module's facts with the whole project at hand.

import type { ModuleFacts } from "../facts/model.js";
import type { Project } from "../project/project.js";
import type { Directive } from "../types.js";
import type { Diagnostic, Fix, MessageData, PathStep, Range, Severity } from "../types.js";

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
  /**
   * Which files can hold a finding, for the token prefilter (src/facts/prefilter.ts): names a file
   * must spell beyond the spawn tokens. [] when every finding sits in code reached from spawn
   * sites, or in files loaded anyway. Absent: the prefilter is off and every file is parsed.
   */
  tokens?: readonly string[];
  /**
   * Message templates by id (ESLint's meta.messages): `{{name}}` takes the report's data. Locations
   * are data, never text: reporters render them (src/reporters/message.ts).
   */
  messages: Record<string, string>;
}

export interface Report {
  range: Range;
  /** A key of the rule's meta.messages. */
  messageId: string;
  data?: MessageData;
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

/** One suppression directive of a file and the codes it silenced (src/suppress/suppress.ts). */
export interface DirectiveUse {
  directive: Directive;
  suppressed: ReadonlySet<string>;
}

/** What the suppression stage found in one file, for rules about directives (MPS100). */
export interface DirectiveContext {
  file: string;
  /** Every directive of the file, in order. */
  directives: readonly DirectiveUse[];
  /** Codes that ran (and were enabled) on the file: only those can be judged. */
  enabled: ReadonlySet<string>;
  report(r: Report): void;
}

export interface Rule {
  meta: RuleMeta;
  /** Runs over one module's facts, with the whole project at hand. */
  check(ctx: RuleContext): void;
  /** Runs after the suppression stage, over the file's directives (MPS100). */
  checkDirectives?(ctx: DirectiveContext): void;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}

// The repository's docs path until the project has a site.
export const DOCS_BASE = "docs/rules";

export function ruleUrl(meta: RuleMeta): string {
  return `${DOCS_BASE}/${meta.name}.md`;
}

/** A rule's report as a finding; a messageId the rule does not declare is a bug in the rule. */
export function toDiagnostic(rule: Rule, file: string, r: Report): Diagnostic {
  if (!Object.hasOwn(rule.meta.messages, r.messageId)) throw new Error(`reported unknown messageId "${r.messageId}"`);
  return {
    code: rule.meta.code,
    name: rule.meta.name,
    severity: rule.meta.severity,
    messageId: r.messageId,
    data: r.data ?? {},
    file,
    range: r.range,
    path: r.path ?? [],
    fix: r.fix ?? null,
    url: ruleUrl(rule.meta),
  };
}
