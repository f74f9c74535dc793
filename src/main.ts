// One lint run from options to exit code, as a sequence of named stages:
//   checkOptions -> readInputs (discover, standard input, notebooks) -> withProjectContext
//   -> planLint -> lint (lintProject: engine, selection, suppressions, severities)
//   -> adopt (--add-noqa, --write-baseline) | baseline -> fix -> verify -> report -> exitCode.
// Analysis is project-wide (one call graph for all files); rule selection is per file, so the
// union of the rules any file enables runs and each file's findings are filtered afterwards.
// The language server runs the same stages up to the lint (lintWorkspace).

import { DUMP_KINDS, dumpFiles, isDumpKind } from "./project/dump.js";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fixedCount, fixLoop, keepUnwritten, MAX_PASSES as MAX_FIX_PASSES, unifiedDiff, writeFixed } from "./fix/fix.js";
import { addNoqa } from "./suppress/noqa.js";
import { filterBaseline, fingerprints, readBaseline, writeBaseline, BaselineError } from "./suppress/baseline.js";
import { cliLayer, ConfigError, ConfigResolver, formatSettings, isExcluded, type Settings } from "./config/config.js";
import { CACHE_DIR_NAME } from "./facts/cache.js";
import { defaultJobs } from "./facts/collect.js";
import { discover, fsErrorText, PathError } from "./files/discover.js";
import { prefilterFor, type FactMemo, type LintInput, type LintResult } from "./engine/engine.js";
import type { Prefilter } from "./facts/prefilter.js";
import { lintProject } from "./lint/lint-project.js";
import { isNotebook, notebookToPython, readNotebook, type CellPosition } from "./files/notebook.js";
import type { CliOptions } from "./config/cli-options.js";
import { REPORTERS } from "./reporters/index.js";
import { renderMessage } from "./reporters/message.js";
import { escapeControl, linePath as displayPath, tally } from "./reporters/paths.js";
import { presentDiagnostics } from "./reporters/present.js";
import type { Reporter, ReportDiagnostic } from "./reporters/types.js";
import { RULES } from "../rules/index.js";
import type { Rule } from "./engine/rule.js";
import { renderStatistics } from "./reporters/statistics.js";
import { charColumns, readPython } from "./files/source.js";
import type { Diagnostic } from "./types.js";
import { addTime, timed, timingReport, timingWanted } from "./timing.js";
import type { VerifyOptions, VerifyProgress } from "./verify/index.js";
import { writeFileAtomic } from "./files/write.js";

export class UsageError extends Error {}

export interface RunOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

type Problem = { file: string; message: string };

/** What a run has gathered so far: the stages below fill it in, in order. */
interface RunState {
  opts: CliOptions;
  config: ConfigResolver;
  /** Source read from standard input (path "-"). */
  stdinMode: boolean;
  files: string[];
  /** Text to lint instead of a file's contents on disk (stdin, notebooks, editor buffers). */
  overrides: Map<string, string>;
  /** Notebooks' row maps, by file. */
  cells: Map<string, CellPosition[]>;
  /** Files whose findings are reported (files named one by one); all when undefined. */
  reported?: Set<string>;
  /** Project folders of named files, linted as their context. */
  contextRoots: string[];
  /** Run warnings (not findings): they go to stderr in every format. */
  problems: Problem[];
  /** Findings fixed (and written) by --fix / --fix-only (--exit-non-zero-on-fix). */
  fixed?: number;
  stderr: string[];
}

interface LintPlan {
  lint: LintInput;
  rules: readonly Rule[];
  settingsOf(file: string): Settings;
  rootSettings: Settings;
}

export async function runLint(opts: CliOptions): Promise<RunOutput> {
  try {
    return await run(opts);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof BaselineError) throw new UsageError(e.message);
    throw e;
  }
}

