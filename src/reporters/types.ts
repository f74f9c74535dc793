import type { Diagnostic } from "../types.js";

export interface ReportInput {
  diagnostics: Diagnostic[];
  /** Files linted (for reporters that list clean files too). */
  files: string[];
  cwd: string;
  color: boolean;
  /** Per-file problems that are not findings (unreadable, bad encoding). */
  problems?: { file: string; message: string }[];
}

export type Reporter = (input: ReportInput) => string;
