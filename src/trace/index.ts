// `mps-lint trace [options] [paths..] -- <command...>`: run the command (a server, a script, the
// test suite) with the runtime witness's hooks, lint the project (paths, default "."), and report
// the join: confirmed, runtime only, not exercised. Exit status: the command's own.
//
// `mps-lint trace --from RECORD.json [paths..]`: the same join over the record the pytest plugin
// wrote (`pytest -p mps_lint_trace`), without running anything.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { writeFileAtomic } from "../files/write.js";
import { formatTraceText, runHeadline, toTraceJson, toTraceSarif } from "./format.js";
import { findingsFromJson, findingsFromSarif, joinTrace, orderEntries, parseSummaries, type SarifLog, type StaticIndex } from "./join.js";
import { mergeObservations } from "./merge.js";
import { runTrace, tracePathDir, type TraceDevice } from "./run.js";
import { TRACE_SCHEMA, type ProcessRecord, type StaticFinding, type TraceRun } from "./types.js";

export const TRACE_USAGE = `Usage: mps-lint trace [options] [paths..] -- <command...>
       mps-lint trace --from RECORD.json [options] [paths..]

Run a command (python serve.py, python -m pytest tests/, ...) with light hooks on torch's waits,
Events and threads in every Python process it starts, lint the project (paths, default: the
current folder), and report which static findings the run confirmed (with what they cost), what
the run saw that the analysis missed, and which findings no run reached. The exit status is the
command's.

Options:
  --device auto|cpu|cuda|mps|xpu  re-target device calls to this device, as --verify does (code
                                  written for MPS runs on CUDA or the CPU); default: none
  -f, --format stylish|json|json-lines|sarif   report format (default stylish)
  -o, --output-file FILE          write the report to FILE (the only file written)
  --from FILE                     join a record written by the pytest plugin instead of running
                                  (repeatable)
  --plugin-path                   print the folder to put on PYTHONPATH for
                                  \`pytest -p mps_lint_trace\`, and exit
  --select, --ignore, --config, --isolated   as for the lint
  --cache                         let the static run use .mps_lint_cache (default: off, nothing written)
  -h, --help                      this text

The pytest plugin, where pytest is run by hand or by CI (then join with --from):
  PYTHONPATH=$(mps-lint trace --plugin-path) pytest -p mps_lint_trace \
      [--mps-lint-trace FILE] [--mps-lint-trace-device cpu|cuda|mps]
Where there is no Node (then join with --from where there is):
  PYTHONPATH=$(mps-lint trace --plugin-path) python3 -m mps_lint_trace.record \
      [--device D] [--timeout S] -o FILE -- <command...>
See docs/trace.md.
`;

export class TraceUsageError extends Error {}

interface TraceArgs {
  paths: string[];
  command: string[];
  device?: TraceDevice;
  format: "stylish" | "json" | "json-lines" | "sarif";
  output?: string;
  from: string[];
  select?: string[];
  ignore?: string[];
  config?: string;
  isolated: boolean;
  cache: boolean;
  help: boolean;
  pluginPath: boolean;
}

const DEVICES = ["auto", "cpu", "cuda", "mps", "xpu"];
const FORMATS = ["stylish", "json", "json-lines", "sarif"];