async function run(opts: CliOptions): Promise<RunOutput> {
  const reporter = checkOptions(opts);
  const state = readInputs(opts);
  if (opts.showSettings) return showSettings(state);
  if (opts.showFiles) return { exitCode: 0, stdout: state.files.map((f) => `${f}\n`).sort().join(""), stderr: state.problems.map((p) => `warning: ${displayPath(p.file, opts.cwd)}: ${p.message}\n`).join("") };
  withProjectContext(state);
  const plan = planLint(state);
  if (opts.dump !== undefined) return dump(state, plan);
  const first = lint(state, plan);
  if (opts.addNoqa) return addNoqaStage(state, first.diagnostics);
  if (opts.writeBaseline) return writeBaselineStage(state, first.diagnostics, first.source);
  const baselineFile = opts.baseline ? path.resolve(opts.cwd, opts.baseline) : undefined;
  let diagnostics = baselineFile ? filterBaseline(baselineFile, readBaseline(baselineFile), first.diagnostics, first.source).kept : first.diagnostics;
  let source = first.source;
  let fixSummary = "";
  let fixedStdin: string | undefined;
  if (fixing(opts).length > 0) {
    const fixed = fixStage(state, plan, diagnostics, first.source, baselineFile);
    if ("output" in fixed) return fixed.output;
    ({ diagnostics, source, summary: fixSummary, fixedStdin } = fixed);
  }
  if (opts.errorsOnly) diagnostics = diagnostics.filter((d) => d.severity === "error");
  if (opts.verify && diagnostics.length > 0) diagnostics = await verifyStage(state, diagnostics, plan.rootSettings);
  return report(state, reporter, plan.rules, diagnostics, source, fixSummary, fixedStdin);
}

// ---- stages

/** Argument checks that need no file: the reporter, --max-warnings, modes that exclude each other. */
function checkOptions(opts: CliOptions): Reporter {
  const reporter = REPORTERS[opts.format];
  if (!reporter) throw new UsageError(`unknown format "${opts.format}" (known: ${Object.keys(REPORTERS).join(", ")})`);
  if (opts.maxWarnings !== undefined && (!Number.isInteger(opts.maxWarnings) || opts.maxWarnings < -1)) {
    throw new UsageError(`--max-warnings expects a whole number of at least -1, got ${opts.maxWarnings}`);
  }
  const exclusive = [opts.addNoqa && "--add-noqa", opts.writeBaseline && "--write-baseline", opts.baseline && "--baseline"].filter(Boolean);
  if (exclusive.length > 1) throw new UsageError(`${exclusive.join(" and ")} cannot be used together`);
  const adopting = [opts.addNoqa && "--add-noqa", opts.writeBaseline && "--write-baseline"].filter(Boolean);
  if (fixing(opts).length > 0 && adopting.length > 0) throw new UsageError(`${fixing(opts)[0]} and ${adopting[0]} cannot be used together`);
  const stdinMode = isStdinMode(opts);
  if (stdinMode && opts.paths.some((p) => p !== "-")) throw new UsageError('"-" (standard input) cannot be combined with other paths');
  if (!stdinMode && opts.stdinFilename !== undefined) throw new UsageError("--stdin-filename needs the path - (read the source from standard input)");
  if (stdinMode && opts.addNoqa) throw new UsageError("--add-noqa edits files; it cannot be used with standard input");
  return reporter;
}

function fixing(opts: CliOptions): string[] {
  return [opts.fix && "--fix", opts.fixOnly && "--fix-only", opts.diff && "--diff"].filter((x): x is string => !!x);
}

function isStdinMode(opts: CliOptions): boolean {
  return opts.paths.includes("-") || (opts.paths.length === 0 && opts.stdinFilename !== undefined);
}

