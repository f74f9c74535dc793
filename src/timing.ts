// Phase timings and counters for one run, printed to stderr as one JSON line when
// MPS_LINT_TIMING=1 (or `--timing`). Costs a clock read per phase when off.

export type Phase = "discover" | "read" | "prefilter" | "cache" | "parse" | "facts" | "index" | "rules" | "report";

export interface TimingReport {
  /** Wall milliseconds by phase. parse and facts are CPU time summed over workers. */
  phases: Partial<Record<Phase, number>>;
  counts: Record<string, number>;
}

const phases: Partial<Record<Phase, number>> = {};
const counts: Record<string, number> = {};

export function addTime(phase: Phase, ms: number): void {
  phases[phase] = (phases[phase] ?? 0) + ms;
}

export function timed<T>(phase: Phase, fn: () => T): T {
  const t = performance.now();
  try {
    return fn();
  } finally {
    addTime(phase, performance.now() - t);
  }
}

export function count(name: string, n = 1): void {
  counts[name] = (counts[name] ?? 0) + n;
}

export function setCount(name: string, n: number): void {
  counts[name] = n;
}

export function timingReport(): TimingReport {
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v)])),
    counts: { ...counts },
  };
}

export function timingWanted(): boolean {
  const v = process.env.MPS_LINT_TIMING;
  return !!v && v !== "0";
}

export function resetTiming(): void {
  for (const k of Object.keys(phases)) delete phases[k as Phase];
  for (const k of Object.keys(counts)) delete counts[k];
}

// Why modules are loaded on demand. The analysis marks what it is doing (the rule running, and
// inside it the mechanism that looks a module up: a parameter's callers, a star import); the
// loader counts each loaded file under the innermost mark (`load:<rule>:<mechanism>`).
const loadReasons: string[] = [];

/** Run `fn` with `reason` as the innermost cause of any module it loads. */
export function withLoadReason<T>(reason: string, fn: () => T): T {
  loadReasons.push(reason);
  try {
    return fn();
  } finally {
    loadReasons.pop();
  }
}

/** The current cause of a load: the rule (outermost mark) and the innermost mechanism. */
export function loadReason(): string {
  const n = loadReasons.length;
  if (n === 0) return "index";
  const outer = loadReasons[0];
  const inner = n > 1 ? loadReasons[n - 1] : "name resolution";
  return `${outer}:${inner}`;
}
