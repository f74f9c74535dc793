#!/usr/bin/env node
// Command line: argv -> CliOptions, then hand over. Exit codes as ESLint and Ruff:
// 0 no findings, 1 findings, 2 usage, configuration or internal error.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { packageVersion } from "../reporters/docs.js";
import { decodePython } from "../files/source.js";
import { escapeControl } from "../files/text.js";
import { progressFor } from "../reporters/progress.js";
import { ArgvError, helpText, parseArgs, type OptionValue } from "./args.js";

// The lint pipeline (rules, analysis, reporters, rule docs) is imported only after the command
// line is parsed: --help, --version and usage errors need none of it (src/pipeline.ts).
type Lint = typeof import("../pipeline.js");
let lint: Lint | undefined;
const loadLint = async (): Promise<Lint> => (lint ??= await import("../pipeline.js"));

/**
 * A numeric option, read from its text. Bad text is a usage error (exit 2) naming it.
 */
function numberOption(flag: string, raw: OptionValue | undefined, rule: { whole?: boolean; min: number }): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const n = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  const kind = rule.whole ? "a whole number" : "a number";
  if (Number.isNaN(n) || (rule.whole && !Number.isInteger(n)) || n < rule.min) {
    throw new ArgvError(`${flag} expects ${kind} of at least ${rule.min}, got "${text}"`);
  }
  return n;
}

/** --color=WHEN (--no-color is never); auto: NO_COLOR, then FORCE_COLOR, else a terminal. */
function colorWanted(when: OptionValue | undefined): boolean {
  if (when === "always") return true;
  if (when === "never") return false;
  if (process.env.NO_COLOR) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  return !!process.stdout.isTTY;
}

/** --per-file-ignores "glob:CODE" pairs (Ruff's PATTERN:CODE), grouped by glob in order. */
function perFileIgnores(flag: string, pairs: string[] | undefined): { pattern: string; codes: string[] }[] | undefined {
  if (!pairs) return undefined;
  const out: { pattern: string; codes: string[] }[] = [];
  for (const pair of pairs) {
    const at = pair.lastIndexOf(":");
    const pattern = pair.slice(0, at).trim();
    const code = pair.slice(at + 1).trim();
    if (at < 0 || !pattern || !code) throw new ArgvError(`${flag} expects GLOB:CODE pairs, e.g. "tests/*:MPS002", got "${pair}"`);
    const entry = out.find((e) => e.pattern === pattern);
    if (entry) entry.codes.push(code);
    else out.push({ pattern, codes: [code] });
  }
  return out;
}

/** Control bytes (from a path, a configuration file) as escapes, never raw to the terminal; a message's newlines stay. */
function terminalSafe(text: string): string {
  return text.split("\n").map(escapeControl).join("\n");
}


/** Standard input decoded as a file would be (BOM, coding cookie, invalid UTF-8, NUL bytes). */
function readStdin(name: string | undefined): string {
  const src = decodePython(readFileSync(0));
  if (src.warning) process.stderr.write(`warning: ${name ?? "-"}: ${src.warning}\n`);
  return src.text;
}

/**
 * --config values: at most one is a file (an existing path, or a name ending .toml), the others
 * settings in TOML ("key = value"), as Ruff reads its --config.
 */
