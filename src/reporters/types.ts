import type { Rule } from "../engine/rule.js";
import type { Diagnostic, PathStep } from "../types.js";

/** A finding as reporters see it: its text rendered, rows relative to the notebook cell when in one. */
export interface ReportDiagnostic extends Diagnostic {
  /** The message text, rendered from the rule's template and the data (src/reporters/message.ts). */
  message: string;
  /** 1-based notebook cell (rows are then relative to the cell). */
  cell?: number;
  path: (PathStep & { cell?: number })[];
  /** Stable identity across runs (the baseline fingerprint): SARIF, GitLab. */
  fingerprint?: string;
}

export interface ReportInput {
  diagnostics: ReportDiagnostic[];
  /** Files linted (for reporters that list clean files too). */
  files: string[];
  cwd: string;
  color: boolean;
  /** Per-file problems that are not findings (unreadable, bad encoding). */
  problems?: { file: string; message: string }[];
  /** Rules that ran (SARIF lists them). */
  rules?: readonly Rule[];
  toolVersion?: string;
  /** --unsafe-fixes: unsafe fixes count as available (stylish's "fixable" line). */
  unsafeFixes?: boolean;
  /** --show-fixes: show each finding's fix. */
  showFixes?: boolean;
  /** The linted text of a file (the full format's code frame). */
  source?: (file: string) => string;
  /** false (--quiet): the findings only, no summary or fixable line. */
  summary?: boolean;
}

export type Reporter = (input: ReportInput) => string;
