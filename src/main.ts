// One lint run from options to exit code:
//   config -> discover -> (notebooks -> Python) -> lint -> per-file selection -> suppressions
//   -> severity overrides -> add-noqa | baseline -> report.
// Analysis is project-wide (one call graph for all files); rule selection is per file, so the
// union of the rules any file enables runs and each file's findings are filtered afterwards.

import { DUMP_KINDS, dumpFiles, isDumpKind } from "./project/dump.js";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fixedCount, fixLoop, keepUnwritten, MAX_PASSES as MAX_FIX_PASSES, unifiedDiff, writeFixed } from "./fix.js";
import { addNoqa } from "./noqa.js";
import { filterBaseline, fingerprints, readBaseline, writeBaseline, BaselineError } from "./baseline.js";
import { ConfigError, ConfigResolver, formatSettings, isExcluded, type Settings } from "./config.js";
import { CACHE_DIR_NAME } from "./cache.js";
import { defaultJobs } from "./collect.js";
import { discover, fsErrorText, PathError } from "./discover.js";
import { lintProject } from "./lint-project.js";
import { isNotebook, notebookToPython, readNotebook, type CellPosition } from "./notebook.js";
import type { CliOptions } from "./options.js";
import { REPORTERS } from "./reporters/index.js";
import { linePath as displayPath, tally } from "./reporters/paths.js";
import type { ReportDiagnostic } from "./reporters/types.js";
import { RULES } from "../rules/index.js";
import { renderStatistics } from "./statistics.js";
import { charColumns, readPython } from "./source.js";
import type { Diagnostic, Range } from "./types.js";
import { addTime, timed, timingReport, timingWanted } from "./timing.js";
import type { VerifyOptions, VerifyProgress } from "./verify/index.js";
import { writeFileAtomic } from "./write.js";

export class UsageError extends Error {}

export interface RunOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Rules chosen by command-line selectors alone (kept for callers that have no configuration). */
/** Files with more than this many modules get a progress line (on a terminal). */
const PROGRESS_THRESHOLD = 50;

export async function runLint(opts: CliOptions): Promise<RunOutput> {
  try {
    return await run(opts);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof BaselineError) throw new UsageError(e.message);
    throw e;
  }
}