/** Which files, and the text of those that are not plain Python files on disk (stdin, notebooks). */
function readInputs(opts: CliOptions): RunState {
  const config = new ConfigResolver({
    cwd: opts.cwd,
    configFile: opts.config,
    isolated: opts.isolated,
    cli: cliLayer(opts),
  });
  const state: RunState = {
    opts,
    config,
    stdinMode: isStdinMode(opts),
    files: [],
    overrides: new Map<string, string>(opts.overrides ?? []),
    cells: new Map(),
    contextRoots: [],
    problems: [],
    stderr: [],
  };
  if (state.stdinMode) {
    const file = opts.stdinFilename !== undefined ? path.resolve(opts.cwd, opts.stdinFilename) : "-";
    const excluded = opts.forceExclude && file !== "-" && isExcluded(config.forPath(path.dirname(file)), file, false);
    if (excluded) return state;
    state.files = [file];
    const text = opts.stdin ?? "";
    if (!isNotebook(file)) state.overrides.set(file, text);
    else if (!takeNotebook(state, file, notebookToPython(text), state.problems)) state.files = [];
    return state;
  }
  let files: string[];
  try {
    files = timed("discover", () =>
      discover(opts.paths.length > 0 ? opts.paths : ["."], opts.cwd, {
        isExcluded: (abs, isDir) => isExcluded(config.forDir(path.dirname(abs)), abs, isDir),
        forceExclude: opts.forceExclude,
        respectGitignore: config.forDir(opts.cwd).respectGitignore,
        onWarning: (file, message) => state.problems.push({ file, message }),
      }),
    );
  } catch (e) {
    if (e instanceof PathError) throw new UsageError(e.message);
    throw e;
  }
  state.files = files.filter((file) => loadNotebook(state, file, state.problems));
  return state;
}

/** A notebook's Python text and cell positions (false: not readable, said in `sink`). */
function loadNotebook(state: RunState, file: string, sink: Problem[]): boolean {
  return !isNotebook(file) || takeNotebook(state, file, readNotebook(file), sink);
}

function takeNotebook(state: RunState, file: string, nb: ReturnType<typeof readNotebook>, sink: Problem[]): boolean {
  if (!nb.ok) {
    sink.push({ file, message: nb.message });
    return false;
  }
  state.overrides.set(file, nb.module.text);
  state.cells.set(file, nb.module.rows);
  for (const w of nb.module.warnings) sink.push({ file, message: w });
  return true;
}

/** Discovered paths are files: their folder's settings, without a stat each. */
function settingsOf(state: RunState, file: string): Settings {
  return file === "-" ? state.config.forPath(state.opts.cwd) : state.config.forDir(path.dirname(file));
}

function showSettings(state: RunState): RunOutput {
  const { opts, config, files } = state;
  const file = files[0] ?? (opts.paths[0] && opts.paths[0] !== "-" ? path.resolve(opts.cwd, opts.paths[0]) : path.join(opts.cwd, "-"));
  return { exitCode: 0, stdout: formatSettings(config.forPath(file === "-" ? opts.cwd : file), file, opts.cwd), stderr: "" };
}

/**
 * Invocation context: files named one by one (pre-commit, editors, standard input with
 * --stdin-filename) are analysed inside their project, and only their findings are reported.
 * A thread started in pkg/app.py reaches a sync in pkg/helpers.py whichever file is named. The
 * prefilter and the facts cache keep the rest of the project cheap.
 */
function withProjectContext(state: RunState): void {
  const { opts, config } = state;
  const namedOnlyFiles = state.stdinMode
    ? opts.stdinFilename !== undefined
    : opts.paths.length > 0 && !opts.paths.some((p) => isDirectory(path.resolve(opts.cwd, p)));
  if (!namedOnlyFiles || state.files.length === 0) return;
  for (const f of state.files) {
    const root = projectRoot(f, settingsOf(state, f), opts.cwd);
    if (root && !state.contextRoots.includes(root)) state.contextRoots.push(root);
  }
  if (state.contextRoots.length === 0) return;
  const context = timed("discover", () =>
    discover(state.contextRoots, opts.cwd, {
      isExcluded: (abs, isDir) => isExcluded(config.forDir(path.dirname(abs)), abs, isDir),
      onWarning: () => {}, // the rest of the project is context: its problems are not this run's
    }),
  );
  const reported = new Set(state.files);
  state.reported = reported;
  const ignored: Problem[] = [];
  state.files = [...state.files, ...context.filter((f) => !reported.has(f) && loadNotebook(state, f, ignored))];
}

