// One lint run from options to exit code: discover -> lint -> filter -> report.

import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { discover, PathError } from "./discover.js";
import { CACHE_DIR_NAME } from "./cache.js";
import { defaultJobs } from "./collect.js";
import { lintFiles } from "./engine.js";
import { timed, timingReport, timingWanted } from "./timing.js";
import type { CliOptions } from "./options.js";
import { REPORTERS } from "./reporters/index.js";
import { RULES } from "../rules/index.js";
import type { Rule } from "./rule.js";
import type { Diagnostic } from "./types.js";
import type { VerifyOptions, VerifyProgress } from "./verify/index.js";

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

export async function runLint(opts: CliOptions): Promise<RunOutput> {
  const reporter = REPORTERS[opts.format];
  if (!reporter) throw new UsageError(`unknown format "${opts.format}" (known: ${Object.keys(REPORTERS).join(", ")})`);
  const rules = selectRules(opts.select, opts.ignore, opts.extendSelect);
  let files: string[];
  try {
    files = timed("discover", () => discover(opts.paths.length > 0 ? opts.paths : ["."], opts.cwd));
  } catch (e) {
    if (e instanceof PathError) throw new UsageError(e.message);
    throw e;
  }
  const roots = [opts.cwd, ...opts.paths.map((p) => path.resolve(opts.cwd, p)).filter(isDirectory)];
  const result = lintFiles({
    files,
    rules,
    searchRoots: roots,
    jobs: opts.jobs ?? defaultJobs(),
    cacheDir: opts.cache === false ? null : cacheDirFor(opts),
    prefilter: opts.prefilter ?? true,
  });
  let diagnostics = result.diagnostics;
  if (opts.quiet) diagnostics = diagnostics.filter((d) => d.severity === "error");
  let stderr = "";
  if (opts.verify && diagnostics.length > 0) stderr += await verifyFindings(diagnostics, opts);
  const text = timed("report", () =>
    reporter({ diagnostics, files, cwd: opts.cwd, color: opts.color && !opts.outputFile, problems: result.problems }),
  );
  let stdout = text;
  if (opts.outputFile) {
    writeFileSync(opts.outputFile, text);
    stdout = "";
  }
  const exitCode = opts.exitZero ? 0 : diagnostics.length > 0 ? 1 : 0;
  if (opts.timing || timingWanted()) {
    const t = timingReport();
    stderr += JSON.stringify({ ...t, counts: { ...t.counts, maxRssKB: process.resourceUsage().maxRSS } }) + "\n";
  }
  return { exitCode, stdout, stderr };
}

/** The cache folder a run uses: --cache-dir, else .mps_lint_cache in the working folder. */
export function cacheDirFor(opts: Pick<CliOptions, "cwd" | "cacheDir">): string {
  return opts.cacheDir ? path.resolve(opts.cwd, opts.cacheDir) : path.join(opts.cwd, CACHE_DIR_NAME);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Run the findings' files on the accelerator; measurements land in each diagnostic's properties. */
async function verifyFindings(diagnostics: Diagnostic[], opts: CliOptions): Promise<string> {
  const v = opts.verify!;
  const { findPython, runVerify, formatVerifySummary, VerifyPythonError } = await import("./verify/index.js");
  let python: string;
  try {
    python = findPython({ python: v.python, env: process.env }).python;
  } catch (e) {
    if (e instanceof VerifyPythonError) throw new UsageError(e.message);
    throw e;
  }
  const started = Date.now();
  const progress = process.stderr.isTTY
    ? (p: VerifyProgress) =>
        process.stderr.write(
          `\r\x1b[2Kverify ${p.target}: ${p.phase === "event_sync" ? "event-sync run" : "as written"}` +
            `${p.iteration !== undefined ? ` ${p.iteration}/${p.of ?? "?"}` : ""} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
        )
    : undefined;
  const report = await runVerify(diagnostics, {
    python,
    device: v.device as VerifyOptions["device"],
    timeoutS: v.timeoutS,
    entry: v.entry,
    cwd: opts.cwd,
    verbose: v.verbose,
    repeats: v.repeats,
    onProgress: progress,
  });
  if (progress) process.stderr.write("\r\x1b[2K");
  return report.targets.flatMap((t) => formatVerifySummary(t)).map((l) => l + "\n").join("");
}