async function run(opts: CliOptions): Promise<RunOutput> {
  const reporter = REPORTERS[opts.format];
  if (!reporter) throw new UsageError(`unknown format "${opts.format}" (known: ${Object.keys(REPORTERS).join(", ")})`);
  if (opts.maxWarnings !== undefined && (!Number.isInteger(opts.maxWarnings) || opts.maxWarnings < -1)) {
    throw new UsageError(`--max-warnings expects a whole number, got ${opts.maxWarnings}`);
  }
  const exclusive = [opts.addNoqa && "--add-noqa", opts.writeBaseline && "--write-baseline", opts.baseline && "--baseline"].filter(Boolean);
  if (exclusive.length > 1) throw new UsageError(`${exclusive.join(" and ")} cannot be used together`);
  const fixing = [opts.fix && "--fix", opts.fixOnly && "--fix-only", opts.diff && "--diff"].filter(Boolean);
  const adopting = [opts.addNoqa && "--add-noqa", opts.writeBaseline && "--write-baseline"].filter(Boolean);
  if (fixing.length > 0 && adopting.length > 0) throw new UsageError(`${fixing[0]} and ${adopting[0]} cannot be used together`);
  const config = new ConfigResolver({
    cwd: opts.cwd,
    configFile: opts.config,
    isolated: opts.isolated,
    cli: { select: opts.select, ignore: opts.ignore, extendSelect: opts.extendSelect },
  });
  const stderr: string[] = [];
  const problems: { file: string; message: string }[] = [];

  // ---- which files, and the text of those that are not plain Python files on disk
  const stdinMode = opts.paths.includes("-") || (opts.paths.length === 0 && opts.stdinFilename !== undefined);
  if (stdinMode && opts.paths.some((p) => p !== "-")) throw new UsageError('"-" (standard input) cannot be combined with other paths');
  if (!stdinMode && opts.stdinFilename !== undefined) throw new UsageError("--stdin-filename needs the path - (read the source from standard input)");
  if (stdinMode && opts.addNoqa) throw new UsageError("--add-noqa edits files; it cannot be used with standard input");
  const overrides = new Map<string, string>(opts.overrides ?? []);
  const cells = new Map<string, CellPosition[]>();
  /** A notebook's Python text and cell positions (false: not readable, said in `sink`). */
  const loadNotebook = (file: string, sink: { file: string; message: string }[]): boolean => {
    if (!isNotebook(file)) return true;
    const nb = readNotebook(file);
    if (!nb.ok) {
      sink.push({ file, message: nb.message });
      return false;
    }
    overrides.set(file, nb.module.text);
    cells.set(file, nb.module.rows);
    for (const w of nb.module.warnings) sink.push({ file, message: w });
    return true;
  };
  let files: string[];
  if (stdinMode) {
    const file = opts.stdinFilename !== undefined ? path.resolve(opts.cwd, opts.stdinFilename) : "-";
    const excluded = opts.forceExclude && file !== "-" && isExcluded(config.forPath(path.dirname(file)), file, false);
    files = excluded ? [] : [file];
    if (!excluded) {
      const text = opts.stdin ?? "";
      if (isNotebook(file)) {
        const nb = notebookToPython(text);
        if (nb.ok) {
          overrides.set(file, nb.module.text);
          cells.set(file, nb.module.rows);
          for (const w of nb.module.warnings) problems.push({ file, message: w });
        } else {
          problems.push({ file, message: nb.message });
          files = [];
        }
      } else overrides.set(file, text);
    }
  } else {
    try {
      files = timed("discover", () =>
        discover(opts.paths.length > 0 ? opts.paths : ["."], opts.cwd, {
          isExcluded: (abs, isDir) => isExcluded(config.forDir(path.dirname(abs)), abs, isDir),
          forceExclude: opts.forceExclude,
          respectGitignore: config.forDir(opts.cwd).respectGitignore,
          onWarning: (file, message) => problems.push({ file, message }),
        }),
      );
    } catch (e) {
      if (e instanceof PathError) throw new UsageError(e.message);
      throw e;
    }
    files = files.filter((file) => loadNotebook(file, problems));
  }

  // Discovered paths are files: their folder's settings, without a stat each.
  const settingsOf = (file: string): Settings => (file === "-" ? config.forPath(opts.cwd) : config.forDir(path.dirname(file)));

  if (opts.showSettings) {
    const file = files[0] ?? (opts.paths[0] && opts.paths[0] !== "-" ? path.resolve(opts.cwd, opts.paths[0]) : path.join(opts.cwd, "-"));
    return { exitCode: 0, stdout: formatSettings(config.forPath(file === "-" ? opts.cwd : file), file, opts.cwd), stderr: "" };
  }

  // ---- invocation context: files named one by one (pre-commit, editors, standard input with
  // --stdin-filename) are analysed inside their project, and only their findings are reported.
  // A thread started in pkg/app.py reaches a sync in pkg/helpers.py whichever file is named. The
  // prefilter and the facts cache keep the rest of the project cheap.
  const namedOnlyFiles = stdinMode ? opts.stdinFilename !== undefined : opts.paths.length > 0 && !opts.paths.some((p) => isDirectory(path.resolve(opts.cwd, p)));
  let reported: Set<string> | undefined;
  const contextRoots: string[] = [];
  if (namedOnlyFiles && files.length > 0) {
    for (const f of files) {
      const root = projectRoot(f, settingsOf(f));
      if (root && !contextRoots.includes(root)) contextRoots.push(root);
    }
    if (contextRoots.length > 0) {
      const context = timed("discover", () =>
        discover(contextRoots, opts.cwd, {
          isExcluded: (abs, isDir) => isExcluded(config.forDir(path.dirname(abs)), abs, isDir),
          onWarning: () => {}, // the rest of the project is context: its problems are not this run's
        }),
      );
      reported = new Set(files);
      const ignored: { file: string; message: string }[] = [];
      files = [...files, ...context.filter((f) => !reported!.has(f) && loadNotebook(f, ignored))];
    }
  }

  // ---- project-wide settings: the rules any file enables, every import root and entry point
  const perFile = new Map<string, Settings>(files.map((f) => [f, settingsOf(f)]));
  const all = [...new Set(perFile.values())];
  const rules = RULES.filter((r) => all.some((s) => s.rules.includes(r)));
  const rootSettings = config.forDir(opts.cwd);
  const torchVersion = rootSettings.torchVersion ?? all.find((s) => s.torchVersion)?.torchVersion ?? null;

  if (opts.progress && files.length > PROGRESS_THRESHOLD) opts.progress(`mps-lint: analysing ${files.length} files…`);
  const searchRoots = [opts.cwd, ...contextRoots, ...opts.paths.filter((p) => p !== "-").map((p) => path.resolve(opts.cwd, p)).filter(isDirectory)];
  const lintInput = {
    files,
    rules,
    settings: { torchVersion },
    srcRoots: [...new Set(all.flatMap((s) => s.src))],
    searchRoots,
    threadEntryPoints: [...new Set(all.flatMap((s) => s.threadEntryPoints))],
    overrides,
    jobs: opts.jobs ?? defaultJobs(),
    cacheDir: opts.cache === false ? null : cacheDirFor(opts),
    prefilter: opts.prefilter ?? true,
  };
  if (opts.dump !== undefined) {
    if (!isDumpKind(opts.dump)) throw new UsageError(`unknown --dump "${opts.dump}" (known: ${DUMP_KINDS.join(", ")})`);
    return { exitCode: 0, stdout: dumpFiles(opts.dump, lintInput, opts.cwd, reported ? [...reported] : undefined), stderr: "" };
  }
  // Selection, suppressions and severities here; the baseline after adoption (which ignores it).
  const settingsFor = (file: string) => perFile.get(file) ?? settingsOf(file);
  const baselineFile = opts.baseline ? path.resolve(opts.cwd, opts.baseline) : undefined;
  const first = lintProject({ lint: lintInput, settingsOf: settingsFor, report: reported });
  const result = first.result;
  if (opts.progress && files.length > PROGRESS_THRESHOLD) opts.progress("");
  problems.push(...first.problems);
  let diagnostics: Diagnostic[] = first.diagnostics;

  // ---- adoption: --add-noqa, --write-baseline; --baseline filters
  if (opts.addNoqa) {
    const editable = diagnostics.filter((d) => d.code !== "MPS100" && !cells.has(d.file) && !overrides.has(d.file));
    for (const d of diagnostics) if (cells.has(d.file)) problems.push({ file: d.file, message: "--add-noqa does not edit notebooks; add # noqa in the cell by hand" });
    const r = addNoqa(editable);
    for (const s of r.skipped) stderr.push(`warning: ${displayPath(s.file, opts.cwd)}:${s.row + 1}: ${s.reason}`);
    for (const p of dedupe(problems)) stderr.push(`warning: ${displayPath(p.file, opts.cwd)}: ${p.message}`);
    stderr.push(`Added ${r.added} noqa directive${r.added === 1 ? "" : "s"}${r.files > 0 ? ` in ${r.files} file${r.files === 1 ? "" : "s"}` : ""}.`);
    return { exitCode: 0, stdout: "", stderr: stderr.join("\n") + "\n" };
  }
  if (opts.writeBaseline) {
    const n = writing(opts.writeBaseline, () => writeBaseline(path.resolve(opts.cwd, opts.writeBaseline!), diagnostics, result.source));
    for (const p of dedupe(problems)) stderr.push(`warning: ${displayPath(p.file, opts.cwd)}: ${p.message}`);
    stderr.push(`Wrote ${n} finding${n === 1 ? "" : "s"} to ${opts.writeBaseline}.`);
    return { exitCode: 0, stdout: "", stderr: stderr.join("\n") + "\n" };
  }
  if (baselineFile) diagnostics = filterBaseline(baselineFile, readBaseline(baselineFile), diagnostics, result.source).kept;

  // ---- fixes: --fix, --fix-only, --diff (+ --unsafe-fixes), to a fixpoint (src/fix.ts)
  let sourceOf = result.source;
  let fixSummary = "";
  let fixedStdin: string | undefined;
  if (fixing.length > 0) {
    const fileOk = new Map<string, boolean>();
    const outcome = fixLoop({
      diagnostics,
      source: result.source,
      unsafe: !!opts.unsafeFixes,
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
        const again = lintProject({ lint: { ...lintInput, overrides: new Map([...overrides, ...texts]) }, settingsOf: settingsFor, baseline: baselineFile, report: reported });
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
      for (const p of dedupe(problems)) stderr.push(`warning: ${displayPath(p.file, opts.cwd)}: ${p.message}`);
      if (opts.showFixes && n > 0) stderr.push(...enumerate());
      stderr.push(n > 0 ? `Would fix ${plural(n, "problem")}.` : "No fixes would be applied.");
      return { exitCode: outcome.texts.size > 0 ? 1 : 0, stdout: diffs.join(""), stderr: stderr.join("\n") + "\n" };
    }
    // Standard input: the fixed source goes to stdout (as Ruff does), the report to stderr.
    if (stdinMode) fixedStdin = files[0] !== undefined ? (outcome.texts.get(files[0]) ?? result.source(files[0])) : (opts.stdin ?? "");
    let unwritten: { file: string; message: string }[] = [];
    if (!stdinMode) {
      // Fixes that could not be written are not made: their findings stay, and count (issue 18).
      unwritten = writeFixed(outcome.texts, outcome.originals);
      problems.push(...unwritten);
      sourceOf = keepUnwritten(outcome, diagnostics, unwritten, result.source, sourceOf);
      n = fixedCount(outcome.fixed);
    }
    diagnostics = outcome.diagnostics;
    if (opts.showFixes && n > 0) stderr.push(...enumerate());
    if (opts.fixOnly) {
      for (const p of dedupe(problems)) stderr.push(`warning: ${displayPath(p.file, opts.cwd)}: ${p.message}`);
      stderr.push(`Fixed ${plural(n, "problem")}.`);
      return { exitCode: unwritten.length > 0 ? 1 : 0, stdout: fixedStdin ?? "", stderr: stderr.join("\n") + "\n" };
    }
    fixSummary = `Fixed ${plural(n, "problem")}, ${diagnostics.length} remaining.`;
  }

  if (opts.quiet) diagnostics = diagnostics.filter((d) => d.severity === "error");
  if (opts.verify && diagnostics.length > 0) {
    const verified = await verifyFindings(diagnostics, opts, rootSettings);
    diagnostics = verified.diagnostics;
    stderr.push(verified.text.replace(/\n$/, ""));
  }

  // ---- report
  const fps = fingerprints(diagnostics, sourceOf, opts.cwd);
  // Columns in characters as Ruff reports them; SARIF declares UTF-16 code units (columnKind).
  const col = opts.format === "sarif" ? null : charColumns(sourceOf);
  // Notebook findings carry no fix: their edits are offsets in the concatenated cells.
  const shown: ReportDiagnostic[] = diagnostics.map((d, i) =>
    toCells({ ...(col ? inChars(d, col) : d), fingerprint: fps[i], ...(cells.has(d.file) ? { fix: null } : {}) }, cells),
  );
  const uniqueProblems = dedupe(problems);
  const reportStart = performance.now();
  const text = opts.statistics
    ? renderStatistics(shown, opts.format)
    : reporter({
    diagnostics: shown,
    files,
    cwd: opts.cwd,
    color: opts.color && !opts.outputFile,
    // Problems of the run (unreadable files, link loops) go to stderr in every format.
    problems: [],
    rules,
    unsafeFixes: !!opts.unsafeFixes,
    showFixes: !!opts.showFixes,
    source: sourceOf,
  });
  for (const p of uniqueProblems) stderr.push(`warning: ${displayPath(p.file, opts.cwd)}: ${p.message}`);
  addTime("report", performance.now() - reportStart);
  let stdout = text;
  if (opts.outputFile) {
    writing(opts.outputFile, () => writeFileAtomic(path.resolve(opts.cwd, opts.outputFile!), text));
    stdout = "";
  }
  if (fixSummary) stderr.push(fixSummary);
  if (fixedStdin !== undefined) {
    if (stdout) stderr.unshift(stdout.replace(/\n$/, ""));
    stdout = fixedStdin;
  }
  const { errors, warnings, infos } = tally(diagnostics);
  let exitCode: number;
  if (opts.maxWarnings !== undefined && opts.maxWarnings >= 0) {
    const tooMany = warnings > opts.maxWarnings;
    if (tooMany) stderr.push(`mps-lint found too many warnings (maximum: ${opts.maxWarnings}).`);
    exitCode = errors > 0 || tooMany ? 1 : 0;
  } else {
    exitCode = errors + warnings + infos > 0 ? 1 : 0;
  }
  if (opts.exitZero) exitCode = 0;
  if (opts.timing || timingWanted()) {
    const t = timingReport();
    stderr.push(JSON.stringify({ ...t, counts: { ...t.counts, maxRssKB: process.resourceUsage().maxRSS } }));
  }
  return { exitCode, stdout, stderr: stderr.length > 0 ? stderr.join("\n") + "\n" : "" };
}

/** A diagnostic with every column (finding, witness path, fix edits) in characters. */
function inChars(d: Diagnostic, col: (file: string, row: number, column: number) => number): Diagnostic {
  const r = (file: string, x: Range): Range => ({
    start: { row: x.start.row, column: col(file, x.start.row, x.start.column) },
    end: { row: x.end.row, column: col(file, x.end.row, x.end.column) },
  });
  return {
    ...d,
    range: r(d.file, d.range),
    path: d.path.map((p) => ({ ...p, range: r(p.file, p.range) })),
    fix: d.fix ? { ...d.fix, edits: d.fix.edits.map((e) => ({ ...e, range: r(d.file, e.range) })) } : null,
  };
}

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
 * folder above it with a pyproject.toml or a .git. None: the file is linted on its own.
 */
function projectRoot(file: string, settings: Settings): string | null {
  if (settings.configFile) return path.dirname(settings.configFile);
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "pyproject.toml")) || existsSync(path.join(dir, ".git"))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Run the findings' files on the accelerator; measurements land in each diagnostic's properties. */
async function verifyFindings(diagnostics: Diagnostic[], opts: CliOptions, settings: Settings): Promise<{ text: string; diagnostics: Diagnostic[] }> {
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
  const text = report.targets.flatMap((t) => formatVerifySummary(t)).map((l) => l + "\n").join("");
  return { text, diagnostics: withVerifyMeasurements(diagnostics, report) };
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

/** Rows of notebook findings (and their witness paths) relative to their cell. */
function toCells(d: ReportDiagnostic, cells: Map<string, CellPosition[]>): ReportDiagnostic {
  const map = (file: string, r: Range): { range: Range; cell?: number } => {
    const rows = cells.get(file);
    if (!rows) return { range: r };
    const s = rows[r.start.row];
    const e = rows[r.end.row];
    if (!s) return { range: r };
    const end = e && e.cell === s.cell ? { row: e.row, column: r.end.column } : { row: s.row, column: r.start.column };
    return { range: { start: { row: s.row, column: r.start.column }, end }, cell: s.cell };
  };
  const at = map(d.file, d.range);
  // Messages name lines of the concatenated module ("at line 12", "nb.ipynb:12"): name cells.
  const cellLine = (file: string, n: string) => {
    const p = cells.get(file)?.[Number(n) - 1];
    return p ? `cell ${p.cell}, line ${p.row + 1}` : null;
  };
  let message = d.message;
  if (cells.has(d.file)) message = message.replace(/\bline (\d+)\b/g, (m, n) => cellLine(d.file, n) ?? m);
  for (const f of cells.keys()) {
    const base = path.basename(f);
    message = message.split(`${base}:`).map((part, i) => (i === 0 ? part : part.replace(/^(\d+)/, (m, n) => `${cellLine(f, n) ? `(${cellLine(f, n)})` : m}`))).join(`${base} `);
  }
  return {
    ...d,
    message,
    range: at.range,
    ...(at.cell !== undefined ? { cell: at.cell } : {}),
    path: d.path.map((p) => {
      const m = map(p.file, p.range);
      return { ...p, range: m.range, ...(m.cell !== undefined ? { cell: m.cell } : {}) };
    }),
  };
}

/** The cache folder a run uses: --cache-dir, else .mps_lint_cache in the working folder. */
export function cacheDirFor(opts: Pick<CliOptions, "cwd" | "cacheDir">): string {
  return opts.cacheDir ? path.resolve(opts.cwd, opts.cacheDir) : path.join(opts.cwd, CACHE_DIR_NAME);
}
