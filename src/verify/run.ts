import { spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

import type { Diagnostic } from "../types.js";
import { pythonEnv } from "./paths.js";
import { VERIFY_SCHEMA, type RunnerRequest, type RunnerResult, type TargetStatus } from "./schema.js";
import type { VerifyMeasurement, VerifyProgress, VerifyReport, VerifyTargetSummary } from "./types.js";

export type { VerifyMeasurement, VerifyProgress, VerifyReport, VerifyTargetSummary } from "./types.js";

export type VerifyDevice = "auto" | "mps" | "cuda" | "xpu" | "cpu";

export interface VerifyOptions {
  /** interpreter from findPython() */
  python: string;
  /** --device; default auto (mps, else cuda, else cpu) */
  device?: VerifyDevice;
  /** --verify-timeout: limit per run of the target, seconds (default 60) */
  timeoutS: number;
  /** --verify-entry: run this instead of each linted file ("app.py args", "-m pkg.mod", "pkg.mod:main") */
  entry?: string;
  /** directory targets run in and relative paths resolve against (default process.cwd()) */
  cwd?: string;
  /** keep the target's own stdout/stderr in the report */
  verbose: boolean;
  /** at least this many timed runs per mode, median and spread reported (default 3) */
  repeats?: number;
  /** timed runs go on until this many seconds in all per mode (default 1), at most 50 runs */
  minTimeS?: number;
  /** --verify-memory: resident-memory limit for the target's process tree, MiB (0: none;
   * default: half the machine's RAM) */
  memoryMb?: number;
  /** untimed warm-up runs before them (default 1) */
  warmup?: number;
  /** run the per-thread event sync comparison (default true) */
  replace?: boolean;
  cudaStreams?: "auto" | "per-thread" | "default";
  onProgress?: (p: VerifyProgress) => void;
  /** aborting kills every process group started and resolves with status "aborted" */
  signal?: AbortSignal;
  /** handle SIGINT, SIGTERM and SIGHUP for the duration (default true): kill all groups, then re-raise */
  handleSigint?: boolean;
  env?: NodeJS.ProcessEnv;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

interface TargetPlan {
  label: string;
  file?: string;
  entry?: string;
  diags: Diagnostic[];
}

function plan(diagnostics: Diagnostic[], opts: VerifyOptions, cwd: string): TargetPlan[] {
  if (opts.entry) return [{ label: opts.entry, entry: opts.entry, diags: diagnostics }];
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    const f = real(isAbsolute(d.file) ? d.file : resolve(cwd, d.file));
    const list = byFile.get(f) ?? [];
    list.push(d);
    byFile.set(f, list);
  }
  return [...byFile.entries()].map(([file, diags]) => ({ label: diags[0]!.file, file, diags }));
}

/**
 * Live processes: the runners (each the leader of its own group) and the targets' groups.
 * Targets' groups get SIGKILL; a runner gets SIGTERM first, so it can kill what its targets
 * started outside their group (setsid children it tracks), then SIGKILL if it is still there.
 */
class Groups {
  private readonly targets = new Set<number>();
  private readonly runners = new Set<number>();
  addTarget(pgid: number): void {
    this.targets.add(pgid);
  }
  addRunner(pid: number): void {
    this.runners.add(pid);
  }
  delete(pid: number): void {
    this.targets.delete(pid);
    this.runners.delete(pid);
  }
  killAll(): void {
    for (const pgid of this.targets) killGroup(pgid, "SIGKILL");
    for (const pid of this.runners) stopRunner(pid);
  }
}

function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}

/** SIGTERM to the runner (it kills its targets' process trees and exits), SIGKILL to its
 * group a few seconds later if it is still alive. */
function stopRunner(pid: number): void {
  killGroup(pid, "SIGTERM");
  setTimeout(() => killGroup(pid, "SIGKILL"), 5000).unref();
}

interface RawRun {
  result: RunnerResult | null;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  killedByDriver: "timeout" | "aborted" | null;
}

