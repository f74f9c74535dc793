#!/usr/bin/env node
// Command line: argv -> CliOptions, then hand over. Exit codes as ESLint and Ruff:
// 0 no findings, 1 findings, 2 usage, configuration or internal error.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { cacheDirFor, runLint, UsageError } from "./main.js";
import { ParserLoadError } from "./parse.js";

const list = (v: unknown): string[] | undefined =>
  v === undefined
    ? undefined
    : (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(",")).map((s) => s.trim()).filter(Boolean);

function colorWanted(flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  if (flag === true) return true;
  return !!process.stdout.isTTY;
}

async function main(argv: string[]): Promise<number> {
  const parsed = await yargs(argv)
    .scriptName("mps-lint")
    .usage("$0 [paths..]\n\nFind PyTorch synchronization misuse in multi-threaded code.")
    .command("$0 [paths..]", "lint Python files (default: the current folder)", (y) =>
      y.positional("paths", { type: "string", array: true, describe: "files or folders" }),
    )
    .command("bench [args..]", "measure device sync vs event sync vs a process pool on this machine (the guide's comparison)", (y) =>
      y.positional("args", { type: "string", array: true }).strictOptions(false).parserConfiguration({ "unknown-options-as-args": true }),
    )
    .command("clean", "remove the cache folder (.mps_lint_cache, or --cache-dir)")
    .option("format", { alias: "f", type: "string", default: "stylish", describe: "stylish | concise | json" })
    .option("output-file", { alias: "o", type: "string", describe: "write the report to a file" })
    .option("quiet", { type: "boolean", default: false, describe: "report errors only" })
    .option("exit-zero", { type: "boolean", default: false, describe: "exit 0 even when there are findings" })
    .option("color", { type: "boolean", describe: "force colour on or off (--no-color)" })
    .option("select", { type: "string", describe: "rule codes or prefixes to enable (comma-separated)" })
    .option("extend-select", { type: "string", describe: "rules to enable in addition" })
    .option("ignore", { type: "string", describe: "rule codes or prefixes to disable" })
    .option("verify", { type: "boolean", default: false, describe: "run the files with findings on the accelerator and measure what the syncs cost" })
    .option("python", { type: "string", describe: "Python interpreter with torch for --verify and bench" })
    .option("device", { type: "string", choices: ["auto", "mps", "cuda", "xpu", "cpu"], describe: "device for --verify (default: mps, else cuda, else cpu)" })
    .option("verify-timeout", { type: "number", default: 60, describe: "seconds per verify run before the target is killed" })
    .option("verify-entry", { type: "string", describe: "command to run for --verify instead of each file as __main__" })
    .option("verify-repeats", { type: "number", describe: "timed runs per mode (median)" })
    .option("verbose", { type: "boolean", default: false, describe: "show the verified program's own output" })
    .option("jobs", { alias: "j", type: "number", describe: "parse workers (default: the number of cores)" })
    .option("cache", { type: "boolean", default: true, describe: "use the cache in .mps_lint_cache (--no-cache)" })
    .option("cache-dir", { type: "string", describe: "cache folder (default: .mps_lint_cache in the working folder)" })
    .option("prefilter", { type: "boolean", default: true, hidden: true, describe: "parse only files that can matter" })
    .option("timing", { type: "boolean", default: false, hidden: true, describe: "phase timings as JSON on stderr" })
    .strictOptions()
    .help()
    .version()
    .fail((msg, err) => {
      throw new UsageError(err?.message ?? msg);
    })
    .parseAsync();

  if (parsed._[0] === "bench") {
    const { findPython, runBench, VerifyPythonError } = await import("./verify/index.js");
    try {
      const py = findPython({ python: parsed.python, env: process.env });
      return await runBench(((parsed.args as string[] | undefined) ?? []).map(String), py.python);
    } catch (e) {
      if (e instanceof VerifyPythonError) throw new UsageError(e.message);
      throw e;
    }
  }
  if (parsed._[0] === "clean") {
    const { cleanCache } = await import("./cache.js");
    const dir = cacheDirFor({ cwd: process.cwd(), cacheDir: parsed["cache-dir"] });
    process.stdout.write(cleanCache(dir) ? `removed ${dir}\n` : `no cache at ${dir}\n`);
    return 0;
  }
  const out = await runLint({
    paths: (parsed.paths as string[] | undefined)?.map(String) ?? [],
    cwd: process.cwd(),
    format: parsed.format,
    outputFile: parsed["output-file"],
    quiet: parsed.quiet,
    exitZero: parsed["exit-zero"],
    color: colorWanted(parsed.color),
    select: list(parsed.select),
    ignore: list(parsed.ignore),
    extendSelect: list(parsed["extend-select"]),
    verify: parsed.verify
      ? {
          python: parsed.python,
          device: parsed.device === "auto" ? undefined : parsed.device,
          timeoutS: parsed["verify-timeout"],
          entry: parsed["verify-entry"],
          verbose: parsed.verbose,
          repeats: parsed["verify-repeats"],
        }
      : undefined,
    jobs: parsed.jobs,
    cache: parsed.cache,
    cacheDir: parsed["cache-dir"],
    prefilter: parsed.prefilter,
    timing: parsed.timing,
  });
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  return out.exitCode;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ParserLoadError) {
      process.stderr.write(`mps-lint: ${err.message}\n`);
    } else {
      const e = err instanceof Error ? err : new Error(String(err));
      process.stderr.write(`mps-lint: internal error: ${e.message}\n${process.env.MPS_LINT_DEBUG ? e.stack + "\n" : ""}`);
    }
    process.exitCode = 2;
  },
);
