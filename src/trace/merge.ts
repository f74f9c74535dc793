// Merging the records of several processes (pytest-xdist workers, subprocesses, spawned
// multiprocessing workers): the same wait at the same stack, from the same kind of thread, is
// one observation, its counts and blocked-time histograms added.

import type { Observation, ProcessRecord } from "./types.js";

/** Width of the blocked-time histogram's buckets (as mps_lint_trace/core.py). */
const BASE = 1.02;
const KEY_FRAMES = 3;

export function percentileFromHist(hist: Record<string, number>, q: number): number {
  const entries = Object.entries(hist)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const n = entries.reduce((s, [, c]) => s + c, 0);
  if (n === 0) return 0;
  const want = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (const [b, c] of entries) {
    seen += c;
    if (seen >= want) return b <= -1000 ? 0 : BASE ** (b + 1);
  }
  return 0;
}

const stackKey = (frames: { file: string; line: number }[] | undefined) =>
  (frames ?? [])
    .slice(0, KEY_FRAMES)
    .map((f) => `${f.file}:${f.line}`)
    .join("|");

export function observationKey(o: Observation): string {
  if (o.code === "MPS003" || o.created) return [o.code, o.api, stackKey(o.created)].join("\u0000");
  const who = o.thread?.main ? "main" : (o.thread?.origin?.label ?? "?");
  return [o.code, o.api, String(o.loop ?? ""), who, stackKey(o.stack)].join("\u0000");
}

function add(into: Observation, o: Observation): void {
  into.count += o.count;
  into.threads += o.threads;
  into.processes = (into.processes ?? 1) + 1;
  for (const f of ["total_s", "raised", "calls", "never_recorded", "events", "records"] as const) {
    if (o[f] !== undefined) into[f] = (into[f] ?? 0) + o[f]!;
  }
  if (o.max_s !== undefined) into.max_s = Math.max(into.max_s ?? 0, o.max_s);
  if (o.max_threads !== undefined) into.max_threads = Math.max(into.max_threads ?? 0, o.max_threads);
  if (o.hist) {
    into.hist ??= {};
    for (const [b, n] of Object.entries(o.hist)) into.hist[b] = (into.hist[b] ?? 0) + n;
    into.p95_s = percentileFromHist(into.hist, 0.95);
  }
  for (const t of o.tests ?? []) {
    into.tests ??= [];
    if (!into.tests.includes(t) && into.tests.length < 5) into.tests.push(t);
  }
  if (o.ops) {
    into.ops ??= {};
    for (const [k, n] of Object.entries(o.ops)) into.ops[k] = (into.ops[k] ?? 0) + n;
  }
  if (o.users) into.users = [...(into.users ?? []), ...o.users];
}

function mergeList(lists: Observation[][]): Observation[] {
  const out = new Map<string, Observation>();
  for (const list of lists) {
    for (const o of list) {
      const k = observationKey(o);
      const m = out.get(k);
      if (m) add(m, o);
      else out.set(k, { ...o, processes: 1, hist: o.hist ? { ...o.hist } : undefined, tests: [...(o.tests ?? [])] });
    }
  }
  return [...out.values()];
}

export function mergeObservations(records: ProcessRecord[]): { observations: Observation[]; mainWaits: Observation[]; handoffs: Observation[] } {
  return {
    observations: mergeList(records.map((r) => r.observations ?? [])),
    mainWaits: mergeList(records.map((r) => r.main_waits ?? [])),
    handoffs: mergeList(records.map((r) => r.event_handoffs ?? [])),
  };
}
