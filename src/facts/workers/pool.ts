// A pool of parse workers behind a synchronous call: the main thread hands out batches of files
// and blocks in Atomics.wait until a worker reports, draining results with receiveMessageOnPort.
// The lint pipeline stays synchronous; only the parsing runs in parallel. Results are returned
// by file index, so the outcome never depends on which worker parsed what.
//
// Liveness (issue 30): no fixed timeout decides that a worker is dead; a 10 MB module can take a
// worker minutes on a loaded machine. Each worker tells, through shared memory, which file it is
// on, when it starts and finishes one, and when it exits. A worker that exited (an exception that
// escaped, process.exit) is dead at once. Otherwise the pool is stalled only when nothing at all
// moves for STALL_CHECKS consecutive checks a second apart: no message, no file started or
// finished, and no CPU time spent by this process (a parse spends CPU; a worker the V8 heap limit
// stopped, or one blocked forever, spends none). Counting checks, not wall time, keeps a run that
// was suspended (a laptop's sleep, SIGSTOP) from taking its own pause for a stall. The file a dead
// or stalled worker was on is reported as not linted; the other files it held go to the other
// workers, or are parsed in this thread when none is left: one file never costs the others.
//
// Memory: files over HEAVY_BYTES are parsed one at a time, whichever worker takes them, so the
// run's peak is that of its largest file, not of several large files at once.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { runFactsJob, type FactsJobResult } from "../facts-job.js";
import { count, setCount } from "../../timing.js";
import { STATUS_CURRENT, STATUS_EXITED, STATUS_FIELDS, STATUS_FINISHED, STATUS_STARTED, WORKER_LOST, type Batch, type WorkerData } from "./protocol.js";

export { PARSER_ERROR, WORKER_LOST } from "./protocol.js";
export type { Batch, WorkerData } from "./protocol.js";

export interface Job {
  i: number;
  file: string;
  text?: string;
  /** Bytes, for balancing. */
  size: number;
}

export type JobResult = FactsJobResult & { i: number };

const BATCH_BYTES = 192 * 1024;
const BATCH_FILES = 24;
/** Files at least this large are parsed one at a time (see "Memory" above). */
const HEAVY_BYTES = 2 * 1024 * 1024;
/**
 * Consecutive one-second checks with no sign of work before the workers are taken for stalled
 * (MPS_LINT_WORKER_STALL_CHECKS overrides it).
 */
const STALL_CHECKS = positiveEnv("MPS_LINT_WORKER_STALL_CHECKS") ?? 60;
/** CPU time (µs) this process must spend in a check's second to count as work. */
const BUSY_CPU_US = 5_000;

function positiveEnv(name: string): number | null {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : null;
}


export function workerScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  let script: string;
  if (here.endsWith(".ts")) {
    // Running from sources (vitest): use the compiled worker, built by `npm run build`.
    const root = path.resolve(path.dirname(here), "..", "..", "..");
    script = path.join(root, "dist", "src", "facts", "workers", "worker.js");
  } else {
    // Next to this code: dist/src/facts/workers/worker.js (tsc), or dist/bundle/worker.js when this
    // code runs inside the bundled CLI (dist/bundle/cli-main.js, scripts/bundle.mjs).
    script = path.join(path.dirname(here), "worker.js");
  }
  return existsSync(script) ? script : null;
}

interface Slot {
  index: number;
  worker: Worker;
  port: MessagePort;
  /** Batches at the worker, oldest first. */
  batches: Batch[];
  /** The worker has loaded its code and the parser (its first message). */
  ready: boolean;
  /** The worker exited or stalled: it gets no more work and is not waited for. */
  lost: boolean;
}

interface Queued extends Job {
  /** Asked for now (run), not ahead of need (prefetch): bigger batches, sent first. */
  urgent: boolean;
}

/**
 * Prefetch batches stay small and few per worker: a file the main thread needs next may sit
 * behind them at the worker (one still queued here is parsed by the main thread instead).
 */
