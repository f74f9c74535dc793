// Types of the runner's JSON result, schema "mps-lint-verify/2" (docs/verify.md).
// Plain data: what `python -m mps_lint_verify` prints.

export const VERIFY_SCHEMA = "mps-lint-verify/2";

export type RunStatus = "ok" | "timeout" | "memory" | "crash" | "error" | "skipped";
export type TargetStatus = "ok" | "timeout" | "memory" | "crash" | "error" | "aborted";

/** host-bound / device-bound, from the GPU's busy time (kernel intervals under torch.profiler,
 * CUDA only) over the median wall time of the timed runs. */
export interface RunnerRegime {
  kind: "host-bound" | "device-bound" | "unknown";
  busy_fraction: number | null;
  gpu_busy_s?: number;
  kernels?: number;
  evidence: string | null;
}

/** A process the runner killed, and why ("timeout", "memory", "interrupted",
 * "left running after the target finished"). own_session: it had left the target's session. */
export interface RunnerKilled {
  pid: number;
  command: string;
  reason: string;
  own_session: boolean | null;
  phase?: "as_written" | "event_sync";
}

/** as written / with per-thread event sync: ratio of medians, spread from the quartiles. */
export interface RunnerComparison {
  ratio: number;
  low: number;
  high: number;
  /** false when the spread includes 1.0: no measurable difference */
  measurable: boolean;
  spread: "quartiles";
  /** what was timed: the threaded section (first thread start to the end of the run, where the
   * syncs are) when both modes started threads, else the whole run */
  basis?: "threaded section" | "whole run";
  /** the whole run's ratio, kept beside a threaded-section comparison */
  whole_run?: { ratio: number; low: number; high: number; measurable: boolean };
  /** timed runs [as written, event sync] */
  repeats: [number, number];
}

export interface RunnerEnvironment {
  python: string;
  python_version: string;
  torch: string;
  torch_build: string;
  device: "mps" | "cuda" | "xpu" | "cpu";
  device_name: string;
  accelerator: boolean;
  cpu_count: number | null;
  torch_threads: number;
  platform: string;
  note?: string;
}

export interface RunnerSite {
  file: string;
  /** 1-based */
  line: number;
  api: string;
  kind: "device_sync" | "event_record" | "event_synchronize" | "event_wait" | "event_query";
  calls: number;
  threads: number;
  main_thread_calls: number;
  worker_calls: number;
  worker_threads: number;
  replaced_calls: number;
  blocked_s: number;
  max_blocked_s: number;
}

export interface RunnerLoc {
  file: string;
  line: number;
}

export interface RunnerEventSite {
  /** creation site ("<unknown>", 0 when created before instrumentation) */
  file: string;
  line: number;
  api: string;
  events_used: number;
  shared_events: number;
  shared: boolean;
  max_threads_per_event: number;
  threads: number;
  creator_threads: string[];
  ops: Record<string, number>;
  use_sites: RunnerLoc[];
  shared_use_sites: RunnerLoc[];
}

export interface RunnerLine {
  file: string;
  line: number;
  reached: boolean;
  threads: number;
}

export interface RunnerRun {
  mode: "as_written" | "event_sync";
  status: RunStatus;
  error?: string | null;
  reason?: string;
  error_kind?: string;
  traceback?: string;
  exit_code?: number | null;
  signal?: string | null;
  timed_out?: boolean;
  memory_exceeded?: boolean;
  memory_peak_bytes?: number;
  peak_rss_bytes?: number;
  group_killed?: boolean;
  killed?: RunnerKilled[];
  elapsed_s?: number;
  /** attribution: the instrumented first run (never timed); warmup and timed runs are lean */
  iterations?: { i: number; kind: "attribution" | "warmup" | "timed"; warmup: boolean; wall_s: number; traced: boolean }[];
  wall_s?: number[];
  repeats?: number;
  median_s?: number | null;
  min_s?: number | null;
  max_s?: number | null;
  p25_s?: number | null;
  p75_s?: number | null;
  regime?: RunnerRegime;
  note?: string;
  /** counts from the attribution run */
  device_syncs?: number;
  worker_device_syncs?: number;
  /** device syncs replaced by the per-thread event sync (event_sync mode only) */
  replaced_syncs?: number;
  event_ops?: number;
  blocked_s?: number;
  stdout?: string;
  stderr?: string;
}

export interface RunnerTarget {
  kind: "file" | "module" | "callable";
  path?: string;
  module?: string;
  callable?: string;
  argv: string[];
  cwd: string;
}

export interface RunnerResult {
  schema: string;
  runner: string;
  status: "ok" | "timeout" | "memory" | "crash" | "error";
  error: string | null;
  target?: RunnerTarget;
  options?: { memory_mb?: number; [k: string]: unknown };
  environment?: RunnerEnvironment | null;
  instrumented?: string[];
  retargeted?: string[];
  retarget_applied?: Record<string, number>;
  per_thread_streams?: boolean;
  notes?: string[];
  sites?: RunnerSite[];
  events?: RunnerEventSite[];
  lines?: RunnerLine[];
  threads?: { started: number; seen_syncing: number; exceptions: number; exception_samples: { thread: string; error: string }[] } | null;
  runs?: { as_written: RunnerRun; event_sync: RunnerRun };
  slowdown?: number | null;
  comparison?: RunnerComparison | null;
  regime?: RunnerRegime | null;
  killed?: RunnerKilled[];
}

export interface RunnerRequest {
  schema: string;
  target: { file?: string; entry?: string | string[]; argv?: string[]; cwd?: string };
  /** lines of static findings, 1-based */
  watch: RunnerLoc[];
  options: {
    device?: string;
    timeout_s?: number;
    warmup?: number;
    repeats?: number;
    replace?: boolean;
    verbose?: boolean;
    cuda_streams?: "auto" | "per-thread" | "default";
    /** timed runs continue until this many seconds in all (and at least `repeats` runs) */
    min_time_s?: number;
    max_repeats?: number;
    /** resident-memory limit for the target's process tree, MiB; 0 = none; default half the RAM */
    memory_mb?: number;
  };
}