/** Project-wide settings: the rules any file enables, every import root and entry point. */
function planLint(state: RunState): LintPlan {
  const { opts, config, files } = state;
  const perFile = new Map<string, Settings>(files.map((f) => [f, settingsOf(state, f)]));
  const all = [...new Set(perFile.values())];
  const rules = RULES.filter((r) => all.some((s) => s.rules.includes(r)));
  const rootSettings = config.forDir(opts.cwd);
  const versioned = rootSettings.torchVersion ? rootSettings : all.find((s) => s.torchVersion);
  const torchVersion = versioned?.torchVersion ?? null;
  // MPS008's threshold comes with torch-version, from the same settings.
  const mpsPerThreadStreamsVersion = versioned?.mpsPerThreadStreamsVersion ?? rootSettings.mpsPerThreadStreamsVersion ?? undefined;
  const searchRoots = [opts.cwd, ...state.contextRoots, ...opts.paths.filter((p) => p !== "-").map((p) => path.resolve(opts.cwd, p)).filter(isDirectory)];
  return {
    lint: {
      files,
      rules,
      settings: { torchVersion, mpsPerThreadStreamsVersion },
      srcRoots: [...new Set(all.flatMap((s) => s.src))],
      searchRoots,
      threadEntryPoints: [...new Set(all.flatMap((s) => s.threadEntryPoints))],
      overrides: state.overrides,
      jobs: opts.jobs ?? defaultJobs(),
      cacheDir: opts.cache === false ? null : cacheDirFor(opts, state.contextRoots[0]),
      // MPS000 named in a selection (not only by a prefix or ALL): syntax errors in every file,
      // so every file is parsed; by default they are reported in the files parsed anyway.
      prefilter: (opts.prefilter ?? true) && !all.some((s) => [...(s.select ?? []), ...s.extendSelect].some((sel) => /^\s*(MPS000|invalid-syntax)\s*$/i.test(sel))),
      // Files named one by one are parsed whatever the prefilter says: their syntax errors are reported.
      parseAlways: new Set([
        ...(state.reported ?? []),
        ...(state.stdinMode ? files : opts.paths.map((p) => path.resolve(opts.cwd, p)).filter((p) => !isDirectory(p))),
      ]),
    },
    rules,
    settingsOf: (file) => perFile.get(file) ?? settingsOf(state, file),
    rootSettings,
  };
}

function dump(state: RunState, plan: LintPlan): RunOutput {
  const kind = state.opts.dump!;
  if (!isDumpKind(kind)) throw new UsageError(`unknown --dump "${kind}" (known: ${DUMP_KINDS.join(", ")})`);
  return { exitCode: 0, stdout: dumpFiles(kind, plan.lint, state.opts.cwd, state.reported ? [...state.reported] : undefined), stderr: "" };
}

/** lintProject: engine, per-file selection, suppressions, severities (the baseline comes after adoption, which ignores it). */
function lint(state: RunState, plan: LintPlan, engine?: LintResult): { diagnostics: Diagnostic[]; source: (file: string) => string; analysed: string[]; cachedResult: boolean; engine: LintResult } {
  // A progress line on a terminal (src/reporters/progress.ts), erased before anything else is written.
  const progress = state.opts.progress;
  let first;
  try {
    first = lintProject({ lint: progress ? { ...plan.lint, progress: (p) => progress.update(p) } : plan.lint, settingsOf: plan.settingsOf, report: state.reported, ignoreNoqa: state.opts.ignoreNoqa, engine });
  } finally {
    progress?.clear();
  }
  state.problems.push(...first.problems);
  return { diagnostics: first.diagnostics, source: first.result.source, analysed: first.result.facts.map((f) => f.file), cachedResult: !!first.result.stats?.cachedResult, engine: first.result };
}

function addNoqaStage(state: RunState, diagnostics: Diagnostic[]): RunOutput {
  const { cells, overrides, problems, stderr, opts } = state;
  const editable = diagnostics.filter((d) => d.code !== "MPS100" && !cells.has(d.file) && !overrides.has(d.file));
  for (const d of diagnostics) if (cells.has(d.file)) problems.push({ file: d.file, message: "--add-noqa does not edit notebooks; add # noqa in the cell by hand" });
  const r = addNoqa(editable, opts.addNoqaReason);
  for (const s of r.skipped) stderr.push(`warning: ${displayPath(s.file, opts.cwd)}:${s.row + 1}: ${escapeControl(s.reason)}`);
  pushProblems(state);
  if (!opts.quiet && !opts.silent) stderr.push(`Added ${r.added} noqa directive${r.added === 1 ? "" : "s"}${r.files > 0 ? ` in ${r.files} file${r.files === 1 ? "" : "s"}` : ""}.`);
  return { exitCode: 0, stdout: "", stderr: stderr.length > 0 ? stderr.join("\n") + "\n" : "" };
}

