// The join of a run's observations with the static findings of the same project:
//   confirmed      a static finding the run saw happen (its cost attached)
//   runtime-only   an observation no static finding covers, with the construct on its runtime
//                  stack that the static witness lacks (for the next round of the analysis)
//   not-exercised  a static finding of a traced code that no observation matched
//   not-traced     a static finding of a code the run has no check for (MPS002, MPS004, ...)

import { realpathSync } from "node:fs";
import path from "node:path";

import { percentileFromHist } from "./merge.js";
import {
  TRACED_CODES,
  type Construct,
  type Cost,
  type Frame,
  type JoinEntry,
  type Observation,
  type StaticFinding,
  type TraceRun,
} from "./types.js";

export function realFile(file: string, cwd: string): string {
  const abs = path.resolve(cwd, file);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

// ---------------------------------------------------------------- static findings

interface JsonFinding {
  code: string;
  name?: string;
  message: string;
  severity: string;
  filename: string;
  location: { row: number; column: number };
  path?: { filename: string; location: { row: number; column: number }; label: string }[];
}

/** The static run's `--format json` output, read as findings (same order). */
export function findingsFromJson(items: unknown[], cwd: string): StaticFinding[] {
  return (items as JsonFinding[]).map((d) => ({
    code: d.code,
    name: d.name ?? null,
    message: d.message,
    severity: d.severity,
    file: realFile(d.filename, cwd),
    line: d.location.row,
    column: d.location.column,
    path: (d.path ?? []).map((p) => ({ file: realFile(p.filename, cwd), line: p.location.row, label: p.label })),
  }));
}

interface SarifLocation {
  physicalLocation?: { artifactLocation?: { uri?: string; uriBaseId?: string }; region?: { startLine?: number; startColumn?: number } };
  message?: { text?: string };
}
interface SarifResult {
  ruleId: string;
  ruleIndex?: number;
  level?: string;
  message: { text: string };
  locations?: SarifLocation[];
  codeFlows?: { threadFlows: { locations: { location: SarifLocation }[] }[] }[];
}
export interface SarifLog {
  runs: { tool: { driver: { rules?: { id: string; name?: string; defaultConfiguration?: { level?: string }; helpUri?: string }[] } }; results: SarifResult[]; properties?: Record<string, unknown>; invocations?: unknown[] }[];
}

function sarifFile(loc: SarifLocation | undefined, cwd: string): string {
  const uri = loc?.physicalLocation?.artifactLocation?.uri ?? "";
  if (uri.startsWith("file:")) return realFile(new URL(uri).pathname, cwd);
  return realFile(decodeURIComponent(uri), cwd);
}

const SEVERITY: Record<string, string> = { error: "error", warning: "warning", note: "info" };

/** The static run's `--format sarif` output, read as findings (same order as its results). */
export function findingsFromSarif(log: SarifLog, cwd: string): StaticFinding[] {
  const run = log.runs[0];
  if (!run) return [];
  const rules = run.tool.driver.rules ?? [];
  return run.results.map((r) => {
    const loc = r.locations?.[0];
    const flow = r.codeFlows?.[0]?.threadFlows?.[0]?.locations ?? [];
    return {
      code: r.ruleId,
      name: (r.ruleIndex !== undefined ? rules[r.ruleIndex]?.name : rules.find((x) => x.id === r.ruleId)?.name) ?? null,
      message: r.message.text,
      severity: SEVERITY[r.level ?? "warning"] ?? "warning",
      file: sarifFile(loc, cwd),
      line: loc?.physicalLocation?.region?.startLine ?? 0,
      column: loc?.physicalLocation?.region?.startColumn ?? 1,
      // the last step of the code flow is the finding itself
      path: flow.slice(0, -1).map((s) => ({
        file: sarifFile(s.location, cwd),
        line: s.location.physicalLocation?.region?.startLine ?? 0,
        label: s.location.message?.text ?? "",
      })),
    };
  });
}

// ---------------------------------------------------------------- the analysis' view of functions

export interface StaticFunction {
  name: string;
  line: number;
  /** the worker thread that reaches it, as the analysis labels it; null: none */
  thread: string | null;
  waits: boolean;
}

/** What `mps-lint --dump summaries` says of each function, by file (absolute). */
export interface StaticIndex {
  functions: Map<string, StaticFunction[]>;
}

export function parseSummaries(text: string, cwd: string): StaticIndex {
  const functions = new Map<string, StaticFunction[]>();
  let file: string | null = null;
  for (const line of text.split("\n")) {
    const mod = /^module \S+ \((.*)\)$/.exec(line);
    if (mod) {
      file = realFile(mod[1]!, cwd);
      if (!functions.has(file)) functions.set(file, []);
      continue;
    }
    const fn = /^ {2}(\S.*?) {2}(.+):(\d+)(?: {2}(.*))?$/.exec(line);
    if (!fn || !file) continue;
    const facts = fn[4] ?? "";
    const thread = /^thread: (.*) \([^()]*:\d+\)(?:, |$)/.exec(facts);
    functions.get(file)!.push({
      name: fn[1]!,
      line: Number(fn[3]),
      thread: thread ? thread[1]! : null,
      waits: /(^|, )waits(,|$)/.test(facts),
    });
  }
  return { functions };
}

const ANONYMOUS = new Set(["<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "<lambda>"]);

/** The static function a runtime frame runs in: same file, same name, defined at or just after
 * the code's first line (decorators come first). */
export function lookupFunction(index: StaticIndex, f: Frame): StaticFunction | null | "anonymous" {
  if (ANONYMOUS.has(f.func)) return "anonymous";
  const fns = index.functions.get(f.file);
  if (!fns) return null;
  const last = (n: string) => n.split(".").pop()!;
  const def = f.def ?? f.line;
  let best: StaticFunction | null = null;
  for (const s of fns) {
    const name = s.name.startsWith("<module") ? "<module>" : last(s.name);
    if (name !== f.func) continue;
    if (f.func === "<module>") return s;
    if (s.line >= def && s.line <= f.line && (!best || s.line < best.line)) best = s;
  }
  return best;
}

// ---------------------------------------------------------------- the join

export function matches(o: Observation, f: StaticFinding): boolean {
  if (o.code !== f.code) return false;
  const at = (fr: { file: string; line: number }) => fr.file === f.file && fr.line === f.line;
  if (o.code === "MPS003") return (o.created ?? []).some(at) || (o.users ?? []).some((u) => u.stack.some(at));
  return o.stack.some(at);
}

export function costOf(obs: Observation[]): Cost {
  const hist: Record<string, number> = {};
  let total = 0;
  let max: number | null = null;
  let haveTimes = false;
  for (const o of obs) {
    if (o.total_s !== undefined) {
      haveTimes = true;
      total += o.total_s;
      max = Math.max(max ?? 0, o.max_s ?? 0);
    }
    for (const [b, n] of Object.entries(o.hist ?? {})) hist[b] = (hist[b] ?? 0) + n;
  }
  const origins = [...new Set(obs.map(originText).filter((x): x is string => !!x))];
  const tests = [...new Set(obs.flatMap((o) => o.tests ?? []))].slice(0, 5);
  return {
    waits: obs.reduce((s, o) => s + o.count, 0),
    threads: obs.reduce((s, o) => s + (o.code === "MPS003" ? (o.max_threads ?? 0) : o.threads), 0),
    totalS: total,
    p95S: haveTimes && Object.keys(hist).length > 0 ? percentileFromHist(hist, 0.95) : null,
    maxS: haveTimes ? max : null,
    origins,
    tests,
  };
}

export function originText(o: Observation): string | null {
  if (o.code === "MPS003") {
    const labels = [...new Set((o.users ?? []).map((u) => (u.thread.main ? "the main thread" : (u.thread.origin?.label ?? "a worker thread"))))];
    return labels.join(" + ");
  }
  if (!o.thread) return null;
  if (o.thread.main) return "the main thread";
  return o.thread.origin?.label ?? "a worker thread";
}

export function where(f: Frame | null | undefined, cwd: string): string {
  if (!f) return "?";
  const rel = path.relative(cwd, f.file);
  const shown = rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : f.file;
  return `${shown}:${f.line}`;
}

/** What the static witness lacks, read off the runtime stack (innermost frame first). */
export function constructFor(o: Observation, index: StaticIndex | null, cwd: string): Construct {
  const inProject = (f: Frame) => !index || index.functions.has(f.file);
  if (o.code === "MPS003") {
    const created = o.created?.[0] ?? null;
    return {
      text: `the Event created at ${where(created, cwd)} is recorded or waited on by ${o.max_threads ?? "several"} threads (${originText(o)}); the analysis does not see it shared`,
      at: created,
    };
  }
  if (o.code === "MPS007") {
    return {
      text:
        `elapsed_time() at ${where(o.site, cwd)} read an end Event ` +
        (o.never_recorded ? "that was never recorded" : "whose last record() nothing waited for (no end.synchronize(), no device-wide or stream wait after it)") +
        "; the analysis does not see this timing",
      at: o.site,
    };
  }
  const stack = o.stack;
  const proj = stack.filter(inProject);
  if (proj.length === 0) {
    const inner = stack[0] ?? null;
    return {
      text: `the wait is outside the linted files (${inner ? `${inner.func}() at ${where(inner, cwd)}` : "no Python frame"})` + (o.thread?.origin?.site ? `, in a thread started at ${where(o.thread.origin.site, cwd)}` : ""),
      at: inner,
    };
  }
  const p0 = proj[0]!;
  if (stack[0] !== p0) {
    const lib = stack[0]!;
    return {
      text: `the wait happens inside ${lib.package ?? path.basename(lib.file)} (${lib.func}() at ${where(lib, cwd)}), called from ${p0.func}() at ${where(p0, cwd)}: the analysis does not look inside installed packages`,
      at: p0,
    };
  }
  if (o.code === "MPS006") {
    const coro = stack.find((f) => f.async);
    const worker = o.thread && !o.thread.main ? ` (an event loop in a worker thread: ${o.thread.origin?.label ?? "?"})` : "";
    if (!coro) {
      return { text: `the wait runs in ${p0.func}(), a plain function the event loop calls (a callback, or a framework's sync handler run on the loop)${worker}`, at: p0 };
    }
    if (coro === p0) {
      return { text: `the wait in async def ${p0.func}() at ${where(p0, cwd)} is not recognised as blocking by the analysis${worker}`, at: p0 };
    }
    const i = stack.indexOf(coro);
    const callee = stack[i - 1]!;
    return { text: `async def ${coro.func}() calls ${callee.func}() at ${where(coro, cwd)}, which blocks: the analysis does not follow the wait through this call${worker}`, at: coro };
  }
  // MPS001: is the wait known, then is each frame, from the thread's entry inwards, known to run
  // on a worker thread?
  if (index) {
    const fn0 = lookupFunction(index, p0);
    if (fn0 === null || (fn0 !== "anonymous" && !fn0.waits)) {
      return { text: `the analysis does not see a device-wide wait in ${p0.func}() (the call at ${where(p0, cwd)}: ${o.api})`, at: p0 };
    }
    const outward = [...proj].reverse();
    for (let i = 0; i < outward.length; i++) {
      const f = outward[i]!;
      const fn = lookupFunction(index, f);
      if (fn === "anonymous") continue;
      if (fn && fn.thread) continue;
      const origin = o.thread?.origin;
      if (i === 0 || outward.slice(0, i).every((g) => lookupFunction(index, g) === "anonymous")) {
        return {
          text: `the analysis does not know that ${origin?.label ?? "this thread's start"}${origin?.site ? ` at ${where(origin.site, cwd)}` : ""} runs ${f.func}() on a worker thread`,
          at: origin?.site ?? f,
        };
      }
      const prev = outward[i - 1]!;
      return { text: `the call at ${where(prev, cwd)} from ${prev.func}() into ${f.func}() is not in the static call graph`, at: prev };
    }
  }
  return {
    text: "every frame is known to the analysis (worker thread and wait): the finding may be suppressed (# noqa), not selected, or in a baseline",
    at: p0,
  };
}

export function joinTrace(findings: StaticFinding[], run: TraceRun, index: StaticIndex | null, cwd: string): JoinEntry[] {
  const traced = new Set<string>(TRACED_CODES);
  const used = new Set<Observation>();
  const entries: JoinEntry[] = [];
  findings.forEach((f, i) => {
    if (!traced.has(f.code)) {
      entries.push({ status: "not-traced", code: f.code, finding: f, findingIndex: i, observations: [], cost: null, construct: null, note: `the trace has no runtime check for ${f.code}` });
      return;
    }
    const obs = run.observations.filter((o) => matches(o, f));
    for (const o of obs) used.add(o);
    if (obs.length > 0) {
      entries.push({ status: "confirmed", code: f.code, finding: f, findingIndex: i, observations: obs, cost: costOf(obs), construct: null, note: null });
      return;
    }
    entries.push({ status: "not-exercised", code: f.code, finding: f, findingIndex: i, observations: [], cost: null, construct: null, note: notExercisedNote(f, run) });
  });
  for (const o of run.observations) {
    if (used.has(o)) continue;
    entries.push({ status: "runtime-only", code: o.code, finding: null, findingIndex: null, observations: [o], cost: costOf([o]), construct: constructFor(o, index, cwd), note: null });
  }
  return entries;
}

function notExercisedNote(f: StaticFinding, run: TraceRun): string | null {
  const at = (fr: { file: string; line: number }) => fr.file === f.file && fr.line === f.line;
  if (f.code === "MPS001") {
    const main = run.mainWaits.filter((o) => o.stack.some(at));
    if (main.length > 0) {
      const n = main.reduce((s, o) => s + o.count, 0);
      return `reached on the main thread only (${n} wait${n === 1 ? "" : "s"}): not a finding at run time`;
    }
  }
  if (f.code === "MPS003") {
    const h = run.handoffs.filter((o) => (o.created ?? []).some(at) || (o.users ?? []).some((u) => u.stack.some(at)));
    if (h.length > 0) {
      const threads = Math.max(...h.map((o) => o.max_threads ?? 2));
      return `the Event was used by ${threads} threads, but recorded once and then waited on: a hand-off, not a race`;
    }
  }
  if (f.code === "MPS006") {
    const seen = [...run.observations, ...run.mainWaits].filter((o) => o.code !== "MPS006" && o.stack.some(at));
    if (seen.length > 0) return "reached, but with no event loop running in the thread";
  }
  return null;
}

/** Confirmed and runtime-only by blocked time (most costly first), then the rest in file order. */
export function orderEntries(entries: JoinEntry[]): JoinEntry[] {
  const rank: Record<string, number> = { confirmed: 0, "runtime-only": 1, "not-exercised": 2, "not-traced": 3 };
  const costKey = (e: JoinEntry) => (e.cost ? e.cost.totalS : 0);
  return [...entries].sort((a, b) => {
    const r = rank[a.status]! - rank[b.status]!;
    if (r !== 0) return r;
    if (a.status === "confirmed" || a.status === "runtime-only") {
      const c = costKey(b) - costKey(a);
      if (c !== 0) return c;
      const w = (b.cost?.waits ?? 0) - (a.cost?.waits ?? 0);
      if (w !== 0) return w;
    }
    return (a.findingIndex ?? 1e9) - (b.findingIndex ?? 1e9);
  });
}
