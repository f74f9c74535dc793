// The trace's report: text for a person (the default), and the static run's JSON and SARIF with
// the join carried in each finding's `properties.trace`, runtime-only observations added as
// findings of the same codes whose witness path is the runtime stack.

import path from "node:path";

import { formatSeconds } from "../verify/format.js";
import { originText, where, type SarifLog } from "./join.js";
import type { Frame, JoinEntry, Observation, TraceRun } from "./types.js";

const RULE_NAMES: Record<string, string> = {
  MPS001: "device-sync-in-thread",
  MPS003: "shared-event",
  MPS006: "blocking-sync-in-async",
  MPS007: "elapsed-time-without-sync",
};
const RULE_SEVERITY: Record<string, string> = { MPS001: "error", MPS003: "error", MPS006: "warning", MPS007: "error" };

export function runtimeMessage(o: Observation): string {
  const api = o.api.replace(/^torch\.(\w+)\.Event\b/, "torch.$1.Event");
  switch (o.code) {
    case "MPS001":
      return `Device-wide wait \`${api}()\` on a worker thread (${originText(o)}): it waits for every thread's work on the device`;
    case "MPS003":
      return `One \`${api}\` is recorded or waited on from ${o.max_threads ?? "several"} threads (${originText(o)})`;
    case "MPS006":
      return `Blocking wait \`${api}()\` while an event loop runs in this thread (${originText(o)})`;
    case "MPS007":
      return "`elapsed_time()` on an end Event that nothing waited for";
  }
}

/** The runtime witness as path steps: the thread's start (or task submission) first, then the
 * stack from the outermost frame in. */
export function runtimePath(o: Observation): { file: string; line: number; label: string }[] {
  const steps: { file: string; line: number; label: string }[] = [];
  const origin = o.thread?.origin;
  if (origin?.site) steps.push({ file: origin.site.file, line: origin.site.line, label: origin.label });
  const stack = o.code === "MPS003" ? (o.created ?? []) : o.stack;
  for (const f of [...stack].reverse().slice(0, -1)) steps.push({ file: f.file, line: f.line, label: f.func });
  if (o.code === "MPS003") {
    for (const u of o.users ?? []) {
      const top = u.stack[0];
      if (top) steps.push({ file: top.file, line: top.line, label: `${u.thread.main ? "main thread" : (u.thread.origin?.label ?? "worker")}: ${top.func}` });
    }
  }
  return steps;
}

function siteOf(e: JoinEntry): Frame | null {
  const o = e.observations[0];
  if (!o) return null;
  return o.code === "MPS003" ? (o.created?.[0] ?? o.site) : (o.site ?? o.stack[0] ?? null);
}

export function costText(e: JoinEntry): string | null {
  const c = e.cost;
  if (!c) return null;
  if (e.code === "MPS003") {
    const o = e.observations;
    const events = o.reduce((s, x) => s + (x.events ?? x.count), 0);
    return `${events} Event${events === 1 ? "" : "s"} used by up to ${c.threads} threads (${c.origins.join("; ")})`;
  }
  if (e.code === "MPS007") {
    const calls = e.observations.reduce((s, x) => s + (x.calls ?? x.count), 0);
    return `${c.waits} of ${calls} elapsed_time() call${calls === 1 ? "" : "s"} read an end Event nothing waited for (${c.origins.join("; ")})`;
  }
  const times = c.p95S !== null ? `, blocked ${formatSeconds(c.totalS)} in all, p95 ${formatSeconds(c.p95S)}, max ${formatSeconds(c.maxS ?? 0)}` : "";
  return `${c.waits} wait${c.waits === 1 ? "" : "s"} on ${c.threads} thread${c.threads === 1 ? "" : "s"} (${c.origins.join("; ")})${times}`;
}