export function parseTraceArgs(argv: string[]): TraceArgs {
  const dash = argv.indexOf("--");
  const opts = dash >= 0 ? argv.slice(0, dash) : argv;
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  const a: TraceArgs = { paths: [], command, format: "stylish", from: [], isolated: false, cache: false, help: false, pluginPath: false };
  const list = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < opts.length; i++) {
    const raw = opts[i]!;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      if (eq > 0) return raw.slice(eq + 1);
      const v = opts[++i];
      if (v === undefined) throw new TraceUsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-h":
      case "--help":
        a.help = true;
        break;
      case "--plugin-path":
        a.pluginPath = true;
        break;
      case "--device": {
        const v = value();
        if (!DEVICES.includes(v)) throw new TraceUsageError(`--device expects one of ${DEVICES.join(", ")}, got "${v}"`);
        a.device = v as TraceDevice;
        break;
      }
      case "-f":
      case "--format":
      case "--output-format": {
        const v = value();
        if (!FORMATS.includes(v)) throw new TraceUsageError(`trace reports in ${FORMATS.join(", ")}; got "${v}"`);
        a.format = v as TraceArgs["format"];
        break;
      }
      case "-o":
      case "--output-file":
        a.output = value();
        break;
      case "--from":
        a.from.push(value());
        break;
      case "--select":
        a.select = [...(a.select ?? []), ...list(value())];
        break;
      case "--ignore":
        a.ignore = [...(a.ignore ?? []), ...list(value())];
        break;
      case "--config":
        a.config = value();
        break;
      case "--isolated":
        a.isolated = true;
        break;
      case "--cache":
        a.cache = true;
        break;
      case "--no-cache":
        a.cache = false;
        break;
      default:
        if (flag.startsWith("-")) throw new TraceUsageError(`unknown option ${flag} (options go before --, the command after it)`);
        a.paths.push(raw);
    }
  }
  if (a.help || a.pluginPath) return a;
  if (a.from.length > 0 && command.length > 0) throw new TraceUsageError("give either --from RECORD or a command after --, not both");
  if (a.from.length === 0 && command.length === 0) throw new TraceUsageError("no command to trace: mps-lint trace [options] [paths..] -- <command...>");
  return a;
}

