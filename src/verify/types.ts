// Plain data --verify returns: measurements per finding and a summary per target. No text:
// src/verify/format.ts renders these for the reporters.
import type { RunnerComparison, RunnerEnvironment, RunnerKilled, RunnerRegime, RunnerResult, TargetStatus } from "./schema.js";

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
  /** as written / with per-thread event sync, with its spread (quartiles of the timed runs) */
  comparison: RunnerComparison | null;
  /** host-bound / device-bound and the evidence */
  regime: RunnerRegime | null;
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
  comparison: RunnerComparison | null;
  regime: RunnerRegime | null;
  /** timed runs per mode [as written, event sync] */
  repeats: [number, number] | null;
  /** processes the runner or the driver killed, and why */
  killed: RunnerKilled[];
  /** resident-memory limit applied to the target's process tree, MiB (0: none) */
  memoryLimitMb: number | null;
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
  /** measurements[i] belongs to the i-th diagnostic passed to runVerify */
  measurements: VerifyMeasurement[];
  aborted: boolean;
}