function writeBaselineStage(state: RunState, diagnostics: Diagnostic[], source: (file: string) => string): RunOutput {
  const { opts, stderr } = state;
  const file = opts.writeBaseline!;
  const cellsOf = (f: string) => state.cells.get(f);
  const n = writing(file, () => writeBaseline(path.resolve(opts.cwd, file), diagnostics, source, (d) => renderMessage(d, { cwd: opts.cwd, cellsOf })));
  pushProblems(state);
  stderr.push(`Wrote ${n} finding${n === 1 ? "" : "s"} to ${file}.`);
  return { exitCode: 0, stdout: "", stderr: stderr.join("\n") + "\n" };
}

type FixOutcome =
  | { output: RunOutput }
  | { diagnostics: Diagnostic[]; source: (file: string) => string; summary: string; fixedStdin?: string };

/** --fix, --fix-only, --diff (+ --unsafe-fixes), to a fixpoint (src/fix/fix.ts); each pass re-lints through lintProject. */
function fixStage(state: RunState, plan: LintPlan, diagnostics: Diagnostic[], source: (file: string) => string, baselineFile: string | undefined): FixOutcome {
  const { opts, cells, overrides, problems, stderr, stdinMode, files } = state;
  let sourceOf = source;
  const fileOk = new Map<string, boolean>();
  const outcome = fixLoop({
    diagnostics,
    source,
    unsafe: !!opts.unsafeFixes,
    recompute: !!plan.lint.cacheDir,
    editable: (file) => {
      if (cells.has(file)) return false;
      if (stdinMode) return true;
      if (overrides.has(file)) return false;
      let ok = fileOk.get(file);
      if (ok === undefined) {
        const src = readPython(file);
        ok = src.encoding === "utf-8" && !src.warning;
        if (!ok) problems.push({ file, message: "not UTF-8; fixes are not applied" });
        fileOk.set(file, ok);
      }
      return ok;
    },
    // The same stages as the first pass: lint, per-file selection, suppressions, severities, baseline.
    relint: (texts) => {
      const again = lintProject({ lint: { ...plan.lint, overrides: new Map([...overrides, ...texts]) }, settingsOf: plan.settingsOf, baseline: baselineFile, report: state.reported, ignoreNoqa: opts.ignoreNoqa });
      sourceOf = again.result.source;
      return again.diagnostics;
    },
  });
  problems.push(...outcome.problems);
  if (!outcome.converged) stderr.push(`warning: fixes were still being found after ${MAX_FIX_PASSES} passes; run --fix again`);
  let n = fixedCount(outcome.fixed);
  const plural = (k: number, w: string) => `${k} ${w}${k === 1 ? "" : "s"}`;
  const enumerate = () => {
    const lines = [`${opts.diff ? "Would fix" : "Fixed"} ${plural(n, "problem")}:`];
    for (const [file, counts] of [...outcome.fixed].sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(`- ${displayPath(file, opts.cwd)}:`);
      for (const [code, k] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`    ${k} × ${code} (${RULES.find((r) => r.meta.code === code)?.meta.name ?? code})`);
    }
    return lines;
  };
  if (opts.diff) {
    const diffs = [...outcome.texts].map(([file, text]) => {
      const name = displayPath(file, opts.cwd);
      return unifiedDiff(outcome.originals.get(file)!, text, name, name);
    });
    pushProblems(state);
    if (opts.showFixes && n > 0) stderr.push(...enumerate());
    stderr.push(n > 0 ? `Would fix ${plural(n, "problem")}.` : "No fixes would be applied.");
    return { output: { exitCode: outcome.texts.size > 0 ? 1 : 0, stdout: diffs.join(""), stderr: stderr.join("\n") + "\n" } };
  }
  // Standard input: the fixed source goes to stdout (as Ruff does), the report to stderr.
  const fixedStdin = stdinMode ? (files[0] !== undefined ? (outcome.texts.get(files[0]) ?? source(files[0])) : (opts.stdin ?? "")) : undefined;
  let unwritten: Problem[] = [];
  if (!stdinMode) {
    // Fixes that could not be written are not made: their findings stay, and count (issue 18).
    unwritten = writeFixed(outcome.texts, outcome.originals);
    problems.push(...unwritten);
    sourceOf = keepUnwritten(outcome, diagnostics, unwritten, source, sourceOf);
    n = fixedCount(outcome.fixed);
  }
  state.fixed = n;
  if (opts.showFixes && n > 0 && !opts.quiet && !opts.silent) stderr.push(...enumerate());
  if (opts.fixOnly) {
    pushProblems(state);
    if (!opts.quiet && !opts.silent) stderr.push(`Fixed ${plural(n, "problem")}.`);
    const failed = unwritten.length > 0 || (!!opts.exitNonZeroOnFix && !opts.exitZero && n > 0);
    return { output: { exitCode: failed ? 1 : 0, stdout: fixedStdin ?? "", stderr: stderr.length > 0 ? stderr.join("\n") + "\n" : "" } };
  }
  const remaining = outcome.diagnostics;
  return { diagnostics: remaining, source: sourceOf, summary: `Fixed ${plural(n, "problem")}, ${remaining.length} remaining.`, fixedStdin };
}

