// `mps-lint rule CODE`, `mps-lint rule --all` and `mps-lint --explain CODE`: a rule's
// documentation in the terminal, the same Markdown as docs/rules/<name>.md.

import { RULES, findRule } from "../../rules/index.js";
import { renderRule } from "./docs.js";
import { ruleUrl, type RuleMeta } from "../engine/rule.js";

export interface DocOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface DocRequest {
  /** The subcommand word, when one was given ("rule"). */
  command?: unknown;
  code?: unknown;
  all?: unknown;
  explain?: unknown;
  format?: unknown;
}

function asJson(meta: RuleMeta): Record<string, unknown> {
  return { ...meta, url: ruleUrl(meta), explanation: renderRule(meta) };
}

/** Handles the documentation requests; null when the command line asks for a lint run. */
export function ruleDocs(req: DocRequest): DocOutput | null {
  const isRule = req.command === "rule";
  const explain = typeof req.explain === "string" ? req.explain : undefined;
  if (!isRule && explain === undefined) return null;
  const json = req.format === "json";
  if (isRule && req.all === true) {
    const stdout = json
      ? JSON.stringify(RULES.map((r) => asJson(r.meta)), null, 2) + "\n"
      : RULES.map((r) => renderRule(r.meta)).join("\n---\n\n");
    return { exitCode: 0, stdout, stderr: "" };
  }
  const code = isRule ? (typeof req.code === "string" ? req.code : undefined) : explain;
  if (!code || !code.trim()) {
    return { exitCode: 2, stdout: "", stderr: "mps-lint: name a rule (`mps-lint rule MPS001`) or use `mps-lint rule --all`\n" };
  }
  const rule = findRule(code);
  if (!rule) {
    const known = RULES.map((r) => r.meta.code).join(", ");
    return { exitCode: 2, stdout: "", stderr: `mps-lint: unknown rule "${code}" (known: ${known})\n` };
  }
  return { exitCode: 0, stdout: json ? JSON.stringify(asJson(rule.meta), null, 2) + "\n" : renderRule(rule.meta), stderr: "" };
}
