#!/usr/bin/env node
// Command line: argv -> CliOptions, then hand over. Exit codes as ESLint and Ruff:
// 0 no findings, 1 findings, 2 usage, configuration or internal error.

import { readFileSync } from "node:fs";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { packageVersion } from "../reporters/docs.js";
import { FORMATS } from "../reporters/formats.js";
import { decodePython } from "../files/source.js";

// The lint pipeline (rules, analysis, reporters, rule docs) is imported only after the command
// line is parsed: --help, --version and usage errors need none of it (./cli-main.ts).
type Lint = typeof import("./cli-main.js");
let lint: Lint | undefined;
const loadLint = async (): Promise<Lint> => (lint ??= await import("./cli-main.js"));

/** A command-line error found while parsing, before ./cli-main.js (and its UsageError) is loaded. */
class ArgvError extends Error {}

/**
 * A numeric option, read from its text: yargs's `type: "number"` turns `x` into NaN, which then
 * printed as "got NaN" or was silently ignored. Bad text is a usage error (exit 2) naming it.
 */
function numberOption(flag: string, raw: unknown, rule: { whole?: boolean; min: number }): number | undefined {
  if (raw === undefined) return undefined;
  const values = Array.isArray(raw) ? raw : [raw];
  const text = String(values[values.length - 1]).trim();
  const n = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  const kind = rule.whole ? "a whole number" : "a number";
  if (Number.isNaN(n) || (rule.whole && !Number.isInteger(n)) || n < rule.min) {
    throw new ArgvError(`${flag} expects ${kind} of at least ${rule.min}, got "${text}"`);
  }
  return n;
}

const list = (v: unknown): string[] | undefined =>
  v === undefined
    ? undefined
    : (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(",")).map((s) => s.trim()).filter(Boolean);

/** --color/--no-color win; then NO_COLOR, then FORCE_COLOR; else colour only on a terminal. */
function colorWanted(flag: boolean | undefined): boolean {
  if (flag !== undefined) return flag;
  if (process.env.NO_COLOR) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  return !!process.stdout.isTTY;
}