/** Run the findings' files on the accelerator; measurements land in each diagnostic's properties. */
async function verifyStage(state: RunState, diagnostics: Diagnostic[], settings: Settings): Promise<Diagnostic[]> {
  const { opts } = state;
  const v = opts.verify!;
  const cfg = settings.verify;
  const { findPython, runVerify, formatVerifySummary, withVerifyMeasurements, VerifyPythonError } = await import("./verify/index.js");
  let python: string;
  try {
    python = findPython({ python: v.python ?? cfg.python, env: process.env }).python;
  } catch (e) {
    if (e instanceof VerifyPythonError) throw new UsageError(e.message);
    throw e;
  }
  const device = v.device ?? (cfg.device === "auto" ? undefined : cfg.device);
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
    device: device as VerifyOptions["device"],
    timeoutS: v.timeoutS ?? cfg.timeout ?? 60,
    entry: v.entry ?? cfg.entry,
    cwd: opts.cwd,
    verbose: v.verbose,
    repeats: v.repeats,
    memoryMb: v.memoryMb,
    onProgress: progress,
  });
  if (progress) process.stderr.write("\r\x1b[2K");
  // Lines can quote the user's program (its exception, its output): no raw control bytes.
  const text = report.targets.flatMap((t) => formatVerifySummary(t)).map((l) => l.split("\n").map(escapeControl).join("\n") + "\n").join("");
  state.stderr.push(text.replace(/\n$/, ""));
  return withVerifyMeasurements(diagnostics, report);
}

/** The findings in the chosen format (stdout or -o FILE), run warnings on stderr, and the exit code. */
function report(
  state: RunState,
  reporter: Reporter,
  rules: readonly Rule[],
  diagnostics: Diagnostic[],
  sourceOf: (file: string) => string,
  fixSummary: string,
  fixedStdin: string | undefined,
): RunOutput {
  const { opts, stderr } = state;
  const shown = present(state, diagnostics, sourceOf, opts.format === "sarif");
  const reportStart = performance.now();
  const text = opts.statistics
    ? renderStatistics(shown, opts.format, !!opts.unsafeFixes)
    : reporter({
        diagnostics: shown,
        // The files checked: those named, not the project around them (junit lists each).
        files: state.reported ? state.files.filter((f) => state.reported!.has(f)) : state.files,
        cwd: opts.cwd,
        color: opts.color && !opts.outputFile,
        // Problems of the run (unreadable files, link loops) go to stderr in every format.
        problems: [],
        rules,
        unsafeFixes: !!opts.unsafeFixes,
        showFixes: !!opts.showFixes,
        source: sourceOf,
        // --quiet: the findings and nothing else (Ruff's).
        summary: !opts.quiet,
      });
  pushProblems(state);
  addTime("report", performance.now() - reportStart);
  let stdout = opts.silent ? "" : text;
  if (opts.outputFile && !opts.silent) {
    writing(opts.outputFile, () => writeFileAtomic(path.resolve(opts.cwd, opts.outputFile!), text));
    stdout = "";
  }
  if (fixSummary && !opts.quiet && !opts.silent) stderr.push(fixSummary);
  if (fixedStdin !== undefined) {
    if (stdout) stderr.unshift(stdout.replace(/\n$/, ""));
    stdout = fixedStdin;
  }
  const exitCode = exitCodeFor(state, diagnostics);
  if (opts.timing || timingWanted()) {
    const t = timingReport();
    stderr.push(JSON.stringify({ ...t, counts: { ...t.counts, maxRssKB: process.resourceUsage().maxRSS } }));
  }
  return { exitCode, stdout, stderr: stderr.length > 0 ? stderr.join("\n") + "\n" : "" };
}