function configArgs(values: string[] | undefined, cwd: string): { file?: string; overrides: string[] } {
  const out: { file?: string; overrides: string[] } = { overrides: [] };
  for (const v of values ?? []) {
    const isFile = existsSync(path.resolve(cwd, v)) || (/\.toml$/i.test(v) && !v.includes("="));
    if (!isFile && !v.includes("=")) {
      throw new ArgvError(`--config ${JSON.stringify(v)}: no such file, and not a setting (a setting is TOML: --config "torch-version = '2.5'")`);
    }
    if (isFile) {
      if (out.file !== undefined) throw new ArgvError(`--config names two files (${out.file}, ${v}); give one, and settings as "key = value"`);
      out.file = v;
    } else {
      out.overrides.push(v);
    }
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  // `mps-lint trace [options] [paths..] -- <command...>` parses its own arguments (src/trace/):
  // the traced command's must reach it untouched.
  if (argv[0] === "trace") return (await import("../trace/index.js")).traceMain(argv.slice(1));
  const cwd = process.cwd();
  const args = parseArgs(argv, (p) => existsSync(path.resolve(cwd, p)));
  const opt = (name: string) => args.options.get(name);
  const flag = (name: string) => opt(name) as boolean | undefined;
  const str = (name: string) => opt(name) as string | undefined;
  const strs = (name: string) => opt(name) as string[] | undefined;
  if (flag("help")) {
    process.stdout.write(helpText(args.command, packageVersion()));
    return 0;
  }
  if (flag("version")) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const noPaths = (what: string) => {
    if (args.positionals.length > 0) throw new ArgvError(`\`mps-lint ${what}\` takes no arguments, got "${args.positionals[0]}"`);
  };

  if (args.command === "bench") {
    const { findPython, runBench, VerifyPythonError } = await import("../verify/index.js");
    try {
      const py = findPython({ python: str("python"), env: process.env });
      return await runBench(args.raw, py.python);
    } catch (e) {
      if (e instanceof VerifyPythonError) throw new ArgvError(e.message);
      throw e;
    }
  }
  if (args.command === "server") {
    noPaths("server");
    const transports = (["stdio", "node-ipc", "socket", "pipe"] as const).filter((t) => opt(t) !== undefined && opt(t) !== false);
    if (transports.length > 1) throw new ArgvError(`server: choose one of --stdio, --node-ipc, --socket, --pipe (got ${transports.map((t) => `--${t}`).join(", ")})`);
    const socket = str("socket");
    if (socket !== undefined && !/^\d+$/.test(socket)) throw new ArgvError(`server: --socket expects a port number, got "${socket}"`);
    if (str("pipe") === "") throw new ArgvError("server: --pipe expects the pipe's name");
    if (flag("node-ipc") && typeof process.send !== "function") throw new ArgvError("server: --node-ipc needs an IPC channel to this process (the editor starts the server with Node's fork()); use --stdio otherwise");
    const { startServer } = await import("../server/index.js");
    return await startServer(transports[0] ?? "stdio");
  }
  if (args.command === "clean") {
    noPaths("clean");
    const { cacheDirFor, cleanCache } = await loadLint();
    const dir = cacheDirFor({ cwd, cacheDir: str("cache-dir") });
    process.stdout.write(cleanCache(dir) ? `removed ${dir}\n` : `no cache at ${dir}\n`);
    return 0;
  }
  if (args.command === "version") {
    noPaths("version");
    const { parserBackend } = await loadLint();
    process.stdout.write(`mps-lint ${packageVersion()} (parser: ${parserBackend() ?? "none loads"})\n`);
    return 0;
  }
  const { configDefaults, parserLoadError, ruleDocs, runLint } = await loadLint();
  if (args.command === "rule" && args.positionals.length > 1) throw new ArgvError(`\`mps-lint rule\` takes one rule code, got ${args.positionals.length}`);
  const doc = ruleDocs({ command: args.command, code: args.positionals[0], all: flag("all"), explain: str("explain"), format: str("output-format") });
  if (doc) {
    process.stdout.write(doc.stdout);
    process.stderr.write(doc.stderr);
    return doc.exitCode;
  }
  const paths = args.positionals;
  const wantsStdin = paths.includes("-") || (paths.length === 0 && str("stdin-filename") !== undefined);
  // Read before the run (and whether or not --verify is given): a bad number is a usage error.
  const numbers = {
    maxWarnings: numberOption("--max-warnings", opt("max-warnings"), { whole: true, min: -1 }),
    jobs: numberOption("--jobs", opt("jobs"), { whole: true, min: 1 }),
    verifyTimeout: numberOption("--verify-timeout", opt("verify-timeout"), { min: 0 }),
    verifyRepeats: numberOption("--verify-repeats", opt("verify-repeats"), { whole: true, min: 1 }),
    verifyMemory: numberOption("--verify-memory", opt("verify-memory"), { min: 0 }),
  };
  const config = configArgs(strs("config"), cwd);
  const addNoqa = opt("add-noqa");
  // A lint with no parser would pass every file unread: exit 2 with the reason instead.
  const parserError = parserLoadError();
  if (parserError && !flag("show-settings") && !flag("show-files")) throw parserError;
  const stdin = wantsStdin ? readStdin(str("stdin-filename")) : undefined;
  const lintOnce = () => runLint(configDefaults({
    paths,
    cwd,
    // Unset: output-format from the configuration, else full (Ruff's default, a code frame per
    // finding) where a person reads it; pipes and files get stylish.
    format: str("output-format") ?? "",
    outputFile: str("output-file"),
    quiet: flag("quiet") ?? false,
    silent: flag("silent"),
    errorsOnly: flag("errors-only"),
    exitZero: flag("exit-zero") ?? false,
    exitNonZeroOnFix: flag("exit-non-zero-on-fix"),
    color: colorWanted(opt("color")),
    select: strs("select"),
    ignore: strs("ignore"),
    extendSelect: strs("extend-select"),
    perFileIgnores: perFileIgnores("--per-file-ignores", strs("per-file-ignores")),
    extendPerFileIgnores: perFileIgnores("--extend-per-file-ignores", strs("extend-per-file-ignores")),
    exclude: strs("exclude"),
    extendExclude: strs("extend-exclude"),
    respectGitignore: flag("respect-gitignore"),
    fixable: strs("fixable"),
    unfixable: strs("unfixable"),
    extendFixable: strs("extend-fixable"),
    ignoreNoqa: flag("ignore-noqa"),
    showFiles: flag("show-files"),
    config: config.file,
    configOverrides: config.overrides.length > 0 ? config.overrides : undefined,
    isolated: flag("isolated"),
    showSettings: flag("show-settings"),
    dump: str("dump"),
    forceExclude: flag("force-exclude"),
    addNoqa: addNoqa !== undefined && addNoqa !== false,
    addNoqaReason: typeof addNoqa === "string" && addNoqa.trim() !== "" ? addNoqa.trim() : undefined,
    baseline: str("baseline"),
    writeBaseline: str("write-baseline"),
    maxWarnings: numbers.maxWarnings,
    stdinFilename: str("stdin-filename"),
    stdin,
    verify: flag("verify")
      ? {
          python: str("python"),
          device: str("device") === "auto" ? undefined : str("device"),
          timeoutS: numbers.verifyTimeout,
          entry: str("verify-entry"),
          verbose: flag("verbose") ?? false,
          repeats: numbers.verifyRepeats,
          memoryMb: numbers.verifyMemory,
        }
      : undefined,
    jobs: numbers.jobs,
    cache: flag("cache") ?? true,
    cacheDir: str("cache-dir"),
    prefilter: flag("prefilter") ?? true,
    timing: flag("timing"),
    statistics: flag("statistics"),
    fix: flag("fix"),
    unsafeFixes: flag("unsafe-fixes"),
    fixOnly: flag("fix-only"),
    diff: flag("diff"),
    showFixes: flag("show-fixes"),
    progress: progressFor(process.stderr),
  }, !!process.stdout.isTTY && !str("output-file")));
  if (flag("watch")) {
    if (wantsStdin || flag("fix") || flag("diff") || flag("fix-only")) throw new ArgvError("--watch lints files; it cannot be combined with standard input or fixes");
    const { watchLint } = await import("../server/watch.js");
    return await watchLint(paths, cwd, lintOnce);
  }
  const out = await lintOnce();
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  return out.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // UsageError and ParserLoadError come from the lint pipeline, so it is loaded when they occur.
    if (err instanceof ArgvError || (lint && (err instanceof lint.UsageError || err instanceof lint.ParserLoadError))) {
      process.stderr.write(`mps-lint: ${terminalSafe(err.message)}\n`);
    } else {
      const e = err instanceof Error ? err : new Error(String(err));
      process.stderr.write(`mps-lint: internal error: ${terminalSafe(e.message)}\n${process.env.MPS_LINT_DEBUG ? e.stack + "\n" : ""}`);
    }
    process.exitCode = 2;
  },
);