function runRunner(
  request: RunnerRequest,
  opts: VerifyOptions,
  cwd: string,
  label: string,
  groups: Groups,
  abort: AbortSignal,
): Promise<RawRun> {
  return new Promise((resolvePromise) => {
    const child = spawn(opts.python, ["-m", "mps_lint_verify", "--request", "-"], {
      cwd,
      env: pythonEnv(opts.env ?? process.env),
      detached: true, // own process group: Ctrl-C reaches only the linter, which kills the groups
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderrTail = "";
    let errBuf = "";
    let killedByDriver: RawRun["killedByDriver"] = null;
    const targetGroups: number[] = [];
    if (child.pid) groups.addRunner(child.pid);
    const killMine = (why: "timeout" | "aborted") => {
      killedByDriver ??= why;
      for (const g of targetGroups) killGroup(g, "SIGKILL");
      if (child.pid) stopRunner(child.pid);
    };
    // Safety net only: the runner enforces the per-run limit itself. Per mode: the attribution
    // run, warm-ups, up to max_repeats timed runs, the profiled run.
    const runs = (3 + (request.options.warmup ?? 1) + Math.max(request.options.repeats ?? 3, request.options.max_repeats ?? 50)) * 2;
    const budgetMs = (runs * (request.options.timeout_s ?? 60) + 60) * 1000 + 30_000;
    const timer = setTimeout(() => killMine("timeout"), budgetMs);
    const onAbort = () => killMine("aborted");
    if (abort.aborted) onAbort();
    else abort.addEventListener("abort", onAbort, { once: true });

    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c: string) => {
      errBuf += c;
      let nl: number;
      while ((nl = errBuf.indexOf("\n")) >= 0) {
        const line = errBuf.slice(0, nl);
        errBuf = errBuf.slice(nl + 1);
        if (line.startsWith('{"mps_lint_verify"')) {
          try {
            const p = JSON.parse(line) as { event: string; pgid?: number; phase?: "as_written" | "event_sync"; iteration?: number; of?: number; warmup?: boolean };
            if (p.event === "spawn" && typeof p.pgid === "number") {
              targetGroups.push(p.pgid);
              groups.addTarget(p.pgid);
              if (abort.aborted) killMine("aborted");
            }
            if (p.event === "spawn" || p.event === "iteration") {
              opts.onProgress?.({ target: label, event: p.event, phase: p.phase, iteration: p.iteration, of: p.of, warmup: p.warmup });
            }
            continue;
          } catch {
            /* fall through: keep as text */
          }
        }
        stderrTail = (stderrTail + line + "\n").slice(-8000);
      }
    });
    child.on("error", (e) => {
      stderrTail += `cannot start ${opts.python}: ${e.message}\n`;
    });
    child.stdin.on("error", () => {
      /* runner died before reading the request: reported through exit status */
    });
    child.stdin.end(JSON.stringify(request));
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      abort.removeEventListener("abort", onAbort);
      // Anything the targets left behind goes too (the runner already did this on its paths).
      for (const g of targetGroups) {
        killGroup(g, "SIGKILL");
        groups.delete(g);
      }
      if (child.pid) groups.delete(child.pid);
      let result: RunnerResult | null = null;
      const text = stdout.trim();
      if (text) {
        try {
          result = JSON.parse(text.slice(text.lastIndexOf("\n{") + 1)) as RunnerResult;
        } catch {
          result = null;
        }
      }
      resolvePromise({ result, stderr: (stderrTail + errBuf).trim(), exitCode: code, signal: sig, killedByDriver });
    });
  });
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function measure(d: Diagnostic, file: string, summary: VerifyTargetSummary): VerifyMeasurement {
  const r = summary.result;
  const env = summary.environment;
  const line = d.range.start.row + 1;
  const at = (f: string, l: number) => f === file && l === line;
  const lineInfo = r?.lines?.find((x) => at(x.file, x.line));
  const sites = (r?.sites ?? []).filter((s) => at(s.file, s.line));
  const dev = sites.filter((s) => s.kind === "device_sync");
  const evs = sites.filter((s) => s.kind !== "device_sync");
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const evHits = (r?.events ?? []).filter(
    (e) => at(e.file, e.line) || e.use_sites.some((u) => at(u.file, u.line)),
  );
  const shared = evHits.filter((e) => e.shared && (at(e.file, e.line) || e.shared_use_sites.some((u) => at(u.file, u.line))));
  const reachedBySite = sites.length > 0 || evHits.some((e) => at(e.file, e.line));
  const completed = summary.status === "ok";
  let reached: boolean | null;
  if (lineInfo?.reached || reachedBySite) reached = true;
  else if (r?.lines && r.runs?.as_written?.iterations?.length) reached = false;
  else reached = null;
  const m: VerifyMeasurement = {
    target: summary.target,
    status: summary.status,
    reached,
    threads: Math.max(lineInfo?.threads ?? 0, ...sites.map((s) => s.threads)),
    deviceSyncs: sum(dev.map((s) => s.calls)),
    workerDeviceSyncs: sum(dev.map((s) => s.worker_calls)),
    eventOps: sum(evs.map((s) => s.calls)),
    blockedS: sum(sites.map((s) => s.blocked_s)),
    sharedEvent: evHits.length
      ? { confirmed: shared.length > 0, maxThreads: Math.max(...evHits.map((e) => e.max_threads_per_event)) }
      : null,
    slowdown: completed ? summary.slowdown : null,
    asWrittenS: summary.asWrittenS,
    eventSyncS: summary.eventSyncS,
    device: env?.device ?? null,
    deviceName: env?.device_name ?? null,
    torch: env?.torch ?? null,
    accelerator: env?.accelerator ?? false,
    comparison: completed ? summary.comparison : null,
    regime: summary.regime,
  };
  return m;
}