/**
 * Findings as reporters see them: messages rendered, notebook rows as cells, baseline
 * fingerprints; columns in characters as Ruff reports them, except in UTF-16 code units where
 * the format declares those (SARIF's columnKind, the language server).
 */
function present(state: RunState, diagnostics: Diagnostic[], sourceOf: (file: string) => string, utf16: boolean): ReportDiagnostic[] {
  return presentDiagnostics(diagnostics, {
    cwd: state.opts.cwd,
    cells: state.cells,
    columns: utf16 ? undefined : charColumns(sourceOf),
    fingerprints: fingerprints(diagnostics, sourceOf, state.opts.cwd),
  });
}

function exitCodeFor(state: RunState, diagnostics: Diagnostic[]): number {
  const { opts, stderr } = state;
  const { errors, warnings, infos } = tally(diagnostics);
  let exitCode = errors + warnings + infos > 0 ? 1 : 0;
  if (opts.maxWarnings !== undefined && opts.maxWarnings >= 0) {
    const tooMany = warnings > opts.maxWarnings;
    if (tooMany) stderr.push(`mps-lint found too many warnings (maximum: ${opts.maxWarnings}).`);
    exitCode = errors > 0 || tooMany ? 1 : 0;
  }
  if (opts.exitNonZeroOnFix && (state.fixed ?? 0) > 0) exitCode = 1;
  return opts.exitZero ? 0 : exitCode;
}

/** Run warnings, each once, on stderr. */
function pushProblems(state: RunState): void {
  for (const p of dedupe(state.problems)) state.stderr.push(`warning: ${displayPath(p.file, state.opts.cwd)}: ${escapeControl(p.message)}`);
}

// ---- the language server's lint: the same stages as a run, up to the findings

export interface WorkspaceLint {
  /** Findings with rendered messages; rows of notebooks relative to their cell; UTF-16 columns (LSP's default). */
  diagnostics: ReportDiagnostic[];
  problems: Problem[];
  /** The files linted (discovered), and those whose facts the analysis read (the others it never parsed). */
  files: string[];
  analysed: string[];
  /** The findings came whole from the disk cache (no analysis ran; `analysed` holds only files with directive comments). */
  cachedResult: boolean;
  /** The prefilter the run used (null: every file was parsed): a file it rejects is parsed only if the analysis asks for it. */
  prefilter: Prefilter | null;
  /** The engine's result (its findings before suppressions and the stages after it; which files' text the rules read). */
  engine: LintResult;
}

/** What the language server keeps between lints and how it follows or stops one (src/server/analysis.ts). */
export interface WorkspaceHooks {
  memo?: FactMemo;
  cancelled?: () => boolean;
  progress?: LintInput["progress"];
  /**
   * Only these files' findings are wanted (an editor's open documents): they are analysed inside
   * the workspace as files named on the command line are (first, then the rest as context), and
   * the rules stop once they are checked (LintInput.reportOnly).
   */
  reportOnly?: readonly string[];
  /** The engine's result to take instead of running it (LintProjectInput.engine). */
  engine?: LintResult;
}

