// Renders --verify's plain measurements (types.ts) as text for the reporters. Nothing in
// src/verify/run.ts imports this file.
import type { Diagnostic } from "../types.js";
import type { RunnerKilled, RunnerRegime } from "./schema.js";
import type { VerifyMeasurement, VerifyReport, VerifyTargetSummary } from "./types.js";

const int = (n: number) => n.toLocaleString("en-US");

/** 3.1 s, 42.0 ms, 7 µs */
export function formatSeconds(s: number): string {
  if (s >= 1) return `${s.toFixed(1)} s`;
  if (s >= 0.001) return `${(s * 1000).toFixed(1)} ms`;
  return `${Math.round(s * 1e6)} µs`;
}

export function formatFactor(x: number): string {
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x`;
}

/** "cuda (NVIDIA H100, torch 2.5.1)" / "cpu (AMD EPYC, torch 1.13.0; mechanics only: no accelerator queue)" */
export function formatWhere(m: Pick<VerifyMeasurement, "device" | "deviceName" | "torch" | "accelerator">): string {
  const bits = [m.deviceName, m.torch ? `torch ${m.torch}` : null].filter(Boolean).join(", ");
  const cpu = m.accelerator ? "" : "; mechanics only: no accelerator queue";
  return `${m.device ?? "?"} (${bits}${cpu})`;
}

function statusPhrase(s: VerifyTargetSummary, timeoutS?: number): string {
  switch (s.status) {
    case "timeout":
      return `target timed out${timeoutS ? ` after ${timeoutS} s` : ""} (process tree killed)`;
    case "memory":
      return `target stopped: ${s.error ?? "over the --verify-memory limit"}`;
    case "crash":
      return `target crashed: ${s.error ?? "unknown error"}`;
    case "aborted":
      return "interrupted (process groups killed)";
    case "error":
      return `could not run: ${s.error ?? "unknown error"}`;
    default:
      return "ok";
  }
}

/** "host-bound, GPU busy 23%" */
export function formatRegime(r: RunnerRegime | null): string | null {
  if (!r || r.kind === "unknown") return null;
  return r.busy_fraction != null ? `${r.kind}, GPU busy ${Math.round(r.busy_fraction * 100)}%` : r.kind;
}

function ratioSpread(m: VerifyMeasurement): string {
  const c = m.comparison;
  if (!c) return formatFactor(m.slowdown!);
  const over = c.basis === "threaded section" ? " (threaded section)" : "";
  return `${c.ratio.toFixed(2)}x${over}, quartile spread ${c.low.toFixed(2)}-${c.high.toFixed(2)} over ${c.repeats[0]}+${c.repeats[1]} runs`;
}

function comparison(m: VerifyMeasurement, s: VerifyTargetSummary): string | null {
  if (m.slowdown == null) {
    if (s.comparisonSkipped && m.workerDeviceSyncs > 0) return `no per-thread event sync comparison (${s.comparisonSkipped})`;
    return null;
  }
  const spread = ratioSpread(m);
  const regime = formatRegime(m.regime);
  const tail = regime ? `; ${regime}` : "";
  if (!m.accelerator) return `as written vs per-thread event sync ${spread} (CPU timing says nothing about MPS/CUDA cost)`;
  // Within the spread, the sign of the ratio is noise: say so instead of a factor.
  if (m.comparison && !m.comparison.measurable) return `no measurable difference from per-thread event sync (${spread}${tail})`;
  if (m.slowdown > 1) return `as written ${formatFactor(m.slowdown)} slower than per-thread event sync (${spread}${tail})`;
  return `per-thread event sync ${formatFactor(1 / m.slowdown)} slower than as written (${spread}${tail})`;
}

/** "pid 123 python (own session), timeout" */
export function formatKilled(k: RunnerKilled): string {
  return `pid ${k.pid} ${k.command}${k.own_session ? " (had left the target's session)" : ""}: ${k.reason}`;
}

/**
 * The line a reporter prints under a finding, e.g.
 * "measured on cuda (NVIDIA H100, torch 2.5.1): 8 threads, 1,600 device syncs blocked 3.1 s;
 *  2.7x slower than per-thread event sync".
 */
export function formatVerifyLine(m: VerifyMeasurement, s: VerifyTargetSummary): string {
  const where = formatWhere(m);
  if (m.reached === null) return `verify: ${statusPhrase(s)}`;
  if (m.reached === false) {
    const why = s.status === "ok" ? "" : ` (${statusPhrase(s)})`;
    return `verify: not reached when running ${s.entry ?? s.target}${why}; the finding stands, the run did not exercise it`;
  }
  const parts: string[] = [];
  const th = `${m.threads} thread${m.threads === 1 ? "" : "s"}`;
  if (m.deviceSyncs > 0) {
    parts.push(`${th}, ${int(m.deviceSyncs)} device sync${m.deviceSyncs === 1 ? "" : "s"} blocked ${formatSeconds(m.blockedS)}`);
  } else if (m.eventOps > 0) {
    parts.push(`${th}, ${int(m.eventOps)} event call${m.eventOps === 1 ? "" : "s"} blocked ${formatSeconds(m.blockedS)}`);
  } else {
    parts.push(`reached on ${th}`);
  }
  if (m.sharedEvent?.confirmed) parts.push(`confirmed: one Event used by ${m.sharedEvent.maxThreads} threads`);
  else if (m.sharedEvent) parts.push(`no Event was shared between threads in this run`);
  const cmp = comparison(m, s);
  let text = `measured on ${where}: ${parts.join("; ")}`;
  if (cmp) text += `; ${cmp}`;
  if (s.status !== "ok") text += ` [${statusPhrase(s)}]`;
  return text;
}

/** Lines summarizing one target, for the end of a stylish report. */
export function formatVerifySummary(s: VerifyTargetSummary): string[] {
  const out: string[] = [];
  const env = s.environment;
  const name = s.entry ?? s.target;
  if (!env) {
    out.push(`verify ${name}: ${statusPhrase(s)}`);
    for (const k of s.killed) out.push(`  killed: ${formatKilled(k)}`);
    return out;
  }
  const where = formatWhere({ device: env.device, deviceName: env.device_name, torch: `${env.torch} [${env.torch_build}]`, accelerator: env.accelerator });
  out.push(`verify ${name}: ${s.status === "ok" ? "ran" : statusPhrase(s)} on ${where}`);
  if (s.threadsStarted != null) out.push(`  threads started: ${s.threadsStarted}`);
  if (s.asWrittenS != null) {
    let t = `  wall time (median): as written ${formatSeconds(s.asWrittenS)}`;
    if (s.eventSyncS != null) t += `, with per-thread event sync ${formatSeconds(s.eventSyncS)}`;
    const c = s.comparison;
    if (c) {
      t += ` -> ${c.ratio.toFixed(2)}x (quartile spread ${c.low.toFixed(2)}-${c.high.toFixed(2)}, ${c.repeats[0]}+${c.repeats[1]} timed runs`;
      t += c.measurable ? ")" : "; no measurable difference)";
      if (c.basis === "threaded section" && c.whole_run) {
        t += `; threaded section, the set-up before the first thread excluded (whole run ${c.whole_run.ratio.toFixed(2)}x, ${c.whole_run.low.toFixed(2)}-${c.whole_run.high.toFixed(2)})`;
      }
    } else if (s.slowdown != null) t += ` -> ${formatFactor(s.slowdown)}`;
    out.push(t);
  }
  if (s.regime && s.regime.kind !== "unknown") out.push(`  regime: ${s.regime.kind} (${s.regime.evidence})`);
  else if (s.regime?.evidence) out.push(`  regime: unknown (${s.regime.evidence})`);
  for (const k of s.killed) out.push(`  killed: ${formatKilled(k)}`);
  if (s.comparisonSkipped) out.push(`  comparison run skipped: ${s.comparisonSkipped}`);
  for (const r of s.retargeted) out.push(`  re-targeted: ${r}`);
  if (env.note) out.push(`  note: ${env.note}`);
  for (const n of s.notes) out.push(`  note: ${n}`);
  if (s.notReached) out.push(`  ${s.notReached} finding line(s) not reached by the run`);
  if (s.confirmedSharedEvents) out.push(`  shared Event confirmed at runtime at ${s.confirmedSharedEvents} creation site(s)`);
  return out;
}

/**
 * The diagnostics a reporter shows after --verify: new objects (the inputs are not touched)
 * carrying `properties.verify` = the measurement plus its rendered line (`text`).
 */
export function withVerifyMeasurements<D extends Diagnostic>(diagnostics: D[], report: VerifyReport): D[] {
  const byTarget = new Map(report.targets.map((t) => [t.target, t]));
  return diagnostics.map((d, i) => {
    const m = report.measurements[i];
    const s = m ? byTarget.get(m.target) : undefined;
    if (!m || !s) return d;
    return { ...d, properties: { ...(d.properties ?? {}), verify: { ...m, text: formatVerifyLine(m, s) } } };
  });
}