/** Control bytes (from a path, a configuration file) as escapes, never raw to the terminal; newlines stay. */
function terminalSafe(text: string): string {
  return text.replace(/[\x00-\x09\x0b-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

// yargs drops a lone "-"; carry it through as a placeholder.
const STDIN = "\u0000stdin";

/** Standard input decoded as a file would be (BOM, coding cookie, invalid UTF-8, NUL bytes). */
function readStdin(name: string | undefined): string {
  const src = decodePython(readFileSync(0));
  if (src.warning) process.stderr.write(`warning: ${name ?? "-"}: ${src.warning}\n`);
  return src.text;
}

async function main(argv: string[]): Promise<number> {
  const parsed = await yargs(argv.map((a) => (a === "-" ? STDIN : a)))
    .scriptName("mps-lint")
    .usage("$0 [paths..]\n\nFind PyTorch synchronization misuse in multi-threaded code.")
    .command("$0 [paths..]", "lint Python files and notebooks (default: the current folder; - reads standard input)", (y) =>
      y.positional("paths", { type: "string", array: true, describe: "files or folders" }),
    )
    // Ruff's spelling (`ruff check PATH`); the bare form stays.
    .command("check [paths..]", "the same: lint Python files and notebooks", (y) =>
      y.positional("paths", { type: "string", array: true, describe: "files or folders" }),
    )
    .command("server", "run the language server (LSP over standard input and output) for editors")
    .command("bench [args..]", "measure device sync vs event sync vs a process pool on this machine (the guide's comparison)", (y) =>
      y.positional("args", { type: "string", array: true }).strictOptions(false).parserConfiguration({ "unknown-options-as-args": true }),
    )
    .command("clean", "remove the cache folder (.mps_lint_cache, or --cache-dir)")
    .command("rule [code]", "show a rule's documentation", (y) =>
      y.positional("code", { type: "string", describe: "rule code or name" }).option("all", { type: "boolean", describe: "every rule" }),
    )
    .option("explain", { type: "string", describe: "show a rule's documentation and exit" })
    .option("statistics", { type: "boolean", default: false, describe: "print the number of findings per rule" })
    .option("format", { alias: ["f", "output-format"], type: "string", describe: `${FORMATS.join(" | ")} (default: full in a terminal, else stylish)` })
    .option("output-file", { alias: "o", type: "string", describe: "write the report to a file" })
    .option("quiet", { type: "boolean", default: false, describe: "report errors only" })
    .option("exit-zero", { type: "boolean", default: false, describe: "exit 0 even when there are findings" })
    .option("max-warnings", { type: "string", describe: "exit 1 when there are more than this many warnings (warnings alone then fail only past it)" })
    .option("color", { type: "boolean", describe: "force colour on or off (--no-color)" })
    .option("select", { type: "string", describe: "rule codes or prefixes to enable (comma-separated)" })
    .option("extend-select", { type: "string", describe: "rules to enable in addition" })
    .option("ignore", { type: "string", describe: "rule codes or prefixes to disable" })
    .option("config", { type: "string", describe: "use this configuration file for every file (pyproject.toml or mps-lint.toml)" })
    .option("isolated", { type: "boolean", default: false, describe: "ignore all configuration files" })
    .option("show-settings", { type: "boolean", default: false, describe: "print the settings in force for a file, and exit" })
    .option("dump", { type: "string", describe: "print what the analysis concluded for these files, and exit: callgraph | summaries | timeline" })
    .option("force-exclude", { type: "boolean", default: false, describe: "apply exclude settings to files named on the command line too" })
    .option("add-noqa", { type: "boolean", default: false, describe: "add # noqa: CODE to every line with a finding" })
    .option("fix", { type: "boolean", default: false, describe: "apply safe fixes (with --unsafe-fixes: unsafe ones too) and report what is left" })
    .option("unsafe-fixes", { type: "boolean", default: false, describe: "enable fixes that may change behaviour (applied with --fix, shown as available)" })
    .option("fix-only", { type: "boolean", default: false, describe: "apply fixes and report nothing else (exit 0)" })
    .option("diff", { type: "boolean", default: false, describe: "print the fixes as a unified diff and change nothing (exit 1 when there would be changes)" })
    .option("show-fixes", { type: "boolean", default: false, describe: "list the fixed findings (with --fix), or show each finding's fix" })
    .option("baseline", { type: "string", describe: "ignore the findings recorded in this file" })
    .option("write-baseline", { type: "string", describe: "record the current findings in this file, and exit" })
    .option("stdin-filename", { type: "string", describe: "the path of the source read from standard input (-)" })
    .option("verify", { type: "boolean", default: false, describe: "run the files with findings on the accelerator and measure what the syncs cost" })
    .option("python", { type: "string", describe: "Python interpreter with torch for --verify and bench (default: verify.python in the configuration)" })
    .option("device", { type: "string", choices: ["auto", "mps", "cuda", "xpu", "cpu"], describe: "device for --verify (default: mps, else cuda, else cpu)" })
    .option("verify-timeout", { type: "string", describe: "seconds per verify run before the target is killed (default: verify.timeout, else 60)" })
    .option("verify-entry", { type: "string", describe: "command to run for --verify instead of each file as __main__" })
    .option("verify-repeats", { type: "string", describe: "at least this many timed runs per mode (median and spread; they go on for 1 s in all)" })
    .option("verify-memory", { type: "string", describe: "MiB of resident memory the target's processes may use before they are killed (0: no limit; default: half the RAM)" })
    .option("verbose", { type: "boolean", default: false, describe: "show the verified program's own output" })
    .option("jobs", { alias: "j", type: "string", describe: "parse workers (default: the number of cores)" })
    .option("cache", { type: "boolean", default: true, describe: "use the cache in .mps_lint_cache (--no-cache)" })
    .option("cache-dir", { type: "string", describe: "cache folder (default: .mps_lint_cache in the working folder)" })
    .option("prefilter", { type: "boolean", default: true, hidden: true, describe: "parse only files that can matter" })
    .option("watch", { type: "boolean", default: false, describe: "lint again whenever a file changes" })
    .option("timing", { type: "boolean", default: false, hidden: true, describe: "phase timings as JSON on stderr" })
    .strictOptions()
    .help()
    // Our own package.json: yargs would look next to its own files, which inside the bundle
    // means the working folder's package.json.
    .version(packageVersion())
    .fail((msg, err) => {
      throw new ArgvError(err?.message ?? msg);
    })
    .parseAsync();

  if (parsed._[0] === "bench") {
    const { findPython, runBench, VerifyPythonError } = await import("../verify/index.js");
    try {
      const py = findPython({ python: parsed.python, env: process.env });
      // Bench flags come through as `args`, or after `--` in `_`.
      const args = [...((parsed.args as unknown[] | undefined) ?? []), ...parsed._.slice(1)].map(String);
      return await runBench(args, py.python);
    } catch (e) {
      if (e instanceof VerifyPythonError) throw new ArgvError(e.message);
      throw e;
    }
  }
  if (parsed._[0] === "server") {
    const { startServer } = await import("../server/index.js");
    return await startServer();
  }
  if (parsed._[0] === "clean") {
    const { cacheDirFor, cleanCache } = await loadLint();
    const dir = cacheDirFor({ cwd: process.cwd(), cacheDir: parsed["cache-dir"] });
    process.stdout.write(cleanCache(dir) ? `removed ${dir}\n` : `no cache at ${dir}\n`);
    return 0;
  }
  const { configDefaults, ruleDocs, runLint } = await loadLint();
  const doc = ruleDocs({ command: parsed._[0], code: parsed.code, all: parsed.all, explain: parsed.explain, format: parsed.format });
  if (doc) {
    process.stdout.write(doc.stdout);
    process.stderr.write(doc.stderr);
    return doc.exitCode;
  }
  const paths = ((parsed.paths as string[] | undefined)?.map(String) ?? []).map((p) => (p === STDIN ? "-" : p));
  const wantsStdin = paths.includes("-") || (paths.length === 0 && parsed["stdin-filename"] !== undefined);
  const showProgress = !!process.stderr.isTTY && !process.env.CI;
  // Read before the run (and whether or not --verify is given): a bad number is a usage error.
  const numbers = {
    maxWarnings: numberOption("--max-warnings", parsed["max-warnings"], { whole: true, min: -1 }),
    jobs: numberOption("--jobs", parsed.jobs, { whole: true, min: 1 }),
    verifyTimeout: numberOption("--verify-timeout", parsed["verify-timeout"], { min: 0 }),
    verifyRepeats: numberOption("--verify-repeats", parsed["verify-repeats"], { whole: true, min: 1 }),
    verifyMemory: numberOption("--verify-memory", parsed["verify-memory"], { min: 0 }),
  };
  const lintOnce = () => runLint(configDefaults({
    paths,
    cwd: process.cwd(),
    // Unset: output-format from the configuration, else full (Ruff's default, a code frame per
    // finding) where a person reads it; pipes and files get stylish.
    format: parsed.format ?? "",
    outputFile: parsed["output-file"],
    quiet: parsed.quiet,
    exitZero: parsed["exit-zero"],
    color: colorWanted(parsed.color),
    select: list(parsed.select),
    ignore: list(parsed.ignore),
    extendSelect: list(parsed["extend-select"]),
    config: parsed.config,
    isolated: parsed.isolated,
    showSettings: parsed["show-settings"],
    dump: parsed.dump,
    forceExclude: parsed["force-exclude"],
    addNoqa: parsed["add-noqa"],
    baseline: parsed.baseline,
    writeBaseline: parsed["write-baseline"],
    maxWarnings: numbers.maxWarnings,
    stdinFilename: parsed["stdin-filename"],
    stdin: wantsStdin ? readStdin(parsed["stdin-filename"]) : undefined,
    verify: parsed.verify
      ? {
          python: parsed.python,
          device: parsed.device === "auto" ? undefined : parsed.device,
          timeoutS: numbers.verifyTimeout,
          entry: parsed["verify-entry"],
          verbose: parsed.verbose,
          repeats: numbers.verifyRepeats,
          memoryMb: numbers.verifyMemory,
        }
      : undefined,
    jobs: numbers.jobs,
    cache: parsed.cache,
    cacheDir: parsed["cache-dir"],
    prefilter: parsed.prefilter,
    timing: parsed.timing,
    statistics: parsed.statistics,
    fix: parsed.fix,
    unsafeFixes: parsed["unsafe-fixes"],
    fixOnly: parsed["fix-only"],
    diff: parsed.diff,
    showFixes: parsed["show-fixes"],
    progress: showProgress ? (line) => process.stderr.write(line ? `${line}\r` : "\r\u001b[K") : undefined,
  }, !!process.stdout.isTTY && !parsed["output-file"]));
  if (parsed.watch) {
    if (wantsStdin || parsed.fix || parsed.diff || parsed["fix-only"]) throw new ArgvError("--watch lints files; it cannot be combined with standard input or fixes");
    const { watchLint } = await import("../server/watch.js");
    return await watchLint(paths, process.cwd(), lintOnce);
  }
  const out = await lintOnce();
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  return out.exitCode;
}

main(hideBin(process.argv)).then(
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
