// A pool of parse workers behind a synchronous call: the main thread hands out batches of files
// and blocks in Atomics.wait until a worker reports, draining results with receiveMessageOnPort.
// The lint pipeline stays synchronous; only the parsing runs in parallel. Results are returned
// by file index, so the outcome never depends on which worker parsed what.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { FactsJobResult } from "../facts-job.js";

export interface Job {
  i: number;
  file: string;
  text?: string;
  /** Bytes, for balancing. */
  size: number;
}

export interface Batch {
  id: number;
  jobs: { i: number; file: string; text?: string }[];
}

export interface WorkerData {
  port: MessagePort;
  signal: SharedArrayBuffer;
  cacheDir: string | null;
  keyPrefix: string;
}

export type JobResult = FactsJobResult & { i: number };

/** Prefix of a result error that means the parser could not be loaded. */
export const PARSER_ERROR = "parser-load: ";

const BATCH_BYTES = 192 * 1024;
const BATCH_FILES = 24;
/** A worker that says nothing for this long is taken for dead. */
const STALL_MS = 60_000;
/** close() waits this long for a batch still at a worker (prefetch batches are two files). */
const CLOSE_WAIT_MS = 10_000;

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
  worker: Worker;
  port: MessagePort;
  inFlight: number;
  /** The worker has loaded its code and the parser (its first message). */
  ready: boolean;
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
  private nextBatch = 0;
  /** Jobs not yet handed to a worker: urgent ones first. */
  private queue: Queued[] = [];
  /** Jobs at a worker, by file index. */
  private readonly posted = new Set<number>();
  /** Finished jobs not yet taken, by file index. */
  private readonly done = new Map<number, JobResult>();
  /** The workers stopped answering: close() does not wait for them. */
  private stalled = false;

  private constructor(
    private readonly script: string,
    private readonly size: number,
    private readonly cacheDir: string | null,
    private readonly keyPrefix: string,
  ) {}

  static create(size: number, cacheDir: string | null, keyPrefix: string): ParsePool | null {
    const script = workerScript();
    return script && size > 0 ? new ParsePool(script, size, cacheDir, keyPrefix) : null;
  }

  private start(n: number): void {
    while (this.slots.length < Math.min(n, this.size)) {
      const { port1, port2 } = new MessageChannel();
      const data: WorkerData = { port: port2, signal: this.signal, cacheDir: this.cacheDir, keyPrefix: this.keyPrefix };
      const worker = new Worker(this.script, { workerData: data, transferList: [port2] });
      worker.unref();
      port1.unref();
      this.slots.push({ worker, port: port1, inFlight: 0, ready: false });
    }
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
   * take() or claim() the results later.
   */
  prefetch(jobs: Job[]): void {
    let added = 0;
    const queued = new Set(this.queue.map((q) => q.i));
    for (const j of jobs) {
      if (this.done.has(j.i) || this.posted.has(j.i) || queued.has(j.i)) continue;
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
    let lastProgress = Date.now();
    for (;;) {
      const r = this.done.get(i);
      if (r) {
        this.done.delete(i);
        return r;
      }
      const seen = Atomics.load(this.counter, 0);
      if (this.drain()) {
        lastProgress = Date.now();
        continue;
      }
      if (Date.now() - lastProgress > STALL_MS) {
        this.stalled = true;
        throw new Error("parse workers stopped answering");
      }
      Atomics.wait(this.counter, 0, seen, 1000);
    }
  }

  /** Take finished batches off the ports, then refill the workers. */
  private drain(): boolean {
    let got = false;
    for (const slot of this.slots) {
      for (let msg = receiveMessageOnPort(slot.port); msg; msg = receiveMessageOnPort(slot.port)) {
        const message = msg.message as { ready: true } | { batch: number; results: JobResult[] };
        if ("ready" in message) {
          slot.ready = true;
          got = true;
          continue;
        }
        const rs = message.results;
        for (const r of rs) {
          this.posted.delete(r.i);
          this.done.set(r.i, r);
        }
        slot.inFlight--;
        got = true;
      }
    }
    this.pump();
    return got;
  }

  private pump(): void {
    for (const slot of this.slots) {
      while (slot.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
        const urgent = this.queue[0].urgent;
        const batch: Batch = { id: this.nextBatch++, jobs: [] };
        let bytes = 0;
        while (this.queue.length > 0 && this.queue[0].urgent === urgent) {
          if (urgent ? bytes >= BATCH_BYTES || batch.jobs.length >= BATCH_FILES : batch.jobs.length >= PREFETCH_BATCH_FILES) break;
          const j = this.queue.shift()!;
          batch.jobs.push(j.text === undefined ? { i: j.i, file: j.file } : { i: j.i, file: j.file, text: j.text });
          this.posted.add(j.i);
          bytes += j.size;
        }
        slot.port.postMessage(batch);
        slot.inFlight++;
      }
    }
  }

  /**
   * Stops the workers. Workers still starting and batches still at a worker are waited for first
   * (at most MAX_IN_FLIGHT small batches each): terminating a worker inside the native parser,
   * which calls back into JavaScript for the text, or while its addon is initializing, aborts the
   * whole process ("terminate called after throwing an instance of 'Napi::Error'").
   */
  close(): void {
    this.queue = [];
    let lastProgress = Date.now();
    while (!this.stalled && this.slots.some((s) => s.inFlight > 0 || !s.ready) && Date.now() - lastProgress < CLOSE_WAIT_MS) {
      const seen = Atomics.load(this.counter, 0);
      if (this.drain()) lastProgress = Date.now();
      else Atomics.wait(this.counter, 0, seen, 100);
    }
    for (const s of this.slots) {
      s.port.close();
      void s.worker.terminate();
    }
    this.slots.length = 0;
  }
}
