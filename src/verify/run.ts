import { spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { basename, isAbsolute, resolve } from "node:path";

import type { Diagnostic } from "../types.js";
import { formatVerifyLine } from "./format.js";
import { pythonEnv } from "./paths.js";
import {
  VERIFY_SCHEMA,
  type RunnerEnvironment,
  type RunnerRequest,
  type RunnerResult,
  type TargetStatus,
} from "./schema.js";

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
  /** timed runs per mode, median reported (default 3) */
  repeats?: number;
  /** untimed warm-up runs before them (default 1) */
  warmup?: number;
  /** run the per-thread event sync comparison (default true) */
  replace?: boolean;
  cudaStreams?: "auto" | "per-thread" | "default";
  onProgress?: (p: VerifyProgress) => void;
  /** aborting kills every process group started and resolves with status "aborted" */
  signal?: AbortSignal;
  /** install a SIGINT handler for the duration (default true): kill all groups, then re-raise */
  handleSigint?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface VerifyProgress {
  target: string;
  event: "start" | "spawn" | "iteration" | "done";
  phase?: "as_written" | "event_sync";
  iteration?: number;
  of?: number;
  warmup?: boolean;
  status?: TargetStatus;
}

/** What --verify attaches to a Diagnostic as `properties.verify`. */
export interface VerifyMeasurement {
  /** label of the target that was run */
  target: string;
  status: TargetStatus;
  /** null when the run failed before anything could be known */
  reached: boolean | null;
  /** distinct threads that executed the line (or a sync/event call on it) */
  threads: number;
  /** device-wide sync calls made at this line */
  deviceSyncs: number;
  /** of which from worker (non-main) threads */
  workerDeviceSyncs: number;
  /** event record/synchronize/wait/query calls made at this line */
  eventOps: number;
  /** seconds spent blocked in the syncs at this line (device + event), one timed run */
  blockedS: number;
  /** MPS003 confirmation: an Event created or used at this line was used by 2+ threads */
  sharedEvent: { confirmed: boolean; maxThreads: number } | null;
  /** target wall time as written / with per-thread event sync (median), or null */
  slowdown: number | null;
  asWrittenS: number | null;
  eventSyncS: number | null;
  device: string | null;
  deviceName: string | null;
  torch: string | null;
  accelerator: boolean;
  /** the stylish line */
  text: string;
}

export interface VerifyTargetSummary {
  target: string;
  /** the file run, or the entry string */
  file?: string;
  entry?: string;
  status: TargetStatus;
  error: string | null;
  environment: RunnerEnvironment | null;
  retargeted: string[];
  threadsStarted: number | null;
  asWrittenS: number | null;
  eventSyncS: number | null;
  slowdown: number | null;
  /** why the comparison run did not happen, if it didn't */
  comparisonSkipped: string | null;
  notes: string[];
  findings: number;
  notReached: number;
  confirmedSharedEvents: number;
  /** the raw runner result (null if the runner produced none) */
  result: RunnerResult | null;
  /** runner's stderr tail when it failed, and the target's output when verbose */
  stderr?: string;
}

export interface VerifyReport {
  targets: VerifyTargetSummary[];
  aborted: boolean;
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

/** Live process groups (runner + targets), killed on abort, SIGINT, or driver timeout. */
class Groups {
  private readonly pgids = new Set<number>();
  add(pgid: number): void {
    this.pgids.add(pgid);
  }
  delete(pgid: number): void {
    this.pgids.delete(pgid);
  }
  killAll(): void {
    for (const pgid of this.pgids) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
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
    if (child.pid) groups.add(child.pid);
    const killMine = (why: "timeout" | "aborted") => {
      killedByDriver ??= why;
      for (const g of targetGroups) {
        try {
          process.kill(-g, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      if (child.pid) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    };
    // Safety net only: the runner enforces the per-run limit itself.
    const runs = ((request.options.warmup ?? 1) + (request.options.repeats ?? 3)) * 2;
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
              groups.add(p.pgid);
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
        try {
          process.kill(-g, "SIGKILL");
        } catch {
          /* gone */
        }
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
    text: "",
  };
  m.text = formatVerifyLine(m, summary);
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
 * native-verify runner, attaches `properties.verify` (a VerifyMeasurement) to each Diagnostic,
 * and returns a summary per target. Never throws for target failures: a crash, hang or timeout
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
  const onSigint = () => {
    groups.killAll();
    ac.abort();
    process.removeListener("SIGINT", onSigint);
    // Nobody else handles SIGINT: die of it as the linter would have without us.
    if (process.listenerCount("SIGINT") === 0) process.kill(process.pid, "SIGINT");
  };
  const handleSigint = opts.handleSigint ?? true;
  if (handleSigint) process.on("SIGINT", onSigint);
  const report: VerifyReport = { targets: [], aborted: false };
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
        d.properties = { ...(d.properties ?? {}), verify: m };
      }
      report.targets.push(summary);
      opts.onProgress?.({ target: p.label, event: "done", status: summary.status });
    }
  } finally {
    groups.killAll();
    if (handleSigint) process.removeListener("SIGINT", onSigint);
    opts.signal?.removeEventListener("abort", onExternalAbort);
  }
  report.aborted = ac.signal.aborted;
  return report;
}

export function targetLabel(s: VerifyTargetSummary): string {
  return s.entry ?? (s.file ? basename(s.file) : s.target);
}