/** Lint a folder as a run would (configuration, discovery, notebooks, lintProject), with `opts.overrides` for open buffers. */
export function lintWorkspace(opts: CliOptions, hooks: WorkspaceHooks = {}): WorkspaceLint {
  try {
    const { reportOnly, engine: reuse, ...lintHooks } = hooks;
    const state = readInputs(opts);
    if (reportOnly) nameFirst(state, reportOnly);
    const plan = planLint(state);
    const { diagnostics, source, analysed, cachedResult, engine } = lint(state, { ...plan, lint: { ...plan.lint, ...lintHooks } }, reuse);
    const prefilter = plan.lint.prefilter ? prefilterFor(plan.rules, plan.lint.threadEntryPoints) : null;
    return { diagnostics: present(state, diagnostics, source, true), problems: dedupe(state.problems), files: state.files, analysed, cachedResult, prefilter, engine };
  } catch (e) {
    if (e instanceof ConfigError || e instanceof BaselineError) throw new UsageError(e.message);
    throw e;
  }
}

/** The run's files reordered as for files named one by one: `named` first (in discovery order), then the rest; only theirs reported. */
function nameFirst(state: RunState, named: readonly string[]): void {
  const wanted = new Set(named);
  const first = state.files.filter((f) => wanted.has(f));
  const set = new Set(first);
  state.files = [...first, ...state.files.filter((f) => !set.has(f))];
  state.reported = set;
}

// ---- helpers

/** A file the user named cannot be written (a folder, a missing folder, no permission): exit 2. */
function writing<T>(name: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z]+$/.test(code)) throw new UsageError(`cannot write ${name}: ${fsErrorText(e)}`);
    throw e;
  }
}

/**
 * The project a named file belongs to: the folder of its configuration file, else the nearest
 * folder above it with a pyproject.toml or a .git, else the working folder when the file lies
 * inside it. None: the file is linted on its own.
 */
function projectRoot(file: string, settings: Settings, cwd: string): string | null {
  if (settings.configFile) return path.dirname(settings.configFile);
  return markedRoot(path.dirname(file)) ?? (isInside(file, cwd) ? cwd : null);
}

/** The nearest folder from `dir` up with a configuration file, a pyproject.toml or a .git. */
function markedRoot(dir: string): string | null {
  for (;; dir = path.dirname(dir)) {
    if (PROJECT_MARKERS.some((m) => existsSync(path.join(dir, m)))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

const PROJECT_MARKERS = [".mps-lint.toml", "mps-lint.toml", "pyproject.toml", ".git"];

function isInside(file: string, dir: string): boolean {
  const r = path.relative(dir, file);
  return r !== "" && !r.startsWith("..") && !path.isAbsolute(r);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function dedupe<T extends { file: string; message: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = `${x.file}\0${x.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The cache folder a run uses: --cache-dir (or cache-dir), else .mps_lint_cache at the project
 * root, as Ruff keeps .ruff_cache: the project of the files named one by one (`contextRoot`), else
 * of the first path (the working folder when none): the nearest folder up with a configuration
 * file, a pyproject.toml or a .git; else the working folder when the path lies inside it; else
 * the folder linted. Linting a tree elsewhere leaves nothing in the working folder.
 */
export function cacheDirFor(opts: Pick<CliOptions, "cwd" | "cacheDir"> & { paths?: string[] }, contextRoot?: string): string {
  if (opts.cacheDir) return path.resolve(opts.cwd, opts.cacheDir);
  const root = contextRoot ?? lintedRoot(opts);
  // Never in a kernel file system (a recursive mkdir under /proc/self loops in Node).
  return path.join(/^\/(proc|sys|dev)(\/|$)/.test(root) ? opts.cwd : root, CACHE_DIR_NAME);
}

/** The project root of the first path (the working folder when none), for the cache (cacheDirFor). */
function lintedRoot(opts: Pick<CliOptions, "cwd"> & { paths?: string[] }): string {
  const first = opts.paths?.find((p) => p !== "-");
  const target = first === undefined ? opts.cwd : path.resolve(opts.cwd, first);
  const folder = isDirectory(target);
  const marked = markedRoot(folder ? target : path.dirname(target));
  if (marked) return marked;
  // No marker: the working folder when the path lies in it, or when it is a file (one file's
  // cache is small); else the folder linted.
  return target === opts.cwd || isInside(target, opts.cwd) || !folder ? opts.cwd : target;
}
