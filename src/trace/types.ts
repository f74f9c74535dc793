// The runtime witness's data: what each traced Python process sends (schema mps-lint-trace/1,
// written by native-verify/trace-path/mps_lint_trace/core.py), and the join with the static run.

export const TRACE_SCHEMA = "mps-lint-trace/1";

/** The codes a run can observe. */
export const TRACED_CODES = ["MPS001", "MPS003", "MPS006", "MPS007"] as const;
export type TracedCode = (typeof TRACED_CODES)[number];

export interface Frame {
  file: string;
  line: number;
  func: string;
  /** first line of the function's code (decorators included) */
  def?: number;
  async?: boolean;
  /** the installed package the file belongs to (site-packages / dist-packages) */
  package?: string;
}

export interface Origin {
  /** "threading.Thread", "ThreadPoolExecutor.submit", "asyncio.to_thread", ... */
  kind: string;
  label: string;
  /** the program's frame nearest the thread start or task submission */
  site: Frame | null;
  /** the installed package between that frame and the start (a framework's pool) */
  package: string | null;
}

export interface ThreadInfo {
  main: boolean;
  origin?: Origin | null;
}

export interface EventUser {
  thread: ThreadInfo;
  stack: Frame[];
  threads: number;
}

export interface Observation {
  code: TracedCode;
  api: string;
  /** device_sync | event_synchronize | stream_synchronize (MPS001, MPS006) */
  wait?: string;
  site: Frame | null;
  stack: Frame[];
  count: number;
  threads: number;
  total_s?: number;
  max_s?: number;
  p95_s?: number;
  hist?: Record<string, number>;
  raised?: number;
  loop?: boolean | null;
  thread?: ThreadInfo | null;
  tests?: string[];
  thread_names?: string[];
  /** MPS007: elapsed_time calls at this site in all, and how many read an end never recorded */
  calls?: number;
  never_recorded?: number;
  /** MPS003: where the Event was created, how many Events, and the threads that used them */
  created?: Frame[];
  events?: number;
  max_threads?: number;
  records?: number;
  ops?: Record<string, number>;
  users?: EventUser[];
  /** processes this observation was seen in (set when records are merged) */
  processes?: number;
}

export interface ProcessRecord {
  schema: string;
  mode: string;
  pid: number;
  ppid: number | null;
  argv: string[];
  /** when the process started (seconds since the epoch), with pid its identity */
  started?: number;
  /** snapshots are cumulative: the driver keeps the highest; final: sent at exit */
  seq?: number;
  final?: boolean;
  /** the process's working folder when the hooks were installed */
  cwd?: string | null;
  python: string;
  python_version: string;
  torch: string | null;
  device: string | null;
  instrumented: string[];
  retargeted: string[];
  notes: string[];
  hook_errors: Record<string, number>;
  threads: { serial: number; name: string; main: boolean; origin: Origin | null }[];
  observations: Observation[];
  main_waits: Observation[];
  /** Events used by several threads but recorded once (a hand-off, not MPS003) */
  event_handoffs?: Observation[];
  elapsed_s: number;
}

/** What the run as a whole saw: the records of every process, merged. */
export interface TraceRun {
  command: string[] | null;
  /** the traced command's exit status (128 + n for a signal), null for --from */
  exitCode: number | null;
  signal: string | null;
  processes: ProcessRecord[];
  observations: Observation[];
  mainWaits: Observation[];
  handoffs: Observation[];
  /** problems of the run itself (not findings) */
  warnings: string[];
  wallS: number | null;
}

/** One static finding, from the static run's JSON or SARIF output. */
export interface StaticFinding {
  code: string;
  name: string | null;
  message: string;
  severity: string;
  /** absolute */
  file: string;
  /** 1-based */
  line: number;
  column: number;
  path: { file: string; line: number; label: string }[];
}

export type JoinStatus = "confirmed" | "runtime-only" | "not-exercised" | "not-traced";

export interface Cost {
  waits: number;
  threads: number;
  totalS: number;
  p95S: number | null;
  maxS: number | null;
  origins: string[];
  tests: string[];
}

export interface Construct {
  /** what the static witness lacks, in words */
  text: string;
  /** where it is on the runtime stack */
  at: Frame | null;
}

export interface JoinEntry {
  status: JoinStatus;
  code: string;
  /** the static finding (confirmed, not exercised, not traced) */
  finding: StaticFinding | null;
  /** index of the finding in the static run's output */
  findingIndex: number | null;
  observations: Observation[];
  cost: Cost | null;
  /** runtime-only: the construct the static witness lacks */
  construct: Construct | null;
  /** not exercised: what the run did see at that line (e.g. waits on the main thread only) */
  note: string | null;
}