const PREFETCH_BATCH_FILES = 2;
const MAX_IN_FLIGHT = 2;

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly signal = new SharedArrayBuffer(4);
  private readonly counter = new Int32Array(this.signal);
  private readonly statusBuffer: SharedArrayBuffer;
  private readonly status: Int32Array;
  /** Sizes of the jobs at workers, by file index (for the one-heavy-file-at-a-time rule). */
  private readonly postedSize = new Map<number, number>();
  /** Liveness: what was seen at the last check, and how many checks in a row saw nothing move. */
  private seen = { messages: 0, status: "", cpu: 0 };
  private quietChecks = 0;
  private messages = 0;
  /** The most files of HEAVY_BYTES or more at workers at once (the timing report's heavyAtOnce). */
  private heavyAtOnce = 0;
  private nextBatch = 0;
  /** Jobs not yet handed to a worker: urgent ones first. */
  private queue: Queued[] = [];
  /** Jobs at a worker, by file index. */
  private readonly posted = new Set<number>();
  /** Finished jobs not yet taken, by file index. */
  private readonly done = new Map<number, JobResult>();

  private constructor(
    private readonly script: string,
    private readonly size: number,
    private readonly cacheDir: string | null,
    private readonly keyPrefix: string,
  ) {
    this.statusBuffer = new SharedArrayBuffer(4 * STATUS_FIELDS * Math.max(1, size));
    this.status = new Int32Array(this.statusBuffer);
  }

  static create(size: number, cacheDir: string | null, keyPrefix: string): ParsePool | null {
    const script = workerScript();
    return script && size > 0 ? new ParsePool(script, size, cacheDir, keyPrefix) : null;
  }

  private start(n: number): void {
    while (this.slots.length < Math.min(n, this.size)) {
      const { port1, port2 } = new MessageChannel();
      const index = this.slots.length;
      const data: WorkerData = { port: port2, signal: this.signal, status: this.statusBuffer, slot: index, cacheDir: this.cacheDir, keyPrefix: this.keyPrefix };
      const heapMb = positiveEnv("MPS_LINT_WORKER_HEAP_MB");
      const worker = new Worker(this.script, { workerData: data, transferList: [port2], ...(heapMb ? { resourceLimits: { maxOldGenerationSizeMb: heapMb } } : {}) });
      // A worker that dies (its heap limit, an exception) emits 'error' once this thread's loop
      // turns; by then the liveness check has dealt with it. Unhandled, it would end the process.
      worker.on("error", () => {});
      worker.unref();
      port1.unref();
      this.slots.push({ index, worker, port: port1, batches: [], ready: false, lost: false });
    }
  }

  private live(): Slot[] {
    return this.slots.filter((s) => !s.lost);
  }

  /** Parse the jobs in parallel and wait for them; results in the order of `jobs`; `onResult(k)`: k of them are in. */
  run(jobs: Job[], onResult?: (k: number) => void): JobResult[] {
    if (jobs.length === 0) return [];
    const fresh = jobs.filter((j) => !this.done.has(j.i) && !this.posted.has(j.i));
    if (fresh.length > 0) {
      const ids = new Set(fresh.map((j) => j.i));
      // Largest first: a long file starts early and the tail stays short.
      const sorted = fresh.sort((a, b) => b.size - a.size || a.i - b.i).map((j) => ({ ...j, urgent: true }));
      this.queue = [...sorted, ...this.queue.filter((q) => !ids.has(q.i))];
      this.start(Math.ceil(fresh.length / BATCH_FILES));
      this.pump();
    }
    return jobs.map((j, k) => {
      const r = this.await(j.i);
      onResult?.(k + 1);
      return r;
    });
  }



  /**
   * Parse these ahead of need, in the background (files already queued or done are skipped);
   * take() or claim() the results later. Files of HEAVY_BYTES or more are not parsed on the
   * chance that they are needed: that may cost a gigabyte and minutes (close() waits for them).
   */
  prefetch(jobs: Job[]): void {
    let added = 0;
    const queued = new Set(this.queue.map((q) => q.i));
    for (const j of jobs) {
      if (this.done.has(j.i) || this.posted.has(j.i) || queued.has(j.i) || j.size >= HEAVY_BYTES) continue;
      this.queue.push({ ...j, urgent: false });
      added++;
    }
    if (added === 0) return;
    this.start(this.size);
    this.pump();
  }

  /** Collect finished work and hand out more, without waiting. */
  poll(): void {
    this.drain();
  }

  /**
   * The result of file `i` if it was prefetched: waits when a worker has it, and returns null
   * when it was still queued (it is dropped from the queue: the caller parses it) or never asked.
   */
  claim(i: number): JobResult | null {
    this.drain();
    if (this.done.has(i) || this.posted.has(i)) return this.await(i);
    const at = this.queue.findIndex((q) => q.i === i);
    if (at >= 0) this.queue.splice(at, 1);
    return null;
  }

  /** Prefetched files nobody claimed (parsed, queued or at a worker). */
  unclaimed(): number {
    return this.done.size + this.posted.size + this.queue.length;
  }

  private await(i: number): JobResult {
    this.quietChecks = 0;
    for (;;) {
      const r = this.done.get(i);
      if (r) {
        this.done.delete(i);
        return r;
      }
      const seen = Atomics.load(this.counter, 0);
      if (this.drain()) continue;
      this.checkLiveness();
      if (this.done.has(i)) continue;
      if (this.slots.length > 0 && this.live().length === 0) {
        // No worker left: the files still queued are parsed in this thread.
        const at = this.queue.findIndex((q) => q.i === i);
        if (at >= 0) {
          const [j] = this.queue.splice(at, 1);
          return { i, ...runFactsJob(j.file, j.text, this.cacheDir, this.keyPrefix, true) };
        }
        return { i, json: null, hash: "", warning: null, error: WORKER_LOST, parseMs: 0, factsMs: 0 };
      }
      Atomics.wait(this.counter, 0, seen, 1000);
    }
  }

  /**
   * Workers that exited are lost at once; when nothing moved for STALL_CHECKS checks in a row,
   * the workers holding files are lost. Their files: the one each was on fails (WORKER_LOST), the
   * others go back to the queue.
   */
  private checkLiveness(): void {
    for (const slot of this.slots) {
      if (!slot.lost && Atomics.load(this.status, slot.index * STATUS_FIELDS + STATUS_EXITED) === 1) this.lose(slot);
    }
    const cpu = process.cpuUsage();
    const now = { messages: this.messages, status: Array.from(this.status).join(","), cpu: cpu.user + cpu.system };
    const moved = now.messages !== this.seen.messages || now.status !== this.seen.status || now.cpu - this.seen.cpu > BUSY_CPU_US;
    this.seen = now;
    this.quietChecks = moved ? 0 : this.quietChecks + 1;
    if (this.quietChecks < STALL_CHECKS) return;
    this.quietChecks = 0;
    for (const slot of this.slots) if (!slot.lost && slot.batches.length > 0) this.lose(slot);
  }

  private lose(slot: Slot): void {
    slot.lost = true;
    count("workersLost");
    const base = slot.index * STATUS_FIELDS;
    const current = Atomics.load(this.status, base + STATUS_CURRENT);
    const started = Atomics.load(this.status, base + STATUS_STARTED);
    const finished = Atomics.load(this.status, base + STATUS_FINISHED);
    const retry: Queued[] = [];
    for (const batch of slot.batches) {
      for (const job of batch.jobs) {
        this.posted.delete(job.i);
        const size = this.postedSize.get(job.i) ?? 0;
        this.postedSize.delete(job.i);
        if (job.i === current && started > finished) this.done.set(job.i, { i: job.i, json: null, hash: "", warning: null, error: WORKER_LOST, parseMs: 0, factsMs: 0 });
        else retry.push({ i: job.i, file: job.file, text: job.text, size, urgent: true });
      }
    }
    slot.batches = [];
    this.queue = [...retry, ...this.queue];
    this.pump();
  }

  /** Take finished batches off the ports, then refill the workers. */
  private drain(): boolean {
    let got = false;
    for (const slot of this.slots) {
      if (slot.lost) continue;
      for (let msg = receiveMessageOnPort(slot.port); msg; msg = receiveMessageOnPort(slot.port)) {
        this.messages++;
        const message = msg.message as { ready: true } | { batch: number; results: JobResult[] };
        if ("ready" in message) {
          slot.ready = true;
          got = true;
          continue;
        }
        const rs = message.results;
        for (const r of rs) {
          this.posted.delete(r.i);
          this.postedSize.delete(r.i);
          this.done.set(r.i, r);
        }
        slot.batches = slot.batches.filter((b) => b.id !== message.batch);
        got = true;
      }
    }
    this.pump();
    return got;
  }

  /** Is a file of HEAVY_BYTES or more at a worker? */
  private heavyPosted(): boolean {
    for (const size of this.postedSize.values()) if (size >= HEAVY_BYTES) return true;
    return false;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.lost) continue;
      while (slot.batches.length < MAX_IN_FLIGHT && this.queue.length > 0) {
        const urgent = this.queue[0].urgent;
        const batch: Batch = { id: this.nextBatch++, jobs: [] };
        let bytes = 0;
        let heavy = this.heavyPosted();
        for (let k = 0; k < this.queue.length && this.queue[k].urgent === urgent; ) {
          if (urgent ? bytes >= BATCH_BYTES || batch.jobs.length >= BATCH_FILES : batch.jobs.length >= PREFETCH_BATCH_FILES) break;
          const j = this.queue[k];
          if (j.size >= HEAVY_BYTES) {
            // One heavy file at a time in the whole pool, alone in its batch.
            if (heavy || batch.jobs.length > 0) {
              k++;
              continue;
            }
            heavy = true;
          }
          this.queue.splice(k, 1);
          batch.jobs.push(j.text === undefined ? { i: j.i, file: j.file } : { i: j.i, file: j.file, text: j.text });
          this.posted.add(j.i);
          this.postedSize.set(j.i, j.size);
          bytes += j.size;
          if (j.size >= HEAVY_BYTES) break;
        }
        if (batch.jobs.length === 0) break;
        let heavyNow = 0;
        for (const size of this.postedSize.values()) if (size >= HEAVY_BYTES) heavyNow++;
        if (heavyNow > this.heavyAtOnce) setCount("heavyAtOnce", (this.heavyAtOnce = heavyNow));
        slot.port.postMessage(batch);
        slot.batches.push(batch);
      }
    }
  }

  /**
   * Stops the workers. Workers still starting and batches still at a worker are waited for first,
   * for as long as they show signs of work (the liveness check: no fixed time, a large file may
   * take minutes), until they finish or stall: terminating a worker inside the native parser,
   * which calls back into JavaScript for the text, or while its addon is initializing, aborts the
   * whole process ("terminate called after throwing an instance of 'Napi::Error'").
   */
  close(): void {
    this.queue = [];
    this.quietChecks = 0;
    const waiting = () => this.slots.some((s) => !s.lost && (s.batches.length > 0 || !s.ready));
    while (waiting()) {
      const seen = Atomics.load(this.counter, 0);
      if (this.drain()) continue;
      this.checkLiveness();
      if (!waiting()) break;
      Atomics.wait(this.counter, 0, seen, 1000);
    }
    for (const s of this.slots) {
      s.port.close();
      // A worker that stalled may be inside the parser: it is left to end with the process.
      if (!s.lost || Atomics.load(this.status, s.index * STATUS_FIELDS + STATUS_EXITED) === 1) void s.worker.terminate();
    }
    this.slots.length = 0;
  }

}