/** The plain-data join each finding carries in `properties.trace`. */
export function traceProperty(e: JoinEntry, cwd: string): Record<string, unknown> {
  const p: Record<string, unknown> = { status: e.status };
  if (e.cost) {
    p.waits = e.cost.waits;
    p.threads = e.cost.threads;
    if (e.cost.p95S !== null) {
      p.blocked_s = round(e.cost.totalS);
      p.p95_s = round(e.cost.p95S);
      p.max_s = round(e.cost.maxS ?? 0);
    }
    p.started_by = e.cost.origins;
    if (e.cost.tests.length > 0) p.tests = e.cost.tests;
  }
  if (e.construct) p.missing_from_static_witness = { text: e.construct.text, at: e.construct.at ? where(e.construct.at, cwd) : null };
  if (e.note) p.note = e.note;
  const text = costText(e);
  if (text) p.text = text;
  if (e.observations.length > 0) {
    p.observations = e.observations.map((o) => ({
      api: o.api,
      count: o.count,
      threads: o.threads,
      loop: o.loop ?? null,
      thread: o.thread ?? null,
      ...(o.total_s !== undefined ? { blocked_s: round(o.total_s), p95_s: round(o.p95_s ?? 0), max_s: round(o.max_s ?? 0) } : {}),
      stack: (o.code === "MPS003" ? (o.created ?? []) : o.stack).map((f) => ({ file: f.file, line: f.line, func: f.func })),
      ...(o.users ? { users: o.users.map((u) => ({ thread: u.thread, threads: u.threads, at: u.stack[0] ?? null })) } : {}),
      ...(o.processes && o.processes > 1 ? { processes: o.processes } : {}),
    }));
  }
  return p;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** The run as a whole, for JSON consumers (SARIF: run.properties; JSON: stderr summary). */
export function runSummary(run: TraceRun): Record<string, unknown> {
  const torch = [...new Set(run.processes.map((p) => p.torch).filter(Boolean))];
  const devices = [...new Set(run.processes.map((p) => p.device).filter(Boolean))];
  return {
    command: run.command,
    exit_code: run.exitCode,
    wall_s: run.wallS === null ? null : round(run.wallS),
    processes: run.processes.length,
    torch,
    retargeted_to: devices,
    instrumented: [...new Set(run.processes.flatMap((p) => p.instrumented))],
    warnings: run.warnings,
  };
}

// ---------------------------------------------------------------- JSON (the static run's array)

export function toTraceJson(staticItems: Record<string, unknown>[], entries: JoinEntry[], cwd: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = staticItems.map((d) => ({ ...d }));
  for (const e of entries) {
    if (e.findingIndex !== null) {
      const d = out[e.findingIndex]!;
      d.properties = { ...((d.properties as Record<string, unknown>) ?? {}), trace: traceProperty(e, cwd) };
    }
  }
  for (const e of entries) {
    if (e.status !== "runtime-only") continue;
    const o = e.observations[0]!;
    const at = siteOf(e);
    out.push({
      code: o.code,
      name: RULE_NAMES[o.code],
      message: runtimeMessage(o),
      severity: RULE_SEVERITY[o.code],
      filename: at?.file ?? "<unknown>",
      location: { row: at?.line ?? 1, column: 1 },
      end_location: { row: at?.line ?? 1, column: 1 },
      noqa_row: at?.line ?? 1,
      fix: null,
      url: `docs/rules/${RULE_NAMES[o.code]}.md`,
      path: runtimePath(o).map((s) => ({ filename: s.file, location: { row: s.line, column: 1 }, label: s.label })),
      properties: { trace: traceProperty(e, cwd) },
    });
  }
  return out;
}

// ---------------------------------------------------------------- SARIF

function sarifUri(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  const rel = path.relative(cwd, file);
  if (rel && !rel.startsWith("..") && !path.isAbsolute(rel)) return { uri: rel.split(path.sep).map(encodeURIComponent).join("/"), uriBaseId: "%SRCROOT%" };
  return { uri: new URL(`file://${file}`).href };
}

export function toTraceSarif(log: SarifLog, entries: JoinEntry[], run: TraceRun, cwd: string): SarifLog {
  const out = JSON.parse(JSON.stringify(log)) as SarifLog;
  const sarifRun = out.runs[0]!;
  const results = sarifRun.results as unknown as Record<string, unknown>[];
  for (const e of entries) {
    if (e.findingIndex !== null) {
      const r = results[e.findingIndex]!;
      r.properties = { ...((r.properties as Record<string, unknown>) ?? {}), trace: traceProperty(e, cwd) };
    }
  }
  const rules = sarifRun.tool.driver.rules ?? [];
  const LEVEL: Record<string, string> = { error: "error", warning: "warning", info: "note" };
  for (const e of entries) {
    if (e.status !== "runtime-only") continue;
    const o = e.observations[0]!;
    const at = siteOf(e);
    const loc = (f: { file: string; line: number }, text?: string) => ({
      physicalLocation: { artifactLocation: sarifUri(f.file, cwd), region: { startLine: f.line } },
      ...(text !== undefined ? { message: { text } } : {}),
    });
    const steps = runtimePath(o);
    const res: Record<string, unknown> = {
      ruleId: o.code,
      level: LEVEL[RULE_SEVERITY[o.code]!],
      message: { text: runtimeMessage(o) },
      locations: at ? [loc(at)] : [],
      properties: { trace: traceProperty(e, cwd) },
    };
    const ri = rules.findIndex((r) => r.id === o.code);
    if (ri >= 0) res.ruleIndex = ri;
    if (steps.length > 0 && at) {
      res.codeFlows = [{ message: { text: "the runtime stack: where the thread started, then each frame to the wait" }, threadFlows: [{ locations: [...steps.map((s) => ({ location: loc(s, s.label) })), { location: loc(at, o.code) }] }] }];
    }
    results.push(res);
  }
  sarifRun.properties = { ...(sarifRun.properties ?? {}), trace: runSummary(run) };
  return out;
}

// ---------------------------------------------------------------- text

export function formatTraceText(entries: JoinEntry[], run: TraceRun, cwd: string, opts: { notTracedCount: number }): string {
  const lines: string[] = [];
  const rel = (f: string) => {
    const r = path.relative(cwd, f);
    return r && !r.startsWith("..") && !path.isAbsolute(r) ? r : f;
  };
  lines.push(runHeadline(run));
  if (run.processes.some((p) => p.device === "cpu")) {
    lines.push("note: re-targeted to the CPU: counts and threads are real; blocked times are the CPU's (no accelerator queue), not MPS or CUDA cost");
  }
  for (const n of new Set(run.processes.flatMap((p) => p.notes ?? []))) lines.push(`note: ${n}`);
  for (const w of run.warnings) lines.push(`warning: ${w}`);
  const groups: [string, string][] = [
    ["confirmed", "Confirmed (the analysis and the run agree), most costly first:"],
    ["runtime-only", "Runtime only (the run found what the analysis missed):"],
    ["not-exercised", "Not exercised (static findings no traced wait reached):"],
  ];
  for (const [status, title] of groups) {
    const es = entries.filter((e) => e.status === status);
    if (es.length === 0) continue;
    lines.push("", title);
    for (const e of es) {
      if (e.finding) {
        const f = e.finding;
        // Not exercised: the finding's first clause (its static witness is in the lint's own report).
        const message = status === "not-exercised" ? f.message.split(" — ")[0]! : f.message;
        lines.push(`  ${rel(f.file)}:${f.line}:${f.column}  ${f.severity}  ${f.code}  ${message}`);
      } else {
        const o = e.observations[0]!;
        const at = siteOf(e);
        lines.push(`  ${at ? `${rel(at.file)}:${at.line}` : "<unknown>"}  ${RULE_SEVERITY[o.code]}  ${o.code}  ${runtimeMessage(o)}`);
      }
      const cost = costText(e);
      if (cost) lines.push(`      observed: ${cost}`);
      if (e.cost && e.cost.tests.length > 0) lines.push(`      in tests: ${e.cost.tests.join(", ")}`);
      if (e.status === "runtime-only") {
        const o = e.observations[0]!;
        lines.push("      runtime witness:");
        for (const s of runtimePath(o)) lines.push(`        ${rel(s.file)}:${s.line}  ${s.label}`);
        const at = siteOf(e);
        if (at) lines.push(`        ${rel(at.file)}:${at.line}  ${o.api}`);
        if (e.construct) lines.push(`      missing from the static witness: ${e.construct.text}`);
      }
      if (e.note) lines.push(`      ${e.note}`);
    }
  }
  const n = (s: string) => entries.filter((e) => e.status === s).length;
  lines.push(
    "",
    `${n("confirmed")} confirmed, ${n("runtime-only")} runtime only, ${n("not-exercised")} not exercised` +
      (opts.notTracedCount > 0 ? ` (${opts.notTracedCount} finding${opts.notTracedCount === 1 ? "" : "s"} of rules the trace has no runtime check for)` : ""),
  );
  return lines.join("\n") + "\n";
}

export function runHeadline(run: TraceRun): string {
  const procs = run.processes.length;
  const torch = [...new Set(run.processes.map((p) => p.torch).filter(Boolean))];
  const device = [...new Set(run.processes.map((p) => p.device).filter(Boolean))];
  const what = run.command ? `\`${run.command.join(" ")}\` exited with status ${run.exitCode}${run.wallS !== null ? ` after ${formatSeconds(run.wallS)}` : ""}` : "recorded run";
  const bits = [
    `${procs} Python process${procs === 1 ? "" : "es"} traced`,
    torch.length > 0 ? `torch ${torch.join(", ")}` : "torch not imported",
    device.length > 0 ? `re-targeted to ${device.join(", ")}` : null,
  ].filter(Boolean);
  return `mps-lint trace: ${what}; ${bits.join(", ")}`;
}