function summarize(plan: TargetPlan, raw: RawRun, opts: VerifyOptions): VerifyTargetSummary {
  const r = raw.result;
  let status: TargetStatus;
  let error: string | null = null;
  if (raw.killedByDriver === "aborted") {
    status = "aborted";
    error = "interrupted; all process groups killed";
  } else if (raw.killedByDriver === "timeout") {
    status = "timeout";
    error = "the verify runner did not finish in time; all process groups killed";
  } else if (!r) {
    status = "error";
    const why = raw.signal ? `signal ${raw.signal}` : `exit status ${raw.exitCode}`;
    error = `verify runner failed (${why})${raw.stderr ? `: ${raw.stderr.split("\n").slice(-3).join(" | ")}` : ""}`;
  } else if (r.schema !== VERIFY_SCHEMA) {
    status = "error";
    error = `verify runner speaks ${String(r.schema)}, expected ${VERIFY_SCHEMA}`;
  } else {
    status = r.status;
    error = r.error;
  }
  const aw = r?.runs?.as_written;
  const es = r?.runs?.event_sync;
  const s: VerifyTargetSummary = {
    target: plan.label,
    file: plan.file,
    entry: plan.entry,
    status,
    error,
    environment: r?.environment ?? null,
    retargeted: r?.retargeted ?? [],
    threadsStarted: r?.threads?.started ?? null,
    asWrittenS: aw?.median_s ?? median(aw?.wall_s ?? []),
    eventSyncS: es?.status === "ok" ? (es.median_s ?? null) : null,
    slowdown: r?.slowdown ?? null,
    comparison: r?.comparison ?? null,
    regime: r?.regime ?? null,
    repeats: r?.comparison ? r.comparison.repeats : aw?.repeats != null ? [aw.repeats, es?.repeats ?? 0] : null,
    killed: r?.killed ?? [],
    memoryLimitMb: r?.options?.memory_mb ?? null,
    comparisonSkipped: es && es.status !== "ok" ? (es.reason ?? es.error ?? es.status) : null,
    notes: [...(r?.notes ?? []), ...(aw?.note ? [aw.note] : [])],
    findings: plan.diags.length,
    notReached: 0,
    confirmedSharedEvents: (r?.events ?? []).filter((e) => e.shared).length,
    result: r,
  };
  if (!r || opts.verbose) s.stderr = raw.stderr;
  if (r?.threads?.exceptions) s.notes.push(`${r.threads.exceptions} exception(s) in the target's threads`);
  return s;
}