function readRecords(files: string[], cwd: string): TraceRun {
  const processes: ProcessRecord[] = [];
  const warnings: string[] = [];
  for (const f of files) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path.resolve(cwd, f), "utf8"));
    } catch (e) {
      throw new TraceUsageError(`--from ${f}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    const recs = Array.isArray(data) ? data : [data];
    for (const r of recs as ProcessRecord[]) {
      if (!r || typeof r !== "object" || r.schema !== TRACE_SCHEMA) throw new TraceUsageError(`--from ${f}: not a trace record (schema ${TRACE_SCHEMA})`);
      processes.push(r);
    }
  }
  for (const r of processes) rebase(r, cwd);
  for (const r of processes) {
    const errors = Object.entries(r.hook_errors ?? {});
    if (errors.length > 0) warnings.push(`process ${r.pid}: ${errors.map(([k, n]) => `${k} (${n})`).join(", ")} inside the hooks (the program was not affected)`);
  }
  return { command: null, exitCode: null, signal: null, processes, ...mergeObservations(processes), warnings, wallS: null };
}

/**
 * A record made on another machine (or in another checkout) names its files under the working
 * folder it ran in; joined here, from the matching folder, a file that does not exist as named
 * is looked up under the current folder instead.
 */
function rebase(rec: ProcessRecord, cwd: string): void {
  const from = rec.cwd;
  if (!from || from === cwd) return;
  const prefix = from.endsWith(path.sep) ? from : from + path.sep;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.file === "string" && typeof o.line === "number" && o.file.startsWith(prefix) && !existsSync(o.file)) {
        o.file = path.join(cwd, o.file.slice(prefix.length));
      }
      for (const x of Object.values(o)) walk(x);
    }
  };
  walk(rec.observations);
  walk(rec.main_waits);
  walk(rec.event_handoffs);
}

type LintModule = typeof import("../pipeline.js");

async function staticRun(lint: LintModule, a: TraceArgs, cwd: string, format: "json" | "sarif", extra: Record<string, unknown> = {}) {
  const opts = lint.configDefaults(
    {
      paths: a.paths.length > 0 ? a.paths : ["."],
      cwd,
      format,
      quiet: false,
      exitZero: true,
      color: false,
      select: a.select,
      ignore: a.ignore,
      config: a.config,
      isolated: a.isolated,
      cache: a.cache,
      ...extra,
    },
    false,
  );
  // The configuration may ask for fixes (fix = true) or an output file: the trace writes only its
  // own report, and never touches the program's files.
  opts.outputFile = undefined;
  opts.format = format;
  opts.fix = false;
  opts.unsafeFixes = false;
  opts.fixOnly = false;
  opts.diff = false;
  return lint.runLint(opts);
}

/** The `trace` subcommand. Resolves with the exit status (the traced command's). */
export async function traceMain(argv: string[], io: { stdout: (s: string) => void; stderr: (s: string) => void } = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
}): Promise<number> {
  let a: TraceArgs;
  try {
    a = parseTraceArgs(argv);
  } catch (e) {
    if (e instanceof TraceUsageError) {
      io.stderr(`mps-lint trace: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (a.help) {
    io.stdout(TRACE_USAGE);
    return 0;
  }
  if (a.pluginPath) {
    io.stdout(tracePathDir() + "\n");
    return 0;
  }
  const cwd = process.cwd();
  const lint = (await import("../pipeline.js")) as LintModule;
  const fmt = a.format === "sarif" ? "sarif" : "json";
  // The static run first: a bad path or configuration stops us before the command runs.
  let staticOut;
  try {
    staticOut = await staticRun(lint, a, cwd, fmt);
  } catch (e) {
    if (e instanceof lint.UsageError) {
      io.stderr(`mps-lint trace: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (staticOut.stderr) io.stderr(staticOut.stderr);
  let run: TraceRun;
  try {
    run = a.from.length > 0 ? readRecords(a.from, cwd) : await runTrace({ command: a.command, cwd, device: a.device });
  } catch (e) {
    if (e instanceof TraceUsageError) {
      io.stderr(`mps-lint trace: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let findings: StaticFinding[];
  let staticJson: Record<string, unknown>[] = [];
  let staticSarif: SarifLog | null = null;
  if (fmt === "sarif") {
    staticSarif = JSON.parse(staticOut.stdout) as SarifLog;
    findings = findingsFromSarif(staticSarif, cwd);
  } else {
    staticJson = JSON.parse(staticOut.stdout) as Record<string, unknown>[];
    findings = findingsFromJson(staticJson, cwd);
  }
  let entries = joinTrace(findings, run, null, cwd);
  if (entries.some((e) => e.status === "runtime-only")) {
    // What the analysis knows of each function, to name the construct a witness lacks.
    let index: StaticIndex | null = null;
    try {
      const dump = await staticRun(lint, a, cwd, "json", { dump: "summaries" });
      index = parseSummaries(dump.stdout, cwd);
    } catch {
      index = null;
    }
    entries = joinTrace(findings, run, index, cwd);
  }
  entries = orderEntries(entries);
  let text: string;
  if (a.format === "sarif") {
    text = JSON.stringify(toTraceSarif(staticSarif!, entries, run, cwd), null, 2) + "\n";
  } else if (a.format === "json" || a.format === "json-lines") {
    const items = toTraceJson(staticJson, entries, cwd);
    text = a.format === "json" ? JSON.stringify(items, null, 2) + "\n" : items.map((x) => JSON.stringify(x) + "\n").join("");
  } else {
    text = formatTraceText(entries, run, cwd, { notTracedCount: entries.filter((e) => e.status === "not-traced").length });
  }
  if (a.format !== "stylish") {
    // The machine formats keep stdout for the report; the run itself is told on stderr.
    io.stderr(runHeadline(run) + "\n" + run.warnings.map((w) => `warning: ${w}\n`).join(""));
  }
  if (a.output) {
    try {
      writeFileAtomic(path.resolve(cwd, a.output), text);
    } catch (e) {
      io.stderr(`mps-lint trace: cannot write ${a.output}: ${(e as Error).message}\n`);
      return run.exitCode ?? 2;
    }
  } else {
    io.stdout(text);
  }
  return run.exitCode ?? 0;
}
