// One lint run from options to exit code: discover -> lint -> filter -> report.

import { writeFileSync } from "node:fs";
import { discover, PathError } from "./discover.js";
import { lintFiles } from "./engine.js";
import type { CliOptions } from "./options.js";
import { REPORTERS } from "./reporters/index.js";
import { RULES } from "../rules/index.js";
import type { Rule } from "./rule.js";
import { renderStatistics } from "./statistics.js";

export class UsageError extends Error {}

export interface RunOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function selectRules(select?: string[], ignore?: string[], extendSelect?: string[]): Rule[] {
  const matches = (rule: Rule, sel: string) => {
    const s = sel.trim().toUpperCase();
    return s === "ALL" || rule.meta.code.startsWith(s) || rule.meta.name.toUpperCase() === s;
  };
  const known = (sel: string) => RULES.some((r) => matches(r, sel));
  for (const s of [...(select ?? []), ...(ignore ?? []), ...(extendSelect ?? [])]) {
    if (!known(s)) throw new UsageError(`unknown rule selector "${s}" (known: ${RULES.map((r) => r.meta.code).join(", ")})`);
  }
  let chosen = select ? RULES.filter((r) => select.some((s) => matches(r, s))) : RULES.filter((r) => !r.meta.optIn);
  if (extendSelect) chosen = [...new Set([...chosen, ...RULES.filter((r) => extendSelect.some((s) => matches(r, s)))])];
  if (ignore) chosen = chosen.filter((r) => !ignore.some((s) => matches(r, s)));
  return chosen;
}

export function runLint(opts: CliOptions): RunOutput {
  const reporter = REPORTERS[opts.format];
  if (!reporter) throw new UsageError(`unknown format "${opts.format}" (known: ${Object.keys(REPORTERS).join(", ")})`);
  const rules = selectRules(opts.select, opts.ignore, opts.extendSelect);
  let files: string[];
  try {
    files = discover(opts.paths.length > 0 ? opts.paths : ["."], opts.cwd);
  } catch (e) {
    if (e instanceof PathError) throw new UsageError(e.message);
    throw e;
  }
  const result = lintFiles({ files, rules });
  let diagnostics = result.diagnostics;
  if (opts.quiet) diagnostics = diagnostics.filter((d) => d.severity === "error");
  const text = opts.statistics ? renderStatistics(diagnostics, opts.format) : reporter({ diagnostics, files, cwd: opts.cwd, color: opts.color && !opts.outputFile, problems: result.problems });
  let stdout = text;
  if (opts.outputFile) {
    writeFileSync(opts.outputFile, text);
    stdout = "";
  }
  const exitCode = opts.exitZero ? 0 : diagnostics.length > 0 ? 1 : 0;
  return { exitCode, stdout, stderr: "" };
}