/**
 * Runs every target (each linted file with findings, or the one --verify-entry) under the
 * native-verify runner and returns plain data: a VerifyMeasurement per diagnostic (same
 * order) and a summary per target. Diagnostics are not touched; format.ts renders. Never throws for target failures: a crash, hang or timeout
 * becomes a status on the summary and on each measurement.
 */
export async function runVerify(diagnostics: Diagnostic[], opts: VerifyOptions): Promise<VerifyReport> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const groups = new Groups();
  const ac = new AbortController();
  const onExternalAbort = () => {
    groups.killAll();
    ac.abort();
  };
  if (opts.signal?.aborted) onExternalAbort();
  opts.signal?.addEventListener("abort", onExternalAbort, { once: true });
  // Ctrl-C, `kill` and a closed terminal: the runner and targets are in their own process
  // groups, so they outlive the linter unless it kills them first.
  const stopSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  // One handler per signal, bound to its name: process.emit(sig) passes no argument, and a
  // re-raise of `undefined` would be a SIGTERM.
  const handlers = stopSignals.map((sig) => [sig, () => onSignal(sig)] as const);
  const removeHandlers = () => {
    for (const [s, h] of handlers) process.removeListener(s, h);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    groups.killAll();
    ac.abort();
    removeHandlers();
    // Nobody else handles it: die of it as the linter would have without us.
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  const handleSigint = opts.handleSigint ?? true;
  if (handleSigint) for (const [s, h] of handlers) process.on(s, h);
  const report: VerifyReport = { targets: [], measurements: [], aborted: false };
  const index = new Map(diagnostics.map((d, i) => [d, i]));
  try {
    for (const p of plan(diagnostics, opts, cwd)) {
      opts.onProgress?.({ target: p.label, event: "start" });
      const request: RunnerRequest = {
        schema: VERIFY_SCHEMA,
        target: p.entry !== undefined ? { entry: p.entry, cwd } : { file: p.file!, cwd },
        watch: p.diags.map((d) => ({ file: real(isAbsolute(d.file) ? d.file : resolve(cwd, d.file)), line: d.range.start.row + 1 })),
        options: {
          device: opts.device ?? "auto",
          timeout_s: opts.timeoutS,
          warmup: opts.warmup ?? 1,
          repeats: opts.repeats ?? 3,
          replace: opts.replace ?? true,
          verbose: opts.verbose,
          cuda_streams: opts.cudaStreams ?? "auto",
          min_time_s: opts.minTimeS ?? 1,
          ...(opts.memoryMb !== undefined ? { memory_mb: opts.memoryMb } : {}),
        },
      };
      let raw: RawRun;
      if (ac.signal.aborted) {
        raw = { result: null, stderr: "", exitCode: null, signal: null, killedByDriver: "aborted" };
      } else {
        raw = await runRunner(request, opts, cwd, p.label, groups, ac.signal);
      }
      const summary = summarize(p, raw, opts);
      for (const d of p.diags) {
        const file = real(isAbsolute(d.file) ? d.file : resolve(cwd, d.file));
        const m = measure(d, file, summary);
        if (m.reached === false) summary.notReached++;
        report.measurements[index.get(d)!] = m;
      }
      report.targets.push(summary);
      opts.onProgress?.({ target: p.label, event: "done", status: summary.status });
    }
  } finally {
    groups.killAll();
    if (handleSigint) removeHandlers();
    opts.signal?.removeEventListener("abort", onExternalAbort);
  }
  report.aborted = ac.signal.aborted;
  return report;
}
